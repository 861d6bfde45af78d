"""Numba kernels for SCALE-Sim 3.0.0's USER bandwidth mode read buffer (``read_buffer.py``).

In USER mode each read buffer is filled from a *prefetch matrix* (the operand's folds stacked,
read diagonally or row-major depending on dataflow and operand). Its valid elements, in that
order, are cut into "sets" of ``ceil(sram_words / 100)`` elements (duplicates counted). The
active buffer is a circular window of ``active_sets`` consecutive sets; a request that is in
none of them makes the window jump by ``prefetch_sets`` sets (one DRAM prefetch of
``prefetch_rows`` lines of ``bw`` words, every word counted) until it hits, and the array
waits for the prefetch (SCALE-Sim adds a positive wait twice, its issue #130, and lets a
negative one shorten the row).

Instead of Python sets we keep, per address, the sorted list of set ids that hold it (CSR).
Prefetch layout codes: the matrix is ``n_folds`` blocks of ``rows`` x ``width`` stacked
vertically; ``diagonal`` selects SCALE-Sim's anti-diagonal read order, else row-major.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# operand element codes
OP_IFMAP = 0
OP_FILTER = 1

# user read-buffer state layout
U_START = 0        # first set id of the active window
U_PREFETCHES = 1   # new prefetches issued
U_LAST = 2         # last prefetch response cycle
U_NEXT_LINE = 3    # SCALE-Sim's next_line_prefetch_idx (only decides whether it crashes)
U_CRASH = 4        # 1 if SCALE-Sim would raise while slicing its fetch matrix


@njit(cache=True)
def _element(op: int, fold: int, r: int, c: int, width: int, used_last: int, n_folds: int,
             swap: bool, k_dim: int, prow: np.ndarray, pcol: np.ndarray, pbase: np.ndarray,
             wrow: np.ndarray, wcol: np.ndarray, woff: np.ndarray, ifmap_h: int,
             ifmap_w: int) -> int:
    """Address of prefetch element (fold, row r, column c); -1 for padding or off-input."""
    used = used_last if fold == n_folds - 1 else width
    if c >= used:
        return -1
    x = fold * width + c
    if op == OP_IFMAP:
        if swap:            # columns run over window positions k, rows over pixels m
            m, k = r, x
        else:               # columns over pixels m, rows over window positions k
            m, k = x, r
        if prow[m] + wrow[k] < ifmap_h and pcol[m] + wcol[k] < ifmap_w:
            return pbase[m] + woff[k]
        return -1
    if swap:                # columns over k, rows over filters n
        return r * k_dim + x
    return x * k_dim + r    # columns over filters n, rows over k


@njit(cache=True)
def prefetch_order(op: int, n_folds: int, rows: int, width: int, used_last: int, swap: bool,
                   diagonal: bool, k_dim: int, prow: np.ndarray, pcol: np.ndarray,
                   pbase: np.ndarray, wrow: np.ndarray, wcol: np.ndarray, woff: np.ndarray,
                   ifmap_h: int, ifmap_w: int, out: np.ndarray) -> int:
    """Write the valid prefetch elements in SCALE-Sim's order into ``out``; returns the count."""
    total_rows = n_folds * rows
    n = 0
    if diagonal:
        for d in range(total_rows + width):
            hi = min(d, total_rows - 1)
            lo = max(0, d - width + 1)
            for row in range(hi, lo - 1, -1):
                col = d - row
                a = _element(op, row // rows, row % rows, col, width, used_last, n_folds,
                             swap, k_dim, prow, pcol, pbase, wrow, wcol, woff, ifmap_h, ifmap_w)
                if a >= 0:
                    out[n] = a
                    n += 1
    else:
        for row in range(total_rows):
            for col in range(width):
                a = _element(op, row // rows, row % rows, col, width, used_last, n_folds,
                             swap, k_dim, prow, pcol, pbase, wrow, wcol, woff, ifmap_h, ifmap_w)
                if a >= 0:
                    out[n] = a
                    n += 1
    return n


@njit(cache=True)
def set_lists(order: np.ndarray, n_valid: int, n_addr: int,
              items_per_set: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the distinct set ids holding each address: (row pointer, set ids ascending)."""
    counts = np.zeros(n_addr + 1, dtype=np.int64)
    last = np.full(n_addr, -1, dtype=np.int64)
    for j in range(n_valid):
        a = order[j]
        s = j // items_per_set
        if last[a] != s:
            last[a] = s
            counts[a + 1] += 1
    ptr = np.cumsum(counts)
    ids = np.empty(ptr[n_addr], dtype=np.int64)
    fill = ptr[:n_addr].copy()
    last[:] = -1
    for j in range(n_valid):
        a = order[j]
        s = j // items_per_set
        if last[a] != s:
            last[a] = s
            ids[fill[a]] = s
            fill[a] += 1
    return ptr, ids


@njit(cache=True)
def _hit(ptr: np.ndarray, ids: np.ndarray, addr: int, start: int, active_sets: int,
         n_sets: int) -> bool:
    if active_sets >= n_sets:
        return True
    lo = ptr[addr]
    hi = ptr[addr + 1]
    pos = lo + np.searchsorted(ids[lo:hi], start)
    if pos < hi and ids[pos] < start + active_sets:
        return True
    wrap = start + active_sets - n_sets
    return wrap > 0 and hi > lo and ids[lo] < wrap


@njit(cache=True)
def user_read_row(state: np.ndarray, ptr: np.ndarray, ids: np.ndarray, addrs: np.ndarray,
                  n_addrs: int, cycle: int, active_sets: int, prefetch_sets: int, n_sets: int,
                  prefetch_rows: int, fetch_rows: int, bw: int, active_words: int) -> int:
    """Serve one demand row; returns SCALE-Sim's offset (out cycle - cycle, hit latency 1)."""
    offset = 1
    for i in range(n_addrs):
        a = addrs[i]
        while not _hit(ptr, ids, a, state[U_START], active_sets, n_sets):
            state[U_START] = (state[U_START] + prefetch_sets) % n_sets
            start_idx = state[U_NEXT_LINE]
            end_idx = start_idx + prefetch_rows
            if end_idx > fetch_rows:
                got = fetch_rows - start_idx + min(end_idx - fetch_rows, start_idx)
                if got != prefetch_rows:
                    state[U_CRASH] = 1
            state[U_PREFETCHES] += 1
            state[U_LAST] = state[U_LAST] + prefetch_rows + 1
            if prefetch_rows * bw > active_words:
                state[U_NEXT_LINE] = prefetch_rows % fetch_rows
            else:
                state[U_NEXT_LINE] = (prefetch_rows + 1) % fetch_rows
            wait = state[U_LAST] - (cycle + offset)
            offset += wait
            if wait > 0:
                offset += wait
    return offset
