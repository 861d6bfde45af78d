"""Read SCALE-Sim ``.cfg`` files into an ``Accelerator`` (and the settings compat mode needs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acceldse.simulator.specs.accelerator import Accelerator, accelerator_from_dict
from acceldse.workloads.errors import MAX_ARRAY_SIDE, MAX_BYTES, SpecError, require_int

if TYPE_CHECKING:
    import configparser

KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "general": ("run_name",),
    "architecture_presets": ("ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB",
                             "IfmapOffset", "FilterOffset", "OfmapOffset", "Bandwidth", "Dataflow", "MemoryBanks",
                             "ReadRequestBuffer", "WriteRequestBuffer"),
    "layout": ("IfmapCustomLayout", "IfmapSRAMBankBandwidth", "IfmapSRAMBankNum", "IfmapSRAMBankPort",
               "FilterCustomLayout", "FilterSRAMBankBandwidth", "FilterSRAMBankNum", "FilterSRAMBankPort"),
    "sparsity": ("SparsitySupport", "SparseRep", "OptimizedMapping", "BlockSize", "RandomNumberGeneratorSeed"),
    "run_presets": ("InterfaceBandwidth", "UseRamulatorTrace"),
}
"""Sections and keys SCALE-Sim 3.0.0 reads; anything else is a typo and is refused (like YAML specs).

How each key acts (docs/scalesim_compat.md, "The .cfg keys"): sizes, dataflow, bandwidth mode and
bandwidths, ``[sparsity]`` change the numbers. The offsets and ``ReadRequestBuffer`` /
``WriteRequestBuffer`` never change SCALE-Sim's reports (addresses are per-operand; the request
buffers are read but unused) and are range-checked only. ``MemoryBanks`` is read by nothing in
SCALE-Sim 3.0.0: 1 is accepted, more is refused. ``UseRamulatorTrace = True`` and custom layouts
are refused (not modelled); the SRAM bank counts/ports must be SCALE-Sim's 10/2 in USER mode
(they are unused in CALC mode). ``[network_presets]`` is refused: SCALE-Sim 3.0.0 reads its
``TopologyCsvLoc`` from the wrong section and crashes.
"""


REPRESENTATIONS: tuple[str, ...] = ("csr", "csc", "ellpack_block")
"""SCALE-Sim's ``SparseRep`` values (anything else crashes it)."""


@dataclass(frozen=True)
class ScaleSimSparsity:
    """The ``[sparsity]`` section of a SCALE-Sim config with ``SparsitySupport : true``.

    Attributes:
        representation: ``SparseRep``: csr | csc | ellpack_block.
        optimized_mapping: ``OptimizedMapping`` (ws only).
        block_size: ``BlockSize`` (used by the optimized mapping only).
        seed: ``RandomNumberGeneratorSeed`` (optimized mapping only).
    """

    representation: str = "ellpack_block"
    optimized_mapping: bool = False
    block_size: int = 4
    seed: int = 40

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise SpecError("unknown sparse representation (SCALE-Sim 3.0.0 crashes on it)", source="sparsity",
                            key="SparseRep", value=self.representation, accepted=" | ".join(REPRESENTATIONS))
        if self.optimized_mapping and not 2 <= self.block_size <= 1024:
            raise SpecError("SCALE-Sim draws randint(1, BlockSize // 2 + 1), which needs BlockSize >= 2",
                            source="sparsity", key="BlockSize", value=self.block_size,
                            accepted="an integer in [2, 1024]")


@dataclass(frozen=True)
class ScaleSimSettings:
    """The parts of a SCALE-Sim config that are not hardware: bandwidth mode, USER bandwidths, sparsity."""

    dataflow: str
    bandwidth_mode: str  # CALC | USER
    bandwidth_words: int  # [architecture_presets] Bandwidth (USER mode: ofmap drain words/cycle)
    ifmap_bank_bandwidth_words: int
    filter_bank_bandwidth_words: int
    sparsity: ScaleSimSparsity | None = None  # [sparsity] with SparsitySupport true


def _reject_unknown(parser: configparser.ConfigParser, source: str) -> None:
    for name in parser.sections():
        if name not in KNOWN_KEYS:
            raise SpecError("unknown section", source=source, key=f"[{name}]",
                            accepted=", ".join(f"[{s}]" for s in KNOWN_KEYS))
        known = {k.lower(): k for k in KNOWN_KEYS[name]}
        for key in parser[name]:
            if key.lower() == "nonzeroelems":
                raise SpecError("SCALE-Sim 3.0.0 ignores NonZeroElems (it reads N:M per layer)", source=source,
                                key=f"[{name}] NonZeroElems", accepted="no NonZeroElems; put each layer's N:M "
                                "ratio after the last column of its topology row (e.g. 2:4)")
            if key.lower() not in known:
                raise SpecError("unknown key", source=source, key=f"[{name}] {key}",
                                accepted=", ".join(KNOWN_KEYS[name]))


