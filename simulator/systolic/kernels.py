"""Numba kernels of the analytical systolic-array model (first principles, per fold).

One call evaluates a batch of (layer, dataflow) cases. Each case is a row of ``CASE_FIELDS``
integers; the kernel writes a row of ``OUT_FIELDS`` into a caller-allocated array. No
validation here: ``simulator.systolic.model`` validates and builds the cases.

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
"""

from __future__ import annotations

import numpy as np
from numba import njit

CASE_FIELDS = ("sr", "sc", "t", "groups", "rows", "cols", "dataflow", "in_bytes_unique", "w_bytes_unique",
               "in_cap_bytes", "w_cap_bytes", "out_cap_bytes", "in_elem_bytes", "w_elem_bytes",
               "out_elem_bytes", "dram_latency_cycles", "macs")
OUT_FIELDS = ("compute_cycles", "total_cycles", "folds", "mapping_efficiency", "sram_reads_ifmap",
              "sram_reads_filter", "sram_writes_ofmap", "sram_reads_ofmap", "dram_reads_ifmap",
              "dram_reads_filter", "dram_writes_ofmap", "dram_reads_ofmap")

DATAFLOW_IDS = {"os": 0, "ws": 1, "is": 2}


@njit(cache=True)
def _ceil_div(a: float, b: float) -> int:
    if a <= 0.0:
        return 0
    q = int(a // b)
    return q + 1 if q * b < a else q


@njit(cache=True)
def fold_cycles(rows: int, cols: int, t: int) -> int:
    """Cycles of one fold (all three dataflows: fill/load R, skew R + C - 2, T steps)."""
    return 2 * rows + cols + t - 2


@njit(cache=True)
def evaluate_cases(cases: np.ndarray, read_bw: float, write_bw: float, out: np.ndarray) -> None:
    """Evaluate every case (row of ``cases``) into the matching row of ``out``."""
    for i in range(cases.shape[0]):
        c = cases[i]
        folds = c[3] * ((c[0] + c[4] - 1) // c[4]) * ((c[1] + c[5] - 1) // c[5])
        load = np.empty(folds)
        write = np.empty(folds)
        fold_traffic(c, load, write, out[i])
        per_fold = fold_cycles(c[4], c[5], c[2])
        out[i, 1] = double_buffer_cycles(load, write, per_fold, read_bw, write_bw, c[15])


@njit(cache=True)
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


@njit(cache=True)
def fold_traffic(c: np.ndarray, load_bytes: np.ndarray, write_bytes: np.ndarray, o: np.ndarray) -> None:
    """Per-fold DRAM bytes (fetched before / written after each fold) and the layer's counts.

    Fills ``load_bytes`` and ``write_bytes`` (one entry per fold, execution order) and
    ``o`` (``OUT_FIELDS``; ``total_cycles`` is left to ``double_buffer_cycles``).
    """
    fr_n = (c[0] + c[4] - 1) // c[4]
    fc_n = (c[1] + c[5] - 1) // c[5]
    load_cls = np.zeros((3, 3))
    write_cls = np.zeros((3, 3))
    fold_classes(c, load_cls, write_cls, o)
    f = 0
    for _g in range(c[3]):
        for fc in range(fc_n):
            ci = fold_class(fc, fc_n)
            for fr in range(fr_n):
                ri = fold_class(fr, fr_n)
                load_bytes[f] = load_cls[ci, ri]
                write_bytes[f] = write_cls[ci, ri]
                f += 1


@njit(cache=True)
def fold_class(i: int, n: int) -> int:
    """Class of fold ``i`` of ``n`` along one axis: 0 first, 1 middle, 2 last (a single fold is first)."""
    if i == 0:
        return 0
    return 2 if i == n - 1 else 1


@njit(cache=True)
def fold_classes(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, o: np.ndarray) -> None:
    """DRAM bytes of each fold class (``[column class, row class]``, see ``fold_class``) and the layer's
    counts in ``o`` (``OUT_FIELDS`` except total_cycles): folds of one class are identical."""
    fr_n = (c[0] + c[4] - 1) // c[4]
    fc_n = (c[1] + c[5] - 1) // c[5]
    acc = np.zeros(9)
    for ci in range(3):
        fc = 0 if ci == 0 else (1 if ci == 1 else fc_n - 1)
        n_fc = 1 if ci != 1 else fc_n - 2
        if (ci > 0 and fc_n < 2) or (ci == 1 and fc_n < 3):
            continue
        for ri in range(3):
            fr = 0 if ri == 0 else (1 if ri == 1 else fr_n - 1)
            n_fr = 1 if ri != 1 else fr_n - 2
            if (ri > 0 and fr_n < 2) or (ri == 1 and fr_n < 3):
                continue
            load, write = fold_bytes(c, fc, fr, float(c[3] * n_fc * n_fr), acc)
            load_cls[ci, ri] = load
            write_cls[ci, ri] = write
    folds = c[3] * fr_n * fc_n
    o[0] = folds * fold_cycles(c[4], c[5], c[2])
    o[2] = folds
    o[3] = acc[8] / folds
    for k in range(8):
        o[4 + k] = acc[k]
    o[8] = round(acc[4])


@njit(cache=True)
def fold_bytes(c: np.ndarray, fc: int, fr: int, mult: float, acc: np.ndarray) -> tuple[float, float]:
    """One fold (column fold ``fc``, row fold ``fr``): its DRAM bytes to fetch before and write after it;
    adds ``mult`` times its counts to ``acc`` (sram in/w/out-write/out-read, dram in/w/out-write/out-read,
    mapping-efficiency sum). Every fold of the same class (first/middle/last row and column fold) is equal.
    """
    sr, sc, t, R, C, df = c[0], c[1], c[2], c[4], c[5], c[6]
    in_unique = float(c[7])
    in_cap, w_cap, out_cap = float(c[9]), float(c[10]), float(c[11])
    eb_in, eb_w, eb_out = float(c[12]), float(c[13]), float(c[14])
    fr_n = (sr + R - 1) // R
    in_fits = in_unique <= in_cap
    w_fits = float(c[8]) <= w_cap
    cols_f = min(C, sc - fc * C)
    rows_f = min(R, sr - fr * R)
    acc[8] += mult * (rows_f * cols_f / (R * C))
    load = 0.0  # bytes to fetch before this fold
    write = 0.0  # bytes to write after this fold
    if df == 0:  # output stationary: rows = output pixels, cols = filters, T = C*R*S
        acc[0] += mult * (rows_f * t)
        acc[1] += mult * (t * cols_f)
        acc[2] += mult * (rows_f * cols_f)
        if fc == 0 or not in_fits:
            share = in_unique * rows_f / sr
            acc[4] += mult * (share / eb_in)
            load += share
        if fr == 0 or t * cols_f * eb_w > w_cap:
            acc[5] += mult * (t * cols_f)
            load += t * cols_f * eb_w
        acc[6] += mult * (rows_f * cols_f)
        write += rows_f * cols_f * eb_out
        return load, write
    # ws: rows = C*R*S, cols = filters, T = output pixels (weights stationary)
    # is: rows = C*R*S, cols = output pixels, T = filters (inputs stationary)
    acc[2] += mult * (t * cols_f)
    if fr > 0:
        acc[3] += mult * (t * cols_f)
    if df == 1:
        acc[1] += mult * (rows_f * cols_f)
        acc[0] += mult * (rows_f * t)
        acc[5] += mult * (rows_f * cols_f)
        load += rows_f * cols_f * eb_w
        if fc == 0 or not in_fits:
            share = in_unique * rows_f / sr
            acc[4] += mult * (share / eb_in)
            load += share
    else:
        acc[0] += mult * (rows_f * cols_f)
        acc[1] += mult * (rows_f * t)
        share = in_unique * rows_f * cols_f / (sr * sc)
        acc[4] += mult * (share / eb_in)
        load += share
        if fc == 0 or not w_fits:
            acc[5] += mult * (rows_f * t)
            load += rows_f * t * eb_w
    block = t * cols_f * eb_out  # partial-sum block accumulated over row folds
    if block <= out_cap:
        if fr == fr_n - 1:
            acc[6] += mult * (t * cols_f)
            write += block
    else:
        acc[6] += mult * (t * cols_f)
        write += block
        if fr > 0:
            acc[7] += mult * (t * cols_f)
            load += block
    return load, write


@njit(cache=True)
def evaluate_cases_runs(cases: np.ndarray, read_bw: float, write_bw: float, out: np.ndarray) -> None:
    """``evaluate_cases`` without walking every fold: the same outputs in time independent of the fold count.

    Folds of one class are identical (``fold_classes``), so the fold sequence is a few runs of equal
    folds, a middle column block repeated ``fold columns - 2`` times and the whole group repeated
    ``groups`` times. ``double_buffer_cycles``'s recurrence over a repeated block is a max-plus map:
    once a block's state (channel, last two fold ends) has advanced by the same amount on every
    component over ``p`` repetitions, it does so forever, so the remaining repetitions are jumped exactly.
    """
    evaluate_cases_paced(cases, np.zeros(cases.shape[0], dtype=np.int64), read_bw, write_bw, out)


@njit(cache=True)
def evaluate_cases_paced(cases: np.ndarray, pace_cycles: np.ndarray, read_bw: float, write_bw: float,
                         out: np.ndarray) -> None:
    """``evaluate_cases_runs`` with each fold of case ``i`` lasting at least ``pace_cycles[i]`` cycles
    (an SRAM tier that feeds the array slower than it computes); ``compute_cycles`` stays the array's."""
    load_cls = np.zeros((3, 3))
    write_cls = np.zeros((3, 3))
    for i in range(cases.shape[0]):
        c = cases[i]
        fold_classes(c, load_cls, write_cls, out[i])
        fr_n = (c[0] + c[4] - 1) // c[4]
        fc_n = (c[1] + c[5] - 1) // c[5]
        loads = np.zeros(9, dtype=np.int64)
        writes = np.zeros(9, dtype=np.int64)
        for ci in range(3):
            for ri in range(3):
                loads[3 * ci + ri] = _ceil_div(load_cls[ci, ri], read_bw)
                writes[3 * ci + ri] = _ceil_div(write_cls[ci, ri], write_bw)
        # state: channel free, end of fold f-1, end of fold f-2, write cycles of f-1 and f-2
        state = np.zeros(5, dtype=np.int64)
        per_fold = max(fold_cycles(c[4], c[5], c[2]), pace_cycles[i])
        _groups(state, loads, writes, per_fold, c[15], fc_n, fr_n, c[3])
        ch = max(state[0], state[2]) + state[4]
        ch = max(ch, state[1]) + state[3]
        out[i, 1] = max(state[1], ch + (c[15] if state[3] + state[4] > 0 else 0))


@njit(cache=True)
def _fold_step(state: np.ndarray, load_cycles: int, write_cycles: int, per_fold: int, latency: int) -> None:
    """One fold of ``double_buffer_cycles`` on ``state`` = (channel, end f-1, end f-2, write f-1, write f-2)."""
    ch = max(state[0], state[2]) + state[4] + load_cycles
    start = max(state[1], ch + (latency if load_cycles > 0 else 0))
    state[0] = ch
    state[2] = state[1]
    state[4] = state[3]
    state[1] = start + per_fold
    state[3] = write_cycles


@njit(cache=True)
def _record_and_jump(state: np.ndarray, hist: np.ndarray, r: int, reps: int) -> int:
    """Record the state after repetition ``r``; if it advanced by the same amount ``d`` on every
    component over the last ``p <= 6`` repetitions, jump the remaining whole periods. Returns the new ``r``
    (``reps + 1`` disables further checks once jumped)."""
    hist[r % 8, 0] = state[0]
    hist[r % 8, 1] = state[1]
    hist[r % 8, 2] = state[2]
    for p in range(1, 7):
        if r - p < 2:  # the write terms are the unit's own only after two repetitions
            break
        d = state[0] - hist[(r - p) % 8, 0]
        if state[1] - hist[(r - p) % 8, 1] == d and state[2] - hist[(r - p) % 8, 2] == d:
            q = (reps - r) // p
            state[0] += q * d
            state[1] += q * d
            state[2] += q * d
            return r + q * p
    return r


@njit(cache=True)
def _run_folds(state: np.ndarray, load_cycles: int, write_cycles: int, per_fold: int, latency: int,
               reps: int) -> None:
    """``reps`` identical folds."""
    hist = np.zeros((8, 3), dtype=np.int64)
    r = 0
    jumped = False
    while r < reps:
        _fold_step(state, load_cycles, write_cycles, per_fold, latency)
        r += 1
        if not jumped:
            new = _record_and_jump(state, hist, r, reps)
            jumped = new != r
            r = new


@njit(cache=True)
def _column_block(state: np.ndarray, loads: np.ndarray, writes: np.ndarray, per_fold: int, latency: int,
                  fr_n: int, ci: int) -> None:
    """The row folds of one column fold of class ``ci``."""
    _run_folds(state, loads[3 * ci], writes[3 * ci], per_fold, latency, 1)
    if fr_n >= 3:
        _run_folds(state, loads[3 * ci + 1], writes[3 * ci + 1], per_fold, latency, fr_n - 2)
    if fr_n >= 2:
        _run_folds(state, loads[3 * ci + 2], writes[3 * ci + 2], per_fold, latency, 1)


@njit(cache=True)
def _group(state: np.ndarray, loads: np.ndarray, writes: np.ndarray, per_fold: int, latency: int, fc_n: int,
           fr_n: int) -> None:
    """All folds of one group: first column block, the middle ones (jumped when periodic), the last."""
    _column_block(state, loads, writes, per_fold, latency, fr_n, 0)
    if fc_n >= 3:
        hist = np.zeros((8, 3), dtype=np.int64)
        r = 0
        jumped = False
        while r < fc_n - 2:
            _column_block(state, loads, writes, per_fold, latency, fr_n, 1)
            r += 1
            if not jumped:
                new = _record_and_jump(state, hist, r, fc_n - 2)
                jumped = new != r
                r = new
    if fc_n >= 2:
        _column_block(state, loads, writes, per_fold, latency, fr_n, 2)


@njit(cache=True)
def _groups(state: np.ndarray, loads: np.ndarray, writes: np.ndarray, per_fold: int, latency: int, fc_n: int,
            fr_n: int, groups: int) -> None:
    """Every group of a layer (jumped when periodic)."""
    hist = np.zeros((8, 3), dtype=np.int64)
    r = 0
    jumped = False
    while r < groups:
        _group(state, loads, writes, per_fold, latency, fc_n, fr_n)
        r += 1
        if not jumped:
            new = _record_and_jump(state, hist, r, groups)
            jumped = new != r
            r = new
