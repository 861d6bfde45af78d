"""Sparseloop's analysis of one mapping: dense per-level counts -> actual / gated / skipped.

``analyse(design)`` follows the order in which Sparseloop post-processes Timeloop's dense tile
analysis:

1. *Representation*: for each tensor and storage level with a format, the tile's ranks are
   assigned to the mapping's non-trivial loops over the tensor's ranks (outermost loop to the
   outermost rank; a compressed tile whose child level keeps a tile of more than one element
   inherits the child's ranks below its own); each rank's metadata and payload units follow from
   the density model (``formats``), averaged over the tile occupancies the model allows; reads,
   fills and updates of such a tile touch only its non-zeros (``count - floor(count x (1 - density))``)
   and its metadata in proportion (``ceil(units x count / tile)``).
2. *Storage gating / skipping* of a target tensor at a level, conditioned on other tensors: the
   condition is the condition tensor's tile under the loop where the target's tile changes (the
   scalar when the target feeds the MACs directly) being empty; ``p = 1 - prod(1 - P(empty))``.
   ``floor(p x reads)`` (``ceil`` for a read-write tensor) reads and ``floor(p x updates)`` updates
   are gated or skipped, with their metadata; levels below lose the same share of their traffic;
   when the target feeds the MACs, ``floor(p x computes)`` computes disappear.
3. *Compute*: the two operands' states (exists non-zero / exists zero / does not exist, given the
   storage optimisations already applied) decide which computes are performed, gated
   (``gate_on_zero_operand``) or skipped (``skip_on_not_aligned_operands``).
4. *Cycles*: MAC cycles are ``ceil((actual + gated computes) / instances)``; a level whose actual and
   gated data (and metadata, in data words) exceed its read / write bandwidth over those cycles
   slows the run down (``ceil(cycles / slowdown)``); the run takes the slowest.
5. *Energy*: per level and tensor, vector accesses (``ceil(count / block_size)``; metadata:
   ``ceil(bits / metadata_storage_width)``) times the ERT energy of each action (``gated_read``,
   ``skipped_read``, ``metadata_read`` ...: Timeloop's action-name fallbacks; a missing gated /
   skipped / metadata action costs 0, a missing read / fill / update the level's largest
   energy); MAC: actual x ``compute``, gated x ``compute_gated`` (else ``compute``), skipped x
   ``compute_skipped`` (else gated, else ``compute``); leakage x cycles.

Scope: two-operand computes (Sparseloop's two-operand path); MAC cycles divide by the utilised
MAC instances; spatial skipping (``skipping_spatial``) and flattened ranks are refused by the loader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acceldse.mapper.sparse.density import DensityModel, FixedStructured
from acceldse.mapper.sparse.formats import RankFormat, RankOccupancy, rank_occupancy
from acceldse.workloads.einsum import Tensor

ACCESSES = ("read", "fill", "update")
KINDS = ("random", "gated", "skipped")
ERT_FALLBACKS = {
    "random_read": ("random_read", "read"), "gated_read": ("gated_read",),
    "skipped_read": ("skipped_read", "gated_read"),
    "random_fill": ("random_fill", "random_write", "fill", "write"), "gated_fill": ("gated_fill", "gated_write"),
    "skipped_fill": ("skipped_fill", "skipped_write", "gated_fill", "gated_write"),
    "random_update": ("random_update", "random_write", "update", "write"),
    "gated_update": ("gated_update", "gated_write"),
    "skipped_update": ("skipped_update", "skipped_write", "gated_update", "gated_write"),
    "random_metadata_read": ("random_metadata_read", "metadata_read"),
    "gated_metadata_read": ("gated_metadata_read",),
    "skipped_metadata_read": ("skipped_metadata_read", "gated_metadata_read"),
    "random_metadata_fill": ("random_metadata_fill", "random_metadata_write", "metadata_fill", "metadata_write"),
    "gated_metadata_fill": ("gated_metadata_fill", "gated_metadata_write"),
    "skipped_metadata_fill": ("skipped_metadata_fill", "skipped_metadata_write", "gated_metadata_fill",
                              "gated_metadata_write"),
    "random_metadata_update": ("random_metadata_update", "random_metadata_write", "metadata_update",
                               "metadata_write"),
    "gated_metadata_update": ("gated_metadata_update", "gated_metadata_write"),
    "skipped_metadata_update": ("skipped_metadata_update", "skipped_metadata_write", "gated_metadata_update",
                                "gated_metadata_write"),
    "decompression_count": ("decompression_count",), "compression_count": ("compression_count",),
    "leak": ("leak",),
}
"""Sparseloop action -> the ERT action names it takes its energy from, first found wins."""
COMPUTE_FALLBACKS = {
    "random_compute": ("mac_random", "mult_random", "mac", "mult", "compute"),
    "gated_compute": ("mac_gated", "mult_gated", "compute_gated", "mac", "mult", "compute"),
    "skipped_compute": ("mac_skipped", "mult_skipped", "compute_skipped", "mac_gated", "mult_gated",
                        "compute_gated", "mac", "mult", "compute"),
}


def action_energies(ert: dict[str, float]) -> dict[str, float]:
    """Energy (pJ per vector access) of every Sparseloop storage action from one component's ERT
    actions: a missing data read / fill / update costs the largest of them (Timeloop's vector
    access energy), any other missing action 0."""
    data = [ert[a] for a in ("read", "write", "update", "random_read", "random_fill", "random_update",
                             "fill", "random_write") if a in ert]
    out = {}
    for op, names in ERT_FALLBACKS.items():
        found = next((ert[n] for n in names if n in ert), None)
        if found is None:
            found = max(data, default=0.0) if op in ("random_read", "random_fill", "random_update") else 0.0
        out[op] = found
    return out


def compute_energies(ert: dict[str, float]) -> dict[str, float]:
    """Energy (pJ) of an actual / gated / skipped compute from the MAC's ERT actions."""
    return {op: next((ert[n] for n in names if n in ert), 0.0) for op, names in COMPUTE_FALLBACKS.items()}


