"""Fused mappings of a cascade onto compute units sharing a buffer, and their cost.

A ``FusedMapping`` says

* ``groups``: which Einsums run fused together (groups run one after another, like kernels), each
  with its outer (DRAM-level) ``loops`` over shared ranks, outermost first, and the on-chip ``tiles``
  of those ranks (e.g. FuseMax: loops ``B, H, P, M1`` with a query tile ``P: 32768`` and one key tile
  of ``M0`` keys per ``M1`` step); ranks not in ``loops`` are whole on chip;
* ``binding``: which compute unit runs each Einsum, and ``spatial``: which ranks each Einsum spreads
  over each axis of its unit (e.g. ``QK: {x: [P], y: [M0]}`` on a 256x256 array);
* ``keep``: where each tensor lives: ``unit`` (PE registers, handed from Einsum to Einsum),
  ``buffer`` (the global buffer; a tensor from DRAM is staged there once per tile) or ``dram``
  (streamed from DRAM for every block the array works on: no buffer space, more traffic);
* ``inner``: per Einsum, the temporal ranks innermost first (default: its reductions, then the rest;
  an operand not indexed by the innermost ranks stays in the PE's registers across them);
* ``stages``: the pipeline of each group: the Einsums of a stage run concurrently on their units,
  stages one after another (FuseMax's waterfall); empty = every Einsum of the group overlaps.

Cost (``evaluate_fused``), counted like the single-Einsum model (docs/mapper.md) at three levels:

* compute: an Einsum's cycles = iterations (``ceil(tile / spatial)`` per rank) x cycles per point
  (its operators on the unit, the busiest functional unit); a group's compute latency = sum over
  stages of the busiest unit's cycles in that stage; its latency = max(compute, DRAM bytes /
  bandwidth) (units and DRAM overlap); the cascade's = the sum over groups;
* traffic: an operand's words pulled into the unit = points / multicast (spatial factors of ranks it
  does not index) / temporal reuse (innermost temporal ranks it does not index, reductions
  innermost); they come from the buffer or, when kept in ``dram``, from DRAM. A staged tensor is
  fetched from DRAM once per change of its tile (the product of the outer loops down to the
  innermost one indexing it, as Timeloop counts tile changes). Outputs are written once per outer
  step of a reduced rank. A buffer over capacity is illegal, unless ``spill`` lets the excess
  fraction of its intermediates go to DRAM (written and read back);
* energy: points x operator pJ + register-file accesses + buffer words x pJ per word + DRAM bytes x
  pJ per byte + leakage (PEs x pJ per cycle + buffer) x latency.

Utilisation of a unit = its busy PE-cycles / (PEs x latency); its stall = latency - busy cycles.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from acceldse.simulator.specs.fused import ComputeUnit, FusedHardware
from acceldse.workloads.cascade import Cascade, Einsum
from acceldse.workloads.errors import SpecError

LEVELS: tuple[str, ...] = ("unit", "buffer", "dram")


@dataclass(frozen=True)
class FusedGroup:
    """Einsums fused together (module docstring)."""

    einsums: tuple[str, ...]
    loops: tuple[str, ...] = ()
    tiles: dict[str, int] = field(default_factory=dict)
    stages: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class FusedMapping:
    """A mapping of a whole cascade (module docstring)."""

    groups: tuple[FusedGroup, ...]
    binding: dict[str, str]
    spatial: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    keep: dict[str, str] = field(default_factory=dict)
    spill: bool = False
    name: str = "mapping"
    inner: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "spill": self.spill, "binding": dict(self.binding),
                "keep": dict(self.keep), "inner": {e: list(r) for e, r in self.inner.items()},
                "spatial": {e: {a: list(r) for a, r in ax.items()} for e, ax in self.spatial.items()},
                "groups": [{"einsums": list(g.einsums), "loops": list(g.loops), "tiles": dict(g.tiles),
                            "stages": [list(s) for s in g.stages]} for g in self.groups]}


def mapping_from_dict(raw: Any, *, source: str) -> FusedMapping:
    """A ``FusedMapping`` from its YAML/dict form (``FusedMapping.to_dict``)."""
    from acceldse.workloads.errors import require_int
    from acceldse.workloads.spec_io import reject_unknown

    if not isinstance(raw, dict):
        raise SpecError("a mapping must be a mapping", source=source, key="mapping", value=raw)
    reject_unknown(raw, {"name", "spill", "binding", "keep", "spatial", "groups", "inner"}, source=source,
                   prefix="mapping.")
    groups = []
    for i, g in enumerate(raw.get("groups") or []):
        key = f"mapping.groups[{i}]"
        if not isinstance(g, dict) or "einsums" not in g:
            raise SpecError("a group needs 'einsums'", source=source, key=key, value=g)
        reject_unknown(g, {"einsums", "loops", "tiles", "stages"}, source=source, prefix=f"{key}.")
        tiles = {str(r): require_int(v, key=f"{key}.tiles.{r}", source=source)
                 for r, v in (g.get("tiles") or {}).items()}
        groups.append(FusedGroup(tuple(map(str, g["einsums"])), tuple(map(str, g.get("loops") or ())), tiles,
                                 tuple(tuple(map(str, s)) for s in g.get("stages") or ())))
    spatial = {str(e): {str(a): tuple(map(str, r if isinstance(r, list) else [r])) for a, r in ax.items()}
               for e, ax in (raw.get("spatial") or {}).items()}
    return FusedMapping(tuple(groups), {str(k): str(v) for k, v in (raw.get("binding") or {}).items()}, spatial,
                        {str(k): str(v) for k, v in (raw.get("keep") or {}).items()}, bool(raw.get("spill", False)),
                        str(raw.get("name", "mapping")),
                        {str(e): tuple(map(str, r)) for e, r in (raw.get("inner") or {}).items()})


@dataclass
class EinsumCost:
    """One Einsum of a fused mapping: Timeloop-style counts (words) and its energy (pJ)."""

    name: str
    unit: str
    group: int
    points: int
    cycles: int
    spatial_utilisation: float
    counts: dict[str, dict[str, int]]       # tensor -> {dram_reads, dram_writes, buffer_reads, buffer_writes}
    regfile_accesses: int
    compute_pj: float
    access_pj: float

    @property
    def energy_pj(self) -> float:
        return self.compute_pj + self.access_pj


@dataclass(frozen=True)
class FusedCost:
    """Cost of a fused mapping (module docstring); ``einsums`` is the per-Einsum breakdown."""

    cascade: str
    hardware: str
    mapping: str
    cycles: int
    latency_us: float
    energy_pj: float
    dram_bytes: int
    buffer_bytes: int
    spilled_fraction: float
    utilisation: dict[str, float]
    busy_cycles: dict[str, int]
    stall_cycles: dict[str, int]
    group_cycles: tuple[tuple[int, int], ...]      # (compute, memory) cycles per group
    einsums: tuple[EinsumCost, ...]
    energy_breakdown: dict[str, float]

    @property
    def util_2d(self) -> float:
        return next((u for n, u in self.utilisation.items() if "2d" in n), 0.0)

    @property
    def util_1d(self) -> float:
        return next((u for n, u in self.utilisation.items() if "1d" in n), 0.0)

    def table(self) -> pd.DataFrame:
        """One row per Einsum."""
        rows = []
        for e in self.einsums:
            dram = sum(c["dram_reads"] + c["dram_writes"] for c in e.counts.values())
            buf = sum(c["buffer_reads"] + c["buffer_writes"] for c in e.counts.values())
            rows.append({"einsum": e.name, "unit": e.unit, "group": e.group, "points": e.points, "cycles": e.cycles,
                         "spatial_utilisation": e.spatial_utilisation, "dram_words": dram, "buffer_words": buf,
                         "energy_pj": e.energy_pj})
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        return {"latency_us": self.latency_us, "cycles": self.cycles, "energy_pj": self.energy_pj,
                "dram_bytes": self.dram_bytes, "util_2d": self.util_2d, "util_1d": self.util_1d,
                "buffer_bytes": self.buffer_bytes, "spilled_fraction": self.spilled_fraction,
                "stall_cycles": dict(self.stall_cycles), "energy_breakdown_pj": dict(self.energy_breakdown)}


def _spatial_factors(e: Einsum, unit: ComputeUnit, axes: dict[str, tuple[str, ...]], ext: dict[str, int],
                     source: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for axis, ranks in axes.items():
        if axis not in unit.axes:
            raise SpecError(f"unit '{unit.name}' has no axis '{axis}'", source=source, key=f"mapping.spatial.{e.name}",
                            value=axis, accepted=", ".join(unit.axes))
        cap = unit.shape[unit.axes.index(axis)]
        for r in ranks:
            if r not in e.iteration_ranks:
                raise SpecError(f"Einsum {e.name} does not iterate rank {r}", source=source,
                                key=f"mapping.spatial.{e.name}.{axis}", value=r,
                                accepted=", ".join(e.iteration_ranks))
            s = max(1, min(ext[r], cap))
            out[r] = s
            cap = max(1, cap // s)
    return out


_PARTS: dict[tuple, tuple[Cascade, FusedHardware, Any]] = {}
"""Memo of ``_member_record`` (a search evaluates the same Einsum placement many times)."""


def _einsum_part(cascade: Cascade, hw: FusedHardware, e: Einsum, unit: ComputeUnit, mapping: FusedMapping,
                 group: FusedGroup, ext: dict[str, int], count: dict[str, int], levels: dict[str, str],
                 source: str) -> tuple[int, int, dict[str, dict[str, int]], dict[str, Any]]:
    """One Einsum of a group: compute cycles, busy PE-cycles and the words it moves (module docstring)."""
    axes = mapping.spatial.get(e.name, {})
    ops = e.point_ops()
    for op in ops:
        if op not in unit.ops:
            raise SpecError(f"unit '{unit.name}' cannot run operator '{op}' of Einsum {e.name}", source=source,
                            key=f"mapping.binding.{e.name}", value=unit.name, accepted="a unit with " + ", ".join(ops))
    sp = _spatial_factors(e, unit, axes, ext, source)
    iters = 1
    temporal: dict[str, int] = {}
    for r in e.iteration_ranks:
        inner = -(-ext[r] // sp.get(r, 1))
        iters *= count[r] * inner
        temporal[r] = inner
    per_point = unit.point_cycles(ops)
    cyc = iters * per_point
    points = cascade.points(e)
    # temporal order inside the array, innermost first: reduced ranks, then the others
    first = [r for r in mapping.inner.get(e.name, ()) if r in temporal]
    order = [r for r in first if temporal[r] > 1] + \
        [r for r in e.reduced_ranks if temporal[r] > 1 and r not in first] + \
        [r for r in e.output.iterated if temporal[r] > 1 and r not in first]
    counts: dict[str, dict[str, int]] = {}
    for ref in e.inputs:
        t = ref.tensor
        if t == e.output.tensor:
            continue
        lvl = levels[t]
        c = counts.setdefault(t, {"dram_reads": 0, "dram_writes": 0, "buffer_reads": 0, "buffer_writes": 0})
        if lvl == "unit":
            continue
        idx = set(ref.iterated)
        multicast = 1
        for r, f in sp.items():
            if r not in idx:
                multicast *= f
        reuse = 1
        for r in order:
            if r in idx:
                break
            reuse *= temporal[r]
        words = -(-points // (multicast * reuse))
        c["dram_reads" if lvl == "dram" else "buffer_reads"] += words
    out = e.output.tensor
    lvl = levels[out]
    c = counts.setdefault(out, {"dram_reads": 0, "dram_writes": 0, "buffer_reads": 0, "buffer_writes": 0})
    if lvl != "unit":
        partial = 1
        for r in e.reduced_ranks:
            if r in group.loops:
                partial *= count[r]
        words = cascade.tensor_words(out) * partial
        c["dram_writes" if lvl == "dram" else "buffer_writes"] += words
        c["dram_reads" if lvl == "dram" else "buffer_reads"] += words - cascade.tensor_words(out)
    # register file: the operands held in PE registers and the accumulator are read, the result written
    reads = sum(1 for ref in e.inputs if levels[ref.tensor] == "unit" or ref.tensor == e.output.tensor)
    reads += 1 if e.reduced_ranks and e.reduce != "none" else 0
    gc = {"e": e, "unit": unit, "ops": ops, "points": points, "cycles": cyc,
          "sp_util": points * 1.0 / (iters * unit.pes) if iters else 0.0, "compute_pj": points * unit.point_pj(ops),
          "reg": points * (reads + 1), "reg_pj": points * (reads * unit.regfile_read_pj + unit.regfile_write_pj),
          "br": sum(c["buffer_reads"] for c in counts.values()), "bw": sum(c["buffer_writes"] for c in counts.values()),
          "dw": sum(c["dram_reads"] + c["dram_writes"] for c in counts.values())}
    return cyc, points * per_point, counts, gc



def _member_record(cascade: Cascade, hw: FusedHardware, m: Any, unit: ComputeUnit, mapping: FusedMapping,
                   group: FusedGroup, ext: dict[str, int], count: dict[str, int], levels: dict[str, str],
                   tile_words: dict[str, int], fetches: dict[str, int], source: str, key: Any) -> tuple[Any, ...]:
    """One Einsum of a group with what the group charges to it (memoised under ``key``: its
    placement, the group's plan and where its tensors live): (cycles, busy PE-cycles, its own counts,
    its part, (buffer reads, buffer writes, DRAM words) with the staging, the staging moves
    ``(einsum, tensor, words DRAM -> buffer, words buffer -> DRAM)`` (a tensor from another group or
    DRAM is staged once per tile change by its first user; an output another group reads or the
    cascade returns is written back), the buffer words it is first to hold, and those as
    ``(tensor, words)``; an element-wise output overwrites a buffer input it last reads)."""
    cyc, busy_cycles, counts, gc = _einsum_part(cascade, hw, m.e, unit, mapping, group, ext, count, levels, source)
    br, bw, dw = gc["br"], gc["bw"], gc["dw"]
    moves = []
    for t in m.stages_in:
        if levels[t] == "buffer":
            words = tile_words[t] * fetches[t]
            moves.append((m.name, t, words, 0))
            bw += words
            dw += words
    if m.out_leaves and levels[m.out] == "buffer":
        moves.append((m.name, m.out, 0, m.out_words))
        br += m.out_words
        dw += m.out_words
    held = [(t, tile_words[t]) for t in m.holds if levels[t] == "buffer"]
    if m.holds_out and levels[m.out] == "buffer":
        held.append((m.out, 0 if any(levels[t] == "buffer" for t in m.overwrites) else tile_words[m.out]))
    wb = hw.word_bytes
    energy = (gc["compute_pj"], gc["reg_pj"], br * hw.buffer_read_pj + bw * hw.buffer_write_pj,
              dw * wb * hw.dram_pj_per_byte)
    record = (cyc, busy_cycles, counts, gc, (br, bw, dw), tuple(moves), sum(w for _, w in held), tuple(held), energy)
    if key is not None:
        if len(_PARTS) > 200_000:
            _PARTS.clear()
        _PARTS[key] = (cascade, hw, record)
    return record


_STRUCTURE: dict[tuple, tuple[Cascade, Any]] = {}


def _structure(cascade: Cascade, groups: tuple[FusedGroup, ...], source: str) -> tuple[Any, ...]:
    """What the grouping alone decides (memoised; a grouping that misses or repeats an Einsum raises):
    the group of each Einsum; per group, the tensors it reads from outside, its outputs another group
    reads, the last reader in the group of each tensor and the tensors a different group also reads;
    every tensor's level when the mapping does not say (``buffer``) and the tensors that may stay in
    PE registers (neither a cascade input or output nor shared by two groups)."""
    key = (id(cascade), tuple(g.einsums for g in groups))
    hit = _STRUCTURE.get(key)
    if hit is not None and hit[0] is cascade:
        return hit[1]  # type: ignore[no-any-return]
    seen = [n for g in groups for n in g.einsums]
    names = [e.name for e in cascade.einsums]
    if sorted(seen) != sorted(names):
        missing = sorted(set(names) - set(seen)) or sorted({n for n in seen if seen.count(n) > 1 or n not in names})
        raise SpecError("every Einsum must be in exactly one group", source=source, key="mapping.groups",
                        value=missing, accepted=", ".join(names))
    group_of = {n: i for i, g in enumerate(groups) for n in g.einsums}
    per_group = []
    for gi, g in enumerate(groups):
        from_outside = {t for n in g.einsums for t in cascade.einsum(n).tensors[1:]
                        if cascade.producers.get(t) is None or group_of[cascade.producers[t]] != gi}
        read_elsewhere = {t for t, users in cascade.consumers.items() if any(group_of[c] != gi for c in users)}
        last_reader = {t: [c for c in users if group_of[c] == gi][-1] for t, users in cascade.consumers.items()
                       if any(group_of[c] == gi for c in users)}
        per_group.append({"from_outside": from_outside, "read_elsewhere": read_elsewhere,
                          "last_reader": last_reader})
    default_levels = {t: "buffer" for t in (*cascade.inputs, *cascade.producers)}
    edges = {*cascade.inputs, *cascade.outputs}
    may_stay = {t for t, p in cascade.producers.items() if t not in edges
                and len({group_of[p]} | {group_of[c] for c in cascade.consumers.get(t, ())}) == 1}
    allowed = {(t, lvl) for t in default_levels for lvl in ("buffer", "dram")} | {(t, "unit") for t in may_stay}
    got = (group_of, per_group, default_levels, may_stay, allowed)
    if len(_STRUCTURE) > 10_000:
        _STRUCTURE.clear()
    _STRUCTURE[key] = (cascade, got)
    return got


_PLANS: dict[tuple, tuple[Cascade, Any]] = {}
_PLAN_IDS = itertools.count()


@dataclass(frozen=True)
class _Member:
    """What the grouping and tiling decide about one Einsum of a group (``_group_plan``)."""

    e: Einsum
    name: str
    tensors: tuple[str, ...]
    stages_in: tuple[str, ...]           # inputs another group (or DRAM) provides, whose first user it is
    out: str
    out_leaves: bool                     # its output is a cascade output or read by another group
    out_words: int
    holds: tuple[str, ...]               # the inputs the buffer footprint meets first here
    holds_out: bool                      # ... and its output, unless met before
    overwrites: tuple[str, ...]          # buffer inputs an element-wise output may overwrite (last read here)


def _group_plan(cascade: Cascade, groups: tuple[FusedGroup, ...], gi: int, st: dict[str, Any],
                source: str) -> tuple[Any, ...]:
    """What a group's tiling alone decides (memoised, checked once): the extent of every rank on
    chip, its outer-loop count, the plan's number (never reused: memo keys hash it), the member
    Einsums (``_Member``), and per
    tensor of the group its tile's words and how many times a tile of it is fetched (the product of
    the outer loops down to the innermost one indexing it, as Timeloop counts tile changes)."""
    group = groups[gi]
    key = (id(cascade), tuple(g.einsums for g in groups), gi, group.loops, tuple(group.tiles.items()), group.stages)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is cascade:
        return hit[1]  # type: ignore[no-any-return]
    ranks = cascade.ranks
    for r in group.loops:
        if r not in ranks:
            raise SpecError("no such rank", source=source, key=f"mapping.groups[{gi}].loops", value=r,
                            accepted=", ".join(ranks))
    ext = {r: (min(group.tiles.get(r, 1), n) if r in group.loops else n) for r, n in ranks.items()}
    for r, size in group.tiles.items():
        if r not in group.loops:
            raise SpecError("a tiled rank must be one of the group's loops", source=source,
                            key=f"mapping.groups[{gi}].tiles.{r}", value=size, accepted=", ".join(group.loops))
    count = {r: -(-ranks[r] // ext[r]) for r in ranks}
    outputs = set(cascade.outputs)
    members = []
    staged: set[str] = set()
    met: set[str] = set()
    tile_words: dict[str, int] = {}
    fetches: dict[str, int] = {}
    for n in group.einsums:
        e = cascade.einsum(n)
        for t in e.tensors:
            w = 1
            for idx in cascade.tensor_ranks(t):
                w *= 1 if idx.take else ext[idx.rank]
            tile_words[t] = w
            idx_ranks = {i.rank for i in cascade.tensor_ranks(t) if not i.take}
            last = -1
            for k, r in enumerate(group.loops):
                if r in idx_ranks and count[r] > 1:
                    last = k
            f = 1
            for r in group.loops[: last + 1]:
                f *= count[r]
            fetches[t] = f
        out = e.output.tensor
        overwrites = tuple(ref.tensor for ref in e.inputs if (e.reduce == "none" or not e.reduced_ranks)
                           and ref.tensor in cascade.producers and st["last_reader"].get(ref.tensor) == n
                           and ref.ranks == e.output.ranks and ref.tensor not in outputs
                           and ref.tensor not in st["read_elsewhere"])
        stages_in = []
        holds = []
        for ref in e.inputs:
            t = ref.tensor
            if t in st["from_outside"] and t not in staged:
                staged.add(t)
                stages_in.append(t)
            if t not in met:
                met.add(t)
                holds.append(t)
        holds_out = out not in met
        met.add(out)
        members.append(_Member(e, n, e.tensors, tuple(stages_in), out, out in outputs or out in st["read_elsewhere"],
                               cascade.tensor_words(out), tuple(holds), holds_out, overwrites))
    stages = group.stages or (tuple(group.einsums),)
    stages_ok = sorted(n for st_ in stages for n in st_) == sorted(group.einsums)
    plan = (ext, count, next(_PLAN_IDS), members, tile_words, fetches, stages, stages_ok)
    if len(_PLANS) > 10_000:
        _PLANS.clear()
    _PLANS[key] = (cascade, plan)
    return plan


def evaluate_fused(cascade: Cascade, hardware: FusedHardware, mapping: FusedMapping, *,
                   source: str = "mapping") -> FusedCost:
    """Cost of ``mapping`` (module docstring); an illegal mapping raises ``SpecError`` naming the key."""
    cost = _evaluate(cascade, hardware, mapping, source, True)
    assert isinstance(cost, FusedCost)
    return cost


def fused_objective(cascade: Cascade, hardware: FusedHardware, mapping: FusedMapping, *,
                    source: str = "mapping") -> tuple[int, float]:
    """``(cycles, energy_pj)`` of ``mapping``, exactly ``evaluate_fused``'s, without its per-Einsum
    breakdown (what a search scores candidates with); an illegal mapping raises ``SpecError``."""
    got = _evaluate(cascade, hardware, mapping, source, False)
    assert isinstance(got, tuple)
    return got


def _evaluate(cascade: Cascade, hardware: FusedHardware, mapping: FusedMapping, source: str,
              detail: bool) -> FusedCost | tuple[int, float]:
    hw = hardware
    wb = hw.word_bytes
    group_of, structure, default_levels, may_stay, allowed = _structure(cascade, mapping.groups, source)
    levels = {**default_levels, **mapping.keep}
    try:
        legal = allowed.issuperset(mapping.keep.items())
    except TypeError:                                        # a level that is not even a string
        legal = False
    if not legal:                                            # say what is wrong, the first problem first
        levels = default_levels
        for t, lvl in mapping.keep.items():
            if lvl not in LEVELS:
                raise SpecError("unknown level", source=source, key=f"mapping.keep.{t}", value=lvl,
                                accepted=", ".join(LEVELS))
        for t in mapping.keep:
            if t not in levels:
                raise SpecError("no such tensor", source=source, key=f"mapping.keep.{t}", value=t,
                                accepted=", ".join(levels))
        for t, lvl in mapping.keep.items():
            if lvl == "unit" and t not in may_stay:
                if t in cascade.inputs or t in cascade.outputs:
                    raise SpecError("a cascade input or output cannot live in PE registers", source=source,
                                    key=f"mapping.keep.{t}", value=lvl, accepted="buffer or dram")
                raise SpecError("a tensor shared by two groups cannot stay in PE registers", source=source,
                                key=f"mapping.keep.{t}", value=lvl, accepted="buffer or dram")
    outputs = set(cascade.outputs)

    einsum_costs: list[EinsumCost] = []
    group_cycles: list[tuple[int, int]] = []
    busy: dict[str, int] = {u: 0 for u in hw.units}
    busy_pe: dict[str, float] = {u: 0.0 for u in hw.units}
    total_cycles = 0
    dram_words_total = 0
    peak_buffer_words = 0
    spilled = 0.0
    e_compute = e_reg = e_buf = e_dram = 0.0
    cid, hid, units = id(cascade), id(hw), hw.units
    no_axes: dict[str, tuple[str, ...]] = {}
    binding_get, spatial_get, inner_get = mapping.binding.get, mapping.spatial.get, mapping.inner.get
    for gi, group in enumerate(mapping.groups):
        ext, count, plan_id, members, tile_words, fetches, stages, stages_ok = _group_plan(
            cascade, mapping.groups, gi, structure[gi], source)

        # --- per Einsum: compute cycles and the words it moves (memoised counts: never changed here);
        # the tensors staged between DRAM and the buffer (once per tile change, charged to their first
        # user) as (einsum, tensor, words read from DRAM into the buffer, words written back); the
        # buffer footprint (an element-wise output overwrites the input it last reads)
        cycles_of: dict[str, int] = {}
        records = []
        unames = []
        need = dram_words = 0
        before = (e_compute, e_reg, e_buf, e_dram)         # to recount the energy if the group spills
        for m in members:
            name = m.name
            uname: str = binding_get(name)  # type: ignore[assignment]     # None: refused below (no memo hit)
            key: Any = (cid, hid, name, uname, tuple(spatial_get(name, no_axes).items()), plan_id,
                        tuple(map(levels.__getitem__, m.tensors)), inner_get(name, ()))
            try:
                hit = _PARTS.get(key)
            except TypeError:                       # spatial ranks given as lists: no memo
                key, hit = None, None
            if hit is not None and hit[0] is cascade and hit[1] is hw:
                record = hit[2]
            else:
                if uname is None:
                    raise SpecError("no compute unit bound", source=source, key=f"mapping.binding.{name}",
                                    accepted=", ".join(hw.units))
                unit = units.get(uname)
                if unit is None:
                    raise SpecError(f"no such compute unit on {hw.name}", source=source,
                                    key=f"mapping.binding.{name}", value=uname, accepted=", ".join(hw.units))
                record = _member_record(cascade, hw, m, unit, mapping, group, ext, count, levels, tile_words,
                                        fetches, source, key)
            cycles_of[name] = record[0]
            need += record[6]
            dram_words += record[4][2]
            cpj, reg_pj, buf_pj, dram_pj = record[8]
            e_compute += cpj
            e_reg += reg_pj
            e_buf += buf_pj
            e_dram += dram_pj
            records.append(record)
            unames.append(uname)
        if need > hw.buffer_bytes // wb or detail:
            resident = {t: w for r in records for t, w in r[7]}
        cap_words = hw.buffer_bytes // wb
        spill = 0.0
        spillable: dict[str, int] = {}
        if need > cap_words:
            spillable = {t: w for t, w in resident.items() if t in cascade.producers and t not in outputs and w}
            fixed = need - sum(spillable.values())
            if not mapping.spill or fixed > cap_words or not spillable:
                worst = max(resident, key=lambda t: resident[t])
                raise SpecError(f"the buffer tiles of group {gi} need {need * wb:,} bytes, the buffer holds "
                                f"{hw.buffer_bytes:,} (over by {(need - cap_words) * wb:,}; largest: {worst} "
                                f"{resident[worst] * wb:,} bytes)", source=source, key=f"mapping.keep.{worst}",
                                value=resident[worst] * wb, accepted="smaller tiles, keep: dram, or spill: true")
            spill = (need - cap_words) / sum(spillable.values())
        spilled = max(spilled, spill)
        peak_buffer_words = max(peak_buffer_words, min(need, cap_words))
        # --- each Einsum's totals (buffer reads, writes, DRAM words): memoised, or, with a spill,
        # recounted from the counts (the spill moves a share of each count to DRAM)
        totals = [r[4] for r in records]
        tensor_counts: dict[str, dict[str, dict[str, int]]] = {}
        if detail or spill:
            for r in records:
                name = r[3]["e"].name
                for _, t, words_in, words_out in r[5]:
                    counts = tensor_counts.setdefault(name, dict(r[2]))
                    c = counts[t] = dict(counts[t])
                    if words_in:
                        c["dram_reads"] += words_in
                        c["buffer_writes"] += words_in
                    if words_out:
                        c["dram_writes"] += words_out
                        c["buffer_reads"] += words_out
                tensor_counts.setdefault(name, dict(r[2]))
        if spill:
            totals = []
            for m in members:
                counts = tensor_counts[m.name] = dict(tensor_counts[m.name])
                for t in list(counts):
                    if t in spillable:
                        c = counts[t] = dict(counts[t])
                        moved = int(round(spill * (c["buffer_reads"] + c["buffer_writes"])))
                        c["dram_reads"] += int(round(spill * c["buffer_reads"]))
                        c["dram_writes"] += moved - int(round(spill * c["buffer_reads"]))
                br = bw = dw = 0
                for c in counts.values():
                    br += c["buffer_reads"]
                    bw += c["buffer_writes"]
                    dw += c["dram_reads"] + c["dram_writes"]
                totals.append((br, bw, dw))
            dram_words = 0
            for tot in totals:
                dram_words += tot[2]
        # --- latency of the group
        if not stages_ok:
            raise SpecError("the stages must list each Einsum of the group once", source=source,
                            key=f"mapping.groups[{gi}].stages", value=[list(s) for s in stages],
                            accepted=", ".join(group.einsums))
        compute = 0
        for stage in stages:
            per_unit: dict[str, int] = {}
            for n in stage:
                u = mapping.binding[n]
                per_unit[u] = per_unit.get(u, 0) + cycles_of[n]
            compute += max(per_unit.values())
        memory = math.ceil(dram_words * wb / hw.dram_bytes_per_cycle)
        group_cycles.append((compute, memory))
        total_cycles += max(compute, memory)
        dram_words_total += dram_words
        # --- energy per Einsum (added up above from the memoised records; recounted after a spill)
        if spill:
            e_compute, e_reg, e_buf, e_dram = before
        for r, (br, bw, dw), uname in zip(records, totals, unames, strict=True):
            if spill:
                gc = r[3]
                cpj, reg_pj = gc["compute_pj"], gc["reg_pj"]
                buf_pj = br * hw.buffer_read_pj + bw * hw.buffer_write_pj
                dram_pj = dw * wb * hw.dram_pj_per_byte
                e_compute += cpj
                e_reg += reg_pj
                e_buf += buf_pj
                e_dram += dram_pj
            elif detail:
                cpj, reg_pj, buf_pj, dram_pj = r[8]
            else:
                break
            if detail:
                busy[uname] += r[0]
                busy_pe[uname] += r[1]
                gc = r[3]
                e, unit, reg = gc["e"], gc["unit"], gc["reg"]
                einsum_costs.append(EinsumCost(e.name, unit.name, gi, gc["points"], gc["cycles"], gc["sp_util"],
                                               tensor_counts[e.name], reg, cpj, reg_pj + buf_pj + dram_pj))
    leak = total_cycles * (sum(u.pes * u.leak_pj_per_cycle for u in hw.units.values()) + hw.buffer_leak_pj_per_cycle)
    energy = e_compute + e_reg + e_buf + e_dram + leak
    if not detail:
        return total_cycles, energy
    util = {u: (busy_pe[u] / (hw.units[u].pes * total_cycles) if total_cycles else 0.0) for u in hw.units}
    return FusedCost(
        cascade.name, hw.name, mapping.name, total_cycles, total_cycles / hw.clock_mhz, energy, dram_words_total * wb,
        peak_buffer_words * wb, spilled, util, busy, {u: max(0, total_cycles - b) for u, b in busy.items()},
        tuple(group_cycles), tuple(einsum_costs),
        {"compute": e_compute, "regfile": e_reg, "buffer": e_buf, "dram": e_dram, "leakage": leak})


def format_fused_stats(cost: FusedCost) -> str:
    """Timeloop-style statistics for every Einsum of a fused mapping."""
    lines = [f"Cascade {cost.cascade} on {cost.hardware} ({cost.mapping})",
             f"    Cycles               : {cost.cycles:,}",
             f"    Latency (us)         : {cost.latency_us:,.3f}",
             f"    Energy (uJ)          : {cost.energy_pj / 1e6:,.3f}",
             f"    DRAM bytes           : {cost.dram_bytes:,}",
             f"    Buffer footprint (B) : {cost.buffer_bytes:,}",
             *(f"    Utilization {u:<9}: {v:.4f} (stall {cost.stall_cycles[u]:,} cycles)"
               for u, v in cost.utilisation.items()), ""]
    for e in cost.einsums:
        lines += [f"=== {e.name} ===", f"    Unit                 : {e.unit} (group {e.group})",
                  f"    Computes (total)     : {e.points:,}", f"    Cycles               : {e.cycles:,}",
                  f"    Spatial utilization  : {e.spatial_utilisation:.4f}",
                  f"    Register accesses    : {e.regfile_accesses:,}",
                  f"    Energy (pJ)          : {e.energy_pj:,.1f} (compute {e.compute_pj:,.1f})"]
        for t, c in e.counts.items():
            lines.append(f"    {t}:")
            lines.append(f"        DRAM scalar reads / writes   : {c['dram_reads']:,} / {c['dram_writes']:,}")
            lines.append(f"        Buffer scalar reads / writes : {c['buffer_reads']:,} / {c['buffer_writes']:,}")
        lines.append("")
    return "\n".join(lines)
