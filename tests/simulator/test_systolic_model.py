"""The analytical systolic model: published figures, closed forms, invariants, a Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import acceldse
from acceldse.dataflows.dataflow import DATAFLOWS, resolve_dataflows
from acceldse.simulator.specs.accelerator import accelerator_from_dict
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic.model import build_case, fold_schedule, systolic_table
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.network import Network


def make_acc(rows: int, cols: int, kib: int = 64, bw: float = 10.0, latency: int = 100):
    return accelerator_from_dict({
        "version": 2, "name": f"t{rows}x{cols}", "array": {"rows": rows, "cols": cols},
        "tiers": [{"name": "sram", "kind": "sram", "bw_bytes_per_cycle": 64,
                   "partition_bytes": {"ifmap": kib * 1024, "filter": kib * 1024, "ofmap": kib * 1024}},
                  {"name": "dram", "kind": "dram", "capacity_bytes": "1GiB", "bw_bytes_per_cycle": bw,
                   "latency_cycles": latency, "energy_pj_per_byte": 64}]}, source="test")


# ---- published SCALE-Sim figures (PUBLISHED.md: 32x32, 64 KB SRAMs, CALC) -----------------

def test_resnet18_totals_reproduce_scalesim_published_cycles() -> None:
    """SCALE-Sim's ResNet-18 totals = sum over layers of (our compute cycles - 1), minus the os drain."""
    result = acceldse.simulate("scalesim:Resnet18", "scalesim-32x32", "all")
    df = result.layers
    published = {"os": 1_718_353, "ws": 2_519_815, "is": 2_838_997}
    for name, cycles in published.items():
        rows = df[df.dataflow == name]
        ours = int(rows.compute_cycles.sum()) - len(rows)
        if name == "os":
            ours -= int((rows.folds * 32).sum())  # SCALE-Sim has no output drain term
        assert ours == cycles, name


def test_conv1_matches_published_per_dataflow() -> None:
    layer = conv2d("Conv1", 3, 64, 224, 7, stride=2, padding=(0, 0, 1, 1))  # SCALE-Sim's 110x110 output
    assert layer.gemm == (12100, 64, 147)
    df = systolic_table(Network("c", (layer,)), load_hardware("scalesim-32x32"), resolve_dataflows("all"))
    got = dict(zip(df.dataflow, df.compute_cycles))
    folds = dict(zip(df.dataflow, df.folds))
    assert got["os"] - 1 - 32 * folds["os"] == 158_421
    assert got["ws"] - 1 == 121_939
    assert got["is"] - 1 == 299_409


# ---- closed forms -----------------------------------------------------------------------------

shapes = st.tuples(st.integers(1, 300), st.integers(1, 300), st.integers(1, 300))
arrays = st.tuples(st.integers(1, 48), st.integers(1, 48))


@settings(max_examples=60, deadline=None)
@given(shapes, arrays, st.sampled_from(["os", "ws", "is"]))
def test_sram_counts_and_cycles_follow_closed_forms(mnk, array, flow) -> None:
    m, n, k = mnk
    r, c = array
    acc = make_acc(max(r, 2), max(c, 2))
    r, c = acc.array.rows, acc.array.cols
    row = systolic_table(Network("g", (gemm("g", m, n, k),)), acc, resolve_dataflows(flow)).iloc[0]
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[flow]
    folds = math.ceil(sr / r) * math.ceil(sc / c)
    assert row.folds == folds
    assert row.compute_cycles == folds * (2 * r + c + t - 2)
    if flow == "os":
        assert (row.sram_reads_ifmap, row.sram_reads_filter) == (m * k * math.ceil(n / c), k * n * math.ceil(m / r))
        assert row.sram_writes_ofmap == m * n
    elif flow == "ws":
        assert (row.sram_reads_ifmap, row.sram_reads_filter) == (m * k * math.ceil(n / c), k * n)
        assert row.sram_writes_ofmap == m * n * math.ceil(k / r)
    else:
        assert (row.sram_reads_ifmap, row.sram_reads_filter) == (m * k, k * n * math.ceil(m / c))
        assert row.sram_writes_ofmap == m * n * math.ceil(k / r)
    if flow != "os":
        assert row.sram_reads_ofmap == m * n * (math.ceil(k / r) - 1)


# ---- invariants -------------------------------------------------------------------------------