@dataclass(frozen=True)
class Loop:
    """One loop of the mapping: a problem rank, its bound and whether it is a spatial fan-out."""

    rank: str
    bound: int
    spatial: bool = False


@dataclass(frozen=True)
class StorageSpec:
    """One storage level as Sparseloop sees it (``loops``: its subnest, innermost first)."""

    name: str
    loops: tuple[Loop, ...]
    word_bits: int
    block_size: int = 1
    metadata_word_bits: int = 0
    metadata_storage_width: int = 0
    read_bandwidth: float | None = None
    write_bandwidth: float | None = None
    shared_bandwidth: float | None = None
    energy_pj: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SafSpec:
    """A storage action optimisation: ``kind`` (``gate``/``skip``) reads of ``target`` at level
    ``level`` when every one of ``condition_on``'s tiles is empty; one group may offer several
    (target, condition_on) options, of which the one saving most energy is taken."""

    level: int
    kind: str
    options: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class DenseCounts:
    """A tensor's dense (algorithmic) tile size and per-instance accesses at one level."""

    shape: int
    reads: int
    fills: int
    updates: int
    instances: int = 1


@dataclass(frozen=True)
class SparseDesign:
    """Everything ``analyse`` needs. Levels are indexed innermost first (Timeloop's storage order)."""

    tensors: tuple[Tensor, ...]
    densities: dict[str, DensityModel]
    levels: tuple[StorageSpec, ...]
    dense: dict[tuple[int, str], DenseCounts]
    formats: dict[tuple[int, str], tuple[RankFormat, ...]]
    safs: tuple[SafSpec, ...]
    algorithmic_computes: int
    compute_energy_pj: dict[str, float]
    compute_instances: int = 1
    gate_on_zero_operand: bool = False
    skip_on_not_aligned_operands: bool = False
    leakage_pj_per_cycle: dict[int, float] = field(default_factory=dict)


@dataclass
class TensorStats:
    """Sparseloop's statistics of one tensor at one level (counts per instance; ``energy_pj`` total).

    ``accesses[(kind, action)]`` with kind in random (actual) / gated / skipped and action in
    read / fill / update; ``format_accesses[(kind, action)]`` per rank (rank 0 innermost) a
    (metadata, payload) pair; ``metadata_capacity`` the same pairs for the largest tile."""

    level: str
    tensor: str
    shape: int
    algorithmic: dict[str, int]
    accesses: dict[tuple[str, str], int]
    format_accesses: dict[tuple[str, str], list[tuple[int, int]]]
    data_capacity: int
    metadata_capacity: list[tuple[int, int]]
    formats: tuple[str, ...]
    energy_pj: float = 0.0


