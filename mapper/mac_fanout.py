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
order (N, G, K, C, P, Q, R, S innermost first), then placed row-major on a grid ``max(physical,
used)`` wide.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _project(v: np.ndarray, ds: int, wl: np.ndarray, out: np.ndarray) -> None:
    """The tensor coordinates (5) of dataspace ``ds`` of a point (or displacement) ``v[8]`` (N,G,K,C,P,Q,R,S)."""
    if ds == 0:
        out[0], out[1], out[2] = v[0], v[1], v[3]
        out[3] = v[4] * wl[8] + v[6] * wl[10]
        out[4] = v[5] * wl[9] + v[7] * wl[11]
    elif ds == 1:
        out[0], out[1], out[2], out[3], out[4] = v[1], v[2], v[3], v[6], v[7]
    else:
        out[0], out[1], out[2], out[3], out[4] = v[0], v[1], v[2], v[4], v[5]


@njit(cache=True, inline="always")
def _distinct(keys: np.ndarray, m: int) -> int:
    """Number of distinct values among ``keys[:m]`` (sorts them in place)."""
    if m == 0:
        return 0
    part = keys[:m]
    part.sort()
    count = 1
    for i in range(1, m):
        if part[i] != part[i - 1]:
            count += 1
    return count


@njit(cache=True, inline="always")
def mac_scratch(fanout: np.ndarray) -> np.ndarray:
    """The scratch ``mac_fanout_accesses`` needs for a hierarchy's fan-out ``fanout[L, 2]``."""
    macs = fanout[fanout.shape[0] - 1, 0] * fanout[fanout.shape[0] - 1, 1]
    return np.empty((macs + 5, max(macs, 16)), dtype=np.int64)


@njit(cache=True, inline="always")
def mac_fanout_accesses(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, wl: np.ndarray,
                        fanout: np.ndarray, below: np.ndarray, iters: int, out: np.ndarray,
                        scratch: np.ndarray) -> None:
    """Fill ``out[3]``: accesses per instance of the last level from its MACs, per dataspace (module doc).

    ``below``: each level's loop extents from that level down (``legality.check_tiles``); ``iters``: the
    temporal iterations; ``scratch``: int64[MACs + 5, max(MACs, 16)] (``mac_scratch``; nothing is allocated here).
    Without a fan-out at the last level every MAC iteration is one access."""
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
    off = scratch[:macs, :8]           # each MAC's point relative to MAC 0
    coords = scratch[:macs, 8:13]      # ... projected on the tensor being counted
    keys = scratch[macs + 4, :macs]
    span = scratch[macs, :5]
    step = scratch[macs + 1, :8]       # D_j over the eight dims
    inner = scratch[macs + 2, :8]      # sum of scale_k e_k over the non-unit loops inside j
    moved = scratch[macs + 3, :5]      # D_j projected
    for m in range(macs):
        ix = m % lx
        iy = m // lx
        for d in range(8):
            off[m, d] = 0
            e = sx[last, d]
            if e > 1:
                off[m, d] = ix % e
                ix //= e
        for d in range(8):
            e = sy[last, d]
            if e > 1:
                off[m, d] += (iy % e) * sx[last, d]
                iy //= e
    for ds in range(3):
        if ds == 1 and wl[12] == 0:
            out[ds] = 0
            continue
        for c in range(5):
            span[c] = 0
        for m in range(macs):
            _project(off[m], ds, wl, coords[m])
            for c in range(5):
                if coords[m, c] > span[c]:
                    span[c] = coords[m, c]
        for m in range(macs):
            k = 0
            for c in range(5):
                k = k * (span[c] + 1) + coords[m, c]
            keys[m] = k
        unique = _distinct(keys, macs)
        total = unique   # the first iteration: no previous one to link from
        for d in range(8):
            inner[d] = 0
        inside = 1       # product of the non-unit loop extents inside j
        for lvl in range(last, -1, -1):
            for kk in range(7, -1, -1):
                dim = order[lvl, kk]
                f = t[lvl, dim]
                if f == 1:
                    continue
                scale = sx[lvl, dim] * sy[lvl, dim] * below[lvl + 1, dim]
                for d in range(8):
                    step[d] = -inner[d]
                step[dim] += scale
                weight = (f - 1) * (iters // (inside * f))
                inner[dim] += scale
                inside *= f
                _project(step, ds, wl, moved)
                reachable = True
                for c in range(5):
                    if moved[c] > span[c] or -moved[c] > span[c]:
                        reachable = False
                if reachable and unique == macs:
                    reachable = False   # no two MACs share a point, so an unmoved point is no neighbour's
                    for c in range(5):
                        if moved[c] != 0:
                            reachable = True
                if not reachable:
                    total += weight * unique
                    continue
                free = 0
                for m in range(macs):
                    h = m % width
                    v = m // width
                    hit = False
                    for nb in range(4):
                        if nb == 0:
                            if v == 0:
                                continue
                            other = m - width
                        elif nb == 1:
                            other = m + width
                        elif nb == 2:
                            if h == 0:
                                continue
                            other = m - 1
                        else:
                            if h + 1 >= width:
                                continue
                            other = m + 1
                        if (nb < 2 and height == 1) or (nb >= 2 and width == 1) or other >= macs:
                            continue
                        same = True
                        for c in range(5):
                            if coords[other, c] - coords[m, c] != moved[c]:
                                same = False
                                break
                        if same:
                            hit = True
                            break
                    if not hit:
                        k = 0
                        for c in range(5):
                            k = k * (span[c] + 1) + coords[m, c]
                        keys[free] = k
                        free += 1
                with_links = unique if free == macs else _distinct(keys, free)
                total += weight * min(unique, with_links)
        out[ds] = total
