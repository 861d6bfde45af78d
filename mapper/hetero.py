"""Heterogeneous sub-accelerators (the NASAIC setting): several arrays with different dataflows and
PE counts share one off-chip bandwidth budget; the layers of one or more networks are assigned to them.

Each sub-accelerator is a ``Hierarchy`` whose outermost level gets ``bandwidth_share`` of the
shared DRAM bandwidth. Every distinct layer shape is mapped on every sub-accelerator (best
mapping under its dataflow); then a list scheduler places layers: each network's layers run
in order (a chain), a sub-accelerator runs one layer at a time, and each layer goes to the
sub-accelerator that finishes it first (``placement="latency"``) or spends least energy
(``placement="energy"``). Schedule columns (``SCHEDULE_COLUMNS``):

    network, layer, sub_accelerator, start_cycle, end_cycle, cycles, energy_pj
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from acceldse.mapper.api import map_layer
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

SCHEDULE_COLUMNS = ("network", "layer", "sub_accelerator", "start_cycle", "end_cycle", "cycles", "energy_pj")


@dataclass(frozen=True)
class SubAccelerator:
    """One sub-accelerator.

    Attributes:
        name: label in the schedule.
        hierarchy: its architecture (preset name, YAML path or ``Hierarchy``).
        dataflow: the dataflow its array fixes (``ws``, ``os``, ``rs``...).
        bandwidth_share: fraction of the shared DRAM bandwidth it gets (0 < share <= 1).
        array: optional ``(level name, mesh_x, mesh_y)`` to resize its PE array.
    """

    name: str
    hierarchy: str | Path | Hierarchy
    dataflow: str
    bandwidth_share: float
    array: tuple[str, int, int] | None = None


def with_array(hierarchy: Hierarchy, level: str, mesh_x: int, mesh_y: int) -> Hierarchy:
    """The hierarchy with level ``level`` replicated ``mesh_x`` x ``mesh_y`` per parent."""
    i = hierarchy.level_index(level)
    levels = list(hierarchy.levels)
    levels[i] = replace(levels[i], instances=mesh_x * mesh_y, mesh_x=mesh_x, mesh_y=mesh_y)
    return replace(hierarchy, levels=tuple(levels), name=f"{hierarchy.name}-{mesh_x}x{mesh_y}")


def with_dram_bandwidth(hierarchy: Hierarchy, words_per_cycle: float) -> Hierarchy:
    """The hierarchy with its outermost level limited to ``words_per_cycle`` read and write."""
    levels = list(hierarchy.levels)
    levels[0] = replace(levels[0], read_bandwidth_words_per_cycle=words_per_cycle,
                        write_bandwidth_words_per_cycle=words_per_cycle)
    return replace(hierarchy, levels=tuple(levels))


@dataclass(frozen=True)
class HeteroResult:
    """Schedule of layers on sub-accelerators.

    Attributes:
        schedule: one row per layer (``SCHEDULE_COLUMNS``).
        latency_cycles: makespan of the schedule.
        energy_pj: total energy of all layers.
        area_mm2: total area of the sub-accelerators.
        per_layer: cycles/energy of every layer on every sub-accelerator (the candidates).
    """

    schedule: pd.DataFrame
    latency_cycles: int
    energy_pj: float
    area_mm2: float
    per_layer: pd.DataFrame
    clock_mhz: float = 1000.0

    @property
    def latency_us(self) -> float:
        """Makespan at the sub-accelerators' common clock (microseconds)."""
        return self.latency_cycles / self.clock_mhz


