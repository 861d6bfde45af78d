"""Cycle fidelity for systolic arrays: run real operands through the cycle-level array model.

* ``run_gemm_cycle(a, b, rows, cols, dataflow)`` runs one (M x K) @ (K x N) GEMM on a
  ``rows`` x ``cols`` array and returns the real output, the measured cycle count and the
  per-cycle PE activity (``CycleResult``).
* ``run_layer_cycle(layer, acc, dataflow, rng)`` lowers a layer (conv via im2col per group,
  gemm, batched matmul) with random small-integer operands, runs it, and compares the output
  with an independent NumPy computation (``LayerCycleResult``).
* ``cycle_table(network, acc, dataflows)`` returns the per-layer DataFrame of
  ``simulator.systolic.model.systolic_table`` with ``compute_cycles`` measured by the cycle model
  (counts and traffic from the analytical kernel) plus ``measured_utilization``.

Operand-matrix conventions (per group, array R x C) follow ``dataflows.dataflow``:
os streams A (M x K) from the left and B (K x N) from the top; ws holds B and streams A;
is holds A and streams B. The kernels live in ``simulator.systolic.cycle_kernels``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from acceldse.dataflows.dataflow import Dataflow, get_dataflow
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.systolic.batch import sparse_shape
from acceldse.simulator.systolic.cycle_kernels import os_cycles, stationary_cycles
from acceldse.simulator.systolic.model import (
    add_sparse_columns,
    analytical_counts,
    finish_rows,
    fold_schedule,
    vector_layer_row,
)
from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network

DEFAULT_MAX_PE_CYCLES = 500_000_000
"""Largest layer ``cycle_table`` simulates: cycles x PEs (PE register updates; about 1-2 CPU-s)."""

OPERAND_RANGE = 4
"""Random layer operands are integers in [-OPERAND_RANGE, OPERAND_RANGE]."""


@dataclass(frozen=True)
class CycleResult:
    """One GEMM (or a batch of group GEMMs) run cycle by cycle.

    Attributes:
        output: the product computed by the array, (M x N) or (G x M x N).
        cycles: clock cycles simulated, all folds (measured, not computed from a formula).
        folds: operand-matrix blocks mapped onto the array.
        activity: useful MACs in each cycle (int64, length ``cycles``).
        macs: multiply-accumulates of the GEMM (= ``activity.sum()``).
        pes: PEs of the array (rows x cols).
    """

    output: np.ndarray
    cycles: int
    folds: int
    activity: np.ndarray
    macs: int
    pes: int

    @property
    def utilization(self) -> float:
        """Measured utilisation: useful PE-cycles / (cycles x PEs) (fraction)."""
        return float(self.activity.sum()) / (self.cycles * self.pes) if self.cycles else 0.0


@dataclass(frozen=True)
class LayerCycleResult:
    """A layer run cycle by cycle on random integer data, with its independent NumPy reference.

    Attributes:
        layer: layer name. dataflow: os | ws | is.
        run: the cycle-level run (its ``output`` is the raw per-group GEMM result).
        output: the array's result in layer layout: (N, G*K, P, Q) for conv, (G, M, N) otherwise.
        reference: the same tensor computed by NumPy without im2col.
    """

    layer: str
    dataflow: str
    run: CycleResult
    output: np.ndarray
    reference: np.ndarray

    @property
    def exact(self) -> bool:
        """True when the array's output equals the reference exactly."""
        return bool(np.array_equal(self.output, self.reference))


def operand_shape(dataflow: str, m: int, k: int, n: int) -> tuple[int, int, int]:
    """(Sr, Sc, T) of an (m x k) @ (k x n) GEMM under ``dataflow`` (os | ws | is)."""
    return {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]