@dataclass(frozen=True)
class SparseResult:
    """The outcome of ``analyse``: per (level, tensor) statistics, computes, cycles and energy (pJ)."""

    tensors: dict[tuple[str, str], TensorStats]
    algorithmic_computes: int
    actual_computes: int
    gated_computes: int
    skipped_computes: int
    compute_cycles: int
    level_cycles: dict[str, int]
    cycles: int
    mac_energy_pj: float
    leakage_pj_by_level: dict[str, float]

    @property
    def energy_pj(self) -> float:
        return self.mac_energy_pj + sum(t.energy_pj for t in self.tensors.values()) + \
            sum(self.leakage_pj_by_level.values())


@dataclass
class _Rec:
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
    fine: dict[tuple[str, str], int] = field(default_factory=dict)
    fine_format: dict[tuple[str, str], list[list[int]]] = field(default_factory=dict)

    @property
    def has_metadata(self) -> bool:
        return bool(self.formats)

    @property
    def compressed(self) -> bool:
        return any(f.compressed for f in self.formats)


def _extents(levels: tuple[StorageSpec, ...], level: int, loop_id: int) -> dict[str, int]:
    """Per rank, the extent of the tile under and including loop ``loop_id`` of ``level``."""
    ext: dict[str, int] = {}
    for lv in range(level + 1):
        loops = levels[lv].loops if lv < level else levels[lv].loops[:loop_id + 1]
        for loop in loops:
            ext[loop.rank] = ext.get(loop.rank, 1) * loop.bound
    return ext


def _assign_ranks(design: SparseDesign, recs: dict[tuple[int, str], _Rec], level: int, name: str) -> None:
    """Sparseloop's outer-to-inner assignment of a tile's ranks to loops (sets the ranks' loops,
    fiber shapes and sub-tile sizes). A tile without a format is one rank over all its loops (what a
    compressed parent that pre-tiles inherits); a rank with ``flattened_rankIDs`` takes the
    consecutive loops over the flattened ranks."""
    rec = recs[(level, name)]
    t = rec.tensor
    where = f"{design.levels[level].name}: {name}"
    child = recs.get((rec.child, name)) if rec.child is not None else None
    inner_most = 0 if rec.child is None else rec.child + 1
    pre_tiling = rec.compressed and child is not None and child.dense.shape > 1
    n_ranks = len(rec.formats) if rec.has_metadata else 1
    sub: list[Loop] = []
    sub_tiles: list[int] = []
    for lv in range(inner_most, level + 1):
        for i, loop in enumerate(design.levels[lv].loops):
            if loop.rank in t.ranks:
                sub.append(loop)
                sub_tiles.append(t.footprint(_extents(design.levels, lv, i)))
    if not pre_tiling:
        below: dict[str, int] = {}
        for lv in range(inner_most):
            for loop in design.levels[lv].loops:
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
        rank, tile = [loop], sub_tiles[loop_id]
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
        tiles.insert(0, sub_tiles[0] if sub_tiles else 1)
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
    for loops in ranks:
        ext: dict[str, int] = {}
        for loop in loops:
            ext[loop.rank] = ext.get(loop.rank, 1) * loop.bound
        rec.fiber_shape.append(t.footprint(ext))


def _metadata_given(rec: _Rec, level: StorageSpec, density: DensityModel, occupancy: Any) -> list[RankOccupancy]:
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


