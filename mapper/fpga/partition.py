"""Partitioning a network into device configurations, and optimising each partition's folding.

* ``place_weights``: all weights on chip in BRAM; while the minimal-folding partition does not fit,
  move the largest weights to UltraRAM (when the board has it), then off chip (streamed once per
  sample).
* ``first_fit``: walk the layers in topological order, adding each to the current partition while
  the minimal-folding design fits; otherwise open a new partition (or, without reconfiguration,
  move weights off chip).  A layer that does not fit alone raises ``SpecError``.
* ``refine``: local search over partition boundaries (merge two neighbours, split one in two),
  re-optimising the folding of the partitions a move touches, keeping a move only when the
  network objective improves (SAMO merges partitions the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from acceldse.mapper.fpga.space import PartitionSpace, State, objective_cycles
from acceldse.simulator.specs.platform import Platform
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network


def split_points(length: int, count: int | None = None) -> list[int]:
    """Where a partition of ``length`` layers may be split: every point, or ``count`` evenly spaced ones.

    Every returned point k splits into two non-empty parts (1 <= k < length).
    """
    if count is None:
        return list(range(1, length))
    step = length / (count + 1)
    return sorted({int(round(step * j)) for j in range(1, count + 1)} & set(range(1, length)))


@dataclass
class PartitionPlan:
    """One optimised partition: its layers, folding space and state, and objective cycles."""

    names: tuple[str, ...]
    space: PartitionSpace
    state: State
    cycles: int


class Partitioner:
    """Builds and optimises partitions of ``network`` on ``platform`` (results cached by layer tuple)."""

    def __init__(self, network: Network, platform: Platform, batch: int, objective: str,
                 optimise_state: Callable[[PartitionSpace, State], State], *, match_coarse: bool = True,
                 allow_lut: bool = True, fifo_depth_words: int = 32) -> None:
        self.network = network
        self.platform = platform
        self.batch = batch
        self.objective = objective
        self.optimise_state = optimise_state
        self.match_coarse = match_coarse
        self.allow_lut = allow_lut
        self.fifo_depth_words = fifo_depth_words
        self._cache: dict[tuple[str, ...], PartitionPlan | None] = {}

    def space(self, names: Sequence[str]) -> PartitionSpace:
        return PartitionSpace.build(self.network, names, self.platform, self.batch, match_coarse=self.match_coarse,
                                    allow_lut=self.allow_lut, fifo_depth_words=self.fifo_depth_words)

    def place_weights(self, names: Sequence[str], allow_offchip: bool = True) -> tuple[PartitionSpace, State] | None:
        """A feasible minimal state for ``names`` (moving weights off chip if needed), or None."""
        space = self.space(names)
        state = space.minimal_state()
        _, viol = space.evaluate(state)
        if not viol:
            return space, state
        by_size = sorted((n for n in names if self.network[n].has_weights and self.network[n].op != "matmul"),
                         key=lambda n: -self.network[n].weight_elems)
        if self.platform.uram:
            for n in by_size:  # UltraRAM first: still on chip
                state.uram[n] = True
                rep, viol = space.evaluate(state)
                if rep.resources["uram"] > self.platform.uram:
                    state.uram[n] = False
                elif not viol:
                    return space, state
        if not allow_offchip:
            return None
        for n in by_size:
            state.on_chip[n] = False
            state.uram[n] = False
            _, viol = space.evaluate(state)
            if not viol:
                return space, state
        return None

    def plan(self, names: Sequence[str]) -> PartitionPlan | None:
        key = tuple(names)
        if key not in self._cache:
            placed = self.place_weights(names)
            if placed is None:
                self._cache[key] = None
            else:
                space, state = placed
                state = self.optimise_state(space, state)
                rep, _ = space.evaluate(state)
                self._cache[key] = PartitionPlan(key, space, state, objective_cycles(rep, self.objective))
        return self._cache[key]

    def total_seconds(self, plans: Sequence[PartitionPlan]) -> float:
        """Objective in seconds: sum of partition cycles / clock + reconfigurations."""
        return (sum(p.cycles for p in plans) / self.platform.clock_hz
                + (len(plans) - 1) * self.platform.reconfiguration_ms * 1e-3)

    def first_fit(self, enable_reconf: bool = True) -> list[list[str]]:
        names = [layer.name for layer in self.network]
        if not enable_reconf:
            if self.place_weights(names) is None:
                raise SpecError("the network does not fit the platform in one partition even with all weights "
                                "off chip", source=self.platform.source or self.platform.name, key="enable_reconf",
                                value=False, accepted="enable_reconf=True or a larger platform")
            return [names]
        parts: list[list[str]] = []
        cur: list[str] = []
        for n in names:
            if cur and self.place_weights([*cur, n], allow_offchip=False) is not None:
                cur.append(n)
                continue
            if cur:
                parts.append(cur)
            if self.place_weights([n]) is None:
                space = self.space([n])
                state = space.minimal_state({n: False})
                _, viol = space.evaluate(state)
                raise SpecError("layer does not fit the platform even alone at the smallest folding "
                                f"({'; '.join(viol)})", source=self.platform.source or self.platform.name,
                                key=f"layers.{n}", accepted="a larger platform or a smaller layer")
            cur = [n]
        parts.append(cur)
        return parts

    def refine(self, parts: list[list[str]], max_rounds: int = 20,
               max_layers_for_splits: int = 48, coarse_split_points: int = 6) -> list[PartitionPlan]:
        """Local search over merges and splits; returns the optimised plans."""
        current = [self.plan(p) for p in parts]
        if any(p is None for p in current):
            raise SpecError("internal: first-fit produced an infeasible partition", key="partitions")
        plans: list[PartitionPlan] = [p for p in current if p is not None]
        n_layers = len(self.network)
        for _ in range(max_rounds):
            best_cost = self.total_seconds(plans)
            best_parts: list[PartitionPlan] | None = None
            for i in range(len(plans) - 1):  # merges
                merged = self.plan(plans[i].names + plans[i + 1].names)
                if merged is not None:
                    cand = plans[:i] + [merged] + plans[i + 2:]
                    cost = self.total_seconds(cand)
                    if cost < best_cost * (1 - 1e-9):
                        best_cost, best_parts = cost, cand
            for i, p in enumerate(plans):  # splits: every point on small networks, a few on large ones
                exhaustive = n_layers <= max_layers_for_splits
                for k in split_points(len(p.names), None if exhaustive else coarse_split_points):
                    a, b = self.plan(p.names[:k]), self.plan(p.names[k:])
                    if a is None or b is None:
                        continue
                    cand = plans[:i] + [a, b] + plans[i + 1:]
                    cost = self.total_seconds(cand)
                    if cost < best_cost * (1 - 1e-9):
                        best_cost, best_parts = cost, cand
            if best_parts is None:
                break
            plans = best_parts
        return plans
