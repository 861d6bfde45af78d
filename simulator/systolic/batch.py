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

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.result import SUM_COLUMNS
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.systolic.kernels import CASE_FIELDS, DATAFLOW_IDS, OUT_FIELDS, evaluate_cases_paced
from acceldse.simulator.systolic.model import check_schedule_size, elem_bytes, fold_schedule, timed_counts
from acceldse.workloads.network import Network

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
              "word_bytes", "cores", "sram_latency_cycles",
              "read_bw", "write_bw", "sram_read_pj", "sram_write_pj", "dram_read_pj", "dram_write_pj", "mac_pj",
              "clock_mhz", "area_mm2", "sram_read_bw", "sram_write_bw")
_HW_INTS = 10  # the first ten fields are integers


def _hw_row(a: Accelerator) -> tuple[float, ...]:
    sram, dram = a.sram, a.dram
    return (a.array.rows, a.array.cols, sram.partition_bytes("ifmap") // 2, sram.partition_bytes("filter") // 2,
            sram.partition_bytes("ofmap") // 2, dram.latency_cycles, a.array.pes * a.cores,
            a.word_bytes, a.cores, sram.latency_cycles,
            dram.read_bw_bytes_per_cycle, dram.write_bw_bytes_per_cycle, sram.read_energy_pj_per_byte,
            sram.write_energy_pj_per_byte, dram.read_energy_pj_per_byte, dram.write_energy_pj_per_byte,
            a.array.mac_energy_pj, a.clock_mhz, a.area_mm2, sram.read_bw_bytes_per_cycle,
            sram.write_bw_bytes_per_cycle)


def _widened(eb: np.ndarray, hw: dict[str, np.ndarray]) -> np.ndarray:
    """(P, L) bytes per operand: each layer's element bytes widened to each accelerator's word."""
    return np.maximum(eb[None, :], hw["word_bytes"][:, None])


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


def _case_matrix(nc: NetworkCases, hw: dict[str, np.ndarray]) -> np.ndarray:
    """(P, layers with MACs, len(CASE_FIELDS)): every (accelerator, layer) kernel case."""
    p, m = len(hw["rows"]), len(nc.mac_index)
    cases = np.broadcast_to(nc.base, (p, m, len(CASE_FIELDS))).copy()
    for j, name in zip(_ACC_COLS, _ACC_FIELDS):
        cases[:, :, j] = hw[name][:, None]
    # operands widened to the hardware word (``model.operand_bytes``): element and unique bytes
    for elem, unique_field in (("in_elem_bytes", "in_bytes_unique"), ("w_elem_bytes", "w_bytes_unique"),
                               ("out_elem_bytes", None)):
        e = CASE_FIELDS.index(elem)
        wide = np.maximum(cases[:, :, e], hw["word_bytes"][:, None])
        if unique_field is not None:
            u = CASE_FIELDS.index(unique_field)
            cases[:, :, u] = cases[:, :, u] // cases[:, :, e] * wide
        cases[:, :, e] = wide
    return cases


def _evaluate(cases: np.ndarray, bw: np.ndarray, pace: np.ndarray) -> np.ndarray:
    """The kernel on rows of ``cases`` with DRAM ``bw`` (read, write) and fold ``pace`` per row;
    identical rows are evaluated once, one kernel call per distinct bandwidth pair."""
    keyed = np.concatenate([cases, bw.view(np.int64), pace[:, None]], axis=1)  # bandwidth bits join the key
    unique, inverse = unique_rows(keyed)
    out = np.zeros((len(unique), len(OUT_FIELDS)))
    n = len(CASE_FIELDS)
    pairs, group = np.unique(unique[:, n:n + 2].copy().view(np.float64), axis=0, return_inverse=True)
    for g, (read_bw, write_bw) in enumerate(pairs):
        sel = np.flatnonzero(group.ravel() == g)
        part = np.zeros((len(sel), len(OUT_FIELDS)))
        evaluate_cases_paced(np.ascontiguousarray(unique[sel, :n]), np.ascontiguousarray(unique[sel, n + 2]),
                             float(read_bw), float(write_bw), part)
        out[sel] = part
    return out[inverse]


