"""The batched cost kernel's dense counts, kept per mapping: what Sparseloop's analysis starts from.

``dense_counts_batch`` runs ``cost_kernel.evaluate_one`` over B mappings like ``evaluate_batch``
does, and keeps what that discards: every mapping's tiles, utilised instances, per-level reads /
fills / updates and (cycles, energy, MACs). ``mapper.timeloop.sparse_model`` turns them into
Sparseloop's actual / gated / skipped figures for a whole batch at once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from acceldse.mapper.cost_kernel import evaluate_one


@njit(cache=True)
def dense_counts_batch(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                       dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray,
                       block: np.ndarray, bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray,
                       clusters: np.ndarray, mac_pj: float, out_code: np.ndarray, out_tile: np.ndarray,
                       out_inst: np.ndarray, out_counts: np.ndarray, out_result: np.ndarray) -> None:
    """Evaluate B mappings (arrays [B, L, 8]); write code[B], tile[B, L+1, 3], inst[B, L+1],
    counts[B, L, 3, 3] (reads, fills, updates per utilised instance) and result[B, 3] (cycles,
    energy_pj, MACs incl. padding); a mapping with code != 0 is illegal and its rows are not set."""
    n = t.shape[1]
    changes = np.zeros((n + 1, 3), dtype=np.int64)
    distinct = np.zeros((n + 1, 3), dtype=np.int64)
    epj = np.zeros((n + 2, 3), dtype=np.float64)
    info = np.zeros(3, dtype=np.int64)
    for b in range(t.shape[0]):
        out_code[b] = evaluate_one(t[b], sx[b], sy[b], order[b], keep[b], dbuf[b], wl, keep_allowed, cap, block,
                                   bw, energy, leak, fanout, clusters, mac_pj, out_tile[b], out_inst[b], changes,
                                   distinct, out_counts[b], epj, info, out_result[b])
