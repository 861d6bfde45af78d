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

from acceldse.mapper.kernel_memory import prefetch, unowned
from acceldse.mapper.legality import OK, RELEVANT, check_tiles
from acceldse.mapper.mac_fanout import mac_fanout_accesses, mac_scratch

# Note: numba's on-disk cache keys on this file only; ``acceldse.kernel_cache`` starts a fresh cache
# whenever any kernel file changes (``mapper/legality.py`` and ``mapper/mac_fanout.py`` are inlined here).
#
# Speed: the helpers are inlined into ``evaluate_batch`` at numba's IR level (``inline="always"``) and no helper
# allocates. The loop over mappings (``_evaluate_rows``) runs on views without an owner
# (``mapper.kernel_memory.unowned``): an array bound to a helper's argument, or a view, otherwise costs two
# atomic reference-count updates, which made up about a quarter of the time per mapping; so mapping ``b`` is
# evaluated in place (``t[b]``, no copy) while the next one's rows are prefetched (a batch larger than the caches
# streams from memory). The per-mapping rules avoid branches that depend on the mapping
# (keeps, unit factors, the sliding loop): ``walk_loops`` records what ``sliding_reuse`` needs while it walks
# the loops once, ``count_accesses`` runs every level (a select zeroes the levels that keep nothing) and
# multiplies the spatial factors that index a dataspace (``spatial_products``) instead of dividing by the
# others, and the energy's ceil-division by a power-of-two block is a shift (``block_shifts``).


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
    inner = np.empty((t.shape[0], 3), dtype=np.int64)
    return walk_loops(t, order, changes, distinct, inner)


@njit(cache=True, inline="always")
def walk_loops(t: np.ndarray, order: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
               inner: np.ndarray) -> int:
    """``tile_changes``, also leaving in ``inner[l]`` the innermost non-unit temporal loop above level ``l``:
    (its level or -1, its dim, the iterations of the loops outside it) for ``sliding_reuse``."""
    n = t.shape[0]
    prod_all = 1  # product of the loops walked so far (at the end: the temporal iterations)
    last0 = last1 = last2 = 1  # prod_all up to the innermost loop so far that indexes inputs, weights, outputs
    dist0 = dist1 = dist2 = 1  # product of the loops so far that index each dataspace
    in_lvl = -1  # the innermost non-unit loop so far: level, dim, prod_all before it
    in_dim = -1
    in_before = 1
    for lvl in range(n):
        changes[lvl, 0], changes[lvl, 1], changes[lvl, 2] = last0, last1, last2
        distinct[lvl, 0], distinct[lvl, 1], distinct[lvl, 2] = dist0, dist1, dist2
        inner[lvl, 0], inner[lvl, 1], inner[lvl, 2] = in_lvl, in_dim, in_before
        for k in range(8):
            d = order[lvl, k]
            f = t[lvl, d]
            moved = f != 1  # selects, not branches: unit loops are common and unpredictable
            in_lvl = lvl if moved else in_lvl
            in_dim = d if moved else in_dim
            in_before = prod_all if moved else in_before
            prod_all *= f
            last0 = prod_all if moved & RELEVANT[0, d] else last0
            last1 = prod_all if moved & RELEVANT[1, d] else last1
            last2 = prod_all if moved & RELEVANT[2, d] else last2
            dist0 *= f if RELEVANT[0, d] else 1
            dist1 *= f if RELEVANT[1, d] else 1
            dist2 *= f if RELEVANT[2, d] else 1
    for ds in range(3):
        changes[n, ds] = prod_all
        distinct[n, ds] = prod_all
    return prod_all


@njit(cache=True, inline="always")
def spatial_products(sx: np.ndarray, sy: np.ndarray, relevant: np.ndarray) -> None:
    """``relevant[l, ds]``: the product of level ``l``'s spatial factors over the dims that index ``ds``."""
    for lvl in range(sx.shape[0]):
        r0 = r1 = r2 = 1
        for d in range(8):
            s = sx[lvl, d] * sy[lvl, d]
            r0 *= s if RELEVANT[0, d] else 1
            r1 *= s if RELEVANT[1, d] else 1
            r2 *= s if RELEVANT[2, d] else 1
        relevant[lvl, 0], relevant[lvl, 1], relevant[lvl, 2] = r0, r1, r2


