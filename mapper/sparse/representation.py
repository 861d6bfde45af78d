"""Sparseloop's representation analysis: a tile's ranks, its expected data and metadata occupancy,
its metadata accesses and its vector accesses (``analysis`` step 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acceldse.mapper.sparse.density import DensityModel, Hypergeometric
from acceldse.mapper.sparse.design import ACCESSES, DenseCounts, Loop, SparseDesign, StorageSpec, density_of
from acceldse.mapper.sparse.formats import FORMATS, RankFormat, RankOccupancy, rank_occupancy
from acceldse.workloads.einsum import Tensor


@dataclass
class Record:
    """Working record of one (level, tensor) (Sparseloop's data-movement info)."""

    tensor: Tensor
    dense: DenseCounts
    formats: tuple[RankFormat, ...] = ()
    child: int | None = None
    parent: int | None = None
    fiber_shape: list[int] = field(default_factory=list)
    subtile: list[int] = field(default_factory=list)
    rank_loops: list[list[Loop]] = field(default_factory=list)
    expected_density: float = 1.0
    occupancy: list[RankOccupancy] = field(default_factory=list)
    format_counts: dict[str, list[list[int]]] = field(default_factory=dict)
    vector_ratio: float = 1.0
    largest: list[RankOccupancy] = field(default_factory=list)
    """Per-rank metadata of the tile at its largest occupancy (what its metadata storage must hold)."""
    fine: dict[tuple[str, str], int] = field(default_factory=dict)
    fine_format: dict[tuple[str, str], list[list[int]]] = field(default_factory=dict)

    has_metadata: bool = field(init=False)
    """Whether the tile has a format (and so metadata)."""
    compressed: bool = field(init=False)
    """Whether a rank of its format is compressed."""

    def __post_init__(self) -> None:  # the formats are fixed: asked often, computed once
        self.has_metadata = bool(self.formats)
        self.compressed = any(f.compressed for f in self.formats)


def extents(levels: tuple[StorageSpec, ...], level: int, loop_id: int) -> dict[str, int]:
    """Per rank, the extent of the tile under and including loop ``loop_id`` of ``level``."""
    ext: dict[str, int] = {}
    for lv in range(level + 1):
        loops = levels[lv].loops if lv < level else levels[lv].loops[:loop_id + 1]
        for loop in loops:
            ext[loop.rank] = ext.get(loop.rank, 1) * loop.bound
    return ext


def assign_ranks(design: SparseDesign, recs: dict[tuple[int, str], Record], level: int, name: str,
                 loops: tuple[tuple[Loop, ...], ...] | None = None) -> None:
    """Sparseloop's outer-to-inner assignment of a tile's ranks to loops (sets the ranks' loops,
    fiber shapes and sub-tile sizes). A tile without a format is one rank over all its loops (what a
    compressed parent that pre-tiles inherits); a rank with ``flattened_rankIDs`` takes the
    consecutive loops over the flattened ranks. ``loops``: every level's loops (default: the design's), of
    which only those over the tensor's ranks are read."""
    if loops is None:
        loops = tuple(lv.loops for lv in design.levels)
    rec = recs[(level, name)]
    t = rec.tensor
    where = f"{design.levels[level].name}: {name}"
    child = recs.get((rec.child, name)) if rec.child is not None else None
    inner_most = 0 if rec.child is None else rec.child + 1
    pre_tiling = rec.compressed and child is not None and child.dense.shape > 1
    n_ranks = len(rec.formats) if rec.has_metadata else 1
    sub: list[Loop] = []
    sub_ext: list[dict[str, int]] = []  # per loop of ``sub``: the extents (of the tensor's ranks) under and with it
    ranks_of_t = t.ranks
    ext: dict[str, int] = {}  # extents of the tile under and including each loop (``extents``), walked upward
    snapshot: dict[str, int] = {}  # ``ext`` as it stood at the last loop that changed it (read only)
    for lv in range(level + 1):
        for loop in loops[lv]:
            if loop.rank in ranks_of_t:  # the footprint reads no other rank
                if loop.bound != 1:  # a factor-1 loop leaves the extents (and the footprint) as they are
                    ext[loop.rank] = ext.get(loop.rank, 1) * loop.bound
                    snapshot = {}
                if lv >= inner_most:
                    if not snapshot and ext:
                        snapshot = dict(ext)
                    sub.append(loop)
                    sub_ext.append(snapshot)
    if not pre_tiling:
        below: dict[str, int] = {}
        for lv in range(inner_most):
            for loop in loops[lv]:
                below[loop.rank] = below.get(loop.rank, 1) * loop.bound
        for i, loop in enumerate(sub):
            if below.get(loop.rank, 1) > 1:
                sub[i] = Loop(loop.rank, loop.bound * below.pop(loop.rank), loop.spatial)
    inner_rank = 0
    if pre_tiling and child is not None:
        inner_rank = len(child.formats) or 1
        if inner_rank > n_ranks or (child.compressed and any(
                child.formats[r].name != rec.formats[r].name for r in range(inner_rank))):
            raise ValueError(f"{where}: pre-tiling needs the child level's format below this one's, which does not "
                             f"align (Sparseloop rejects this mapping)")
    ranks: list[list[Loop]] = []
    tiles: list[int] = []
    loop_id = len(sub) - 1
    r_id = n_ranks
    while r_id > inner_rank and loop_id >= 0:
        while loop_id >= 0 and sub[loop_id].bound <= 1:
            loop_id -= 1
        if loop_id < 0:
            break
        r_id -= 1
        loop = sub[loop_id]
        group: tuple[str, ...] | None = None
        if rec.has_metadata and rec.formats[r_id].flattened:
            group = next((g for g in rec.formats[r_id].flattened if loop.rank in g), None)
            if group is None:
                raise ValueError(f"{where}: a loop over {loop.rank} meets rank {r_id}, whose flattened_rankIDs do not "
                                 f"name it (not modelled)")
        rank, tile = [loop], t.footprint(sub_ext[loop_id])
        loop_id -= 1
        if not rec.has_metadata or group is not None:  # absorb the consecutive loops of the rank
            while loop_id >= 0 and (not rec.has_metadata or sub[loop_id].bound <= 1
                                    or sub[loop_id].rank in (group or ())):
                if sub[loop_id].bound > 1:
                    rank.append(sub[loop_id])
                loop_id -= 1
        ranks.insert(0, rank)
        tiles.insert(0, tile)
    while r_id > inner_rank:
        r_id -= 1
        ranks.insert(0, [])
        tiles.insert(0, t.footprint(sub_ext[0]) if sub_ext else 1)
    if any(loop.bound > 1 for loop in sub[:loop_id + 1]):
        raise ValueError(f"{where}'s tile needs more ranks than its {n_ranks}-rank format gives "
                         f"(Sparseloop rejects this mapping)")
    if pre_tiling and child is not None:
        ranks = [*child.rank_loops, *ranks]
        tiles = [*child.subtile, *tiles]
    else:
        tiles = [1, *tiles]
    rec.rank_loops = ranks
    rec.subtile = tiles
    rec.fiber_shape = []
    for rank_loops in ranks:
        fiber: dict[str, int] = {}
        for loop in rank_loops:
            fiber[loop.rank] = fiber.get(loop.rank, 1) * loop.bound
        rec.fiber_shape.append(t.footprint(fiber))


def metadata_given(rec: Record, level: StorageSpec, density: DensityModel, occupancy: Any) -> list[RankOccupancy]:
    """Per-rank metadata of a tile holding ``occupancy`` non-zeros (rank 0 innermost); ``occupancy``
    may be an array (the units come back as arrays)."""
    shape = rec.dense.shape
    constraint = (shape, occupancy)
    out: list[RankOccupancy] = []
    fibers = 1
    cur = shape
    n = len(rec.formats)
    for r in reversed(range(n)):
        fmt = rec.formats[r]
        nxt = rec.subtile[r]
        md_bits = level.metadata_word_bits if fmt.metadata_word_bits is None else fmt.metadata_word_bits
        pl_bits = level.metadata_word_bits if fmt.payload_word_bits is None else fmt.payload_word_bits
        if rec.fiber_shape[r] == 1 and r != n - 1:
            occ = RankOccupancy(metadata_word_bits=md_bits, payload_word_bits=pl_bits, empty=True)
        else:
            md, pl = rank_occupancy(fmt.name, fibers=fibers, fiber_shape=rec.fiber_shape[r],
                                    p_empty_fiber=density.prob_empty(cur, constraint),
                                    p_empty_coordinate=density.prob_empty(nxt, constraint))
            occ = RankOccupancy(md, pl, md_bits, pl_bits)
        out.insert(0, occ)
        fibers *= rec.fiber_shape[r]
        cur = nxt
    for occ in out:
        if not occ.empty:
            occ.payload_units = 0.0
            break
    return out


def ranks_key(recs: dict[tuple[int, str], Record], level: int, name: str,
              loops: tuple[tuple[Loop, ...], ...]) -> tuple[Any, ...]:
    """Everything ``assign_ranks`` reads of a tile: its tensor and formats, its child's ranks when it
    pre-tiles, the extent per rank of the levels below its child (only their products count) and the
    (rank, bound) of every loop over the tensor's ranks from its child up (level boundaries do not
    count; loops over other ranks change none of it)."""
    rec = recs[(level, name)]
    ranks = rec.tensor.ranks
    child = recs.get((rec.child, name)) if rec.child is not None else None
    inner_most = 0 if rec.child is None else rec.child + 1
    below: dict[str, int] = {}
    for lv in range(inner_most):
        for loop in loops[lv]:
            if loop.rank in ranks and loop.bound > 1:
                below[loop.rank] = below.get(loop.rank, 1) * loop.bound
    upper = tuple((loop.rank, loop.bound) for lv in range(inner_most, level + 1) for loop in loops[lv]
                  if loop.rank in ranks)
    pre = None
    if rec.compressed and child is not None and child.dense.shape > 1:
        pre = (child.formats, tuple(tuple((loop.rank, loop.bound) for loop in r) for r in child.rank_loops),
               tuple(child.subtile))
    return (rec.tensor, rec.formats, rec.child is None, pre, tuple(sorted(below.items())), upper)


def represent(design: SparseDesign, recs: dict[tuple[int, str], Record], level: int, name: str,
              loops: tuple[tuple[Loop, ...], ...]) -> None:
    """Step 1 of the analysis for one tile: its ranks (``assign_ranks``), expected occupancy and
    metadata (``expected_occupancy``), vector-access ratio and largest metadata. What does not
    depend on the dense counts is kept in ``design.cache`` (when given), so a search that meets the
    same tile again reuses it: the ranks under what they depend on (``ranks_key``), the occupancy
    and metadata under the ranks' shapes (many loop nests give the same)."""
    rec = recs[(level, name)]
    parent = recs.get((rec.parent, name)) if rec.parent is not None else None
    density = density_of(design, name)
    spec = design.levels[level]
    cache = design.cache
    if not rec.has_metadata and not (parent is not None and parent.compressed and rec.dense.shape > 1):
        # a tile without a format that no compressed parent pre-tiles: nothing reads its ranks
        rec.rank_loops, rec.subtile, rec.fiber_shape = [], [], []
    elif cache is None:
        assign_ranks(design, recs, level, name, loops)
    else:
        key = ranks_key(recs, level, name, loops)
        hit = cache.get(key)
        if hit is None:
            assign_ranks(design, recs, level, name, loops)
            cache[key] = (rec.rank_loops, rec.subtile, rec.fiber_shape)
        else:
            rec.rank_loops, rec.subtile, rec.fiber_shape = hit
    occ_key = ("occupancy", density, rec.dense.shape, rec.formats, tuple(rec.subtile), tuple(rec.fiber_shape),
               parent is not None and parent.has_metadata, spec.metadata_word_bits, spec.block_size)
    occ_hit = cache.get(occ_key) if cache is not None else None
    if occ_hit is None:
        expected_occupancy(recs, design, level, name)
        rec.vector_ratio = vector_ratio(rec, density, spec.block_size)
        if rec.has_metadata:
            rec.largest = metadata_given(rec, spec, density, density.max_occupancy(rec.dense.shape))
        if cache is not None:
            cache[occ_key] = (rec.expected_density, rec.occupancy, rec.vector_ratio, rec.largest)
    else:
        rec.expected_density, rec.occupancy, rec.vector_ratio, rec.largest = occ_hit
        format_counts(rec)


def format_counts(rec: Record) -> None:
    """A tile's metadata reads / fills / updates: its expected metadata in proportion to its dense accesses."""
    shape = rec.dense.shape
    ratios = {"read": rec.dense.reads / shape, "fill": rec.dense.fills / shape, "update": rec.dense.updates / shape}
    rec.format_counts = {a: [[math.ceil(o.metadata_units * ratios[a]), math.ceil(o.payload_units * ratios[a])]
                             for o in rec.occupancy] for a in ACCESSES}


def expected_occupancy(recs: dict[tuple[int, str], Record], design: SparseDesign, level: int, name: str) -> None:
    """Sparseloop's expected data and metadata occupancy of a tile (over the occupancies its density
    model allows; a tile under a parent with metadata is conditioned on being non-empty) and its
    metadata reads / fills / updates."""
    rec = recs[(level, name)]
    density = density_of(design, name)
    shape = rec.dense.shape
    parent = recs.get((rec.parent, name)) if rec.parent is not None else None
    if isinstance(density, Hypergeometric):
        hyper_occupancy_of(rec, design.levels[level], density, parent is not None and parent.has_metadata)
        format_counts(rec)
        return
    lo, hi = density.min_occupancy(shape), density.max_occupancy(shape)
    occ = np.arange(lo, hi + 1)
    probs = np.atleast_1d(np.asarray(density.occupancy_probability(shape, occ), dtype=float))
    keep = probs != 0
    occ, probs = occ[keep], probs[keep]
    if parent is not None and parent.has_metadata and lo == 0 and len(probs):
        scale = 1 - probs[0]  # Sparseloop drops its first (empty-tile) outcome and renormalises
        probs = probs / scale if scale > 0 else np.zeros_like(probs)
        probs[0] = 0.0
    occupancy: list[RankOccupancy] = []
    # a fixed-structured density's floor and ceil: NumPy adds one or two elements as a0 (+ a1), the same
    # floats these scalar sums give
    outcomes = [(int(o), float(pr)) for o, pr in zip(occ, probs, strict=True)]
    total = _sum([pr * o for o, pr in outcomes])
    if rec.has_metadata and outcomes:
        per_outcome = [metadata_given(rec, design.levels[level], density, o) for o, _ in outcomes]
        for r, ro in enumerate(per_outcome[0]):
            occupancy.append(RankOccupancy(
                _sum([float(m[r].metadata_units) * pr for m, (_, pr) in zip(per_outcome, outcomes, strict=True)]),
                _sum([float(m[r].payload_units) * pr for m, (_, pr) in zip(per_outcome, outcomes, strict=True)]),
                ro.metadata_word_bits, ro.payload_word_bits, ro.empty))
    rec.expected_density = total / shape
    rec.occupancy = occupancy
    format_counts(rec)


def hyper_occupancy_of(rec: Record, level: StorageSpec, density: Hypergeometric, parent_md: bool) -> None:
    """``expected_occupancy`` of a tile of a hypergeometric tensor (``parent_md``: its parent has metadata):
    over every occupancy of non-zero probability, with the batched kernel's compiled
    ``kernel_tiles.hyper_occupancy`` (the same floats in both)."""
    from acceldse.mapper.sparse.kernel_tiles import hyper_occupancy

    n = len(rec.formats)
    codes = np.zeros((1, 1, max(n, 1), 4), dtype=np.int64)
    for r, f in enumerate(rec.formats):
        codes[0, 0, r, 0] = FORMATS.index(f.name)
    subtile = np.asarray(rec.subtile or [0], dtype=np.int64)
    fiber = np.asarray(rec.fiber_shape or [0], dtype=np.int64)
    md, pl, out_md, out_pl = (np.zeros(max(n, 1)) for _ in range(4))
    mean, ranks = hyper_occupancy(0, 0, density.tensor_size, density.nonzeros, parent_md, codes, n, rec.dense.shape,
                                  subtile, fiber, md, pl, out_md, out_pl)
    rec.expected_density = mean
    rec.occupancy = []
    for r in range(ranks):
        f = rec.formats[r]
        rec.occupancy.append(RankOccupancy(
            float(out_md[r]), float(out_pl[r]),
            level.metadata_word_bits if f.metadata_word_bits is None else f.metadata_word_bits,
            level.metadata_word_bits if f.payload_word_bits is None else f.payload_word_bits,
            rec.fiber_shape[r] == 1 and r != n - 1))


def _sum(values: list[float]) -> float:
    """``values[0] + values[1] + ...`` (0.0 when empty): what ``np.sum`` gives on up to two floats."""
    total = values[0] if values else 0.0
    for v in values[1:]:
        total += v
    return total


VECTOR_THRESHOLDS = {2: (251, 125, 84, 63, 51, 42, 36, 32, 28, 1), 4: (375, 188, 125, 94, 75, 63, 54, 47, 42, 1),
                     8: (438, 219, 146, 110, 88, 73, 63, 55, 49, 1), 16: (469, 235, 157, 118, 94, 79, 67, 59, 52, 1),
                     32: (485, 243, 162, 122, 97, 81, 70, 61, 52, 1)}
"""Sparseloop's table: per block size and density decile, the tile size (in blocks) below which a
compressed tile's vector accesses are counted from its occupancy distribution."""


def vector_ratio(rec: Record, density: DensityModel, block: int) -> float:
    """Vector accesses of a compressed tile per naive ``ceil(count / block)`` access (Sparseloop:
    a small compressed tile wastes part of its blocks)."""
    shape, mean = rec.dense.shape, rec.expected_density
    if not (rec.compressed and shape and block > 1 and mean < 1.0):
        return 1.0
    if block not in VECTOR_THRESHOLDS:
        raise ValueError(f"Sparseloop has no vector-width table for block size {block}; accepted: "
                         f"{', '.join(map(str, VECTOR_THRESHOLDS))}")
    idx = int(math.floor(mean / 0.1) - 1) if mean >= 0.1 else 0
    if VECTOR_THRESHOLDS[block][idx] <= shape // block:
        return 1.0
    if isinstance(density, Hypergeometric):
        from acceldse.mapper.sparse.kernel_tiles import hyper_vector_blocks

        return hyper_vector_blocks(shape, block, density.tensor_size, density.nonzeros) / (shape * mean / block)
    nnz = np.arange(1, shape + 1)
    total = float(np.sum(np.ceil(nnz / block) * density.occupancy_probability(shape, nnz)))
    return total / (shape * mean / block)
