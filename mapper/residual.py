"""Imperfect factorization in Timeloop's residual form (``Q8,6``): the nest walked as Timeloop 0fc43fb walks it.

A factor ``f,r`` is a loop of ``f`` iterations whose *last global* iteration (every enclosing loop of the
same dim at its own last iteration) runs only ``r``; the dim covered, level by level from the outermost,
is ``((r_1 - 1) f_2 + r_2 - 1) f_3 + ... + r_k``. Timeloop's counts for such a nest are not the counts of
the iterations that run: its nest analysis (``src/loop-analysis/nest-analysis.cpp``) evaluates each
temporal loop at iterations #0 and #1 and extrapolates #1 over the rest; a loop with a residual below
it in its own dim also runs its last iteration (and, when the loop itself is imperfect, the one
before), but the delta of that last iteration is replaced by #1's (``scale++``) whenever the loop has
three or more iterations. The working sets of the last global iteration use the residual extents, and a
tile's delta is the set difference with the previous *evaluated* tile only while the tile moves by the
same translation (its centroid) as the time before; otherwise the whole tile is refetched and the
translation forgotten. So a residual tile breaks the sliding-window reuse of the next outer iteration.

``residual_moves`` replays that walk (one instance per fan-out between storage levels, every MAC of the
fan-out to the MACs, with Timeloop's multicast by equal points and link transfers between neighbouring
MACs) and returns, per level, the words each instance takes from its parent (``moves``), the largest
tile, Timeloop's partition sizes and the MACs performed; ``mapper.cost`` turns them into reads, fills
and updates exactly as the batched kernel does for perfect factors. Only for a given mapping
(``acceldse map --timeloop``): the search proposes perfect factors only (as Timeloop's mapper by
default). Supported: any number of residual loops, each on a temporal loop or on the fan-out straight
to the MACs; a residual on a fan-out between storage levels, or a residual dim split across such a
fan-out above its residual loop, is refused (``check_residuals``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acceldse.mapper.legality import RELEVANT
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS

Box = tuple[tuple[int, int], ...]
"""An axis-aligned box of a dataspace: (lo, hi) per rank, hi exclusive."""


@dataclass
class _Loop:
    dim: int
    end: int
    res: int
    kind: str   # "T", "X" or "Y"
    storage: int  # Timeloop's storage level (0 = innermost)


def _box_size(b: Box) -> int:
    size = 1
    for lo, hi in b:
        if hi <= lo:
            return 0
        size *= hi - lo
    return size


def _minus(a: Box, b: Box) -> list[Box]:
    """a \\ b as disjoint boxes (slices along each rank in turn)."""
    for (alo, ahi), (blo, bhi) in zip(a, b):
        if ahi <= blo or bhi <= alo:
            return [a]
    out = []
    mid = list(a)
    for r, (blo, bhi) in enumerate(b):
        lo, hi = mid[r]
        if lo < blo:
            out.append(tuple(mid[:r] + [(lo, blo)] + mid[r + 1:]))
            lo = blo
        if bhi < hi:
            out.append(tuple(mid[:r] + [(bhi, hi)] + mid[r + 1:]))
            hi = bhi
        mid[r] = (lo, hi)
    return out


def _set_minus(a: list[Box], b: list[Box]) -> list[Box]:
    for bb in b:
        a = [piece for aa in a for piece in _minus(aa, bb)]
    return a


def _translation(a: Box, b: Box) -> tuple[int, ...]:
    """Timeloop's translation from ``a`` to ``b``: the difference of their centroids, rounded half away
    from zero (``MultiAAHR::GetTranslation``); a centroid is lo + (hi - 1 - lo) / 2 per rank."""
    out = []
    for (alo, ahi), (blo, bhi) in zip(a, b):
        twice = blo + bhi - alo - ahi
        out.append((twice + 1) // 2 if twice >= 0 else -((1 - twice) // 2))
    return tuple(out)


class _Walk:
    """One replay of Timeloop's nest analysis (see the module docstring)."""

    def __init__(self, wl: np.ndarray, t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray,
                 res: np.ndarray, fanout: np.ndarray) -> None:
        self.wl = wl
        n = t.shape[0]
        self.n_storage = n
        loops: list[_Loop] = []
        self.boundary: list[bool] = []
        for lvl in range(n - 1, -1, -1):   # innermost storage level first
            k = n - 1 - lvl
            for kind, arr, r in (("X", sx, res[lvl, 1]), ("Y", sy, res[lvl, 2])):
                for d in range(8):
                    if arr[lvl, d] > 1:
                        loops.append(_Loop(d, int(arr[lvl, d]), int(r[d]), kind, k))
                        self.boundary.append(False)
            added = 0
            for d in order[lvl][::-1]:   # innermost first
                if t[lvl, d] > 1:
                    loops.append(_Loop(int(d), int(t[lvl, d]), int(res[lvl, 0, d]), "T", k))
                    self.boundary.append(False)
                    added += 1
            if added == 0:
                loops.append(_Loop(0, 1, 1, "T", k))
                self.boundary.append(False)
            self.boundary[-1] = True
        self.loops = loops
        self.fanout = fanout
        m = len(loops)
        # master spatial: the outermost loop of a run of spatial loops
        self.master = [False] * m
        prev_spatial = False
        for lv in range(m - 1, -1, -1):
            sp = loops[lv].kind != "T"
            self.master[lv] = sp and not prev_spatial
            prev_spatial = sp
        self.strides = []
        self.mold = []
        self.mold_res = []
        scale = [1] * 8
        scale_res = [1] * 8
        for lp in loops:
            self.strides.append(list(scale))
            scale_res[lp.dim] += scale[lp.dim] * (lp.res - 1)
            scale[lp.dim] *= lp.end
            self.mold.append([s - 1 for s in scale])
            self.mold_res.append([s - 1 for s in scale_res])
        self.of_dim = [[lv for lv in range(m) if loops[lv].dim == d] for d in range(8)]
        self.imperfect_at: dict[int, int] = {}
        for lv in range(m - 1, -1, -1):
            if loops[lv].end != loops[lv].res:
                self.imperfect_at[loops[lv].dim] = lv
        # the fan-out to the MACs: the run of spatial loops at the bottom of the nest
        self.mac_master = -1
        for lv in range(m):
            if loops[lv].kind == "T":
                break
            self.mac_master = lv
        self.indices = [0] * m
        self.transform = [0] * 8
        self.epochs = 1
        self.moves = np.zeros((n + 1, 3), dtype=np.float64)   # per hierarchy level (row n: the MACs)
        self.size = np.zeros((m, 3), dtype=np.int64)           # largest working set per loop level
        self.computes = 0
        self.last_set: dict[int, list] = {}
        self.last_tr: dict[int, list] = {}
        self.prev_mac: dict[int, tuple] | None = None

    # -- geometry
    def last_global(self, level: int, dim: int) -> bool:
        """Whether every loop of ``dim`` from nest level ``level`` outwards is at its last iteration."""
        return all(lv < level or self.indices[lv] + 1 >= self.loops[lv].res for lv in self.of_dim[dim])

    def _project(self, lo: list[int], hi: list[int], ds: int) -> Box:
        wl = self.wl
        if ds == 0:
            return ((lo[0], hi[0] + 1), (lo[1], hi[1] + 1), (lo[3], hi[3] + 1),
                    (lo[4] * wl[8] + lo[6] * wl[10], hi[4] * wl[8] + hi[6] * wl[10] + 1),
                    (lo[5] * wl[9] + lo[7] * wl[11], hi[5] * wl[9] + hi[7] * wl[11] + 1))
        if ds == 1:
            return ((lo[1], hi[1] + 1), (lo[2], hi[2] + 1), (lo[3], hi[3] + 1), (lo[6], hi[6] + 1),
                    (lo[7], hi[7] + 1))
        return ((lo[0], hi[0] + 1), (lo[1], hi[1] + 1), (lo[2], hi[2] + 1), (lo[4], hi[4] + 1),
                (lo[5], hi[5] + 1))

    def working_set(self, level: int) -> list[Box]:
        lo = self.transform
        hi = [lo[d] + (self.mold_res[level][d] if d in self.imperfect_at and self.last_global(level + 1, d) else
                       self.mold[level][d]) for d in range(8)]
        return [self._project(lo, hi, ds) for ds in range(3)]

    # -- the walk
    def deltas(self, level: int) -> list[int]:
        """Timeloop's ``ComputeDeltas``: the delta sizes of this level's working set (storage boundaries)."""
        lp = self.loops[level]
        if lp.kind != "T":
            self.spatial(level)
        else:
            self.temporal(level)
        if not (self.boundary[level] or self.master[level]):
            return [0, 0, 0]
        cur = self.working_set(level)
        for ds in range(3):
            self.size[level, ds] = max(self.size[level, ds], _box_size(cur[ds]))
        if not self.boundary[level]:
            return [0, 0, 0]
        prev = self.last_set.get(level)
        trs = self.last_tr.setdefault(level, [None, None, None])
        out = [0, 0, 0]
        for ds in range(3):
            p = prev[ds] if prev is not None else None
            tr = None
            if p is not None and _box_size(p) > 0:
                tr = _translation(p, cur[ds]) if _box_size(cur[ds]) > 0 else (0,) * len(p)
            if trs[ds] is None or tr == trs[ds]:
                if trs[ds] is None:
                    trs[ds] = tr
                out[ds] = sum(_box_size(b) for b in (_set_minus([cur[ds]], [p]) if p is not None else [cur[ds]]))
            else:
                trs[ds] = None
                out[ds] = _box_size(cur[ds])
        self.last_set[level] = cur
        return out

    def needs_last(self, level: int) -> bool:
        lp = self.loops[level]
        below = self.imperfect_at.get(lp.dim, level) < level
        return below and self.last_global(level + 1, lp.dim)

    def temporal(self, level: int) -> None:
        lp = self.loops[level]
        n = lp.res if self.last_global(level + 1, lp.dim) else lp.end
        if level == 0:
            body = n * self.epochs
            self.computes += body
            for ds in range(3):
                self.moves[self.n_storage, ds] += body
            return
        run_last = self.needs_last(level)
        second_last = run_last and lp.end != lp.res
        dim = lp.dim
        step = self.strides[level][dim]
        saved = self.transform[dim]
        got: list[list] = []
        self.indices[level] = 0
        if n >= 1:
            got.append([self.deltas(level - 1), 1])
            self.transform[dim] += step
            self.indices[level] += 1
        if (second_last and n >= 4) or (run_last and not second_last and n >= 3) or (not run_last and n >= 2):
            virtual = (n - 2 if run_last else n - 1) - (1 if second_last else 0)
            saved_epochs = self.epochs
            self.epochs *= virtual
            got.append([self.deltas(level - 1), virtual])
            self.epochs = saved_epochs
            self.transform[dim] += step * virtual
            self.indices[level] += virtual
        if second_last and n >= 3:
            d = self.deltas(level - 1)
            if n >= 4:
                got[-1][1] += 1
            else:
                got.append([d, 1])
            self.transform[dim] += step
            self.indices[level] += 1
        if run_last and n >= 2:
            d = self.deltas(level - 1)
            if not second_last and n >= 3:
                got[-1][1] += 1
            else:
                got.append([d, 1])
                self.transform[dim] += step
            self.indices[level] += 1
        self.transform[dim] = saved
        if self.boundary[level - 1]:
            child = self.n_storage - 1 - self.loops[level - 1].storage
            for ds in range(3):
                self.moves[child, ds] += sum(d[ds] * s for d, s in got) * self.epochs

    def spatial(self, level: int) -> None:
        if level > self.mac_master:
            # a fan-out between storage levels: instance 0 stands for all (the kernel's multicast rule)
            inner = level
            while self.loops[inner - 1].kind != "T":
                inner -= 1
            for lv in range(inner, level + 1):
                self.indices[lv] = 0
            d = self.deltas(inner - 1)
            child = self.n_storage - 1 - self.loops[inner - 1].storage
            for ds in range(3):
                self.moves[child, ds] += d[ds] * self.epochs
            return
        points: dict[int, tuple] = {}
        self._fill_macs(level, 0, points)
        self._mac_accesses(level, points)

    def _fill_macs(self, level: int, base: int, points: dict[int, tuple]) -> None:
        lp = self.loops[level]
        end = lp.res if self.last_global(level + 1, lp.dim) else lp.end
        base *= end
        saved = self.transform[lp.dim]
        for i in range(end):
            self.indices[level] = i
            if level == 0:
                points[base + i] = tuple(self._point_of())
                self.computes += self.epochs
            else:
                self._fill_macs(level - 1, base + i, points)
            self.transform[lp.dim] += self.strides[level][lp.dim]
        self.transform[lp.dim] = saved
        self.indices[level] = 0

    def _point_of(self) -> list[tuple]:
        pt = [0] * 8
        for lv, lp in enumerate(self.loops):
            pt[lp.dim] += self.strides[lv][lp.dim] * self.indices[lv]
        return [tuple(b[0] for b in self._project(pt, pt, ds)) for ds in range(3)]

    def _mac_accesses(self, level: int, points: dict[int, tuple]) -> None:
        k = self.loops[level].storage
        fx, fy = int(self.fanout[self.n_storage - 1 - k, 0]), int(self.fanout[self.n_storage - 1 - k, 1])
        lx = math.prod(lp.end for lp in self.loops[:level + 1] if lp.kind == "X")
        ly = math.prod(lp.end for lp in self.loops[:level + 1] if lp.kind == "Y")
        h, v = max(fx, lx), max(fy, ly)
        prev = self.prev_mac
        for ds in range(3):
            distinct = len({p[ds] for p in points.values()})
            best = distinct
            if prev is not None:
                linked = set()
                for idx, p in points.items():
                    hh, vv = idx % h, idx // h
                    near = []
                    if v > 1:
                        near += [(hh, vv - 1), (hh, vv + 1)]
                    if h > 1:
                        near += [(hh - 1, vv), (hh + 1, vv)]
                    for a, b in near:
                        if 0 <= a < h and 0 <= b < v and prev.get(b * h + a, (None,) * 3)[ds] == p[ds]:
                            linked.add(idx)
                            break
                rest = len({p[ds] for idx, p in points.items() if idx not in linked})
                best = min(best, rest)
            self.moves[self.n_storage, ds] += best * self.epochs
        self.prev_mac = points


