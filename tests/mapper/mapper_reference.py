"""Plain-Python reference for the cost kernel (tests only).

Independent of the kernel's closed forms: it walks the whole temporal loop nest iteration
by iteration and, for every level and dataspace, counts how often the tile identity (the
indices of the loops above the level that index the dataspace) changes and how many
distinct identities occur; multicast / reduction factors are found by enumerating the
spatial instances between two keepers and counting distinct projections. Tile sizes are
the bounding boxes of the points actually touched (enumerated). Sliding-window reuse: at
each input-tile change caused by a step of the innermost loop above the level, the new
tile's bounding box (of the coordinates the loop indices give) is intersected with the
previous one and only the difference is fetched (a change through any other loop refetches
the whole tile, as in Timeloop 0fc43fb). A fan-out from the last level straight to the MACs is
simulated as Timeloop's nest analysis walks it (``mac_fanout_reference``). Only for tiny layers.
"""

from __future__ import annotations

import itertools
import math

from acceldse.mapper.mapping import MappingArrays
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.workloads.layer import DIMS, Layer

USES = {"inputs": set("NGCPQRS"), "weights": set("GKCRS"), "outputs": set("NGKPQ")}
DS = ("inputs", "weights", "outputs")


def _footprint(layer: Layer, ext: dict[str, int], ds: str) -> int:
    """Elements of the bounding box of the points a loop box touches (Timeloop's AAHR tiles)."""
    sh, sw = layer.stride
    dh, dw = layer.dilation
    pts = set()
    for idx in itertools.product(*(range(ext[d]) for d in DIMS)):
        i = dict(zip(DIMS, idx))
        if ds == "inputs":
            pts.add((i["N"], i["G"], i["C"], i["P"] * sh + i["R"] * dh, i["Q"] * sw + i["S"] * dw))
        elif ds == "weights":
            pts.add((i["G"], i["K"], i["C"], i["R"], i["S"]))
        else:
            pts.add((i["N"], i["G"], i["K"], i["P"], i["Q"]))
    return math.prod(max(p[a] for p in pts) - min(p[a] for p in pts) + 1 for a in range(5))


def _input_box(layer: Layer, origin: dict[str, int], ext: dict[str, int]) -> tuple[tuple[int, int], ...]:
    """Per input axis (N, G, C, rows, cols) the [lo, hi] bounds touched by a loop box at ``origin``."""
    sh, sw = layer.stride
    dh, dw = layer.dilation
    lo = {d: origin[d] for d in DIMS}
    hi = {d: origin[d] + ext[d] - 1 for d in DIMS}
    return ((lo["N"], hi["N"]), (lo["G"], hi["G"]), (lo["C"], hi["C"]),
            (lo["P"] * sh + lo["R"] * dh, hi["P"] * sh + hi["R"] * dh),
            (lo["Q"] * sw + lo["S"] * dw, hi["Q"] * sw + hi["S"] * dw))


def _box_size(box: tuple[tuple[int, int], ...]) -> int:
    return math.prod(max(0, b - a + 1) for a, b in box)


def _project(layer: Layer, pt: dict[str, int], ds: str) -> tuple[int, ...]:
    sh, sw = layer.stride
    dh, dw = layer.dilation
    if ds == "inputs":
        return (pt["N"], pt["G"], pt["C"], pt["P"] * sh + pt["R"] * dh, pt["Q"] * sw + pt["S"] * dw)
    if ds == "weights":
        return (pt["G"], pt["K"], pt["C"], pt["R"], pt["S"])
    return (pt["N"], pt["G"], pt["K"], pt["P"], pt["Q"])


