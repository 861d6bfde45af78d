"""MultiAgentDesign: PettingZoo's API and seed tests, and the team reward is AcceleratorDesign's."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from acceldse import envs
from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.workloads.errors import SpecError


def test_pettingzoo_api_and_seed_tests() -> None:
    parallel_api_test(envs.multi_agent_env(max_cycles=15), num_cycles=40)
    parallel_seed_test(lambda: envs.multi_agent_env(max_cycles=15))


def test_agents_own_disjoint_knobs_and_share_the_reward() -> None:
    env = envs.MultiAgentDesign(max_cycles=5)
    single = AcceleratorDesignEnv()
    env.reset(seed=0)
    owned = [k for a in env.possible_agents for k in env.knobs[a]]
    assert sorted(owned) == sorted(single.knobs)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    _, rewards, _, _, infos = env.step(actions)
    _, reward, _, _, info = single.step(env.joint_action(actions))
    assert all(r == reward for r in rewards.values()) and infos["compute"]["metrics"] == info["metrics"]


def test_difference_rewards() -> None:
    env = envs.multi_agent_env(reward_mode="difference", max_cycles=3)
    env.reset(seed=0)
    single = AcceleratorDesignEnv()
    actions = {a: env.action_space(a).sample() for a in env.agents}
    _, rewards, _, _, _ = env.step(actions)
    joint = env.joint_action(actions)
    team = single.step(joint)[1]
    for a in env.possible_agents:
        counter = joint.copy()
        cols = [list(single.knobs).index(k) for k in env.knobs[a]]
        counter[cols] = single.action_of(single.reference_design)[cols]
        assert rewards[a] == pytest.approx(team - single.step(counter)[1])


def test_episode_truncates_and_bad_actions() -> None:
    env = envs.multi_agent_env(max_cycles=2)
    env.reset(seed=1)
    smallest = {a: np.zeros(len(env.knobs[a]), dtype=np.int64) for a in env.possible_agents}  # misses the targets
    for _ in range(2):
        _, _, term, trunc, _ = env.step(smallest)
    assert all(trunc.values()) and not any(term.values()) and env.agents == []
    env.reset(seed=1)
    with pytest.raises(SpecError, match="memory"):
        env.step({"compute": np.zeros(2, dtype=np.int64), "interface": np.zeros(3, dtype=np.int64)})
    with pytest.raises(SpecError, match="reward_mode"):
        envs.multi_agent_env(reward_mode="selfish")
