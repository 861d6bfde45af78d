"""Numba kernels of the cycle-level systolic array: real operands move through PE registers.

Each kernel simulates an R x C array (physical ``rows`` x ``cols``) one clock cycle at a
time for every fold of a batch of groups (group outermost, then column folds, then row
folds, as in the analytical model of ``simulator.systolic.kernels``). Every PE holds
registers; each cycle a PE reads its neighbours' registers of the previous cycle, performs
at most one multiply-accumulate, and latches the values it forwards. Operand blocks smaller
than the array (edge folds) are padded with zero tokens, so the pipeline timing depends on
the physical array only; a MAC on a padding token is not *useful* and is not counted as
activity.

A phase ends when its data says so (every PE has done its MACs, every output or partial
sum has left the array, the first weight row has reached the bottom), never by a formula:
the cycle count is measured. ``simulator.systolic.cycle`` validates arguments, allocates the arrays
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

Registers carry a value and a state (``EMPTY``, ``PAD`` for a zero padding token, ``DATA``
for a real operand). The left-edge and top-edge injection ports are an extra register column
/ row of the forwarding arrays, so every PE reads its neighbour the same way.

Per-cycle activity (useful MACs in that cycle) is written to ``activity``; the kernels
return the number of cycles simulated, or -1 if ``activity`` is too short (a broken
invariant that the wrapper reports).
"""

from __future__ import annotations

import numpy as np
from numba import njit