def _flag(section: configparser.SectionProxy, key: str, source: str, default: str = "false") -> bool:
    raw = section.get(key, fallback=default).strip()
    if raw.lower() not in ("true", "false"):
        raise SpecError("not a boolean", source=source, key=f"[{section.name}] {key}", value=raw,
                        accepted="true | false")
    return raw.lower() == "true"


def _check_layout(layout: configparser.SectionProxy, mode: str, source: str, get_int: Any) -> None:
    """Custom layouts are refused; bank counts/ports must be SCALE-Sim's defaults where they act (USER mode)."""
    for op in ("Ifmap", "Filter"):
        if _flag(layout, f"{op}CustomLayout", source):
            raise SpecError("custom SRAM layouts are not modelled by compat mode", source=source,
                            key=f"[layout] {op}CustomLayout", value="True", accepted="False")
        for key, default in ((f"{op}SRAMBankNum", 10), (f"{op}SRAMBankPort", 2)):
            value = get_int(key, default, layout)
            if mode == "USER" and value != default:
                raise SpecError("USER-mode SRAM banking other than SCALE-Sim's default is not modelled",
                                source=source, key=f"[layout] {key}", value=value,
                                accepted=f"{default} (or CALC mode, where SCALE-Sim does not use it)")


def _sparsity(parser: configparser.ConfigParser, source: str, rows: int,
              filter_offset: str) -> ScaleSimSparsity | None:
    """The ``[sparsity]`` section (``None`` when SparsitySupport is false or absent)."""
    if not parser.has_section("sparsity"):
        return None
    sec = parser["sparsity"]
    rep = sec.get("SparseRep", fallback="ellpack_block").strip()
    if rep not in REPRESENTATIONS:
        raise SpecError("unknown sparse representation (SCALE-Sim 3.0.0 crashes on it)", source=source,
                        key="[sparsity] SparseRep", value=rep, accepted=" | ".join(REPRESENTATIONS))
    optimized = _flag(sec, "OptimizedMapping", source)
    block = require_int(sec.get("BlockSize", fallback="4").strip(), key="[sparsity] BlockSize", source=source,
                        minimum=2 if optimized else 1, maximum=1024)
    seed = require_int(sec.get("RandomNumberGeneratorSeed", fallback="40").strip(),
                       key="[sparsity] RandomNumberGeneratorSeed", source=source, minimum=0, maximum=2**32 - 1)
    if not _flag(sec, "SparsitySupport", source):
        return None
    if optimized and block > rows:
        raise SpecError("SCALE-Sim 3.0.0 asserts 'Invalid block size' (BlockSize > ArrayHeight)", source=source,
                        key="[sparsity] BlockSize", value=block, accepted=f"at most ArrayHeight ({rows})")
    if filter_offset.isdigit() and int(filter_offset) == 0:
        raise SpecError("with sparsity SCALE-Sim drops filter address 0 as a pruned weight", source=source,
                        key="[architecture_presets] FilterOffset", value=0, accepted="a positive offset")
    return ScaleSimSparsity(representation=rep, optimized_mapping=optimized, block_size=block, seed=seed)