conv_layers = st.builds(
    lambda c, k, hw, kern, stride, groups: conv2d("c", c * groups, k * groups, hw, min(kern, hw),
                                                  stride=stride, groups=groups),
    st.integers(1, 24), st.integers(1, 24), st.integers(1, 40), st.integers(1, 5), st.integers(1, 3),
    st.sampled_from([1, 1, 2, 4]))


@settings(max_examples=80, deadline=None)
@given(conv_layers, arrays, st.integers(1, 64), st.floats(0.5, 200.0), st.sampled_from(["os", "ws", "is"]))
def test_invariants(layer, array, kib, bw, flow) -> None:
    acc = make_acc(max(array[0], 2), max(array[1], 2), kib=max(kib, 1), bw=bw)
    row = systolic_table(Network("n", (layer,)), acc, resolve_dataflows(flow)).iloc[0]
    pes = acc.array.pes
    assert 0 < row.mapping_efficiency <= 1
    assert 0 <= row.utilization <= row.compute_utilization <= 1
    assert row.total_cycles >= row.compute_cycles >= math.ceil(layer.macs / pes)
    # roofline: the DRAM bytes cannot move faster than the bandwidth
    assert row.total_cycles >= row.dram_bytes / bw
    # compulsory traffic: every unique input, weight and output crosses DRAM at least once
    assert row.dram_reads_ifmap >= layer.input_touched_elems - 1  # rounding of fractional shares
    # DRAM never delivers more than the array reads from SRAM
    assert row.dram_reads_ifmap <= row.sram_reads_ifmap + 1
    assert row.dram_reads_filter <= row.sram_reads_filter
    assert row.dram_reads_filter >= layer.weight_elems
    assert row.dram_writes_ofmap >= layer.output_elems
    assert row.energy_pj == pytest.approx(row.energy_mac_pj + row.energy_sram_pj + row.energy_dram_pj)


@settings(max_examples=30, deadline=None)
@given(conv_layers, st.sampled_from(["os", "ws", "is"]))
def test_more_bandwidth_and_sram_never_hurt(layer, flow) -> None:
    flows = resolve_dataflows(flow)
    net = Network("n", (layer,))
    slow = systolic_table(net, make_acc(8, 8, kib=4, bw=1), flows).iloc[0]
    fast = systolic_table(net, make_acc(8, 8, kib=4, bw=64), flows).iloc[0]
    big = systolic_table(net, make_acc(8, 8, kib=256, bw=1), flows).iloc[0]
    assert fast.total_cycles <= slow.total_cycles
    assert big.dram_bytes <= slow.dram_bytes
    assert fast.compute_cycles == slow.compute_cycles == big.compute_cycles


# ---- the kernel against a plain-Python reference of the documented model ------------------------

def transfer_cycles(nbytes: float, bw: float) -> int:
    """The least whole number of cycles q with ``q * bw >= nbytes`` (float arithmetic, as the model defines a
    transfer's cycles): ``ceil(nbytes / bw)`` alone can be one too many (21 B at 0.7 B/cycle: 21 / 0.7 is
    30.000000000000004, yet 30 cycles carry 21 B)."""
    q = max(math.ceil(nbytes / bw), 0)
    while q > 0 and (q - 1) * bw >= nbytes:
        q -= 1
    while q * bw < nbytes:
        q += 1
    return q