def _expected_occupancy(recs: dict[tuple[int, str], _Rec], design: SparseDesign, level: int, name: str) -> None:
    """Sparseloop's expected data and metadata occupancy of a tile (over the occupancies its density
    model allows; a tile under a parent with metadata is conditioned on being non-empty) and its
    metadata reads / fills / updates."""
    rec = recs[(level, name)]
    density = _model(design, name)
    shape = rec.dense.shape
    lo, hi = density.min_occupancy(shape), density.max_occupancy(shape)
    occ = np.arange(lo, hi + 1)
    probs = np.atleast_1d(np.asarray(density.occupancy_probability(shape, occ), dtype=float))
    keep = probs != 0
    occ, probs = occ[keep], probs[keep]
    parent = recs.get((rec.parent, name)) if rec.parent is not None else None
    if parent is not None and parent.has_metadata and lo == 0 and len(probs):
        scale = 1 - probs[0]  # Sparseloop drops its first (empty-tile) outcome and renormalises
        probs = probs / scale if scale > 0 else np.zeros_like(probs)
        probs[0] = 0.0
    total = float(np.sum(probs * occ))
    occupancy: list[RankOccupancy] = []
    if rec.has_metadata and len(occ):
        for ro in _metadata_given(rec, design.levels[level], density, occ):
            md = np.broadcast_to(np.asarray(ro.metadata_units, dtype=float), occ.shape)
            pl = np.broadcast_to(np.asarray(ro.payload_units, dtype=float), occ.shape)
            occupancy.append(RankOccupancy(float(np.sum(md * probs)), float(np.sum(pl * probs)),
                                           ro.metadata_word_bits, ro.payload_word_bits, ro.empty))
    rec.expected_density = total / shape
    rec.occupancy = occupancy
    ratios = {"read": rec.dense.reads / shape, "fill": rec.dense.fills / shape, "update": rec.dense.updates / shape}
    rec.format_counts = {a: [[math.ceil(o.metadata_units * ratios[a]), math.ceil(o.payload_units * ratios[a])]
                             for o in occupancy] for a in ACCESSES}


def _model(design: SparseDesign, name: str) -> DensityModel:
    """The density model of tensor ``name`` (dense: fixed 1.0)."""
    return design.densities.get(name, FixedStructured(1.0))


def _cond_probability(design: SparseDesign, recs: dict[tuple[int, str], _Rec], level: int, target: str,
                      condition_on: tuple[str, ...]) -> tuple[int, float]:
    """(level holding ``target``, probability that its reads at that level are ineffectual)."""
    tensors = {t.name: t for t in design.tensors}
    target_level = next((lv for lv in range(level, len(design.levels)) if (lv, target) in recs), None)
    if target_level is None:
        raise ValueError(f"{design.levels[level].name}: no level at or above keeps {target}")
    rec = recs[(target_level, target)]
    child = -1 if rec.child is None else rec.child
    t = tensors[target]
    found = None
    scalar = False
    for lv in range(child + 1, target_level + 1):
        loops = design.levels[lv].loops
        for i, loop in enumerate(loops):
            if child != -1:
                if loop.bound > 1 and loop.rank in t.ranks:
                    found = (lv, i)
            else:
                nxt = loops[i + 1] if i + 1 < len(loops) else None
                if nxt is None or not nxt.spatial:
                    found = (lv, i)
                    scalar = not loop.spatial
                elif loop.rank in t.ranks and loop.bound > 1:
                    found = (lv, i)
            if found:
                break
        if found:
            break
    if found is None:
        found = (target_level, len(design.levels[target_level].loops) - 1)
    lv, i = found
    target_loop = design.levels[lv].loops[i]
    mold = {} if scalar else _extents(design.levels, lv, i)
    # loops above the target loop whose iterations share one condition: spatial ones (and, above a
    # spatial target loop, the temporal loops over other ranks up to the next one over the target's)
    relevant = [target_loop]
    default_cond = dict(mold)
    upper_found = not target_loop.spatial
    for level_id in range(lv, target_level + 1):
        for uloop in design.levels[level_id].loops[(i + 1 if level_id == lv else 0):]:
            if uloop.bound <= 1:
                continue
            other = not upper_found and not uloop.spatial and child != -1 and uloop.rank not in t.ranks
            if uloop.spatial or other:
                default_cond[uloop.rank] = default_cond.get(uloop.rank, 1) * uloop.bound
                relevant.append(uloop)
            if target_loop.spatial and not uloop.spatial and (child == -1 or uloop.rank in t.ranks):
                upper_found = True
    block = design.levels[target_level].block_size
    p_effectual = 1.0
    for cond in condition_on:
        co_iterated = t.ranks & tensors[cond].ranks
        factors: dict[str, int] = {}
        ineffective = False
        for rloop in ([] if scalar else relevant):
            if target_loop.spatial and factors and rloop.rank in tensors[cond].ranks:
                ineffective = True
                break
            if rloop.rank in co_iterated:
                factors[rloop.rank] = factors.get(rloop.rank, 1) * rloop.bound
        if ineffective:
            continue
        aggregate = math.prod(factors.values())
        target_mold = dict(mold)
        cond_mold = dict(default_cond)
        granularity = t.footprint(target_mold)
        scaling: float = math.ceil(block / (granularity / aggregate))
        for rank, f in factors.items():
            eff = f / scaling
            target_mold[rank] = math.ceil(target_mold.get(rank, 1) / eff)
            cond_mold[rank] = math.ceil(cond_mold.get(rank, 1) / eff)
            scaling = scaling / f
        if scaling > 1:
            cond_mold[target_loop.rank] = int(cond_mold.get(target_loop.rank, 1) * scaling)
        cond_size = tensors[cond].footprint(cond_mold)
        p_effectual *= 1 - float(_model(design, cond).prob_empty(cond_size))
    return target_level, 1 - p_effectual


