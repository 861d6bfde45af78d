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

from acceldse.mapper.sparse.design import ACCESSES, KINDS, SparseDesign, SparseResult, TensorStats, density_of
from acceldse.mapper.sparse.optimizations import (
    apply_local,
    child_ranks,
    compute_outcomes,
    condition_probability,
    scale_rank0,
)
from acceldse.mapper.sparse.representation import Record, format_counts, represent

ACTIONS = tuple((k, a, f"{k}_{a}", f"{k}_metadata_{a}") for k in KINDS for a in ACCESSES)
"""(kind, access, its data action, its metadata action), in the order their energies add up."""
FINE_KEYS = tuple((k, a) for k in KINDS for a in ACCESSES)
"""Every (kind, access) a tile counts, in Sparseloop's order."""
LOCAL_KEYS = tuple((k, a) for k in ("gated", "skipped") for a in ("read", "update"))
"""The (kind, access) per-rank metadata counts a local gating / skipping adds to."""
NO_BITS = {a: {k: 0 for k in KINDS} for a in ACCESSES}
"""The metadata bits of a tile without metadata."""


def _bits(words: list[tuple[int, int]], counts: list[list[int]]) -> int:
    """Metadata bits of per-rank (metadata, payload) ``counts`` at per-rank (metadata, payload) word ``words``."""
    total = 0
    for (md, pl), (n_md, n_pl) in zip(words, counts, strict=True):
        total += md * n_md + pl * n_pl
    return total


