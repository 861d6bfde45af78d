"""Sparseloop's analysis of a whole batch of mappings in one compiled call (``score_batch``).

``analysis.analyse`` per mapping, ported to numba over the arrays of ``tables.SparseTables`` and the
dense kernel's per-mapping counts (``dense_counts.dense_counts_batch``): the loops of each level, the
tiles each level keeps, step 1 (``kernel_tiles``: ranks, expected occupancy, metadata, vector
accesses), step 2 (``kernel_conditions``: the gating / skipping share of each SAF group), step 3
(actual, gated and skipped accesses and metadata), step 4 (computes), step 5 (``kernel_energy``: energy,
bandwidth cycles) and Sparseloop's capacity check. Every operation is the per-mapping analysis's, in its
order, so the cycles and energy are the same floats (``tests/mapper/test_sparse_kernel.py`` compares them
on random mappings of every Sparseloop exercise and of zoo layers). A mapping the kernel does not model (a
case where the per-mapping analysis would fail, a tile with more ranks than the scratch holds) gets
``NOT_MODELLED`` and is analysed mapping by mapping (``batched.BatchedSparse``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from acceldse.mapper.sparse.kernel_conditions import apply_local, compute_outcomes, condition_probability
from acceldse.mapper.sparse.kernel_energy import level_energies, over_capacity
from acceldse.mapper.sparse.kernel_tiles import (
    FALLBACK,
    GO,
    REJECT,
    assign_ranks,
    hyper_occupancy,
    metadata_given,
    occupancy,
    vector_ratio,
)

REJECTED, OVER_CAPACITY, NOT_MODELLED = 100, 101, -100
"""Codes: Sparseloop rejects the mapping; its compressed tiles exceed a capacity; left to the per-mapping path."""
RANKS = 17
"""Ranks a tile may have (a pre-tiled tile takes its child's too)."""


@njit(cache=True, inline="always")
def _scale_rank0(fmt: np.ndarray, lv: int, t: int, a: int, p: float, lower: int, n: int) -> bool:
    """``optimizations.scale_rank0`` (Python's negative indices included); False where Python would fail."""
    for r in range(lower, 1):
        idx = r if r >= 0 else n + r
        if idx < 0 or idx >= n:
            return False
        fmt[lv, t, a, idx, 0] -= math.floor(fmt[lv, t, a, idx, 0] * p)
        fmt[lv, t, a, idx, 1] -= math.floor(fmt[lv, t, a, idx, 1] * p)
    return True


@njit(cache=True)
def score_batch(temporal: np.ndarray, spatial_x: np.ndarray, spatial_y: np.ndarray, order: np.ndarray,
                keep: np.ndarray, tile: np.ndarray, inst: np.ndarray, counts: np.ndarray, res: np.ndarray,
                code: np.ndarray, out_cycles: np.ndarray, out_energy: np.ndarray, out_kept: np.ndarray,
                tensor: np.ndarray, axes: np.ndarray, terms: np.ndarray, density: np.ndarray, formats: np.ndarray,
                n_formats: np.ndarray, level_int: np.ndarray, bandwidth: np.ndarray, energy: np.ndarray,
                saf: np.ndarray, options: np.ndarray, compute: np.ndarray, flags: np.ndarray, present: np.ndarray,
                capacity: np.ndarray, leakage: np.ndarray, vector: np.ndarray) -> None:
    """Sparseloop's cycles / energy of every mapping whose ``code`` is 0 (dense-legal), into ``out_cycles`` /
    ``out_energy``, or its code (``REJECTED``, ``OVER_CAPACITY``, ``NOT_MODELLED``) into ``code``;
    ``out_kept``: per mapping a bit per (level, tensor) it keeps (``lv * T + t``)."""
    n_b, n_l = temporal.shape[0], temporal.shape[1]
    n_t = tensor.shape[0]
    n_loop_max = 24
    loops = np.zeros((n_l, n_loop_max, 3), dtype=np.int64)
    n_loops = np.zeros(n_l, dtype=np.int64)
    kept = np.zeros((n_l, n_t), dtype=np.bool_)
    comp = np.zeros((n_l, n_t), dtype=np.bool_)
    shape = np.zeros((n_l, n_t), dtype=np.int64)
    dense = np.zeros((n_l, n_t, 3), dtype=np.int64)
    nf = np.zeros((n_l, n_t), dtype=np.int64)
    child = np.full((n_l, n_t), -1, dtype=np.int64)
    parent = np.full((n_l, n_t), -1, dtype=np.int64)
    n_ranks = np.zeros((n_l, n_t), dtype=np.int64)
    n_sub = np.zeros((n_l, n_t), dtype=np.int64)
    subtile = np.zeros((n_l, n_t, RANKS + 1), dtype=np.int64)
    fiber = np.zeros((n_l, n_t, RANKS), dtype=np.int64)
    work = np.zeros((4, 2 * n_loop_max * n_l + 2), dtype=np.int64)
    ext = np.ones(8, dtype=np.int64)
    ext4 = np.ones((4, 8), dtype=np.int64)
    cscratch = np.zeros((3, n_loop_max * n_l + 1), dtype=np.int64)
    expd = np.zeros((n_l, n_t))
    occn = np.zeros((n_l, n_t), dtype=np.int64)
    omd = np.zeros((n_l, n_t, RANKS))
    opl = np.zeros((n_l, n_t, RANKS))
    md = np.zeros(RANKS)
    pl = np.zeros(RANKS)
    vrat = np.zeros((n_l, n_t))
    mdbits = np.zeros((n_l, n_t), dtype=np.int64)
    capy = np.zeros((n_l, n_t), dtype=np.int64)
    fmt = np.zeros((n_l, n_t, 3, RANKS, 2), dtype=np.int64)
    local = np.zeros((n_l, n_t, 2, 2, RANKS, 2), dtype=np.int64)
    fine = np.zeros((n_l, n_t, 3, 3), dtype=np.int64)
    maxima = np.zeros((n_l, n_t, 3), dtype=np.int64)
    mask_kind = np.full((n_l, n_t), -1, dtype=np.int64)
    mask_p = np.zeros((n_l, n_t))
    finalised = np.zeros((n_l, n_t), dtype=np.bool_)
    read_src = np.zeros((n_l, n_t), dtype=np.int64)
    storage_saf = np.full(n_t, -1.0)
    ds_tensor = np.full(3, -1, dtype=np.int64)
    for t in range(n_t):
        ds_tensor[tensor[t, 0]] = t
    block_of = level_int[:, 1].copy()
    bits = np.zeros((3, 3), dtype=np.int64)
    weights = flags[4] != 0
    for b in range(n_b):
        if code[b] != 0:
            continue
        status = GO
        # the loops of each level, innermost first (``batched.array_loops``)
        for lv in range(n_l):
            i = n_l - 1 - lv
            n = 0
            for axis in range(2):
                f = spatial_x[b, i] if axis == 0 else spatial_y[b, i]
                for d in range(8):
                    if f[d] > 1 and present[d]:
                        loops[lv, n, 0], loops[lv, n, 1], loops[lv, n, 2] = d, f[d], 1
                        n += 1
            for d in range(7, -1, -1):
                if temporal[b, i, d] == 1 and present[d]:
                    loops[lv, n, 0], loops[lv, n, 1], loops[lv, n, 2] = d, 1, 0
                    n += 1
            for k in range(7, -1, -1):
                d = order[b, i, k]
                if temporal[b, i, d] != 1 and present[d]:
                    loops[lv, n, 0], loops[lv, n, 1], loops[lv, n, 2] = d, temporal[b, i, d], 0
                    n += 1
            n_loops[lv] = n
        # the tiles kept, their dense counts, children and parents
        kept_bits = 0
        for t in range(n_t):
            j = tensor[t, 0]
            prev = -1
            for lv in range(n_l):
                i = n_l - 1 - lv
                in_dense = keep[b, i, j] and (j != 1 or weights)
                kept[lv, t] = in_dense and tile[b, i, j] != 0
                if in_dense and tile[b, i, j] == 0 and n_formats[lv, t] > 0:
                    status = REJECT
                shape[lv, t] = tile[b, i, j]
                for a in range(3):
                    dense[lv, t, a] = counts[b, i, j, a]
                nf[lv, t] = n_formats[lv, t] if kept[lv, t] else 0
                comp[lv, t] = False
                for r in range(nf[lv, t]):
                    if formats[lv, t, r, 1]:
                        comp[lv, t] = True
                child[lv, t] = -1
                parent[lv, t] = -1
                if kept[lv, t]:
                    kept_bits |= 1 << (lv * n_t + t)
                    child[lv, t] = prev
                    if prev >= 0:
                        parent[prev, t] = lv
                    prev = lv
        out_kept[b] = kept_bits
        # step 1: representation
        for t in range(n_t):
            if status != GO:
                break
            for lv in range(n_l):
                if not kept[lv, t]:
                    continue
                p = parent[lv, t]
                n = nf[lv, t]
                if n == 0 and not (p >= 0 and comp[p, t] and shape[lv, t] > 1):
                    n_ranks[lv, t] = 0
                    n_sub[lv, t] = 0
                else:
                    status = assign_ranks(lv, t, child[lv, t], loops, n_loops, tensor, axes, terms, formats, nf,
                                          comp, shape, n_ranks, subtile, n_sub, fiber, work, ext)
                    if status != GO:
                        break
                if n > 0 and (n > n_sub[lv, t] or n > n_ranks[lv, t]):
                    status = FALLBACK
                    break
                sh = shape[lv, t]
                hyper = density[t, 3] > 0   # a hypergeometric density: (elements, non-zeros) in columns 3, 4
                total, good = int(density[t, 3]), int(density[t, 4])
                if hyper:
                    expd[lv, t], occn[lv, t] = hyper_occupancy(lv, t, total, good, p >= 0 and nf[p, t] > 0, formats,
                                                               n, sh, subtile[lv, t], fiber[lv, t], md, pl,
                                                               omd[lv, t], opl[lv, t])
                else:
                    expd[lv, t], occn[lv, t] = occupancy(lv, t, density[t, 0], p >= 0 and nf[p, t] > 0, formats, n,
                                                         sh, subtile[lv, t], fiber[lv, t], md, pl, omd[lv, t],
                                                         opl[lv, t])
                vr = vector_ratio(comp[lv, t], sh, expd[lv, t], level_int[lv, 1], density[t, 0], vector, total, good)
                if vr < 0:
                    status = REJECT
                    break
                vrat[lv, t] = vr
                if hyper:
                    largest = min(sh, good)
                else:
                    exact = sh * density[t, 0]
                    largest = math.floor(exact) if exact == math.floor(exact) else math.ceil(exact)
                mdbits[lv, t] = 0
                if n > 0:
                    metadata_given(lv, t, largest, sh, formats, n, subtile[lv, t], fiber[lv, t], md, pl, hyper)
                    s = 0.0
                    for r in range(n):
                        s += md[r] * formats[lv, t, r, 2] + pl[r] * formats[lv, t, r, 3]
                    mdbits[lv, t] = math.ceil(s)
                capy[lv, t] = largest if comp[lv, t] else sh
                for a in range(3):
                    ratio = dense[lv, t, a] / sh
                    for r in range(occn[lv, t]):
                        fmt[lv, t, a, r, 0] = math.ceil(omd[lv, t, r] * ratio)
                        fmt[lv, t, a, r, 1] = math.ceil(opl[lv, t, r] * ratio)
                fine[lv, t].fill(0)
                for a in range(3):
                    fine[lv, t, 0, a] = dense[lv, t, a]
                local[lv, t].fill(0)
                mask_kind[lv, t] = -1
                finalised[lv, t] = False
                read_src[lv, t] = 0
        # step 2: the gating / skipping share of each SAF group (the option saving most energy)
        for kind in range(2):
            for s in range(saf.shape[0]):
                if status != GO:
                    break
                if saf[s, 1] != kind:
                    continue
                best, btl, bt, bp = 0.0, -1, -1, 0.0
                for o in range(saf[s, 2]):
                    target = options[s, o, 0]
                    status, tl, p = condition_probability(saf[s, 0], target, s, o, options, loops, n_loops, kept,
                                                          child, tensor, axes, terms, density, block_of, ext4,
                                                          cscratch)
                    if status != GO:
                        break
                    occv = expd[tl, target] * shape[tl, target]
                    ratio = level_int[tl, 2] / level_int[tl, 0]
                    units = 0.0
                    for r in range(occn[tl, target]):
                        units += omd[tl, target, r] + opl[tl, target, r]
                    occv += units * ratio
                    savings = energy[tl, 0] / level_int[tl, 1] * occv * p
                    if btl < 0 or savings >= best:
                        best, btl, bt, bp = savings, tl, target, p
                if status != GO:
                    break
                if mask_kind[btl, bt] < 0 or mask_p[btl, bt] < bp:
                    mask_kind[btl, bt] = kind
                    mask_p[btl, bt] = bp
        # step 3: representation, then the explicit optimisations
        computes = float(int(res[b, 2]))
        for t in range(n_t):
            storage_saf[t] = -1.0
            rw = tensor[t, 1] != 0
            for lv in range(n_l):
                if kept[lv, t] and nf[lv, t] > 0:
                    sparsity = 1 - expd[lv, t]
                    for a in range(3):
                        if a < 2 or rw:
                            fine[lv, t, 0, a] = dense[lv, t, a] - math.floor(dense[lv, t, a] * sparsity)
                for a in range(3):
                    maxima[lv, t, a] = fine[lv, t, 0, a]
        for t in range(n_t):
            if status != GO:
                break
            rw = tensor[t, 1] != 0
            for lv in range(n_l - 1, -1, -1):
                if mask_kind[lv, t] < 0 or not kept[lv, t] or status != GO:
                    continue
                p = mask_p[lv, t]
                label = 1 if mask_kind[lv, t] == 0 else 2
                below = lv - 1
                while below >= 0:
                    if kept[below, t]:
                        for a in range(3):
                            maxima[below, t, a] -= math.floor(maxima[below, t, a] * p)
                        if nf[below, t] > 0:
                            top = occn[lv, t] - 1
                            nb = occn[below, t]
                            if not (_scale_rank0(fmt, below, t, 1, p, min(nb, top), nb)
                                    and _scale_rank0(fmt, below, t, 0, p, min(nb, top), nb)
                                    and _scale_rank0(fmt, below, t, 2, p, nb, nb)):
                                status = FALLBACK
                                break
                        if mask_kind[below, t] >= 0:
                            if p == 1:
                                status = FALLBACK
                                break
                            effective = 1 - (1 - mask_p[below, t]) / (1 - p)
                            for a in range(3):
                                fine[below, t, 0, a] = maxima[below, t, a]
                            read_src[below, t] = 2   # Sparseloop's actual metadata reads: the updates (one list)
                            c = child[below, t]
                            apply_local(below, t, effective, 1 if mask_kind[below, t] == 0 else 2, rw,
                                        occn[c if c >= 0 else below, t], occn[below, t], fine, fmt, 2, local)
                            finalised[below, t] = True
                            break
                    below -= 1
                if status != GO:
                    break
                if not finalised[lv, t]:
                    finalised[lv, t] = True
                    for a in range(3):
                        fine[lv, t, 0, a] = maxima[lv, t, a]
                    c = child[lv, t]
                    apply_local(lv, t, p, label, rw, occn[c if c >= 0 else lv, t], occn[lv, t], fine, fmt,
                                read_src[lv, t], local)
                if below < 0 and not rw:
                    computes -= math.floor(computes * p)
                    storage_saf[t] = np.rint(p * 1e6) / 1e6
        for t in range(n_t):
            for lv in range(n_l):
                if kept[lv, t] and mask_kind[lv, t] < 0:
                    for a in range(3):
                        fine[lv, t, 0, a] = maxima[lv, t, a]
        if status != GO:
            code[b] = REJECTED if status == REJECT else NOT_MODELLED
            continue
        # step 4: computes
        a_op, b_op = flags[2], flags[3]
        inner_a = inner_b = -1
        for lv in range(n_l - 1, -1, -1):
            if kept[lv, a_op]:
                inner_a = lv
            if kept[lv, b_op]:
                inner_b = lv
        instances = inst[b, n_l]
        if inner_a < 0 or inner_b < 0 or instances == 0:
            code[b] = NOT_MODELLED
            continue
        status, actual, gated, skipped = compute_outcomes(computes, a_op, b_op, nf[inner_a, a_op] > 0,
                                                          nf[inner_b, b_op] > 0, density, storage_saf[a_op],
                                                          storage_saf[b_op], flags[0] != 0, flags[1] != 0)
        if status != GO:
            code[b] = REJECTED
            continue
        compute_cycles = math.ceil((actual + gated) / instances)
        # step 5: energy, bandwidth cycles, capacities
        status, cycles, tensors_pj = level_energies(compute_cycles, inst[b], kept, occn, fmt, read_src, local, fine,
                                                    vrat, parent, comp, formats, tensor, level_int, energy, bandwidth,
                                                    bits)
        if status != GO:
            code[b] = NOT_MODELLED
            continue
        dense_cycles = max(int(res[b, 0]), 1)
        leak_pj = 0.0
        for i in range(n_l):
            leak_pj += float(leakage[i] * res[b, 0] * inst[b, i]) / dense_cycles * cycles
        mac = actual * compute[0] + gated * compute[1] + skipped * compute[2]
        over = over_capacity(capacity, ds_tensor, kept, capy, mdbits)
        if over:
            code[b] = OVER_CAPACITY
            continue
        out_cycles[b] = cycles
        out_energy[b] = mac + tensors_pj + leak_pj
