"""The analytical systolic model over designs x layers: the drivers of its rules.

Every rule (a layer's counts and time, SRAM pacing, cores, layers without MACs, energy) is a numba
kernel over rows of (design, layer) in ``simulator.systolic.layer_kernels``; this module lowers a
network once (``network_cases``), pairs it with P designs (``HardwareArrays``) and runs them:

* ``lowered_counts``: (P, lowered layers, ``OUT_FIELDS``) counts and cycles of every layer on every design;
* ``network_layer_arrays``: every per-layer column of ``systolic_table`` as (P, L) arrays (a sweep);
* ``totals_from_arrays`` / ``network_totals``: ``SimResult.totals`` per design, with the same
  group sum as the single-design path (``result.segment_sums``), so a sweep's totals equal
  ``acceldse.simulate(...).totals``;
* ``layer_columns`` / ``layer_frame``: the arrays as one table (``model.systolic_columns`` is it for one
  design).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.result import SUM_COLUMNS, Table, segment_sums
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.systolic import jit
from acceldse.simulator.systolic.hardware import HardwareArrays, Hw
from acceldse.simulator.systolic.kernels import COUNT_FIELDS, DATAFLOW_IDS, N_OUT, OUT_FIELDS, Case, Out
from acceldse.simulator.systolic.layer_kernels import N_BYTES, N_CASE, N_VECTOR, Bytes, evaluate_network
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network

if TYPE_CHECKING:
    import pandas as pd


def elem_bytes(bits: int) -> int:
    """Bytes of one element of ``bits`` bits (before widening to the hardware word)."""
    return max(1, -(-bits // 8))


@dataclass(frozen=True)
class NetworkCases:
    """The hardware-independent part of a network under one or more dataflows, identical layers lowered once.

    Attributes:
        mac_cases: (distinct layers with MACs, ``Case``) int64, hardware columns unset, elements not widened.
        vectors: (distinct layers without MACs, ``Vector``) int64.
        lowered: (D x L,) which row of ``mac_cases`` then ``vectors`` (offset by their count) each layer
            under each dataflow is (dataflow-major).
        macs: (D x L,) MACs performed per layer (N:M: on kept weights only).
    """

    mac_cases: np.ndarray
    vectors: np.ndarray
    lowered: np.ndarray
    macs: np.ndarray


def sparse_shape(layer: Layer, dataflow: Dataflow) -> tuple[int, int, int]:
    """(Sr, Sc, T) of one group, an N:M layer's reduction axis (C*R*S) compressed to its kept rows.

    The reduction is T on os and Sr on ws and is: the array skips pruned weights. The kept positions
    are the same for every filter (the first N of every M along C*R*S, as SCALE-Sim 3.0.0's
    non-optimized mapping prunes them), so on is the stationary input window loses the pruned rows
    too -- SCALE-Sim's os and is run exactly the dense GEMM over the kept rows."""
    sr, sc, t = dataflow.operand_shape(layer)
    if not layer.is_weight_sparse:
        return sr, sc, t
    if dataflow.name == "os":
        return sr, sc, layer.reduction_kept
    return layer.reduction_kept, sc, t


def _lower_mac(layer: Layer) -> list[int]:
    """A layer with MACs as a ``Case`` row without its shape, dataflow and hardware columns (N:M
    sparsity: its kept reduction rows, metadata bits and ratio)."""
    eb_in, eb_w, eb_out = elem_bytes(layer.input_bits), elem_bytes(layer.weight_bits), elem_bytes(layer.output_bits)
    case = [0] * N_CASE
    case[Case.GROUPS], case[Case.MACS] = layer.G, layer.macs_performed
    case[Case.IN_BYTES_UNIQUE] = layer.input_touched_elems // layer.G * eb_in  # one group
    case[Case.W_BYTES_UNIQUE] = layer.K * layer.reduction_kept * eb_w
    case[Case.IN_ELEM_BYTES], case[Case.W_ELEM_BYTES], case[Case.OUT_ELEM_BYTES] = eb_in, eb_w, eb_out
    if layer.is_weight_sparse:
        case[Case.W_META_BITS], case[Case.NM_N], case[Case.NM_M] = layer.weight_metadata_bits, *layer.weight_sparsity
    return case


def _shaped(case: list[int], layer: Layer, dataflow: Dataflow) -> tuple[int, ...]:
    """``case`` (``_lower_mac``) with its operand-matrix shape and dataflow under ``dataflow``."""
    row = case.copy()
    row[Case.SR], row[Case.SC], row[Case.T] = sparse_shape(layer, dataflow)
    row[Case.DATAFLOW] = DATAFLOW_IDS[dataflow.name]
    return tuple(row)


def lower_layer(layer: Layer, dataflow: Dataflow) -> np.ndarray:
    """A layer with MACs as a kernel case (``Case``) without its hardware columns."""
    return np.array(_shaped(_lower_mac(layer), layer, dataflow), dtype=np.int64)


