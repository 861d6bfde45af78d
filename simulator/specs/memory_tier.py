"""A memory tier of a hardware spec: the ``MemoryTier`` value and its loader (one ``tiers[i]`` mapping).

A tier has a kind (``register``, ``sram``, ``hbm``, ``ddr``, ``dram``), a capacity, read/write bandwidth
in bytes per cycle, a latency, energy per byte, an area (explicit, or from the area model on chip) and,
on chip, optional partitions per operand buffer (SCALE-Sim's separate ifmap / filter / ofmap SRAMs).
``simulator.specs.accelerator`` orders tiers into an ``Accelerator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acceldse.simulator.specs.area import UM2_PER_MM2, storage_area_um2
from acceldse.simulator.specs.renames import TIER_RENAMES, read_renamed
from acceldse.workloads.errors import (
    MAX_AREA_MM2,
    MAX_ARRAY_SIDE,
    MAX_BW_BYTES_PER_CYCLE,
    MAX_ENERGY_PJ,
    MAX_LATENCY_CYCLES,
    MIN_BW_BYTES_PER_CYCLE,
    SpecError,
)
from acceldse.workloads.spec_io import parse_bytes, reject_unknown, spec_float, spec_int

OPERAND_BUFFERS: tuple[str, ...] = ("ifmap", "filter", "ofmap")
"""SRAM partitions of a systolic chip (SCALE-Sim names: inputs, weights, outputs)."""

TIER_KINDS: tuple[str, ...] = ("register", "sram", "hbm", "ddr", "dram")
OFF_CHIP_KINDS: tuple[str, ...] = ("hbm", "ddr", "dram")


@dataclass(frozen=True)
class MemoryTier:
    """One level of the memory hierarchy.

    Attributes:
        name: unique name (``sram``, ``hbm``, ``ddr`` ...).
        kind: one of ``register``, ``sram``, ``hbm``, ``ddr``, ``dram``.
        capacity_bytes: total capacity.
        read_bw_bytes_per_cycle, write_bw_bytes_per_cycle: bandwidth toward the compute.
        latency_cycles: cycles from request to first byte.
        read_energy_pj_per_byte, write_energy_pj_per_byte: dynamic energy.
        area_mm2: silicon area, or ``None``: from the area model for on-chip tiers (SRAM cells for
            ``sram``, register bits for ``register``; ``ports`` read-write ports), 0 off chip.
        partitions: bytes reserved per operand buffer (``ifmap``/``filter``/``ofmap``); empty = shared.
        ports: read-write ports (the area model widens every cell per extra port).
    """

    name: str
    kind: str
    capacity_bytes: int
    read_bw_bytes_per_cycle: float
    write_bw_bytes_per_cycle: float
    latency_cycles: int = 0
    read_energy_pj_per_byte: float = 0.0
    write_energy_pj_per_byte: float = 0.0
    area_mm2: float | None = None
    partitions: dict[str, int] = field(default_factory=dict)
    ports: int = 1

    def area_at(self, technology_nm: float) -> float:
        """Area in mm^2: the explicit ``area_mm2``, else the area model's (0 off chip)."""
        if self.area_mm2 is not None:
            return self.area_mm2
        if not self.on_chip:
            return 0.0
        kind = "regfile" if self.kind == "register" else "sram"
        return storage_area_um2(kind, 8 * self.capacity_bytes, technology_nm, self.ports) / UM2_PER_MM2

    @property
    def on_chip(self) -> bool:
        return self.kind not in OFF_CHIP_KINDS

    def partition_bytes(self, operand: str) -> int:
        """Bytes available to one operand buffer (an equal third of a shared tier)."""
        if self.partitions:
            return self.partitions[operand]
        return self.capacity_bytes // len(OPERAND_BUFFERS)


TIER_KEYS = {"name", "kind", "capacity_bytes", "read_bw_bytes_per_cycle", "write_bw_bytes_per_cycle",
              "bw_bytes_per_cycle", "latency_cycles", "read_energy_pj_per_byte", "write_energy_pj_per_byte",
              "energy_pj_per_byte", "area_mm2", "partition_bytes", "ports"}
"""Keys of one tier mapping (``bw_bytes_per_cycle`` / ``energy_pj_per_byte`` set both directions)."""


def tier_to_dict(tier: MemoryTier) -> dict[str, Any]:
    """The tier as the mapping a version-2 spec holds (``tier_from_dict`` builds it back)."""
    out: dict[str, Any] = {"name": tier.name, "kind": tier.kind, "capacity_bytes": tier.capacity_bytes}
    if tier.partitions:
        out["partition_bytes"] = dict(tier.partitions)
    out.update(read_bw_bytes_per_cycle=tier.read_bw_bytes_per_cycle,
               write_bw_bytes_per_cycle=tier.write_bw_bytes_per_cycle, latency_cycles=tier.latency_cycles,
               read_energy_pj_per_byte=tier.read_energy_pj_per_byte,
               write_energy_pj_per_byte=tier.write_energy_pj_per_byte)
    if tier.area_mm2 is not None:
        out["area_mm2"] = tier.area_mm2
    if tier.ports != 1:
        out["ports"] = tier.ports
    return out


