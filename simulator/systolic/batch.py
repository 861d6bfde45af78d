"""The analytical model over many accelerators at once: per-layer arrays, no DataFrame per design.

``network_layer_arrays(network, accs, dataflow)`` evaluates one network on P accelerators
(one numba call per distinct DRAM bandwidth, identical cases evaluated once) and returns
every per-layer column of ``systolic_table`` as a (P, L) array, layers in network order.
``network_totals`` reduces them to the columns of ``SimResult.totals`` (one value per
accelerator), with the same pandas group-sum the single-design path uses, so a sweep's
totals equal ``acceldse.simulate(...).totals`` exactly. Sweeps and design environments use
this instead of building one ``SimResult`` per design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dataflows.dataflow import Dataflow
from simulator.result import SUM_COLUMNS
from simulator.specs.accelerator import Accelerator
from simulator.systolic.kernels import CASE_FIELDS, DATAFLOW_IDS, OUT_FIELDS, evaluate_cases_runs
from simulator.systolic.model import elem_bytes
from workloads.network import Network

_COUNT_FIELDS = ("sram_reads_ifmap", "sram_reads_filter", "sram_writes_ofmap", "sram_reads_ofmap",
                 "dram_reads_ifmap", "dram_reads_filter", "dram_writes_ofmap", "dram_reads_ofmap")


@dataclass(frozen=True)
class NetworkCases:
    """The accelerator-independent part of a network's kernel cases under one dataflow.

    Attributes:
        mac_index: positions (in ``network.layers``) of the layers with MACs.
        base: (layers with MACs, len(CASE_FIELDS)) int64 cases with the array/buffer columns unset.
        macs, ops, input_elems, output_elems, input_bytes, output_bytes: per layer (all layers).
        eb_in, eb_w, eb_out: element bytes per layer (all layers).
    """

    mac_index: np.ndarray
    base: np.ndarray
    macs: np.ndarray
    ops: np.ndarray
    input_elems: np.ndarray
    output_elems: np.ndarray
    input_bytes: np.ndarray
    output_bytes: np.ndarray
    eb_in: np.ndarray
    eb_w: np.ndarray
    eb_out: np.ndarray


_ACC_FIELDS = ("rows", "cols", "in_cap_bytes", "w_cap_bytes", "out_cap_bytes", "dram_latency_cycles")
_ACC_COLS = np.array([CASE_FIELDS.index(f) for f in _ACC_FIELDS])


def network_cases(network: Network, dataflow: Dataflow) -> NetworkCases:
    """Lower every layer with MACs once (shape, unique bytes, element sizes); independent of the hardware."""
    layers = network.layers
    mac_index = np.array([i for i, layer in enumerate(layers) if layer.has_weights], dtype=np.int64)
    base = np.zeros((len(mac_index), len(CASE_FIELDS)), dtype=np.int64)
    for row, i in enumerate(mac_index):
        layer = layers[i]
        sr, sc, t = dataflow.operand_shape(layer)
        values = {"sr": sr, "sc": sc, "t": t, "groups": layer.G, "dataflow": DATAFLOW_IDS[dataflow.name],
                  "in_bytes_unique": layer.input_touched_elems // layer.G * elem_bytes(layer.input_bits),
                  "w_bytes_unique": layer.K * layer.C * layer.R * layer.S * elem_bytes(layer.weight_bits),
                  "in_elem_bytes": elem_bytes(layer.input_bits), "w_elem_bytes": elem_bytes(layer.weight_bits),
                  "out_elem_bytes": elem_bytes(layer.output_bits), "macs": layer.macs}
        for key, value in values.items():
            base[row, CASE_FIELDS.index(key)] = value

    def per_layer(fn: object) -> np.ndarray:
        return np.array([fn(layer) for layer in layers], dtype=np.int64)  # type: ignore[operator]

    return NetworkCases(
        mac_index=mac_index, base=base, macs=per_layer(lambda x: x.macs), ops=per_layer(lambda x: x.ops),
        input_elems=per_layer(lambda x: x.input_elems), output_elems=per_layer(lambda x: x.output_elems),
        input_bytes=per_layer(lambda x: x.input_bytes), output_bytes=per_layer(lambda x: x.output_bytes),
        eb_in=per_layer(lambda x: elem_bytes(x.input_bits)), eb_w=per_layer(lambda x: elem_bytes(x.weight_bits)),
        eb_out=per_layer(lambda x: elem_bytes(x.output_bits)))


_HW_FIELDS = ("rows", "cols", "in_cap_bytes", "w_cap_bytes", "out_cap_bytes", "dram_latency_cycles", "pes",
              "read_bw", "write_bw", "sram_read_pj", "sram_write_pj", "dram_read_pj", "dram_write_pj", "mac_pj",
              "clock_mhz", "area_mm2")
_HW_INTS = 7  # the first seven fields are integers


def _hw_row(a: Accelerator) -> tuple[float, ...]:
    sram, dram = a.sram, a.dram
    return (a.array.rows, a.array.cols, sram.partition_bytes("ifmap") // 2, sram.partition_bytes("filter") // 2,
            sram.partition_bytes("ofmap") // 2, dram.latency_cycles, a.array.pes,
            dram.read_bw_bytes_per_cycle, dram.write_bw_bytes_per_cycle, sram.read_energy_pj_per_byte,
            sram.write_energy_pj_per_byte, dram.read_energy_pj_per_byte, dram.write_energy_pj_per_byte,
            a.array.mac_energy_pj, a.clock_mhz, a.area_mm2)


def hardware_arrays(accs: Sequence[Accelerator]) -> dict[str, np.ndarray]:
    """The fields of each accelerator the analytical model reads, one entry per accelerator."""
    rows = [_hw_row(a) for a in accs]
    ints = np.array([r[:_HW_INTS] for r in rows], dtype=np.int64).reshape(len(rows), _HW_INTS)
    floats = np.array([r[_HW_INTS:] for r in rows], dtype=np.float64).reshape(len(rows), -1)
    out: dict[str, np.ndarray] = {name: ints[:, i] for i, name in enumerate(_HW_FIELDS[:_HW_INTS])}
    out.update({name: floats[:, i] for i, name in enumerate(_HW_FIELDS[_HW_INTS:])})
    return out


def unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, axis=0, return_inverse=True)`` for int64 rows, in any row order, via a
    64-bit row hash checked exactly (a collision falls back to the sorting version)."""
    mult = np.random.default_rng(12345).integers(1, 2**62, size=keys.shape[1], dtype=np.int64) | 1
    with np.errstate(over="ignore"):
        h = (keys * mult).sum(axis=1)
        h ^= h >> np.int64(29)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not np.array_equal(keys[first][inverse], keys):
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        return unique, inverse.ravel()
    return keys[first], inverse


