"""Numba kernels of the analytical systolic-array model (first principles, per fold).

A (layer, dataflow) case is a row of ``CASE_FIELDS`` integers; ``fold_classes`` gives its counts
(``OUT_FIELDS``) and the DRAM bytes of each class of fold, ``runs_cycles`` its time (the fold sequence as
runs of equal folds, periodic parts jumped), ``chunk_cycles`` one core's chunk of it, and
``fold_traffic`` / ``double_buffer_cycles`` the same fold by fold (what the event fidelity replays). No
validation here: ``simulator.systolic.batch`` lowers and ``layer_kernels`` runs the cases.

Model (documented in docs/systolic_model.md):

* A fold maps an R x C block of the (Sr x Sc) operand matrix onto the array and streams
  T operands through it. Fold cycles: output stationary ``2R + C + T - 2`` (fill R + C - 2,
  T MAC steps, R cycles to drain the outputs); weight/input stationary ``2R + C + T - 2``
  (R cycles to load the stationary block, T + R + C - 2 to stream). Folds run column-fold
  outer, row-fold inner, for each group.
* SRAM traffic is what enters/leaves the array edges: streamed operands once per fold
  they feed; stationary operands once; outputs once (os) or as partial sums per row fold
  (ws/is, which also read earlier partial sums back).
* DRAM traffic: each operand buffer is double buffered, so half of its SRAM holds the
  working tile. An operand whose unique bytes fit that half is fetched once. Otherwise a
  tile is fetched again whenever a fold needs it and the previous fold did not (cyclic
  streams larger than a buffer get no reuse). Partial sums that do not fit spill to DRAM.
* Timing: one DRAM channel, prefetch of fold f+1 and write-back of fold f-1 overlap fold f;
  a fold starts when its inputs have arrived (latency included) and the previous fold is
  done. Stall cycles = total - sum of fold cycles.
* N:M weight sparsity (``NM_N`` < ``NM_M``; 0, 0 when dense): the case's reduction extent (T on
  os, Sr on ws and is) is already the kept one; every weight stored or moved carries ``W_META_BITS``
  of position metadata; on ws each kept reduction row reads its M-block of inputs, so ifmap SRAM
  reads are M/N per kept row; on os and is the layer runs as the dense one over its kept rows, each
  input streamed (os) or held (is) once (SCALE-Sim 3.0.0's rules).
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from acceldse.simulator.systolic.jit import kernel


class Case(IntEnum):
    """Columns of a kernel case (one layer on one design, all integers)."""

    SR = 0  # rows of the operand matrix (per group)
    SC = 1  # columns of the operand matrix
    T = 2  # operands streamed through the array per fold
    GROUPS = 3
    ROWS = 4  # PE array rows and columns
    COLS = 5
    DATAFLOW = 6  # DATAFLOW_IDS
    IN_BYTES_UNIQUE = 7  # bytes of one group's input and of the weights
    W_BYTES_UNIQUE = 8
    IN_CAP_BYTES = 9  # half of each SRAM partition (double buffered)
    W_CAP_BYTES = 10
    OUT_CAP_BYTES = 11
    IN_ELEM_BYTES = 12  # bytes per operand, widened to the hardware word
    W_ELEM_BYTES = 13
    OUT_ELEM_BYTES = 14
    DRAM_LATENCY_CYCLES = 15
    MACS = 16  # MACs performed (N:M: on kept weights only)
    W_META_BITS = 17  # N:M position metadata per kept weight (0 dense)
    NM_N = 18  # the N:M ratio (0, 0 dense): on ws each kept reduction row reads M/N inputs
    NM_M = 19


class Out(IntEnum):
    """Columns of a kernel output row (one layer on one design)."""

    COMPUTE_CYCLES = 0
    TOTAL_CYCLES = 1
    FOLDS = 2
    MAPPING_EFFICIENCY = 3
    SRAM_READS_IFMAP = 4
    SRAM_READS_FILTER = 5
    SRAM_WRITES_OFMAP = 6
    SRAM_READS_OFMAP = 7
    DRAM_READS_IFMAP = 8
    DRAM_READS_FILTER = 9
    DRAM_WRITES_OFMAP = 10
    DRAM_READS_OFMAP = 11


CASE_FIELDS = tuple(m.name.lower() for m in Case)
OUT_FIELDS = tuple(m.name.lower() for m in Out)
N_OUT = len(OUT_FIELDS)
COUNT_FIELDS = OUT_FIELDS[Out.SRAM_READS_IFMAP:]
"""The access counts of a layer (elements): SRAM then DRAM; ifmap, filter, ofmap writes, ofmap reads."""

DATAFLOW_IDS = {"os": 0, "ws": 1, "is": 2}


@kernel
def _ceil_div(a: float, b: float) -> int:
    """The least integer q with ``q * b >= a`` in float arithmetic (0 for ``a <= 0``; ``b > 0``). ``floor(a / b)``
    is that q or one less (the rounded quotient is within one of the exact one while ``b > 2**-52 a``); the
    check picks, so no floor division (``//`` on floats is several times slower)."""
    if a <= 0.0:
        return 0
    q = math.floor(a / b)
    return q + 1 if q * b < a else q


@kernel
def fold_cycles(rows: int, cols: int, t: int) -> int:
    """Cycles of one fold (all three dataflows: fill/load R, skew R + C - 2, T steps)."""
    return 2 * rows + cols + t - 2


@kernel
def row_folds(c: np.ndarray) -> int:
    """Folds along the operand matrix's rows of one case (``Case`` columns)."""
    return (c[Case.SR] + c[Case.ROWS] - 1) // c[Case.ROWS]


@kernel
def col_folds(c: np.ndarray) -> int:
    """Folds along the operand matrix's columns of one case."""
    return (c[Case.SC] + c[Case.COLS] - 1) // c[Case.COLS]


@kernel
def case_folds(c: np.ndarray) -> int:
    """Every fold of one case: groups x row folds x column folds."""
    return c[Case.GROUPS] * row_folds(c) * col_folds(c)


@kernel
def double_buffer_cycles(load_bytes: np.ndarray, write_bytes: np.ndarray, per_fold: int, read_bw: float,
                         write_bw: float, latency: int) -> int:
    """Total cycles of a fold sequence on one DRAM channel with double-buffered SRAM.

    Fold f's inputs are fetched once fold f-2 has finished (its buffer half is free), after
    fold f-2's outputs are written back; fold f starts when they have arrived (``latency``
    after the transfer) and fold f-1 is done. The last two folds' outputs drain at the end.
    """
    ch = 0
    end_m1 = 0
    end_m2 = 0
    w_m1 = 0
    w_m2 = 0
    for f in range(load_bytes.shape[0]):
        load_cycles = _ceil_div(load_bytes[f], read_bw)
        ch = max(ch, end_m2) + w_m2 + load_cycles
        ready = ch + (latency if load_cycles > 0 else 0)
        start = max(end_m1, ready)
        end_m2, w_m2 = end_m1, w_m1
        end_m1, w_m1 = start + per_fold, _ceil_div(write_bytes[f], write_bw)
    ch = max(ch, end_m2) + w_m2
    ch = max(ch, end_m1) + w_m1
    return max(end_m1, ch + (latency if w_m1 + w_m2 > 0 else 0))


@kernel
def fold_traffic(c: np.ndarray, load_bytes: np.ndarray, write_bytes: np.ndarray, o: np.ndarray) -> None:
    """Per-fold DRAM bytes (fetched before / written after each fold) and the layer's counts.

    Fills ``load_bytes`` and ``write_bytes`` (one entry per fold, execution order) and
    ``o`` (``OUT_FIELDS``; ``total_cycles`` is left to ``double_buffer_cycles``).
    """
    fr_n, fc_n = row_folds(c), col_folds(c)
    load_cls = np.zeros((3, 3))
    write_cls = np.zeros((3, 3))
    fold_classes(c, load_cls, write_cls, o)
    f = 0
    for _g in range(c[Case.GROUPS]):
        for fc in range(fc_n):
            ci = fold_class(fc, fc_n)
            for fr in range(fr_n):
                ri = fold_class(fr, fr_n)
                load_bytes[f] = load_cls[ci, ri]
                write_bytes[f] = write_cls[ci, ri]
                f += 1


@kernel
def fold_class(i: int, n: int) -> int:
    """Class of fold ``i`` of ``n`` along one axis: 0 first, 1 middle, 2 last (a single fold is first)."""
    if i == 0:
        return 0
    return 2 if i == n - 1 else 1


@kernel
def fold_classes(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, o: np.ndarray) -> None:
    """DRAM bytes of each fold class (``[column class, row class]``, see ``fold_class``) and the layer's
    counts in ``o`` (``OUT_FIELDS`` except total_cycles): folds of one class are identical, so each class's
    counts are added ``groups x its column folds x its row folds`` times (classes in order, one sum per count).

    One fold of column fold ``fc`` and row fold ``fr`` fetches its ``load`` bytes before and writes its ``write``
    bytes after it:

    * os (rows = output pixels, cols = filters, T = C*R*S): ifmap, filter and ofmap SRAM traffic of its block;
      its input rows fetched on the first column fold (every fold when the input does not fit its buffer
      half), its filter block on the first row fold (every fold when that block does not fit), its outputs
      written;
    * ws (rows = C*R*S, cols = filters, T = output pixels) and is (cols = output pixels, T = filters): partial
      sums written every fold and read back after the first row fold; ws fetches its weight block every fold
      and its input rows as os does, is its input block every fold and its filter rows on the first column
      fold (every fold when the weights do not fit); a partial-sum block that fits the ofmap half is written
      once after the last row fold, else spilled (written every fold, read back after the first).
    """
    sr, sc, t, R, C, df = c[Case.SR], c[Case.SC], c[Case.T], c[Case.ROWS], c[Case.COLS], c[Case.DATAFLOW]
    fr_n, fc_n = row_folds(c), col_folds(c)
    in_unique = float(c[Case.IN_BYTES_UNIQUE])
    w_cap, out_cap = float(c[Case.W_CAP_BYTES]), float(c[Case.OUT_CAP_BYTES])
    eb_in, eb_w, eb_out = float(c[Case.IN_ELEM_BYTES]), float(c[Case.W_ELEM_BYTES]), float(c[Case.OUT_ELEM_BYTES])
    in_fits = in_unique <= float(c[Case.IN_CAP_BYTES])
    w_move = eb_w  # bytes per weight moved: data plus N:M position metadata
    w_unique = float(c[Case.W_BYTES_UNIQUE])
    in_scale = 1.0  # inputs read per kept reduction row (M/N on ws)
    if c[Case.NM_N] > 0:
        w_move = eb_w + c[Case.W_META_BITS] / 8.0
        w_unique = w_unique / eb_w * w_move
        in_scale = c[Case.NM_M] / c[Case.NM_N]
    w_fits = w_unique <= w_cap
    groups = c[Case.GROUPS]
    # the sums of the Out counts over every fold (mapping efficiency: of the folds' shares)
    eff = sr_in = sr_w = sw_out = sr_out = dr_in = dr_w = dw_out = dr_out = 0.0
    for ci in range(3):
        fc = 0 if ci == 0 else (1 if ci == 1 else fc_n - 1)
        n_fc = 1 if ci != 1 else fc_n - 2
        if (ci > 0 and fc_n < 2) or (ci == 1 and fc_n < 3):
            continue
        cols_f = min(C, sc - fc * C)
        for ri in range(3):
            fr = 0 if ri == 0 else (1 if ri == 1 else fr_n - 1)
            n_fr = 1 if ri != 1 else fr_n - 2
            if (ri > 0 and fr_n < 2) or (ri == 1 and fr_n < 3):
                continue
            mult = float(groups * n_fc * n_fr)
            rows_f = min(R, sr - fr * R)
            eff += mult * (rows_f * cols_f / (R * C))
            load = 0.0
            write = 0.0
            if df == 0:
                sr_in += mult * (rows_f * t)
                sr_w += mult * (t * cols_f)
                sw_out += mult * (rows_f * cols_f)
                if fc == 0 or not in_fits:
                    share = in_unique * rows_f / sr
                    dr_in += mult * (share / eb_in)
                    load += share
                if fr == 0 or t * cols_f * w_move > w_cap:
                    dr_w += mult * (t * cols_f)
                    load += t * cols_f * w_move
                dw_out += mult * (rows_f * cols_f)
                write += rows_f * cols_f * eb_out
            else:
                sw_out += mult * (t * cols_f)
                if fr > 0:
                    sr_out += mult * (t * cols_f)
                if df == 1:
                    sr_w += mult * (rows_f * cols_f)
                    sr_in += mult * (rows_f * t * in_scale)
                    dr_w += mult * (rows_f * cols_f)
                    load += rows_f * cols_f * w_move
                    if fc == 0 or not in_fits:
                        share = in_unique * rows_f / sr
                        dr_in += mult * (share / eb_in)
                        load += share
                else:
                    sr_in += mult * (rows_f * cols_f)
                    sr_w += mult * (rows_f * t)
                    share = in_unique * rows_f * cols_f / (sr * sc)
                    dr_in += mult * (share / eb_in)
                    load += share
                    if fc == 0 or not w_fits:
                        dr_w += mult * (rows_f * t)
                        load += rows_f * t * w_move
                block = t * cols_f * eb_out  # partial-sum block accumulated over row folds
                if block <= out_cap:
                    if fr == fr_n - 1:
                        dw_out += mult * (t * cols_f)
                        write += block
                else:
                    dw_out += mult * (t * cols_f)
                    write += block
                    if fr > 0:
                        dr_out += mult * (t * cols_f)
                        load += block
            load_cls[ci, ri] = load
            write_cls[ci, ri] = write
    folds = groups * fr_n * fc_n
    o[Out.COMPUTE_CYCLES] = folds * fold_cycles(R, C, t)
    o[Out.FOLDS] = folds
    o[Out.MAPPING_EFFICIENCY] = eff / folds
    o[Out.SRAM_READS_IFMAP] = sr_in
    o[Out.SRAM_READS_FILTER] = sr_w
    o[Out.SRAM_WRITES_OFMAP] = sw_out
    o[Out.SRAM_READS_OFMAP] = sr_out
    o[Out.DRAM_READS_IFMAP] = round(dr_in)
    o[Out.DRAM_READS_FILTER] = dr_w
    o[Out.DRAM_WRITES_OFMAP] = dw_out
    o[Out.DRAM_READS_OFMAP] = dr_out


@kernel
def runs_cycles(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, per_fold: int, read_bw: float,
                write_bw: float) -> int:
    """``double_buffer_cycles`` of case ``c``'s whole fold sequence from its fold classes' DRAM bytes
    (``fold_classes``), each fold lasting ``per_fold`` cycles, in time independent of the fold count.

    Folds of one class are identical, so the sequence is a few runs of equal folds, a middle column block
    repeated ``fold columns - 2`` times and the whole group repeated ``groups`` times. The recurrence over
    a repeated block is a max-plus map: once the block's state (channel, last two fold ends) has advanced
    by the same amount on every component over ``p`` repetitions, it does so forever, so the remaining
    repetitions are jumped exactly (``_jump``)."""
    return runs_cycles_in(c, load_cls, write_cls, per_fold, read_bw, write_bw, np.empty(RUNS_WORK, dtype=np.int64))


RUNS_WORK = 9 + 9 + 3 * 24
"""int64 scratch of ``runs_cycles_in``: fold-class load and write cycles, three history rings."""


@kernel
def runs_cycles_in(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, per_fold: int, read_bw: float,
                   write_bw: float, work: np.ndarray) -> int:
    """``runs_cycles`` with its scratch ``work`` (``RUNS_WORK`` int64, contents ignored): no allocation, what
    a caller running many layers uses.

    One loop nest (groups, column folds, row folds) over ``_fold_step``'s recurrence held in scalars
    (channel free, end of fold f-1 and f-2, write cycles of f-1 and f-2), each repeated level with its own
    history ring and jump: the middle row folds of a column fold, the middle column folds of a group, the
    groups."""
    latency = c[Case.DRAM_LATENCY_CYCLES]
    fr_n, fc_n, groups = row_folds(c), col_folds(c), c[Case.GROUPS]
    for k in range(9):
        work[k] = _ceil_div(load_cls[k // 3, k % 3], read_bw)
        work[9 + k] = _ceil_div(write_cls[k // 3, k % 3], write_bw)
    hist_groups, hist_cols, hist_rows = work[18:42], work[42:66], work[66:90]
    ch = end1 = end2 = w1 = w2 = 0
    g = 0
    groups_jumped = False
    while g < groups:
        b = 0  # column folds of this group done
        cols_jumped = False
        while b < fc_n:
            at = 0 if b == 0 else (6 if b == fc_n - 1 else 3)  # the column fold's class (fold_class) x 3
            load, write = work[at], work[9 + at]  # its first row fold
            ch = max(ch, end2) + w2 + load
            start = max(end1, ch + (latency if load > 0 else 0))
            end2, w2, end1, w1 = end1, w1, start + per_fold, write
            if fr_n >= 3:  # its middle row folds, all equal
                load, write = work[at + 1], work[10 + at]
                r = 0
                rows_jumped = False
                while r < fr_n - 2:
                    ch = max(ch, end2) + w2 + load
                    start = max(end1, ch + (latency if load > 0 else 0))
                    end2, w2, end1, w1 = end1, w1, start + per_fold, write
                    r += 1
                    if not rows_jumped:
                        ch, end1, end2, new = _jump(ch, end1, end2, hist_rows, r, fr_n - 2)
                        rows_jumped = new != r
                        r = new
            if fr_n >= 2:  # its last row fold
                load, write = work[at + 2], work[11 + at]
                ch = max(ch, end2) + w2 + load
                start = max(end1, ch + (latency if load > 0 else 0))
                end2, w2, end1, w1 = end1, w1, start + per_fold, write
            b += 1
            if at == 3 and not cols_jumped:  # b - 1 middle column folds done
                ch, end1, end2, new = _jump(ch, end1, end2, hist_cols, b - 1, fc_n - 2)
                cols_jumped = new != b - 1
                b = new + 1
        g += 1
        if not groups_jumped:
            ch, end1, end2, new = _jump(ch, end1, end2, hist_groups, g, groups)
            groups_jumped = new != g
            g = new
    ch = max(ch, end2) + w2  # the last two folds' outputs written (_drain)
    ch = max(ch, end1) + w1
    return max(end1, ch + (latency if w1 + w2 > 0 else 0))


@kernel
def _jump(ch: int, end1: int, end2: int, hist: np.ndarray, r: int, reps: int) -> tuple[int, int, int, int]:
    """Record the state (``ch``, ``end1``, ``end2``) after repetition ``r`` of ``reps`` in the ring ``hist``
    (8 x 3 int64, flat; only what this run of repetitions recorded is read); if it advanced by the same amount
    ``d`` on every component over the last ``p <= 6`` repetitions, jump the remaining whole periods. Returns the
    state and the new ``r``."""
    at = (r % 8) * 3
    hist[at] = ch
    hist[at + 1] = end1
    hist[at + 2] = end2
    for p in range(1, 7):
        if r - p < 2:  # the write terms are the unit's own only after two repetitions
            break
        at = ((r - p) % 8) * 3
        d = ch - hist[at]
        if end1 - hist[at + 1] == d and end2 - hist[at + 2] == d:
            q = (reps - r) // p
            return ch + q * d, end1 + q * d, end2 + q * d, r + q * p
    return ch, end1, end2, r


@kernel
def _drain(state: np.ndarray, latency: int) -> int:
    """The end of a fold sequence whose ``_fold_step`` state is ``state``: the last two folds' outputs written."""
    ch = max(state[0], state[2]) + state[4]
    ch = max(ch, state[1]) + state[3]
    return max(state[1], ch + (latency if state[3] + state[4] > 0 else 0))


@kernel
def chunk_cycles(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, per_fold: int, read_bw: float,
                 write_bw: float, start: int, stop: int) -> int:
    """``double_buffer_cycles`` of folds ``start:stop`` of case ``c``'s fold sequence (execution order),
    each fold's DRAM bytes taken from its class (``fold_classes``): no per-fold array, so memory does not
    grow with the fold count (what a core's chunk of a multi-core layer needs)."""
    fr_n, fc_n = row_folds(c), col_folds(c)
    latency = c[Case.DRAM_LATENCY_CYCLES]
    state = np.zeros(5, dtype=np.int64)
    for f in range(start, stop):
        ci = fold_class((f // fr_n) % fc_n, fc_n)
        ri = fold_class(f % fr_n, fr_n)
        _fold_step(state, _ceil_div(load_cls[ci, ri], read_bw), _ceil_div(write_cls[ci, ri], write_bw), per_fold,
                   latency)
    return _drain(state, latency)


@kernel
def _fold_step(state: np.ndarray, load_cycles: int, write_cycles: int, per_fold: int, latency: int) -> None:
    """One fold of ``double_buffer_cycles`` on ``state`` = (channel, end f-1, end f-2, write f-1, write f-2)."""
    ch = max(state[0], state[2]) + state[4] + load_cycles
    start = max(state[1], ch + (latency if load_cycles > 0 else 0))
    state[0] = ch
    state[2] = state[1]
    state[4] = state[3]
    state[1] = start + per_fold
    state[3] = write_cycles
