"""Rule-based folding optimiser (in the spirit of SAMO's rule optimiser).

Repeatedly take the slowest stage of the partition and raise its folding to the next larger
parallelism (coarse_in x coarse_out x fine) that still fits every resource and the bandwidth;
among the feasible candidates of the smallest next parallelism pick the one with the lowest
mean resource utilisation.  When a DSP-built candidate does not fit, the same folding built from
LUTs (multi-personality) is tried; when nothing fits, resources are freed first -- another MAC stage
moved to LUTs (DSPs) or a stage's weights moved from BRAM to UltraRAM -- and the step is retried.
Stops when the slowest stage cannot be raised.  Factors only
grow, so the search terminates.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from acceldse.mapper.fpga.space import PartitionSpace, State, objective_cycles
from acceldse.simulator.fpga.design import PartitionReport


def _candidates(space: PartitionSpace, state: State, name: str, monotone: bool = True) -> list[tuple[int, int, int]]:
    """(in value, out value, fine) configurations of ``name`` of higher parallelism, lowest first.

    ``monotone``: every factor >= the current one; otherwise (as SAMO's rule optimiser) any
    configuration whose parallelism exceeds the current one.
    """
    ic, oc = space.in_comp[name], space.out_comp[name]
    cur = (state.comp[ic], state.comp[oc], state.fine[name])
    shared = ic == oc

    def par(c: tuple[int, int, int]) -> int:
        return c[0] * (1 if shared else c[1]) * c[2]

    floor = cur if monotone else (1, 1, 1)
    ins = [v for v in space.values[ic] if v >= floor[0]]
    outs = [v for v in space.values[oc] if v >= floor[1]]
    fines = [v for v in space.fines[name] if v >= floor[2]]
    configs = [c for c in itertools.product(ins, outs, fines)
               if not (shared and c[0] != c[1]) and c != cur and (monotone or par(c) > par(cur))]
    configs.sort(key=lambda c: (par(c), c))
    return configs


def _apply(state: State, space: PartitionSpace, name: str, config: tuple[int, int, int], personality: str) -> State:
    new = state.copy()
    new.comp[space.in_comp[name]] = config[0]
    new.comp[space.out_comp[name]] = config[1]
    new.fine[name] = config[2]
    new.personality[name] = personality
    return new


BUDGET_LADDER: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
"""Fractions of the platform the greedy pass is also run under (each result fits the full platform)."""


def greedy_partition(space: PartitionSpace, state: State, objective: str = "throughput",
                     max_steps: int = 100_000) -> State:
    """The best of greedy passes under the platform and under smaller budgets (``BUDGET_LADDER``).

    A pass that runs out of one resource early can lock in choices a tighter budget would have
    avoided; restarting under scaled-down budgets (and keeping the best design that fits the real
    platform) removes most of the cases where more resources gave a slower design.
    """
    best, best_cost = state, None
    plat = space.platform
    budgets = [plat.scaled(f) for f in BUDGET_LADDER[1:]]
    runs = [(plat, True), (plat, False)] + [(b, True) for b in budgets]
    for budget, monotone in runs:
        sub = space if budget is plat else replace(space, platform=budget)
        if budget is not plat and sub.evaluate(state)[1]:
            continue
        cand = greedy_pass(sub, state, objective, max_steps if monotone else SAMO_RULE_MAX_STEPS, monotone=monotone)
        rep, viol = space.evaluate(cand)
        if viol:
            continue
        cost = (objective_cycles(rep, objective), space.utilisation(rep))
        if best_cost is None or cost < best_cost:
            best, best_cost = cand, cost
    return best


SAMO_RULE_MAX_STEPS = 400
"""Step cap of the non-monotone (SAMO-rule) pass, which may revisit states."""


def greedy_pass(space: PartitionSpace, state: State, objective: str = "throughput", max_steps: int = 100_000,
                *, monotone: bool = True) -> State:
    """Raise the slowest stage's folding until nothing feasible remains; returns the best state seen.

    ``state`` must be feasible; every intermediate state is feasible.  ``monotone=False`` follows
    SAMO's rule optimiser: a candidate may lower a factor of the slowest stage if its parallelism
    rises (then neighbours linked to it may slow down; the best state seen is kept).
    """
    best_state, best_cycles = state, objective_cycles(space.evaluate(state)[0], objective)
    for _ in range(max_steps):
        rep, _viol = space.evaluate(state)
        slowest = rep.bottleneck  # first stage with the most cycles per sample
        best: tuple[float, State] | None = None
        best_par = None
        shared = space.in_comp[slowest] == space.out_comp[slowest]
        for config in _candidates(space, state, slowest, monotone):
            par = config[0] * (1 if shared else config[1]) * config[2]
            if best_par is not None and par > best_par:
                break
            personalities = ["dsp", "lut"] if space.allow_lut and space.network[slowest].has_weights else ["dsp"]
            for pers in personalities:
                cand = _apply(state, space, slowest, config, pers)
                crep, viol = space.evaluate(cand)
                if viol:
                    continue
                if monotone and objective_cycles(crep, objective) > objective_cycles(rep, objective):
                    continue
                util = space.utilisation(crep)
                if best is None or util < best[0]:
                    best = (util, cand)
                    best_par = par
                break  # DSP personality preferred when it fits
        if best is None:
            best = _free_resources(space, state, slowest, rep, objective)
        if best is None:
            break
        state = best[1]
        cycles = objective_cycles(space.evaluate(state)[0], objective)
        if cycles < best_cycles:
            best_state, best_cycles = state, cycles
    return best_state


def _freeing_moves(space: PartitionSpace, state: State, limit: int = 8) -> list[State]:
    """States that free resources without slowing anything: MAC stages DSP -> LUT, weights BRAM -> URAM."""
    moves: list[State] = []
    macs = [n for n in space.names if space.network[n].has_weights and space.network[n].op != "matmul"]
    if space.allow_lut:
        by_lanes = sorted((n for n in macs if state.personality[n] == "dsp"),
                          key=lambda n: space.foldings(state)[n].lanes)
        for n in by_lanes[:limit]:
            new = state.copy()
            new.personality[n] = "lut"
            moves.append(new)
    if space.platform.uram:
        by_weights = sorted((n for n in macs if state.on_chip[n] and not state.uram[n]),
                            key=lambda n: -space.network[n].weight_elems)
        for n in by_weights[:limit]:
            new = state.copy()
            new.uram[n] = True
            moves.append(new)
    return moves


def _free_resources(space: PartitionSpace, state: State, slowest: str, rep: PartitionReport,
                    objective: str, tries: int = 8) -> tuple[float, State] | None:
    """When the slowest stage is stuck, free DSPs (LUT personality) or BRAM (URAM weights), then retry."""
    for freed in _freeing_moves(space, state):
        if space.evaluate(freed)[1]:
            continue
        for config in _candidates(space, freed, slowest)[:tries]:
            for pers in ("dsp", "lut") if space.allow_lut and space.network[slowest].has_weights else ("dsp",):
                cand = _apply(freed, space, slowest, config, pers)
                crep, viol = space.evaluate(cand)
                if not viol and objective_cycles(crep, objective) <= objective_cycles(rep, objective):
                    return space.utilisation(crep), cand
    return None