def analytical_compute_cycles(dataflow: str, m: int, k: int, n: int, rows: int, cols: int, groups: int = 1
                              ) -> int:
    """Compute cycles of the analytical model: folds x (2R + C + T - 2)."""
    sr, sc, t = operand_shape(dataflow, m, k, n)
    return groups * -(-sr // rows) * -(-sc // cols) * (2 * rows + cols + t - 2)


def _run_groups(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str) -> CycleResult:
    """Run (G, M, K) @ (G, K, N) on the kernels; ``a`` and ``b`` share an int64/float64 dtype."""
    groups, m, k = a.shape
    n = b.shape[2]
    sr, sc, t = operand_shape(dataflow, m, k, n)
    folds = groups * -(-sr // rows) * -(-sc // cols)
    # room for every fold with slack; the kernels stop (and return -1) rather than overrun it
    activity = np.zeros(2 * folds * (3 * rows + 2 * cols + t) + 16, dtype=np.int64)
    if dataflow == "os":
        out = np.zeros((groups, m, n), dtype=a.dtype)
        cycles = os_cycles(a, b, rows, cols, out, activity)
    elif dataflow == "ws":
        out = np.zeros((groups, m, n), dtype=a.dtype)
        cycles = stationary_cycles(b, np.ascontiguousarray(a.transpose(0, 2, 1)), rows, cols, out, activity)
    else:
        out_t = np.zeros((groups, n, m), dtype=a.dtype)
        cycles = stationary_cycles(np.ascontiguousarray(a.transpose(0, 2, 1)), b, rows, cols, out_t, activity)
        out = np.ascontiguousarray(out_t.transpose(0, 2, 1))
    if cycles < 0:
        raise RuntimeError(f"cycle model overran its activity buffer ({activity.shape[0]} cycles) "
                           f"on a {groups}x({m}x{k})@({k}x{n}) {dataflow} run on {rows}x{cols}")
    return CycleResult(output=out, cycles=int(cycles), folds=folds, activity=activity[:cycles].copy(),
                       macs=groups * m * k * n, pes=rows * cols)


def _as_operand(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64)
    raise SpecError("operand must be an integer or float array", source="run_gemm_cycle", key=name,
                    value=str(arr.dtype), accepted="an int or float numpy array")


def run_gemm_cycle(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str | Dataflow = "os"
                   ) -> CycleResult:
    """Run ``a @ b`` cycle by cycle on a ``rows`` x ``cols`` systolic array.

    Args:
        a: (M x K) or batched (G x M x K) integer or float matrix.
        b: (K x N) or (G x K x N).
        rows, cols: array size (PEs).
        dataflow: ``os`` | ``ws`` | ``is`` (or a systolic ``Dataflow``).

    Returns:
        a ``CycleResult`` (output int64 if both operands are integers, else float64).
    """
    df = get_dataflow(dataflow, source="run_gemm_cycle: dataflow", systolic_only=True).name
    rows = require_int(rows, key="rows", source="run_gemm_cycle")
    cols = require_int(cols, key="cols", source="run_gemm_cycle")
    x, y = _as_operand(a, "a"), _as_operand(b, "b")
    if x.ndim != y.ndim or x.ndim not in (2, 3) or x.shape[-1] != y.shape[-2] or x.shape[:-2] != y.shape[:-2] \
            or 0 in x.shape or 0 in y.shape:
        raise SpecError("operands do not form a matrix product", source="run_gemm_cycle", key="a, b",
                        value=(x.shape, y.shape), accepted="(M, K) and (K, N), or (G, M, K) and (G, K, N), non-empty")
    dtype = np.result_type(x.dtype, y.dtype)
    batched = x.ndim == 3
    x3 = np.ascontiguousarray(x if batched else x[None], dtype=dtype)
    y3 = np.ascontiguousarray(y if batched else y[None], dtype=dtype)
    res = _run_groups(x3, y3, rows, cols, df)
    if batched:
        return res
    return CycleResult(res.output[0], res.cycles, res.folds, res.activity, res.macs, res.pes)


# ---- layers --------------------------------------------------------------------------------

def _is_plain_matrix(layer: Layer) -> bool:
    return layer.op in ("gemm", "matmul") and layer.stride == (1, 1) and layer.dilation == (1, 1) \
        and layer.padding == (0, 0, 0, 0) and (layer.R, layer.S) == (1, 1)


def conv_reference(x: np.ndarray, w: np.ndarray, layer: Layer) -> np.ndarray:
    """Direct convolution (no im2col): x (N, G*C, H, W), w (G*K, C, R, S) -> (N, G*K, P, Q)."""
    G, K, C, P, Q = layer.G, layer.K, layer.C, layer.P, layer.Q
    top, left, bottom, right = layer.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    xg = xp.reshape(layer.N, G, C, xp.shape[2], xp.shape[3])
    wg = w.reshape(G, K, C, layer.R, layer.S)
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    out = np.zeros((layer.N, G, K, P, Q), dtype=np.result_type(x, w))
    for r in range(layer.R):
        for s in range(layer.S):
            window = xg[:, :, :, r * dh: r * dh + (P - 1) * sh + 1: sh, s * dw: s * dw + (Q - 1) * sw + 1: sw]
            out += np.einsum("ngcpq,gkc->ngkpq", window, wg[:, :, :, r, s])
    return out.reshape(layer.N, G * K, P, Q)


def im2col(x: np.ndarray, layer: Layer) -> np.ndarray:
    """Lower an input (N, G*C, H, W) to per-group operand matrices (G, N*P*Q, C*R*S)."""
    top, left, bottom, right = layer.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    xg = xp.reshape(layer.N, layer.G, layer.C, xp.shape[2], xp.shape[3])
    n, p, q = (v.ravel() for v in np.meshgrid(np.arange(layer.N), np.arange(layer.P), np.arange(layer.Q),
                                              indexing="ij"))
    c, r, s = (v.ravel() for v in np.meshgrid(np.arange(layer.C), np.arange(layer.R), np.arange(layer.S),
                                              indexing="ij"))
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    rows = p[:, None] * sh + r[None, :] * dh
    cols = q[:, None] * sw + s[None, :] * dw
    g = np.arange(layer.G)[:, None, None]
    return xg[n[None, :, None], g, c[None, None, :], rows[None], cols[None]]


def run_layer_cycle(layer: Layer, acc: Accelerator, dataflow: str | Dataflow, rng: np.random.Generator
                    ) -> LayerCycleResult:
    """Run one layer with MACs cycle by cycle on random integers and compute its NumPy reference.

    Conv layers (incl. strided, padded, dilated, grouped, depthwise) are lowered by im2col per
    group; the reference is a direct convolution. Plain gemm / matmul layers run their
    (G, N*P*Q, C) @ (G, C, K) product; the reference is ``numpy.matmul``.

    N:M weight sparsity (os/ws): the weights are pruned to N of every M along C*R*S (the first N of
    each block, for every filter); the array runs only the kept reduction rows (pruned weights and
    their inputs never enter it); the reference is the dense computation with the pruned weights.
    """
    if not layer.has_weights:
        raise SpecError("layer has no MACs to run on the array", source=f"layer {layer.name!r}", key="op",
                        value=layer.op, accepted="conv | gemm | matmul")
    flow = get_dataflow(dataflow, source="run_layer_cycle: dataflow", systolic_only=True)
    df = flow.name
    rows, cols = acc.array.rows, acc.array.cols
    lo, hi = -OPERAND_RANGE, OPERAND_RANGE + 1
    if _is_plain_matrix(layer):
        m = layer.N * layer.P * layer.Q
        a = rng.integers(lo, hi, size=(layer.G, m, layer.C), dtype=np.int64)
        b = rng.integers(lo, hi, size=(layer.G, layer.C, layer.K), dtype=np.int64)
        if layer.is_weight_sparse:
            kept = _kept_rows(layer)
            b[:, ~kept, :] = 0
            run = _run_groups(np.ascontiguousarray(a[:, :, kept]), np.ascontiguousarray(b[:, kept, :]), rows, cols,
                              df)
        else:
            run = _run_groups(a, b, rows, cols, df)
        return LayerCycleResult(layer.name, df, run, run.output, np.matmul(a, b))
    x = rng.integers(lo, hi, size=(layer.N, layer.G * layer.C, layer.H, layer.W), dtype=np.int64)
    w = rng.integers(lo, hi, size=(layer.G * layer.K, layer.C, layer.R, layer.S), dtype=np.int64)
    a = np.ascontiguousarray(im2col(x, layer))
    b = np.ascontiguousarray(w.reshape(layer.G, layer.K, -1).transpose(0, 2, 1))
    if layer.is_weight_sparse:  # N:M pruning along C*R*S (window order); the array sees the kept rows only
        kept = _kept_rows(layer)
        w.reshape(layer.G * layer.K, -1)[:, ~kept] = 0
        a, b = np.ascontiguousarray(a[:, :, kept]), np.ascontiguousarray(b[:, kept, :])
    run = _run_groups(a, b, rows, cols, df)
    out = run.output.reshape(layer.G, layer.N, layer.P, layer.Q, layer.K).transpose(1, 0, 4, 2, 3)
    return LayerCycleResult(layer.name, df, run, out.reshape(layer.N, layer.G * layer.K, layer.P, layer.Q),
                            conv_reference(x, w, layer))


def _kept_rows(layer: Layer) -> np.ndarray:
    """bool[C*R*S]: the reduction rows an N:M ratio keeps (the first N of every M); all when dense."""
    n, m = layer.weight_sparsity
    return np.arange(layer.C * layer.R * layer.S) % m < n


def layer_pe_cycles(layer: Layer, dataflow: Dataflow, acc: Accelerator) -> int:
    """PE register updates a cycle run of ``layer`` costs (analytical cycles x PEs), for admission."""
    sr, sc, t = sparse_shape(layer, dataflow)
    r, c = acc.array.rows, acc.array.cols
    return layer.G * -(-sr // r) * -(-sc // c) * (2 * r + c + t - 2) * r * c


def cycle_table(network: Network, acc: Accelerator, dataflows: list[Dataflow], *,
                max_pe_cycles: int = DEFAULT_MAX_PE_CYCLES, seed: int = 0,
                progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """Per-layer results with compute cycles measured by the cycle model.

    Same columns as ``systolic_table`` plus ``measured_utilization`` (useful PE-cycles /
    (measured compute cycles x PEs); 0 for layers without MACs, which run on the vector unit
    as in the analytical model). Stall cycles and traffic come from the analytical model.
    Every layer's output is checked against NumPy; a mismatch raises ``RuntimeError``.

    ``progress(done, total, layer)`` is called after each layer.

    Raises:
        SpecError: a layer costs more than ``max_pe_cycles`` simulated PE-cycles.
    """
    limit = require_int(max_pe_cycles, key="max_pe_cycles", source="cycle_table")
    mac_layers = [layer for layer in network.layers if layer.has_weights]
    for df in dataflows:
        for layer in mac_layers:
            cost = layer_pe_cycles(layer, df, acc)
            if cost > limit:
                raise SpecError(f"layer too large for cycle fidelity ({layer.macs:,} MACs, {cost:,} PE-cycles "
                                f"with {df.name} on {acc.array.rows}x{acc.array.cols})",
                                source=f"{network.name}: layer {layer.name!r}", key="max_pe_cycles", value=cost,
                                accepted=f"at most {limit:,} PE-cycles per layer; raise max_work, use the analytical "
                                         "model or a smaller workload")
    analytical = analytical_counts(network, acc, dataflows)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    total = len(dataflows) * len(network.layers)
    for df in dataflows:
        for layer in network.layers:
            if progress is not None:
                progress(len(rows), total, f"{df.name} {layer.name}")
            r = analytical.get((df.name, layer.name))
            measured = 0.0
            if r is None:
                r = vector_layer_row(layer, acc)
            else:
                res = run_layer_cycle(layer, acc, df, rng)
                if not res.exact:
                    raise RuntimeError(f"cycle model output differs from NumPy on layer {layer.name!r} ({df.name})")
                stall = r["total_cycles"] - r["compute_cycles"]
                # the array ran every fold; with several cores the critical one runs its share of them
                whole = int(r["folds"]) * fold_schedule(layer, df, acc).array_cycles_per_fold
                compute = res.run.cycles * int(r["compute_cycles"]) // whole
                r = {**r, "compute_cycles": compute, "total_cycles": compute + stall}
                measured = res.run.utilization
            row = finish_rows([layer], df.name, [r], acc)[0]
            row["measured_utilization"] = measured
            rows.append(row)
    if progress is not None:
        progress(total, total, "done")
    return add_sparse_columns(pd.DataFrame(rows), network)


__all__ = ["DEFAULT_MAX_PE_CYCLES", "CycleResult", "LayerCycleResult", "analytical_compute_cycles", "conv_reference",
           "cycle_table", "im2col", "layer_pe_cycles", "operand_shape", "run_gemm_cycle", "run_layer_cycle"]
