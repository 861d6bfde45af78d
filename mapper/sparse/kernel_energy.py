"""Step 5 of Sparseloop's analysis inside the batched kernel: per level and tensor the energy of every
action (data and metadata, actual / gated / skipped, (de)compression), the bandwidth-limited cycles, and
Sparseloop's capacity check on the compressed tiles (``analysis.analyse`` step 5 and
``batched.BatchedSparse.over_capacity``, the same operations in the same order)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from acceldse.mapper.sparse.kernel_tiles import FALLBACK, GO


@njit(cache=True)
def _bits(fmt: np.ndarray, lv: int, t: int, a: int, formats: np.ndarray, n: int) -> int:
    """Metadata bits of tile (lv, t)'s per-rank (metadata, payload) counts ``fmt[lv, t, a]``."""
    total = 0
    for r in range(n):
        total += formats[lv, t, r, 2] * fmt[lv, t, a, r, 0] + formats[lv, t, r, 3] * fmt[lv, t, a, r, 1]
    return total


@njit(cache=True)
def _local_bits(local: np.ndarray, lv: int, t: int, k: int, a: int, formats: np.ndarray, n: int) -> int:
    """Metadata bits of tile (lv, t)'s gated (k 0) / skipped (k 1) reads (a 0) / updates (a 1)."""
    total = 0
    for r in range(n):
        total += formats[lv, t, r, 2] * local[lv, t, k, a, r, 0] + formats[lv, t, r, 3] * local[lv, t, k, a, r, 1]
    return total


@njit(cache=True)
def level_energies(compute_cycles: int, inst: np.ndarray, kept: np.ndarray, occn: np.ndarray, fmt: np.ndarray,
                   read_src: np.ndarray, local: np.ndarray, fine: np.ndarray, vrat: np.ndarray, parent: np.ndarray,
                   comp: np.ndarray, formats: np.ndarray, tensor: np.ndarray, level_int: np.ndarray,
                   energy: np.ndarray, bandwidth: np.ndarray, bits: np.ndarray) -> tuple[int, int, float]:
    """(status, cycles, energy of every tile in pJ) of one mapping (levels innermost first; ``inst``: utilised
    instances per level in the hierarchy's order; ``bits`` int64[3, 3]: scratch)."""
    n_l, n_t = kept.shape
    tensors_pj = 0.0
    cycles = compute_cycles
    for lv in range(n_l):
        wb, block, md_width = level_int[lv, 0], level_int[lv, 1], level_int[lv, 3]
        read_words = 0.0
        write_words = 0.0
        for t in range(n_t):
            if not kept[lv, t]:
                continue
            n = occn[lv, t]
            bits[:] = 0
            if n > 0:
                bits[0, 0] = _bits(fmt, lv, t, read_src[lv, t], formats, n)
                bits[1, 0] = _bits(fmt, lv, t, 1, formats, n)
                bits[2, 0] = _bits(fmt, lv, t, 2, formats, n)
                for k in range(2):
                    bits[0, k + 1] = _local_bits(local, lv, t, k, 0, formats, n)
                    bits[2, k + 1] = _local_bits(local, lv, t, k, 1, formats, n)
            pj = 0.0
            ratio = vrat[lv, t]
            for k in range(3):
                for a in range(3):
                    count = fine[lv, t, k, a]
                    if count:
                        pj += math.ceil(count / block) * ratio * energy[lv, k * 3 + a]
                    if md_width and bits[a, k]:
                        pj += math.ceil(bits[a, k] / md_width) * energy[lv, 9 + k * 3 + a]
            p = parent[lv, t]
            if not comp[lv, t] and p >= 0 and comp[p, t]:
                decompressions = fine[lv, t, 0, 1]
                compressions = fine[p, t, 0, 2] if tensor[t, 1] else 0
                if decompressions:
                    pj += decompressions * energy[lv, 18]
                if compressions:
                    pj += compressions * energy[lv, 19]
            reads = fine[lv, t, 0, 0] + fine[lv, t, 1, 0] + (bits[0, 0] + bits[0, 1]) // wb
            writes = fine[lv, t, 0, 1] + fine[lv, t, 0, 2] + fine[lv, t, 1, 1] + fine[lv, t, 1, 2] + \
                (bits[1, 0] + bits[2, 0] + bits[1, 1] + bits[2, 1]) // wb
            read_words += reads / compute_cycles if compute_cycles else 0.0
            write_words += writes / compute_cycles if compute_cycles else 0.0
            tensors_pj += pj * inst[n_l - 1 - lv]
        slowdown = 1.0
        if bandwidth[lv, 0] < read_words:
            slowdown = min(slowdown, bandwidth[lv, 0] / read_words)
        if bandwidth[lv, 1] < write_words:
            slowdown = min(slowdown, bandwidth[lv, 1] / write_words)
        if bandwidth[lv, 2] < read_words + write_words:
            slowdown = min(slowdown, bandwidth[lv, 2] / (read_words + write_words))
        if slowdown == 0:
            return FALLBACK, 0, 0.0
        cycles = max(cycles, math.ceil(compute_cycles / slowdown))
    return GO, cycles, tensors_pj


@njit(cache=True)
def over_capacity(capacity: np.ndarray, ds_tensor: np.ndarray, kept: np.ndarray, capy: np.ndarray,
                  mdbits: np.ndarray) -> bool:
    """Whether a level's compressed tiles (or their metadata) exceed its capacity (hierarchy order)."""
    n_l = kept.shape[0]
    for i in range(n_l):
        lv = n_l - 1 - i
        if capacity[i, 0] < 0 and capacity[i, 1] < 0 and capacity[i, 2] < 0 and capacity[i, 3] < 0 \
                and capacity[i, 5] < 0:
            continue
        total = 0
        md_total = 0
        for j in range(3):
            t = ds_tensor[j]
            if t < 0 or not kept[lv, t]:
                continue
            words = capy[lv, t] * capacity[i, 4]
            total += words
            md_total += mdbits[lv, t]
            if capacity[i, 1 + j] >= 0 and words > capacity[i, 1 + j]:
                return True
        if (capacity[i, 0] >= 0 and total > capacity[i, 0]) or (capacity[i, 5] >= 0 and md_total > capacity[i, 5]):
            return True
    return False
