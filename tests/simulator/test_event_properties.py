"""Property tests: event == analytical on one core for random layers and memories; cores only add contention."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.event import event_table
from acceldse.simulator.specs.accelerator import Accelerator, MemoryTier, SystolicArray
from acceldse.simulator.systolic.fold_time import double_buffer_cycles
from acceldse.simulator.systolic.model import core_chunks as split_folds
from acceldse.simulator.systolic.model import fold_schedule, systolic_table
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.network import Network


def _acc(rows: int, cols: int, sram_kib: int, bw: float, wbw: float, latency: int, cores: int) -> Accelerator:
    sram = MemoryTier("sram", "sram", 3 * sram_kib * 1024, 64.0, 64.0, latency_cycles=1)
    dram = MemoryTier("dram", "dram", 1 << 33, bw, wbw, latency_cycles=latency)
    return Accelerator("prop", 1000.0, SystolicArray(rows, cols), (sram, dram), cores=cores)


layers = st.one_of(
    st.builds(lambda m, n, k: gemm("g", m, n, k), st.integers(1, 300), st.integers(1, 300), st.integers(1, 300)),
    st.builds(lambda c, k, hw, r, s, g: conv2d("c", c * g, k * g, hw, r, stride=s, padding=r // 2, groups=g),
              st.integers(1, 24), st.integers(1, 24), st.integers(3, 20), st.sampled_from([1, 3]),
              st.sampled_from([1, 2]), st.sampled_from([1, 2])),
)
memories = st.tuples(st.sampled_from([4, 8, 16, 32]), st.sampled_from([4, 8, 16, 32]), st.sampled_from([1, 4, 64]),
                     st.sampled_from([1.0, 3.5, 10.0, 64.0, 1e5]), st.sampled_from([1.0, 7.25, 10.0, 1e5]),
                     st.sampled_from([0, 1, 30, 500]))


@settings(max_examples=60, deadline=None)
@given(layers, memories)
def test_one_core_event_equals_analytical(layer, mem) -> None:  # type: ignore[no-untyped-def]
    acc = _acc(*mem, cores=1)
    net = Network("p", (layer,))
    flows = resolve_dataflows("all")
    a, e = systolic_table(net, acc, flows), event_table(net, acc, flows)
    assert e["total_cycles"].tolist() == a["total_cycles"].tolist()
    assert e["stall_contention_cycles"].tolist() == [0.0, 0.0, 0.0]
    parts = e["stall_bandwidth_cycles"] + e["stall_latency_cycles"] + e["stall_capacity_cycles"]
    assert ((parts - e["stall_cycles"]).abs() < 1e-6).all()


@settings(max_examples=40, deadline=None)
@given(layers, memories, st.integers(2, 5))
def test_cores_never_beat_their_share_alone(layer, mem, cores) -> None:  # type: ignore[no-untyped-def]
    acc = _acc(*mem, cores=cores)
    flow = resolve_dataflows("os")[0]
    row = event_table(Network("p", (layer,)), acc, [flow]).iloc[0]
    s = fold_schedule(layer, flow, dataclasses.replace(acc, cores=1))
    dram = acc.dram
    alone = max(double_buffer_cycles(s.load_bytes[c], s.write_bytes[c], s.cycles_per_fold, dram.read_bw_bytes_per_cycle,
                                     dram.write_bw_bytes_per_cycle, dram.latency_cycles)
                for c in split_folds(s.load_bytes.shape[0], cores) if c.stop > c.start)
    assert row["total_cycles"] >= alone
    assert row["stall_bandwidth_cycles"] >= row["stall_contention_cycles"] - 1e-6 >= -1e-6
    parts = row["stall_bandwidth_cycles"] + row["stall_latency_cycles"] + row["stall_capacity_cycles"]
    assert abs(parts - row["stall_cycles"]) < 1e-6
