"""Analytical fidelity for systolic arrays: lower layers to cases, run the batched kernel.

``systolic_table(network, accelerator, dataflows)`` returns the per-layer DataFrame
(columns in ``simulator.result.COLUMNS``). Layers with MACs go through the numba kernel
in ``simulator.systolic.kernels``; pooling and elementwise layers (no MACs) run on a
vector unit as wide as the array's columns and stream their operands through DRAM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.systolic.kernels import (
    CASE_FIELDS,
    DATAFLOW_IDS,
    OUT_FIELDS,
    double_buffer_cycles,
    evaluate_cases,
    evaluate_cases_runs,
    fold_cycles,
    fold_traffic,
)
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network


def elem_bytes(bits: int) -> int:
    return max(1, math.ceil(bits / 8))


def operand_bytes(bits: int, acc: Accelerator) -> int:
    """Bytes one operand of ``bits`` occupies on ``acc``: the layer's precision widened to the
    hardware word (``word_bytes``), as stored in the SRAM and moved over every link."""
    return max(acc.word_bytes, elem_bytes(bits))


def build_case(layer: Layer, dataflow: Dataflow, acc: Accelerator) -> np.ndarray:
    """One kernel case: operand-matrix shape, array, unique bytes, buffer halves, latency."""
    sr, sc, t = dataflow.operand_shape(layer.require_dense("the systolic model"))
    sram = acc.sram
    eb_in, eb_w, eb_out = (operand_bytes(b, acc) for b in (layer.input_bits, layer.weight_bits, layer.output_bits))
    in_unique = layer.input_touched_elems // layer.G * eb_in  # one group
    w_unique = layer.K * layer.C * layer.R * layer.S * eb_w
    values = {
        "sr": sr, "sc": sc, "t": t, "groups": layer.G, "rows": acc.array.rows, "cols": acc.array.cols,
        "dataflow": DATAFLOW_IDS[dataflow.name], "in_bytes_unique": in_unique, "w_bytes_unique": w_unique,
        "in_cap_bytes": sram.partition_bytes("ifmap") // 2, "w_cap_bytes": sram.partition_bytes("filter") // 2,
        "out_cap_bytes": sram.partition_bytes("ofmap") // 2, "in_elem_bytes": eb_in,
        "w_elem_bytes": eb_w, "out_elem_bytes": eb_out,
        "dram_latency_cycles": acc.dram.latency_cycles, "macs": layer.macs,
    }
    return np.array([values[f] for f in CASE_FIELDS], dtype=np.int64)


def run_cases(cases: np.ndarray, acc: Accelerator, *, runs: bool = False) -> np.ndarray:
    """Evaluate a batch of cases on ``acc``'s DRAM bandwidth; returns (n, len(OUT_FIELDS)).

    ``runs=True`` uses ``evaluate_cases_runs`` (same outputs, time independent of the fold count).
    """
    out = np.zeros((cases.shape[0], len(OUT_FIELDS)), dtype=np.float64)
    if cases.shape[0]:
        kernel = evaluate_cases_runs if runs else evaluate_cases
        kernel(cases, float(acc.dram.read_bw_bytes_per_cycle), float(acc.dram.write_bw_bytes_per_cycle), out)
    return out


@dataclass(frozen=True)
class FoldSchedule:
    """The fold sequence of one layer: what the analytical model and the event engine both run.

    Attributes:
        load_bytes: DRAM bytes fetched before each fold (execution order).
        write_bytes: DRAM bytes written after each fold.
        cycles_per_fold: cycles of every fold: the array's schedule, or longer when the SRAM
            tier's bandwidth cannot feed it (``sram_fold_cycles``).
        array_cycles_per_fold: the array's own schedule (``2R + C + T - 2``).
        counts: the layer's analytical counts (``OUT_FIELDS`` without timing).
    """

    load_bytes: np.ndarray
    write_bytes: np.ndarray
    cycles_per_fold: int
    counts: dict[str, float]
    array_cycles_per_fold: int = 0


def fold_schedule(layer: Layer, dataflow: Dataflow, acc: Accelerator) -> FoldSchedule:
    """Per-fold DRAM traffic and compute of a layer with MACs (same kernel as the analytical model)."""
    case = build_case(layer, dataflow, acc)
    sr, sc, t, groups, rows, cols = (int(v) for v in case[:6])
    folds = groups * -(-sr // rows) * -(-sc // cols)
    load, write = np.empty(folds), np.empty(folds)
    out = np.zeros(len(OUT_FIELDS))
    fold_traffic(case, load, write, out)
    counts = dict(zip(OUT_FIELDS, out.tolist()))
    counts.pop("total_cycles")
    per_fold = int(fold_cycles(rows, cols, t))
    return FoldSchedule(load, write, sram_fold_cycles(counts, per_fold, layer, acc), counts, per_fold)


def sram_fold_cycles(counts: dict[str, float], per_fold: int, layer: Layer, acc: Accelerator) -> int:
    """Cycles of one fold when the SRAM tier feeds the array at its bandwidth.

    A fold moves (on average over the layer's folds) its share of the array-side SRAM traffic:
    reads of ifmap, filter and partial sums, writes of outputs and partial sums. It cannot be
    shorter than ``read bytes / read_bw_bytes_per_cycle`` or ``write bytes / write_bw_bytes_per_cycle``
    of the closest SRAM tier; the array's own schedule ``per_fold`` is the floor.
    """
    folds = counts["folds"]
    if folds <= 0:
        return per_fold
    eb_in, eb_w, eb_out = (operand_bytes(b, acc) for b in (layer.input_bits, layer.weight_bits, layer.output_bits))
    read = counts["sram_reads_ifmap"] * eb_in + counts["sram_reads_filter"] * eb_w + counts["sram_reads_ofmap"] * eb_out
    write = counts["sram_writes_ofmap"] * eb_out
    sram = acc.sram
    return max(per_fold, math.ceil(read / folds / sram.read_bw_bytes_per_cycle),
               math.ceil(write / folds / sram.write_bw_bytes_per_cycle))


def core_chunks(folds: int, cores: int) -> list[slice]:
    """Contiguous chunks of ``folds`` folds dealt to ``cores`` arrays (sizes differ by at most one)."""
    base, extra = divmod(folds, cores)
    out, start = [], 0
    for c in range(cores):
        size = base + (1 if c < extra else 0)
        out.append(slice(start, start + size))
        start += size
    return out


def timed_counts(sched: FoldSchedule, acc: Accelerator) -> dict[str, float]:
    """A fold schedule's counts with ``total_cycles`` and ``compute_cycles`` on ``acc``'s cores.

    The layer's folds are dealt to ``acc.cores`` arrays in contiguous chunks (as the event engine
    does); each chunk runs its double-buffered fold sequence with the whole off-chip link (no
    contention: the event fidelity adds that). The layer takes as long as its slowest chunk plus
    the SRAM tier's latency once (the first operands' read; later reads are issued during the
    previous fold). ``compute_cycles`` is the array cycles of the chunk that finishes last (the
    first of them on a tie, as the event engine's critical core).
    """
    dram = acc.dram
    n = sched.load_bytes.shape[0]
    total = 0
    critical = 0
    for s in core_chunks(n, acc.cores):
        if s.stop <= s.start:
            continue
        end = int(double_buffer_cycles(sched.load_bytes[s], sched.write_bytes[s], sched.cycles_per_fold,
                                       float(dram.read_bw_bytes_per_cycle), float(dram.write_bw_bytes_per_cycle),
                                       dram.latency_cycles))
        if end > total:
            total, critical = end, s.stop - s.start
    counts = dict(sched.counts)
    counts["compute_cycles"] = critical * sched.array_cycles_per_fold
    counts["total_cycles"] = total + acc.sram.latency_cycles
    return counts


def vector_layer_row(layer: Layer, acc: Accelerator) -> dict[str, float]:
    """A layer without MACs: read inputs, ``cols`` operations per cycle, write outputs."""
    compute = math.ceil(layer.ops / acc.array.cols)
    read_bytes = layer.input_elems * operand_bytes(layer.input_bits, acc)
    write_bytes = layer.output_elems * operand_bytes(layer.output_bits, acc)
    dram = acc.dram
    load = math.ceil(read_bytes / dram.read_bw_bytes_per_cycle)
    store = math.ceil(write_bytes / dram.write_bw_bytes_per_cycle)
    total = max(compute, load + store) + 2 * dram.latency_cycles
    return {"compute_cycles": compute, "total_cycles": total, "folds": 0, "mapping_efficiency": 0.0,
            "sram_reads_ifmap": layer.input_elems, "sram_reads_filter": 0, "sram_writes_ofmap": layer.output_elems,
            "sram_reads_ofmap": 0, "dram_reads_ifmap": layer.input_elems, "dram_reads_filter": 0,
            "dram_writes_ofmap": layer.output_elems, "dram_reads_ofmap": 0}


def analytical_counts(network: Network, acc: Accelerator, dataflows: list[Dataflow]
                      ) -> dict[tuple[str, str], dict[str, float]]:
    """The kernel's ``OUT_FIELDS`` for every (dataflow name, layer name) of the layers with MACs,
    all evaluated in one batched call."""
    mac_layers = [layer for layer in network.layers if layer.has_weights]
    cases = np.stack([build_case(layer, df, acc) for df in dataflows for layer in mac_layers]) \
        if mac_layers else np.zeros((0, len(CASE_FIELDS)), dtype=np.int64)
    out = run_cases(cases, acc)
    keys = [(df.name, layer.name) for df in dataflows for layer in mac_layers]
    results = {key: dict(zip(OUT_FIELDS, row.tolist())) for key, row in zip(keys, out)}
    # the batched kernel times one array fed at full SRAM speed; retime the other cases
    flows = {df.name: df for df in dataflows}
    by_name = {layer.name: layer for layer in mac_layers}
    for (flow, name), counts in results.items():
        layer = by_name[name]
        per_fold = counts["compute_cycles"] / counts["folds"] if counts["folds"] else 0
        if acc.cores > 1 or sram_fold_cycles(counts, int(per_fold), layer, acc) > per_fold:
            results[(flow, name)] = timed_counts(fold_schedule(layer, flows[flow], acc), acc)
        else:
            counts["total_cycles"] += acc.sram.latency_cycles
    return results


def systolic_table(network: Network, acc: Accelerator, dataflows: list[Dataflow]) -> pd.DataFrame:
    """Per-layer analytical results, one row per (dataflow, layer), dataflow-major."""
    results = analytical_counts(network, acc, dataflows)
    rows = []
    for df in dataflows:
        for layer in network.layers:
            r = results.get((df.name, layer.name)) or vector_layer_row(layer, acc)
            rows.append(finish_row(layer, df.name, r, acc))
    return pd.DataFrame(rows)


def finish_row(layer: Layer, dataflow: str, r: dict[str, float], acc: Accelerator) -> dict[str, object]:
    """Add derived columns: stalls, utilisation, bytes, energy and latency."""
    pes = acc.array.pes * acc.cores
    eb_in, eb_w, eb_out = (operand_bytes(b, acc) for b in (layer.input_bits, layer.weight_bits, layer.output_bits))
    total, compute = int(r["total_cycles"]), int(r["compute_cycles"])
    sram_read_bytes = r["sram_reads_ifmap"] * eb_in + r["sram_reads_filter"] * eb_w + r["sram_reads_ofmap"] * eb_out
    sram_write_bytes = r["sram_writes_ofmap"] * eb_out
    dram_read_bytes = r["dram_reads_ifmap"] * eb_in + r["dram_reads_filter"] * eb_w + r["dram_reads_ofmap"] * eb_out
    dram_write_bytes = r["dram_writes_ofmap"] * eb_out
    sram, dram = acc.sram, acc.dram
    # SRAM energy: array-side traffic, plus filling from DRAM (writes) and draining to DRAM (reads)
    e_sram = (sram_read_bytes + dram_write_bytes) * sram.read_energy_pj_per_byte \
        + (sram_write_bytes + dram_read_bytes) * sram.write_energy_pj_per_byte
    e_dram = dram_read_bytes * dram.read_energy_pj_per_byte + dram_write_bytes * dram.write_energy_pj_per_byte
    e_mac = layer.macs * acc.array.mac_energy_pj
    row: dict[str, object] = {
        "layer": layer.name, "op": layer.op, "dataflow": dataflow, "macs": layer.macs,
        "total_cycles": total, "compute_cycles": compute, "stall_cycles": total - compute,
        "folds": int(r["folds"]), "mapping_efficiency": float(r["mapping_efficiency"]),
        "compute_utilization": layer.macs / (compute * pes) if compute else 0.0,
        "utilization": layer.macs / (total * pes) if total else 0.0,
    }
    for key in ("sram_reads_ifmap", "sram_reads_filter", "sram_writes_ofmap", "sram_reads_ofmap",
                "dram_reads_ifmap", "dram_reads_filter", "dram_writes_ofmap", "dram_reads_ofmap"):
        row[key] = int(r[key])
    row.update({
        "sram_bytes": int(sram_read_bytes + sram_write_bytes), "dram_bytes": int(dram_read_bytes + dram_write_bytes),
        "energy_mac_pj": e_mac, "energy_sram_pj": e_sram, "energy_dram_pj": e_dram,
        "energy_pj": e_mac + e_sram + e_dram, "latency_us": total / acc.clock_mhz,
    })
    return row


def energy_pj_array(counts: np.ndarray, elem_bytes: np.ndarray, macs: np.ndarray, acc: Accelerator) -> np.ndarray:
    """Energy (pJ) of each row of ``counts`` (``OUT_FIELDS`` columns): the array form of ``finish_row``'s
    energy, for callers that evaluate many designs without building rows.

    Args:
        counts: float64[n, len(OUT_FIELDS)] kernel outputs (or vector-layer rows in the same columns).
        elem_bytes: int[n, 3] bytes per ifmap, filter and ofmap element.
        macs: int[n] MACs of each layer.
        acc: the accelerator (SRAM/DRAM energy per byte, MAC energy).
    """
    eb_in, eb_w, eb_out = elem_bytes[:, 0], elem_bytes[:, 1], elem_bytes[:, 2]
    sram_read = counts[:, 4] * eb_in + counts[:, 5] * eb_w + counts[:, 7] * eb_out
    sram_write = counts[:, 6] * eb_out
    dram_read = counts[:, 8] * eb_in + counts[:, 9] * eb_w + counts[:, 11] * eb_out
    dram_write = counts[:, 10] * eb_out
    sram, dram = acc.sram, acc.dram
    e_sram = (sram_read + dram_write) * sram.read_energy_pj_per_byte \
        + (sram_write + dram_read) * sram.write_energy_pj_per_byte
    e_dram = dram_read * dram.read_energy_pj_per_byte + dram_write * dram.write_energy_pj_per_byte
    return macs * acc.array.mac_energy_pj + e_sram + e_dram


__all__ = ["FoldSchedule", "analytical_counts", "build_case", "core_chunks", "energy_pj_array", "finish_row",
           "fold_schedule", "operand_bytes", "run_cases", "sram_fold_cycles", "systolic_table", "timed_counts",
           "vector_layer_row"]