def _apply_local(rec: _Rec, p: float, kind: str, *, read_write: bool, child_ranks: int) -> None:
    """Sparseloop's local gating / skipping of a share ``p`` of a level's reads and updates."""
    reads = rec.fine[("random", "read")]
    delta = math.ceil(reads * p) if read_write else math.floor(reads * p)
    rec.fine[(kind, "read")] += delta
    rec.fine[("random", "read")] = reads - delta
    updates = rec.fine[("random", "update")]
    delta = math.floor(updates * p)
    rec.fine[(kind, "update")] += delta
    rec.fine[("random", "update")] = updates - delta
    for action in ("read", "update"):
        actual = rec.fine_format[("random", action)]
        for r in range(min(child_ranks, len(actual))):
            for j in range(2):
                d = math.floor(actual[r][j] * p)
                actual[r][j] -= d
                rec.fine_format[(kind, action)][r][j] += d


def _scale_rank0(counts: list[list[int]], p: float, lower: int) -> None:
    """Sparseloop's ``ScalePerTileFormatAccesses(x, p, lower, 0)``: only rank 0, only when ``lower`` is 0."""
    for r in range(lower, 1):
        counts[r][0] -= math.floor(counts[r][0] * p)
        counts[r][1] -= math.floor(counts[r][1] * p)