def mac_fanout_reference(layer: Layer, hierarchy: Hierarchy, m: MappingArrays, loops: list, step: list,
                         ds: str) -> int:
    """Accesses per instance of the last level from the MACs it fans out to, walked as Timeloop walks
    them: each temporal loop evaluates its first iteration (weight 1) and its second (weight n - 1);
    at each evaluated iteration every MAC needs its point; a MAC whose grid neighbour (left, right,
    up, down; MACs numbered X first, dims in canonical order, row-major on a grid
    max(physical, used) wide) held the same point at the previous evaluated iteration takes it from
    there; accesses = the smaller of (distinct points) and (distinct points of the other MACs)."""
    n = hierarchy.num_levels
    fx, fy = (int(v) for v in hierarchy.arrays().fanout[n - 1])
    xs = [(d, int(m.spatial_x[n - 1, k])) for k, d in enumerate(DIMS) if m.spatial_x[n - 1, k] > 1]
    ys = [(d, int(m.spatial_y[n - 1, k])) for k, d in enumerate(DIMS) if m.spatial_y[n - 1, k] > 1]
    lx, ly = math.prod(e for _, e in xs), math.prod(e for _, e in ys)
    offsets = []
    for linear in range(lx * ly):
        off = {d: 0 for d in DIMS}
        rest = linear % lx
        for d, e in xs:
            off[d] += rest % e
            rest //= e
        rest = linear // lx
        for d, e in ys:
            off[d] += (rest % e) * int(m.spatial_x[n - 1, DIMS.index(d)])
            rest //= e
        offsets.append(off)
    width, height = max(fx, lx), max(fy, ly)
    neighbours = []
    for linear in range(len(offsets)):
        h, v = linear % width, linear // width
        cand = []
        if height > 1:
            cand += [(h, v - 1), (h, v + 1)]
        if width > 1:
            cand += [(h - 1, v), (h + 1, v)]
        neighbours.append([b * width + a for a, b in cand
                           if 0 <= a < width and 0 <= b < height and b * width + a < len(offsets)])
    total = 0
    prev = None
    for choice in itertools.product(*([(0, 1)] + ([(1, f - 1)] if f > 1 else []) for _, _, f in loops)):
        base = {d: 0 for d in DIMS}
        for i, (idx, _) in enumerate(choice):
            base[loops[i][1]] += idx * step[i]
        weight = math.prod(w for _, w in choice)
        points = [_project(layer, {d: base[d] + off[d] for d in DIMS}, ds) for off in offsets]
        unique = len(set(points))
        if prev is None:
            total += unique * weight
        else:
            rest = {pt for a, pt in enumerate(points) if not any(prev[b] == pt for b in neighbours[a])}
            total += min(unique, len(rest)) * weight
        prev = points
    return total