@njit(cache=True, inline="always")
def sliding_reuse(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, wl: np.ndarray, inner: np.ndarray,
                  below: np.ndarray, reuse: np.ndarray) -> None:
    """``reuse[c]``: input words per instance of level ``c`` that sliding-window reuse saves over its
    ``changes[c, inputs]`` refills (``reuse[0] = reuse[L] = 0``).

    Like Timeloop, only the innermost non-unit temporal loop above ``c`` counts (``inner[c]``: level
    ``j``, dim, iterations outside it): when it steps along P or R (rows) or Q or S (columns), the new
    tile overlaps the previous one by the bounding-box rows (columns) that the step does not pass; a
    wrap-around refetches all. The step is the loop's extent below it: ``below[j + 1]`` times level
    ``j``'s spatial factors (the levels between ``j`` and ``c`` have unit temporal loops only)."""
    n = t.shape[0]
    reuse[0] = 0
    reuse[n] = 0
    for c in range(1, n):
        j = inner[c, 0]
        dim = inner[c, 1]
        valid = (j >= 0) & (dim >= 4)
        jj = j if valid else 0
        dd = dim if valid else 4
        step = below[jj + 1, dd] * sx[jj, dd] * sy[jj, dd]
        axis = dd & 1  # 0: rows (P, R), 1: columns (Q, S)
        coeff = wl[10 + axis] if dd >= 6 else wl[8 + axis]
        span = (below[c, 4 + axis] - 1) * wl[8 + axis] + (below[c, 6 + axis] - 1) * wl[10 + axis] + 1
        other = (below[c, 5 - axis] - 1) * wl[9 - axis] + (below[c, 7 - axis] - 1) * wl[11 - axis] + 1
        kept = span - step * coeff
        slides = inner[c, 2] * (t[jj, dd] - 1)
        saved = slides * below[c, 0] * below[c, 1] * below[c, 3] * kept * other
        reuse[c] = saved if valid & (kept > 0) else 0


@njit(cache=True, inline="always")
def count_accesses(keep: np.ndarray, wl: np.ndarray, tile: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                   counts: np.ndarray, reuse: np.ndarray, relevant: np.ndarray) -> None:
    """Fill ``counts[L, 3, 3]`` (reads, fills, updates per utilised instance) from the tile changes.

    Each keeper ``p`` serves the next keeper ``c`` below it (the MACs, row L, when none): ``children /
    multicast`` is the product of the spatial factors that index the dataspace at levels ``p`` .. ``c - 1``
    (``relevant``; a fan-out to the MACs is already in ``changes[L]``, per instance of the last level, so
    level L - 1's never counts). The levels are walked innermost first, every one computed and the
    levels that do not keep the dataspace zeroed by a select."""
    n = keep.shape[0]
    for ds in range(3):
        if ds == 1 and wl[12] == 0:
            for lvl in range(n):
                counts[lvl, 1, 0] = counts[lvl, 1, 1] = counts[lvl, 1, 2] = 0
            continue
        nxt = n  # the next keeper below the level
        acc = 1  # product of relevant[] over the levels between the level and nxt (level L - 1 excluded)
        for lvl in range(n - 1, -1, -1):
            fan = acc * relevant[lvl, ds] if lvl < n - 1 else 1
            saved_c = reuse[nxt] if ds == 0 else 0
            saved_p = reuse[lvl] if ds == 0 else 0
            moves = changes[nxt, ds] * tile[nxt, ds] - saved_c  # tile[L] = 1, reuse[L] = 0
            if ds != 2:
                reads = moves * fan
                fills = changes[lvl, ds] * tile[lvl, ds] - saved_p
                updates = 0
            else:
                updates = moves * fan
                reads = updates - distinct[lvl, ds] * tile[lvl, ds]
                fills = (changes[lvl, ds] - distinct[lvl, ds]) * tile[lvl, ds]
            kept = keep[lvl, ds]
            counts[lvl, ds, 0] = reads if kept else 0
            counts[lvl, ds, 1] = fills if kept & (lvl > 0) else 0
            counts[lvl, ds, 2] = updates if kept else 0
            nxt = lvl if kept else nxt
            acc = 1 if kept else fan


