"""A Timeloop-style hierarchical architecture: storage levels from DRAM inward, then a MAC.

Each ``StorageLevel`` is replicated ``instances`` times *per instance of its parent*
(a ``mesh_x`` x ``mesh_y`` fan-out), keeps some dataspaces (``inputs``, ``weights``,
``outputs``; the others bypass it), and has an Accelergy-style per-action energy table:
``read``, ``fill`` (write of data arriving from the parent) and ``update`` (write of a
partial sum arriving from the child), each in pJ per access of one block
(``block_size`` words). Capacities are in words (``word_bits`` each); ``None`` means
unbounded (DRAM). Bandwidths are in words per cycle per instance; ``None`` means
unlimited.

This spec is independent of the systolic ``Accelerator`` in ``simulator.specs.accelerator``; the
mapper (``mapper/``) searches mappings onto it. Load presets or files with
``simulator.specs.hierarchy_loader.load_hierarchy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acceldse.simulator.specs.area import (
    MEMORY_KINDS,
    UM2_PER_MM2,
    check_technology,
    mac_area_um2,
    storage_area_um2,
)
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import apply_changes, to_yaml_text

DATASPACES: tuple[str, ...] = ("inputs", "weights", "outputs")
"""Dataspace order used by every array in the mapper (index 0, 1, 2)."""

ACTIONS: tuple[str, ...] = ("read", "fill", "update")
"""Per-access actions of a storage level (index 0, 1, 2)."""

@dataclass(frozen=True)
class StorageLevel:
    """One storage level (a buffer replicated ``instances`` times under each parent instance).

    Attributes:
        name: level name (``DRAM``, ``shared_glb``, ``psum_spad``...).
        instances: copies per parent instance (the spatial fan-out into this level).
        mesh_x, mesh_y: arrangement of those copies; ``mesh_x * mesh_y == instances``.
        keeps: dataspaces this level may hold (others bypass it).
        always_keeps: of those, the ones a search must not bypass (Timeloop's ``keep`` constraints).
        capacity_words: shared capacity in words, or ``None`` (unbounded).
        capacity_words_per_dataspace: optional per-dataspace capacity in words.
        word_bits: bits per word.
        block_size: words per access (an access energy covers one block).
        read_bandwidth_words_per_cycle, write_bandwidth_words_per_cycle: per instance; ``None`` = unlimited.
        energy_pj: ``{dataspace: (read, fill, update)}`` pJ per block access.
        leakage_pj_per_cycle: static energy per instance per cycle.
        area_mm2: area of one instance, or ``None``: from the area model (``simulator.specs.area``)
            by capacity in bits, ``memory`` kind and ``ports``; unbounded levels (DRAM) have none.
        double_buffered: default multiple-buffering of tiles held here (doubles their footprint).
        cluster_size: instances accessed together by one access (Timeloop's ``cluster_size``): the
            ``energy_pj`` entries are per cluster access, shared by the utilised instances of a cluster.
        memory: ``sram`` | ``regfile``: how the area model builds it.
        ports: read-write ports of one instance (each extra port widens every cell).
    """

    name: str
    instances: int = 1
    mesh_x: int = 1
    mesh_y: int = 1
    keeps: tuple[str, ...] = DATASPACES
    always_keeps: tuple[str, ...] = ()
    capacity_words: int | None = None
    capacity_words_per_dataspace: dict[str, int] = field(default_factory=dict)
    word_bits: int = 8
    block_size: int = 1
    read_bandwidth_words_per_cycle: float | None = None
    write_bandwidth_words_per_cycle: float | None = None
    energy_pj: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    leakage_pj_per_cycle: float = 0.0
    area_mm2: float | None = None
    double_buffered: bool = False
    cluster_size: int = 1
    memory: str = "sram"
    ports: int = 1

    @property
    def capacity_bits(self) -> int:
        """Bits one instance holds (0 when unbounded)."""
        words = self.capacity_words if self.capacity_words is not None else \
            sum(self.capacity_words_per_dataspace.values())
        return words * self.word_bits

    def instance_area_mm2(self, technology_nm: float) -> float:
        """Area of one instance: the explicit ``area_mm2`` or the area model's."""
        if self.area_mm2 is not None:
            return self.area_mm2
        bits = self.capacity_bits
        if bits == 0:
            return 0.0
        return storage_area_um2(self.memory, bits, technology_nm, self.ports) / UM2_PER_MM2

    def __post_init__(self) -> None:
        where = f"level {self.name!r}"
        if self.mesh_x * self.mesh_y != self.instances:
            raise SpecError("mesh_x * mesh_y must equal instances", source=where, key="instances",
                            value=(self.instances, self.mesh_x, self.mesh_y),
                            accepted=f"instances = {self.mesh_x * self.mesh_y}")
        for ds in self.keeps:
            if ds not in DATASPACES:
                raise SpecError("unknown dataspace", source=where, key="keeps", value=ds,
                                accepted=" | ".join(DATASPACES))
        for ds in self.always_keeps:
            if ds not in self.keeps:
                raise SpecError("always_keeps must be among keeps", source=where, key="always_keeps", value=ds,
                                accepted=" | ".join(self.keeps) or "nothing (the level keeps nothing)")
        for ds in self.capacity_words_per_dataspace:
            if ds not in DATASPACES:
                raise SpecError("unknown dataspace", source=where, key="capacity_words", value=ds,
                                accepted=" | ".join(DATASPACES))
        if self.memory not in MEMORY_KINDS:
            raise SpecError("unknown memory kind", source=where, key="memory", value=self.memory,
                            accepted=" | ".join(MEMORY_KINDS))


@dataclass(frozen=True)
class ComputeUnit:
    """The MAC at the bottom of the hierarchy.

    Attributes:
        name: ``mac``.
        instances, mesh_x, mesh_y: MACs per innermost storage instance.
        energy_pj: energy of one MAC (pJ).
        area_mm2: area of one MAC, or ``None``: from the area model by ``bits``.
        bits: operand precision of the multiplier (the accumulator is twice as wide).
    """

    name: str = "mac"
    instances: int = 1
    mesh_x: int = 1
    mesh_y: int = 1
    energy_pj: float = 0.0
    area_mm2: float | None = None
    bits: int = 8

    def instance_area_mm2(self, technology_nm: float) -> float:
        """Area of one MAC: the explicit ``area_mm2`` or the area model's."""
        if self.area_mm2 is not None:
            return self.area_mm2
        return mac_area_um2(self.bits, technology_nm) / UM2_PER_MM2


def _level_to_dict(lv: StorageLevel) -> dict[str, Any]:
    out: dict[str, Any] = {"name": lv.name, "instances": lv.instances, "mesh_x": lv.mesh_x, "mesh_y": lv.mesh_y,
                           "keeps": list(lv.keeps)}
    if lv.always_keeps:
        out["always_keeps"] = list(lv.always_keeps)
    if lv.capacity_words_per_dataspace:
        out["capacity_words"] = dict(lv.capacity_words_per_dataspace)
    elif lv.capacity_words is not None:
        out["capacity_words"] = lv.capacity_words
    out.update(word_bits=lv.word_bits, block_size=lv.block_size)
    for key in ("read_bandwidth_words_per_cycle", "write_bandwidth_words_per_cycle"):
        if getattr(lv, key) is not None:
            out[key] = getattr(lv, key)
    out["energy_pj"] = {ds: dict(zip(ACTIONS, table)) for ds, table in lv.energy_pj.items()}
    out["leakage_pj_per_cycle"] = lv.leakage_pj_per_cycle
    if lv.area_mm2 is not None:
        out["area_mm2"] = lv.area_mm2
    out.update(double_buffered=lv.double_buffered, cluster_size=lv.cluster_size, memory=lv.memory, ports=lv.ports)
    return out


@dataclass(frozen=True)
class Hierarchy:
    """An architecture: ``levels`` from the outermost (DRAM) inward, then ``compute``.

    Attributes:
        name: preset or file name.
        levels: storage levels, outermost first. Level 0 keeps every dataspace.
        compute: the MAC.
        clock_mhz: clock frequency; turns cycles into time (``latency_us = cycles / clock_mhz``).
        dataflow: the dataflow the hardware fixes (a ``dataflows`` name), or ``None`` (mapper chooses).
        technology_nm: process node of the area model (``simulator.specs.area``).
    """

    name: str
    levels: tuple[StorageLevel, ...]
    compute: ComputeUnit
    clock_mhz: float = 1000.0
    dataflow: str | None = None
    technology_nm: float = 45.0

    def __post_init__(self) -> None:
        if not self.levels:
            raise SpecError("a hierarchy needs at least one storage level", source=self.name, key="levels")
        if set(self.levels[0].keeps) != set(DATASPACES):
            raise SpecError("the outermost level must keep every dataspace", source=self.name,
                            key="levels[0].keeps", value=list(self.levels[0].keeps),
                            accepted=" ,".join(DATASPACES))
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise SpecError("level names must be unique", source=self.name, key="levels", value=names)
        check_technology(self.technology_nm, source=self.name)
        if not self.clock_mhz > 0:
            raise SpecError("must be > 0", source=self.name, key="clock_mhz", value=self.clock_mhz,
                            accepted="a clock frequency in MHz > 0")

    def to_dict(self) -> dict[str, Any]:
        """The hierarchy as the mapping its YAML file holds (``load_hierarchy`` builds it back)."""
        out: dict[str, Any] = {"version": 2, "name": self.name, "clock_mhz": self.clock_mhz,
                               "technology_nm": self.technology_nm}
        if self.dataflow is not None:
            out["dataflow"] = self.dataflow
        out["levels"] = [_level_to_dict(lv) for lv in self.levels]
        c = self.compute
        compute: dict[str, Any] = {"name": c.name, "instances": c.instances, "mesh_x": c.mesh_x, "mesh_y": c.mesh_y,
                                   "energy_pj": c.energy_pj, "bits": c.bits}
        if c.area_mm2 is not None:
            compute["area_mm2"] = c.area_mm2
        out["compute"] = compute
        return out

    def to_yaml(self) -> str:
        """The hierarchy as YAML text."""
        return to_yaml_text(self.to_dict())

    def replace(self, changes: dict[str, Any] | None = None, /, **sections: Any) -> Hierarchy:
        """A copy with some keys changed, validated like a YAML file: a level is named by its name or
        index (``h.replace(levels={"shared_glb": {"capacity_words": 65536}})``, or dotted keys
        ``h.replace({"levels.DRAM.read_bandwidth_words_per_cycle": 8})``)."""
        from acceldse.simulator.specs.hierarchy_loader import build_hierarchy

        source = f"{self.name}.replace()"
        return build_hierarchy(apply_changes(self.to_dict(), {**(changes or {}), **sections}, source=source),
                               source=source)

    def latency_us(self, cycles: float) -> float:
        """Time of ``cycles`` at this hierarchy's clock (microseconds)."""
        return cycles / self.clock_mhz

    # ---- derived ------------------------------------------------------------------------------
    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def level_index(self, name: str) -> int:
        for i, lv in enumerate(self.levels):
            if lv.name == name:
                return i
        raise SpecError("unknown level", source=self.name, key="level", value=name,
                        accepted=" | ".join(lv.name for lv in self.levels))

    def fanout_below(self, level: int) -> tuple[int, int]:
        """(mesh_x, mesh_y) fan-out from ``level`` to the next level inward (or the MACs)."""
        child = self.levels[level + 1] if level + 1 < self.num_levels else self.compute
        return (child.mesh_x, child.mesh_y)

    def total_instances(self, level: int) -> int:
        """Hardware instances of ``level`` in the whole chip (``level == num_levels``: MACs)."""
        n = 1
        for lv in self.levels[: level + 1]:
            n *= lv.instances
        if level >= self.num_levels:
            n *= self.compute.instances
        return n

    @property
    def num_macs(self) -> int:
        return self.total_instances(self.num_levels)

    def area_breakdown_mm2(self) -> dict[str, float]:
        """Area of every level (all its instances) and of all MACs (mm^2), at ``technology_nm``."""
        out = {lv.name: lv.instance_area_mm2(self.technology_nm) * self.total_instances(i)
               for i, lv in enumerate(self.levels)}
        out[self.compute.name] = self.compute.instance_area_mm2(self.technology_nm) * self.num_macs
        return out

    @property
    def area_mm2(self) -> float:
        """Total area: every level instance plus every MAC (mm^2)."""
        return sum(self.area_breakdown_mm2().values())

    def arrays(self) -> HierarchyArrays:
        """Numeric arrays for the numba cost kernel."""
        n = self.num_levels
        keep = np.zeros((n, 3), dtype=np.bool_)
        cap = np.full((n, 4), -1, dtype=np.int64)
        block = np.ones(n, dtype=np.int64)
        bw = np.zeros((n, 2), dtype=np.float64)
        energy = np.zeros((n, 3, 3), dtype=np.float64)
        leak = np.zeros(n, dtype=np.float64)
        fan = np.ones((n, 2), dtype=np.int64)
        clusters = np.ones(n, dtype=np.int64)
        dbuf = np.zeros(n, dtype=np.bool_)
        for i, lv in enumerate(self.levels):
            for j, ds in enumerate(DATASPACES):
                keep[i, j] = ds in lv.keeps
                if ds in lv.capacity_words_per_dataspace:
                    cap[i, 1 + j] = lv.capacity_words_per_dataspace[ds]
                if ds in lv.energy_pj:
                    energy[i, j, :] = lv.energy_pj[ds]
            if lv.capacity_words is not None:
                cap[i, 0] = lv.capacity_words
            block[i] = lv.block_size
            bw[i, 0] = lv.read_bandwidth_words_per_cycle or 0.0
            bw[i, 1] = lv.write_bandwidth_words_per_cycle or 0.0
            leak[i] = lv.leakage_pj_per_cycle
            fan[i, :] = self.fanout_below(i)
            dbuf[i] = lv.double_buffered
            clusters[i] = max(1, self.total_instances(i) // lv.cluster_size)
        return HierarchyArrays(keep=keep, capacity=cap, block=block, bandwidth=bw, energy=energy,
                               leakage=leak, fanout=fan, clusters=clusters, double_buffered=dbuf,
                               mac_energy_pj=float(self.compute.energy_pj))


@dataclass(frozen=True)
class HierarchyArrays:
    """Array view of a ``Hierarchy`` (L levels).

    keep[L,3] bool; capacity[L,4] words (col 0 shared, 1..3 per dataspace; -1 unbounded);
    block[L] words; bandwidth[L,2] read/write words per cycle (0 unlimited);
    energy[L,3,3] pJ per block access [level, dataspace, action]; leakage[L] pJ/cycle;
    fanout[L,2] (x, y) fan-out below each level; clusters[L] access clusters of each level in the
    whole chip (instances / cluster_size); double_buffered[L]; mac_energy_pj.
    """

    keep: np.ndarray
    capacity: np.ndarray
    block: np.ndarray
    bandwidth: np.ndarray
    energy: np.ndarray
    leakage: np.ndarray
    fanout: np.ndarray
    clusters: np.ndarray
    double_buffered: np.ndarray
    mac_energy_pj: float


__all__ = ["ACTIONS", "DATASPACES", "ComputeUnit", "Hierarchy", "HierarchyArrays", "StorageLevel"]