def vector_row(layer: Layer) -> tuple[int, ...]:
    """A layer without MACs as a ``Vector`` row."""
    return layer.ops, layer.input_elems, layer.output_elems, elem_bytes(layer.input_bits), elem_bytes(layer.output_bits)


def network_cases(network: Network | Sequence[Layer], dataflows: Dataflow | Sequence[Dataflow]) -> NetworkCases:
    """Lower every layer (of a network, or a list of layers) once under each of ``dataflows`` (rows
    dataflow-major): shape, unique bytes, element sizes; independent of the hardware. Identical rows
    share one lowered row (layers without MACs: one for every dataflow)."""
    layers = network.layers if isinstance(network, Network) else tuple(network)
    flows = [dataflows] if isinstance(dataflows, Dataflow) else list(dataflows)
    macs: dict[int, list[int]] = {i: _lower_mac(x) for i, x in enumerate(layers) if x.has_weights}
    cases: dict[tuple[int, ...], int] = {}
    vectors: dict[tuple[int, ...], int] = {}
    vector_of = [-1 if i in macs else vectors.setdefault(vector_row(x), len(vectors)) for i, x in enumerate(layers)]
    lowered = [cases.setdefault(_shaped(macs[i], x, df), len(cases)) if i in macs else -1 - vector_of[i]
               for df in flows for i, x in enumerate(layers)]
    m = len(cases)
    return NetworkCases(
        mac_cases=np.array(list(cases), dtype=np.int64).reshape(m, N_CASE),
        vectors=np.array(list(vectors), dtype=np.int64).reshape(-1, N_VECTOR),
        lowered=np.array([j if j >= 0 else m - 1 - j for j in lowered], dtype=np.int64),
        macs=np.tile(np.array([x.macs_performed for x in layers], dtype=np.int64), len(flows)))


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


def lowered_counts(nc: NetworkCases, hw: HardwareArrays) -> tuple[np.ndarray, np.ndarray]:
    """(P, distinct layers, ``Out``) counts and (P, distinct layers, ``Bytes``) energy of every lowered
    layer (``nc.lowered`` picks each layer's row) on every design; identical designs run once."""
    matrix = hw.matrix
    inverse = None
    if len(matrix) > 1:
        unique, inverse = unique_rows(np.ascontiguousarray(matrix).view(np.int64))
        matrix = unique.view(np.float64)
    n = len(nc.mac_cases) + len(nc.vectors)
    counts = np.zeros((len(matrix), n, N_OUT))
    energy = np.zeros((len(matrix), n, N_BYTES))
    if (matrix[:, Hw.CORES] == 1).all() and jit.worth_interpreting(len(matrix) * n):
        with jit.interpreted():  # cheaper than loading numba (one core: time independent of the folds)
            evaluate_network(nc.mac_cases, nc.vectors, matrix, counts, energy)
    else:
        evaluate_network(nc.mac_cases, nc.vectors, matrix, counts, energy)
    if inverse is not None:
        counts, energy = counts[inverse], energy[inverse]
    return counts, energy


def finish(counts: np.ndarray, energy: np.ndarray, macs: np.ndarray, hw: HardwareArrays) -> dict[str, np.ndarray]:
    """Every per-layer column of ``systolic_table`` from (P, L, ``Out``) ``counts``, (P, L, ``Bytes``)
    ``energy`` and (L,) ``macs``: name -> (P, L) array."""
    total = counts[:, :, Out.TOTAL_CYCLES].astype(np.int64)
    compute = counts[:, :, Out.COMPUTE_CYCLES].astype(np.int64)
    layers: dict[str, np.ndarray] = {
        "macs": np.broadcast_to(macs, total.shape), "total_cycles": total, "compute_cycles": compute,
        "stall_cycles": total - compute, "folds": counts[:, :, Out.FOLDS].astype(np.int64),
        "mapping_efficiency": counts[:, :, Out.MAPPING_EFFICIENCY],
    }
    for key in COUNT_FIELDS:
        layers[key] = counts[:, :, OUT_FIELDS.index(key)].astype(np.int64)
    # N:M ifmap reads on ws (M/N per kept row) sum to a float: rounded (dense counts are integers already)
    layers["sram_reads_ifmap"] = np.rint(counts[:, :, Out.SRAM_READS_IFMAP]).astype(np.int64)
    e_mac, e_sram, e_dram = (energy[:, :, k] for k in (Bytes.ENERGY_MAC_PJ, Bytes.ENERGY_SRAM_PJ,
                                                       Bytes.ENERGY_DRAM_PJ))
    layers.update({
        "sram_bytes": energy[:, :, Bytes.SRAM_BYTES].astype(np.int64),
        "dram_bytes": energy[:, :, Bytes.DRAM_BYTES].astype(np.int64),
        "energy_mac_pj": e_mac, "energy_sram_pj": e_sram, "energy_dram_pj": e_dram,
        "energy_pj": e_mac + e_sram + e_dram, "latency_us": total / hw.clock_mhz[:, None],
    })
    layers["pes"], layers["area_mm2"] = hw.pes, hw.area_mm2
    return layers


