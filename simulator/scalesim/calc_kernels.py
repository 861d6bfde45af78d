"""Numba kernels that reproduce SCALE-Sim 3.0.0's CALC-mode memory simulation from counts.

SCALE-Sim builds skewed cycle-by-cycle demand matrices (one row per cycle, -1 for "no
request") and walks them row by row through two read buffers and one write buffer. These
kernels walk the same rows in the same order (column folds outer, row folds inner; within a
row, array positions ascending) but generate each row's addresses on the fly instead of
materialising the matrices:

The buffers live in :mod:`simulator.scalesim.buffers` (CALC) and
:mod:`simulator.scalesim.user_kernels` (USER); their names are re-exported here.

Dataflow codes: 0 = os, 1 = ws, 2 = is. All cycles are integers; all kernels are pure.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from acceldse.simulator.scalesim.buffers import (
    RB_COUNT,
    RB_SAME_CYCLE,
    RB_SIZE,
    SETS_PER_WINDOW,
    read_buffer_dram_window,
    read_buffer_row,
    write_buffer_flush,
    write_buffer_row,
)
from acceldse.simulator.scalesim.user_kernels import user_read_row

__all__ = ["N_RESULTS", "SETS_PER_WINDOW", "ifmap_address", "ifmap_tables",
           "read_buffer_dram_window", "read_buffer_row", "simulate_layer_calc",
           "write_buffer_flush", "write_buffer_row", "user_read_row"]

# Layout of the int64 result vector of ``simulate_layer_calc``.
R_ROWS = 0
R_STALLS = 1
R_LAST_OUT = 2
R_IF_DRAM = 3
R_IF_DRAM_START = 4
R_IF_DRAM_STOP = 5
R_FI_DRAM = 6
R_FI_DRAM_START = 7
R_FI_DRAM_STOP = 8
R_OF_DRAM = 9
R_OF_DRAM_START = 10
R_OF_DRAM_STOP = 11
R_IF_SRAM_START = 12
R_IF_SRAM_STOP = 13
R_FI_SRAM_START = 14
R_FI_SRAM_STOP = 15
R_OF_SRAM_START = 16
R_OF_SRAM_STOP = 17
R_READ_DIV_ZERO = 18  # 1 when a read buffer completed two windows in one cycle: SCALE-Sim crashes
N_RESULTS = 19



@njit(cache=True)
def ifmap_address(m: int, k: int, ofmap_w: int, ifmap_h: int, ifmap_w: int, channels: int,
                  filter_w: int, stride: int) -> int:
    """SCALE-Sim's ifmap operand element (ofmap pixel ``m``, window index ``k``); -1 if outside."""
    orow = m // ofmap_w
    ocol = m - orow * ofmap_w
    irow = orow * stride
    icol = ocol * stride
    sc = filter_w * channels
    crow = k // sc
    kk = k - crow * sc
    ccol = kk // channels
    cch = kk - ccol * channels
    if irow + crow >= ifmap_h or icol + ccol >= ifmap_w:
        return -1
    return ((irow + crow) * ifmap_w + icol + ccol) * channels + cch


