"""Event fidelity: exact agreement with the analytical model on one core, contention on several."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.api import simulate
from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.event import event_run, event_table
from acceldse.simulator.event.engine import transfer_cycles_array
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.systolic.fold_time import double_buffer_cycles
from acceldse.simulator.systolic.model import core_chunks as split_folds
from acceldse.simulator.systolic.model import fold_schedule, systolic_table
from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload


def _with_dram_bw(acc: Accelerator, bw: float, cores: int = 1) -> Accelerator:
    tiers = tuple(dataclasses.replace(t, read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)
                  if t is acc.dram else t for t in acc.tiers)
    return dataclasses.replace(acc, tiers=tiers, cores=cores)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=20),
       st.sampled_from([1.0, 10.0, 42.86, 584.76, 1600.0, 3.3]))
def test_transfer_cycles_kernel_matches_python(nbytes: list[int], bw: float) -> None:
    def ref(a: float) -> int:
        if a <= 0:
            return 0
        q = int(a // bw)
        return q + 1 if q * bw < a else q
    got = transfer_cycles_array(np.array(nbytes, dtype=float), bw)
    assert got.tolist() == [ref(float(a)) for a in nbytes]


def test_shared_link_processor_sharing() -> None:
    net = Net("link")
    link = net.resource("dram")
    for name, delay, work in (("a", 0, 100), ("b", 50, 100), ("c", 400, 30)):
        net.context(name, 2, ii=[delay, 0], work=[0, work], resource=link)  # wait `delay`, then transfer
    run = net.run(record=True)
    ends = {name: float(run.times(name)[1][-1]) for name in "abc"}
    # a alone for 50 cycles (50 left), then a and b share: a done at 150, b has 50 left -> 200
    assert ends == {"a": 150.0, "b": 200.0, "c": 430.0}
    assert run.resource_peak[link] == 2
    assert run.resource_busy[link] == pytest.approx(230.0)


AMPLE = ["sn40l-like", "tpu-v1-like"]
CONSTRAINED = ["scalesim-32x32", "sn40l-like@8"]
WORKLOADS = ["resnet18", "bert_base"]


def _hardware(spec: str) -> Accelerator:
    name, _, bw = spec.partition("@")
    acc = load_hardware(name)
    return _with_dram_bw(acc, float(bw)) if bw else dataclasses.replace(acc, cores=1)


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("hw", AMPLE + CONSTRAINED)
def test_event_equals_analytical_layer_by_layer(workload: str, hw: str) -> None:
    acc = _hardware(hw)
    net = load_workload(workload)
    flows = resolve_dataflows("all")
    a = systolic_table(net, acc, flows)
    e = event_table(net, acc, flows)
    assert len(e) == len(a) == 3 * len(net.layers)
    assert (e["layer"].to_numpy() == a["layer"].to_numpy()).all()
    np.testing.assert_array_equal(e["total_cycles"].to_numpy(), a["total_cycles"].to_numpy())
    shared = [c for c in a.columns if c not in ("energy_sram_pj", "energy_dram_pj", "energy_pj", "energy_mac_pj")]
    pd.testing.assert_frame_equal(e[shared], a[shared], check_dtype=False)
    stalls = e["stall_bandwidth_cycles"] + e["stall_latency_cycles"] + e["stall_capacity_cycles"]
    np.testing.assert_allclose(stalls.to_numpy(), e["stall_cycles"].to_numpy(), atol=1e-6)
    assert (e[["stall_bandwidth_cycles", "stall_latency_cycles", "stall_capacity_cycles"]] >= 0).all().all()
    assert (e["stall_contention_cycles"] == 0).all()
    if hw in CONSTRAINED:  # memory-bound: most stalls are bandwidth
        assert e["stall_bandwidth_cycles"].sum() > 0.5 * e["stall_cycles"].sum() > 0


def test_the_readme_counts_the_rows_compared_here() -> None:
    """README: "N of N ResNet-18/BERT-base rows" is what the test above compares (every dataflow of every layer)."""
    from pathlib import Path

    rows = len(AMPLE + CONSTRAINED) * sum(3 * len(load_workload(w).layers) for w in WORKLOADS)
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert f"({rows:,} of {rows:,} ResNet-18/BERT-base rows on three presets, at ample and constrained" in readme


def test_simulate_event_fidelity_matches_analytical() -> None:
    ana = simulate("bert_base", "tpu-v1-like", "all")
    ev = simulate("bert_base", "tpu-v1-like", "all", fidelity="event")
    assert ev.fidelity == "event"
    assert ev.totals["total_cycles"].tolist() == ana.totals["total_cycles"].tolist()
    assert "stall_capacity_cycles" in ev.layers


@pytest.mark.parametrize("cores", [2, 4])
def test_cores_sharing_dram_contend(cores: int) -> None:
    acc = _with_dram_bw(load_hardware("scalesim-32x32"), 10.0, cores=cores)
    net = load_workload("resnet18")
    flow = resolve_dataflows("os")[0]
    e = event_table(net, acc, [flow])
    dram = acc.dram
    contended = 0
    for layer, row in zip(net.layers, e.itertuples()):
        if not layer.has_weights:
            continue
        s = fold_schedule(layer, flow, acc)
        alone = max(double_buffer_cycles(s.load_bytes[c], s.write_bytes[c], s.cycles_per_fold,
                                         dram.read_bw_bytes_per_cycle, dram.write_bw_bytes_per_cycle,
                                         dram.latency_cycles)
                    for c in split_folds(s.load_bytes.shape[0], cores) if c.stop > c.start)
        assert row.total_cycles >= alone  # event >= analytical per core
        assert row.stall_contention_cycles >= row.total_cycles - alone - 1
        assert row.stall_bandwidth_cycles >= row.stall_contention_cycles - 1e-6
        contended += row.stall_contention_cycles > 0
    stalls = e["stall_bandwidth_cycles"] + e["stall_latency_cycles"] + e["stall_capacity_cycles"]
    np.testing.assert_allclose(stalls.to_numpy(), e["stall_cycles"].to_numpy(), atol=1e-6)
    assert contended >= 10
    one = event_table(net, _with_dram_bw(acc, 10.0, cores=1), [flow])
    # more arrays still help a little, but far less than `cores` x: the link is the bottleneck
    assert one["total_cycles"].sum() / cores < e["total_cycles"].sum() < one["total_cycles"].sum()


def test_contention_vanishes_with_ample_bandwidth() -> None:
    net = load_workload("bert_base")
    flow = resolve_dataflows("ws")
    slow = event_table(net, _with_dram_bw(load_hardware("tpu-hbm-like"), 16.0, cores=4), flow)
    fast = event_table(net, _with_dram_bw(load_hardware("tpu-hbm-like"), 1e6, cores=4), flow)
    assert slow["stall_contention_cycles"].sum() > 10 * max(fast["stall_contention_cycles"].sum(), 1.0)


def test_trace_json_is_valid_chrome_trace() -> None:
    acc = _with_dram_bw(load_hardware("scalesim-32x32"), 10.0, cores=2)
    run = event_run(load_workload("bert_base"), acc, resolve_dataflows("os"), trace=True)
    assert run.trace is not None
    data = json.loads(json.dumps(run.trace))
    events = data["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"core0", "core1", "dma0 (dram)", "dma1 (dram)"} <= names
    spans = [e for e in events if e["ph"] == "X"]
    assert spans and all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    tid_core0 = next(e["tid"] for e in events if e["ph"] == "M" and e["args"]["name"] == "core0")
    core0 = sorted((e["ts"], e["ts"] + e["dur"]) for e in spans if e["tid"] == tid_core0)
    assert all(b[0] >= a[1] - 1e-9 for a, b in zip(core0, core0[1:]))  # one fold at a time per array
    assert max(e["ts"] + e["dur"] for e in spans) <= run.table["total_cycles"].sum() / acc.clock_mhz + 1e-6


def test_bad_cores() -> None:
    with pytest.raises(SpecError, match="cores"):
        event_table(load_workload("bert_base"), load_hardware("tpu-v1-like"), resolve_dataflows("os"), cores=0)


def test_split_folds() -> None:
    assert [(s.start, s.stop) for s in split_folds(10, 3)] == [(0, 4), (4, 7), (7, 10)]
    assert [s.stop - s.start for s in split_folds(2, 4)] == [1, 1, 0, 0]


@pytest.mark.parametrize("shared", [True, False])
def test_shared_and_exclusive_links_agree_on_one_core(shared: bool) -> None:
    from acceldse.simulator.event.engine import run_fold_layer

    acc = load_hardware("scalesim-32x32")
    net = load_workload("resnet18")
    flow = resolve_dataflows("ws")[0]
    dram = acc.dram
    for layer in [ly for ly in net.layers if ly.has_weights][:6]:
        s = fold_schedule(layer, flow, acc)
        load = transfer_cycles_array(s.load_bytes, dram.read_bw_bytes_per_cycle)
        write = transfer_cycles_array(s.write_bytes, dram.write_bw_bytes_per_cycle)
        runs, link = run_fold_layer([load], [write], s.cycles_per_fold, dram.latency_cycles, shared=shared)
        assert link.exclusive is not shared
        assert runs[0].end_cycles == double_buffer_cycles(s.load_bytes, s.write_bytes, s.cycles_per_fold,
                                                          dram.read_bw_bytes_per_cycle,
                                                          dram.write_bw_bytes_per_cycle, dram.latency_cycles)
        assert link.stats.work_cycles == int(load.sum() + write.sum())


def test_weights_in_ddr_are_staged_by_a_dma_per_tier_link() -> None:
    from acceldse.simulator.event.staging import weight_bytes

    acc = load_hardware("sn40l-like")
    net = load_workload("gpt2_decode", bits=16)
    flows = resolve_dataflows("os")
    base = event_table(net, acc, flows)
    assert (base["stall_staging_cycles"] == 0).all()
    assert event_run(net, acc, flows, weight_tiers="hbm").table.equals(base)
    totals = {}
    for depth in (1, 2, 4):
        t = event_run(net, acc, flows, weight_tiers="ddr", staging_depth=depth).table
        parts = t["stall_bandwidth_cycles"] + t["stall_latency_cycles"] + t["stall_capacity_cycles"]
        np.testing.assert_allclose(parts.to_numpy(), t["stall_cycles"].to_numpy(), atol=1e-6)
        np.testing.assert_array_equal(t["total_cycles"] - t["stall_staging_cycles"], base["total_cycles"])
        assert set(t.loc[t["op"] == "gemm", "weight_tier"]) == {"ddr"}
        totals[depth] = (t["total_cycles"].sum(), t["stall_capacity_cycles"].sum())
    # a deeper staging buffer hides more of the DDR copies; depth 1 waits for free slots
    assert totals[1][0] > totals[2][0] > totals[4][0] > base["total_cycles"].sum()
    assert totals[1][1] > totals[2][1] > base["stall_capacity_cycles"].sum()
    # the DDR link moves every stored weight once: at least bytes / (100 B/cycle) overall
    assert totals[4][0] >= sum(weight_bytes(net)) / 100
    auto = event_run(net, acc, flows, weight_tiers="auto").table  # everything fits in HBM: nothing staged
    assert auto["stall_staging_cycles"].sum() == 0 and set(auto.loc[auto["op"] == "gemm", "weight_tier"]) == {"hbm"}


def test_weight_tier_errors() -> None:
    acc = load_hardware("sn40l-like")
    net = load_workload("bert_base")
    flows = resolve_dataflows("os")
    with pytest.raises(SpecError, match="unknown memory tier"):
        event_run(net, acc, flows, weight_tiers="nvme")
    with pytest.raises(SpecError, match="unknown layer"):
        event_run(net, acc, flows, weight_tiers={"nope": "ddr"})
    with pytest.raises(SpecError, match="staging_depth"):
        event_run(net, acc, flows, weight_tiers="ddr", staging_depth=0)


def test_different_arrays_share_the_link() -> None:
    from acceldse.simulator.event.arrays import proportional_shares, split_layer
    from acceldse.simulator.specs.accelerator import SystolicArray

    assert proportional_shares(10, [3, 1]) == [8, 2] and proportional_shares(1, [1, 4]) == [0, 1]
    acc = load_hardware("scalesim-32x32")
    net = load_workload("resnet18")
    flows = resolve_dataflows("os")
    big, small = SystolicArray(32, 32), SystolicArray(16, 16)
    for layer in net.layers:
        if layer.has_weights:
            parts = [p for p in split_layer(layer, [big, small]) if p is not None]
            assert sum(p.macs for p in parts) == layer.macs  # MACs conserved
    alone = event_run(net, acc, flows, arrays=[big]).table
    np.testing.assert_array_equal(alone["total_cycles"], systolic_table(net, acc, flows)["total_cycles"])
    ample = _with_dram_bw(acc, 1e4)
    one = event_run(net, ample, flows, arrays=[big]).table
    two = event_run(net, ample, flows, arrays=[big, small]).table
    assert two["total_cycles"].sum() < one["total_cycles"].sum()  # compute-bound: the second array helps
    slow = event_run(net, acc, flows, arrays=[big, small]).table
    assert slow["stall_contention_cycles"].sum() > 0.1 * slow["stall_cycles"].sum()  # 10 B/cycle: they contend
    parts = slow["stall_bandwidth_cycles"] + slow["stall_latency_cycles"] + slow["stall_capacity_cycles"]
    np.testing.assert_allclose(parts.to_numpy(), slow["stall_cycles"].to_numpy(), atol=1e-6)
    assert slow["utilization"].between(0, 1).all()
    with pytest.raises(SpecError, match="cores or arrays"):
        event_run(net, acc, flows, arrays=[big], cores=2)
    with pytest.raises(SpecError, match="SystolicArray"):
        event_run(net, acc, flows, arrays=[])


def test_one_graph_for_all_layers_equals_each_layer_alone() -> None:
    from acceldse.simulator.event.engine import FoldJob, run_fold_layer, run_fold_layers

    acc = _with_dram_bw(load_hardware("scalesim-32x32"), 10.0)
    flow = resolve_dataflows("ws")[0]
    dram = acc.dram
    jobs = []
    for i, layer in enumerate([ly for ly in load_workload("resnet18").layers if ly.has_weights][:9]):
        s = fold_schedule(layer, flow, acc)
        load = transfer_cycles_array(s.load_bytes, dram.read_bw_bytes_per_cycle)
        write = transfer_cycles_array(s.write_bytes, dram.write_bw_bytes_per_cycle)
        chunks = [c for c in split_folds(load.shape[0], 1 + i % 3) if c.stop > c.start]
        jobs.append(FoldJob([load[c] for c in chunks], [write[c] for c in chunks], [s.cycles_per_fold] * len(chunks),
                            dram.latency_cycles, dram.name))
    for job, (runs, link) in zip(jobs, run_fold_layers(jobs, record=True)):
        alone, alone_link = run_fold_layer(job.loads, job.writes, job.per_fold, job.latency, record=True)
        assert runs == alone  # ends, stalls by cause and every span, to the bit
        assert link == alone_link