Designs = Sequence[Accelerator] | HardwareArrays
"""Accelerators, or their ``HardwareArrays`` (what a sweep ships to its workers: no objects to pickle)."""


def hardware_arrays(accs: Designs) -> HardwareArrays:
    """The ``HardwareArrays`` of ``accs`` (returned as is when it already is one)."""
    return accs if isinstance(accs, HardwareArrays) else HardwareArrays.of(accs)


def network_layer_arrays(network: Network, accs: Designs, dataflow: Dataflow,
                         cases: NetworkCases | None = None) -> dict[str, np.ndarray]:
    """Every per-layer column of ``systolic_table`` for each accelerator: name -> (P, L) array.

    Integer columns are int64, the rest float64; values equal ``systolic_table``'s row by row.
    """
    nc = cases or network_cases(network, dataflow)
    hw = hardware_arrays(accs)
    counts, energy = lowered_counts(nc, hw)
    return finish(counts[:, nc.lowered], energy[:, nc.lowered], nc.macs, hw)


TOTAL_COLUMNS = (*SUM_COLUMNS, "utilization", "compute_utilization", "area_mm2")
"""The numeric columns of ``SimResult.totals`` (besides ``dataflow``), in its order."""


def network_totals(network: Network, accs: Designs, dataflow: Dataflow,
                   cases: NetworkCases | None = None) -> pd.DataFrame:
    """``SimResult.totals`` of the analytical model for each accelerator: one row per accelerator.

    The sums run through the same group sum as ``SimResult.totals`` (one group per accelerator,
    layers in network order), so every value is bit-identical to
    ``acceldse.simulate(network, acc, dataflow).totals``.
    """
    return totals_from_arrays(network_layer_arrays(network, accs, dataflow, cases))


def totals_from_arrays(arr: dict[str, np.ndarray]) -> pd.DataFrame:
    """Reduce ``network_layer_arrays`` to the totals columns, one row per accelerator."""
    import pandas as pd

    p, n_layers = arr["total_cycles"].shape
    starts = np.arange(p) * n_layers
    totals = {c: segment_sums(np.ascontiguousarray(arr[c]).ravel(), starts) for c in SUM_COLUMNS}
    pes = arr["pes"]
    totals["utilization"] = totals["macs"] / (totals["total_cycles"] * pes)
    totals["compute_utilization"] = totals["macs"] / (totals["compute_cycles"] * pes)
    totals["area_mm2"] = arr["area_mm2"]
    return pd.DataFrame(totals)


LAYER_COLUMNS = ("macs", "total_cycles", "compute_cycles", "stall_cycles", "folds", "mapping_efficiency",
                 "compute_utilization", "utilization", *COUNT_FIELDS, "sram_bytes", "dram_bytes", "energy_mac_pj",
                 "energy_sram_pj", "energy_dram_pj", "energy_pj", "latency_us")
"""The numeric per-layer columns of ``systolic_table`` (after ``layer``, ``op``, ``dataflow``)."""


def utilization(arr: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``compute_utilization`` and ``utilization`` of (P, L) arrays: MACs over PE-cycles (0 without cycles)."""
    macs, pes = arr["macs"], arr["pes"][:, None]
    return {key: np.divide(macs, arr[cycles] * pes, out=np.zeros(arr[cycles].shape), where=arr[cycles] > 0)
            for key, cycles in (("compute_utilization", "compute_cycles"), ("utilization", "total_cycles"))}


def layer_columns(network: Network, arr: dict[str, np.ndarray], dataflow: str, *, design: bool = True) -> Table:
    """``network_layer_arrays`` as one table: ``design`` (accelerator index; without it if not
    ``design``), ``layer``, ``op``, ``dataflow`` and ``LAYER_COLUMNS``, layers in network order within
    each design."""
    p, n_layers = arr["total_cycles"].shape
    derived = utilization(arr)
    columns = Table(design=np.repeat(np.arange(p), n_layers)) if design else Table()
    columns["layer"] = np.tile([x.name for x in network.layers], p)
    columns["op"] = np.tile([x.op for x in network.layers], p)
    columns["dataflow"] = np.full(p * n_layers, dataflow)
    for c in LAYER_COLUMNS:
        columns[c] = np.ascontiguousarray(derived[c] if c in derived else arr[c]).ravel()
    return columns


def layer_frame(network: Network, arr: dict[str, np.ndarray], dataflow: str) -> pd.DataFrame:
    """``layer_columns`` as a DataFrame."""
    return layer_columns(network, arr, dataflow).frame()


__all__ = ["LAYER_COLUMNS", "TOTAL_COLUMNS", "Designs", "NetworkCases", "elem_bytes", "finish", "hardware_arrays",
           "layer_columns", "layer_frame", "lower_layer", "lowered_counts",
           "network_cases", "network_layer_arrays", "network_totals", "sparse_shape", "totals_from_arrays",
           "utilization", "vector_row"]