@dataclass(frozen=True)
class ResidualCounts:
    """What ``residual_moves`` returns (hierarchy order, outermost level first; row L: the MACs).

    moves[l, ds]: words per instance of ``l`` taken from its parent keeper (row L: per instance of the
    last level, the MACs' accesses); tile[l, ds]: the largest tile; partition[l, ds]: Timeloop's partition
    size (first writes of outputs); macs: MACs performed; iterations: Timeloop's cycles (full factors)."""

    moves: np.ndarray
    tile: np.ndarray
    partition: np.ndarray
    macs: int
    iterations: int


def residual_moves(wl: np.ndarray, t: np.ndarray, sx: np.ndarray, sy: np.ndarray, order: np.ndarray,
                   res: np.ndarray, fanout: np.ndarray) -> ResidualCounts:
    """Replay Timeloop's nest analysis of a mapping with residual factors (``res[L, 3, 8]``: the last
    iteration's end of each temporal / spatial-X / spatial-Y factor; equal to the factor when perfect)."""
    walk = _Walk(wl, t, sx, sy, order, res, fanout)
    top = len(walk.loops) - 1
    walk.deltas(top)
    n = t.shape[0]
    tile = np.zeros((n + 1, 3), dtype=np.int64)
    spatial_size = np.zeros((n, 3), dtype=np.int64)
    for lv, lp in enumerate(walk.loops):
        lvl = n - 1 - lp.storage
        if walk.boundary[lv]:
            tile[lvl] = walk.size[lv]
        if walk.master[lv] and lv > walk.mac_master:
            spatial_size[lvl] = walk.size[lv]
    tile[n] = 1
    partition = np.zeros((n, 3), dtype=np.int64)
    partition[0] = tile[0]
    for lvl in range(1, n):
        for ds in range(3):
            denom = spatial_size[lvl - 1, ds] if spatial_size[lvl - 1, ds] else tile[lvl, ds]
            partition[lvl, ds] = partition[lvl - 1, ds] * tile[lvl, ds] // denom if denom else 0
    iters = math.prod(lp.end for lp in walk.loops if lp.kind == "T")
    if wl[12] == 0:
        tile[:, 1] = 0
    return ResidualCounts(moves=walk.moves, tile=tile, partition=partition, macs=walk.computes, iterations=iters)


