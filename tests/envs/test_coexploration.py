"""CoExploration-v0: numbers equal mapper.hetero.assign_layers; caches; accuracy evaluators."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from acceldse.envs.coexploration import CoExplorationEnv
from acceldse.envs.nas import SURROGATE_PATH, SurrogateAccuracy, TrainedAccuracy, build_network, features
from acceldse.mapper.hetero import assign_layers
from acceldse.workloads.errors import SpecError


def test_metrics_equal_assign_layers_and_the_cache_is_reused() -> None:
    env = CoExplorationEnv(tasks=["digits", "digits16"], sub_accelerators=3, mapper_budget=100,
                           accuracy=lambda arch: 0.5 + 0.1 * arch["depth"])
    env.action_space.seed(0)
    for _ in range(3):
        action = env.action_space.sample()
        _, reward, _, _, info = env.step(action)
        design = info["design"]
        nets = [build_network(a) for a in env.architectures(design)]
        res = assign_layers(nets, env.subs(design), total_bandwidth_words_per_cycle=16.0, objective="edp",
                            search="random", budget=100, seed=0)
        m = info["metrics"]
        assert m["latency_cycles"] == res.latency_cycles
        assert m["energy_uj"] == pytest.approx(res.energy_pj * 1e-6, rel=1e-12)
        assert m["area_mm2"] == pytest.approx(res.area_mm2, rel=1e-12)
        depths = [design["digits.depth"], design["digits16.depth"]]
        assert m["accuracy"] == pytest.approx(0.5 + 0.1 * np.mean(depths))
        assert reward == pytest.approx(m["accuracy"] - info["penalty"])
        assert sum(info["layers_per_sub"].values()) == sum(1 for n in nets for x in n if x.macs)
        size = len(env.map_cache)
        env.step(action)  # warm: nothing new is mapped
        assert len(env.map_cache) == size


def test_bandwidth_shares_follow_weights() -> None:
    env = CoExplorationEnv(sub_accelerators=2, accuracy=lambda a: 0.9, mapper_budget=50)
    design = dict(env.reference_design, **{"sub0.bw": 1, "sub1.bw": 3, "sub0.pes": 64, "sub1.pes": 1024})
    subs = env.subs(design)
    assert [s.bandwidth_share for s in subs] == [0.25, 0.75] and subs[1].array == ("pe_reg", 32, 32)


def test_accuracy_target_is_a_lower_bound() -> None:
    env = CoExplorationEnv(accuracy=lambda a: 0.9, mapper_budget=50,
                           targets={"accuracy": 0.95, "area_mm2": 1e9})
    _, _, terminated, _, info = env.step(env.action_of(env.reference_design))
    assert env.targets["error"] == pytest.approx(0.05)
    assert not terminated and info["penalty"] == pytest.approx((0.1 - 0.05) / 0.05)


def test_surrogate_is_fitted_to_recorded_real_runs() -> None:
    data = json.loads(SURROGATE_PATH.read_text())
    surrogate = SurrogateAccuracy()
    runs = data["runs"]
    assert len(runs) >= 40
    x = np.stack([features(r["arch"]) for r in runs])
    y = np.array([r["accuracy"] for r in runs])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    np.testing.assert_allclose(coef, data["coefficients"], rtol=1e-9)
    predicted = np.array([surrogate(r["arch"]) for r in runs])
    assert np.sqrt(np.mean((predicted - y) ** 2)) == pytest.approx(data["rmse"], rel=1e-9)
    assert predicted.std() > 0.05  # it separates architectures


@pytest.mark.slow
def test_real_training_on_digits_is_cached() -> None:
    trained = TrainedAccuracy(epochs=3)
    small = {"task": "digits", "depth": 1, "channels": [4], "kernels": [3]}
    acc = trained(small)
    assert 0.5 < acc <= 1.0  # far above chance (0.1) after three epochs
    assert trained(dict(small)) == acc and len(trained.cache) == 1


@pytest.mark.parametrize("kwargs,key", [({"tasks": ["cifar"]}, "tasks"), ({"sub_accelerators": 9}, "sub_accel"),
                                        ({"accuracy": "oracle"}, "accuracy"),
                                        ({"targets": {"accuracy": 2}}, "accuracy"),
                                        ({"knobs": {"sub0.pes": [100, 120]}}, "sub0.pes"),
                                        ({"knobs": {"sub0.dataflow": ["os"]}}, "sub0.dataflow"),
                                        ({"total_bandwidth_words_per_cycle": 0}, "total_bandwidth")])
def test_bad_input(kwargs: dict, key: str) -> None:
    with pytest.raises(SpecError, match=key):
        gym.make("acceldse/CoExploration-v0", **kwargs)


def test_surrogate_error_is_what_the_docs_say() -> None:
    data = json.loads(SURROGATE_PATH.read_text())
    assert len(data["runs"]) == 100 and round(data["loo_rmse"], 2) == 0.19  # docs/envs.md and envs/nas.py quote it
