"""Numba kernels of the cycle-level systolic array: real operands move through PE registers.

Each kernel simulates an R x C array (physical ``rows`` x ``cols``) one clock cycle at a
time for every fold of a batch of groups (group outermost, then column folds, then row
folds, as in the analytical model of ``simulator.kernels.systolic``). Every PE holds
registers; each cycle a PE reads its neighbours' registers of the previous cycle, performs
at most one multiply-accumulate, and latches the values it forwards. Operand blocks smaller
than the array (edge folds) are padded with zero tokens, so the pipeline timing depends on
the physical array only; a MAC on a padding token is not *useful* and is not counted as
activity.

A phase ends when its data says so (every PE has done its MACs, every output or partial
sum has left the array, the first weight row has reached the bottom), never by a formula:
the cycle count is measured. ``simulator.cycle`` validates arguments, allocates the arrays
and checks the counts against the analytical model.

Micro-architecture (cycles of one fold, physical R rows and C columns):

* output stationary (``os_cycles``): row i of A (Sr x T) enters from the left delayed by
  i cycles, column j of B (T x Sc) from the top delayed by j; PE(i, j) multiplies the pair
  it holds into its stationary accumulator and forwards A right and B down. PE(i, j) does
  its T MACs in cycles [i + j, i + j + T - 1]: compute R + C + T - 2 cycles. Then the
  accumulators drain down the columns, one row per cycle: R cycles.
* weight / input stationary (``stationary_cycles``): R cycles to shift the stationary block
  S (Sr x Sc) down into the PEs, then the streamed matrix X (Sr x T) enters from the left,
  row i delayed by i; partial sums flow down the columns and leave at the bottom, column j
  delayed by j: T + R + C - 2 cycles. Partial sums of successive row folds are added in
  the output buffer (``out``), outside the array.

Per-cycle activity (useful MACs in that cycle) is written to ``activity``; the kernels
return the number of cycles simulated, or -1 if ``activity`` is too short (a broken
invariant that the wrapper reports).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def os_cycles(a: np.ndarray, b: np.ndarray, rows: int, cols: int, out: np.ndarray,
              activity: np.ndarray) -> int:
    """Output-stationary array: ``out[g] = a[g] @ b[g]`` for every group ``g``.

    Args:
        a: (G, Sr, T) streamed from the left (one array row per operand-matrix row).
        b: (G, T, Sc) streamed from the top (one array column per operand-matrix column).
        rows, cols: physical array size R x C.
        out: (G, Sr, Sc) output, written as the accumulators drain.
        activity: per-cycle useful MACs (length >= cycles simulated).

    Returns:
        cycles simulated (all groups and folds), or -1 if ``activity`` is too short.
    """
    groups, sr, t_len = a.shape[0], a.shape[1], a.shape[2]
    sc = b.shape[2]
    R, C = rows, cols
    zero = a.dtype.type(0)
    a_val = np.zeros((R, C), a.dtype)
    b_val = np.zeros((R, C), a.dtype)
    acc = np.zeros((R, C), a.dtype)
    a_tok = np.zeros((R, C), np.bool_)
    b_tok = np.zeros((R, C), np.bool_)
    a_use = np.zeros((R, C), np.bool_)
    b_use = np.zeros((R, C), np.bool_)
    row_tag = np.full(R, -1, np.int64)  # drain: which array row's results each row register holds
    cyc = 0
    cap = activity.shape[0]
    for g in range(groups):
        for c0 in range(0, sc, C):
            cols_f = min(C, sc - c0)
            for r0 in range(0, sr, R):
                rows_f = min(R, sr - r0)
                acc[:, :] = zero
                a_tok[:, :] = False
                b_tok[:, :] = False
                macs_done = 0
                c = 0
                # ---- compute phase: skewed injection, forwarding, accumulation
                while macs_done < R * C * t_len:
                    if cyc >= cap:
                        return -1
                    active = 0
                    for i in range(R - 1, -1, -1):
                        for j in range(C - 1, -1, -1):
                            if j == 0:  # left edge: row i of A, delayed by i
                                k = c - i
                                ta = 0 <= k < t_len
                                ua = ta and i < rows_f
                                va = a[g, r0 + i, k] if ua else zero
                            else:
                                ta, ua, va = a_tok[i, j - 1], a_use[i, j - 1], a_val[i, j - 1]
                            if i == 0:  # top edge: column j of B, delayed by j
                                k = c - j
                                tb = 0 <= k < t_len
                                ub = tb and j < cols_f
                                vb = b[g, k, c0 + j] if ub else zero
                            else:
                                tb, ub, vb = b_tok[i - 1, j], b_use[i - 1, j], b_val[i - 1, j]
                            if ta and tb:
                                acc[i, j] += va * vb
                                macs_done += 1
                                if ua and ub:
                                    active += 1
                            a_tok[i, j], a_use[i, j], a_val[i, j] = ta, ua, va
                            b_tok[i, j], b_use[i, j], b_val[i, j] = tb, ub, vb
                    activity[cyc] = active
                    cyc += 1
                    c += 1
                # ---- drain phase: accumulators shift down one row per cycle, bottom row leaves
                for i in range(R):
                    row_tag[i] = i
                exited = 0
                while exited < R:
                    if cyc >= cap:
                        return -1
                    tag = row_tag[R - 1]
                    if tag >= 0:
                        if tag < rows_f:
                            for j in range(cols_f):
                                out[g, r0 + tag, c0 + j] = acc[R - 1, j]
                        exited += 1
                    for i in range(R - 1, 0, -1):
                        row_tag[i] = row_tag[i - 1]
                        for j in range(C):
                            acc[i, j] = acc[i - 1, j]
                    row_tag[0] = -1
                    activity[cyc] = 0
                    cyc += 1
    return cyc


@njit(cache=True)
def stationary_cycles(s: np.ndarray, x: np.ndarray, rows: int, cols: int, out: np.ndarray,
                      activity: np.ndarray) -> int:
    """Weight/input-stationary array: ``out[g] += x[g].T @ s[g]`` for every group ``g``.

    Args:
        s: (G, Sr, Sc) the stationary operand (weights for ws, im2col inputs transposed for is).
        x: (G, Sr, T) the streamed operand, one array row per operand-matrix row.
        rows, cols: physical array size R x C.
        out: (G, T, Sc) output buffer (zeroed by the caller); partial sums of row folds add here.
        activity: per-cycle useful MACs (length >= cycles simulated).

    Returns:
        cycles simulated (all groups and folds), or -1 if ``activity`` is too short.
    """
    groups, sr, sc = s.shape[0], s.shape[1], s.shape[2]
    t_len = x.shape[2]
    R, C = rows, cols
    zero = s.dtype.type(0)
    w_val = np.zeros((R, C), s.dtype)
    w_tok = np.zeros((R, C), np.bool_)
    w_use = np.zeros((R, C), np.bool_)
    x_val = np.zeros((R, C), s.dtype)
    x_tok = np.zeros((R, C), np.bool_)
    x_use = np.zeros((R, C), np.bool_)
    p_val = np.zeros((R, C), s.dtype)
    p_tok = np.zeros((R, C), np.bool_)
    p_idx = np.zeros((R, C), np.int64)
    x_idx = np.zeros((R, C), np.int64)
    cyc = 0
    cap = activity.shape[0]
    for g in range(groups):
        for c0 in range(0, sc, C):
            cols_f = min(C, sc - c0)
            for r0 in range(0, sr, R):
                rows_f = min(R, sr - r0)
                # ---- load phase: the stationary block shifts down from the top, last row first
                w_tok[:, :] = False
                l = 0
                while not w_tok[R - 1, 0]:
                    if cyc >= cap:
                        return -1
                    src = R - 1 - l
                    for i in range(R - 1, 0, -1):
                        for j in range(C):
                            w_val[i, j], w_tok[i, j], w_use[i, j] = w_val[i - 1, j], w_tok[i - 1, j], w_use[i - 1, j]
                    for j in range(C):
                        u = src < rows_f and j < cols_f
                        w_val[0, j] = s[g, r0 + src, c0 + j] if u else zero
                        w_tok[0, j] = True
                        w_use[0, j] = u
                    activity[cyc] = 0
                    cyc += 1
                    l += 1
                # ---- stream phase: X enters skewed by row, partial sums flow down and leave
                x_tok[:, :] = False
                p_tok[:, :] = False
                exited = 0
                c = 0
                while exited < C * t_len:
                    if cyc >= cap:
                        return -1
                    active = 0
                    for i in range(R - 1, -1, -1):
                        for j in range(C - 1, -1, -1):
                            if j == 0:  # left edge: row i of X, delayed by i
                                k = c - i
                                tx = 0 <= k < t_len
                                ux = tx and i < rows_f
                                vx = x[g, r0 + i, k] if ux else zero
                                ix = k
                            else:
                                tx, ux, vx, ix = x_tok[i, j - 1], x_use[i, j - 1], x_val[i, j - 1], x_idx[i, j - 1]
                            if i == 0:  # a fresh partial sum starts with the streamed operand
                                tp, vp, ip = tx, zero, ix
                            else:
                                tp, vp, ip = p_tok[i - 1, j], p_val[i - 1, j], p_idx[i - 1, j]
                            if tx and tp:
                                vp += w_val[i, j] * vx
                                if ux and w_use[i, j]:
                                    active += 1
                            x_tok[i, j], x_use[i, j], x_val[i, j], x_idx[i, j] = tx, ux, vx, ix
                            p_tok[i, j], p_val[i, j], p_idx[i, j] = tp, vp, ip
                    for j in range(C):  # bottom edge: partial sums leave into the output buffer
                        if p_tok[R - 1, j]:
                            if j < cols_f:
                                out[g, p_idx[R - 1, j], c0 + j] += p_val[R - 1, j]
                            exited += 1
                    activity[cyc] = active
                    cyc += 1
                    c += 1
    return cyc