@njit(cache=True, inline="always")
def bandwidth_cycles(iters: int, counts: np.ndarray, bw: np.ndarray) -> int:
    """max(temporal iterations, each level's slowed-down cycles), in Timeloop's floating-point order
    (``Buffer::ComputePerformance``): the words per cycle each dataspace needs (its reads, or its fills +
    updates, over the iterations) summed, the slowdown = bandwidth / need when the need exceeds it, and
    cycles = ceil(iterations / slowdown) -- so an exact quotient can land one cycle above, as in Timeloop."""
    cycles = iters
    for lvl in range(counts.shape[0]):
        rd_words = 0
        wr_words = 0
        for ds in range(3):
            rd_words += counts[lvl, ds, 0]
            wr_words += counts[lvl, ds, 1] + counts[lvl, ds, 2]
        near = 0.999999 * iters   # only a level at or near its bandwidth needs the floating-point order
        if not ((bw[lvl, 0] > 0.0 and rd_words >= bw[lvl, 0] * near) or
                (bw[lvl, 1] > 0.0 and wr_words >= bw[lvl, 1] * near)):
            continue
        rd = 0.0
        wr = 0.0
        for ds in range(3):
            rd += counts[lvl, ds, 0] / iters
            wr += (counts[lvl, ds, 1] + counts[lvl, ds, 2]) / iters
        slow = 1.0
        if bw[lvl, 0] > 0.0 and bw[lvl, 0] < rd:
            slow = min(slow, bw[lvl, 0] / rd)
        if bw[lvl, 1] > 0.0 and bw[lvl, 1] < wr:
            slow = min(slow, bw[lvl, 1] / wr)
        c = int(np.ceil(iters / slow))
        if c > cycles:
            cycles = c
    return cycles


@njit(cache=True, inline="always")
def block_shifts(block: np.ndarray, shift: np.ndarray) -> None:
    """``shift[l] = log2(block[l])`` when level ``l``'s block is a power of two, else -1."""
    for lvl in range(block.shape[0]):
        s = -1
        for k in range(62):
            if block[lvl] == 1 << k:
                s = k
        shift[lvl] = s


@njit(cache=True, inline="always")
def access_energy(counts: np.ndarray, keep: np.ndarray, block: np.ndarray, shift: np.ndarray, energy: np.ndarray,
                  leak: np.ndarray, clusters: np.ndarray, inst: np.ndarray, cycles: int, macs: int, mac_pj: float,
                  epj: np.ndarray) -> float:
    """Fill ``epj[L+2, 3]`` (pJ per level/dataspace; row L = MACs, row L+1 = leakage); return the total.
    Accesses are ``ceil(count / block)``: a shift when the block is a power of two (``block_shifts``)."""
    n = counts.shape[0]
    total = 0.0
    for lvl in range(n):
        b = block[lvl]
        s = shift[lvl]
        accessed = min(inst[lvl], clusters[lvl])
        for ds in range(3):
            e = 0.0
            for a in range(3):
                x = counts[lvl, ds, a]
                accesses = -((-x) >> s) if s >= 0 else _ceil_div(x, b)
                e += accesses * energy[lvl, ds, a]
            epj[lvl, ds] = e * accessed if keep[lvl, ds] else 0.0
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


@njit(cache=True, inline="always")
def scratch(n: int, block: np.ndarray, fanout: np.ndarray) -> tuple:
    """The per-call scratch of ``evaluate_into`` for ``n`` levels: ``below[L+1, 8]`` (``legality.check_tiles``),
    ``inner[L, 3]`` (``walk_loops``), ``relevant[L, 3]`` (``spatial_products``), ``reuse[L+1]``
    (``sliding_reuse``), ``shift[L]`` (``block_shifts``, filled) and ``macs`` (``mac_fanout.mac_scratch``)."""
    shift = np.empty(n, dtype=np.int64)
    block_shifts(block, shift)
    return (np.empty((n + 1, 8), dtype=np.int64), np.empty((n, 3), dtype=np.int64), np.empty((n, 3), dtype=np.int64),
            np.empty(n + 1, dtype=np.int64), shift, mac_scratch(fanout))


@njit(cache=True)
def evaluate_one(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                 dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                 bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, clusters: np.ndarray,
                 mac_pj: float, tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                 counts: np.ndarray, epj: np.ndarray, info: np.ndarray, result: np.ndarray) -> int:
    """Evaluate one mapping (arrays [L, 8]); write counts[L,3,3] (reads, fills, updates per instance),
    epj[L+2, 3] and result = (cycles, energy_pj, macs incl. padding). Returns the legality code (0 = legal)."""
    below, inner, relevant, reuse, shift, macs = scratch(t.shape[0], block, fanout)
    return evaluate_into(t, sx, sy, order, keep, dbuf, wl, keep_allowed, cap, block, bw, energy, leak, fanout,
                         clusters, mac_pj, tile, inst, changes, distinct, counts, epj, info, result, below, inner,
                         relevant, reuse, shift, macs)


