"""The hardware spec: a compute fabric and its memory tiers, loaded from versioned YAML.

An ``Accelerator`` is a clock, a systolic array (rows x cols of MAC PEs; ``cores`` identical
arrays sharing the tiers) and memory tiers ordered from the compute outward (registers ->
on-chip SRAM -> HBM -> DDR). A tier has a capacity, read/write bandwidth in bytes per
cycle, a latency, energy per byte and area; an on-chip tier may be partitioned per operand
(SCALE-Sim's separate ifmap / filter / ofmap SRAMs; a tier and its loader are
``simulator.specs.memory_tier``). Everything is checked once, at load,
and bad values raise ``SpecError`` naming the file, key and value.

Spec version 2 names every size with its unit: a tier's ``capacity_bytes`` and
``partition_bytes`` (version 1's ``capacity`` and ``partitions`` are still read, with a
``DeprecationWarning``; see ``simulator.specs.renames``). Sizes take a number of bytes or a
string with a unit (``64KiB``, ``1.5TB``); bandwidths are ``*_bytes_per_cycle`` at ``clock_mhz``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acceldse.simulator.specs.area import UM2_PER_MM2, check_technology, pe_area_um2
from acceldse.simulator.specs.memory_tier import (
    OFF_CHIP_KINDS,
    OPERAND_BUFFERS,
    TIER_KINDS,
    MemoryTier,
    tier_from_dict,
    tier_to_dict,
)
from acceldse.workloads.errors import (
    MAX_AREA_MM2,
    MAX_ARRAY_SIDE,
    MAX_CLOCK_MHZ,
    MAX_ENERGY_PJ,
    MIN_CLOCK_MHZ,
    SpecError,
)
from acceldse.workloads.spec_io import (
    apply_changes,
    check_version,
    load_yaml,
    reject_unknown,
    section,
    spec_float,
    spec_int,
    to_yaml_text,
)


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
        out["tiers"] = [tier_to_dict(t) for t in self.tiers]
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
        return dataclasses.replace(accelerator_from_dict(self.to_dict(), source=source), source=self.source)


# ---- building from a mapping (YAML) ------------------------------------------------------

_TOP_KEYS = {"version", "name", "description", "clock_mhz", "word_bytes", "cores", "dataflow", "array", "tiers",
             "technology_nm"}
_ARRAY_KEYS = {"rows", "cols", "mac_energy_pj", "pe_area_mm2"}
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
        rows=spec_int(arr.get("rows"), key="array.rows", source=source, maximum=MAX_ARRAY_SIDE),
        cols=spec_int(arr.get("cols"), key="array.cols", source=source, maximum=MAX_ARRAY_SIDE),
        mac_energy_pj=spec_float(arr.get("mac_energy_pj", 0.2), key="array.mac_energy_pj", source=source,
                                    maximum=MAX_ENERGY_PJ),
        pe_area_mm2=None if arr.get("pe_area_mm2") is None else
        spec_float(arr["pe_area_mm2"], key="array.pe_area_mm2", source=source, maximum=MAX_AREA_MM2),
    )
    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise SpecError("missing or empty", source=source, key="tiers", value=raw_tiers,
                        accepted="a list of memory tiers, closest to the compute first")
    tiers = tuple(tier_from_dict(t, key=f"tiers[{i}]", source=source, version=VERSION) for i, t in enumerate(raw_tiers))
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
        clock_mhz=spec_float(data.get("clock_mhz", 1000), key="clock_mhz", source=source, minimum=MIN_CLOCK_MHZ,
                                maximum=MAX_CLOCK_MHZ),
        array=array,
        tiers=tiers,
        word_bytes=spec_int(data.get("word_bytes", 1), key="word_bytes", source=source, maximum=64),
        cores=spec_int(data.get("cores", 1), key="cores", source=source, maximum=MAX_ARRAY_SIDE),
        dataflow=None if dataflow is None else str(dataflow).lower(),
        description=str(data.get("description", "")),
        source=source,
        technology_nm=check_technology(spec_float(data.get("technology_nm", 45.0), key="technology_nm",
                                                     source=source), source=source),
    )
    check_fits(acc)
    return acc


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


__all__ = ["OFF_CHIP_KINDS", "OPERAND_BUFFERS", "SUPPORTED_VERSIONS", "TIER_KINDS", "VERSION", "Accelerator",
           "MemoryTier", "SystolicArray", "accelerator_from_dict", "check_fits", "load_accelerator_file"]
