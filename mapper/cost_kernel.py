"""The batched cost kernel: per-level access counts, cycles and energy of many mappings per call.

Counting follows Timeloop's conventions (the 0fc43fb model that produced the exercises'
reference outputs; docs/mapper.md, "What each count means"); all counts are per utilised
instance of a level, in words:

* ``changes[l, ds]``: how many times the tile of ``ds`` at level ``l`` is replaced while the
  loops above ``l`` run = product of the loops from the outermost down to the innermost
  loop that indexes ``ds`` (loops over other dims reuse the tile). ``distinct[l, ds]`` =
  product of the loops above ``l`` that index ``ds`` (distinct tiles).
* inputs / weights: ``fills[c] = changes * tile - slides * overlap`` where ``slides`` counts
  the steps of the innermost loop above ``c`` when that loop slides the input window (P, Q,
  R or S) and ``overlap`` is the part of the tile (a bounding box, with stride and dilation)
  that the step keeps (sliding-window reuse; 0 for weights). The parent keeper ``p`` serves
  ``c``: ``reads[p] = fills[c] * children / multicast`` where ``multicast`` is the product of
  the spatial factors between them over dims that do not index ``ds``. The MAC "fills" one
  operand per iteration. When the last storage level fans out to the MACs (the innermost loops
  of Timeloop's nest are spatial; ``spatial_innermost``) the MACs' deliveries are counted as
  Timeloop counts them (``mac_fanout``: distinct points per iteration, minus what neighbouring MACs
  pass on by link transfer); ``changes[L, ds]`` then holds those accesses per instance of the
  last level and the multicast below it is already in them.
* outputs: a child writes each tile back once per change; ``updates[p] = writebacks[c] *
  children / reduction``; ``reads[p] = updates[p] - distinct[p] * tile[p]`` (Timeloop's
  temporal reductions: every update but the first write of a word reads the old partial sum;
  the same read also serves a child that reloads it, so that is not counted again);
  ``fills[c] = (changes[c] - distinct[c]) * tile[c]`` (partial sums reloaded).
* cycles = max(temporal iterations, per-level accesses / bandwidth per instance).
* energy = sum over levels and dataspaces of ceil(count / block) x pJ per access x utilised
  clusters (min(utilised instances, instances / cluster_size), Timeloop's instance clusters)
  + leakage x cycles x utilised instances + MACs x MAC energy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from acceldse.mapper.legality import OK, RELEVANT, check_tiles
from acceldse.mapper.mac_fanout import mac_fanout_accesses, mac_scratch

# Note: numba's on-disk cache keys on this file only; ``acceldse.kernel_cache`` starts a fresh cache
# whenever any kernel file changes (``mapper/legality.py`` and ``mapper/mac_fanout.py`` are inlined here).
#
# Speed: the helpers are inlined into ``evaluate_batch`` at numba's IR level (``inline="always"``), the
# batch loop copies each mapping into scratch arrays instead of slicing views, and no helper allocates:
# an array passed to a compiled call, or a view, costs two atomic reference-count updates, which made
# up about half the time per mapping.


@njit(cache=True, inline="always")
def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@njit(cache=True, inline="always")
def spatial_innermost(t: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> bool:
    """Whether the innermost loop of Timeloop's nest is spatial: the last storage level fans out to
    the MACs (a non-unit spatial factor there). A storage level whose temporal factors are all 1
    still holds a (trivial) temporal loop in Timeloop's nest, below the spatial loops above it, so a
    fan-out higher up with unit loops below it does not count."""
    n = t.shape[0]
    fanout = 1
    for d in range(8):
        fanout *= sx[n - 1, d] * sy[n - 1, d]
    return fanout > 1


@njit(cache=True, inline="always")
def tile_changes(t: np.ndarray, order: np.ndarray, changes: np.ndarray, distinct: np.ndarray) -> int:
    """Fill ``changes``/``distinct`` [L+1, 3] by walking the temporal loops outermost first; return iterations.

    Row L is the MAC: one operand access per iteration (``evaluate_into`` replaces it by Timeloop's
    count when the last level fans out to the MACs, ``mac_fanout``)."""
    n = t.shape[0]
    prod_all = 1  # product of the loops walked so far (at the end: the temporal iterations)
    last0 = last1 = last2 = 1  # prod_all up to the innermost loop so far that indexes inputs, weights, outputs
    dist0 = dist1 = dist2 = 1  # product of the loops so far that index each dataspace
    for lvl in range(n):
        changes[lvl, 0], changes[lvl, 1], changes[lvl, 2] = last0, last1, last2
        distinct[lvl, 0], distinct[lvl, 1], distinct[lvl, 2] = dist0, dist1, dist2
        for k in range(8):
            d = order[lvl, k]
            f = t[lvl, d]
            if f == 1:
                continue
            prod_all *= f
            if RELEVANT[0, d]:
                last0 = prod_all
                dist0 *= f
            if RELEVANT[1, d]:
                last1 = prod_all
                dist1 *= f
            if RELEVANT[2, d]:
                last2 = prod_all
                dist2 *= f
    for ds in range(3):
        changes[n, ds] = prod_all
        distinct[n, ds] = prod_all
    return prod_all


@njit(cache=True, inline="always")
def sliding_reuse(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, wl: np.ndarray,
                  c: int, changes_c: int, below: np.ndarray) -> int:
    """Input words per instance of level ``c`` that sliding-window reuse saves over ``changes_c`` refills.

    Like Timeloop, only the innermost non-unit temporal loop above ``c`` counts: when it steps
    along P or R (rows) or Q or S (columns), the new tile overlaps the previous one by the
    bounding-box rows (columns) that the step does not pass; a wrap-around refetches all.
    """
    j = -1
    dim = -1
    for lvl in range(c - 1, -1, -1):
        for k in range(7, -1, -1):
            d = order[lvl, k]
            if t[lvl, d] > 1:
                j = lvl
                dim = d
                break
        if j >= 0:
            break
    if j < 0 or dim < 4:
        return 0
    step = below[c, dim]  # below[c]: loop extents from level c down (``legality.check_tiles``)
    for lvl in range(j, c):
        step *= sx[lvl, dim] * sy[lvl, dim]
    axis = (dim - 4) % 2                      # 0: rows (P, R), 1: columns (Q, S)
    coeff = wl[8 + axis] if dim < 6 else wl[10 + axis]
    span = (below[c, 4 + axis] - 1) * wl[8 + axis] + (below[c, 6 + axis] - 1) * wl[10 + axis] + 1
    other = (below[c, 5 - axis] - 1) * wl[9 - axis] + (below[c, 7 - axis] - 1) * wl[11 - axis] + 1
    kept = span - step * coeff
    if kept <= 0:
        return 0
    f = t[j, dim]
    slides = changes_c // f * (f - 1)
    return slides * below[c, 0] * below[c, 1] * below[c, 3] * kept * other


@njit(cache=True, inline="always")
def count_accesses(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                   wl: np.ndarray, tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                   counts: np.ndarray, below: np.ndarray) -> None:
    """Fill ``counts[L, 3, 3]`` (reads, fills, updates per utilised instance) from the tile changes."""
    n = t.shape[0]
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
            # a fan-out to the MACs is already in changes[L] (per instance of the last level)
            above = c if c < n else n - 1
            children = inst[above] // inst[p]
            shared = 1
            for j in range(p, above):
                for d in range(8):
                    if not RELEVANT[ds, d]:
                        shared *= sx[j, d] * sy[j, d]
            if c == n:
                child_moves = changes[n, ds]
            elif ds == 0:
                child_moves = (changes[c, ds] * tile[c, ds]
                               - sliding_reuse(t, sx, sy, order, wl, c, changes[c, ds], below))
            else:
                child_moves = changes[c, ds] * tile[c, ds]
            if ds != 2:
                counts[p, ds, 0] = child_moves * children // shared
                if p > 0:
                    counts[p, ds, 1] = changes[p, ds] * tile[p, ds]
                    if ds == 0:
                        counts[p, ds, 1] -= sliding_reuse(t, sx, sy, order, wl, p, changes[p, ds], below)
            else:
                upd = child_moves * children // shared
                counts[p, ds, 2] = upd
                counts[p, ds, 0] = upd - distinct[p, ds] * tile[p, ds]
                if p > 0:
                    counts[p, ds, 1] = (changes[p, ds] - distinct[p, ds]) * tile[p, ds]
            p = c


@njit(cache=True, inline="always")
def bandwidth_cycles(iters: int, counts: np.ndarray, bw: np.ndarray) -> int:
    """max(temporal iterations, each level's reads and writes over its bandwidth per instance)."""
    cycles = iters
    for lvl in range(counts.shape[0]):
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
    return cycles


@njit(cache=True, inline="always")
def access_energy(counts: np.ndarray, keep: np.ndarray, block: np.ndarray, energy: np.ndarray, leak: np.ndarray,
                  clusters: np.ndarray, inst: np.ndarray, cycles: int, macs: int, mac_pj: float,
                  epj: np.ndarray) -> float:
    """Fill ``epj[L+2, 3]`` (pJ per level/dataspace; row L = MACs, row L+1 = leakage); return the total."""
    n = counts.shape[0]
    total = 0.0
    for lvl in range(n):
        b = block[lvl]
        accessed = min(inst[lvl], clusters[lvl])
        for ds in range(3):
            e = 0.0
            if keep[lvl, ds]:
                for a in range(3):
                    accesses = counts[lvl, ds, a] if b == 1 else _ceil_div(counts[lvl, ds, a], b)
                    e += accesses * energy[lvl, ds, a]
            epj[lvl, ds] = e * accessed
            total += epj[lvl, ds]
    epj[n, 0] = macs * mac_pj
    lk = 0.0
    for lvl in range(n):
        lk += leak[lvl] * cycles * inst[lvl]
    epj[n + 1, 0] = lk
    for a in range(1, 3):
        epj[n, a] = 0.0
        epj[n + 1, a] = 0.0
    return total + epj[n, 0] + lk


@njit(cache=True)
def evaluate_one(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                 dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                 bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, clusters: np.ndarray,
                 mac_pj: float, tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                 counts: np.ndarray, epj: np.ndarray, info: np.ndarray, result: np.ndarray) -> int:
    """Evaluate one mapping (arrays [L, 8]); write counts[L,3,3] (reads, fills, updates per instance),
    epj[L+2, 3] and result = (cycles, energy_pj, macs incl. padding). Returns the legality code (0 = legal)."""
    below = np.empty((t.shape[0] + 1, 8), dtype=np.int64)
    return evaluate_into(t, sx, sy, order, keep, dbuf, wl, keep_allowed, cap, block, bw, energy, leak, fanout,
                         clusters, mac_pj, tile, inst, changes, distinct, counts, epj, info, result, below,
                         mac_scratch(fanout))


@njit(cache=True, inline="always")
def evaluate_into(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                  dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                  bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, clusters: np.ndarray,
                  mac_pj: float, tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                  counts: np.ndarray, epj: np.ndarray, info: np.ndarray, result: np.ndarray, below: np.ndarray,
                  macs: np.ndarray) -> int:
    """``evaluate_one`` with the caller's scratch ``below[L+1, 8]`` (``legality.check_tiles``) and ``macs``
    (``mac_fanout.mac_scratch``)."""
    code = check_tiles(t, sx, sy, keep, dbuf, wl, keep_allowed, cap, fanout, tile, inst, info, below)
    if code != OK:
        return code
    iters = tile_changes(t, order, changes, distinct)
    if spatial_innermost(t, sx, sy):
        mac_fanout_accesses(t, sx, sy, order, wl, fanout, below, iters, changes[t.shape[0]], macs)
    count_accesses(t, sx, sy, order, keep, wl, tile, inst, changes, distinct, counts, below)
    cycles = bandwidth_cycles(iters, counts, bw)
    macs = iters * inst[t.shape[0]]
    result[0] = cycles
    result[1] = access_energy(counts, keep, block, energy, leak, clusters, inst, cycles, macs, mac_pj, epj)
    result[2] = macs
    return OK


@njit(cache=True)
def evaluate_batch(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                   dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                   bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, clusters: np.ndarray,
                   mac_pj: float, out_cycles: np.ndarray, out_energy: np.ndarray, out_code: np.ndarray) -> None:
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
    below = np.empty((n + 1, 8), dtype=np.int64)
    macs = mac_scratch(fanout)
    tb = np.empty((n, 8), dtype=np.int64)  # mapping b, copied (no views)
    xb = np.empty((n, 8), dtype=np.int64)
    yb = np.empty((n, 8), dtype=np.int64)
    ob = np.empty((n, 8), dtype=np.int64)
    kb = np.empty((n, 3), dtype=np.bool_)
    db = np.empty(n, dtype=np.bool_)
    for b in range(t.shape[0]):
        for lvl in range(n):
            for d in range(8):
                tb[lvl, d] = t[b, lvl, d]
                xb[lvl, d] = sx[b, lvl, d]
                yb[lvl, d] = sy[b, lvl, d]
                ob[lvl, d] = order[b, lvl, d]
            for ds in range(3):
                kb[lvl, ds] = keep[b, lvl, ds]
            db[lvl] = dbuf[b, lvl]
        code = evaluate_into(tb, xb, yb, ob, kb, db, wl, keep_allowed, cap, block, bw, energy, leak, fanout, clusters,
                             mac_pj, tile, inst, changes, distinct, counts, epj, info, result, below, macs)
        out_code[b] = code
        if code == OK:
            out_cycles[b] = int(result[0])
            out_energy[b] = result[1]
        else:
            out_cycles[b] = -1
            out_energy[b] = np.inf