def reference_cost(layer: Layer, hierarchy: Hierarchy, m: MappingArrays) -> dict:
    n = hierarchy.num_levels
    hw = hierarchy.arrays()
    # temporal loops outermost-first: (level, dim, factor)
    loops = [(lvl, DIMS[d], int(m.temporal[lvl, d])) for lvl in range(n) for d in m.order[lvl]
             if m.temporal[lvl, d] > 1]
    # tile extents per level: product of factors at and below the level
    tiles = {}
    for lvl in range(n + 1):
        ext = {d: 1 for d in DIMS}
        for j in range(lvl, n):
            for k, d in enumerate(DIMS):
                ext[d] *= int(m.temporal[j, k] * m.spatial_x[j, k] * m.spatial_y[j, k])
        for ds in DS:
            tiles[lvl, ds] = _footprint(layer, ext, ds) if lvl < n else 1
    if not layer.has_weights:
        for lvl in range(n + 1):
            tiles[lvl, "weights"] = 0
    # loop strides: how far one step of each temporal loop moves its dim (all factors below it)
    exts = []
    for lvl in range(n + 1):
        exts.append({d: math.prod(int(m.temporal[j, k] * m.spatial_x[j, k] * m.spatial_y[j, k])
                                  for j in range(lvl, n)) for k, d in enumerate(DIMS)})
    step = []
    for i, (lvl, d, _) in enumerate(loops):
        inner = math.prod(f for (lv2, d2, f) in loops[i + 1:] if d2 == d)
        step.append(inner * int(math.prod(m.spatial_x[j, DIMS.index(d)] * m.spatial_y[j, DIMS.index(d)]
                                          for j in range(lvl, n))) * exts[n][d])
    slide_fills = {lvl: 0 for lvl in range(n)}
    prev_box: dict = {}
    # walk the nest
    changes = {(lvl, ds): 0 for lvl in range(n + 1) for ds in DS}
    seen: dict = {(lvl, ds): set() for lvl in range(n + 1) for ds in DS}
    last: dict = {}
    iters = 0
    prev_idx = None
    for idx in itertools.product(*(range(f) for _, _, f in loops)):
        iters += 1
        for lvl in range(1, n):
            above = [i for i in range(len(loops)) if loops[i][0] < lvl]
            origin = {d: 0 for d in DIMS}
            for i in above:
                origin[loops[i][1]] += idx[i] * step[i]
            box = _input_box(layer, origin, exts[lvl])
            ident = tuple(idx[i] for i in above if loops[i][1] in USES["inputs"])
            if prev_idx is None:
                slide_fills[lvl] += _box_size(box)
            elif ident != tuple(prev_idx[i] for i in above if loops[i][1] in USES["inputs"]):
                innermost = above[-1] if above else None
                stepped = innermost is not None and idx[innermost] == prev_idx[innermost] + 1
                if stepped and loops[innermost][1] in "PQRS":
                    inter = tuple((max(a[0], b[0]), min(a[1], b[1])) for a, b in zip(box, prev_box[lvl]))
                    slide_fills[lvl] += _box_size(box) - _box_size(inter)
                else:
                    slide_fills[lvl] += _box_size(box)
            prev_box[lvl] = box
        prev_idx = idx
        for lvl in range(n + 1):
            above = [(i, loops[i][1]) for i in range(len(loops)) if loops[i][0] < lvl]
            for ds in DS:
                ident = tuple(idx[i] for i, d in above if d in USES[ds]) if lvl < n else idx
                if last.get((lvl, ds)) != ident:
                    changes[lvl, ds] += 1
                    last[lvl, ds] = ident
                seen[lvl, ds].add(ident)
    distinct = {k: len(v) for k, v in seen.items()}
    # spatial instances
    def spatial_between(p: int, c: int) -> list[list[tuple[str, int, int]]]:
        axes = [(DIMS[k], int(arr[j, k])) for j in range(p, c) for arr in (m.spatial_x, m.spatial_y)
                for k in range(8) if arr[j, k] > 1]
        return [[(a, pos, v) for pos, ((a, _), v) in enumerate(zip(axes, combo))]
                for combo in itertools.product(*(range(f) for _, f in axes))]

    inst = [1]
    for j in range(n):
        inst.append(inst[-1] * int(math.prod(m.spatial_x[j]) * math.prod(m.spatial_y[j])))
    counts = {}
    for ds in DS:
        keepers = [lvl for lvl in range(n) if m.keep[lvl, DS.index(ds)]]
        for pos, p in enumerate(keepers):
            c = keepers[pos + 1] if pos + 1 < len(keepers) else n
            points = spatial_between(p, c if c < n else n - 1)
            unique = len({tuple((pos, v) for d, pos, v in pt if d in USES[ds]) for pt in points})
            moves = changes[c, ds] * tiles[c, ds]
            if c == n:   # per instance of the last level: the MACs' deliveries, their multicast included
                moves = mac_fanout_reference(layer, hierarchy, m, loops, step, ds)
            if ds == "inputs" and c < n:
                moves = slide_fills[c]
            reads = fills = updates = 0
            if ds != "outputs":
                reads = moves * unique
                fills = changes[p, ds] * tiles[p, ds] if p > 0 else 0
                if ds == "inputs" and p > 0:
                    fills = slide_fills[p]
            else:
                updates = moves * unique
                reads = updates - distinct[p, ds] * tiles[p, ds]
                fills = (changes[p, ds] - distinct[p, ds]) * tiles[p, ds] if p > 0 else 0
            if ds == "weights" and not layer.has_weights:
                reads = fills = updates = 0
            counts[hierarchy.levels[p].name, ds] = (reads, fills, updates)
    cycles = iters
    for lv in hierarchy.levels:
        # Timeloop's order: per-dataspace need in words per cycle, summed; slowdown = bandwidth / need
        need_rd = sum(v[0] / iters for (name, _), v in counts.items() if name == lv.name)
        need_wr = sum((v[1] + v[2]) / iters for (name, _), v in counts.items() if name == lv.name)
        slowdown = min([1.0] + [bw / need for bw, need in ((lv.read_bandwidth_words_per_cycle, need_rd),
                                                             (lv.write_bandwidth_words_per_cycle, need_wr))
                                if bw and bw < need])
        cycles = max(cycles, math.ceil(iters / slowdown))
    energy = 0.0
    for (name, ds), (r, f, u) in counts.items():
        lvl = hierarchy.level_index(name)
        e = hw.energy[lvl, DS.index(ds)]
        b = int(hw.block[lvl])
        clusters = hierarchy.total_instances(lvl) // hierarchy.levels[lvl].cluster_size
        energy += (math.ceil(r / b) * e[0] + math.ceil(f / b) * e[1] + math.ceil(u / b) * e[2]) * min(inst[lvl],
                                                                                                  clusters)
    energy += iters * inst[n] * hierarchy.compute.energy_pj
    energy += sum(lv.leakage_pj_per_cycle * cycles * inst[i] for i, lv in enumerate(hierarchy.levels))
    return {"counts": counts, "cycles": cycles, "energy_pj": energy, "macs": iters * inst[n]}
