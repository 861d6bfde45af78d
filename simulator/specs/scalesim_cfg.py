"""Read SCALE-Sim ``.cfg`` files into an ``Accelerator`` (and the settings compat mode needs)."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

from acceldse.simulator.specs.accelerator import Accelerator, accelerator_from_dict
from acceldse.workloads.errors import MAX_ARRAY_SIDE, MAX_BYTES, SpecError, require_int

KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "general": ("run_name",),
    "architecture_presets": ("ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB",
                             "IfmapOffset", "FilterOffset", "OfmapOffset", "Bandwidth", "Dataflow", "MemoryBanks",
                             "ReadRequestBuffer", "WriteRequestBuffer"),
    "layout": ("IfmapCustomLayout", "IfmapSRAMBankBandwidth", "IfmapSRAMBankNum", "IfmapSRAMBankPort",
               "FilterCustomLayout", "FilterSRAMBankBandwidth", "FilterSRAMBankNum", "FilterSRAMBankPort"),
    "sparsity": ("SparsitySupport", "SparseRep", "OptimizedMapping", "BlockSize", "NonZeroElems",
                 "RandomNumberGeneratorSeed"),
    "run_presets": ("InterfaceBandwidth", "UseRamulatorTrace"),
    "network_presets": ("TopologyCsvLoc", "LayoutCsvLoc"),
}
"""Sections and keys SCALE-Sim 3.0.0 reads; anything else is a typo and is refused (like YAML specs)."""


@dataclass(frozen=True)
class ScaleSimSettings:
    """The parts of a SCALE-Sim config that are not hardware: bandwidth mode and USER bandwidths."""

    dataflow: str
    bandwidth_mode: str  # CALC | USER
    bandwidth_words: int  # [architecture_presets] Bandwidth (USER mode: ofmap drain words/cycle)
    ifmap_bank_bandwidth_words: int
    filter_bank_bandwidth_words: int


def _reject_unknown(parser: configparser.ConfigParser, source: str) -> None:
    for name in parser.sections():
        if name not in KNOWN_KEYS:
            raise SpecError("unknown section", source=source, key=f"[{name}]",
                            accepted=", ".join(f"[{s}]" for s in KNOWN_KEYS))
        known = {k.lower(): k for k in KNOWN_KEYS[name]}
        for key in parser[name]:
            if key.lower() not in known:
                raise SpecError("unknown key", source=source, key=f"[{name}] {key}",
                                accepted=", ".join(KNOWN_KEYS[name]))


def load_scalesim_cfg(path: str | Path) -> tuple[Accelerator, ScaleSimSettings]:
    """Parse a SCALE-Sim config. Sizes are in KiB (SCALE-Sim's ``kB`` means 1024 bytes)."""
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
                                ifmap_bank_bandwidth_words=ifmap_bank_bw, filter_bank_bandwidth_words=filter_bank_bw)
    return accelerator_from_dict(spec, source=source), settings
