"""Mapping search: exhaustive, random, genetic, simulated annealing and Timeloop-style hybrid.

``run_search(space, method, objective, budget, seed)`` is the single entry point; it
returns a ``SearchResult`` with the best mapping, its cost, the evaluation counts and, for
``objective="pareto"``, the (cycles, energy) Pareto front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from acceldse.mapper.mapping import MappingArrays
from acceldse.mapper.search.evaluator import OBJECTIVES, CostModel, Evaluator, check_objective, pareto_mask, score
from acceldse.mapper.search.exhaustive import count as count_space
from acceldse.mapper.search.exhaustive import enumerate_space, exhaustive
from acceldse.mapper.search.strategies import annealing, genetic, hybrid, random_search
from acceldse.mapper.space import MappingSpace
from acceldse.workloads.errors import SpecError

METHODS: dict[str, Callable[..., None]] = {
    "exhaustive": exhaustive, "random": random_search, "ga": genetic, "anneal": annealing, "hybrid": hybrid,
}
"""Search methods by CLI name."""


@dataclass(frozen=True)
class SearchResult:
    """Outcome of one search.

    Attributes:
        method, objective, seed: what was run.
        best: the best mapping (``None`` when no legal mapping was found).
        cycles, energy_pj, value: its latency, energy and objective value.
        evaluations, valid: candidates evaluated and how many were legal.
        front: for ``objective="pareto"``: (cycles, energy_pj, mapping) non-dominated points.
    """

    method: str
    objective: str
    seed: int | None
    best: MappingArrays | None
    cycles: int
    energy_pj: float
    value: float
    evaluations: int
    valid: int
    front: list[tuple[int, float, MappingArrays]] = field(default_factory=list)


def method_options(method: str) -> list[str]:
    """The keyword options a search method takes (``population`` for ``ga`` ...)."""
    import inspect

    return [p.name for p in inspect.signature(METHODS[method]).parameters.values() if p.kind is p.KEYWORD_ONLY]


def check_options(method: str, options: dict[str, object]) -> None:
    """Refuse an option the method does not take, naming it and the ones it takes (not a ``TypeError``)."""
    accepted = method_options(method)
    for name in options:
        if name not in accepted:
            raise SpecError(f"not an option of search method {method!r}", source=name, value=options[name],
                            accepted=(", ".join(accepted) or "no option") + " (a zoo workload's own parameters, "
                            "e.g. seq_len, are taken by acceldse.map for that workload)")


def run_search(space: MappingSpace, method: str = "hybrid", objective: str = "edp", budget: int = 20_000,
               seed: int | None = 0, *, cost_model: CostModel | None = None, **options: object) -> SearchResult:
    """Search ``space``. ``budget`` caps evaluations (exhaustive: ``None`` or <= 0 means all);
    ``cost_model`` scores the candidates instead of the dense cost kernel (e.g. Sparseloop's).

    ``objective="pareto"`` splits the budget over latency, energy and EDP searches that share
    one archive and reports its (cycles, energy) front; ``best`` is then the EDP-best point.
    """
    key = str(method).strip().lower()
    if key not in METHODS:
        raise SpecError("unknown search method", source="search", value=method, accepted=" | ".join(METHODS))
    obj = check_objective(objective)
    check_options(key, options)
    if key != "exhaustive" and (not isinstance(budget, int) or budget < 1):
        raise SpecError("budget must be a positive integer", source="budget", value=budget,
                        accepted="an integer >= 1 (evaluations)")
    rng = np.random.default_rng(seed)
    cap = budget if key != "exhaustive" or (budget is not None and budget > 0) else None
    if obj != "pareto":
        ev = Evaluator(space, obj, cost_model=cost_model)
        METHODS[key](ev, cap, rng, **options)
        return SearchResult(key, obj, seed, ev.best, ev.best_cycles, ev.best_energy_pj, ev.best_value,
                            ev.evaluations, ev.valid)
    ev = Evaluator(space, "edp", keep_front=True, cost_model=cost_model)
    used = 0
    for i, sub in enumerate(("latency", "energy", "edp")):
        ev.objective = sub
        ev.best_value = np.inf
        share = None if cap is None else (cap * (i + 1)) // 3
        METHODS[key](ev, share, rng, **options)
        used = ev.evaluations
        if key == "exhaustive":
            break
    front = ev.front
    if not front:
        return SearchResult(key, obj, seed, None, -1, np.inf, np.inf, used, ev.valid)
    edp = [c * e for c, e, _ in front]
    i = int(np.argmin(edp))
    return SearchResult(key, obj, seed, front[i][2], front[i][0], front[i][1], edp[i], used, ev.valid, front)


__all__ = ["METHODS", "OBJECTIVES", "CostModel", "Evaluator", "SearchResult", "check_options", "count_space",
           "enumerate_space", "method_options", "pareto_mask",
           "run_search", "score"]
