"""Action masks (``envs.action_masks``): every unmasked action is legal, and MaskablePPO trains on them."""

from __future__ import annotations

from functools import cache

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.envs.agents import explore
from acceldse.workloads.errors import SpecError

MAPPING = [("alexnet", "eyeriss_like"), ("alexnet", "eyeriss-v1"), ("resnet18", "simple_ws_32x32")]
FPGA = [("lenet", "zc706"), ("vgg_small", "zc706"), ("residual_block", "zcu102"), ("mlp", "zedboard")]


@cache
def mapping_env(workload: str, hardware: str):
    return gym.make("acceldse/Mapping-v0", workload=workload, hardware=hardware).unwrapped


@cache
def fpga_env(workload: str, platform: str):
    return gym.make("acceldse/FpgaDesign-v0", workload=workload,
                    platform=platform if platform != "zedboard" else "samo-zedboard").unwrapped


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(MAPPING), layer=st.integers(0, 10**6), seed=st.integers(0, 2**32 - 1))
def test_unmasked_mappings_are_legal(case: tuple[str, str], layer: int, seed: int) -> None:
    """Random state (network, hierarchy, layer) and random unmasked actions: every one maps the layer legally."""
    env = mapping_env(*case)
    i = layer % len(env.layers)
    mask = env.legal_mask(i)
    assert mask.sound
    rng = np.random.default_rng(seed)
    for _ in range(10):
        action = mask.sample(rng)
        assert env.encoding.reason(env.layers[i], env.decode(i, action)) == ""
        assert env._cost(i, env.decode(i, action)) is not None


@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(FPGA), seed=st.integers(0, 2**32 - 1))
def test_unmasked_foldings_fit_the_board(case: tuple[str, str], seed: int) -> None:
    env = fpga_env(*case)
    mask = env.legal_mask()
    assert mask.sound
    rng = np.random.default_rng(seed)
    for _ in range(10):
        metrics = env.evaluate(env.design_of(mask.sample(rng)))
        assert all(metrics[k] <= v for k, v in env.constraints.items()), case


def test_masks_are_not_trivial_and_follow_the_state() -> None:
    """A mask allows more than its starting point, masks out what random search would hit, and on
    Mapping-v0 it is the next layer's: ``info["action_mask"]`` and ``action_masks()`` agree."""
    env = gym.make("acceldse/Mapping-v0", workload="alexnet")
    base = env.unwrapped
    _, info = env.reset(seed=0)
    assert info["action_mask"].shape == (int(base.action_space.nvec.sum()),)
    seen = []
    for i in range(len(base.layers)):
        mask = env.get_wrapper_attr("action_masks")()
        assert np.array_equal(mask, info["action_mask"])
        assert np.array_equal(mask, base.legal_mask(i).flat())
        seen.append(mask)
        _, _, terminated, _, info = env.step(base.legal_mask(i).sample(np.random.default_rng(i)))
        assert info["legal"]
    assert terminated and info["network"]["feasible"]
    assert len({m.tobytes() for m in seen}) > 1  # per layer
    fpga = fpga_env("lenet", "zc706")
    mask = fpga.legal_mask()
    assert sum(a.count(True) for a in mask.allowed) > len(mask.allowed)
    rng = np.random.default_rng(0)
    unmasked = [fpga.evaluate(fpga.design_of(fpga.action_space.sample())) for _ in range(40)]
    assert sum(all(m[k] <= v for k, v in fpga.constraints.items()) for m in unmasked) < 20
    del rng


def test_envs_without_limits_allow_everything() -> None:
    env = gym.make("acceldse/AcceleratorDesign-v0", workload="alexnet")
    _, info = env.reset(seed=0)
    assert info["action_mask"].all() and info["action_mask"].size == env.unwrapped.action_space.nvec.sum()
    assert env.get_wrapper_attr("action_masks")().all()


def test_an_unsound_start_is_flagged() -> None:
    """A board of one LUT fits not even the least parallel design: the mask allows only that design and
    says it is not sound."""
    from acceldse.simulator.fpga import load_platform

    board = {**load_platform("zc706").to_dict(), "name": "tiny", "lut": 1}
    env = gym.make("acceldse/FpgaDesign-v0", workload="lenet", platform=board).unwrapped
    mask = env.legal_mask()
    assert not mask.sound
    assert all(a.count(True) == 1 and a[0] for a in mask.allowed)


@pytest.mark.slow
def test_maskable_ppo_trains_and_never_steps_illegal() -> None:
    """MaskablePPO (sb3-contrib) at a tiny budget on Mapping-v0: every evaluation is a legal layer mapping
    (random search: ~2 %), so it has whole-network mappings to rank."""
    hp = {"n_steps": 16, "batch_size": 16, "n_epochs": 1, "net_width": 16}
    result = explore(gym.make("acceldse/Mapping-v0", workload="alexnet"), "maskable-ppo", budget=32, seed=0, **hp)
    assert result.evaluations == 32 and result.feasible_rate == 1.0
    assert result.feasible_candidates == 4 and result.best_reward is not None


def test_maskable_ppo_refuses_an_env_without_masks() -> None:
    from acceldse.envs.agents import JointEnv
    from acceldse.envs.multi_agent import multi_agent_env

    with pytest.raises(SpecError, match="action masks"):
        explore(JointEnv(multi_agent_env(workload="alexnet")), "maskable-ppo", budget=4, seed=0)


def test_multi_agent_infos_mask_each_agents_own_knobs() -> None:
    from acceldse.envs.multi_agent import multi_agent_env

    env = multi_agent_env(workload="alexnet")
    _, infos = env.reset(seed=0)
    for agent in env.agents:
        assert infos[agent]["action_mask"].shape == (int(env.action_space(agent).nvec.sum()),)
