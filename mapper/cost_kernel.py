"""The batched cost kernel: per-level access counts, cycles and energy of many mappings per call.

Counting follows Timeloop's conventions (PUBLISHED.md, "Golden mapping"); all counts are
per utilised instance of a level, in words:

* ``changes[l, ds]``: how many times the tile of ``ds`` at level ``l`` is replaced while the
  loops above ``l`` run = product of the loops from the outermost down to the innermost
  loop that indexes ``ds`` (loops over other dims reuse the tile). ``distinct[l, ds]`` =
  product of the loops above ``l`` that index ``ds`` (distinct tiles).
* inputs / weights: ``fills[l] = changes * tile``; the parent keeper ``p`` serves its child
  keeper ``c``: ``reads[p] = fills[c] * children / multicast`` where ``multicast`` is the
  product of the spatial factors between them over dims that do not index ``ds``. The MAC
  "fills" one operand per iteration.
* outputs: a child writes each tile back once per change; ``updates[p] = writebacks[c] *
  children / reduction``; ``reads[p] = updates[p] - distinct[p] * tile[p]`` (first writes are
  not reads; sending results up is not a read) plus partial sums sent back down;
  ``fills[c] = (changes[c] - distinct[c]) * tile[c]`` (partial sums reloaded).
* cycles = max(temporal iterations, per-level accesses / bandwidth per instance).
* energy = sum over levels and dataspaces of ceil(count / block) x pJ per access x utilised
  instances, + leakage x cycles x utilised instances, + MACs x MAC energy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mapper.legality import OK, RELEVANT, check_kernel

# Note: numba's on-disk cache keys on this file only. After editing ``mapper/legality.py``
# (whose kernels are compiled into these), delete ``mapper/__pycache__/*.nb[ic]``.


@njit(cache=True)
def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@njit(cache=True)
def evaluate_one(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                 dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                 bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, mac_pj: float,
                 tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                 counts: np.ndarray, epj: np.ndarray, info: np.ndarray, result: np.ndarray) -> int:
    """Evaluate one mapping (arrays [L, 8]); write counts[L,3,3] (reads, fills, updates per instance),
    epj[L+2, 3] (pJ per level/dataspace; row L = MACs, row L+1 = leakage) and
    result = (cycles, energy_pj, macs incl. padding). Returns the legality code (0 = legal)."""
    n = t.shape[0]
    code = check_kernel(t, sx, sy, keep, dbuf, wl, keep_allowed, cap, fanout, tile, inst, info)
    if code != OK:
        return code
    # tile replacements per level (walk the temporal loops outermost-first)
    for ds in range(3):
        prod_all = 1
        last_rel = 1
        dist = 1
        for lvl in range(n):
            changes[lvl, ds] = last_rel
            distinct[lvl, ds] = dist
            for k in range(8):
                d = order[lvl, k]
                f = t[lvl, d]
                if f == 1:
                    continue
                prod_all *= f
                if RELEVANT[ds, d]:
                    last_rel = prod_all
                    dist *= f
        changes[n, ds] = prod_all
        distinct[n, ds] = prod_all
    iters = changes[n, 0]
    for lvl in range(n):
        for ds in range(3):
            for a in range(3):
                counts[lvl, ds, a] = 0
    for ds in range(3):
        if ds == 1 and wl[12] == 0:
            continue
        p = 0
        while p < n:
            c = p + 1
            while c < n and not keep[c, ds]:
                c += 1
            children = inst[c] // inst[p]
            shared = 1
            for j in range(p, c):
                for d in range(8):
                    if not RELEVANT[ds, d]:
                        shared *= sx[j, d] * sy[j, d]
            if c < n:
                child_moves = changes[c, ds] * tile[c, ds]
            else:
                child_moves = iters
            if ds != 2:
                counts[p, ds, 0] = child_moves * children // shared
                if p > 0:
                    counts[p, ds, 1] = changes[p, ds] * tile[p, ds]
            else:
                upd = child_moves * children // shared
                counts[p, ds, 2] = upd
                refill = 0
                if c < n:
                    refill = (changes[c, ds] - distinct[c, ds]) * tile[c, ds] * children // shared
                counts[p, ds, 0] = upd - distinct[p, ds] * tile[p, ds] + refill
                if p > 0:
                    counts[p, ds, 1] = (changes[p, ds] - distinct[p, ds]) * tile[p, ds]
            p = c
    cycles = iters
    for lvl in range(n):
        rd = 0
        wr = 0
        for ds in range(3):
            rd += counts[lvl, ds, 0]
            wr += counts[lvl, ds, 1] + counts[lvl, ds, 2]
        if bw[lvl, 0] > 0.0:
            c_rd = int(np.ceil(rd / bw[lvl, 0]))
            if c_rd > cycles:
                cycles = c_rd
        if bw[lvl, 1] > 0.0:
            c_wr = int(np.ceil(wr / bw[lvl, 1]))
            if c_wr > cycles:
                cycles = c_wr
    total = 0.0
    for lvl in range(n):
        b = block[lvl]
        for ds in range(3):
            e = 0.0
            if keep[lvl, ds]:
                for a in range(3):
                    e += _ceil_div(counts[lvl, ds, a], b) * energy[lvl, ds, a]
            e *= inst[lvl]
            epj[lvl, ds] = e
            total += e
    macs = iters * inst[n]
    epj[n, 0] = macs * mac_pj
    epj[n, 1] = 0.0
    epj[n, 2] = 0.0
    lk = 0.0
    for lvl in range(n):
        lk += leak[lvl] * cycles * inst[lvl]
    epj[n + 1, 0] = lk
    epj[n + 1, 1] = 0.0
    epj[n + 1, 2] = 0.0
    total += epj[n, 0] + lk
    result[0] = cycles
    result[1] = total
    result[2] = macs
    return OK


@njit(cache=True)
def evaluate_batch(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                   dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                   bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, mac_pj: float,
                   out_cycles: np.ndarray, out_energy: np.ndarray, out_code: np.ndarray) -> None:
    """Evaluate B mappings (arrays [B, L, 8]); write cycles[B] (int64), energy_pj[B], code[B]."""
    n = t.shape[1]
    tile = np.zeros((n + 1, 3), dtype=np.int64)
    inst = np.zeros(n + 1, dtype=np.int64)
    changes = np.zeros((n + 1, 3), dtype=np.int64)
    distinct = np.zeros((n + 1, 3), dtype=np.int64)
    counts = np.zeros((n, 3, 3), dtype=np.int64)
    epj = np.zeros((n + 2, 3), dtype=np.float64)
    info = np.zeros(3, dtype=np.int64)
    result = np.zeros(3, dtype=np.float64)
    for b in range(t.shape[0]):
        code = evaluate_one(t[b], sx[b], sy[b], order[b], keep[b], dbuf[b], wl, keep_allowed, cap, block, bw,
                            energy, leak, fanout, mac_pj, tile, inst, changes, distinct, counts, epj, info, result)
        out_code[b] = code
        if code == OK:
            out_cycles[b] = int(result[0])
            out_energy[b] = result[1]
        else:
            out_cycles[b] = -1
            out_energy[b] = np.inf