def check_residuals(t: np.ndarray, sx: np.ndarray, sy: np.ndarray, res: np.ndarray, names: list[str], *,
                    source: str) -> None:
    """Refuse, in one line, the residual forms ``residual_moves`` does not replay as Timeloop does: a
    residual on a fan-out between storage levels, a residual under a fan-out over the same rank (each
    instance would end on its own tile), and a residual on the outermost loop of its rank (Timeloop needs
    an enclosing loop of the rank whose last iteration selects the residual tile)."""
    n = t.shape[0]
    for lvl in range(n):
        for kind, arr in ((0, t), (1, sx), (2, sy)):
            for d in range(8):
                if res[lvl, kind, d] == arr[lvl, d]:
                    continue
                where = f"{names[lvl]}.{'temporal' if kind == 0 else 'spatial'}"
                value = f"{DIMS[d]}{arr[lvl, d]},{res[lvl, kind, d]}"
                if kind and lvl < n - 1:
                    raise SpecError("a residual factor on a fan-out between storage levels is not modelled "
                                    "(only on temporal loops and on the fan-out to the MACs)", source=source,
                                    key=where, value=value)
                # loops of d outside this one: outer levels, and this level's temporal loop for a spatial one
                outside = [(j, k) for j in range(lvl + 1) for k in (0, 1, 2)
                           if (j < lvl or (kind and k == 0)) and (t, sx, sy)[k][j, d] > 1]
                if not outside:
                    raise SpecError("the outermost loop of a rank cannot take a residual (Timeloop needs an "
                                    "enclosing loop of the same rank whose last iteration selects the residual "
                                    "tile)", source=source, key=where, value=value)
                fanned = [j for j, k in outside if k and j < n - 1]
                if fanned:
                    raise SpecError("a residual under a fan-out over the same rank is not modelled (each "
                                    "instance would end on its own tile)", source=source,
                                    key=f"{names[fanned[0]]}.spatial", value=value)