def reference(layer, flow: str, acc) -> dict[str, float]:
    """The fold model written out directly from docs/systolic_model.md, in plain Python."""
    df = DATAFLOWS[flow]
    sr, sc, t = df.operand_shape(layer)
    R, C = acc.array.rows, acc.array.cols
    half = {op: acc.sram.partition_bytes(op) // 2 for op in ("ifmap", "filter", "ofmap")}
    u_in = layer.input_touched_elems // layer.G
    u_w = layer.K * layer.C * layer.R * layer.S
    loads, writes = [], []
    dram = {"in": 0.0, "w": 0.0, "out_w": 0.0, "out_r": 0.0}
    fr_n, fc_n = math.ceil(sr / R), math.ceil(sc / C)
    for _ in range(layer.G):
        for fc in range(fc_n):
            cols = min(C, sc - fc * C)
            for fr in range(fr_n):
                rows = min(R, sr - fr * R)
                load = write = 0.0
                if flow == "os":
                    if fc == 0 or u_in > half["ifmap"]:
                        load += u_in * rows / sr
                        dram["in"] += u_in * rows / sr
                    if fr == 0 or t * cols > half["filter"]:
                        load += t * cols
                        dram["w"] += t * cols
                    write += rows * cols
                    dram["out_w"] += rows * cols
                    loads.append(load)
                    writes.append(write)
                    continue
                if flow == "ws":
                    load += rows * cols
                    dram["w"] += rows * cols
                    if fc == 0 or u_in > half["ifmap"]:
                        load += u_in * rows / sr
                        dram["in"] += u_in * rows / sr
                else:
                    load += u_in * rows * cols / (sr * sc)
                    dram["in"] += u_in * rows * cols / (sr * sc)
                    if fc == 0 or u_w > half["filter"]:
                        load += rows * t
                        dram["w"] += rows * t
                if t * cols <= half["ofmap"]:
                    if fr == fr_n - 1:
                        write += t * cols
                        dram["out_w"] += t * cols
                else:
                    write += t * cols
                    dram["out_w"] += t * cols
                    if fr > 0:
                        load += t * cols
                        dram["out_r"] += t * cols
                loads.append(load)
                writes.append(write)
    per_fold = 2 * R + C + t - 2
    bw, lat = acc.dram.read_bw_bytes_per_cycle, acc.dram.latency_cycles
    # event-style replay of the double-buffered schedule
    channel, ends = 0, []
    for f, load in enumerate(loads):
        free_at = ends[f - 2] if f >= 2 else 0
        written = transfer_cycles(writes[f - 2], bw) if f >= 2 else 0
        channel = max(channel, free_at) + written + transfer_cycles(load, bw)
        arrive = channel + (lat if load > 0 else 0)
        ends.append(max(ends[f - 1] if f else 0, arrive) + per_fold)
    tail = writes[-2:]
    if len(ends) >= 2:
        channel = max(channel, ends[-2]) + transfer_cycles(tail[0], bw)
    channel = max(channel, ends[-1]) + transfer_cycles(tail[-1], bw)
    total = max(ends[-1], channel + (lat if sum(tail) > 0 else 0))
    return {"total_cycles": total, "dram_reads_ifmap": round(dram["in"]), "dram_reads_filter": dram["w"],
            "dram_writes_ofmap": dram["out_w"], "dram_reads_ofmap": dram["out_r"]}


@settings(max_examples=60, deadline=None)
@given(conv_layers, st.tuples(st.integers(2, 12), st.integers(2, 12)), st.integers(1, 8),
       st.floats(0.5, 40.0), st.sampled_from(["os", "ws", "is"]))
def test_kernel_equals_python_reference(layer, array, kib, bw, flow) -> None:
    acc = make_acc(*array, kib=kib, bw=bw, latency=7)
    row = systolic_table(Network("n", (layer,)), acc, resolve_dataflows(flow)).iloc[0]
    ref = reference(layer, flow, acc)
    for key, value in ref.items():
        assert row[key] == pytest.approx(value), key


def test_fold_schedule_sums_to_the_counts() -> None:
    layer = conv2d("c", 64, 64, 28, 3, padding=1)
    acc = load_hardware("edge-8x8")
    for flow in ("os", "ws", "is"):
        sched = fold_schedule(layer, DATAFLOWS[flow], acc)
        c = sched.counts
        assert len(sched.load_bytes) == c["folds"]
        assert sched.load_bytes.sum() == pytest.approx(
            c["dram_reads_ifmap"] + c["dram_reads_filter"] + c["dram_reads_ofmap"], abs=1)
        assert sched.write_bytes.sum() == pytest.approx(c["dram_writes_ofmap"])
        assert c["compute_cycles"] == c["folds"] * sched.cycles_per_fold
        assert build_case(layer, DATAFLOWS[flow], acc).dtype == np.int64


def test_depthwise_underutilises_a_64x64_array() -> None:
    """DRACO's observation: depthwise layers leave most PEs of a 64x64 array idle."""
    net = Network("m", (conv2d("dw", 256, 256, 28, 3, padding=1, groups=256),
                        conv2d("pw", 256, 256, 28, 1)))
    df = systolic_table(net, load_hardware("array-64x64"), resolve_dataflows("ws"))
    dw, pw = df.iloc[0], df.iloc[1]
    assert dw.mapping_efficiency == pytest.approx(9 / 64 / 64)  # 9 of 4096 PEs per fold
    assert pw.mapping_efficiency == 1.0
    # T = 784 output pixels per fold of 2R + C + T - 2 = 974 cycles
    assert pw.compute_utilization == pytest.approx(784 / 974)
    assert dw.compute_utilization < 0.01