def _kernel_out(nc: NetworkCases, hw: dict[str, np.ndarray]) -> np.ndarray:
    """(P, layers with MACs, len(OUT_FIELDS)): the kernel on every (accelerator, layer), unique cases once."""
    p, m = len(hw["rows"]), len(nc.mac_index)
    cases = np.broadcast_to(nc.base, (p, m, len(CASE_FIELDS))).copy()
    for j, name in zip(_ACC_COLS, _ACC_FIELDS):
        cases[:, :, j] = hw[name][:, None]
    flat = cases.reshape(p * m, len(CASE_FIELDS))
    bw = np.repeat(np.stack([hw["read_bw"], hw["write_bw"]], axis=1), m, axis=0)
    keyed = np.concatenate([flat, bw.view(np.int64)], axis=1)  # bandwidth bits join the case key
    unique, inverse = unique_rows(keyed)
    out = np.zeros((len(unique), len(OUT_FIELDS)))
    ubw = unique[:, len(CASE_FIELDS):].copy().view(np.float64)
    pairs, group = np.unique(ubw, axis=0, return_inverse=True)
    for g, (read_bw, write_bw) in enumerate(pairs):
        sel = np.flatnonzero(group.ravel() == g)
        part = np.zeros((len(sel), len(OUT_FIELDS)))
        evaluate_cases_runs(np.ascontiguousarray(unique[sel, :len(CASE_FIELDS)]), float(read_bw), float(write_bw),
                            part)
        out[sel] = part
    return out[inverse].reshape(p, m, len(OUT_FIELDS))


Designs = Sequence[Accelerator] | dict[str, np.ndarray]
"""Accelerators, or their ``hardware_arrays`` (what a sweep ships to its workers: no objects to pickle)."""