def _kernel_out(nc: NetworkCases, hw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(P, layers with MACs, len(OUT_FIELDS)) kernel outputs at the array's own pace, and the cases."""
    cases = _case_matrix(nc, hw)
    p, m = cases.shape[:2]
    bw = np.repeat(np.stack([hw["read_bw"], hw["write_bw"]], axis=1), m, axis=0)
    out = _evaluate(cases.reshape(p * m, -1), bw, np.zeros(p * m, dtype=np.int64))
    return out.reshape(p, m, len(OUT_FIELDS)), cases


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
    load = np.ceil(nc.input_elems[None, :] * _widened(nc.eb_in, hw) / hw["read_bw"][:, None])
    store = np.ceil(nc.output_elems[None, :] * _widened(nc.eb_out, hw) / hw["write_bw"][:, None])
    r["compute_cycles"][:] = compute
    r["total_cycles"][:] = np.maximum(compute, load + store) + 2 * lat
    for key, src in (("sram_reads_ifmap", nc.input_elems), ("sram_writes_ofmap", nc.output_elems),
                     ("dram_reads_ifmap", nc.input_elems), ("dram_writes_ofmap", nc.output_elems)):
        r[key][:] = src[None, :]
    if len(nc.mac_index):
        out, matrix = _kernel_out(nc, hw)
        for k, f in enumerate(OUT_FIELDS):
            r[f][:, nc.mac_index] = out[:, :, k]
        _retime(network, accs, dataflow, nc, hw, r, matrix)
    return _finish(nc, hw, r)


def _retime(network: Network, accs: Designs, dataflow: Dataflow, nc: NetworkCases,
            hw: dict[str, np.ndarray], r: dict[str, np.ndarray], cases: np.ndarray) -> None:
    """What ``model.analytical_counts`` adds to the kernel's one-array timing: the SRAM tier's latency
    on every MAC layer; layers the SRAM tier cannot feed at the array's pace run again with each fold
    lasting ``model.sram_fold_cycles`` (``evaluate_cases_paced``: ``timed_counts`` on one core); and
    the exact ``timed_counts`` for multi-core accelerators (one by one)."""
    idx = nc.mac_index
    folds = np.maximum(r["folds"][:, idx], 1)
    per_fold = r["compute_cycles"][:, idx] / folds
    eb_in, eb_w, eb_out = (_widened(e, hw)[:, idx] for e in (nc.eb_in, nc.eb_w, nc.eb_out))
    read = r["sram_reads_ifmap"][:, idx] * eb_in + r["sram_reads_filter"][:, idx] * eb_w \
        + r["sram_reads_ofmap"][:, idx] * eb_out
    write = r["sram_writes_ofmap"][:, idx] * eb_out
    pace = np.maximum(np.ceil(read / folds / hw["sram_read_bw"][:, None]),
                      np.ceil(write / folds / hw["sram_write_bw"][:, None]))
    multi = np.broadcast_to(hw["cores"][:, None] > 1, pace.shape)
    sram_bound = (pace > per_fold) & ~multi
    total = r["total_cycles"][:, idx]
    if sram_bound.any():
        p_i, j_i = np.nonzero(sram_bound)
        bw = np.stack([hw["read_bw"][p_i], hw["write_bw"][p_i]], axis=1)
        total[p_i, j_i] = _evaluate(cases[p_i, j_i], bw, pace[p_i, j_i].astype(np.int64))[:, 1]
    total += np.where(multi, 0, hw["sram_latency_cycles"][:, None])
    if multi.any() and isinstance(accs, dict):
        raise RuntimeError("multi-core accelerators need the Accelerator objects, not their arrays")
    for p, j in zip(*np.nonzero(multi)):
        assert not isinstance(accs, dict)
        layer = network.layers[int(idx[j])]
        check_schedule_size(layer, int(r["folds"][p, idx[j]]))
        timed = timed_counts(fold_schedule(layer, dataflow, accs[p]), accs[p])
        total[p, j], r["compute_cycles"][p, idx[j]] = timed["total_cycles"], timed["compute_cycles"]
    r["total_cycles"][:, idx] = total


def _finish(nc: NetworkCases, hw: dict[str, np.ndarray], r: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``model.finish_row`` on arrays, operation for operation (so float results are bit-identical)."""
    eb_in, eb_w, eb_out = _widened(nc.eb_in, hw), _widened(nc.eb_w, hw), _widened(nc.eb_out, hw)
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
    return totals_from_arrays(network_layer_arrays(network, accs, dataflow, cases))


def totals_from_arrays(arr: dict[str, np.ndarray]) -> pd.DataFrame:
    """Reduce ``network_layer_arrays`` to the totals columns, one row per accelerator."""
    p, n_layers = arr["total_cycles"].shape
    frame = pd.DataFrame({c: np.ascontiguousarray(arr[c]).ravel() for c in SUM_COLUMNS})
    frame["design"] = np.repeat(np.arange(p), n_layers)
    grouped = frame.groupby("design", sort=True)[list(SUM_COLUMNS)].sum()
    pes = arr["pes"]
    grouped["utilization"] = grouped["macs"].to_numpy() / (grouped["total_cycles"].to_numpy() * pes)
    grouped["compute_utilization"] = grouped["macs"].to_numpy() / (grouped["compute_cycles"].to_numpy() * pes)
    grouped["area_mm2"] = arr["area_mm2"]
    return grouped.reset_index(drop=True)


LAYER_COLUMNS = ("macs", "total_cycles", "compute_cycles", "stall_cycles", "folds", "mapping_efficiency",
                 "compute_utilization", "utilization", *_COUNT_FIELDS, "sram_bytes", "dram_bytes", "energy_mac_pj",
                 "energy_sram_pj", "energy_dram_pj", "energy_pj", "latency_us")
"""The numeric per-layer columns of ``systolic_table`` (after ``layer``, ``op``, ``dataflow``)."""


def layer_frame(network: Network, arr: dict[str, np.ndarray], dataflow: str) -> pd.DataFrame:
    """``network_layer_arrays`` as one table: ``design`` (accelerator index), ``layer``, ``op``,
    ``dataflow`` and ``LAYER_COLUMNS``, layers in network order within each design."""
    p, n_layers = arr["total_cycles"].shape
    macs, pes = arr["macs"], arr["pes"][:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = {"compute_utilization": np.where(arr["compute_cycles"] > 0,
                                                   macs / (arr["compute_cycles"] * pes), 0.0),
                   "utilization": np.where(arr["total_cycles"] > 0, macs / (arr["total_cycles"] * pes), 0.0)}
    columns: dict[str, object] = {
        "design": np.repeat(np.arange(p), n_layers), "layer": np.tile([x.name for x in network.layers], p),
        "op": np.tile([x.op for x in network.layers], p), "dataflow": dataflow}
    for c in LAYER_COLUMNS:
        columns[c] = np.ascontiguousarray(derived[c] if c in derived else arr[c]).ravel()
    return pd.DataFrame(columns)


__all__ = ["LAYER_COLUMNS", "TOTAL_COLUMNS", "Designs", "NetworkCases", "hardware_arrays", "layer_frame",
           "network_cases", "network_layer_arrays", "network_totals", "totals_from_arrays"]