@njit(cache=True)
def ifmap_tables(m_dim: int, k_dim: int, ofmap_w: int, ifmap_w: int, channels: int,
                 filter_w: int, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                      np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel and per-window-index parts of :func:`ifmap_address` (no divisions later).

    Returns (pixel row, pixel col, pixel base, window row, window col, window offset); the
    address of (m, k) is ``base[m] + offset[k]`` when ``row[m] + wrow[k] < ifmap_h`` and
    ``col[m] + wcol[k] < ifmap_w``, else -1.
    """
    prow = np.empty(m_dim, dtype=np.int64)
    pcol = np.empty(m_dim, dtype=np.int64)
    pbase = np.empty(m_dim, dtype=np.int64)
    for m in range(m_dim):
        prow[m] = (m // ofmap_w) * stride
        pcol[m] = (m % ofmap_w) * stride
        pbase[m] = (prow[m] * ifmap_w + pcol[m]) * channels
    wrow = np.empty(k_dim, dtype=np.int64)
    wcol = np.empty(k_dim, dtype=np.int64)
    woff = np.empty(k_dim, dtype=np.int64)
    sc = filter_w * channels
    for k in range(k_dim):
        wrow[k] = k // sc
        wcol[k] = (k % sc) // channels
        woff[k] = (wrow[k] * ifmap_w + wcol[k]) * channels + k % channels
    return prow, pcol, pbase, wrow, wcol, woff


@njit(cache=True)
def fold_geometry(dataflow: int, m_dim: int, n_dim: int, k_dim: int, ar: int,
                  ac: int) -> tuple[int, int, int, int, int]:
    """(spatial rows, spatial cols, temporal extent, demand rows per fold, cycles per fold that
    SCALE-Sim's compute utilisation divides by) of a dataflow."""
    if dataflow == 0:
        return m_dim, n_dim, k_dim, k_dim + ar + ac - 2, k_dim + ar + ac - 2
    if dataflow == 1:
        return k_dim, n_dim, m_dim, 2 * ar + ac + m_dim - 2, 2 * ar + 2 * ac + m_dim - 3
    return k_dim, m_dim, n_dim, 2 * ar + ac + n_dim - 2, 2 * ar + 2 * ac + n_dim - 3


@njit(cache=True)
def ofmap_writes(dataflow: int, t: int, ru: int, cu: int, ar: int, k_dim: int, t_dim: int) -> int:
    """Ofmap words written by demand row ``t`` of a fold."""
    if dataflow == 0:
        lo = max(0, t - k_dim + 1 - (ar - 1))
        hi = min(cu - 1, t - k_dim + 1 - (ar - ru))
    else:
        lo = max(0, t - (2 * ar - 1) - (t_dim - 1))
        hi = min(cu - 1, t - (2 * ar - 1))
    return hi - lo + 1 if hi >= lo else 0


@njit(cache=True)
def filter_slot(k_slot: int, n: int, k_orig: int, block: int, col_nnz: np.ndarray) -> int:
    """Filter address in slot ``k_slot`` of filter ``n`` under SCALE-Sim's optimized mapping, or -1.

    Every ``block`` window rows are compressed to ``block // 2`` slots holding the first
    ``col_nnz[n]`` rows of the block (the rest of the slots, and the padding, are empty).
    """
    half = block // 2
    b = k_slot // half
    q = k_slot - b * half
    if q >= col_nnz[n] or b * block + q >= k_orig:
        return -1
    return b * block + q + n * k_orig


@njit(cache=True)
def store_results(out_int: np.ndarray, rows: int, stalls: int, out_cycle: int, ifs: np.ndarray,
                  fis: np.ndarray, wb: np.ndarray, spans: np.ndarray, track_ifmap: bool, track_filter: bool,
                  ifmap_items_per_set: int, ifmap_fill_bw: int, filter_items_per_set: int,
                  filter_fill_bw: int) -> None:
    """Fill the ``R_*`` entries of ``out_int`` from the buffers' final state."""
    out_int[R_ROWS] = rows
    out_int[R_STALLS] = stalls
    out_int[R_LAST_OUT] = out_cycle
    out_int[R_IF_DRAM] = ifs[RB_COUNT]
    out_int[R_FI_DRAM] = fis[RB_COUNT]
    if track_ifmap:
        out_int[R_IF_DRAM_START], out_int[R_IF_DRAM_STOP] = read_buffer_dram_window(
            ifs, ifmap_items_per_set, ifmap_fill_bw)
    if track_filter:
        out_int[R_FI_DRAM_START], out_int[R_FI_DRAM_STOP] = read_buffer_dram_window(
            fis, filter_items_per_set, filter_fill_bw)
    out_int[R_OF_DRAM] = wb[5]
    out_int[R_OF_DRAM_START] = wb[6]
    out_int[R_OF_DRAM_STOP] = wb[7]
    for i in range(6):  # ifmap, filter, ofmap SRAM (first, last) cycles
        out_int[R_IF_SRAM_START + i] = spans[i]
    out_int[R_READ_DIV_ZERO] = max(ifs[RB_SAME_CYCLE], fis[RB_SAME_CYCLE])


@njit(cache=True)
def simulate_layer_calc(dataflow: int, m_dim: int, n_dim: int, k_dim: int, ofmap_w: int,
                        ifmap_h: int, ifmap_w: int, channels: int, filter_w: int, stride: int,
                        array_rows: int, array_cols: int, ifmap_items_per_set: int,
                        filter_items_per_set: int, ifmap_fill_bw: int, filter_fill_bw: int,
                        ofmap_words: int, drain_bw: int, track_ifmap: bool, track_filter: bool,
                        skip_repeats: bool,
                        ifmap_last_window: np.ndarray, filter_last_window: np.ndarray,
                        lines: np.ndarray, out_int: np.ndarray, out_float: np.ndarray,
                        user: bool, uparams: np.ndarray, ustate: np.ndarray, if_ptr: np.ndarray,
                        if_ids: np.ndarray, fi_ptr: np.ndarray, fi_ids: np.ndarray, k_orig: int,
                        kmap: np.ndarray, opt_block: int, col_nnz: np.ndarray) -> None:
    """Walk every demand row of one layer and fill ``out_int`` / ``out_float``.

    CALC mode by default; with ``user`` the read buffers are SCALE-Sim's USER-mode ones
    (``uparams[op]`` = [active sets, prefetch sets, sets, prefetch rows, fetch rows, bw,
    active words]; ``ustate[op]`` their state; CSR set lists per operand) and every address is
    tracked (pass ``track_*`` True and ``skip_repeats`` False).

    ``out_int`` gets the ``R_*`` entries; ``out_float`` = [mean mapping efficiency, mean compute
    utilisation] over folds (fractions, summed in SCALE-Sim's fold order). With
    ``track_ifmap`` (``track_filter``) False the DRAM miss tracking of that operand is skipped
    (the caller uses the closed form); SRAM start/stop cycles are still found. With
    ``skip_repeats`` a fold that repeats the previous fold's addresses after a miss-free fold
    is not tracked (provably all hits).

    Sparsity (:mod:`simulator.scalesim.sparsity`): ``k_dim`` is the number of (compressed) filter
    rows and ``k_orig`` the layer's window size. Compressed row ``k'`` is window index
    ``kmap[k']`` (identity when dense). With ``opt_block`` > 0 (SCALE-Sim's ws optimized
    mapping, block size ``opt_block``) filter slot ``k'`` of filter ``n`` holds a weight only
    if its slot in the block is below ``col_nnz[n]``, and the ifmap rows follow SCALE-Sim's
    block-repeated skew over 2 x ``array_rows`` unpruned columns per fold; mapping efficiency
    then counts the occupied slots of each fold.
    """
    ar = array_rows
    ac = array_cols
    sr, sc, t_dim, rows_per_fold, util_cycles = fold_geometry(dataflow, m_dim, n_dim, k_dim, ar, ac)
    row_folds = (sr + ar - 1) // ar
    col_folds = (sc + ac - 1) // ac
    active_words = ofmap_words - ofmap_words // 2  # ceil(total * 0.5)
    lines_per_drain = (ofmap_words - active_words + drain_bw - 1) // drain_bw
    prow, pcol, pbase, wrow, wcol, woff = ifmap_tables(m_dim, k_orig, ofmap_w, ifmap_w, channels, filter_w,
                                                       stride)
    # every window inside the input: no -1 entries in the ifmap operand matrix
    all_valid = (prow[m_dim - 1] + wrow[k_orig - 1] < ifmap_h
                 and pcol[m_dim - 1] + wcol[k_orig - 1] < ifmap_w)
    half = opt_block // 2
    opt_blocks = 0  # blocks of one optimized ifmap demand row
    if opt_block > 0:
        opt_blocks = ((2 * ar + opt_block - 1) // opt_block) * half
    else:  # window tables of the kept (compressed) rows
        wrow = wrow[kmap]
        wcol = wcol[kmap]
        woff = woff[kmap]
    ibuf = np.empty(max(ar, ac, opt_blocks * opt_block), dtype=np.int64)
    fbuf = np.empty(max(ar, ac), dtype=np.int64)
    ifs = np.zeros(RB_SIZE, dtype=np.int64)
    fis = np.zeros(RB_SIZE, dtype=np.int64)
    wb = np.zeros(8, dtype=np.int64)
    wb[0] = ofmap_words
    wb[6] = np.int64(1) << 62
    wb[7] = -wb[6]
    spans = np.full(6, -1, dtype=np.int64)  # (first, last) SRAM cycle of ifmap, filter, ofmap
    stalls = g = out_cycle = 0
    if_prev_zero = fi_prev_zero = False
    map_sum = util_sum = 0.0
    for fc in range(col_folds):
        c0 = fc * ac
        cu = min(ac, sc - c0)
        for fr in range(row_folds):
            r0 = fr * ar
            ru = min(ar, sr - r0)
            if opt_block > 0:
                occupied = 0
                for c in range(cu):
                    for kr in range(r0, r0 + ru):
                        if filter_slot(kr, c0 + c, k_orig, opt_block, col_nnz) >= 0:
                            occupied += 1
                map_sum += (ar * ac - (ar * ac - occupied)) / (ar * ac)
            else:
                map_sum += (ru * cu) / (ar * ac)
            # A fold whose address stream equals the previous fold's, after a fold without a
            # single miss, cannot miss either (the buffer state did not change): skip it.
            fold_idx = fc * row_folds + fr
            if_same = fold_idx > 0 and row_folds == 1 and dataflow != 2
            fi_same = (fr > 0 and dataflow == 0) or (fold_idx > 0 and row_folds == 1 and dataflow == 2)
            do_if = track_ifmap and not (skip_repeats and if_same and if_prev_zero)
            do_fi = track_filter and not (skip_repeats and fi_same and fi_prev_zero)
            if_misses0 = ifs[RB_COUNT]
            fi_misses0 = fis[RB_COUNT]
            util_sum += (ru * cu * t_dim) / (ar * ac * util_cycles)
            for t in range(rows_per_fold):
                cycle = g + stalls
                n_if = 0
                n_fi = 0
                any_fi = False
                # ---- ifmap requests of this row, array positions ascending
                if dataflow == 0:
                    lo = max(0, t - k_dim + 1)
                    hi = min(ru, t + 1)
                    for c in range(lo, hi):
                        pm = r0 + c
                        wk = t - c
                        if all_valid or (prow[pm] + wrow[wk] < ifmap_h and pcol[pm] + wcol[wk] < ifmap_w):
                            ibuf[n_if] = pbase[pm] + woff[wk]
                            n_if += 1
                            if not do_if:
                                break
                elif dataflow == 1 and opt_block > 0:
                    i = t - ar
                    if 0 <= i < m_dim + ar - 1:
                        for j in range(max(0, i - m_dim + 1), min(opt_blocks, i + 1)):
                            pm = i - j
                            col0 = fr * 2 * ar + (j // half) * opt_block
                            for q in range(min(opt_block, k_orig - col0)):
                                wk = col0 + q
                                if all_valid or (prow[pm] + wrow[wk] < ifmap_h and pcol[pm] + wcol[wk] < ifmap_w):
                                    ibuf[n_if] = pbase[pm] + woff[wk]
                                    n_if += 1
                elif dataflow == 1:
                    lo = max(0, t - ar - m_dim + 1)
                    hi = min(ru, t - ar + 1)
                    for c in range(lo, hi):
                        pm = t - c - ar
                        wk = r0 + c
                        if all_valid or (prow[pm] + wrow[wk] < ifmap_h and pcol[pm] + wcol[wk] < ifmap_w):
                            ibuf[n_if] = pbase[pm] + woff[wk]
                            n_if += 1
                            if not do_if:
                                break
                elif t < ar and ar - 1 - t < ru:
                    krow = r0 + ar - 1 - t
                    for c in range(cu):
                        pm = c0 + c
                        if all_valid or (prow[pm] + wrow[krow] < ifmap_h and pcol[pm] + wcol[krow] < ifmap_w):
                            ibuf[n_if] = pbase[pm] + woff[krow]
                            n_if += 1
                            if not do_if:
                                break
                # ---- filter requests of this row
                if dataflow == 0:
                    lo = max(0, t - k_dim + 1)
                    hi = min(cu, t + 1)
                    any_fi = lo < hi
                    if do_fi:
                        for c in range(lo, hi):
                            fbuf[n_fi] = kmap[t - c] + (c0 + c) * k_orig
                            n_fi += 1
                elif dataflow == 1:
                    if t < ar and ar - 1 - t < ru:
                        krow = r0 + ar - 1 - t
                        if opt_block > 0:
                            for c in range(cu):
                                addr = filter_slot(krow, c0 + c, k_orig, opt_block, col_nnz)
                                if addr >= 0:
                                    fbuf[n_fi] = addr
                                    n_fi += 1
                            any_fi = n_fi > 0
                        else:
                            any_fi = True
                            if do_fi:
                                for c in range(cu):
                                    fbuf[n_fi] = kmap[krow] + (c0 + c) * k_orig
                                    n_fi += 1
                else:
                    lo = max(0, t - ar - n_dim + 1)
                    hi = min(ru, t - ar + 1)
                    any_fi = lo < hi
                    if do_fi:
                        for c in range(lo, hi):
                            fbuf[n_fi] = kmap[r0 + c] + (t - c - ar) * k_orig
                            n_fi += 1
                if_off = 1
                fi_off = 1
                if user:
                    up = uparams[0]
                    if_off = user_read_row(ustate[0], if_ptr, if_ids, ibuf, n_if, cycle, up[0],
                                           up[1], up[2], up[3], up[4], up[5], up[6])
                    up = uparams[1]
                    fi_off = user_read_row(ustate[1], fi_ptr, fi_ids, fbuf, n_fi, cycle, up[0],
                                           up[1], up[2], up[3], up[4], up[5], up[6])
                else:
                    if do_if:
                        read_buffer_row(ifs, ifmap_last_window, ibuf, n_if, cycle, ifmap_items_per_set)
                    if do_fi:
                        read_buffer_row(fis, filter_last_window, fbuf, n_fi, cycle, filter_items_per_set)
                n_writes = ofmap_writes(dataflow, t, ru, cu, ar, k_dim, t_dim)
                out_cycle = write_buffer_row(wb, lines, n_writes, cycle, active_words, lines_per_drain, drain_bw)
                stalls += max(if_off - 1, fi_off - 1, out_cycle - cycle)
                if n_if > 0:
                    if spans[0] < 0:
                        spans[0] = cycle + if_off
                    spans[1] = cycle + if_off
                if any_fi:
                    if spans[2] < 0:
                        spans[2] = cycle + fi_off
                    spans[3] = cycle + fi_off
                if n_writes > 0:
                    if spans[4] < 0:
                        spans[4] = out_cycle
                    spans[5] = out_cycle
                g += 1
            if_prev_zero = ifs[RB_COUNT] == if_misses0
            fi_prev_zero = fis[RB_COUNT] == fi_misses0
    write_buffer_flush(wb, lines, out_cycle, lines_per_drain, drain_bw)
    n_folds = row_folds * col_folds
    out_float[0] = map_sum / n_folds
    out_float[1] = util_sum / n_folds
    store_results(out_int, g, stalls, out_cycle, ifs, fis, wb, spans, track_ifmap, track_filter,
                  ifmap_items_per_set, ifmap_fill_bw, filter_items_per_set, filter_fill_bw)
