"""The folding space of one partition: coarse factors linked across stream edges, fine per stage.

fpgaConvNet streams ``coarse_out`` words per cycle from a stage into the next one, whose
``coarse_in`` must match (SAMO's inter-layer folding constraint); a pooling or elementwise stage
has ``coarse_in == coarse_out``.  We group the stages' input/output ports into *components*
(union-find over those equalities, inside one partition); each component takes one value from the
divisors of the gcd of the channel counts of its ports.  With ``match_coarse=False`` every port is
its own component.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from acceldse.simulator.fpga.design import (
    PartitionReport,
    PartitionTopology,
    evaluate_topology,
    partition_topology,
    partition_violations,
)
from acceldse.simulator.fpga.stage import (
    Folding,
    StageCost,
    channels_in,
    channels_out,
    divisors,
    kernel_size,
    stage_cost,
)
from acceldse.simulator.specs.platform import Platform
from acceldse.workloads.network import Network


@dataclass
class PartitionSpace:
    """Components and allowed values for one partition.

    Attributes:
        names: layer names of the partition (topological order).
        in_comp, out_comp: component index of each stage's input / output port.
        values: allowed values (increasing) of each component.
        fines: allowed fine factors (increasing) of each stage.
    """

    network: Network
    names: list[str]
    platform: Platform
    batch: int
    in_comp: dict[str, int] = field(default_factory=dict)
    out_comp: dict[str, int] = field(default_factory=dict)
    values: list[list[int]] = field(default_factory=list)
    fines: dict[str, list[int]] = field(default_factory=dict)
    allow_lut: bool = True
    fifo_depth_words: int = 32
    _cache: dict[tuple[str, int, int, int, str, bool, bool], StageCost] = field(default_factory=dict)
    _topology: PartitionTopology | None = None

    @classmethod
    def build(cls, network: Network, names: Sequence[str], platform: Platform, batch: int, *,
              match_coarse: bool = True, allow_lut: bool = True, fifo_depth_words: int = 32) -> PartitionSpace:
        names = list(names)
        ports = [(n, side) for n in names for side in ("in", "out")]
        parent = {p: p for p in ports}

        def find(p: tuple[str, str]) -> tuple[str, str]:
            while parent[p] != p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p

        def union(a: tuple[str, str], b: tuple[str, str]) -> None:
            parent[find(a)] = find(b)

        inside = set(names)
        for n in names:
            if not network[n].has_weights:
                union((n, "in"), (n, "out"))
        if match_coarse:
            for a, b in network.edges:
                if a in inside and b in inside:
                    union((a, "out"), (b, "in"))
        sizes: dict[tuple[str, str], int] = {}
        for n in names:
            layer = network[n]
            for side, size in (("in", channels_in(layer)), ("out", channels_out(layer))):
                root = find((n, side))
                sizes[root] = math.gcd(sizes.get(root, 0), size)
        roots = sorted(sizes, key=lambda r: (names.index(r[0]), r[1]))
        index = {r: i for i, r in enumerate(roots)}
        space = cls(network, names, platform, batch, allow_lut=allow_lut, fifo_depth_words=fifo_depth_words)
        space.values = [divisors(sizes[r]) for r in roots]
        for n in names:
            space.in_comp[n] = index[find((n, "in"))]
            space.out_comp[n] = index[find((n, "out"))]
            space.fines[n] = divisors(kernel_size(network[n]))
        return space

    # ---- states -------------------------------------------------------------------------------
    def minimal_state(self, on_chip: dict[str, bool] | None = None) -> State:
        on_chip = on_chip or {}
        return State([1] * len(self.values), {n: 1 for n in self.names}, {n: "dsp" for n in self.names},
                     {n: on_chip.get(n, True) for n in self.names}, {n: False for n in self.names})

    def foldings(self, state: State) -> dict[str, Folding]:
        return {n: Folding(state.comp[self.in_comp[n]], state.comp[self.out_comp[n]], state.fine[n],
                           state.personality[n], state.on_chip[n], state.uram[n])  # type: ignore[arg-type]
                for n in self.names}

    def cost(self, name: str, folding: Folding) -> StageCost:
        key = (name, folding.coarse_in, folding.coarse_out, folding.fine, folding.personality,
               folding.weights_on_chip, folding.weights_in_uram)
        hit = self._cache.get(key)
        if hit is None:
            hit = stage_cost(self.network[name], folding, check=False)
            self._cache[key] = hit
        return hit

    def evaluate(self, state: State) -> tuple[PartitionReport, list[str]]:
        if self._topology is None:
            self._topology = partition_topology(self.network, self.names, self.fifo_depth_words)
        costs: dict[str, StageCost] = {}
        outs: dict[str, int] = {}
        ins: dict[str, int] = {}
        cache = self._cache
        for n in self.names:
            ci, co = state.comp[self.in_comp[n]], state.comp[self.out_comp[n]]
            key = (n, ci, co, state.fine[n], state.personality[n], state.on_chip[n], state.uram[n])
            hit = cache.get(key)
            if hit is None:
                hit = stage_cost(self.network[n], Folding(ci, co, key[3], key[4], key[5], key[6]),  # type: ignore[arg-type]
                                 check=False)
                cache[key] = hit
            costs[n] = hit
            outs[n] = co
            ins[n] = ci
        rep = evaluate_topology(self._topology, costs, outs, self.platform, self.batch, ins)
        return rep, partition_violations(rep, self.platform, 0)

    def utilisation(self, rep: PartitionReport) -> float:
        """Mean fraction of dsp, bram18, lut, ff used."""
        res = ("dsp", "bram18", "lut", "ff")
        return sum(rep.resources[r] / getattr(self.platform, r) for r in res) / len(res)


@dataclass
class State:
    """Folding state of a partition: value per component; fine, personality, weight placement per stage."""

    comp: list[int]
    fine: dict[str, int]
    personality: dict[str, str]
    on_chip: dict[str, bool]
    uram: dict[str, bool]

    def copy(self) -> State:
        return replace(self, comp=list(self.comp), fine=dict(self.fine), personality=dict(self.personality),
                       on_chip=dict(self.on_chip), uram=dict(self.uram))


def objective_cycles(rep: PartitionReport, objective: str) -> int:
    """Cycles the objective minimises for one partition (interval, or interval + fill for latency)."""
    return rep.interval_cycles + (rep.fill_cycles if objective == "latency" else 0)
