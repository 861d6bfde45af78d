"""Search strategies over a ``MappingSpace``: random, genetic, simulated annealing, Timeloop-style hybrid.

Each takes an ``Evaluator`` (which counts evaluations and keeps the best), a budget in
evaluations and a ``numpy.random.Generator`` (seeded by the caller for reproducibility).
"""

from __future__ import annotations

import numpy as np

from acceldse.mapper.search.evaluator import Evaluator
from acceldse.mapper.space import Genomes


def _remaining(ev: Evaluator, budget: int, want: int) -> int:
    return max(0, min(want, budget - ev.evaluations))


def random_search(ev: Evaluator, budget: int, rng: np.random.Generator, *, batch: int = 4096) -> None:
    """Uniform random sampling of the space."""
    while (n := _remaining(ev, budget, batch)) > 0:
        ev(ev.space.random(n, rng))


def _seed_population(ev: Evaluator, size: int, budget: int, rng: np.random.Generator) -> tuple[Genomes, np.ndarray]:
    """Best ``size`` of a random sample 4x larger (or what the budget allows)."""
    n = _remaining(ev, budget, 4 * size)
    pool = ev.space.random(max(n, 1), rng)
    vals = ev(pool) if n > 0 else np.full(1, np.inf)
    keep = np.argsort(vals)[:size]
    return pool.take(keep), vals[keep]


def _hash_weights(width: int) -> np.ndarray:
    """Fixed odd 64-bit multipliers: a row's dot product with them identifies it (wrapping arithmetic)."""
    return (np.random.default_rng(12345).integers(1, 2**62, width, dtype=np.int64) | 1)


def genetic(ev: Evaluator, budget: int, rng: np.random.Generator, *, population: int = 256,
            offspring: int = 1024, mutation: float = 0.7, immigrants: float = 0.1, tournament: int = 3) -> None:
    """(mu + lambda) genetic algorithm: tournament selection, uniform crossover, mutation, random immigrants."""
    pop, vals = _seed_population(ev, population, budget, rng)
    while (n := _remaining(ev, budget, offspring)) > 0:
        size = len(pop)
        contenders = rng.integers(0, size, (n, 2, tournament))
        winners = contenders[np.arange(n)[:, None], np.arange(2)[None, :],
                             np.argmin(vals[contenders], axis=2)]
        children = ev.space.crossover(pop.take(winners[:, 0]), pop.take(winners[:, 1]), rng)
        mutate = rng.random(n) < mutation
        if mutate.any():
            mutated = ev.space.mutate(children.take(mutate), rng)
            children.slots[mutate], children.order[mutate], children.keep[mutate] = \
                mutated.slots, mutated.order, mutated.keep
        n_imm = int(immigrants * n)
        if n_imm:
            fresh = ev.space.random(n_imm, rng)
            children.slots[:n_imm], children.order[:n_imm], children.keep[:n_imm] = fresh.slots, fresh.order, fresh.keep
        child_vals = ev(children)
        merged = Genomes.concat([pop, children])
        merged_vals = np.concatenate([vals, child_vals])
        # unique survivors: drop exact duplicates of slots+order so the population keeps its diversity
        key = np.concatenate([merged.slots, merged.order.reshape(len(merged), -1),
                              merged.keep.reshape(len(merged), -1)], axis=1)
        _, first = np.unique(key @ _hash_weights(key.shape[1]), return_index=True)
        first = first[np.argsort(merged_vals[first])][:population]
        pop, vals = merged.take(first), merged_vals[first]


def annealing(ev: Evaluator, budget: int, rng: np.random.Generator, *, chains: int = 64,
              t_start: float = 0.5, t_end: float = 0.002) -> None:
    """Parallel simulated-annealing chains on log(objective) with a geometric temperature schedule."""
    cur, cur_vals = _seed_population(ev, chains, budget, rng)
    steps = max(1, (budget - ev.evaluations) // max(1, len(cur)))
    decay = (t_end / t_start) ** (1.0 / steps)
    temp = t_start
    while (n := _remaining(ev, budget, len(cur))) > 0:
        idx = np.arange(n)
        prop = ev.space.mutate(cur.take(idx), rng)
        if rng.random() < 0.3:
            prop = ev.space.mutate(prop, rng)
        vals = ev(prop)
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = np.log(vals) - np.log(cur_vals[idx])
        accept = np.isfinite(vals) & ((delta <= 0) | (rng.random(n) < np.exp(-np.clip(delta, 0, 50) / temp)))
        sel = idx[accept]
        cur.slots[sel], cur.order[sel], cur.keep[sel] = prop.slots[accept], prop.order[accept], prop.keep[accept]
        cur_vals[sel] = vals[accept]
        temp *= decay


def hybrid(ev: Evaluator, budget: int, rng: np.random.Generator, *, batch: int = 256,
           victory_condition: int = 500, threads: int = 8, elite: int = 16) -> None:
    """Timeloop-style hybrid. Each of ``threads`` search threads (run one after another) mixes
    random samples with local moves around an elite of its best distinct mappings and stops
    after ``victory_condition`` consecutive legal candidates that do not improve its best; the
    search ends when every thread has stopped or the budget is spent."""
    for _ in range(threads):
        if _remaining(ev, budget, 1) == 0:
            return
        _hybrid_thread(ev, budget, rng, batch, victory_condition, elite)


def _hybrid_thread(ev: Evaluator, budget: int, rng: np.random.Generator, batch: int, victory_condition: int,
                   elite: int) -> None:
    pool: Genomes | None = None
    pool_vals = np.zeros(0)
    best = np.inf
    streak = 0
    weights = None
    while (n := _remaining(ev, budget, batch)) > 0:
        fresh = ev.space.random(n, rng)
        if pool is not None and len(pool):
            local_n = (3 * n) // 4
            local = ev.space.mutate(pool.take(rng.integers(0, len(pool), local_n)), rng)
            twice = rng.random(local_n) < 0.5
            again = ev.space.mutate(local, rng)
            local.slots[twice], local.order[twice], local.keep[twice] = \
                again.slots[twice], again.order[twice], again.keep[twice]
            fresh.slots[:local_n], fresh.order[:local_n], fresh.keep[:local_n] = local.slots, local.order, local.keep
        vals = ev(fresh)
        for v in vals:
            if not np.isfinite(v):
                continue
            if v < best:
                best = v
                streak = 0
            else:
                streak += 1
        merged = fresh if pool is None else Genomes.concat([pool, fresh])
        merged_vals = vals if pool is None else np.concatenate([pool_vals, vals])
        key = np.concatenate([merged.slots, merged.order.reshape(len(merged), -1),
                              merged.keep.reshape(len(merged), -1)], axis=1)
        weights = _hash_weights(key.shape[1]) if weights is None else weights
        _, first = np.unique(key @ weights, return_index=True)
        first = first[np.isfinite(merged_vals[first])]
        first = first[np.argsort(merged_vals[first])][:elite]
        pool, pool_vals = merged.take(first), merged_vals[first]
        if streak >= victory_condition:
            return
