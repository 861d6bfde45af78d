"""One hardware catalogue: every shipped preset of every kind with its key figures.

``acceldse list hardware`` prints :func:`catalogue`; :func:`resolve` finds one preset by name
among the kinds a command accepts and says which command takes a preset of another kind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.fused import FusedHardware, load_fused_hardware
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.simulator.specs.platform import Platform, load_platform
from acceldse.simulator.specs.presets import KIND_LABELS, PRESET_DIRS, TAKEN_BY, load_hardware, preset_names, wrong_kind
from acceldse.workloads.errors import SpecError

KINDS: tuple[str, ...] = tuple(PRESET_DIRS)
"""Preset kinds: ``systolic`` (accelerators), ``hierarchy`` (mapper hierarchies), ``fpga`` (boards),
``fused`` (fused-cascade accelerators)."""

BRAM18_BYTES = 18 * 1024 // 8
URAM_BYTES = 288 * 1024 // 8


@dataclass(frozen=True)
class PresetInfo:
    """One preset and its key figures.

    Attributes:
        name: preset name (what ``--hardware``/``--platform`` takes).
        kind: ``systolic``, ``hierarchy``, ``fpga`` or ``fused``.
        compute_units: MAC PEs (all cores) for accelerators and hierarchies, DSP slices for FPGAs.
        compute_unit: ``PE`` or ``DSP``.
        on_chip_bytes: all on-chip memory (SRAM tiers; hierarchy buffers below DRAM, every
            instance; FPGA BRAM18 + URAM).
        dram_gbyte_per_s: off-chip read bandwidth in GB/s (10^9 bytes per second); ``None``
            when the spec leaves it unlimited.
        clock_mhz: clock in MHz.
        taken_by: the Python function and argument that accept it (``presets.TAKEN_BY``).
        description: one line.
    """

    name: str
    kind: str
    compute_units: int
    compute_unit: str
    on_chip_bytes: int
    dram_gbyte_per_s: float | None
    clock_mhz: float
    taken_by: str
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def accelerator_info(acc: Accelerator) -> PresetInfo:
    """Key figures of a systolic accelerator."""
    return PresetInfo(
        name=acc.name, kind="systolic", compute_units=acc.cores * acc.array.pes, compute_unit="PE",
        on_chip_bytes=sum(t.capacity_bytes for t in acc.tiers if t.on_chip),
        dram_gbyte_per_s=acc.dram.read_bw_bytes_per_cycle * acc.clock_mhz * 1e6 / 1e9,
        clock_mhz=acc.clock_mhz, taken_by=TAKEN_BY["systolic"], description=acc.description)


def hierarchy_info(h: Hierarchy) -> PresetInfo:
    """Key figures of a Timeloop-style hierarchy (capacities in words turned into bytes)."""
    on_chip_bits = sum(h.total_instances(i) * level.capacity_bits for i, level in enumerate(h.levels) if i)
    clock_mhz = h.clock_mhz
    dram = h.levels[0]
    bandwidth = None
    if dram.read_bandwidth_words_per_cycle is not None:
        bandwidth = dram.read_bandwidth_words_per_cycle * dram.word_bits / 8 * clock_mhz * 1e6 / 1e9
    return PresetInfo(
        name=h.name, kind="hierarchy", compute_units=h.num_macs, compute_unit="PE",
        on_chip_bytes=on_chip_bits // 8, dram_gbyte_per_s=bandwidth, clock_mhz=clock_mhz,
        taken_by=TAKEN_BY["hierarchy"],
        description=f"dataflow {h.dataflow or 'any'}; levels " + " > ".join(level.name for level in h.levels))


def platform_info(p: Platform) -> PresetInfo:
    """Key figures of an FPGA board."""
    return PresetInfo(
        name=p.name, kind="fpga", compute_units=p.dsp, compute_unit="DSP",
        on_chip_bytes=p.bram18 * BRAM18_BYTES + p.uram * URAM_BYTES,
        dram_gbyte_per_s=p.bandwidth_gbit_per_s / 8, clock_mhz=p.clock_mhz,
        taken_by=TAKEN_BY["fpga"], description=p.description)


def fused_info(h: FusedHardware) -> PresetInfo:
    """Key figures of a fused-cascade accelerator (its compute units share one global buffer)."""
    units = ", ".join(f"{name} {'x'.join(map(str, u.shape))}" for name, u in h.units.items())
    return PresetInfo(
        name=h.name, kind="fused", compute_units=sum(u.pes for u in h.units.values()), compute_unit="PE",
        on_chip_bytes=h.buffer_bytes, dram_gbyte_per_s=h.dram_bytes_per_s / 1e9, clock_mhz=h.clock_mhz,
        taken_by=TAKEN_BY["fused"], description=f"units {units}; one global buffer")


def _info(kind: str, name: str) -> PresetInfo:
    if kind == "fused":
        return fused_info(load_fused_hardware(name))
    if kind == "systolic":
        return accelerator_info(load_hardware(name))
    if kind == "hierarchy":
        return hierarchy_info(load_hierarchy(name))
    return platform_info(load_platform(name))


def catalogue(kinds: tuple[str, ...] | str = KINDS) -> list[PresetInfo]:
    """Every shipped preset of the given kinds (or one kind, ``"systolic"``), kind by kind, names sorted."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)  # one kind, not its letters
    for kind in kinds:
        if kind not in KINDS:
            raise SpecError("unknown preset kind", key="kind", value=kind, accepted=" | ".join(KINDS))
    return [_info(kind, name) for kind in kinds for name in preset_names(kind)]


def resolve(name: str, kinds: tuple[str, ...] = KINDS, *, flag: str = "hardware") -> PresetInfo:
    """The preset ``name`` among ``kinds``; a preset of another kind raises a ``SpecError`` naming
    the command that takes it, an unknown name one listing the accepted presets."""
    for kind in kinds:
        if name.lower() in preset_names(kind) or name in preset_names(kind):
            return _info(kind, name)
    error = wrong_kind(name, kinds, flag=flag)
    if error is not None:
        raise error
    names = [n for kind in kinds for n in preset_names(kind)]
    labels = " or ".join(KIND_LABELS[k] for k in kinds)
    raise SpecError("unknown preset", source=flag, value=name, accepted=f"{labels} preset: {', '.join(names)}")
