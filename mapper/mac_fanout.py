"""Operand deliveries of a fan-out straight to the MACs, counted as Timeloop counts them.

When the last storage level fans out to the MACs, the innermost loops of Timeloop's nest are
spatial (0fc43fb, ``src/loop-analysis/nest-analysis.cpp``). The MACs hold nothing, so at every
temporal iteration each MAC needs its one point of every tensor again (no temporal reuse), and the
level above delivers, per tensor:

* **multicast**: one access per *distinct* point among the MACs (``ComputeAccurateMulticastedAccesses``
  compares the points, so two inputs of a sliding window that coincide are one access);
* **link transfers** (``ComputeNetworkLinkTransfers``, on by default): a MAC whose point equals the
  point its left, right, upper or lower neighbour held at the *previous evaluated iteration* takes it
  from that neighbour. The MACs that remain are again counted by distinct point, and the smaller of
  the two totals is kept (per iteration and tensor). A broadcast operand that does not change is thus
  not read again; a sliding window along a MAC row reads only its new edge; an operand scattered over
  the MACs is read every iteration.

Timeloop does not evaluate every iteration: each temporal loop of ``n > 1`` iterations runs its first
iteration and then its second with a weight of ``n - 1`` (``gExtrapolateUniformTemporal``). So the
"previous iteration" of a step of loop ``j`` has ``j`` one lower and every non-unit loop inside ``j`` at
its index 1; between the two, every MAC's point moves by ``D_j = scale_j e_j - sum_{k inside j}
scale_k e_k``, and such steps carry the weight ``W_j = (n_j - 1) x prod_{k outside j} n_k``. The first
iteration (weight 1) has no previous one.

The MACs are numbered as Timeloop numbers them: X loops innermost, within an axis in canonical dim
order (N, G, K, C, P, Q, R, S innermost first; the Timeloop loader refuses a spatial permutation that
orders them otherwise), then placed row-major on a grid ``max(physical, used)`` wide.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _project(src: np.ndarray, row: int, col: int, ds: int, wl: np.ndarray, dst: np.ndarray, drow: int,
             dcol: int) -> None:
    """Tensor coordinates (5) of dataspace ``ds`` of the point (or displacement) ``src[row, col:col+8]``
    (dims N,G,K,C,P,Q,R,S), written to ``dst[drow, dcol:dcol+5]``."""
    if ds == 0:
        dst[drow, dcol] = src[row, col]
        dst[drow, dcol + 1] = src[row, col + 1]
        dst[drow, dcol + 2] = src[row, col + 3]
        dst[drow, dcol + 3] = src[row, col + 4] * wl[8] + src[row, col + 6] * wl[10]
        dst[drow, dcol + 4] = src[row, col + 5] * wl[9] + src[row, col + 7] * wl[11]
    elif ds == 1:
        dst[drow, dcol] = src[row, col + 1]
        dst[drow, dcol + 1] = src[row, col + 2]
        dst[drow, dcol + 2] = src[row, col + 3]
        dst[drow, dcol + 3] = src[row, col + 6]
        dst[drow, dcol + 4] = src[row, col + 7]
    else:
        dst[drow, dcol] = src[row, col]
        dst[drow, dcol + 1] = src[row, col + 1]
        dst[drow, dcol + 2] = src[row, col + 2]
        dst[drow, dcol + 3] = src[row, col + 4]
        dst[drow, dcol + 4] = src[row, col + 5]


@njit(cache=True, inline="always")
def _distinct(s: np.ndarray, col: int, m: int) -> int:
    """Number of distinct values among ``s[:m, col]`` (pairwise for a few MACs, else sorted)."""
    if m > 64:
        return np.unique(s[:m, col]).size
    count = 0
    for i in range(m):
        new = True
        for j in range(i):
            if s[j, col] == s[i, col]:
                new = False
                break
        if new:
            count += 1
    return count


@njit(cache=True, inline="always")
def mac_scratch(fanout: np.ndarray) -> np.ndarray:
    """The scratch ``mac_fanout_accesses`` needs for a hierarchy's fan-out ``fanout[L, 2]``."""
    return np.empty((fanout[fanout.shape[0] - 1, 0] * fanout[fanout.shape[0] - 1, 1] + 1, 24), dtype=np.int64)


