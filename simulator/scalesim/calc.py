"""SCALE-Sim 3.0.0 compatibility mode: its reported numbers, exactly, in milliseconds.

:func:`scalesim_layer` returns what SCALE-Sim's COMPUTE_REPORT, BANDWIDTH_REPORT and
DETAILED_ACCESS_REPORT say for one conv layer (or a GEMM via :func:`scalesim_gemm`) in CALC
bandwidth mode, including its known defects (see docs/scalesim_compat.md): reported total
cycles are the index of the last cycle, os ofmap writes are over-counted by folds*(R+C), etc.
SRAM traffic and per-fold efficiencies are closed forms; the memory behaviour (DRAM reads of
the set-based read buffers, ofmap drains and stalls) is emulated row by row by numba kernels
in :mod:`simulator.scalesim.calc_kernels` without building any matrix.
Words are 1 byte; each SRAM is split 50/50 for double buffering as in SCALE-Sim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.simulator.scalesim import calc_kernels as kern
from acceldse.simulator.scalesim.sparsity import ScaleSimSparsity, SparseFilter, sparse_filter, storage_words
from acceldse.simulator.scalesim.user import SRAM_BANKS, user_buffers
from acceldse.workloads.errors import SpecError, require_int

DATAFLOWS = {"os": 0, "ws": 1, "is": 2}
# USER-mode kernel inputs, unused (never written) in CALC mode
_CALC_DUMMIES = (np.zeros((2, 8), np.int64), np.zeros((2, 8), np.int64), np.zeros(1, np.int64),
                 np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64))
_SOURCE = "scalesim_layer"
_NO_COLUMNS = np.zeros(1, np.int64)


@dataclass(frozen=True)
class ScaleSimSparseReport:
    """SCALE-Sim's SPARSE_REPORT.csv for one layer (storage in words; ellpack_block's are floats)."""

    representation: str
    original_filter_storage: int
    new_filter_storage: int | float
    filter_metadata_storage: int | float


@dataclass(frozen=True)
class ScaleSimLayerResult:
    """SCALE-Sim's per-layer report numbers (cycles and word counts are integers).

    Utilisations are fractions in [0, 1] (SCALE-Sim prints percent; ``report()`` gives the
    printed values). ``total_cycles`` is SCALE-Sim's "Total Cycles" (last cycle index, stalls
    included); ``total_cycles_incl_prefetch`` its "Total Cycles (incl. prefetch)".
    """

    dataflow: str
    array_rows: int
    array_cols: int
    m: int
    n: int
    k: int
    folds: int
    demand_rows: int
    total_cycles: int
    total_cycles_incl_prefetch: int
    stall_cycles: int
    macs: int
    mapping_efficiency: float
    compute_utilization: float
    overall_utilization: float
    sram_reads_ifmap: int | float  # a float with sparsity on ws (SCALE-Sim scales it by M/N)
    sram_reads_filter: int
    sram_writes_ofmap: int
    dram_reads_ifmap: int
    dram_reads_filter: int
    dram_writes_ofmap: int
    sram_ifmap_start_cycle: int
    sram_ifmap_stop_cycle: int
    sram_filter_start_cycle: int
    sram_filter_stop_cycle: int
    sram_ofmap_start_cycle: int
    sram_ofmap_stop_cycle: int
    dram_ifmap_start_cycle: int
    dram_ifmap_stop_cycle: int
    dram_filter_start_cycle: int
    dram_filter_stop_cycle: int
    dram_ofmap_start_cycle: int
    dram_ofmap_stop_cycle: int
    sparse: ScaleSimSparseReport | None = None

    def report(self) -> dict[str, float]:
        """The numbers as SCALE-Sim prints them (percentages, words/cycle), keyed like
        ``tests.peers.scalesim_runner.REPORT_FIELDS`` (and, with sparsity, ``SPARSE_FIELDS``)."""
        tc = self.total_cycles
        out = {"total_cycles_incl_prefetch": float(self.total_cycles_incl_prefetch), "total_cycles": float(tc),
               "stall_cycles": float(self.stall_cycles),
               "overall_util_pct": (self.macs * 100) / (tc * (self.array_rows * self.array_cols)),
               "mapping_efficiency_pct": self.mapping_efficiency * 100,
               "compute_util_pct": self.compute_utilization * 100}
        for op, verb in OPERAND_TRAFFIC:
            out[f"avg_{op}_sram_bw"] = getattr(self, f"sram_{verb}_{op}") / tc
        for op, verb in OPERAND_TRAFFIC:  # over the operand's DRAM interval, both ends included
            cycles = getattr(self, f"dram_{op}_stop_cycle") - getattr(self, f"dram_{op}_start_cycle") + 1
            out[f"avg_{op}_dram_bw"] = getattr(self, f"dram_{verb}_{op}") / cycles
        for level in ("sram", "dram"):
            for op, verb in OPERAND_TRAFFIC:
                for key in (f"{level}_{op}_start_cycle", f"{level}_{op}_stop_cycle", f"{level}_{verb}_{op}"):
                    out[key] = float(getattr(self, key))
        if self.sparse is not None:
            out["avg_filter_metadata_sram_bw"] = self.sparse.filter_metadata_storage / tc
            out["original_filter_storage"] = float(self.sparse.original_filter_storage)
            out["new_filter_storage"] = float(self.sparse.new_filter_storage)
            out["filter_metadata_storage"] = float(self.sparse.filter_metadata_storage)
        return out


OPERAND_TRAFFIC = (("ifmap", "reads"), ("filter", "reads"), ("ofmap", "writes"))
"""SCALE-Sim's operands and how its reports count each one's traffic (``sram_reads_ifmap`` ...)."""


def _covered(extent: int, filt: int, stride: int, out: int) -> int:
    """Input rows (or columns) touched by at least one window, as SCALE-Sim addresses them."""
    if stride <= filt:
        return extent
    return sum(max(0, min(filt, extent - e * stride)) for e in range(out))


def _lines_capacity(valid_writes: int, ofmap_words: int, drain_bw: int) -> int:
    """First size of the write buffer's closed-lines array (see ``scalesim_layer``)."""
    return min(valid_writes + 2, 4 * (ofmap_words // drain_bw) + 4096)


def _fast_dram(unique: int, items_per_set: int, fill_bw: int) -> tuple[int, int, int] | None:
    """Closed form of the CALC read buffer when all unique addresses fit in one window.

    Then every address is fetched exactly once and no window ever completes, so SCALE-Sim
    reports ``unique`` reads from cycle -ceil(ceil(unique/S)*S/bw) to -1.
    """
    if unique >= kern.SETS_PER_WINDOW * items_per_set:
        return None
    nsets = -(-unique // items_per_set)
    return unique, (nsets * items_per_set) // -fill_bw, -1


def _checked_args(sizes: dict[str, Any], bandwidths: dict[str, Any], dataflow: str,
                  bandwidth_mode: str) -> tuple[dict[str, int], dict[str, int]]:
    """Validated layer/array/SRAM sizes and bandwidths of :func:`scalesim_layer` (``SpecError`` else)."""
    vals: dict[str, int] = {}
    for key, val in sizes.items():
        if type(val) is int and val >= 1:  # fast path for the common case
            vals[key] = val
        else:
            vals[key] = require_int(val, key=key, source=_SOURCE, minimum=1)
    if dataflow not in DATAFLOWS:
        raise SpecError("unknown dataflow", source=_SOURCE, key="dataflow", value=dataflow,
                        accepted="one of 'os', 'ws', 'is'")
    if bandwidth_mode not in ("CALC", "USER"):
        raise SpecError("unknown bandwidth mode", source=_SOURCE, key="bandwidth_mode",
                        value=bandwidth_mode, accepted="'CALC' or 'USER'")
    bws = {}
    for key, val in bandwidths.items():
        bws[key] = val if type(val) is int and val >= 1 else require_int(
            val, key=key, source=_SOURCE, minimum=1)
        if bandwidth_mode == "USER" and key != "ofmap_dram_bw_words" and bws[key] % SRAM_BANKS:
            raise SpecError("SCALE-Sim splits this bandwidth over its 10 SRAM banks",
                            source=_SOURCE, key=key, value=val,
                            accepted=f"a multiple of {SRAM_BANKS}")
    for filt, extent, what in (("filter_h", "ifmap_h", "taller"), ("filter_w", "ifmap_w", "wider")):
        if vals[filt] > vals[extent]:
            raise SpecError(f"filter {what} than the input", source=_SOURCE, key=filt,
                            value=sizes[filt], accepted=f"an integer <= {extent} ({sizes[extent]})")
    window_words = min(vals["ifmap_sram_kb"] * 1024 // 100, vals["filter_sram_kb"] * 1024 // 100) \
        * kern.SETS_PER_WINDOW
    if max(vals["array_rows"], vals["array_cols"]) > window_words:
        raise SpecError("array wider than SCALE-Sim's read-buffer window (it divides by zero)",
                        source=_SOURCE, key="array_rows/array_cols",
                        value=max(vals["array_rows"], vals["array_cols"]),
                        accepted=f"at most {window_words} for these SRAM sizes")
    return vals, bws


def _fold_counts(df: int, m_dim: int, n: int, k_dim: int, ar: int, ac: int) -> tuple[int, int, int]:
    """Row folds, column folds and valid ofmap writes (partial sums counted per row fold)."""
    if df == 0:
        return -(-m_dim // ar), -(-n // ac), m_dim * n
    if df == 1:
        row_folds = -(-k_dim // ar)
        return row_folds, -(-n // ac), m_dim * n * row_folds
    row_folds = -(-k_dim // ar)
    return row_folds, -(-m_dim // ac), m_dim * n * row_folds


def _sram_counts(df: int, m_dim: int, n: int, k_dim: int, row_folds: int, col_folds: int, ar: int,
                 ac: int) -> tuple[int, int, int]:
    """SCALE-Sim's SRAM ifmap reads, filter reads and ofmap writes (os over-counts folds*(R+C))."""
    if df == 0:
        return m_dim * k_dim * col_folds, k_dim * n * row_folds, m_dim * n + row_folds * col_folds * (ar + ac)
    if df == 1:
        return m_dim * k_dim * col_folds, k_dim * n, m_dim * n * row_folds
    return m_dim * k_dim, k_dim * n * col_folds, m_dim * n * row_folds


def _run_kernel(args: tuple[Any, ...], if_lw: np.ndarray, fi_lw: np.ndarray, uargs: tuple[Any, ...],
                capacity: int, valid_writes: int, user: bool) -> tuple[np.ndarray, np.ndarray]:
    """Run ``simulate_layer_calc``; if the bounded write-line buffer fills, rerun with one line per
    write (state arrays reset). Returns (``R_*`` integers, [mapping efficiency, utilisation])."""
    out_i = np.zeros(kern.N_RESULTS, dtype=np.int64)
    out_f = np.zeros(2, dtype=np.float64)
    ustate0 = uargs[1].copy()
    while True:
        try:
            kern.simulate_layer_calc(*args, if_lw, fi_lw, np.empty(capacity, dtype=np.int64), out_i, out_f, user,
                                     *uargs)
            return out_i, out_f
        except ValueError:
            if capacity >= valid_writes + 2:
                raise
            capacity = valid_writes + 2
            if_lw.fill(-1)
            fi_lw.fill(-1)
            uargs[1][:] = ustate0


def scalesim_layer(*, ifmap_h: int, ifmap_w: int, filter_h: int, filter_w: int, channels: int,
                   num_filters: int, stride: int, array_rows: int, array_cols: int,
                   ifmap_sram_kb: int, filter_sram_kb: int, ofmap_sram_kb: int, dataflow: str,
                   bandwidth_mode: str = "CALC", ifmap_dram_bw_words: int = 10,
                   filter_dram_bw_words: int = 10, ofmap_dram_bw_words: int = 10,
                   use_fast_paths: bool = True, sparsity: ScaleSimSparsity | None = None,
                   ratio: tuple[int, int] = (1, 1)) -> ScaleSimLayerResult:
    """SCALE-Sim 3.0.0's report for one unpadded conv layer (no batch, 1-byte words).

    Args:
        ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride: the layer as in a
            SCALE-Sim topology row (output size ceil((H - R + s) / s)).
        array_rows, array_cols: systolic array size (PEs).
        ifmap_sram_kb, filter_sram_kb, ofmap_sram_kb: SRAM sizes in KiB (integers, >= 1).
        dataflow: "os", "ws" or "is".
        bandwidth_mode: "CALC" (SCALE-Sim's default) or "USER".
        ifmap_dram_bw_words, filter_dram_bw_words: USER mode only: SCALE-Sim's
            ``IfmapSRAMBankBandwidth`` / ``FilterSRAMBankBandwidth`` (multiples of 10).
        ofmap_dram_bw_words: USER mode only: its ``Bandwidth`` (the ofmap drain, words/cycle).
        use_fast_paths: use closed forms where they provably equal the emulation.
        sparsity: SCALE-Sim's ``[sparsity]`` settings with ``SparsitySupport : true`` (``None``:
            off, the ratio is ignored as SCALE-Sim ignores it); see :mod:`simulator.scalesim.sparsity`.
        ratio: the layer's N:M weight sparsity (its topology row's last column; (1, 1) dense).
    """
    vals, bws = _checked_args(
        {"ifmap_h": ifmap_h, "ifmap_w": ifmap_w, "filter_h": filter_h, "filter_w": filter_w, "channels": channels,
         "num_filters": num_filters, "stride": stride, "array_rows": array_rows, "array_cols": array_cols,
         "ifmap_sram_kb": ifmap_sram_kb, "filter_sram_kb": filter_sram_kb, "ofmap_sram_kb": ofmap_sram_kb},
        {"ifmap_dram_bw_words": ifmap_dram_bw_words, "filter_dram_bw_words": filter_dram_bw_words,
         "ofmap_dram_bw_words": ofmap_dram_bw_words}, dataflow, bandwidth_mode)
    user = bandwidth_mode == "USER"
    h, w, r, s = vals["ifmap_h"], vals["ifmap_w"], vals["filter_h"], vals["filter_w"]
    c, n, st = vals["channels"], vals["num_filters"], vals["stride"]
    ar, ac = vals["array_rows"], vals["array_cols"]
    if_items = vals["ifmap_sram_kb"] * 1024 // 100
    fi_items = vals["filter_sram_kb"] * 1024 // 100
    e = (h - r + st + st - 1) // st
    f = (w - s + st + st - 1) // st
    m_dim, k_dim = e * f, r * s * c
    df = DATAFLOWS[dataflow]

    filt = _sparse_filter(df, m_dim, n, k_dim, ar, ratio, sparsity, user)
    k_orig, k_dim = k_dim, filt.rows
    opt_block = sparsity.block_size if sparsity is not None and sparsity.optimized_mapping else 0
    fast_if = _fast_dram(_covered(h, r, st, e) * _covered(w, s, st, f) * c, if_items, 10)
    fast_fi = _fast_dram(k_dim * n, fi_items, 10)
    if not use_fast_paths or user or sparsity is not None:
        fast_if = fast_fi = None
        use_fast_paths = False
    uargs: tuple[Any, ...]
    if user:
        ub = user_buffers(df, m_dim, n, k_dim, f, h, w, c, s, st, ar, ac, vals["ifmap_sram_kb"],
                          vals["filter_sram_kb"], bws["ifmap_dram_bw_words"],
                          bws["filter_dram_bw_words"])
        uargs = (ub.uparams, ub.ustate, ub.if_ptr, ub.if_ids, ub.fi_ptr, ub.fi_ids)
    else:
        uargs = _CALC_DUMMIES
    if_lw = np.full(1 if (fast_if or user) else h * w * c, -1, dtype=np.int32)
    fi_lw = np.full(1 if (fast_fi or user) else k_orig * n, -1, dtype=np.int32)
    row_folds, col_folds, valid_writes = _fold_counts(df, m_dim, n, k_dim, ar, ac)
    drain_bw = bws["ofmap_dram_bw_words"] if user else ac
    ofmap_words = vals["ofmap_sram_kb"] * 1024
    # Closed ofmap lines awaiting a drain: small in practice, so start with a bounded buffer
    # and fall back to one line per write only if the backlog ever fills it.
    args = (df, m_dim, n, k_dim, f, h, w, c, s, st, ar, ac, if_items, fi_items, 10, 10, ofmap_words, drain_bw,
            fast_if is None, fast_fi is None, use_fast_paths and not user)
    uargs = (*uargs, k_orig, filt.kmap, opt_block, filt.col_nnz)
    out_i, out_f = _run_kernel(args, if_lw, fi_lw, uargs, _lines_capacity(valid_writes, ofmap_words, drain_bw),
                               valid_writes, user)
    res = [int(x) for x in out_i]
    if res[kern.R_READ_DIV_ZERO]:
        raise SpecError("SCALE-Sim 3.0.0 crashes on this layer: a read buffer completes two prefetch windows in one "
                        "cycle and its next prefetch divides by zero (ZeroDivisionError)", source=_SOURCE,
                        key="ifmap_sram_kb/filter_sram_kb", value=(vals["ifmap_sram_kb"], vals["filter_sram_kb"]),
                        accepted="larger ifmap/filter SRAMs or a narrower demand row (array, BlockSize)")
    if user:
        if ub.crashes():
            raise SpecError("SCALE-Sim 3.0.0 crashes on this layer in USER mode (its fetch "
                            "matrix is shorter than one prefetch)", source=_SOURCE,
                            key="bandwidth_mode", value=bandwidth_mode,
                            accepted="'CALC', or larger layers / other SRAM sizes")
        fast_if, fast_fi = ub.dram(0), ub.dram(1)
    if fast_if is not None:
        res[kern.R_IF_DRAM], res[kern.R_IF_DRAM_START], res[kern.R_IF_DRAM_STOP] = fast_if
    if fast_fi is not None:
        res[kern.R_FI_DRAM], res[kern.R_FI_DRAM_START], res[kern.R_FI_DRAM_STOP] = fast_fi
    sram: tuple[int | float, int, int] = _sram_counts(df, m_dim, n, k_dim, row_folds, col_folds, ar, ac)
    sparse = None
    if sparsity is not None:
        sram = _sparse_sram_counts(df, m_dim, n, k_dim, row_folds, col_folds, ar, ac, ratio, opt_block, sram)
        sparse = ScaleSimSparseReport(sparsity.representation,
                                      *storage_words(k_orig, n, ratio, filt, sparsity.representation))
    return _result(dataflow, ar, ac, m_dim, n, k_dim, row_folds * col_folds, res, out_f, sram,
                   m_dim * n * k_orig, sparse)


def _sparse_filter(df: int, m_dim: int, n: int, k_dim: int, ar: int, ratio: tuple[int, int],
                   sparsity: ScaleSimSparsity | None, user: bool) -> SparseFilter:
    """The (compressed) filter SCALE-Sim runs; ``SpecError`` on the settings it crashes on."""
    if sparsity is None:
        return SparseFilter(rows=k_dim, kmap=np.arange(k_dim, dtype=np.int64), col_nnz=_NO_COLUMNS, nnz=k_dim * n)
    if user:
        raise SpecError("compat mode models SCALE-Sim's sparsity in CALC bandwidth mode only", source=_SOURCE,
                        key="bandwidth_mode", value="USER", accepted="'CALC' with SparsitySupport on")
    if sparsity.optimized_mapping:
        bs = sparsity.block_size
        if df != DATAFLOWS["ws"]:
            raise SpecError("SCALE-Sim 3.0.0 runs OptimizedMapping on ws only (os/is assert 'Dimension mismatch "
                            "between operands')", source=_SOURCE, key="dataflow",
                            value={v: k for k, v in DATAFLOWS.items()}[df], accepted="'ws', or OptimizedMapping false")
        if bs > ar:
            raise SpecError("SCALE-Sim 3.0.0 asserts 'Invalid block size' (BlockSize > ArrayHeight)", source=_SOURCE,
                            key="BlockSize", value=bs, accepted=f"at most array_rows ({ar})")
        if (2 * ar) % bs:
            raise SpecError("SCALE-Sim 3.0.0 crashes building the ifmap demand (inhomogeneous blocks) when BlockSize "
                            "does not divide 2 x ArrayHeight", source=_SOURCE, key="BlockSize", value=bs,
                            accepted=f"a divisor of {2 * ar}")
    return sparse_filter(k_dim, n, ratio, sparsity)


def _sparse_sram_counts(df: int, m_dim: int, n: int, k_dim: int, row_folds: int, col_folds: int, ar: int, ac: int,
                        ratio: tuple[int, int], opt_block: int,
                        dense: tuple[int | float, int, int]) -> tuple[int | float, int, int]:
    """SCALE-Sim's SRAM counts with sparsity on (``k_dim``: compressed filter rows).

    ws: the unoptimized mapping multiplies each fold's ifmap reads by M/N (floats summed fold by
    fold, as SCALE-Sim does); the optimized one reads its block-repeated skewed rows."""
    if df != DATAFLOWS["ws"]:
        return dense
    if opt_block:
        blocks = -(-2 * ar // opt_block) * (opt_block // 2)
        return row_folds * col_folds * (m_dim + ar - 1) * blocks * opt_block, dense[1], dense[2]
    scale = ratio[1] / ratio[0]
    reads: int | float = 0
    for _ in range(col_folds):
        for fr in range(row_folds):
            reads += m_dim * min(ar, k_dim - fr * ar) * scale
    return reads, dense[1], dense[2]


def _result(dataflow: str, ar: int, ac: int, m_dim: int, n: int, k_dim: int, folds: int, res: list[int],
            out_f: np.ndarray, sram: tuple[int | float, int, int], macs: int,
            sparse: ScaleSimSparseReport | None) -> ScaleSimLayerResult:
    """The report from the kernel's ``R_*`` integers, its fold means and the SRAM counts."""
    total = res[kern.R_LAST_OUT]
    edges = {f"{level}_{op}_{edge}_cycle": res[getattr(kern, f"R_{op[:2].upper()}_{level.upper()}_{edge.upper()}")]
             for level in ("sram", "dram") for op, _ in OPERAND_TRAFFIC for edge in ("start", "stop")}
    return ScaleSimLayerResult(
        dataflow=dataflow, array_rows=ar, array_cols=ac, m=m_dim, n=n, k=k_dim, folds=folds,
        demand_rows=res[kern.R_ROWS], total_cycles=total,
        total_cycles_incl_prefetch=res[kern.R_OF_DRAM_STOP]
        - min(res[kern.R_IF_DRAM_START], res[kern.R_FI_DRAM_START]),
        stall_cycles=res[kern.R_STALLS], macs=macs,
        mapping_efficiency=float(out_f[0]), compute_utilization=float(out_f[1]),
        overall_utilization=macs / (total * ar * ac),
        sram_reads_ifmap=sram[0], sram_reads_filter=sram[1], sram_writes_ofmap=sram[2],
        dram_reads_ifmap=res[kern.R_IF_DRAM], dram_reads_filter=res[kern.R_FI_DRAM],
        dram_writes_ofmap=res[kern.R_OF_DRAM], sparse=sparse, **edges)


def scalesim_gemm(m: int, n: int, k: int, **kwargs: Any) -> ScaleSimLayerResult:
    """SCALE-Sim's GEMM convention: ifmap M x K, filter 1 x K, 1 channel, N filters, stride 1.

    ``kwargs`` are the array/SRAM/dataflow arguments of :func:`scalesim_layer`.
    """
    for key, val in (("m", m), ("n", n), ("k", k)):
        require_int(val, key=key, source="scalesim_gemm", minimum=1)
    return scalesim_layer(ifmap_h=m, ifmap_w=k, filter_h=1, filter_w=k, channels=1,
                          num_filters=n, stride=1, **kwargs)


__all__ = ["DATAFLOWS", "OPERAND_TRAFFIC", "ScaleSimLayerResult", "ScaleSimSparseReport", "scalesim_gemm",
           "scalesim_layer"]