def assign_layers(networks: list[Network | str], subs: list[SubAccelerator], *,
                  total_bandwidth_words_per_cycle: float, placement: str = "latency", objective: str = "edp",
                  search: str = "ga", budget: int = 5_000, seed: int | None = 0,
                  cache: dict[tuple, tuple[int, float]] | None = None) -> HeteroResult:
    """Map and schedule the MAC layers of ``networks`` on the sub-accelerators ``subs``.

    ``cache`` (a dict kept by the caller) reuses the best mapping's (cycles, energy) of a layer shape on a
    sub-accelerator across calls; entries are keyed by layer shape, hierarchy name (with its array size),
    dataflow, bandwidth and the search settings.
    """
    if not subs:
        raise SpecError("need at least one sub-accelerator", source="subs", value=subs)
    if placement not in ("latency", "energy"):
        raise SpecError("unknown placement rule", source="placement", value=placement, accepted="latency | energy")
    shares = [s.bandwidth_share for s in subs]
    if any(not 0 < s <= 1 for s in shares) or sum(shares) > 1 + 1e-9:
        raise SpecError("bandwidth shares must be in (0, 1] and sum to at most 1", source="subs",
                        key="bandwidth_share", value=shares)
    hiers = []
    for s in subs:
        h = load_hierarchy(s.hierarchy)
        if s.array is not None:
            h = with_array(h, *s.array)
        hiers.append(with_dram_bandwidth(h, s.bandwidth_share * total_bandwidth_words_per_cycle))
    clocks = {h.clock_mhz for h in hiers}
    if len(clocks) > 1:
        raise SpecError("sub-accelerators must share one clock (the schedule counts cycles)", source="subs",
                        key="clock_mhz", value={h.name: h.clock_mhz for h in hiers},
                        accepted="hierarchies with the same clock_mhz")
    nets = []
    for net in networks:
        if not isinstance(net, Network):
            from acceldse.workloads.loader import load_workload

            net = load_workload(net)
        nets.append(net)
    cache = {} if cache is None else cache
    rows = []
    for net in nets:
        for lay in net:
            if lay.macs == 0:
                continue
            key_shape = (tuple(lay.dims.values()), lay.stride, lay.dilation)
            for s, h in zip(subs, hiers):
                key = (key_shape, h.name, s.dataflow, h.levels[0].read_bandwidth_words_per_cycle, objective, search,
                       budget, seed)
                if key not in cache:
                    res = map_layer(lay, h, dataflow=s.dataflow, objective=objective, search=search, budget=budget,
                                    seed=seed)
                    cache[key] = (res.cost.cycles, res.cost.energy_pj) if res.cost else (-1, float("inf"))
                cycles, energy = cache[key]
                rows.append((net.name, lay.name, s.name, cycles, energy))
    per_layer = pd.DataFrame(rows, columns=["network", "layer", "sub_accelerator", "cycles", "energy_pj"])
    options: dict[tuple[str, str], list[tuple[str, int, float]]] = {(r[0], r[1]): [] for r in rows}
    for r in rows:
        if r[3] >= 0:
            options[r[0], r[1]].append((r[2], r[3], r[4]))
    free = {s.name: 0 for s in subs}
    queues = [[lay.name for lay in net if lay.macs > 0] for net in nets]
    ready = [0] * len(nets)
    sched = []
    while any(queues):
        # the network whose next layer can start earliest goes next
        k = min((i for i in range(len(nets)) if queues[i]), key=lambda i: ready[i])
        name = queues[k].pop(0)
        cands = options[nets[k].name, name]
        if not cands:
            raise SpecError("no sub-accelerator can run this layer", source=nets[k].name, key=name)

        def rank(c: tuple[str, int, float], k: int = k) -> tuple[float, float]:
            end = max(free[c[0]], ready[k]) + c[1]
            return (end, c[2]) if placement == "latency" else (c[2], end)

        sub, cycles, energy = min(cands, key=rank)
        start = max(free[sub], ready[k])
        free[sub] = ready[k] = start + cycles
        sched.append((nets[k].name, name, sub, start, start + cycles, cycles, energy))
    schedule = pd.DataFrame(sched, columns=list(SCHEDULE_COLUMNS))
    return HeteroResult(schedule, int(schedule["end_cycle"].max()), float(schedule["energy_pj"].sum()),
                        float(sum(h.area_mm2 for h in hiers)), per_layer, hiers[0].clock_mhz)