@njit(cache=True, inline="always")
def _values(ea: int, ca: int, eb: int, cb: int) -> int:
    """How many distinct ``a * ca + b * cb`` for ``a < ea``, ``b < eb`` (an input axis under a window)."""
    if ea == 1 or eb == 1:
        return ea * eb
    if ca == cb:
        return ea + eb - 1
    hi = (ea - 1) * ca + (eb - 1) * cb
    count = 0
    for x in range(hi + 1):
        for a in range(ea):
            rest = x - a * ca
            if rest >= 0 and rest % cb == 0 and rest // cb < eb:
                count += 1
                break
    return count


@njit(cache=True, inline="always")
def _span_unique(ext: np.ndarray, ds: int, wl: np.ndarray, span: np.ndarray) -> int:
    """Largest projected MAC offset per coordinate (``span[5]``) and the number of distinct points of
    ``ds`` among MACs whose offsets run over ``ext[8]`` per dim."""
    if ds == 0:
        span[0], span[1], span[2] = ext[0] - 1, ext[1] - 1, ext[3] - 1
        span[3] = (ext[4] - 1) * wl[8] + (ext[6] - 1) * wl[10]
        span[4] = (ext[5] - 1) * wl[9] + (ext[7] - 1) * wl[11]
        return ext[0] * ext[1] * ext[3] * _values(ext[4], wl[8], ext[6], wl[10]) * \
            _values(ext[5], wl[9], ext[7], wl[11])
    if ds == 1:
        span[0], span[1], span[2], span[3], span[4] = ext[1] - 1, ext[2] - 1, ext[3] - 1, ext[6] - 1, ext[7] - 1
        return ext[1] * ext[2] * ext[3] * ext[6] * ext[7]
    span[0], span[1], span[2], span[3], span[4] = ext[0] - 1, ext[1] - 1, ext[2] - 1, ext[4] - 1, ext[5] - 1
    return ext[0] * ext[1] * ext[2] * ext[4] * ext[5]