def analyse(design: SparseDesign) -> SparseResult:
    """Sparseloop's statistics of ``design`` (see the module docstring)."""
    n_levels = len(design.levels)
    recs: dict[tuple[int, str], _Rec] = {}
    for t in design.tensors:
        kept = [lv for lv in range(n_levels) if (lv, t.name) in design.dense and design.dense[(lv, t.name)].shape]
        for j, lv in enumerate(kept):
            recs[(lv, t.name)] = _Rec(tensor=t, dense=design.dense[(lv, t.name)],
                                      formats=design.formats.get((lv, t.name), ()),
                                      child=kept[j - 1] if j else None,
                                      parent=kept[j + 1] if j + 1 < len(kept) else None)
    for (lv, name) in design.formats:
        if (lv, name) not in recs:
            raise ValueError(f"{design.levels[lv].name}: a format for {name}, which this mapping does not keep there")
    # 1. representation
    for t in design.tensors:
        for lv in range(n_levels):
            if (lv, t.name) in recs:
                _assign_ranks(design, recs, lv, t.name)
    for (lv, name) in recs:
        _expected_occupancy(recs, design, lv, name)
    for rec in recs.values():
        d = rec.dense
        rec.fine = {(k, a): 0 for k in KINDS for a in ACCESSES}
        rec.fine.update({("random", "read"): d.reads, ("random", "fill"): d.fills, ("random", "update"): d.updates})
        rec.fine_format = {(k, a): [[0, 0] for _ in rec.occupancy] for k in KINDS for a in ACCESSES}
    # 2. storage gating / skipping
    masks: dict[tuple[int, str], tuple[str, float]] = {}
    for kind in ("gate", "skip"):
        for saf in design.safs:
            if saf.kind != kind:
                continue
            best = None
            for target, cond in saf.options:
                target_level, p = _cond_probability(design, recs, saf.level, target, cond)
                rec = recs[(target_level, target)]
                level = design.levels[target_level]
                occupancy = rec.expected_density * rec.dense.shape
                md = level.metadata_word_bits / level.word_bits
                occupancy += sum(o.metadata_units + o.payload_units for o in rec.occupancy) * md
                savings = level.energy_pj.get("random_read", 0.0) / level.block_size * occupancy * p
                if best is None or savings >= best[0]:
                    best = (savings, target_level, target, p)
            assert best is not None
            _, target_level, target, p = best
            old = masks.get((target_level, target))
            if old is None or old[1] < p:
                masks[(target_level, target)] = (kind, p)
    # 3. combine: representation, then explicit optimisations
    rw = {t.name: t.read_write for t in design.tensors}
    for rec in recs.values():
        if rec.has_metadata:
            sparsity = 1 - rec.expected_density
            d = rec.dense
            rec.fine[("random", "read")] = d.reads - math.floor(d.reads * sparsity)
            rec.fine[("random", "fill")] = d.fills - math.floor(d.fills * sparsity)
            if rw[rec.tensor.name]:
                rec.fine[("random", "update")] = d.updates - math.floor(d.updates * sparsity)
    maxima = {key: {a: rec.fine[("random", a)] for a in ACCESSES} for key, rec in recs.items()}
    fmt_max = {key: {a: [list(x) for x in rec.format_counts[a]] for a in ACCESSES} for key, rec in recs.items()}
    computes = float(design.algorithmic_computes)
    finalised: set[tuple[int, str]] = set()
    storage_saf: dict[str, float] = {}

    def finalise(key: tuple[int, str]) -> None:
        rec = recs[key]
        for a in ACCESSES:
            rec.fine[("random", a)] = maxima[key][a]
        rec.fine_format[("random", "fill")] = fmt_max[key]["fill"]
        rec.fine_format[("random", "read")] = fmt_max[key]["read"]
        rec.fine_format[("random", "update")] = fmt_max[key]["update"]

    for t in design.tensors:
        for lv in reversed(range(n_levels)):
            if (lv, t.name) not in masks or (lv, t.name) not in recs:
                continue
            kind, p = masks[(lv, t.name)]
            label = "gated" if kind == "gate" else "skipped"
            below = lv - 1
            while below >= 0:
                key = (below, t.name)
                if key in recs:
                    for a in ACCESSES:
                        maxima[key][a] -= math.floor(maxima[key][a] * p)
                    if recs[key].has_metadata:
                        top = len(fmt_max[(lv, t.name)]["read"]) - 1
                        _scale_rank0(fmt_max[key]["fill"], p, min(len(fmt_max[key]["fill"]), top))
                        _scale_rank0(fmt_max[key]["read"], p, min(len(fmt_max[key]["read"]), top))
                        _scale_rank0(fmt_max[key]["update"], p, len(fmt_max[key]["update"]))
                    if key in masks:
                        local_kind, local_p = masks[key]
                        effective = 1 - (1 - local_p) / (1 - p)
                        finalise(key)
                        # Sparseloop sets the actual metadata reads to the updates here (kept as it does)
                        recs[key].fine_format[("random", "read")] = fmt_max[key]["update"]
                        _apply_local(recs[key], effective, "gated" if local_kind == "gate" else "skipped",
                                     read_write=rw[t.name], child_ranks=_child_ranks(recs, key))
                        finalised.add(key)
                        break
                below -= 1
            key = (lv, t.name)
            if key not in finalised:
                finalised.add(key)
                finalise(key)
                _apply_local(recs[key], p, label, read_write=rw[t.name], child_ranks=_child_ranks(recs, key))
            if below < 0 and not rw[t.name]:
                computes -= math.floor(computes * p)
                storage_saf[t.name] = round(p * 1e6) / 1e6
    for key in recs:
        if key not in masks:
            finalise(key)
    # decompression / compression counts
    counts: dict[tuple[int, str], dict[str, int]] = {key: {"decompression_count": 0, "compression_count": 0}
                                                     for key in recs}
    for key, rec in recs.items():
        if rec.compressed or rec.parent is None:
            continue
        parent = recs[(rec.parent, key[1])]
        if parent.compressed:
            if rw[key[1]]:
                counts[key]["compression_count"] += parent.fine[("random", "update")]
            counts[key]["decompression_count"] += rec.fine[("random", "fill")]
    # 4. computes
    actual, gated, skipped = _computes(design, recs, computes, storage_saf)
    compute_cycles = math.ceil((actual + gated) / design.compute_instances)
    # 5. statistics, energy, cycles
    stats: dict[tuple[str, str], TensorStats] = {}
    level_cycles: dict[str, int] = {}
    leakage: dict[str, float] = {}
    per_level: dict[int, list[tuple[_Rec, int]]] = {}
    for key, rec in recs.items():
        per_level.setdefault(key[0], []).append((rec, key[0]))
    for lv in range(n_levels):
        level = design.levels[lv]
        read_words = write_words = 0.0
        for rec, _ in per_level.get(lv, []):
            name = rec.tensor.name
            bits = {a: {k: sum(o.metadata_word_bits * c[0] + o.payload_word_bits * c[1]
                               for o, c in zip(rec.occupancy, rec.fine_format[(k, a)], strict=True))
                        for k in KINDS} for a in ACCESSES}
            energy = 0.0
            ratio = _vector_ratio(rec, _model(design, name), level.block_size)
            for k in KINDS:
                for a in ACCESSES:
                    n = rec.fine[(k, a)]
                    vec = math.ceil(n / level.block_size) * ratio if n else 0
                    energy += vec * level.energy_pj.get(f"{k}_{a}", 0.0)
                    if level.metadata_storage_width:
                        energy += math.ceil(bits[a][k] / level.metadata_storage_width) * \
                            level.energy_pj.get(f"{k}_metadata_{a}", 0.0)
            for op, n in counts[(lv, name)].items():
                energy += n * level.energy_pj.get(op, 0.0)
            reads = rec.fine[("random", "read")] + rec.fine[("gated", "read")] + \
                (bits["read"]["random"] + bits["read"]["gated"]) // level.word_bits
            writes = sum(rec.fine[(k, a)] for k in ("random", "gated") for a in ("fill", "update")) + \
                sum(bits[a][k] for k in ("random", "gated") for a in ("fill", "update")) // level.word_bits
            read_words += reads / compute_cycles if compute_cycles else 0.0
            write_words += writes / compute_cycles if compute_cycles else 0.0
            density = _model(design, name)
            capacity = density.max_occupancy(rec.dense.shape) if rec.compressed else rec.dense.shape
            md_cap = []
            if rec.has_metadata:
                md_cap = [(math.ceil(o.metadata_units), math.ceil(o.payload_units))
                          for o in _metadata_given(rec, level, density, density.max_occupancy(rec.dense.shape))]
            stats[(level.name, name)] = TensorStats(
                level=level.name, tensor=name, shape=rec.dense.shape,
                algorithmic={"read": rec.dense.reads, "fill": rec.dense.fills, "update": rec.dense.updates},
                accesses=dict(rec.fine),
                format_accesses={k: [(int(c[0]), int(c[1])) for c in v] for k, v in rec.fine_format.items()},
                data_capacity=capacity, metadata_capacity=md_cap,
                formats=tuple(f.name for f in reversed(rec.formats)),
                energy_pj=energy * rec.dense.instances)
        slowdown = 1.0
        if level.read_bandwidth is not None and level.read_bandwidth < read_words:
            slowdown = min(slowdown, level.read_bandwidth / read_words)
        if level.write_bandwidth is not None and level.write_bandwidth < write_words:
            slowdown = min(slowdown, level.write_bandwidth / write_words)
        if level.shared_bandwidth is not None and level.shared_bandwidth < read_words + write_words:
            slowdown = min(slowdown, level.shared_bandwidth / (read_words + write_words))
        level_cycles[level.name] = math.ceil(compute_cycles / slowdown)
    cycles = max([compute_cycles, *level_cycles.values()])
    for lv, pj in design.leakage_pj_per_cycle.items():
        leakage[design.levels[lv].name] = pj * cycles
    ce = design.compute_energy_pj
    mac = actual * ce.get("random_compute", 0.0) + gated * ce.get("gated_compute", 0.0) + \
        skipped * ce.get("skipped_compute", 0.0)
    return SparseResult(tensors=stats, algorithmic_computes=design.algorithmic_computes, actual_computes=actual,
                        gated_computes=gated, skipped_computes=skipped, compute_cycles=compute_cycles,
                        level_cycles=level_cycles, cycles=cycles, mac_energy_pj=mac, leakage_pj_by_level=leakage)


