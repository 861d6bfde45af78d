"""Legality of a mapping, in one place: factors cover the dims, spatial fan-out fits, tiles fit.

``check_kernel`` (numba) is called by the cost kernel for every candidate and returns a
code plus ``info = (level, dataspace, excess)``; ``explain`` turns that into a
``SpecError`` message naming the level, the dataspace and by how much the limit is
exceeded. Tile sizes are in words: ``tile[l, ds]`` is the footprint of dataspace ``ds``
at level ``l`` (row ``L`` is the MAC: 1 word).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.layer import DIMS, Layer

OK, NOT_COVERED, FANOUT_X, FANOUT_Y, CAPACITY_SHARED, CAPACITY_DATASPACE, KEEP_NOT_ALLOWED, TOP_MUST_KEEP, \
    BAD_FACTOR = range(9)

RELEVANT = np.array([
    [1, 1, 0, 1, 1, 1, 1, 1],   # inputs  [N, G, C, P*sh + R*dh, Q*sw + S*dw]
    [0, 1, 1, 1, 0, 0, 1, 1],   # weights [G, K, C, R, S]
    [1, 1, 1, 0, 1, 1, 0, 0],   # outputs [N, G, K, P, Q]
], dtype=np.bool_)
"""RELEVANT[ds, dim]: whether a loop over ``dim`` indexes dataspace ``ds`` (dims N,G,K,C,P,Q,R,S)."""


def workload_array(layer: Layer) -> np.ndarray:
    """int64[13]: the eight dims, stride (h, w), dilation (h, w), has_weights (dense layers only)."""
    layer.require_dense("the mapper's cost model")
    return np.array([*layer.dims.values(), *layer.stride, *layer.dilation, int(layer.has_weights)], dtype=np.int64)


@njit(cache=True, inline="always")
def tile_words_at(ext: np.ndarray, row: int, wl: np.ndarray, ds: int) -> int:
    """Words of dataspace ``ds`` touched by loop extents ``ext[row, :8]`` (Timeloop: no padding, halos counted)."""
    if ds == 0:
        h = (ext[row, 4] - 1) * wl[8] + (ext[row, 6] - 1) * wl[10] + 1
        w = (ext[row, 5] - 1) * wl[9] + (ext[row, 7] - 1) * wl[11] + 1
        return ext[row, 0] * ext[row, 1] * ext[row, 3] * h * w
    if ds == 1:
        return ext[row, 1] * ext[row, 2] * ext[row, 3] * ext[row, 6] * ext[row, 7] * wl[12]
    return ext[row, 0] * ext[row, 1] * ext[row, 2] * ext[row, 4] * ext[row, 5]


@njit(cache=True)
def tile_words(f: np.ndarray, wl: np.ndarray, ds: int) -> int:
    """Words of dataspace ``ds`` touched by loop extents ``f[8]`` (``tile_words_at`` of one row)."""
    return tile_words_at(np.ascontiguousarray(f).reshape(1, 8), 0, wl, ds)


@njit(cache=True)
def check_kernel(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, keep: np.ndarray, dbuf: np.ndarray,
                 wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, fanout: np.ndarray,
                 tile: np.ndarray, inst: np.ndarray, info: np.ndarray) -> int:
    """Fill ``tile[L+1, 3]`` (words) and ``inst[L+1]`` (utilised instances); return a legality code."""
    below = np.empty((t.shape[0] + 1, 8), dtype=np.int64)
    return check_tiles(t, sx, sy, keep, dbuf, wl, keep_allowed, cap, fanout, tile, inst, info, below)


@njit(cache=True, inline="always")
def check_tiles(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, keep: np.ndarray, dbuf: np.ndarray,
                wl: np.ndarray, keep_allowed: np.ndarray, cap: np.ndarray, fanout: np.ndarray,
                tile: np.ndarray, inst: np.ndarray, info: np.ndarray, below: np.ndarray) -> int:
    """``check_kernel`` with the caller's scratch ``below[L+1, 8]``, left holding each level's loop extents
    from that level down (``below[l, d]``: product of the temporal and spatial factors of ``d`` at levels
    ``l..L-1``; row L is 1). Inlined (numba IR) into the batched kernel: no call, no reference counting."""
    n = t.shape[0]
    for d in range(8):
        below[n, d] = 1
    for ds in range(3):
        tile[n, ds] = 1
    for lvl in range(n - 1, -1, -1):
        for d in range(8):
            if t[lvl, d] < 1 or sx[lvl, d] < 1 or sy[lvl, d] < 1:
                info[0] = lvl
                info[1] = d
                info[2] = 0
                return BAD_FACTOR
            below[lvl, d] = below[lvl + 1, d] * t[lvl, d] * sx[lvl, d] * sy[lvl, d]
        for ds in range(3):
            tile[lvl, ds] = tile_words_at(below, lvl, wl, ds)
    for d in range(8):
        if below[0, d] < wl[d]:
            info[0] = -1
            info[1] = d
            info[2] = wl[d] - below[0, d]
            return NOT_COVERED
    inst[0] = 1
    for lvl in range(n):
        px = 1
        py = 1
        for d in range(8):
            px *= sx[lvl, d]
            py *= sy[lvl, d]
        if px > fanout[lvl, 0]:
            info[0] = lvl
            info[1] = -1
            info[2] = px - fanout[lvl, 0]
            return FANOUT_X
        if py > fanout[lvl, 1]:
            info[0] = lvl
            info[1] = -1
            info[2] = py - fanout[lvl, 1]
            return FANOUT_Y
        inst[lvl + 1] = inst[lvl] * px * py
    for ds in range(3):
        if not keep[0, ds]:
            info[0] = 0
            info[1] = ds
            info[2] = 0
            return TOP_MUST_KEEP
    for lvl in range(n):
        total = 0
        mask = 0
        mult = 2 if dbuf[lvl] else 1
        for ds in range(3):
            if not keep[lvl, ds]:
                continue
            mask |= 1 << ds
            if not keep_allowed[lvl, ds]:
                info[0] = lvl
                info[1] = ds
                info[2] = 0
                return KEEP_NOT_ALLOWED
            words = tile[lvl, ds] * mult
            total += words
            if cap[lvl, 1 + ds] >= 0 and words > cap[lvl, 1 + ds]:
                info[0] = lvl
                info[1] = ds
                info[2] = words - cap[lvl, 1 + ds]
                return CAPACITY_DATASPACE
        if cap[lvl, 0] >= 0 and total > cap[lvl, 0]:
            info[0] = lvl
            info[1] = -1 - mask
            info[2] = total - cap[lvl, 0]
            return CAPACITY_SHARED
    return OK


def explain(code: int, info: np.ndarray, hierarchy: Hierarchy, layer: Layer) -> str:
    """A one-sentence reason for an illegal mapping (names level, dataspace and excess)."""
    lvl, item, excess = int(info[0]), int(info[1]), int(info[2])
    lname = hierarchy.levels[lvl].name if 0 <= lvl < hierarchy.num_levels else "?"
    ds = DATASPACES[item] if 0 <= item < 3 else "all dataspaces"
    if code == NOT_COVERED:
        dim = DIMS[item]
        return (f"factors of {dim} multiply to {layer.dims[dim] - excess}, short of the layer's {dim}="
                f"{layer.dims[dim]} by {excess}")
    if code == BAD_FACTOR:
        return f"level {lname!r}: factor of {DIMS[item]} must be >= 1"
    if code in (FANOUT_X, FANOUT_Y):
        axis = "X" if code == FANOUT_X else "Y"
        limit = int(hierarchy.arrays().fanout[lvl, 0 if axis == "X" else 1])
        return (f"level {lname!r}: spatial-{axis} factors need {limit + excess} instances below it but the "
                f"fan-out is {limit} (over by {excess})")
    if code == TOP_MUST_KEEP:
        return f"level {lname!r} (outermost) must keep {ds}"
    if code == KEEP_NOT_ALLOWED:
        return f"level {lname!r} cannot keep {ds} (it keeps {list(hierarchy.levels[lvl].keeps)})"
    if code == CAPACITY_DATASPACE:
        cap = hierarchy.levels[lvl].capacity_words_per_dataspace[ds]
        return f"level {lname!r}, dataspace {ds}: tile needs {cap + excess} words, capacity {cap} (over by {excess})"
    if code == CAPACITY_SHARED:
        cap = int(hierarchy.levels[lvl].capacity_words or 0)
        kept = [name for j, name in enumerate(DATASPACES) if (-1 - item) >> j & 1]
        what = f"dataspace {kept[0]}" if len(kept) == 1 else "dataspaces " + " + ".join(kept)
        return f"level {lname!r}, {what}: tiles need {cap + excess} words, capacity {cap} (over by {excess})"
    return "legal"
