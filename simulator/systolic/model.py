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

from dataflows.dataflow import Dataflow
from simulator.specs.accelerator import Accelerator
from simulator.systolic.kernels import (
    CASE_FIELDS,
    DATAFLOW_IDS,
    OUT_FIELDS,
    evaluate_cases,
    evaluate_cases_runs,
    fold_cycles,
    fold_traffic,
)
from workloads.layer import Layer
from workloads.network import Network


def elem_bytes(bits: int) -> int:
    return max(1, math.ceil(bits / 8))


def build_case(layer: Layer, dataflow: Dataflow, acc: Accelerator) -> np.ndarray:
    """One kernel case: operand-matrix shape, array, unique bytes, buffer halves, latency."""
    sr, sc, t = dataflow.operand_shape(layer)
    sram = acc.sram
    in_unique = layer.input_touched_elems // layer.G * elem_bytes(layer.input_bits)  # one group
    w_unique = layer.K * layer.C * layer.R * layer.S * elem_bytes(layer.weight_bits)
    values = {
        "sr": sr, "sc": sc, "t": t, "groups": layer.G, "rows": acc.array.rows, "cols": acc.array.cols,
        "dataflow": DATAFLOW_IDS[dataflow.name], "in_bytes_unique": in_unique, "w_bytes_unique": w_unique,
        "in_cap_bytes": sram.partition_bytes("ifmap") // 2, "w_cap_bytes": sram.partition_bytes("filter") // 2,
        "out_cap_bytes": sram.partition_bytes("ofmap") // 2, "in_elem_bytes": elem_bytes(layer.input_bits),
        "w_elem_bytes": elem_bytes(layer.weight_bits), "out_elem_bytes": elem_bytes(layer.output_bits),
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
        cycles_per_fold: array cycles of every fold.
        counts: the layer's analytical counts (``OUT_FIELDS`` without timing).
    """

    load_bytes: np.ndarray
    write_bytes: np.ndarray
    cycles_per_fold: int
    counts: dict[str, float]


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
    return FoldSchedule(load, write, int(fold_cycles(int(case[6]), rows, cols, t)), counts)


def vector_layer_row(layer: Layer, acc: Accelerator) -> dict[str, float]:
    """A layer without MACs: read inputs, ``cols`` operations per cycle, write outputs."""
    compute = math.ceil(layer.ops / acc.array.cols)
    read_bytes, write_bytes = layer.input_bytes, layer.output_bytes
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
    return {key: dict(zip(OUT_FIELDS, row.tolist())) for key, row in zip(keys, out)}


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
    pes = acc.array.pes
    eb_in, eb_w, eb_out = elem_bytes(layer.input_bits), elem_bytes(layer.weight_bits), elem_bytes(layer.output_bits)
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


__all__ = ["FoldSchedule", "analytical_counts", "build_case", "energy_pj_array", "finish_row", "fold_schedule",
           "run_cases", "systolic_table", "vector_layer_row"]
