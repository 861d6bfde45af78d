"""Sparseloop's gating / skipping inside the batched kernel: numba ports of
``optimizations.condition_probability``, ``apply_local`` and ``compute_outcomes`` over the arrays of
``tables.SparseTables`` (the same operations in the same order as the per-mapping analysis).

``loops[lv, j]`` = (dimension, bound, spatial) of loop j (innermost first) of level lv (innermost
first); ``kept[lv, t]``, ``child[lv, t]`` describe which levels keep which tensor's tiles.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from acceldse.mapper.sparse.hypergeom import pmf
from acceldse.mapper.sparse.kernel_tiles import FALLBACK, GO, REJECT, footprint, prob_empty


@njit(cache=True)
def condition_probability(level: int, target: int, s: int, o: int, options: np.ndarray, loops: np.ndarray,
                          n_loops: np.ndarray, kept: np.ndarray, child: np.ndarray, tensor: np.ndarray,
                          axes: np.ndarray, terms: np.ndarray, density: np.ndarray, block_of: np.ndarray,
                          ext: np.ndarray, scratch: np.ndarray) -> tuple[int, int, float]:
    """(status, level holding ``target``, probability that its reads there are ineffectual) for option o
    of SAF group s. ``ext`` int64[4, 8] and ``scratch`` int64[3, >= loops]: scratch."""
    n_levels = kept.shape[0]
    tl = -1
    for lv in range(level, n_levels):
        if kept[lv, target]:
            tl = lv
            break
    if tl < 0:
        return REJECT, -1, 0.0
    ch = child[tl, target]
    tmask = tensor[target, 2]
    fl = -1
    fi = -1
    scalar = False
    for lv in range(ch + 1, tl + 1):
        n = n_loops[lv]
        for i in range(n):
            bound = loops[lv, i, 1]
            in_t = (tmask >> loops[lv, i, 0]) & 1
            if ch != -1:
                if bound > 1 and in_t:
                    fl, fi = lv, i
            else:
                if i + 1 >= n or not loops[lv, i + 1, 2]:
                    fl, fi = lv, i
                    scalar = not loops[lv, i, 2]
                elif in_t and bound > 1:
                    fl, fi = lv, i
            if fl >= 0:
                break
        if fl >= 0:
            break
    if fl < 0:
        fl, fi = tl, n_loops[tl] - 1
        if fi < 0:
            return FALLBACK, -1, 0.0
    tdim = loops[fl, fi, 0]
    tspatial = loops[fl, fi, 2] != 0
    mold = ext[0]
    mold.fill(1)
    if not scalar:
        for lv in range(fl + 1):
            for j in range(n_loops[lv] if lv < fl else fi + 1):
                mold[loops[lv, j, 0]] *= loops[lv, j, 1]
    default = ext[1]
    for d in range(8):
        default[d] = mold[d]
    scratch[0, 0] = tdim
    scratch[1, 0] = loops[fl, fi, 1]
    n_rel = 1
    upper_found = not tspatial
    for lv in range(fl, tl + 1):
        for j in range(fi + 1 if lv == fl else 0, n_loops[lv]):
            d, bound, spatial = loops[lv, j, 0], loops[lv, j, 1], loops[lv, j, 2] != 0
            if bound <= 1:
                continue
            other = not upper_found and not spatial and ch != -1 and not (tmask >> d) & 1
            if spatial or other:
                default[d] *= bound
                scratch[0, n_rel] = d
                scratch[1, n_rel] = bound
                n_rel += 1
            if tspatial and not spatial and (ch == -1 or (tmask >> d) & 1):
                upper_found = True
    block = block_of[tl]
    p_effectual = 1.0
    factors = ext[2]
    cond_mold = ext[3]
    for c in range(options[s, o, 1]):
        cond = options[s, o, 2 + c]
        cmask = tensor[cond, 2]
        co = tmask & cmask
        factors.fill(0)   # 0: not yet a factor; scratch[2] keeps the order they come in
        n_f = 0
        ineffective = False
        if not scalar:
            for r in range(n_rel):
                d = scratch[0, r]
                if tspatial and n_f > 0 and (cmask >> d) & 1:
                    ineffective = True
                    break
                if (co >> d) & 1:
                    if factors[d] == 0:
                        factors[d] = 1
                        scratch[2, n_f] = d
                        n_f += 1
                    factors[d] *= scratch[1, r]
        if ineffective:
            continue
        aggregate = 1
        for i in range(n_f):
            aggregate *= factors[scratch[2, i]]
        granularity = footprint(target, mold, axes, terms, tensor[target, 3])
        scaling = float(math.ceil(block / (granularity / aggregate)))
        for d in range(8):
            cond_mold[d] = default[d]
        for i in range(n_f):
            d = scratch[2, i]
            f = factors[d]
            eff = f / scaling
            cond_mold[d] = math.ceil(cond_mold[d] / eff)
            scaling = scaling / f
        if scaling > 1:
            cond_mold[tdim] = int(cond_mold[tdim] * scaling)
        size = footprint(cond, cond_mold, axes, terms, tensor[cond, 3])
        if density[cond, 3] > 0:   # hypergeometric: (elements, non-zeros) in columns 3, 4
            p_effectual *= 1 - pmf(0, int(density[cond, 3]), int(density[cond, 4]), size)
        else:
            p_effectual *= 1 - prob_empty(size, density[cond, 0])
    return GO, tl, 1 - p_effectual


@njit(cache=True, inline="always")
def apply_local(lv: int, t: int, p: float, kind: int, read_write: bool, child_ranks: int, n_ranks: int,
                fine: np.ndarray, fmt: np.ndarray, read_src: int, local: np.ndarray) -> None:
    """``optimizations.apply_local``: gate (kind 1) or skip (kind 2) a share ``p`` of tile (lv, t)'s reads
    and updates. ``fmt[lv, t, a]``: its actual metadata counts per access (reads in ``fmt[lv, t, read_src]``,
    which is the updates' when they are one list); ``local[lv, t, kind - 1, 0 | 1]``: gated / skipped
    metadata reads / updates."""
    reads = fine[lv, t, 0, 0]
    delta = math.ceil(reads * p) if read_write else math.floor(reads * p)
    fine[lv, t, kind, 0] += delta
    fine[lv, t, 0, 0] = reads - delta
    updates = fine[lv, t, 0, 2]
    delta = math.floor(updates * p)
    fine[lv, t, kind, 2] += delta
    fine[lv, t, 0, 2] = updates - delta
    for action in range(2):
        src = read_src if action == 0 else 2
        for r in range(min(child_ranks, n_ranks)):
            for j in range(2):
                d = math.floor(fmt[lv, t, src, r, j] * p)
                fmt[lv, t, src, r, j] -= d
                local[lv, t, kind - 1, action, r, j] += d


@njit(cache=True)
def compute_outcomes(total: float, a: int, b: int, md_a: bool, md_b: bool, density: np.ndarray, saf_a: float,
                     saf_b: float, gate: bool, skip: bool) -> tuple[int, int, int, int]:
    """``optimizations.compute_outcomes``: (status, actual, gated, skipped) computes of operands a, b
    (``md_*``: kept with metadata at their innermost level; ``saf_*``: their storage SAF share, -1: none)."""
    states = np.empty((2, 3))
    mds = (md_a, md_b)
    for i in range(2):
        d = density[(a, b)[i], 1]
        states[i, 0] = d
        states[i, 1] = 0.0 if mds[i] else 1 - d
        states[i, 2] = 1 - d if mds[i] else 0.0
    for op in range(2):
        other_saf = saf_b if op == 0 else saf_a
        if other_saf < 0:   # only an operand whose partner a storage SAF thinned is conditioned on it
            continue
        ratio = 1 - other_saf
        share = density[(a, b)[op], 2] / ratio if ratio > 0 else 0.0
        states[op, 0] = share
        states[op, 1] = 0.0 if mds[op] else 1 - share
        states[op, 2] = 1 - share if mds[op] else 0.0
    for i in range(2):
        for j in range(3):
            v = states[i, j]
            if v < -1e-5 or v > 1 + 1e-5:
                return REJECT, 0, 0, 0
            states[i, j] = min(max(v, 0.0), 1.0)
    pa, pb = states[0], states[1]
    gated = 0.0
    skipped = 0.0
    for q in range(4):
        if q == 0:
            share, miss = pa[0] * pb[1] + pa[1] * pb[0], False
        elif q == 1:
            share, miss = pa[0] * pb[2] + pa[2] * pb[0], True
        elif q == 2:
            share, miss = pa[1] * pb[1], False
        else:
            share, miss = pa[1] * pb[2] + pa[2] * pb[1], True
        delta = total * share
        if miss and skip:
            skipped += delta
        elif gate:
            gated += delta
    nonexistent = total * pa[2] * pb[2]
    actual = total - math.floor(skipped) - math.floor(gated) - math.floor(nonexistent)
    return GO, int(actual), math.floor(gated), math.floor(skipped)
