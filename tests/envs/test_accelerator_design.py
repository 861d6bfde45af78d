"""AcceleratorDesign-v0: gymnasium conformance, real numbers (= acceldse.simulate), bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import acceldse
from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.workloads.errors import SpecError

ENV_ID = "acceldse/AcceleratorDesign-v0"


@pytest.fixture(scope="module")
def env() -> AcceleratorDesignEnv:
    return AcceleratorDesignEnv()


def test_check_env(env: AcceleratorDesignEnv) -> None:
    check_env(env, skip_render_check=True)


@pytest.mark.parametrize("workload,seed,knobs", [("resnet18", 0, None), ("mobilenet_v1", 1, None),
                                                 ("bert_base", 2, None), ("scalesim:Resnet18", 3, None),
                                                 ("resnet18", 4, {"cores": [2, 4, 8]})])
def test_metrics_equal_simulate(workload: str, seed: int, knobs: dict | None) -> None:
    env = AcceleratorDesignEnv(workload=workload, knobs=knobs)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        action = np.array([rng.integers(n) for n in env.action_space.nvec])
        _, _, _, _, info = env.step(action)
        design = info["design"]
        acc = env.accelerator(design)
        totals = acceldse.simulate(env.network, acc, design["dataflow"]).totals.iloc[0]
        m = info["metrics"]
        assert m["total_cycles"] == totals["total_cycles"]
        assert m["latency_us"] == pytest.approx(totals["latency_us"], rel=1e-12)
        assert m["energy_uj"] == pytest.approx(totals["energy_pj"] * 1e-6, rel=1e-12)
        assert m["area_mm2"] == pytest.approx(totals["area_mm2"], rel=1e-12)
        assert m["utilization"] == pytest.approx(totals["utilization"], rel=1e-12)


def test_cores_knob_only_when_asked_and_event_fidelity_tells_cores_apart() -> None:
    """``knobs={"cores": [...]}`` adds a last knob; the event fidelity equals the analytical model on one core
    and, on several, is slower by the contention for the shared DRAM link the analytical model ignores."""
    assert "cores" not in AcceleratorDesignEnv(workload="alexnet").knobs
    analytical = AcceleratorDesignEnv(workload="alexnet", knobs={"cores": [1, 4]})
    event = AcceleratorDesignEnv(workload="alexnet", knobs={"cores": [1, 4]}, fidelity="event")
    assert list(analytical.knobs)[-1] == "cores" and analytical.accelerator(
        dict(analytical.reference_design, cores=4)).cores == 4
    design = dict(analytical.reference_design, rows=32, cols=32, dram_gbyte_per_s=5, dataflow="ws")
    one = analytical.evaluate(dict(design, cores=1))
    assert event.evaluate(dict(design, cores=1))["latency_us"] == pytest.approx(one["latency_us"], rel=1e-12)
    four, four_event = analytical.evaluate(dict(design, cores=4)), event.evaluate(dict(design, cores=4))
    assert four_event["latency_us"] > 1.05 * four["latency_us"]
    assert four["area_mm2"] > one["area_mm2"] and four["utilization"] == pytest.approx(
        four_event["utilization"] * four_event["latency_us"] / four["latency_us"], rel=1e-9)
    with pytest.raises(SpecError, match="cores"):
        AcceleratorDesignEnv(workload="alexnet", knobs={"cores": [0, 2]})


def test_design_accelerator_follows_knobs(env: AcceleratorDesignEnv) -> None:
    design = {"rows": 64, "cols": 16, "ifmap_kib": 128, "filter_kib": 32, "ofmap_kib": 16, "dram_gbyte_per_s": 40,
              "dataflow": "is", "clock_mhz": 1000}
    acc = env.accelerator(design)
    assert (acc.array.rows, acc.array.cols) == (64, 16)
    assert acc.sram.partitions == {"ifmap": 128 * 1024, "filter": 32 * 1024, "ofmap": 16 * 1024}
    assert acc.dram.read_bw_bytes_per_cycle == pytest.approx(40.0)  # 40 GB/s at 1 GHz
    # SRAM area scales with capacity (the area model is linear in bits)
    base = acceldse.load_hardware("scalesim-32x32")
    assert acc.sram.area_at(45) == pytest.approx(base.sram.area_at(45) * 176 / 192)
    obs, info = env.reset(options={"design": design})
    assert info["design"] == design and obs in env.observation_space


def test_targets_terminate_and_reward_is_spec_distance() -> None:
    env = AcceleratorDesignEnv(targets={"latency_us": 1e9, "area_mm2": 1.0})
    _, reward, terminated, _, info = env.step(env.action_of(env.reference_design))
    area = info["metrics"]["area_mm2"]
    assert reward == pytest.approx(-(area - 1.0) / 1.0) and not terminated
    small = dict(env.reference_design, rows=8, cols=8, ifmap_kib=16, filter_kib=16, ofmap_kib=16)
    _, reward, terminated, _, info = env.step(env.action_of(small))
    assert info["targets_met"] and terminated and reward == 0.0


def test_scalar_objective_reward() -> None:
    env = AcceleratorDesignEnv(reward="edp_uj_us", targets={"area_mm2": 1e6})
    _, reward, _, _, info = env.step(env.action_of(env.reference_design))
    assert reward == pytest.approx(0.0)
    better = dict(env.reference_design, rows=128, cols=128, dram_gbyte_per_s=160)
    _, reward, _, _, info = env.step(env.action_of(better))
    ref = env.reference_metrics["edp_uj_us"]
    assert reward == pytest.approx(-np.log2(info["metrics"]["edp_uj_us"] / ref)) and reward > 0


@pytest.mark.parametrize("kwargs,key", [
    ({"workload": "resnet1800"}, "workload"),
    ({"targets": {"latency_ms": 1.0}}, "targets"),
    ({"targets": {"latency_us": -1}}, "targets"),
    ({"knobs": {"rows": [0, 8]}}, "knobs"),
    ({"knobs": {"banks": [1, 2]}}, "knobs"),
    ({"knobs": {"dataflow": ["os", "rs"]}}, "knobs"),
    ({"knobs": {"rows": [1024], "ifmap_kib": [1]}}, "knobs"),
    ({"fidelity": "cycle"}, "fidelity"),
    ({"reward": "speed"}, "reward"),
])
def test_bad_input_names_the_argument(kwargs: dict, key: str) -> None:
    with pytest.raises(SpecError) as err:
        gym.make(ENV_ID, **kwargs)
    assert key in str(err.value)


def test_action_outside_space(env: AcceleratorDesignEnv) -> None:
    env.reset(seed=0)
    bad = env.action_space.nvec.copy()
    with pytest.raises(SpecError, match="rows"):
        env.step(bad)
    with pytest.raises(SpecError, match="action"):
        env.step(np.zeros(3, dtype=np.int64))


def test_event_fidelity_runs_the_event_engine() -> None:
    env = AcceleratorDesignEnv(fidelity="event",
                               knobs={"rows": [64], "cols": [64], "dram_gbyte_per_s": [80]})
    design = env.reference_design
    table = acceldse.simulate(env.network, env.accelerator(design), design["dataflow"], fidelity="event").totals
    assert env.reference_metrics["total_cycles"] == table["total_cycles"].iloc[0]


def test_sram_bound_designs_equal_simulate() -> None:
    """Large arrays the base preset's SRAM (64 B/cycle) cannot feed: folds take the SRAM's pace."""
    from acceldse.dataflows.dataflow import DATAFLOWS
    from acceldse.simulator.systolic.model import fold_schedule

    env = AcceleratorDesignEnv(workload="resnet18")
    retimed = []
    for rows, cols, flow in ((256, 256, "os"), (128, 256, "ws"), (256, 64, "is")):
        design = dict(env.reference_design, rows=rows, cols=cols, dataflow=flow, ifmap_kib=1024, filter_kib=1024,
                      ofmap_kib=1024, dram_gbyte_per_s=160)
        _, info = env.reset(options={"design": design})
        acc = env.accelerator(design)
        totals = acceldse.simulate(env.network, acc, flow).totals.iloc[0]
        assert info["metrics"]["total_cycles"] == totals["total_cycles"]
        assert info["metrics"]["energy_uj"] == pytest.approx(totals["energy_pj"] * 1e-6, rel=1e-12)
        schedules = [fold_schedule(x, DATAFLOWS[flow], acc) for x in env.network.layers if x.has_weights]
        retimed.append(sum(s.cycles_per_fold > s.array_cycles_per_fold for s in schedules))
    assert min(retimed) > 5  # most layers of every design were SRAM-bound