def tier_from_dict(raw: Any, *, key: str, source: str, version: int) -> MemoryTier:
    """Validate one parsed tier mapping (``key``: its path, e.g. ``tiers[1]``) and build the ``MemoryTier``;
    ``version``: the spec version a deprecated key's warning names."""
    if not isinstance(raw, dict):
        raise SpecError("a tier must be a mapping", source=source, key=key, value=raw)
    raw = read_renamed(raw, TIER_RENAMES, source=source, prefix=f"{key}.", version=version)
    reject_unknown(raw, TIER_KEYS, source=source, prefix=f"{key}.")
    kind = str(raw.get("kind", "")).lower()
    if kind not in TIER_KINDS:
        raise SpecError("unknown tier kind", source=source, key=f"{key}.kind", value=raw.get("kind"),
                        accepted=" | ".join(TIER_KINDS))
    if raw.get("read_bw_bytes_per_cycle", raw.get("bw_bytes_per_cycle")) is None \
            or raw.get("write_bw_bytes_per_cycle", raw.get("bw_bytes_per_cycle")) is None:
        raise SpecError("missing key", source=source, key=f"{key}.bw_bytes_per_cycle",
                        accepted="bw_bytes_per_cycle (or both read_bw_bytes_per_cycle and write_bw_bytes_per_cycle), "
                                 f"a number in [{MIN_BW_BYTES_PER_CYCLE:g}, {MAX_BW_BYTES_PER_CYCLE:g}]")
    partitions: dict[str, int] = {}
    raw_parts = raw.get("partition_bytes")
    if raw_parts is not None:
        if not isinstance(raw_parts, dict) or set(raw_parts) != set(OPERAND_BUFFERS):
            raise SpecError("partition_bytes must give every operand buffer", source=source,
                            key=f"{key}.partition_bytes", value=raw_parts,
                            accepted="a mapping with ifmap, filter and ofmap sizes")
        partitions = {op: parse_bytes(raw_parts[op], key=f"{key}.partition_bytes.{op}", source=source)
                      for op in OPERAND_BUFFERS}
    capacity = raw.get("capacity_bytes")
    if capacity is None and partitions:
        capacity_bytes = sum(partitions.values())
    else:
        capacity_bytes = parse_bytes(capacity, key=f"{key}.capacity_bytes", source=source)
    if partitions and sum(partitions.values()) > capacity_bytes:
        raise SpecError("partitions exceed the tier capacity", source=source, key=f"{key}.partition_bytes",
                        value=sum(partitions.values()), accepted=f"at most {capacity_bytes} bytes")
    numbers: dict[str, Any] = {}
    for name, shared, default, parse, limits in _NUMBERS:  # in this order: a file's first bad value is named
        written = name if name in raw or shared not in raw else shared  # a shared key stands for both directions
        value = raw.get(written, default)
        numbers[name] = None if name == "area_mm2" and value is None else \
            parse(value, key=f"{key}.{written}", source=source, **limits)
    return MemoryTier(name=str(raw.get("name") or kind), kind=kind, capacity_bytes=capacity_bytes,
                      partitions=partitions, **numbers)


_BW_LIMITS = {"minimum": MIN_BW_BYTES_PER_CYCLE, "maximum": MAX_BW_BYTES_PER_CYCLE}
_NUMBERS: tuple[tuple[str, str, Any, Any, dict[str, Any]], ...] = (
    ("read_bw_bytes_per_cycle", "bw_bytes_per_cycle", None, spec_float, _BW_LIMITS),
    ("write_bw_bytes_per_cycle", "bw_bytes_per_cycle", None, spec_float, _BW_LIMITS),
    ("latency_cycles", "", 0, spec_int, {"minimum": 0, "maximum": MAX_LATENCY_CYCLES}),
    ("read_energy_pj_per_byte", "energy_pj_per_byte", 0.0, spec_float, {"maximum": MAX_ENERGY_PJ}),
    ("write_energy_pj_per_byte", "energy_pj_per_byte", 0.0, spec_float, {"maximum": MAX_ENERGY_PJ}),
    ("area_mm2", "", None, spec_float, {"maximum": MAX_AREA_MM2}),
    ("ports", "", 1, spec_int, {"maximum": MAX_ARRAY_SIDE}),
)
"""The numeric keys of a tier: (key, the shared key that sets both directions, default, parser, limits)."""


__all__ = ["OFF_CHIP_KINDS", "OPERAND_BUFFERS", "TIER_KEYS", "TIER_KINDS", "MemoryTier", "tier_from_dict",
           "tier_to_dict"]