@njit(cache=True, inline="always")
def mac_fanout_accesses(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, wl: np.ndarray,
                        fanout: np.ndarray, below: np.ndarray, iters: int, out: np.ndarray,
                        s: np.ndarray) -> None:
    """Fill ``out[3]``: accesses per instance of the last level from its MACs, per dataspace (module doc).

    ``below``: each level's loop extents from that level down (``legality.check_tiles``); ``iters``: the
    temporal iterations; ``s``: scratch int64[MACs + 1, 24] (``mac_scratch``; nothing is allocated here).
    Row ``m < MACs``: MAC m's point relative to MAC 0 (columns 0-7), projected on the tensor (8-12), as
    one key (13), the keys of the MACs no neighbour serves (14). Row MACs: D_j (0-7), the sum over the
    non-unit loops inside j (8-15), D_j projected (16-20). The MACs are enumerated only for a loop whose
    step some neighbour could bridge; otherwise every iteration costs the distinct points."""
    n = t.shape[0]
    last = n - 1
    lx = 1
    ly = 1
    for d in range(8):
        lx *= sx[last, d]
        ly *= sy[last, d]
    macs = lx * ly
    if macs == 1:
        for ds in range(3):
            out[ds] = iters
        return
    width = max(fanout[last, 0], lx)
    height = max(fanout[last, 1], ly)
    v = macs  # the vector row
    ext8 = s[v, 0:8]   # the MACs' extent per dim (row v is reused for D_j below)
    for d in range(8):
        ext8[d] = sx[last, d] * sy[last, d]
    unique0 = _span_unique(ext8, 0, wl, s[v, 16:21])
    sp00, sp01, sp02, sp03, sp04 = s[v, 16], s[v, 17], s[v, 18], s[v, 19], s[v, 20]
    unique1 = _span_unique(ext8, 1, wl, s[v, 16:21])
    sp10, sp11, sp12, sp13, sp14 = s[v, 16], s[v, 17], s[v, 18], s[v, 19], s[v, 20]
    unique2 = _span_unique(ext8, 2, wl, s[v, 16:21])
    sp20, sp21, sp22, sp23, sp24 = s[v, 16], s[v, 17], s[v, 18], s[v, 19], s[v, 20]
    tot0 = unique0   # the first iteration: no previous one to link from
    tot1 = unique1 if wl[12] != 0 else 0
    tot2 = unique2
    placed = False   # MAC offsets in s[:macs, 0:8]
    ready = -1       # the dataspace whose projections are in s[:macs, 8:14]
    for d in range(8):
        s[v, 8 + d] = 0
    inside = 1       # product of the non-unit loop extents inside j
    for lvl in range(last, -1, -1):
        for kk in range(7, -1, -1):
            dim = order[lvl, kk]
            f = t[lvl, dim]
            if f == 1:
                continue
            scale = sx[lvl, dim] * sy[lvl, dim] * below[lvl + 1, dim]
            for d in range(8):
                s[v, d] = -s[v, 8 + d]
            s[v, dim] += scale
            s[v, 8 + dim] += scale
            weight = (f - 1) * (iters // (inside * f))
            inside *= f
            for ds in range(3):
                if ds == 1 and wl[12] == 0:
                    continue
                if ds == 0:
                    unique, q0, q1, q2, q3, q4 = unique0, sp00, sp01, sp02, sp03, sp04
                elif ds == 1:
                    unique, q0, q1, q2, q3, q4 = unique1, sp10, sp11, sp12, sp13, sp14
                else:
                    unique, q0, q1, q2, q3, q4 = unique2, sp20, sp21, sp22, sp23, sp24
                _project(s, v, 0, ds, wl, s, v, 16)
                m0, m1, m2, m3, m4 = s[v, 16], s[v, 17], s[v, 18], s[v, 19], s[v, 20]
                reachable = abs(m0) <= q0 and abs(m1) <= q1 and abs(m2) <= q2 and abs(m3) <= q3 and abs(m4) <= q4
                if reachable and unique == macs and m0 == 0 and m1 == 0 and m2 == 0 and m3 == 0 and m4 == 0:
                    reachable = False   # no two MACs share a point, so an unmoved point is no neighbour's
                got = unique
                if reachable:
                    if not placed:
                        _place(sx, sy, last, lx, macs, s)
                        placed = True
                    if ready != ds:
                        for m in range(macs):
                            _project(s, m, 0, ds, wl, s, m, 8)
                            s[m, 13] = ((((s[m, 8] * (q1 + 1) + s[m, 9]) * (q2 + 1) + s[m, 10]) * (q3 + 1)
                                         + s[m, 11]) * (q4 + 1) + s[m, 12])
                        ready = ds
                    free = 0
                    for m in range(macs):
                        if not _served(s, m, macs, width, height, m0, m1, m2, m3, m4):
                            s[free, 14] = s[m, 13]
                            free += 1
                    if free < macs:
                        got = min(unique, _distinct(s, 14, free))
                if ds == 0:
                    tot0 += weight * got
                elif ds == 1:
                    tot1 += weight * got
                else:
                    tot2 += weight * got
    out[0], out[1], out[2] = tot0, tot1, tot2


@njit(cache=True, inline="always")
def _place(sx: np.ndarray, sy: np.ndarray, last: int, lx: int, macs: int, s: np.ndarray) -> None:
    """Each MAC's point relative to MAC 0 into ``s[:macs, 0:8]`` (X loops innermost, canonical dims)."""
    for m in range(macs):
        ix = m % lx
        iy = m // lx
        for d in range(8):
            s[m, d] = 0
            e = sx[last, d]
            if e > 1:
                s[m, d] = ix % e
                ix //= e
        for d in range(8):
            e = sy[last, d]
            if e > 1:
                s[m, d] += (iy % e) * sx[last, d]
                iy //= e


@njit(cache=True, inline="always")
def _served(s: np.ndarray, m: int, macs: int, width: int, height: int, m0: int, m1: int, m2: int, m3: int,
            m4: int) -> bool:
    """Whether a grid neighbour of MAC ``m`` held its point one evaluated iteration earlier (its
    projected offset minus m's equals the step's ``(m0, ..., m4)``)."""
    h = m % width
    row = m // width
    for nb in range(4):
        if nb == 0:
            if height == 1 or row == 0:
                continue
            other = m - width
        elif nb == 1:
            if height == 1:
                continue
            other = m + width
        elif nb == 2:
            if width == 1 or h == 0:
                continue
            other = m - 1
        else:
            if width == 1 or h + 1 >= width:
                continue
            other = m + 1
        if other >= macs:
            continue
        if s[other, 8] - s[m, 8] == m0 and s[other, 9] - s[m, 9] == m1 and s[other, 10] - s[m, 10] == m2 \
                and s[other, 11] - s[m, 11] == m3 and s[other, 12] - s[m, 12] == m4:
            return True
    return False
