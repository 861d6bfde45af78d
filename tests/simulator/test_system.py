"""A systolic core, an FPGA pipeline and a streaming SDPA unit on one off-chip link (one engine)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.event.system import simulate_system
from acceldse.simulator.fpga.pipeline_sim import simulate_pipeline
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.streaming import run_compiled
from acceldse.simulator.streaming.sdpa import build_sdpa
from acceldse.simulator.systolic.fold_time import double_buffer_cycles
from acceldse.simulator.systolic.model import fold_schedule
from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload
from acceldse.workloads.zoo.small import lenet


def _with_bw(acc: Accelerator, bw: float) -> Accelerator:
    tiers = tuple(dataclasses.replace(t, read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)
                  if t is acc.dram else t for t in acc.tiers)
    return dataclasses.replace(acc, tiers=tiers, cores=1)


def _parts():  # type: ignore[no-untyped-def]
    layer = next(ly for ly in load_workload("bert_base").layers if ly.has_weights)
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((32, 16)) for _ in range(3))
    return layer, resolve_dataflows("os")[0], lenet(), build_sdpa("reordered", q, k, v)


@pytest.mark.parametrize("bw", [8.0, 64.0])
def test_three_parts_share_one_link(bw: float) -> None:
    acc = _with_bw(load_hardware("tpu-hbm-like"), bw)
    layer, flow, lenet, sdpa = _parts()
    run = simulate_system(acc, layer=layer, dataflow=flow, pipeline=lenet, samples=2, sdpa=sdpa, head_dim=16)
    t = run.table.set_index("part")
    assert list(t.index) == ["systolic", "fpga", "sdpa"]
    # alone, each part is its own model: the systolic layer is the analytical double-buffer recurrence,
    s = fold_schedule(layer, flow, acc)
    assert t.loc["systolic", "alone_cycles"] == double_buffer_cycles(
        s.load_bytes, s.write_bytes, s.cycles_per_fold, bw, bw, acc.dram.latency_cycles)
    # the FPGA pipeline and the SDPA graph only wait longer for their rows than with free off-chip traffic
    assert t.loc["fpga", "alone_cycles"] >= simulate_pipeline(lenet, samples=2).total_cycles
    assert t.loc["sdpa", "alone_cycles"] >= run_compiled(sdpa.graph).cycles - 1
    # sharing the link never helps, and the link is work-conserving: busy exactly while it has work
    assert (t["shared_cycles"] >= t["alone_cycles"] - 1e-6).all()
    assert run.link_busy_cycles == pytest.approx(t["link_work_cycles"].sum())
    assert run.link_peak_transfers >= 2
    assert t["contention_cycles"].sum() > 0
    if bw == 8.0:  # the figures docs/streaming.md shows
        assert t["shared_cycles"].tolist() == [205403.0, 3727368.0, 16618.0]
        assert t["alone_cycles"].tolist() == [196908.0, 3727298.0, 8359.0]
        assert run.link_busy_cycles == pytest.approx(205326.0) and run.link_peak_transfers == 3


def test_contention_grows_as_the_link_narrows() -> None:
    layer, flow, lenet, sdpa = _parts()
    slow = {}
    for bw in (8.0, 1e6):
        run = simulate_system(_with_bw(load_hardware("tpu-hbm-like"), bw), layer=layer, dataflow=flow, sdpa=sdpa,
                              head_dim=16)
        slow[bw] = run.table["contention_cycles"].sum()
    assert slow[8.0] > 10 * slow[1e6]


def test_bad_system() -> None:
    acc = load_hardware("tpu-hbm-like")
    layer, flow, _, sdpa = _parts()
    with pytest.raises(SpecError, match="no part"):
        simulate_system(acc)
    with pytest.raises(SpecError, match="head_dim"):
        simulate_system(acc, sdpa=sdpa)
    with pytest.raises(SpecError, match="MAC layer"):
        simulate_system(acc, layer=layer)


@pytest.mark.parametrize(("argv", "named"), [
    (["--seq-len", "32"], "--head-dim"),
    (["--workload", "bert_base", "--layer", "nope"], "--layer"),
    (["--workload", "bert_base"], "--layer"),
    (["--link-bw", "0", "--pipeline", "lenet"], "--link-bw"),
    (["--pipeline", "nope"], "--pipeline"),  # the loader's 'workload' is this flag here, not --workload
])
def test_cli_refuses_bad_input_in_one_line(argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    assert main(["stream", "system", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"acceldse: error: {named}: ") and len(err.splitlines()) == 1


def test_system_work_is_refused_up_front(capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    acc = load_hardware("tpu-hbm-like")
    layer, flow, lenet, _ = _parts()
    for parts in ({"layer": layer, "dataflow": flow}, {"pipeline": lenet, "samples": 2}):
        with pytest.raises(SpecError, match="too much work") as err:
            simulate_system(acc, **parts, max_work=10)  # type: ignore[arg-type]
        assert "context firings" in str(err.value) and "max_work" in str(err.value)
        assert len(str(err.value).splitlines()) == 1
    with pytest.raises(SpecError, match="samples"):
        simulate_system(acc, pipeline=lenet, samples=0)
    assert main(["stream", "system", "--pipeline", "lenet", "--samples", "2", "--max-work", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--max-work" in err and "Traceback" not in err and len(err.splitlines()) == 1
