"""The batched vector env of AcceleratorDesign-v0 (``vectorization_mode="vector_entry_point"``): the same
observations, rewards, terminations and truncations as Gymnasium's ``SyncVectorEnv`` of the env, through
next-step autoresets, on every reward kind."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acceldse  # noqa: F401  (registers acceldse/*)
from acceldse.envs.vector_design import AcceleratorDesignVectorEnv
from acceldse.workloads.errors import SpecError

ID = "acceldse/AcceleratorDesign-v0"


@pytest.mark.parametrize("kwargs", [
    {"workload": "mobilenet_v1", "max_episode_steps": 7},                       # truncations
    {"workload": "alexnet", "targets": {"latency_us": 4000, "area_mm2": 8}},   # some designs meet: terminations
    {"workload": "bert_base", "reward": "edp_uj_us", "max_episode_steps": 5},
    {"workload": "alexnet", "knobs": {"cores": [1, 2, 4]}, "reward": "latency_us", "max_episode_steps": 5},
    # a workload set: each sub-env samples its episode's workload from its own seeded generator
    {"workloads": ["alexnet", "mobilenet_v1", {"name": "bert_base", "seq_len": 64}], "max_episode_steps": 3},
])
def test_batched_equals_sync(kwargs: dict) -> None:
    n = 16
    sync = gym.make_vec(ID, num_envs=n, vectorization_mode="sync", **kwargs)
    vec = gym.make_vec(ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    assert isinstance(vec, AcceleratorDesignVectorEnv)
    assert vec.observation_space == sync.observation_space and vec.action_space == sync.action_space
    rng = np.random.default_rng(1)
    a, b = sync.reset(seed=0)[0], vec.reset(seed=0)[0]
    np.testing.assert_array_equal(a, b)
    ends = 0
    for step in range(12):
        if step == 6 and "workloads" in kwargs:  # a workload outside the set, posed to every sub-env
            np.testing.assert_array_equal(sync.reset(options={"workload": "resnet18"})[0],
                                          vec.reset(options={"workload": "resnet18"})[0])
        actions = rng.integers(0, sync.single_action_space.nvec, size=(n, len(sync.single_action_space.nvec)))
        s, v = sync.step(actions), vec.step(actions)
        for x, y in zip(s[:4], v[:4]):
            np.testing.assert_array_equal(x, y)
        ends += int(np.sum(s[2] | s[3]))
        if "workloads" in kwargs:
            np.testing.assert_array_equal(v[4]["workload"], s[4]["workload"])
    assert ends > 0  # autoresets were exercised
    sync.close()
    vec.close()


def test_bad_input() -> None:
    with pytest.raises(SpecError, match="sync"):
        gym.make_vec(ID, num_envs=2, vectorization_mode="vector_entry_point", fidelity="event")
    with pytest.raises(SpecError, match="one number per sub-env"):  # Gymnasium's vector envs: float rewards
        gym.make_vec(ID, num_envs=2, vectorization_mode="vector_entry_point", reward="vector")
    vec = gym.make_vec(ID, num_envs=2, vectorization_mode="vector_entry_point", workload="alexnet")
    vec.reset(seed=0)
    with pytest.raises(SpecError, match="rows"):
        vec.step(np.array([[0] * 8, [99] + [0] * 7]))
    with pytest.raises(SpecError, match="shape"):
        vec.step(np.zeros((3, 8), dtype=np.int64))
