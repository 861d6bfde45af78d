"""Setup of SCALE-Sim 3.0.0's USER-bandwidth-mode read buffers for compat mode.

Builds, per operand, the prefetch order SCALE-Sim fills its buffer in, the per-address lists
of the "sets" that hold each address, and the buffer geometry (see
:mod:`simulator.scalesim.user_kernels`). Words are 1 byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acceldse.simulator.scalesim import calc_kernels as kern
from acceldse.simulator.scalesim import user_kernels as ukern

#: SCALE-Sim's default ``IfmapSRAMBankNum`` / ``FilterSRAMBankNum``: bandwidths must divide.
SRAM_BANKS = 10


@dataclass(frozen=True)
class UserBuffers:
    """Inputs of the USER-mode walk: ``uparams``/``ustate`` rows 0 = ifmap, 1 = filter."""

    uparams: np.ndarray
    ustate: np.ndarray
    if_ptr: np.ndarray
    if_ids: np.ndarray
    fi_ptr: np.ndarray
    fi_ids: np.ndarray

    def dram(self, op: int) -> tuple[int, int, int]:
        """(DRAM reads, start cycle, stop cycle) of operand ``op`` after the walk."""
        p, s = self.uparams[op], self.ustate[op]
        rows_active, prefetch_rows, bw = int(p[7]), int(p[3]), int(p[5])
        reads = rows_active * bw + int(s[ukern.U_PREFETCHES]) * prefetch_rows * bw
        return reads, -rows_active, int(s[ukern.U_LAST])

    def crashes(self) -> bool:
        """True if SCALE-Sim itself would raise (mis-sized fetch-matrix slice) on this run."""
        return bool(self.ustate[0, ukern.U_CRASH] or self.ustate[1, ukern.U_CRASH])


def _geometry(n_valid: int, fetch_elems: int, kb: int, bw: int) -> tuple[np.ndarray, np.ndarray]:
    total = kb * 1024
    active = total - total // 2
    prefetch = total - active
    per_set = -(-total // 100)
    n_sets = n_valid // per_set + 1
    active_sets = min(n_sets, -(-active // per_set))
    prefetch_sets = min(n_sets - active_sets, -(-prefetch // per_set))
    fetch_rows = -(-fetch_elems // bw)
    rows_active = min(-(-active // bw), fetch_rows)
    prefetch_rows = -(-prefetch // bw)
    params = np.array([active_sets, prefetch_sets, n_sets, prefetch_rows, fetch_rows, bw, active,
                       rows_active], dtype=np.int64)
    nxt = rows_active % fetch_rows if rows_active * bw > active else (rows_active + 1) % fetch_rows
    state = np.array([0, 0, -1, nxt, 0, 0, 0, 0], dtype=np.int64)
    return params, state


def user_buffers(df: int, m_dim: int, n_dim: int, k_dim: int, ofmap_w: int, ifmap_h: int,
                 ifmap_w: int, channels: int, filter_w: int, stride: int, array_rows: int,
                 array_cols: int, ifmap_kb: int, filter_kb: int, ifmap_bw: int,
                 filter_bw: int) -> UserBuffers:
    """Prefetch orders, set lists and geometry of both read buffers for one layer."""
    ar, ac = array_rows, array_cols
    rf_k = -(-k_dim // ar)
    # (folds, rows, width, used in last fold, swap, diagonal) per operand and dataflow
    if df == 0:
        rf = -(-m_dim // ar)
        cf = -(-n_dim // ac)
        lay_if = (rf, k_dim, ar, m_dim - (rf - 1) * ar, False, True)
        lay_fi = (cf, k_dim, ac, n_dim - (cf - 1) * ac, False, True)
    elif df == 1:
        cf = -(-n_dim // ac)
        lay_if = (rf_k, m_dim, ar, k_dim - (rf_k - 1) * ar, True, True)
        lay_fi = (cf, k_dim, ac, n_dim - (cf - 1) * ac, False, False)
    else:
        cf = -(-m_dim // ac)
        lay_if = (cf, k_dim, ac, m_dim - (cf - 1) * ac, False, False)
        lay_fi = (rf_k, n_dim, ar, k_dim - (rf_k - 1) * ar, True, True)
    tables = kern.ifmap_tables(m_dim, k_dim, ofmap_w, ifmap_w, channels, filter_w, stride)
    out = []
    for op, lay, kb, bw, n_addr in ((ukern.OP_IFMAP, lay_if, ifmap_kb, ifmap_bw,
                                     ifmap_h * ifmap_w * channels),
                                    (ukern.OP_FILTER, lay_fi, filter_kb, filter_bw,
                                     k_dim * n_dim)):
        folds, rows, width, used_last, swap, diagonal = lay
        size = folds * rows * width
        order = np.empty(size, dtype=np.int64)
        n_valid = ukern.prefetch_order(op, folds, rows, width, used_last, swap, diagonal, k_dim,
                                       *tables, ifmap_h, ifmap_w, order)
        per_set = -(-(kb * 1024) // 100)
        ptr, ids = ukern.set_lists(order, n_valid, n_addr, per_set)
        params, state = _geometry(n_valid, size, kb, bw)
        out.append((params, state, ptr, ids))
    return UserBuffers(uparams=np.stack([out[0][0], out[1][0]]),
                       ustate=np.stack([out[0][1], out[1][1]]),
                       if_ptr=out[0][2], if_ids=out[0][3], fi_ptr=out[1][2], fi_ids=out[1][3])
