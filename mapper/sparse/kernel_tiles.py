"""Step 1 of Sparseloop's analysis (``representation``) for one mapping inside the batched kernel.

Numba ports of ``representation.assign_ranks``, ``metadata_given``, ``expected_occupancy`` and
``vector_ratio`` for fixed-structured densities over the arrays of ``tables.SparseTables``: the same
integer and floating-point operations in the same order, so the kernel's figures are the per-mapping
analysis's bit for bit. A hypergeometric density's occupancy and vector accesses
(``hyper_occupancy``, ``hyper_vector_blocks``) are computed here for both: the per-mapping analysis
calls these functions too. A tile is addressed by (level, tensor) (levels innermost first); a rank
format by its code (``tables.FORMAT_CODES``). Status codes: ``GO`` (done), ``REJECT`` (Sparseloop
rejects the mapping), ``FALLBACK`` (a case the kernel leaves to the per-mapping analysis).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from acceldse.mapper.sparse.hypergeom import pmf

GO, REJECT, FALLBACK = 0, 1, 2


@njit(cache=True, inline="always")
def footprint(t: int, ext: np.ndarray, axes: np.ndarray, terms: np.ndarray, n_axes: int) -> int:
    """``Tensor.footprint`` of tensor ``t`` at per-dimension extents ``ext``."""
    words = 1
    for a in range(n_axes):
        span = 1
        for k in range(terms[t, a]):
            span += axes[t, a, k, 1] * (ext[axes[t, a, k, 0]] - 1)
        words *= span
    return words


@njit(cache=True, inline="always")
def prob_empty(shape: int, density: float) -> float:
    """``FixedStructured(density).prob_empty(shape)``."""
    exact = shape * density
    low = math.floor(exact)
    if low == 0:
        return 1 - (exact - low)
    if math.ceil(exact) == 0:
        return exact - low
    return 0.0


@njit(cache=True, inline="always")
def prob_empty_given(shape: int, occupancy: int, of_shape: int, hyper: bool) -> float:
    """``prob_empty(shape, constraint=(of_shape, occupancy))`` of a fixed-structured density (``prob_empty``
    at the constraint's density) or a hypergeometric one (``hyper``: ``occupancy`` non-zeros among
    ``of_shape`` elements)."""
    if hyper:
        return pmf(0, of_shape, occupancy, shape)
    return prob_empty(shape, occupancy / of_shape)


@njit(cache=True)
def metadata_given(lv: int, t: int, occupancy: int, shape: int, formats: np.ndarray, n: int, subtile: np.ndarray,
                   fiber: np.ndarray, md: np.ndarray, pl: np.ndarray, hyper: bool) -> None:
    """``representation.metadata_given``: per rank (innermost first) into ``md`` / ``pl`` its metadata and
    payload units for a tile of ``shape`` holding ``occupancy`` non-zeros (the ``n`` formats of (lv, t);
    ``hyper``: of a hypergeometric density)."""
    fibers = 1
    cur = shape
    first = -1
    for r in range(n - 1, -1, -1):
        nxt = subtile[r]
        fs = fiber[r]
        if fs == 1 and r != n - 1:
            md[r] = 0.0
            pl[r] = 0.0
        else:
            first = r
            nonempty = fibers * (1 - prob_empty_given(cur, occupancy, shape, hyper))
            pec = prob_empty_given(nxt, occupancy, shape, hyper)
            code = formats[lv, t, r, 0]
            if code == 0:    # UOP
                md[r] = 0.0
                pl[r] = nonempty * (fs + 1)
            elif code == 1:  # CP
                units = np.ceil(fs * (1 - pec)) * nonempty
                md[r] = units
                pl[r] = units
            elif code == 2:  # RLE
                units = fs * (1 - pec) * nonempty
                md[r] = units
                pl[r] = units
            else:            # B
                md[r] = nonempty * fs
                pl[r] = nonempty * np.ceil(fs * (1 - pec))
        fibers *= fs
        cur = nxt
    if first >= 0:  # the innermost non-empty rank's payloads are the data
        pl[first] = 0.0


@njit(cache=True)
def assign_ranks(lv: int, t: int, child: int, loops: np.ndarray, n_loops: np.ndarray, tensor: np.ndarray,
                 axes: np.ndarray, terms: np.ndarray, formats: np.ndarray, n_formats: np.ndarray,
                 compressed: np.ndarray, shape: np.ndarray, n_ranks: np.ndarray, subtile: np.ndarray,
                 n_sub: np.ndarray, fiber: np.ndarray, work: np.ndarray, ext: np.ndarray) -> int:
    """``representation.assign_ranks`` of tile (lv, t) whose child level is ``child`` (-1: none): its
    sub-tile sizes and fibre shapes into ``subtile`` / ``fiber`` (counts ``n_sub`` / ``n_ranks``).
    ``work`` int64[4, >= loops]: scratch (loop dims, bounds, footprints, rank tiles / fibres)."""
    mask = tensor[t, 2]
    na = tensor[t, 3]
    inner_most = 0 if child < 0 else child + 1
    has_md = n_formats[lv, t] > 0
    pre = compressed[lv, t] and child >= 0 and shape[child, t] > 1
    want = n_formats[lv, t] if has_md else 1
    ext.fill(1)
    ns = 0
    for level in range(lv + 1):
        for j in range(n_loops[level]):
            d = loops[level, j, 0]
            if not (mask >> d) & 1:
                continue
            bound = loops[level, j, 1]
            if bound != 1:
                ext[d] *= bound
            if level >= inner_most:
                work[0, ns] = d
                work[1, ns] = bound
                work[2, ns] = footprint(t, ext, axes, terms, na)
                ns += 1
    if not pre:
        ext.fill(1)
        for level in range(inner_most):
            for j in range(n_loops[level]):
                d = loops[level, j, 0]
                if (mask >> d) & 1:
                    ext[d] *= loops[level, j, 1]
        for i in range(ns):
            d = work[0, i]
            if ext[d] > 1:
                work[1, i] *= ext[d]
                ext[d] = 1
    inner_rank = 0
    if pre:
        inner_rank = n_formats[child, t] if n_formats[child, t] > 0 else 1
        if inner_rank > want:
            return REJECT
        if compressed[child, t]:
            for r in range(inner_rank):
                if formats[child, t, r, 0] != formats[lv, t, r, 0]:
                    return REJECT
    made = 0   # ranks made, outermost first: tiles in work[3, 2 * i], fibres in work[3, 2 * i + 1]
    loop_id = ns - 1
    r_id = want
    while r_id > inner_rank and loop_id >= 0:
        while loop_id >= 0 and work[1, loop_id] <= 1:
            loop_id -= 1
        if loop_id < 0:
            break
        r_id -= 1
        d = work[0, loop_id]
        group = 0
        grouped = False
        if has_md and formats[lv, t, r_id, 4] > 0:
            for g in range(formats[lv, t, r_id, 4]):
                if (formats[lv, t, r_id, 5 + g] >> d) & 1:
                    group = formats[lv, t, r_id, 5 + g]
                    grouped = True
                    break
            if not grouped:
                return REJECT
        ext.fill(1)
        ext[d] *= work[1, loop_id]
        tile = work[2, loop_id]
        loop_id -= 1
        if not has_md or grouped:
            while loop_id >= 0 and (not has_md or work[1, loop_id] <= 1 or (group >> work[0, loop_id]) & 1):
                if work[1, loop_id] > 1:
                    ext[work[0, loop_id]] *= work[1, loop_id]
                loop_id -= 1
        if 2 * made + 1 >= work.shape[1]:
            return FALLBACK
        work[3, 2 * made] = tile
        work[3, 2 * made + 1] = footprint(t, ext, axes, terms, na)
        made += 1
    while r_id > inner_rank:
        r_id -= 1
        if 2 * made + 1 >= work.shape[1]:
            return FALLBACK
        work[3, 2 * made] = work[2, 0] if ns > 0 else 1
        work[3, 2 * made + 1] = 1
        made += 1
    for i in range(loop_id + 1):
        if work[1, i] > 1:
            return REJECT
    base = 0
    if pre:
        base = n_ranks[child, t]
        for r in range(n_sub[child, t]):
            subtile[lv, t, r] = subtile[child, t, r]
        for r in range(base):
            fiber[lv, t, r] = fiber[child, t, r]
        sub0 = n_sub[child, t]
    else:
        subtile[lv, t, 0] = 1
        sub0 = 1
    if sub0 + made > subtile.shape[2] or base + made > fiber.shape[2]:
        return FALLBACK
    for i in range(made):   # made outermost first: the innermost goes first
        subtile[lv, t, sub0 + i] = work[3, 2 * (made - 1 - i)]
        fiber[lv, t, base + i] = work[3, 2 * (made - 1 - i) + 1]
    n_sub[lv, t] = sub0 + made
    n_ranks[lv, t] = base + made
    return GO


@njit(cache=True)
def occupancy(lv: int, t: int, density: float, parent_md: bool, formats: np.ndarray, n: int, shape: int,
              subtile: np.ndarray, fiber: np.ndarray, md: np.ndarray, pl: np.ndarray, out_md: np.ndarray,
              out_pl: np.ndarray) -> tuple[float, int]:
    """``representation.expected_occupancy`` of tile (lv, t) (``n`` formats; 0: no metadata): (expected
    density, ranks of its occupancy); per rank its expected metadata / payload units into ``out_md`` /
    ``out_pl`` (``md`` / ``pl``: scratch)."""
    exact = shape * density
    low = math.floor(exact)
    lo = 0 if shape == 0 else low
    hi = low if exact == low else math.ceil(exact)
    ceil_p = exact - low
    occ = np.empty(2, dtype=np.int64)
    probs = np.empty(2)
    k = 0
    for o in range(lo, hi + 1):
        p = 1 - ceil_p if low == o else (ceil_p if math.ceil(exact) == o else 0.0)
        if p != 0:
            occ[k] = o
            probs[k] = p
            k += 1
    if parent_md and lo == 0 and k:
        scale = 1 - probs[0]
        for i in range(k):
            probs[i] = probs[i] / scale if scale > 0 else 0.0
        probs[0] = 0.0
    total = 0.0
    for i in range(k):
        total = probs[i] * occ[i] if i == 0 else total + probs[i] * occ[i]
    ranks = 0
    if n > 0 and k:
        ranks = n
        for i in range(k):
            metadata_given(lv, t, occ[i], shape, formats, n, subtile, fiber, md, pl, False)
            for r in range(n):
                if i == 0:
                    out_md[r] = md[r] * probs[i]
                    out_pl[r] = pl[r] * probs[i]
                else:
                    out_md[r] = out_md[r] + md[r] * probs[i]
                    out_pl[r] = out_pl[r] + pl[r] * probs[i]
    return total / shape, ranks


@njit(cache=True)
def vector_ratio(compressed: bool, shape: int, mean: float, block: int, density: float, vector: np.ndarray,
                 total: int, good: int) -> float:
    """``representation.vector_ratio`` of a fixed-structured density, or a hypergeometric one of ``good``
    non-zeros among ``total`` elements (``total`` > 0); -1.0: a block size without a table."""
    if not (compressed and shape and block > 1 and mean < 1.0):
        return 1.0
    row = -1
    for i in range(vector.shape[0]):
        if vector[i, 0] == block:
            row = i
    if row < 0:
        return -1.0
    idx = int(math.floor(mean / 0.1) - 1) if mean >= 0.1 else 0
    if vector[row, 1 + idx] <= shape // block:
        return 1.0
    if total > 0:
        return hyper_vector_blocks(shape, block, total, good) / (shape * mean / block)
    exact = shape * density
    low = math.floor(exact)
    high = math.ceil(exact)
    ceil_p = exact - low
    blocks = 0.0
    for nnz in range(max(low, 1), min(high, shape) + 1):   # the only occupancies of non-zero probability
        p = 1 - ceil_p if low == nnz else (ceil_p if high == nnz else 0.0)
        blocks += np.ceil(nnz / block) * p
    return blocks / (shape * mean / block)


NEGLIGIBLE = 2.0 ** -64
"""An occupancy whose probability is below this share of the most likely one's is left out of a
hypergeometric tile's sums (it moves them by less than their rounding)."""