def analyse(design: SparseDesign, *, brief: bool = False) -> SparseResult:
    """Sparseloop's statistics of ``design`` (see the module docstring); ``brief``: without the per-tile
    access listings (``TensorStats.accesses`` and ``format_accesses`` left empty: a search needs only the
    cycles, energies and capacities)."""
    n_levels = len(design.levels)
    recs: dict[tuple[int, str], Record] = {}
    for t in design.tensors:
        kept = [lv for lv in range(n_levels) if (lv, t.name) in design.dense and design.dense[(lv, t.name)].shape]
        for j, lv in enumerate(kept):
            recs[(lv, t.name)] = Record(tensor=t, dense=design.dense[(lv, t.name)],
                                      formats=design.formats.get((lv, t.name), ()),
                                      child=kept[j - 1] if j else None,
                                      parent=kept[j + 1] if j + 1 < len(kept) else None)
    for (lv, name) in design.formats:
        if (lv, name) not in recs:
            raise ValueError(f"{design.levels[lv].name}: a format for {name}, which this mapping does not keep there")
    # 1. representation
    cache = design.cache
    for t in design.tensors:
        ranks = t.ranks  # its tiles read only the loops over its ranks
        loops = tuple(tuple(loop for loop in level.loops if loop.rank in ranks) for level in design.levels)
        levels = [lv for lv in range(n_levels) if (lv, t.name) in recs]
        tiles = [recs[(lv, t.name)] for lv in levels]
        # what step 1 derives for a tensor depends only on its loops and where it keeps which tile
        tensor_key = ("tensor", t.name, loops,
                      tuple((lv, rec.dense.shape) for lv, rec in zip(levels, tiles, strict=True)))
        hit = cache.get(tensor_key) if cache is not None else None
        if hit is None:
            for lv in levels:
                represent(design, recs, lv, t.name, loops)
            if cache is not None:
                cache[tensor_key] = [(rec.rank_loops, rec.subtile, rec.fiber_shape, rec.expected_density, rec.occupancy,
                               rec.vector_ratio, rec.largest) for rec in tiles]
        else:
            for rec, fields in zip(tiles, hit, strict=True):
                (rec.rank_loops, rec.subtile, rec.fiber_shape, rec.expected_density, rec.occupancy,
                 rec.vector_ratio, rec.largest) = fields
                format_counts(rec)
    for rec in recs.values():
        d = rec.dense
        rec.fine = dict.fromkeys(FINE_KEYS, 0)
        rec.fine.update({("random", "read"): d.reads, ("random", "fill"): d.fills, ("random", "update"): d.updates})
        n_ranks = len(rec.occupancy)
        rec.fine_format = dict.fromkeys(FINE_KEYS, [[0, 0]] * n_ranks)  # read only: zeros; replaced when counted
        for local in LOCAL_KEYS:  # ``apply_local`` adds to these in place
            rec.fine_format[local] = [[0, 0] for _ in range(n_ranks)]
    # 2. storage gating / skipping
    masks: dict[tuple[int, str], tuple[str, float]] = {}
    for kind in ("gate", "skip"):
        for saf in design.safs:
            if saf.kind != kind:
                continue
            best = None
            for target, cond in saf.options:
                target_level, p = condition_probability(design, recs, saf.level, target, cond)
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
                        scale_rank0(fmt_max[key]["fill"], p, min(len(fmt_max[key]["fill"]), top))
                        scale_rank0(fmt_max[key]["read"], p, min(len(fmt_max[key]["read"]), top))
                        scale_rank0(fmt_max[key]["update"], p, len(fmt_max[key]["update"]))
                    if key in masks:
                        local_kind, local_p = masks[key]
                        effective = 1 - (1 - local_p) / (1 - p)
                        finalise(key)
                        # Sparseloop sets the actual metadata reads to the updates here (kept as it does)
                        recs[key].fine_format[("random", "read")] = fmt_max[key]["update"]
                        apply_local(recs[key], effective, "gated" if local_kind == "gate" else "skipped",
                                     read_write=rw[t.name], child_ranks=child_ranks(recs, key))
                        finalised.add(key)
                        break
                below -= 1
            key = (lv, t.name)
            if key not in finalised:
                finalised.add(key)
                finalise(key)
                apply_local(recs[key], p, label, read_write=rw[t.name], child_ranks=child_ranks(recs, key))
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
    actual, gated, skipped = compute_outcomes(design, recs, computes, storage_saf)
    compute_cycles = math.ceil((actual + gated) / design.compute_instances)
    # 5. statistics, energy, cycles
    stats: dict[tuple[str, str], TensorStats] = {}
    level_cycles: dict[str, int] = {}
    leakage: dict[str, float] = {}
    per_level: dict[int, list[tuple[Record, int]]] = {}
    for key, rec in recs.items():
        per_level.setdefault(key[0], []).append((rec, key[0]))
    for lv in range(n_levels):
        level = design.levels[lv]
        epj, block, md_width = level.energy_pj, level.block_size, level.metadata_storage_width
        read_words = write_words = 0.0
        for rec, _ in per_level.get(lv, []):
            name = rec.tensor.name
            fine = rec.fine
            bits = NO_BITS
            if rec.occupancy:
                words = [(o.metadata_word_bits, o.payload_word_bits) for o in rec.occupancy]
                ff = rec.fine_format
                bits = {a: {k: _bits(words, ff[(k, a)]) for k in KINDS} for a in ACCESSES}
            energy = 0.0
            ratio = rec.vector_ratio
            for k, a, data_action, metadata_action in ACTIONS:  # a zero count adds nothing (skipped)
                n = fine[(k, a)]
                if n:
                    energy += math.ceil(n / block) * ratio * epj.get(data_action, 0.0)
                if md_width and bits[a][k]:
                    energy += math.ceil(bits[a][k] / md_width) * epj.get(metadata_action, 0.0)
            for op, n in counts[(lv, name)].items():
                if n:
                    energy += n * epj.get(op, 0.0)
            reads = rec.fine[("random", "read")] + rec.fine[("gated", "read")] + \
                (bits["read"]["random"] + bits["read"]["gated"]) // level.word_bits
            writes = sum(rec.fine[(k, a)] for k in ("random", "gated") for a in ("fill", "update")) + \
                sum(bits[a][k] for k in ("random", "gated") for a in ("fill", "update")) // level.word_bits
            read_words += reads / compute_cycles if compute_cycles else 0.0
            write_words += writes / compute_cycles if compute_cycles else 0.0
            density = density_of(design, name)
            capacity = density.max_occupancy(rec.dense.shape) if rec.compressed else rec.dense.shape
            md_cap = []
            md_bits = 0
            if rec.has_metadata:
                largest = rec.largest
                md_cap = [(math.ceil(o.metadata_units), math.ceil(o.payload_units)) for o in largest]
                md_bits = math.ceil(sum(o.metadata_units * o.metadata_word_bits + o.payload_units * o.payload_word_bits
                                        for o in largest))
            stats[(level.name, name)] = TensorStats(
                level=level.name, tensor=name, shape=rec.dense.shape,
                algorithmic={"read": rec.dense.reads, "fill": rec.dense.fills, "update": rec.dense.updates},
                accesses={} if brief else dict(rec.fine),
                format_accesses={} if brief else {k: [(int(c[0]), int(c[1])) for c in v]
                                                  for k, v in rec.fine_format.items()},
                data_capacity=capacity, metadata_capacity=md_cap, metadata_capacity_bits=md_bits,
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
