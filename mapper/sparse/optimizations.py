"""Sparseloop's gating and skipping: the probability that a target's reads are ineffectual, their
local effect on a level's accesses, and the computes left by the operands' states (``analysis``
steps 2 and 3)."""

from __future__ import annotations

import math

from acceldse.mapper.sparse.design import SparseDesign, density_of
from acceldse.mapper.sparse.representation import Record, extents


def condition_probability(design: SparseDesign, recs: dict[tuple[int, str], Record], level: int, target: str,
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
    mold = {} if scalar else extents(design.levels, lv, i)
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
        p_effectual *= 1 - float(density_of(design, cond).prob_empty(cond_size))
    return target_level, 1 - p_effectual


def apply_local(rec: Record, p: float, kind: str, *, read_write: bool, child_ranks: int) -> None:
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


def scale_rank0(counts: list[list[int]], p: float, lower: int) -> None:
    """Sparseloop's ``ScalePerTileFormatAccesses(x, p, lower, 0)``: only rank 0, only when ``lower`` is 0."""
    for r in range(lower, 1):
        counts[r][0] -= math.floor(counts[r][0] * p)
        counts[r][1] -= math.floor(counts[r][1] * p)


def child_ranks(recs: dict[tuple[int, str], Record], key: tuple[int, str]) -> int:
    rec = recs[key]
    src = recs[(rec.child, key[1])] if rec.child is not None else rec
    return len(src.occupancy)


def compute_outcomes(design: SparseDesign, recs: dict[tuple[int, str], Record], total: float,
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
        density[t.name] = round(1e6 * density_of(design, t.name).expected_occupancy(1)) / 1e6
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