def residual_counts(rc: ResidualCounts, keep: np.ndarray, sx: np.ndarray, sy: np.ndarray, has_weights: bool,
                    counts: np.ndarray) -> None:
    """Fill ``counts[L, 3, 3]`` (reads, fills, updates per utilised instance) from ``residual_moves``, by
    the batched kernel's rules (``cost_kernel.count_accesses``) with Timeloop's partition sizes in place
    of distinct tiles x tile: a keeper ``p`` serves the next keeper ``c`` below it (the MACs when none)
    ``moves[c]`` words per instance of ``c`` times the spatial factors between them that index the
    dataspace (a fan-out to the MACs is already in ``moves[L]``)."""
    n = keep.shape[0]
    counts[:] = 0
    for ds in range(3):
        if ds == 1 and not has_weights:
            continue
        nxt, acc = n, 1
        for lvl in range(n - 1, -1, -1):
            rel = 1
            for d in range(8):
                rel *= int(sx[lvl, d] * sy[lvl, d]) if RELEVANT[ds, d] else 1
            fan = acc * rel if lvl < n - 1 else 1
            moves = int(round(rc.moves[nxt, ds]))
            own = int(round(rc.moves[lvl, ds]))
            if keep[lvl, ds]:
                if ds != 2:
                    counts[lvl, ds] = (moves * fan, own if lvl > 0 else 0, 0)
                else:
                    updates = moves * fan
                    counts[lvl, ds] = (updates - rc.partition[lvl, ds],
                                       own - rc.partition[lvl, ds] if lvl > 0 else 0, updates)
                nxt, acc = lvl, 1
            else:
                acc = fan