VECTOR_THRESHOLDS = {2: (251, 125, 84, 63, 51, 42, 36, 32, 28, 1), 4: (375, 188, 125, 94, 75, 63, 54, 47, 42, 1),
                     8: (438, 219, 146, 110, 88, 73, 63, 55, 49, 1), 16: (469, 235, 157, 118, 94, 79, 67, 59, 52, 1),
                     32: (485, 243, 162, 122, 97, 81, 70, 61, 52, 1)}
"""Sparseloop's table: per block size and density decile, the tile size (in blocks) below which a
compressed tile's vector accesses are counted from its occupancy distribution."""


def _vector_ratio(rec: _Rec, density: DensityModel, block: int) -> float:
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
    nnz = np.arange(1, shape + 1)
    total = float(np.sum(np.ceil(nnz / block) * density.occupancy_probability(shape, nnz)))
    return total / (shape * mean / block)


def _child_ranks(recs: dict[tuple[int, str], _Rec], key: tuple[int, str]) -> int:
    rec = recs[key]
    src = recs[(rec.child, key[1])] if rec.child is not None else rec
    return len(src.occupancy)


def _computes(design: SparseDesign, recs: dict[tuple[int, str], _Rec], total: float,
              storage_saf: dict[str, float]) -> tuple[int, int, int]:
    """(actual, gated, skipped) computes from the two operands' states (Sparseloop's two-operand path)."""
    operands = [t for t in design.tensors if not t.read_write]
    if len(operands) != 2:
        raise ValueError(f"Sparseloop's compute analysis needs exactly two operands, not {len(operands)}")
    density: dict[str, float] = {}
    metadata: dict[str, bool] = {}
    for t in operands:
        inner = next(rec for (lv, name), rec in sorted(recs.items()) if name == t.name)
        metadata[t.name] = inner.has_metadata
        density[t.name] = round(1e6 * _model(design, t.name).expected_occupancy(1)) / 1e6
    ENZ, EZ, NE = 0, 1, 2  # noqa: N806  exists non-zero, exists zero, does not exist
    states: dict[str, list[float]] = {}
    for name, d in density.items():
        d = round(d * 1e6) / 1e6
        states[name] = [d, 0.0, 1 - d] if metadata[name] else [d, 1 - d, 0.0]
    a, b = (t.name for t in operands)

    def given(op: str, other: str) -> None:
        ratio = 1 - storage_saf[other]
        share = density[op] / ratio
        states[op] = [share, 0.0 if metadata[op] else 1 - share, 1 - share if metadata[op] else 0.0]

    if a in storage_saf and b in storage_saf:
        given(a, b)
        given(b, a)
    elif a in storage_saf:
        given(b, a)
    elif b in storage_saf:
        given(a, b)
    for s in states.values():
        for i, v in enumerate(s):
            if v < -1e-5 or v > 1 + 1e-5:
                raise ValueError(f"operand state probability {v} out of [0, 1]")
            s[i] = min(max(v, 0.0), 1.0)
    pa, pb = states[a], states[b]
    gate, skip = design.gate_on_zero_operand, design.skip_on_not_aligned_operands
    random = total * pa[ENZ] * pb[ENZ]
    gated = skipped = 0.0
    for share, kind in ((pa[ENZ] * pb[EZ] + pa[EZ] * pb[ENZ], "zero"), (pa[ENZ] * pb[NE] + pa[NE] * pb[ENZ], "miss"),
                        (pa[EZ] * pb[EZ], "zero"), (pa[EZ] * pb[NE] + pa[NE] * pb[EZ], "miss")):
        delta = total * share
        if kind == "miss" and skip:
            skipped += delta
        elif gate:
            gated += delta
        else:
            random += delta
    nonexistent = total * pa[NE] * pb[NE]
    actual = total - math.floor(skipped) - math.floor(gated) - math.floor(nonexistent)
    return int(actual), int(math.floor(gated)), int(math.floor(skipped))