def load_scalesim_cfg(path: str | Path) -> tuple[Accelerator, ScaleSimSettings]:
    """Parse a SCALE-Sim config. Sizes are in KiB (SCALE-Sim's ``kB`` means 1024 bytes)."""
    import configparser  # only for a .cfg: presets and YAML specs do not pay for it

    source = str(path)
    parser = configparser.ConfigParser(interpolation=None)  # a '%' in a value is just a character
    try:
        with open(path) as handle:
            parser.read_file(handle)
    except OSError as err:
        raise SpecError(f"cannot read SCALE-Sim config: {err.strerror}", source=source) from None
    except (configparser.Error, UnicodeDecodeError) as err:
        raise SpecError(f"malformed SCALE-Sim config: {str(err).splitlines()[0]}", source=source) from None
    _reject_unknown(parser, source)
    if not parser.has_section("architecture_presets"):
        raise SpecError("missing section", source=source, key="[architecture_presets]",
                        accepted="a SCALE-Sim .cfg with [architecture_presets]")
    arch = parser["architecture_presets"]

    def get_int(key: str, default: int | None = None, section: configparser.SectionProxy = arch,
                maximum: int = MAX_ARRAY_SIDE) -> int:
        raw = section.get(key, fallback=None)
        if raw is None:
            if default is None:
                raise SpecError("missing key", source=source, key=f"[{section.name}] {key}")
            return default
        return require_int(raw.strip(), key=f"[{section.name}] {key}", source=source, maximum=maximum)

    rows, cols = get_int("ArrayHeight"), get_int("ArrayWidth")
    kib = MAX_BYTES // 1024
    ifmap_kb, filter_kb, ofmap_kb = (get_int(f"{op}SramSzkB", maximum=kib) for op in ("Ifmap", "Filter", "Ofmap"))
    dataflow = arch.get("Dataflow", fallback="os").strip().lower()
    if dataflow not in ("os", "ws", "is"):
        raise SpecError("unknown dataflow", source=source, key="[architecture_presets] Dataflow", value=dataflow,
                        accepted="os | ws | is")
    bandwidth = get_int("Bandwidth", 10)
    mode = "CALC"
    if parser.has_section("run_presets"):
        mode = parser["run_presets"].get("InterfaceBandwidth", fallback="CALC").strip().upper()
    if mode not in ("CALC", "USER"):
        raise SpecError("unknown interface bandwidth mode", source=source,
                        key="[run_presets] InterfaceBandwidth", value=mode, accepted="CALC | USER")
    layout = parser["layout"] if parser.has_section("layout") else None
    ifmap_bank_bw = get_int("IfmapSRAMBankBandwidth", 10, layout) if layout is not None else 10
    filter_bank_bw = get_int("FilterSRAMBankBandwidth", 10, layout) if layout is not None else 10
    for key in ("IfmapOffset", "FilterOffset", "OfmapOffset"):
        raw = arch.get(key, fallback="0").strip()
        require_int(raw, key=f"[architecture_presets] {key}", source=source, minimum=0, maximum=2**31 - 1)
    for key in ("ReadRequestBuffer", "WriteRequestBuffer"):
        get_int(key, 1)
    if get_int("MemoryBanks", 1) != 1:
        raise SpecError("SCALE-Sim 3.0.0 never reads MemoryBanks (its SRAMs have one bank), so compat mode "
                        "cannot honour it", source=source, key="[architecture_presets] MemoryBanks",
                        value=arch.get("MemoryBanks", fallback="").strip(), accepted="1 (or leave it out)")
    if layout is not None:
        _check_layout(layout, mode, source, get_int)
    if parser.has_section("run_presets"):
        ram = parser["run_presets"].get("UseRamulatorTrace", fallback="False").strip()
        if ram.lower() != "false":
            raise SpecError("Ramulator DRAM traces are not modelled" if ram == "True" else
                            "SCALE-Sim reads only 'True' as on and anything else as off", source=source,
                            key="[run_presets] UseRamulatorTrace", value=ram, accepted="False")
    sparsity = _sparsity(parser, source, rows, arch.get("FilterOffset", fallback="10000000").strip())
    run_name = parser.get("general", "run_name", fallback=Path(source).stem) if parser.has_section("general") \
        else Path(source).stem
    spec = {
        "version": 2, "name": run_name.strip(), "clock_mhz": 1000, "word_bytes": 1, "dataflow": dataflow,
        "description": f"SCALE-Sim config {Path(source).name}",
        "array": {"rows": rows, "cols": cols},
        "tiers": [
            {"name": "sram", "kind": "sram", "bw_bytes_per_cycle": max(rows, cols) * 2, "latency_cycles": 1,
             "read_energy_pj_per_byte": 2.2, "write_energy_pj_per_byte": 2.6,
             "partition_bytes": {"ifmap": ifmap_kb * 1024, "filter": filter_kb * 1024, "ofmap": ofmap_kb * 1024}},
            {"name": "dram", "kind": "dram", "capacity_bytes": "8GiB", "bw_bytes_per_cycle": bandwidth,
             "latency_cycles": 100, "energy_pj_per_byte": 64},
        ],
    }
    settings = ScaleSimSettings(dataflow=dataflow, bandwidth_mode=mode, bandwidth_words=bandwidth,
                                ifmap_bank_bandwidth_words=ifmap_bank_bw, filter_bank_bandwidth_words=filter_bank_bw,
                                sparsity=sparsity)
    return accelerator_from_dict(spec, source=source), settings


def refuse_cfg_sparsity(settings: ScaleSimSettings, source: str) -> None:
    """``SpecError`` when a .cfg with ``SparsitySupport : true`` reaches a model that is not SCALE-Sim's."""
    if settings.sparsity is not None:
        raise SpecError("only compat='scalesim' models SCALE-Sim's sparsity; the other models would ignore it",
                        source=source, key="[sparsity] SparsitySupport", value="true",
                        accepted="false, or compat='scalesim'")