@njit(cache=True, inline="always")
def evaluate_into(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                  dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                  bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, clusters: np.ndarray,
                  mac_pj: float, tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray,
                  counts: np.ndarray, epj: np.ndarray, info: np.ndarray, result: np.ndarray, below: np.ndarray,
                  inner: np.ndarray, relevant: np.ndarray, reuse: np.ndarray, shift: np.ndarray, macs: np.ndarray
                  ) -> int:
    """``evaluate_one`` with the caller's ``scratch`` (nothing is allocated per mapping)."""
    code = check_tiles(t, sx, sy, keep, dbuf, wl, keep_allowed, cap, fanout, tile, inst, info, below)
    if code != OK:
        return code
    iters = walk_loops(t, order, changes, distinct, inner)
    if spatial_innermost(t, sx, sy):
        mac_fanout_accesses(t, sx, sy, order, wl, fanout, below, iters, changes[t.shape[0]], macs)
    spatial_products(sx, sy, relevant)
    sliding_reuse(t, sx, sy, wl, inner, below, reuse)
    count_accesses(keep, wl, tile, changes, distinct, counts, reuse, relevant)
    cycles = bandwidth_cycles(iters, counts, bw)
    done = iters * inst[t.shape[0]]
    result[0] = cycles
    result[1] = access_energy(counts, keep, block, shift, energy, leak, clusters, inst, cycles, done, mac_pj, epj)
    result[2] = done
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
    below, inner, relevant, reuse, shift, macs = scratch(n, block, fanout)
    # the owners of every array stay alive in this frame while the loop runs on unowned views
    _evaluate_rows(t, sx, sy, order, keep, dbuf, wl, keep_allowed, cap, block, bw, energy, leak, fanout, clusters,
                   mac_pj, out_cycles, out_energy, out_code, tile, inst, changes, distinct, counts, epj, info, result,
                   below, inner, relevant, reuse, shift, macs)


@njit(cache=True, inline="always")
def _prefetch_row(a: np.ndarray, b: int) -> None:
    """Prefetch the cache lines of ``a[b]`` (a batch's mapping ``b``)."""
    for line in range(0, a.strides[0], 64):
        prefetch(a, b * a.strides[0] + line)


# Must stay a separate call, never inlined into ``evaluate_batch``: the caller's frame owns the arrays whose
# unowned views this loop uses, and keeps them alive only until the call returns.
@njit(cache=True)
def _evaluate_rows(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, keep: np.ndarray,
                   dbuf: np.ndarray, wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, block: np.ndarray,
                   bw: np.ndarray, energy: np.ndarray, leak: np.ndarray, fanout: np.ndarray, clusters: np.ndarray,
                   mac_pj: float, out_cycles: np.ndarray, out_energy: np.ndarray, out_code: np.ndarray,
                   tile: np.ndarray, inst: np.ndarray, changes: np.ndarray, distinct: np.ndarray, counts: np.ndarray,
                   epj: np.ndarray, info: np.ndarray, result: np.ndarray, below: np.ndarray, inner: np.ndarray,
                   relevant: np.ndarray, reuse: np.ndarray, shift: np.ndarray, macs: np.ndarray) -> None:
    """The loop of ``evaluate_batch`` over its mappings, on unowned views (``mapper.kernel_memory``) of its arrays."""
    t, sx, sy, order, keep, dbuf = unowned(t), unowned(sx), unowned(sy), unowned(order), unowned(keep), unowned(dbuf)
    wl, keep_allowed, cap, block, bw = unowned(wl), unowned(keep_allowed), unowned(cap), unowned(block), unowned(bw)
    energy, leak, fanout, clusters = unowned(energy), unowned(leak), unowned(fanout), unowned(clusters)
    tile, inst, changes, distinct = unowned(tile), unowned(inst), unowned(changes), unowned(distinct)
    counts, epj, info, result, below = unowned(counts), unowned(epj), unowned(info), unowned(result), unowned(below)
    inner, relevant, reuse, shift, macs = unowned(inner), unowned(relevant), unowned(reuse), unowned(shift), \
        unowned(macs)
    for b in range(t.shape[0]):
        if b + 1 < t.shape[0]:   # the next mapping's rows, while this one is evaluated
            _prefetch_row(t, b + 1)
            _prefetch_row(sx, b + 1)
            _prefetch_row(sy, b + 1)
            _prefetch_row(order, b + 1)
            _prefetch_row(keep, b + 1)
            _prefetch_row(dbuf, b + 1)
        code = evaluate_into(t[b], sx[b], sy[b], order[b], keep[b], dbuf[b], wl, keep_allowed, cap, block, bw,
                             energy, leak, fanout, clusters, mac_pj, tile, inst, changes, distinct, counts, epj, info,
                             result, below, inner, relevant, reuse, shift, macs)
        out_code[b] = code
        if code == OK:
            out_cycles[b] = int(result[0])
            out_energy[b] = result[1]
        else:
            out_cycles[b] = -1
            out_energy[b] = np.inf