def network_layer_arrays(network: Network, accs: Designs, dataflow: Dataflow,
                         cases: NetworkCases | None = None) -> dict[str, np.ndarray]:
    """Every per-layer column of ``systolic_table`` for each accelerator: name -> (P, L) array.

    Integer columns are int64, the rest float64; values equal ``systolic_table``'s row by row.
    """
    nc = cases or network_cases(network, dataflow)
    hw = accs if isinstance(accs, dict) else hardware_arrays(accs)
    p, n_layers = len(hw["rows"]), len(network.layers)
    r = {f: np.zeros((p, n_layers)) for f in OUT_FIELDS}
    # layers without MACs: a vector unit as wide as the array, operands streamed through DRAM
    cols, lat = hw["cols"][:, None], hw["dram_latency_cycles"][:, None]
    compute = np.ceil(nc.ops[None, :] / cols)
    load = np.ceil(nc.input_bytes[None, :] / hw["read_bw"][:, None])
    store = np.ceil(nc.output_bytes[None, :] / hw["write_bw"][:, None])
    r["compute_cycles"][:] = compute
    r["total_cycles"][:] = np.maximum(compute, load + store) + 2 * lat
    for key, src in (("sram_reads_ifmap", nc.input_elems), ("sram_writes_ofmap", nc.output_elems),
                     ("dram_reads_ifmap", nc.input_elems), ("dram_writes_ofmap", nc.output_elems)):
        r[key][:] = src[None, :]
    if len(nc.mac_index):
        out = _kernel_out(nc, hw)
        for k, f in enumerate(OUT_FIELDS):
            r[f][:, nc.mac_index] = out[:, :, k]
    return _finish(nc, hw, r)


def _finish(nc: NetworkCases, hw: dict[str, np.ndarray], r: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``model.finish_row`` on arrays, operation for operation (so float results are bit-identical)."""
    eb_in, eb_w, eb_out = nc.eb_in[None, :], nc.eb_w[None, :], nc.eb_out[None, :]
    total, compute = r["total_cycles"].astype(np.int64), r["compute_cycles"].astype(np.int64)
    sram_read = r["sram_reads_ifmap"] * eb_in + r["sram_reads_filter"] * eb_w + r["sram_reads_ofmap"] * eb_out
    sram_write = r["sram_writes_ofmap"] * eb_out
    dram_read = r["dram_reads_ifmap"] * eb_in + r["dram_reads_filter"] * eb_w + r["dram_reads_ofmap"] * eb_out
    dram_write = r["dram_writes_ofmap"] * eb_out
    e_sram = (sram_read + dram_write) * hw["sram_read_pj"][:, None] \
        + (sram_write + dram_read) * hw["sram_write_pj"][:, None]
    e_dram = dram_read * hw["dram_read_pj"][:, None] + dram_write * hw["dram_write_pj"][:, None]
    e_mac = nc.macs[None, :] * hw["mac_pj"][:, None]
    layers: dict[str, np.ndarray] = {
        "macs": np.broadcast_to(nc.macs, total.shape), "total_cycles": total, "compute_cycles": compute,
        "stall_cycles": total - compute, "folds": r["folds"].astype(np.int64),
        "mapping_efficiency": r["mapping_efficiency"],
    }
    for key in _COUNT_FIELDS:
        layers[key] = r[key].astype(np.int64)
    layers.update({
        "sram_bytes": (sram_read + sram_write).astype(np.int64),
        "dram_bytes": (dram_read + dram_write).astype(np.int64),
        "energy_mac_pj": e_mac, "energy_sram_pj": e_sram, "energy_dram_pj": e_dram,
        "energy_pj": e_mac + e_sram + e_dram, "latency_us": total / hw["clock_mhz"][:, None],
    })
    layers["pes"], layers["area_mm2"] = hw["pes"], hw["area_mm2"]
    return layers


TOTAL_COLUMNS = (*SUM_COLUMNS, "utilization", "compute_utilization", "area_mm2")
"""The numeric columns of ``SimResult.totals`` (besides ``dataflow``), in its order."""


def network_totals(network: Network, accs: Designs, dataflow: Dataflow,
                   cases: NetworkCases | None = None) -> pd.DataFrame:
    """``SimResult.totals`` of the analytical model for each accelerator: one row per accelerator.

    The sums run through the same pandas group-sum as ``SimResult.totals`` (one group per
    accelerator, layers in network order), so every value is bit-identical to
    ``acceldse.simulate(network, acc, dataflow).totals``.
    """
    arr = network_layer_arrays(network, accs, dataflow, cases)
    p, n_layers = arr["total_cycles"].shape
    frame = pd.DataFrame({c: np.ascontiguousarray(arr[c]).ravel() for c in SUM_COLUMNS})
    frame["design"] = np.repeat(np.arange(p), n_layers)
    grouped = frame.groupby("design", sort=True)[list(SUM_COLUMNS)].sum()
    pes = arr["pes"]
    grouped["utilization"] = grouped["macs"].to_numpy() / (grouped["total_cycles"].to_numpy() * pes)
    grouped["compute_utilization"] = grouped["macs"].to_numpy() / (grouped["compute_cycles"].to_numpy() * pes)
    grouped["area_mm2"] = arr["area_mm2"]
    return grouped.reset_index(drop=True)


__all__ = ["TOTAL_COLUMNS", "Designs", "NetworkCases", "hardware_arrays", "network_cases", "network_layer_arrays",
           "network_totals"]
