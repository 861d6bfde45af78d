"""The fused-mapping search: the space around FuseMax's template on a 1-pass attention cascade (query tile,
where each intermediate lives, which unit runs each Einsum both units can run), searched exhaustively, at
random, by annealing or by a genetic search within a budget of evaluations."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from acceldse.mapper.attention_designs import design_mapping
from acceldse.mapper.attention_templates import fusemax_parts, rank_tiles
from acceldse.mapper.fused import FusedCost, FusedMapping, evaluate_fused, fused_objective
from acceldse.simulator.specs.fused import FusedHardware, load_fused_hardware
from acceldse.workloads.cascade import Cascade
from acceldse.workloads.errors import SpecError, require_seed

OBJECTIVES = ("latency", "energy", "edp")
SEARCHES = ("exhaustive", "random", "anneal", "ga")
"""Fused-mapping search strategies (the mapper's, over the fused genome)."""


@dataclass(frozen=True)
class FusedSearchResult:
    best: FusedMapping
    cost: FusedCost
    evaluations: int
    valid: int
    method: str
    objective: str


def _value(cycles: int, energy_pj: float, objective: str) -> float:
    if objective == "latency":
        return float(cycles) + energy_pj * 1e-30
    if objective == "energy":
        return energy_pj
    return energy_pj * cycles


def search_space(cascade: Cascade, hw: FusedHardware) -> tuple[list[str], list[list[Any]],
                                                               Callable[[tuple], FusedMapping]]:
    """The fused-mapping space of a 1-pass attention cascade around FuseMax's template: query tile,
    where each intermediate lives, which unit runs each Einsum both units can run."""
    if "M1" not in cascade.ranks or any(n not in cascade.producers.values() for n in ("QK", "RM", "AV")):
        raise SpecError("the fused-mapping search takes the 1-pass attention cascade", source="cascade",
                        value=cascade.name, accepted="attention-1pass")
    tiles = rank_tiles(cascade.ranks["P"])
    inter = ["QK", "LM", "SLN", "SLD", "SLNV", "PRM", "SPD", "SPNV", "RM", "RD", "RNV"]
    movable = [e.name for e in cascade if all(op in u.ops for u in hw.units.values() for op in e.point_ops())]
    axes = ["tile_p"] + [f"keep.{t}" for t in inter] + [f"unit.{n}" for n in movable]
    choices: list[list[Any]] = [tiles] + [["unit", "buffer", "dram"] for _ in inter] + \
        [sorted(hw.units) for _ in movable]

    templates = {tp: fusemax_parts(cascade, tp) for tp in tiles}
    placement = {(n, u): ({"x": ("P",), "y": ("M0",)} if len(hw.units[u].shape) == 2 and "M0" in
                          cascade.einsum(n).iteration_ranks else {"x": ("P",)})
                 for n in movable for u in hw.units}
    n_inter = len(inter)

    def build(genome: tuple) -> FusedMapping:
        group, binding, spatial, keep = templates[genome[0]]
        keep = {**keep, **dict(zip(inter, genome[1:1 + n_inter], strict=True))}
        binding, spatial = dict(binding), dict(spatial)
        for n, u in zip(movable, genome[1 + n_inter:], strict=True):
            binding[n] = u
            spatial[n] = placement[(n, u)]
        return FusedMapping((group,), binding, spatial, keep, False, "searched")

    return axes, choices, build


def search_fused(cascade: Cascade, hardware: str | FusedHardware = "fusemax", *, search: str = "random",
                 objective: str = "latency", budget: int = 10_000, seed: int | None = 0) -> FusedSearchResult:
    """Search fused mappings (``exhaustive``, ``random``, ``anneal``, ``ga``) within ``budget`` evaluations."""
    hw = load_fused_hardware(hardware)
    if objective not in OBJECTIVES:
        raise SpecError("unknown objective", source="objective", value=objective, accepted=", ".join(OBJECTIVES))
    if search not in SEARCHES:
        raise SpecError("unknown search for fused mappings", source="search", value=search,
                        accepted=", ".join(SEARCHES))
    axes, choices, build = search_space(cascade, hw)
    rng = np.random.default_rng(None if seed is None else require_seed(seed))
    cache: dict[tuple, float] = {}
    best: tuple[float, tuple] | None = None
    evaluations = valid = 0

    def visit(genome: tuple) -> float:
        nonlocal best, evaluations, valid
        if genome in cache:
            return cache[genome]
        evaluations += 1
        try:
            cycles, energy = fused_objective(cascade, hw, build(genome))
        except SpecError:
            cache[genome] = float("inf")
            return float("inf")
        valid += 1
        v = _value(cycles, energy, objective)
        cache[genome] = v
        if best is None or v < best[0]:
            best = (v, genome)
        return v

    start = tuple(c[0] if i else c[-1] for i, c in enumerate(choices))
    fm, _ = design_mapping("fusemax", cascade, hw)
    template = (fm.groups[0].tiles["P"],) + tuple(start[1:])
    group, binding, spatial, keep = fusemax_parts(cascade, template[0])
    template = (template[0],) + tuple(keep[a.split(".", 1)[1]] if a.startswith("keep.") else binding[a.split(".", 1)[1]]
                                      for a in axes[1:])
    visit(template)
    if search == "exhaustive":
        for genome in itertools.product(*choices):
            if evaluations >= budget:
                break
            visit(tuple(genome))
    elif search == "random":
        sizes = np.array([len(c) for c in choices])
        tries = 0
        while evaluations < budget and tries < budget * 20:
            draws = (rng.random((max(64, budget - evaluations), len(choices))) * sizes).astype(int).tolist()
            for row in draws:
                tries += 1
                visit(tuple(c[k] for c, k in zip(choices, row, strict=True)))
                if evaluations >= budget:
                    break
    elif search == "ga":
        # a genetic search: the template and random genomes, tournament selection of two parents,
        # uniform crossover, mutated genes until the child is new; the best 32 survive (elitist)
        pop = [template] + [tuple(c[int(rng.integers(len(c)))] for c in choices) for _ in range(31)]
        scored = sorted(((visit(g), g) for g in pop), key=lambda x: x[0])
        tries = 0
        while evaluations < budget and tries < budget * 20:
            children = []
            for _ in range(len(scored)):
                a, b = (min(scored[int(i)] for i in rng.integers(len(scored), size=2))[1] for _ in range(2))
                mask = rng.random(len(choices)) < 0.5
                child = [x if m else y for x, y, m in zip(a, b, mask, strict=True)]
                for _ in range(8):                    # mutate until the child is new (a converged population)
                    i = int(rng.integers(len(choices)))
                    child[i] = choices[i][int(rng.integers(len(choices[i])))]
                    if tuple(child) not in cache:
                        break
                children.append(tuple(child))
            for g in children:
                tries += 1
                if evaluations >= budget:
                    break
                scored.append((visit(g), g))
            scored = sorted(scored, key=lambda x: x[0])[:32]
    else:
        cur = template
        cur_v = visit(cur)
        temp = 1.0
        tries = 0
        while evaluations < budget and tries < budget * 20:
            tries += 1
            i = int(rng.integers(len(choices)))
            cand = list(cur)
            cand[i] = choices[i][int(rng.integers(len(choices[i])))]
            v = visit(tuple(cand))
            if v < cur_v or (np.isfinite(v) and rng.random() < np.exp(-(v - cur_v) / (abs(cur_v) * temp + 1e-30))):
                cur, cur_v = tuple(cand), v
            temp *= 0.999
    assert best is not None
    mapping = replace(build(best[1]), name=f"searched ({search})")
    return FusedSearchResult(mapping, evaluate_fused(cascade, hw, mapping), evaluations, valid, search, objective)


__all__ = ["OBJECTIVES", "SEARCHES", "FusedSearchResult", "search_fused", "search_space"]
