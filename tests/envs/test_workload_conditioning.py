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
