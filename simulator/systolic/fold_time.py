"""Numba kernels of the analytical systolic model's time: a fold sequence on one DRAM channel.

Each fold's DRAM bytes come from ``kernels`` (``fold_traffic`` fold by fold, ``fold_classes`` per class of
fold); ``double_buffer_cycles`` runs the recurrence fold by fold (what the event fidelity replays),
``runs_cycles`` the whole sequence of a case from its fold classes in time independent of the fold count
(runs of equal folds, periodic parts jumped), ``chunk_cycles`` one core's chunk of it.

Model (documented in docs/systolic_model.md): one DRAM channel, prefetch of fold f+1 and write-back of
fold f-1 overlap fold f; a fold starts when its inputs have arrived (latency included) and the previous
fold is done. Stall cycles = total - sum of fold cycles.
"""

from __future__ import annotations

import math

import numpy as np

from acceldse.simulator.systolic.jit import kernel
from acceldse.simulator.systolic.kernels import Case, col_folds, fold_class, row_folds


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
