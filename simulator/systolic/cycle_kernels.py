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


@njit(cache=True, inline="always")
def left_port(src: np.ndarray, g: int, r0: int, rows_f: int, c: int, val: np.ndarray, st: np.ndarray,
              idx: np.ndarray) -> None:
    """Inject cycle ``c`` of the left edge: row i of ``src[g]`` (rows from ``r0``), delayed by i;
    rows past ``rows_f`` carry zero padding. ``idx`` gets the stream element of each token."""
    zero = src.dtype.type(0)
    t_len = src.shape[2]
    for i in range(val.shape[0]):
        k = c - i
        if 0 <= k < t_len:
            st[i, 0] = DATA if i < rows_f else PAD
            val[i, 0] = src[g, r0 + i, k] if i < rows_f else zero
            idx[i, 0] = k
        else:
            st[i, 0] = EMPTY


@njit(cache=True, inline="always")
def top_port(b: np.ndarray, g: int, c0: int, cols_f: int, c: int, val: np.ndarray, st: np.ndarray) -> None:
    """Inject cycle ``c`` of the top edge: column j of ``b[g]`` (columns from ``c0``), delayed by j."""
    zero = b.dtype.type(0)
    t_len = b.shape[1]
    for j in range(val.shape[1]):
        k = c - j
        if 0 <= k < t_len:
            st[0, j] = DATA if j < cols_f else PAD
            val[0, j] = b[g, k, c0 + j] if j < cols_f else zero
        else:
            st[0, j] = EMPTY


@njit(cache=True, inline="always")
def os_step(a_val: np.ndarray, a_st: np.ndarray, b_val: np.ndarray, b_st: np.ndarray,
            acc: np.ndarray) -> tuple[int, int]:
    """One output-stationary cycle of every PE: multiply-accumulate the held pair, forward A right
    and B down. Returns (MACs done, useful MACs)."""
    R, C = acc.shape
    macs = 0
    active = 0
    for i in range(R - 1, -1, -1):  # reverse order: neighbours still hold last cycle's values
        for j in range(C - 1, -1, -1):
            sa = a_st[i, j]
            sb = b_st[i, j]
            va = a_val[i, j]
            vb = b_val[i, j]
            if sa != EMPTY and sb != EMPTY:
                acc[i, j] += va * vb
                macs += 1
                if sa == DATA and sb == DATA:
                    active += 1
            a_st[i, j + 1] = sa
            a_val[i, j + 1] = va
            b_st[i + 1, j] = sb
            b_val[i + 1, j] = vb
    return macs, active


@njit(cache=True, inline="always")
def os_drain(acc: np.ndarray, row_tag: np.ndarray, out: np.ndarray, g: int, r0: int, c0: int, rows_f: int,
             cols_f: int, activity: np.ndarray, cyc: int) -> int:
    """Drain the accumulators down one row per cycle, the bottom row leaving into ``out``.
    Returns the cycle after the drain, or -1 if ``activity`` is too short."""
    R, C = acc.shape
    for i in range(R):
        row_tag[i] = i
    exited = 0
    while exited < R:
        if cyc >= activity.shape[0]:
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
    # PE(i, j) latches A in a_*[i, j + 1] and B in b_*[i + 1, j]; column 0 / row 0 are the ports
    a_val = np.zeros((R, C + 1), a.dtype)
    a_st = np.zeros((R, C + 1), np.int8)
    a_idx = np.zeros((R, C + 1), np.int64)
    b_val = np.zeros((R + 1, C), a.dtype)
    b_st = np.zeros((R + 1, C), np.int8)
    acc = np.zeros((R, C), a.dtype)
    row_tag = np.full(R, -1, np.int64)  # drain: which array row's results each row of registers holds
    cyc = 0
    for g in range(groups):
        for c0 in range(0, sc, C):
            cols_f = min(C, sc - c0)
            for r0 in range(0, sr, R):
                rows_f = min(R, sr - r0)
                acc[:, :] = a.dtype.type(0)
                a_st[:, :] = EMPTY
                b_st[:, :] = EMPTY
                macs_done = 0
                c = 0
                while macs_done < R * C * t_len:  # compute: skewed injection, forwarding, accumulation
                    if cyc >= activity.shape[0]:
                        return -1
                    left_port(a, g, r0, rows_f, c, a_val, a_st, a_idx)
                    top_port(b, g, c0, cols_f, c, b_val, b_st)
                    macs, activity[cyc] = os_step(a_val, a_st, b_val, b_st, acc)
                    macs_done += macs
                    cyc += 1
                    c += 1
                cyc = os_drain(acc, row_tag, out, g, r0, c0, rows_f, cols_f, activity, cyc)
                if cyc < 0:
                    return -1
    return cyc


