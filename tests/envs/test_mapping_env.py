"""Mapping-v0: the mapper's best mappings are reachable and cost the same; illegal choices are explained."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acceldse
from acceldse.envs.mapping_env import MappingEnv
from acceldse.mapper.cost import evaluate
from acceldse.workloads.errors import SpecError


@pytest.mark.parametrize("workload,hardware", [("resnet18", "eyeriss_like"), ("mobilenet_v1", "simple_ws_32x32"),
                                               ("bert_base", "simple_ws_32x32")])
def test_mapper_best_mappings_are_reachable_and_equal(workload: str, hardware: str) -> None:
    env = MappingEnv(workload=workload, hardware=hardware)
    env.reset(seed=0)
    for i, layer in enumerate(env.layers[:3]):
        best = acceldse.map(layer, hardware, budget=1500, seed=0)
        assert best.mapping is not None
        action = env.encode(i, best.mapping)
        assert env.action_space.contains(action)
        _, reward, _, _, info = env.step(action)
        assert info["legal"] and info["reason"] == ""
        assert info["metrics"]["cycles"] == best.cost.cycles
        assert info["metrics"]["energy_pj"] == pytest.approx(best.cost.energy_pj, rel=1e-12)
        ref = env.reference[i]
        assert reward == pytest.approx(np.log2(ref[0] * ref[1] / (best.cost.cycles * best.cost.energy_pj)))
        assert reward > 0  # the searched mapping beats the everything-at-DRAM reference
        decoded = env.mapping(i, action)
        assert evaluate(layer, env.hierarchy, decoded).cycles == best.cost.cycles


def test_episode_is_one_pass_over_distinct_layers_with_network_totals() -> None:
    env = MappingEnv(workload="resnet18", hardware="simple_ws_32x32")
    assert sum(env.counts) == sum(1 for x in env.network if x.macs > 0) and len(env.layers) < sum(env.counts)
    env.reset(seed=0)
    total_cycles = 0.0
    for i in range(len(env.layers)):
        best = acceldse.map(env.layers[i], "simple_ws_32x32", budget=300, seed=0)
        _, _, terminated, _, info = env.step(env.encode(i, best.mapping))
        total_cycles += env.counts[i] * info["metrics"]["cycles"]
        assert terminated == (i == len(env.layers) - 1)
    net = info["network"]
    assert net["metrics"]["cycles"] == total_cycles and net["feasible"] and net["targets_met"] and info["targets_met"]
    assert net["reward"] > 0 and list(net["design"]) == [layer.name for layer in env.layers]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())


def test_illegal_mapping_is_penalised_with_the_reason() -> None:
    env = MappingEnv(workload="resnet18", hardware="eyeriss_like", illegal_reward=-7.0)
    env.reset(seed=0)
    action = np.zeros(len(env.knobs), dtype=np.int64)
    names = list(env.knobs)
    for k, name in enumerate(names):  # all of K, P, Q at the innermost temporal slot that holds outputs
        if name.startswith(("K.t.psum_spad", "P.t.psum_spad", "Q.t.psum_spad")):
            action[k] = env.encoding.D - 1
        if name.startswith("keep."):
            action[k] = 1
    _, reward, _, _, info = env.step(action)
    assert not info["legal"] and reward == -7.0
    assert "shared_glb" in info["reason"] and "capacity" in info["reason"] and "over by" in info["reason"]


@pytest.mark.parametrize("kwargs,key", [({"workload": "nope"}, "workload"), ({"hardware": "nope"}, "nope"),
                                        ({"objective": "area"}, "objective"), ({"dataflow": "zz"}, "dataflow"),
                                        ({"illegal_reward": float("nan")}, "illegal_reward")])
def test_bad_input(kwargs: dict, key: str) -> None:
    with pytest.raises(SpecError, match=key):
        gym.make("acceldse/Mapping-v0", **kwargs)
