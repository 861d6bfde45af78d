"""FpgaDesign-v0: numbers equal simulator.fpga.evaluate_design and the ``acceldse fpga`` optimiser's report."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from acceldse.envs.fpga_design import FpgaDesignEnv
from acceldse.mapper.fpga import optimise
from acceldse.simulator.fpga import evaluate_design
from acceldse.workloads.errors import SpecError


def check_equal(env: FpgaDesignEnv, metrics: dict, report) -> None:
    assert metrics["sample_time_us"] == pytest.approx(report.batch_time_s / report.batch * 1e6, rel=1e-12)
    assert metrics["latency_us"] == pytest.approx(report.latency_s * 1e6, rel=1e-12)
    assert metrics["throughput_per_s"] == pytest.approx(report.throughput, rel=1e-12)
    summary = report.summary()
    for res in ("dsp", "bram18", "uram", "lut", "ff"):
        assert metrics[res] == summary[f"{res}_used"]
    assert metrics["bandwidth_gbit_per_s"] == pytest.approx(summary["bandwidth_gbit_per_s"], rel=1e-12)


@pytest.mark.parametrize("workload,platform", [("lenet", "zc706"), ("vgg_small", "zcu102"),
                                               ("residual_block", "u250")])
def test_metrics_equal_evaluate_design(workload: str, platform: str) -> None:
    env = FpgaDesignEnv(workload=workload, platform=platform, batch=16)
    env.action_space.seed(1)
    for _ in range(4):
        _, _, _, _, info = env.step(env.action_space.sample())
        foldings, parts = env.design_foldings(info["design"])
        report = evaluate_design(env.network, foldings, env.platform, batch=16, partitions=parts)
        check_equal(env, info["metrics"], report)
        assert info["targets_met"] == report.feasible
        assert info["violations"] == list(report.violations)


def test_optimiser_design_is_reachable_and_scores_the_same() -> None:
    """The design ``acceldse fpga --workload lenet --platform zc706`` finds, replayed through the env."""
    env = FpgaDesignEnv(workload="lenet", platform="zc706", batch=256)
    best = optimise(env.network, env.platform, objective="throughput", batch=256, allow_lut=False)
    design = {}
    for layer in env.network:
        f = best.foldings[layer.name]
        assert f.personality == "dsp" and f.weights_on_chip
        if layer.has_weights:
            design.update({f"{layer.name}.coarse_in": f.coarse_in, f"{layer.name}.coarse_out": f.coarse_out,
                           f"{layer.name}.fine": f.fine})
        else:
            design[f"{layer.name}.coarse"] = f.coarse_in
    cuts = {p[-1] for p in best.partitions[:-1]}
    design.update({f"cut.{x.name}": int(x.name in cuts) for x in env.network.layers[:-1]})
    _, info = env.reset(options={"design": design})
    check_equal(env, info["metrics"], best.report)
    assert info["targets_met"] and info["violations"] == []
    # the optimiser's design beats the reference design's throughput
    assert info["metrics"]["sample_time_us"] < env.reference_metrics["sample_time_us"]


def test_violations_are_named_and_penalised() -> None:
    env = FpgaDesignEnv(workload="lenet", platform="zc706")
    biggest = env.action_space.nvec - 1
    _, reward, terminated, _, info = env.step(biggest)
    assert not info["targets_met"] and not terminated
    assert any("dsp" in v for v in info["violations"]) and info["penalty"] > 0
    assert reward == pytest.approx(-np.log2(info["metrics"]["sample_time_us"] / env.reference_metrics[
        "sample_time_us"]) - info["penalty"])


def test_latency_target_terminates() -> None:
    env = FpgaDesignEnv(workload="lenet", platform="zc706", targets={"latency_us": 1e12}, reward="latency_us")
    _, _, terminated, _, info = env.step(env.action_of(env.reference_design))
    assert terminated == info["targets_met"] == (info["violations"] == [])


@pytest.mark.parametrize("kwargs,key", [
    ({"workload": "lenet5"}, "workload"),
    ({"platform": "zc7"}, "platform"),
    ({"batch": 0}, "batch"),
    ({"knobs": {"conv0.coarse_out": [3]}}, "conv0.coarse_out"),
    ({"targets": {"dsp_used": 10}}, "targets"),
    ({"reward": "throughput"}, "reward"),
])
def test_bad_input(kwargs: dict, key: str) -> None:
    with pytest.raises(SpecError, match=key):
        gym.make("acceldse/FpgaDesign-v0", **kwargs)
