"""Analytical fidelity for systolic arrays on one design, and the per-layer pieces other fidelities share.

``systolic_columns(network, accelerator, dataflows)`` returns the per-layer table (columns in
``simulator.result.COLUMNS``; ``systolic_table`` as a DataFrame): the designs x layers model of
``simulator.systolic.batch`` on one design. Layers with MACs go through the numba kernels of
``simulator.systolic.layer_kernels``; pooling and elementwise layers (no MACs) run on a vector unit as
wide as the array's columns and stream their operands through DRAM. The event, cycle and SCALE-Sim
fidelities reuse one layer's fold sequence (``fold_schedule``), its vector-unit row and its derived
columns (``finish_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.result import Table
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.systolic.batch import (
    LAYER_COLUMNS,
    elem_bytes,
    finish,
    layer_columns,
    lower_layer,
    lowered_counts,
    network_cases,
    network_layer_arrays,
    utilization,
    vector_row,
)
from acceldse.simulator.systolic.hardware import HardwareArrays, hardware_row
from acceldse.simulator.systolic.kernels import N_OUT, OUT_FIELDS
from acceldse.simulator.systolic.layer_kernels import (
    N_BYTES,
    N_CASE,
    case_fold_counts,
    chunk_start,
    fill_case,
    fold_schedules,
    layer_energy,
    vector_layer,
)
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network

if TYPE_CHECKING:
    import pandas as pd


def operand_bytes(bits: int, acc: Accelerator) -> int:
    """Bytes one operand of ``bits`` occupies on ``acc``: the layer's precision widened to the
    hardware word (``word_bytes``), as stored in the SRAM and moved over every link."""
    return max(acc.word_bytes, elem_bytes(bits))


def _hw_row(acc: Accelerator, hw: HardwareArrays | None) -> np.ndarray:
    """``acc``'s hardware columns: ``hw`` (``HardwareArrays.of([acc])``, made once by a caller running many
    layers) or made now."""
    return hw.matrix[0] if hw is not None else np.array(hardware_row(acc, area=False), dtype=np.float64)


def build_case(layer: Layer, dataflow: Dataflow, acc: Accelerator, hw: HardwareArrays | None = None) -> np.ndarray:
    """One kernel case (``kernels.Case``): operand-matrix shape, array, unique bytes, buffer halves, latency."""
    case = np.empty(N_CASE, dtype=np.int64)
    fill_case(lower_layer(layer, dataflow), _hw_row(acc, hw), case)
    return case


@dataclass(frozen=True)
class FoldSchedule:
    """The fold sequence of one layer: what the analytical model and the event engine both run.

    Attributes:
        load_bytes: DRAM bytes fetched before each fold (execution order).
        write_bytes: DRAM bytes written after each fold.
        cycles_per_fold: cycles of every fold: the array's schedule, or longer when the SRAM
            tier's bandwidth cannot feed it (``layer_kernels.sram_pace``).
        array_cycles_per_fold: the array's own schedule (``2R + C + T - 2``).
        counts: the layer's analytical counts (``OUT_FIELDS`` without timing).
    """

    load_bytes: np.ndarray
    write_bytes: np.ndarray
    cycles_per_fold: int
    counts: dict[str, float]
    array_cycles_per_fold: int = 0


def fold_schedule(layer: Layer, dataflow: Dataflow, acc: Accelerator, hw: HardwareArrays | None = None
                  ) -> FoldSchedule:
    """Per-fold DRAM traffic and compute of a layer with MACs (``layer_kernels.fold_schedules`` of one case)."""
    lowered, h = lower_layer(layer, dataflow)[None], _hw_row(acc, hw)
    folds = np.zeros(1, dtype=np.int64)
    case_fold_counts(lowered, h, folds)
    load, write = np.empty(folds[0]), np.empty(folds[0])
    out, cycles = np.zeros((1, N_OUT)), np.zeros((1, 2), dtype=np.int64)
    fold_schedules(lowered, h, np.array([0, folds[0]]), load, write, out, cycles)
    counts = dict(zip(OUT_FIELDS, out[0].tolist()))
    counts.pop("total_cycles")
    return FoldSchedule(load, write, int(cycles[0, 0]), counts, int(cycles[0, 1]))


def core_chunks(folds: int, cores: int) -> list[slice]:
    """Contiguous chunks of ``folds`` folds dealt to ``cores`` arrays (sizes differ by at most one)."""
    return [slice(int(chunk_start(folds, cores, c)), int(chunk_start(folds, cores, c + 1))) for c in range(cores)]


def vector_layer_row(layer: Layer, acc: Accelerator, hw: HardwareArrays | None = None) -> dict[str, float]:
    """A layer without MACs: read inputs, ``cols`` operations per cycle, write outputs (``OUT_FIELDS``)."""
    out = np.zeros(N_OUT)
    vector_layer(np.array(vector_row(layer), dtype=np.int64), _hw_row(acc, hw), out)
    return dict(zip(OUT_FIELDS, out.tolist()))


def analytical_counts(network: Network, acc: Accelerator, dataflows: list[Dataflow]
                      ) -> dict[tuple[str, str], dict[str, float]]:
    """The ``OUT_FIELDS`` of every (dataflow name, layer name) of the layers with MACs on ``acc``."""
    nc = network_cases(network, dataflows)
    rows = [(df.name, x) for df in dataflows for x in network.layers]
    counts = lowered_counts(nc, HardwareArrays.of([acc], area=False))[0][0, nc.lowered].tolist()
    return {(d, x.name): dict(zip(OUT_FIELDS, row)) for (d, x), row in zip(rows, counts) if x.has_weights}


def systolic_columns(network: Network, acc: Accelerator, dataflows: list[Dataflow]) -> Table:
    """Per-layer analytical results, one row per (dataflow, layer), dataflow-major, as plain columns."""
    hw = HardwareArrays.of([acc])
    parts = [layer_columns(network, network_layer_arrays(network, hw, df), df.name, design=False) for df in dataflows]
    return add_sparse_columns(Table({c: np.concatenate([part[c] for part in parts]) for c in parts[0]}), network)


def systolic_table(network: Network, acc: Accelerator, dataflows: list[Dataflow]) -> pd.DataFrame:
    """``systolic_columns`` as a DataFrame."""
    return systolic_columns(network, acc, dataflows).frame()


SPARSE_COLUMNS = ("macs_skipped", "weight_metadata_bytes")
"""Per-layer columns of a table whose network has N:M-sparse layers (0 on its dense layers)."""

T = TypeVar("T", "pd.DataFrame", Table)


def add_sparse_columns(table: T, network: Network) -> T:
    """``table`` (a DataFrame or a ``Table``, rows named by ``layer``) with ``SPARSE_COLUMNS`` when a layer of
    ``network`` is N:M-sparse: MACs skipped on pruned weights and the kept weights' position metadata
    (ceil(log2 M) bits each)."""
    if not any(layer.is_weight_sparse for layer in network.layers):
        return table
    skipped = {x.name: x.macs - x.macs_performed for x in network.layers}
    meta = {x.name: -(-x.G * x.K * x.reduction_kept * x.weight_metadata_bits // 8) for x in network.layers}
    names = table["layer"].tolist()
    table["macs_skipped"] = np.array([skipped[n] for n in names], dtype=np.int64)
    table["weight_metadata_bytes"] = np.array([meta[n] for n in names], dtype=np.int64)
    return table


def finish_rows(layers: Sequence[Layer], dataflow: str, counts: Sequence[dict[str, float]], acc: Accelerator,
                hw: HardwareArrays | None = None) -> list[dict[str, object]]:
    """Add derived columns to each layer's counts (``OUT_FIELDS``): stalls, utilisation, bytes, energy and
    latency (``batch.finish`` on one design)."""
    hw = HardwareArrays.of([acc]) if hw is None else hw
    arr = np.array([[[float(r[f]) for f in OUT_FIELDS] for r in counts]]).reshape(1, len(counts), N_OUT)
    energy = np.zeros((1, len(counts), N_BYTES))
    for i, layer in enumerate(layers):
        eb_in, eb_out = operand_bytes(layer.input_bits, acc), operand_bytes(layer.output_bits, acc)
        eb_w = operand_bytes(layer.weight_bits, acc) + layer.weight_metadata_bits / 8  # with N:M metadata
        layer_energy(arr[0, i], eb_in, eb_w, eb_out, layer.macs_performed, hw.matrix[0], energy[0, i])
    arrays = finish(arr, energy, np.array([x.macs_performed for x in layers], dtype=np.int64), hw)
    arrays.update(utilization(arrays))
    columns = {c: arrays[c][0].tolist() for c in LAYER_COLUMNS}
    return [{"layer": layer.name, "op": layer.op, "dataflow": dataflow, **{c: columns[c][i] for c in LAYER_COLUMNS}}
            for i, layer in enumerate(layers)]


__all__ = ["SPARSE_COLUMNS", "FoldSchedule", "add_sparse_columns", "analytical_counts", "build_case", "core_chunks",
           "finish_rows", "fold_schedule", "operand_bytes", "systolic_columns", "systolic_table",
           "vector_layer_row"]
