"""The batched analytical path equals the per-design path bit for bit (per layer and totals)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

import acceldse
from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic.batch import (
    LAYER_COLUMNS,
    TOTAL_COLUMNS,
    layer_frame,
    network_layer_arrays,
    network_totals,
)
from acceldse.simulator.systolic.model import systolic_table

BASE = load_hardware("scalesim-32x32")
NETS = {name: acceldse.load_workload(name) for name in ("resnet18", "mobilenet_v1")}
NETS["gpt2_prefill"] = acceldse.load_workload("gpt2_prefill", seq_len=64)


@st.composite
def accelerators(draw: st.DrawFn) -> Accelerator:
    sram, dram = BASE.tiers
    sizes = st.sampled_from([4, 16, 64, 256]).map(lambda k: k * 1024)
    parts = {k: draw(sizes) for k in ("ifmap", "filter", "ofmap")}
    sram = replace(sram, partitions=parts, capacity_bytes=sum(parts.values()),
                   read_energy_pj_per_byte=draw(st.floats(0.1, 5)), write_energy_pj_per_byte=draw(st.floats(0.1, 5)))
    dram = replace(dram, read_bw_bytes_per_cycle=draw(st.sampled_from([2.0, 10.0, 16.5, 64.0])),
                   write_bw_bytes_per_cycle=draw(st.sampled_from([4.0, 10.0, 33.3])),
                   latency_cycles=draw(st.integers(0, 200)))
    dims = st.sampled_from([4, 8, 12, 32, 64, 128])
    array = replace(BASE.array, rows=draw(dims), cols=draw(dims), mac_energy_pj=draw(st.floats(0.01, 1)))
    return replace(BASE, array=array, tiers=(sram, dram), clock_mhz=draw(st.floats(100, 2000)))


@settings(max_examples=12, deadline=None)
@given(st.lists(accelerators(), min_size=1, max_size=4), st.sampled_from(sorted(NETS)),
       st.sampled_from(["os", "ws", "is"]))
def test_totals_equal_simulate(accs: list[Accelerator], workload: str, dataflow: str) -> None:
    net = NETS[workload]
    (flow,) = resolve_dataflows(dataflow)
    got = network_totals(net, accs + accs[:1], flow)  # a repeated design is evaluated once, reported twice
    assert len(got) == len(accs) + 1
    for i, acc in enumerate(accs + accs[:1]):
        want = acceldse.simulate(net, acc, dataflow).totals.iloc[0]
        assert [want[c] for c in TOTAL_COLUMNS] == [got[c].iloc[i] for c in TOTAL_COLUMNS]


def test_layer_arrays_equal_table() -> None:
    accs = [BASE, replace(BASE, array=replace(BASE.array, rows=8, cols=16))]
    net = NETS["mobilenet_v1"]
    for flow in resolve_dataflows("all"):
        arrays = network_layer_arrays(net, accs, flow)
        frame = layer_frame(net, arrays, flow.name)
        for i, acc in enumerate(accs):
            table = systolic_table(net, acc, [flow])
            got = frame[frame["design"] == i].reset_index(drop=True)
            for col in ("layer", "op", "dataflow", *LAYER_COLUMNS):
                assert table[col].tolist() == got[col].tolist(), col


def test_sram_bound_and_multicore_designs_equal_simulate() -> None:
    """Layers the SRAM cannot feed at the array's pace (re-run with a paced fold) and multi-core
    designs (timed one by one) equal ``acceldse.simulate``, mixed in one batch with ordinary ones."""
    sram, dram = BASE.tiers
    slow = replace(sram, read_bw_bytes_per_cycle=6.0, write_bw_bytes_per_cycle=3.0)
    accs = [BASE, replace(BASE, tiers=(slow, dram)), replace(BASE, array=replace(BASE.array, rows=64, cols=8),
                                                             tiers=(slow, dram)), replace(BASE, cores=2)]
    net = NETS["resnet18"]
    for flow in resolve_dataflows("all"):
        got = network_totals(net, accs, flow)
        for i, acc in enumerate(accs):
            want = acceldse.simulate(net, acc, flow.name).totals.iloc[0]
            assert [want[c] for c in TOTAL_COLUMNS] == [got[c].iloc[i] for c in TOTAL_COLUMNS], (flow.name, i)
