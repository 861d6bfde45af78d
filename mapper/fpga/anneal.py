"""Simulated annealing over the folding of one partition (seeded, feasible states only).

A move changes one component value (a linked coarse factor), one stage's fine factor or one MAC
stage's personality (DSP / LUT) to a random neighbouring allowed value.  Infeasible candidates are
rejected outright, so every visited state fits the platform.  Acceptance is Metropolis on the
relative change of the objective cycles with a geometric temperature schedule.  The best state seen
is returned (so starting from the greedy result never ends worse than greedy).
"""

from __future__ import annotations

import math

import numpy as np

from acceldse.mapper.fpga.space import PartitionSpace, State, objective_cycles


def _neighbour(space: PartitionSpace, state: State, rng: np.random.Generator) -> State:
    new = state.copy()
    kind = rng.integers(3)
    if kind == 0 and new.comp:
        c = int(rng.integers(len(new.comp)))
        vals = space.values[c]
        i = vals.index(new.comp[c])
        j = min(len(vals) - 1, max(0, i + int(rng.choice([-1, 1]) * (1 + rng.integers(2)))))
        new.comp[c] = vals[j]
    elif kind == 1:
        name = space.names[int(rng.integers(len(space.names)))]
        vals = space.fines[name]
        i = vals.index(new.fine[name])
        new.fine[name] = vals[min(len(vals) - 1, max(0, i + int(rng.choice([-1, 1]))))]
    elif space.allow_lut:
        macs = [n for n in space.names if space.network[n].has_weights]
        if macs:
            name = macs[int(rng.integers(len(macs)))]
            new.personality[name] = "lut" if new.personality[name] == "dsp" else "dsp"
    return new


def anneal_partition(space: PartitionSpace, state: State, objective: str = "throughput", *, seed: int = 0,
                     iterations: int = 3000, t_start: float = 0.2, t_end: float = 1e-3) -> State:
    """Anneal from a feasible ``state``; returns the best feasible state found."""
    rng = np.random.default_rng(seed)
    rep, viol = space.evaluate(state)
    if viol:
        return state
    cur, cur_cost = state, objective_cycles(rep, objective)
    best, best_cost = cur, cur_cost
    best_util = space.utilisation(rep)
    for it in range(iterations):
        temp = t_start * (t_end / t_start) ** (it / max(1, iterations - 1))
        cand = _neighbour(space, cur, rng)
        crep, cviol = space.evaluate(cand)
        if cviol:
            continue
        cost = objective_cycles(crep, objective)
        delta = (cost - cur_cost) / max(1, cur_cost)
        if delta <= 0 or rng.random() < math.exp(-delta / temp):
            cur, cur_cost = cand, cost
            util = space.utilisation(crep)
            if cost < best_cost or (cost == best_cost and util < best_util):
                best, best_cost, best_util = cand, cost, util
    return best