@njit(cache=True)
def support(lo: int, hi: int, total: int, good: int, draws: int) -> tuple[int, int]:
    """The occupancies in [lo, hi] of a tile of ``draws`` elements of a hypergeometric tensor whose
    probability is not ``NEGLIGIBLE``: from the mode outward (unimodal); (1, 0) when none."""
    mode = min(max(((draws + 1) * (good + 1)) // (total + 2), lo), hi)
    least = pmf(mode, total, good, draws) * NEGLIGIBLE
    if mode < lo or least == 0:
        return 1, 0
    k_lo = mode
    while k_lo > lo and pmf(k_lo - 1, total, good, draws) >= least:
        k_lo -= 1
    k_hi = mode
    while k_hi < hi and pmf(k_hi + 1, total, good, draws) >= least:
        k_hi += 1
    return k_lo, k_hi


@njit(cache=True)
def hyper_occupancy(lv: int, t: int, total: int, good: int, parent_md: bool, formats: np.ndarray, n: int, shape: int,
                    subtile: np.ndarray, fiber: np.ndarray, md: np.ndarray, pl: np.ndarray, out_md: np.ndarray,
                    out_pl: np.ndarray) -> tuple[float, int]:
    """``occupancy`` of a hypergeometric density (``good`` non-zeros among ``total`` elements): the
    expected density over every occupancy of ``support`` from Sparseloop's least
    (``Hypergeometric.min_occupancy``) to its largest (a tile under a parent with metadata conditioned
    on being non-empty: its first outcome dropped, the others renormalised), the metadata of each
    occupancy weighted by its probability, summed in occupancy order."""
    lo = 0 if shape == 0 or shape <= total - good else ((shape - total + good) // shape) * shape
    k_lo, k_hi = support(lo, min(shape, good), total, good, shape)
    if k_lo > k_hi:
        return 0.0, 0
    renorm = parent_md and lo == 0
    scale = 1 - pmf(k_lo, total, good, shape)
    acc = 0.0
    for k in range(k_lo, k_hi + 1):
        p = pmf(k, total, good, shape)
        if renorm:
            p = 0.0 if k == k_lo else (p / scale if scale > 0 else 0.0)
        acc = p * k if k == k_lo else acc + p * k
        if n > 0:
            metadata_given(lv, t, k, shape, formats, n, subtile, fiber, md, pl, True)
            for r in range(n):
                if k == k_lo:
                    out_md[r] = md[r] * p
                    out_pl[r] = pl[r] * p
                else:
                    out_md[r] = out_md[r] + md[r] * p
                    out_pl[r] = out_pl[r] + pl[r] * p
    return acc / shape, n


@njit(cache=True)
def hyper_vector_blocks(shape: int, block: int, total: int, good: int) -> float:
    """Expected blocks of ``block`` words a tile of ``shape`` elements of a hypergeometric tensor (``good``
    non-zeros among ``total``) fills with its non-zeros: the sum of ``ceil(k / block) P(k)`` over k >= 1."""
    k_lo, k_hi = support(0, min(shape, good), total, good, shape)
    acc = 0.0
    for k in range(max(k_lo, 1), k_hi + 1):
        acc += math.ceil(k / block) * pmf(k, total, good, shape)
    return acc