EMPTY = 0
PAD = 1
DATA = 2


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
    # PE(i, j) latches A in a_*[i, j + 1] and B in b_*[i + 1, j]; column 0 / row 0 are the ports
    a_val = np.zeros((R, C + 1), a.dtype)
    a_st = np.zeros((R, C + 1), np.int8)
    b_val = np.zeros((R + 1, C), a.dtype)
    b_st = np.zeros((R + 1, C), np.int8)
    acc = np.zeros((R, C), a.dtype)
    row_tag = np.full(R, -1, np.int64)  # drain: which array row's results each row of registers holds
    cyc = 0
    cap = activity.shape[0]
    for g in range(groups):
        for c0 in range(0, sc, C):
            cols_f = min(C, sc - c0)
            for r0 in range(0, sr, R):
                rows_f = min(R, sr - r0)
                acc[:, :] = zero
                a_st[:, :] = EMPTY
                b_st[:, :] = EMPTY
                macs_done = 0
                c = 0
                # ---- compute phase: skewed injection, forwarding, accumulation
                while macs_done < R * C * t_len:
                    if cyc >= cap:
                        return -1
                    for i in range(R):  # left port: row i of A, delayed by i
                        k = c - i
                        if 0 <= k < t_len:
                            a_st[i, 0] = DATA if i < rows_f else PAD
                            a_val[i, 0] = a[g, r0 + i, k] if i < rows_f else zero
                        else:
                            a_st[i, 0] = EMPTY
                    for j in range(C):  # top port: column j of B, delayed by j
                        k = c - j
                        if 0 <= k < t_len:
                            b_st[0, j] = DATA if j < cols_f else PAD
                            b_val[0, j] = b[g, k, c0 + j] if j < cols_f else zero
                        else:
                            b_st[0, j] = EMPTY
                    active = 0
                    for i in range(R - 1, -1, -1):  # reverse order: neighbours still hold last cycle's values
                        for j in range(C - 1, -1, -1):
                            sa = a_st[i, j]
                            sb = b_st[i, j]
                            va = a_val[i, j]
                            vb = b_val[i, j]
                            if sa != EMPTY and sb != EMPTY:
                                acc[i, j] += va * vb
                                macs_done += 1
                                if sa == DATA and sb == DATA:
                                    active += 1
                            a_st[i, j + 1] = sa
                            a_val[i, j + 1] = va
                            b_st[i + 1, j] = sb
                            b_val[i + 1, j] = vb
                    activity[cyc] = active
                    cyc += 1
                    c += 1
                # ---- drain phase: accumulators shift down one row per cycle, the bottom row leaves
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
    # stationary registers: w_*[i + 1, j] is PE(i, j)'s, row 0 is the top load port
    w_val = np.zeros((R + 1, C), s.dtype)
    w_st = np.zeros((R + 1, C), np.int8)
    # streamed operand: PE(i, j) latches x_*[i, j + 1]; column 0 is the left port
    x_val = np.zeros((R, C + 1), s.dtype)
    x_st = np.zeros((R, C + 1), np.int8)
    x_idx = np.zeros((R, C + 1), np.int64)  # which stream element (output row) a token belongs to
    # partial sums: PE(i, j) latches p_*[i + 1, j]; row 0 is the top port (zero partial sums)
    p_val = np.zeros((R + 1, C), s.dtype)
    p_st = np.zeros((R + 1, C), np.int8)
    p_idx = np.zeros((R + 1, C), np.int64)
    cyc = 0
    cap = activity.shape[0]
    for g in range(groups):
        for c0 in range(0, sc, C):
            cols_f = min(C, sc - c0)
            for r0 in range(0, sr, R):
                rows_f = min(R, sr - r0)
                # ---- load phase: the stationary block shifts down from the top, last row first
                w_st[:, :] = EMPTY
                l = 0
                while w_st[R, 0] == EMPTY:
                    if cyc >= cap:
                        return -1
                    src = R - 1 - l
                    for j in range(C):
                        u = src < rows_f and j < cols_f
                        w_val[0, j] = s[g, r0 + src, c0 + j] if u else zero
                        w_st[0, j] = DATA if u else PAD
                    for i in range(R, 0, -1):
                        for j in range(C):
                            w_val[i, j] = w_val[i - 1, j]
                            w_st[i, j] = w_st[i - 1, j]
                    activity[cyc] = 0
                    cyc += 1
                    l += 1
                # ---- stream phase: X enters skewed by row, partial sums flow down and leave
                x_st[:, :] = EMPTY
                p_st[:, :] = EMPTY
                exited = 0
                c = 0
                while exited < C * t_len:
                    if cyc >= cap:
                        return -1
                    for i in range(R):  # left port: row i of X, delayed by i
                        k = c - i
                        if 0 <= k < t_len:
                            x_st[i, 0] = DATA if i < rows_f else PAD
                            x_val[i, 0] = x[g, r0 + i, k] if i < rows_f else zero
                            x_idx[i, 0] = k
                        else:
                            x_st[i, 0] = EMPTY
                    for j in range(C):  # top port: a zero partial sum enters with each row-0 token
                        p_st[0, j] = x_st[0, j]
                        p_val[0, j] = zero
                        p_idx[0, j] = x_idx[0, j]
                    active = 0
                    for i in range(R - 1, -1, -1):
                        for j in range(C - 1, -1, -1):
                            sx = x_st[i, j]
                            vx = x_val[i, j]
                            ix = x_idx[i, j]
                            sp = p_st[i, j]
                            vp = p_val[i, j]
                            ip = p_idx[i, j]
                            if sx != EMPTY and sp != EMPTY:
                                vp += w_val[i + 1, j] * vx
                                if sx == DATA and w_st[i + 1, j] == DATA:
                                    active += 1
                            x_st[i, j + 1] = sx
                            x_val[i, j + 1] = vx
                            x_idx[i, j + 1] = ix
                            p_st[i + 1, j] = sp
                            p_val[i + 1, j] = vp
                            p_idx[i + 1, j] = ip
                    for j in range(C):  # bottom edge: partial sums leave into the output buffer
                        if p_st[R, j] != EMPTY:
                            if j < cols_f:
                                out[g, p_idx[R, j], c0 + j] += p_val[R, j]
                            exited += 1
                    activity[cyc] = active
                    cyc += 1
                    c += 1
    return cyc
