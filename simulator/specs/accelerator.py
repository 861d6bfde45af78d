"""The hardware spec: a compute fabric and its memory tiers, loaded from versioned YAML.

An ``Accelerator`` is a clock, a systolic array (rows x cols of MAC PEs; ``cores`` identical
arrays sharing the tiers) and memory tiers ordered from the compute outward (registers ->
on-chip SRAM -> HBM -> DDR). A tier has a capacity, read/write bandwidth in bytes per
cycle, a latency, energy per byte and area; an on-chip tier may be partitioned per operand
(SCALE-Sim's separate ifmap / filter / ofmap SRAMs). Everything is checked once, at load,
and bad values raise ``SpecError`` naming the file, key and value.

Spec version 2 names every size with its unit: a tier's ``capacity_bytes`` and
``partition_bytes`` (version 1's ``capacity`` and ``partitions`` are still read, with a
``DeprecationWarning``; see ``simulator.specs.renames``). Sizes take a number of bytes or a
string with a unit (``64KiB``, ``1.5TB``); bandwidths are ``*_bytes_per_cycle`` at ``clock_mhz``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acceldse.simulator.specs.area import UM2_PER_MM2, check_technology, pe_area_um2, storage_area_um2
from acceldse.simulator.specs.renames import TIER_RENAMES, read_renamed
from acceldse.workloads.errors import (
    MAX_AREA_MM2,
    MAX_ARRAY_SIDE,
    MAX_BW_BYTES_PER_CYCLE,
    MAX_CLOCK_MHZ,
    MAX_ENERGY_PJ,
    MAX_LATENCY_CYCLES,
    MIN_BW_BYTES_PER_CYCLE,
    MIN_CLOCK_MHZ,
    SpecError,
    require_float,
    require_int,
)
from acceldse.workloads.spec_io import (
    apply_changes,
    check_version,
    load_yaml,
    parse_bytes,
    reject_unknown,
    section,
    to_yaml_text,
)

OPERAND_BUFFERS: tuple[str, ...] = ("ifmap", "filter", "ofmap")
"""SRAM partitions of a systolic chip (SCALE-Sim names: inputs, weights, outputs)."""

TIER_KINDS: tuple[str, ...] = ("register", "sram", "hbm", "ddr", "dram")
OFF_CHIP_KINDS: tuple[str, ...] = ("hbm", "ddr", "dram")

def _not_text(value: Any, key: str, source: str | None) -> None:
    """A number written as a string (``rows: "32"`` in YAML, ``{"rows": "32"}`` from Python) is a wrong type,
    refused rather than read as a number (sizes such as ``64KiB`` are parsed elsewhere)."""
    if isinstance(value, str):
        raise SpecError("must be a number, not a string", source=source, key=key, value=value,
                        accepted="a number without quotes")


def _int(value: Any, *, key: str, source: str | None = None, **limits: Any) -> int:
    _not_text(value, key, source)
    return require_int(value, key=key, source=source, **limits)


def _float(value: Any, *, key: str, source: str | None = None, **limits: Any) -> float:
    _not_text(value, key, source)
    return require_float(value, key=key, source=source, **limits)



@dataclass(frozen=True)
class SystolicArray:
    """A rows x cols grid of MAC PEs.

    Attributes:
        rows, cols: PEs along each axis.
        mac_energy_pj: energy of one multiply-accumulate.
        pe_area_mm2: area of one PE (MAC and its registers), or ``None``: from the area model
            (``simulator.specs.area.pe_area_um2``) at the chip's word size and technology node.
    """

    rows: int
    cols: int
    mac_energy_pj: float = 0.2
    pe_area_mm2: float | None = None

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def area_mm2(self, bits: int, technology_nm: float) -> float:
        """All PEs of the array with ``bits``-wide operands at ``technology_nm``."""
        pe = self.pe_area_mm2 if self.pe_area_mm2 is not None else pe_area_um2(bits, technology_nm) / UM2_PER_MM2
        return self.pes * pe


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


@dataclass(frozen=True)
class Accelerator:
    """A compute fabric plus its memory tiers (closest to the compute first).

    Attributes:
        name: preset or file name.
        clock_mhz: clock frequency.
        array: the systolic array of each core.
        tiers: memory tiers, on-chip first, at least one on-chip and one off-chip tier.
        word_bytes: bytes per operand word moved by the array (SCALE-Sim uses 1).
        cores: identical arrays sharing the tiers.
        dataflow: the dataflow the hardware is built for (``None``: any of os/ws/is).
        description: one line for ``acceldse list``.
        source: where it was loaded from.
        technology_nm: process node of the area model (``simulator.specs.area``).
    """

    name: str
    clock_mhz: float
    array: SystolicArray
    tiers: tuple[MemoryTier, ...]
    word_bytes: int = 1
    cores: int = 1
    dataflow: str | None = None
    description: str = ""
    source: str = ""
    technology_nm: float = 45.0

    @property
    def sram(self) -> MemoryTier:
        """The on-chip tier that feeds the array (the closest SRAM)."""
        return next(t for t in self.tiers if t.kind == "sram")

    @property
    def dram(self) -> MemoryTier:
        """The closest off-chip tier (HBM, DDR or DRAM)."""
        return next(t for t in self.tiers if not t.on_chip)

    def area_breakdown_mm2(self) -> dict[str, float]:
        """Area of the arrays (all cores) and of every tier, in mm^2."""
        out = {"array": self.cores * self.array.area_mm2(8 * self.word_bytes, self.technology_nm)}
        out.update({t.name: t.area_at(self.technology_nm) for t in self.tiers})
        return out

    @property
    def area_mm2(self) -> float:
        return sum(self.area_breakdown_mm2().values())

    def tier(self, name: str) -> MemoryTier:
        for t in self.tiers:
            if t.name == name:
                return t
        raise SpecError("unknown memory tier", source=self.source or self.name, key="tiers", value=name,
                        accepted=", ".join(t.name for t in self.tiers))

    def to_dict(self) -> dict[str, Any]:
        """The spec as the mapping a version-2 YAML file holds (``accelerator_from_dict`` builds it back)."""
        out: dict[str, Any] = {"version": VERSION, "name": self.name}
        if self.description:
            out["description"] = self.description
        out.update(clock_mhz=self.clock_mhz, word_bytes=self.word_bytes, cores=self.cores,
                   technology_nm=self.technology_nm)
        if self.dataflow is not None:
            out["dataflow"] = self.dataflow
        array: dict[str, Any] = {"rows": self.array.rows, "cols": self.array.cols,
                                 "mac_energy_pj": self.array.mac_energy_pj}
        if self.array.pe_area_mm2 is not None:
            array["pe_area_mm2"] = self.array.pe_area_mm2
        out["array"] = array
        out["tiers"] = [_tier_to_dict(t) for t in self.tiers]
        return out

    def to_yaml(self) -> str:
        """The spec as version-2 YAML text (write it to a file and load it with ``load_hardware``)."""
        return to_yaml_text(self.to_dict())

    def replace(self, changes: dict[str, Any] | None = None, /, **sections: Any) -> Accelerator:
        """A copy with some keys changed, validated exactly like a YAML file.

        ``acc.replace(array={"rows": 64})`` merges into a section; a tier is named by its name or
        index (``acc.replace(tiers={"sram": {"capacity_bytes": "1MiB"}})``); dotted keys go in the
        mapping (``acc.replace({"array.rows": 64, "tiers.dram.bw_bytes_per_cycle": 32})``). A bad
        value raises a ``SpecError`` naming the key."""
        source = f"{self.name}.replace()"
        return accelerator_from_dict(apply_changes(self.to_dict(), {**(changes or {}), **sections}, source=source),
                                     source=source)

    def validated(self, *, source: str = "hardware") -> Accelerator:
        """This spec checked exactly like a YAML file (an object built with ``dataclasses.replace``
        skips the loader; a bad value raises a ``SpecError`` naming ``source`` and the key)."""
        import dataclasses

        return dataclasses.replace(accelerator_from_dict(self.to_dict(), source=source), source=self.source)


def _tier_to_dict(tier: MemoryTier) -> dict[str, Any]:
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


# ---- building from a mapping (YAML) ------------------------------------------------------

_TOP_KEYS = {"version", "name", "description", "clock_mhz", "word_bytes", "cores", "dataflow", "array", "tiers",
             "technology_nm"}
_ARRAY_KEYS = {"rows", "cols", "mac_energy_pj", "pe_area_mm2"}
_TIER_KEYS = {"name", "kind", "capacity_bytes", "read_bw_bytes_per_cycle", "write_bw_bytes_per_cycle",
              "bw_bytes_per_cycle", "latency_cycles", "read_energy_pj_per_byte", "write_energy_pj_per_byte",
              "energy_pj_per_byte", "area_mm2", "partition_bytes", "ports"}
VERSION = 2
"""The current accelerator spec version (2: ``capacity_bytes``, ``partition_bytes``)."""
SUPPORTED_VERSIONS = (1, 2)


def accelerator_from_dict(data: dict[str, Any], *, source: str) -> Accelerator:
    """Validate a parsed spec and build the frozen ``Accelerator``."""
    check_version(data, kind="hardware", source=source, versions=SUPPORTED_VERSIONS)
    reject_unknown(data, _TOP_KEYS, source=source)
    arr = section(data, "array", source=source)
    reject_unknown(arr, _ARRAY_KEYS, source=source, prefix="array.")
    array = SystolicArray(
        rows=_int(arr.get("rows"), key="array.rows", source=source, maximum=MAX_ARRAY_SIDE),
        cols=_int(arr.get("cols"), key="array.cols", source=source, maximum=MAX_ARRAY_SIDE),
        mac_energy_pj=_float(arr.get("mac_energy_pj", 0.2), key="array.mac_energy_pj", source=source,
                                    maximum=MAX_ENERGY_PJ),
        pe_area_mm2=None if arr.get("pe_area_mm2") is None else
        _float(arr["pe_area_mm2"], key="array.pe_area_mm2", source=source, maximum=MAX_AREA_MM2),
    )
    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise SpecError("missing or empty", source=source, key="tiers", value=raw_tiers,
                        accepted="a list of memory tiers, closest to the compute first")
    tiers = tuple(_tier_from_dict(t, key=f"tiers[{i}]", source=source) for i, t in enumerate(raw_tiers))
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise SpecError("tier names must be unique", source=source, key="tiers", value=names)
    if not any(t.kind == "sram" for t in tiers):
        raise SpecError("needs an on-chip SRAM tier", source=source, key="tiers", value=[t.kind for t in tiers],
                        accepted="at least one tier with kind: sram")
    if all(t.on_chip for t in tiers):
        raise SpecError("needs an off-chip tier", source=source, key="tiers", value=[t.kind for t in tiers],
                        accepted="at least one tier with kind hbm, ddr or dram")
    first_off = next(i for i, t in enumerate(tiers) if not t.on_chip)
    if any(t.on_chip for t in tiers[first_off:]):
        raise SpecError("tiers must be ordered from the compute outward (on-chip first)", source=source,
                        key="tiers", value=names)
    dataflow = data.get("dataflow")
    if dataflow is not None and str(dataflow).lower() not in ("os", "ws", "is"):
        raise SpecError("unknown dataflow", source=source, key="dataflow", value=dataflow, accepted="os | ws | is")
    acc = Accelerator(
        name=str(data.get("name") or Path(source).stem),
        clock_mhz=_float(data.get("clock_mhz", 1000), key="clock_mhz", source=source, minimum=MIN_CLOCK_MHZ,
                                maximum=MAX_CLOCK_MHZ),
        array=array,
        tiers=tiers,
        word_bytes=_int(data.get("word_bytes", 1), key="word_bytes", source=source, maximum=64),
        cores=_int(data.get("cores", 1), key="cores", source=source, maximum=MAX_ARRAY_SIDE),
        dataflow=None if dataflow is None else str(dataflow).lower(),
        description=str(data.get("description", "")),
        source=source,
        technology_nm=check_technology(_float(data.get("technology_nm", 45.0), key="technology_nm",
                                                     source=source), source=source),
    )
    check_fits(acc)
    return acc


def _tier_from_dict(raw: Any, *, key: str, source: str) -> MemoryTier:
    if not isinstance(raw, dict):
        raise SpecError("a tier must be a mapping", source=source, key=key, value=raw)
    raw = read_renamed(raw, TIER_RENAMES, source=source, prefix=f"{key}.", version=VERSION)
    reject_unknown(raw, _TIER_KEYS, source=source, prefix=f"{key}.")
    kind = str(raw.get("kind", "")).lower()
    if kind not in TIER_KINDS:
        raise SpecError("unknown tier kind", source=source, key=f"{key}.kind", value=raw.get("kind"),
                        accepted=" | ".join(TIER_KINDS))
    bw = raw.get("bw_bytes_per_cycle")
    read_bw = raw.get("read_bw_bytes_per_cycle", bw)
    write_bw = raw.get("write_bw_bytes_per_cycle", bw)
    energy = raw.get("energy_pj_per_byte", 0.0)

    def written(name: str, shared: str) -> str:
        """The key path of ``name`` as the file wrote it: the shared key when it stands for both directions."""
        return f"{key}.{name if name in raw or shared not in raw else shared}"

    if read_bw is None or write_bw is None:
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
    return MemoryTier(
        name=str(raw.get("name") or kind),
        kind=kind,
        capacity_bytes=capacity_bytes,
        read_bw_bytes_per_cycle=_float(read_bw, key=written("read_bw_bytes_per_cycle", "bw_bytes_per_cycle"),
                                              source=source, minimum=MIN_BW_BYTES_PER_CYCLE,
                                              maximum=MAX_BW_BYTES_PER_CYCLE),
        write_bw_bytes_per_cycle=_float(write_bw, key=written("write_bw_bytes_per_cycle", "bw_bytes_per_cycle"),
                                               source=source, minimum=MIN_BW_BYTES_PER_CYCLE,
                                              maximum=MAX_BW_BYTES_PER_CYCLE),
        latency_cycles=_int(raw.get("latency_cycles", 0), key=f"{key}.latency_cycles", source=source,
                                   minimum=0, maximum=MAX_LATENCY_CYCLES),
        read_energy_pj_per_byte=_float(raw.get("read_energy_pj_per_byte", energy),
                                              key=written("read_energy_pj_per_byte", "energy_pj_per_byte"),
                                              source=source, maximum=MAX_ENERGY_PJ),
        write_energy_pj_per_byte=_float(raw.get("write_energy_pj_per_byte", energy),
                                               key=written("write_energy_pj_per_byte", "energy_pj_per_byte"),
                                               source=source, maximum=MAX_ENERGY_PJ),
        area_mm2=None if raw.get("area_mm2") is None else
        _float(raw["area_mm2"], key=f"{key}.area_mm2", source=source, maximum=MAX_AREA_MM2),
        ports=_int(raw.get("ports", 1), key=f"{key}.ports", source=source, maximum=MAX_ARRAY_SIDE),
        partitions=partitions,
    )


def check_fits(acc: Accelerator) -> None:
    """The array must be feedable: each SRAM buffer half holds one full row/column of operands."""
    sram = acc.sram
    need = {"ifmap": acc.array.rows, "filter": acc.array.cols, "ofmap": acc.array.cols}
    for operand, words in need.items():
        have = sram.partition_bytes(operand)
        if have < 2 * words * acc.word_bytes:
            raise SpecError(
                f"the {acc.array.rows}x{acc.array.cols} array is larger than its {operand} SRAM allows",
                source=acc.source or acc.name, key=f"{sram.name}.partition_bytes.{operand}", value=have,
                accepted=f"at least {2 * words * acc.word_bytes} bytes (two buffers of {words} words)")


def load_accelerator_file(path: str | Path) -> Accelerator:
    return accelerator_from_dict(load_yaml(path, kind="hardware", versions=SUPPORTED_VERSIONS), source=str(path))