@njit(cache=True, inline="always")
def load_stationary(s: np.ndarray, g: int, r0: int, c0: int, rows_f: int, cols_f: int, w_val: np.ndarray,
                    w_st: np.ndarray, activity: np.ndarray, cyc: int) -> int:
    """Shift the stationary block down from the top port, last row first, until the first row
    reaches the bottom. Returns the cycle after the load, or -1 if ``activity`` is too short."""
    R, C = w_val.shape[0] - 1, w_val.shape[1]
    zero = s.dtype.type(0)
    w_st[:, :] = EMPTY
    step = 0
    while w_st[R, 0] == EMPTY:
        if cyc >= activity.shape[0]:
            return -1
        src = R - 1 - step
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
        step += 1
    return cyc


@njit(cache=True, inline="always")
def stationary_step(w_val: np.ndarray, w_st: np.ndarray, x_val: np.ndarray, x_st: np.ndarray,
                    x_idx: np.ndarray, p_val: np.ndarray, p_st: np.ndarray, p_idx: np.ndarray) -> int:
    """One stream cycle of every PE: add weight x input to the passing partial sum, forward the
    input right and the partial sum down. Returns the useful MACs."""
    R, C = x_val.shape[0], x_val.shape[1] - 1
    for j in range(C):  # top port: a zero partial sum enters with each row-0 token
        p_st[0, j] = x_st[0, j]
        p_val[0, j] = p_val.dtype.type(0)
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
    return active


@njit(cache=True, inline="always")
def bottom_edge(p_val: np.ndarray, p_st: np.ndarray, p_idx: np.ndarray, out: np.ndarray, g: int, c0: int,
                cols_f: int) -> int:
    """Partial sums at the bottom edge leave into the output buffer. Returns how many left."""
    R = p_val.shape[0] - 1
    exited = 0
    for j in range(p_val.shape[1]):
        if p_st[R, j] != EMPTY:
            if j < cols_f:
                out[g, p_idx[R, j], c0 + j] += p_val[R, j]
            exited += 1
    return exited


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
    for g in range(groups):
        for c0 in range(0, sc, C):
            cols_f = min(C, sc - c0)
            for r0 in range(0, sr, R):
                rows_f = min(R, sr - r0)
                cyc = load_stationary(s, g, r0, c0, rows_f, cols_f, w_val, w_st, activity, cyc)
                if cyc < 0:
                    return -1
                # stream: X enters skewed by row, partial sums flow down and leave at the bottom
                x_st[:, :] = EMPTY
                p_st[:, :] = EMPTY
                exited = 0
                c = 0
                while exited < C * t_len:
                    if cyc >= activity.shape[0]:
                        return -1
                    left_port(x, g, r0, rows_f, c, x_val, x_st, x_idx)
                    activity[cyc] = stationary_step(w_val, w_st, x_val, x_st, x_idx, p_val, p_st, p_idx)
                    exited += bottom_edge(p_val, p_st, p_idx, out, g, c0, cols_f)
                    cyc += 1
                    c += 1
    return cyc
