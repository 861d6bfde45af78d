"""Workload-conditioned envs: a set of workloads, one per episode (sampled, or asked for at reset, also one
outside the set), the workload's features in the observation, and the same numbers as an env built for
that workload alone. The features themselves: shares that add up, and MAC totals as published."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acceldse  # noqa: F401  (registers acceldse/*)
from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.envs.workload_features import FEATURE_NAMES, workload_features
from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload

ID = "acceldse/AcceleratorDesign-v0"
NF = len(FEATURE_NAMES)


@pytest.fixture(scope="module")
def env() -> gym.Env:
    return gym.make(ID, workloads=["resnet18", "mobilenet_v2"])


def test_episodes_sample_the_set_and_observe_the_workload(env: gym.Env) -> None:
    base = env.unwrapped
    seen = {}
    for seed in range(8):
        obs, info = env.reset(seed=seed)
        seen[info["workload"]] = obs[-NF:]
        assert obs in env.observation_space and env.observation_space.shape == (4 + 8 + 8 + NF,)
        np.testing.assert_array_equal(obs[-NF:], workload_features(base.network))
        # default targets are the episode workload's: half its reference latency and energy
        assert base.targets["latency_us"] == pytest.approx(0.5 * base.reference_metrics["latency_us"])
    assert set(seen) == {"resnet18", "mobilenet_v2"}
    assert not np.array_equal(seen["resnet18"], seen["mobilenet_v2"])
    first = [env.reset(seed=s)[1]["workload"] for s in range(8)]
    assert first == [env.reset(seed=s)[1]["workload"] for s in range(8)]  # same seed, same workload


@pytest.mark.parametrize("workload", ["mobilenet_v2", "resnet50", {"name": "bert_base", "seq_len": 128}])
def test_a_workload_asked_for_equals_an_env_built_for_it(env: gym.Env, workload: object) -> None:
    single = AcceleratorDesignEnv(workload=workload if isinstance(workload, str) else None,
                                  workloads=None if isinstance(workload, str) else [workload])
    action = np.array([5, 3, 2, 4, 1, 3, 0, 2])
    for _ in range(2):  # again after switching away and back (the per-workload cache)
        env.reset(seed=0, options={"workload": "resnet18"})
        obs, info = env.reset(seed=0, options={"workload": workload})
        ref_obs, ref_info = single.reset(seed=0)
        np.testing.assert_array_equal(obs, ref_obs)
        step, ref_step = env.step(action), single.step(action)
        np.testing.assert_array_equal(step[0], ref_step[0])
        assert step[1] == ref_step[1] and step[4]["metrics"] == ref_step[4]["metrics"]
        assert step[4]["workload"] == ref_step[4]["workload"] == single.network.name


def test_bad_workload_sets_are_one_clear_error() -> None:
    with pytest.raises(SpecError, match="non-empty list"):
        AcceleratorDesignEnv(workloads="resnet18")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="not both"):
        AcceleratorDesignEnv(workload="resnet18", workloads=["resnet18"])
    with pytest.raises(SpecError, match="twice"):
        AcceleratorDesignEnv(workloads=["resnet18", " resnet18"])
    with pytest.raises(SpecError, match="unknown workload"):
        AcceleratorDesignEnv(workloads=["resnet18", "resnet19"])  # at construction, not in a later episode
    with pytest.raises(SpecError, match="'name'"):
        AcceleratorDesignEnv(workloads=[{"seq_len": 128}])
    plain = AcceleratorDesignEnv(workload="alexnet")
    with pytest.raises(SpecError, match="unknown reset option"):
        plain.reset(options={"workload": "resnet18"})
    with pytest.raises(SpecError, match="unknown workload"):
        gym.make(ID, workloads=["alexnet"]).reset(options={"workload": "nope"})


def test_feature_shares_add_up_and_separate_the_families() -> None:
    index = {n: i for i, n in enumerate(FEATURE_NAMES)}
    kinds = ["depthwise", "pointwise", "spatial", "gemm", "matmul"]
    hist = [n for n in FEATURE_NAMES if n.startswith("oi_")]
    feats = {}
    for name in ("resnet18", "mobilenet_v2", "bert_base", "vit_b16", "gpt2_decode"):
        f = workload_features(load_workload(name))
        assert f.shape == (NF,) and f.dtype == np.float32 and np.all(np.abs(f) <= 1)
        assert sum(f[index[k]] for k in kinds) == pytest.approx(1.0, abs=1e-5)
        assert sum(f[index[k]] for k in hist) == pytest.approx(1.0, abs=1e-5)
        feats[name] = f
    assert feats["resnet18"][index["depthwise"]] == 0 < feats["mobilenet_v2"][index["depthwise"]]
    assert feats["bert_base"][index["gemm"]] + feats["bert_base"][index["matmul"]] == pytest.approx(1.0)
    # decoding one token: every weight is read for one MAC per weight (operational intensity < 4)
    assert feats["gpt2_decode"][index["oi_lt4"]] > 0.9 > feats["resnet18"][index["oi_lt4"]]


@pytest.mark.parametrize("name, gmacs", [("resnet18", 1.82), ("resnet50", 4.1), ("mobilenet_v2", 0.30)])
def test_total_macs_feature_matches_published_figures(name: str, gmacs: float) -> None:
    """torchvision / the papers: ResNet-18 1.82, ResNet-50 4.1, MobileNetV2 0.30 GMACs at 224x224."""
    f = workload_features(load_workload(name))
    assert 10 ** (12 * float(f[0])) / 1e9 == pytest.approx(gmacs, rel=0.06)


SETS = {"acceldse/FpgaDesign-v0": (["lenet", "mlp"], "residual_block"),
        "acceldse/Mapping-v0": (["lenet", "alexnet"], "mobilenet_v1")}
"""Per env: a workload set and a network outside it."""


@pytest.mark.parametrize("env_id", sorted(SETS))
def test_every_design_env_conditions_on_the_workload(env_id: str) -> None:
    """FpgaDesign-v0 and Mapping-v0 take ``workloads=`` and the ``workload`` reset option as AcceleratorDesign-v0
    does (one piece, ``envs.workload_set``): sampled per episode, asked for (also outside the set), features last."""
    train, held_out = SETS[env_id]
    env = gym.make(env_id, workloads=train)
    base = env.unwrapped
    seen = set()
    for seed in range(6):
        obs, info = env.reset(seed=seed)
        seen.add(info["workload"])
        assert obs in env.observation_space
        np.testing.assert_array_equal(obs[-NF:], workload_features(base.network))
    assert seen == set(train)
    obs, info = env.reset(options={"workload": held_out})
    assert info["workload"] == held_out and obs in env.observation_space
    step = env.step(env.action_space.sample())
    assert step[0] in env.observation_space and step[4]["workload"] == held_out
    plain = gym.make(env_id, workload=train[0])
    assert plain.observation_space == env.observation_space or env_id.endswith("FpgaDesign-v0")
    np.testing.assert_array_equal(plain.reset(seed=0)[0][-NF:], workload_features(load_workload(train[0])))
    with pytest.raises(SpecError, match="unknown reset option"):
        plain.reset(options={"workload": train[1]})


def test_fpga_stage_positions_read_as_the_network_alone_would() -> None:
    """A stage-position design evaluates as its per-layer reading on an env of that network alone; the
    episode network's mask read per position is sound; a network longer than the positions is refused."""
    from acceldse.envs.fpga_design import FpgaDesignEnv

    env = FpgaDesignEnv(workloads=["lenet", "vgg_small"])
    rng = np.random.default_rng(0)
    for name in ("lenet", "vgg_small", "mlp"):
        env.reset(seed=0, options={"workload": name})
        alone = FpgaDesignEnv(workload=name)
        mask = env.legal_mask()
        for _ in range(4):
            _, reward, _, _, info = env.step(env.action_space.sample())
            assert info["metrics"] == alone.evaluate(info["layer_design"])
            assert env.step(mask.sample(rng))[4]["feasible"]
    with pytest.raises(SpecError, match="more layers than the env's stage positions"):
        env.reset(options={"workload": "resnet18"})
    with pytest.raises(SpecError, match="not with workloads="):
        FpgaDesignEnv(workloads=["lenet"], knobs={"cut.conv1": [0]})


def test_mapping_set_episode_costs_what_the_network_alone_does() -> None:
    """A conditioned Mapping-v0 step's mapping, re-encoded on an env of that network alone, costs the same."""
    from acceldse.envs.mapping_env import MappingEnv

    env = MappingEnv(workloads=["lenet", "alexnet"])
    alone = MappingEnv(workload="lenet")
    env.reset(seed=0, options={"workload": "lenet"})
    alone.reset(seed=0)
    rng = np.random.default_rng(1)
    for i in range(len(alone.layers)):
        action = env.legal_mask(i).sample(rng)
        mapping = env.decode(i, action)
        step, ref = env.step(action), alone.step(alone.encode(i, mapping))
        assert step[1] == ref[1] and step[4]["metrics"] == ref[4]["metrics"] and step[4]["legal"]
    assert step[4]["network"]["metrics"] == ref[4]["network"]["metrics"]
