"""FPGA platforms: the resource budget a layer-pipelined streaming design must fit.

A platform is a frozen dataclass loaded from a versioned YAML file::

    version: 2
    name: zc706
    dsp: 900                # DSP slices (DSP48E1/E2)
    bram18: 1090            # 18 Kb block RAMs
    uram: 0                 # 288 Kb UltraRAMs
    lut: 218600
    ff: 437200
    clock_mhz: 200
    bandwidth_gbit_per_s: 102.4   # off-chip memory bandwidth, 10^9 bits per second
    reconfiguration_ms: 90  # full-device reconfiguration time, ms

Presets ship in ``simulator/specs/presets/fpga/*.yaml``; ``load_platform`` takes a preset name
(case-insensitive) or a path to a YAML file.  A missing or bad key raises ``SpecError``
naming the file and the key. Version 1 called the bandwidth ``bandwidth_gbps``; it is still
read, with a ``DeprecationWarning`` (``simulator.specs.renames``).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from acceldse.simulator.specs.presets import PRESET_DIRS, not_a_preset
from acceldse.simulator.specs.renames import PLATFORM_RENAMES, read_renamed
from acceldse.workloads.errors import MAX_CLOCK_MHZ, MIN_CLOCK_MHZ, SpecError, require_float, require_int
from acceldse.workloads.spec_io import apply_changes, path_exists, read_yaml, to_yaml_text

PRESET_DIR = PRESET_DIRS["fpga"]
"""Directory holding the shipped platform YAML files."""

SUPPORTED_VERSIONS = (1, 2)
VERSION = 2
"""The current platform spec version (2: ``bandwidth_gbit_per_s``)."""

_INT_KEYS = ("dsp", "bram18", "uram", "lut", "ff")
_FLOAT_KEYS = ("clock_mhz", "bandwidth_gbit_per_s", "reconfiguration_ms")
MAX_RESOURCES = 2**32
"""Most DSPs, BRAMs, URAMs, LUTs or FFs a board spec may declare."""
MAX_FLOAT_VALUES = {"clock_mhz": MAX_CLOCK_MHZ, "bandwidth_gbit_per_s": 1e7, "reconfiguration_ms": 1e9}


@dataclass(frozen=True)
class Platform:
    """Resources of one FPGA board.

    Attributes:
        name: board name.
        dsp: DSP slices.
        bram18: 18 Kb block RAMs (a 36 Kb block counts as two).
        uram: 288 Kb UltraRAM blocks (0 when the device has none).
        lut: 6-input look-up tables.
        ff: flip-flops.
        clock_mhz: design clock in MHz.
        bandwidth_gbit_per_s: off-chip memory bandwidth in Gbit/s (10^9 bits per second).
        reconfiguration_ms: time to load a new partition's bitstream, in ms.
        description: one line for ``acceldse list hardware``.
        source: file the platform was loaded from (for error messages).
    """

    name: str
    dsp: int
    bram18: int
    uram: int
    lut: int
    ff: int
    clock_mhz: float
    bandwidth_gbit_per_s: float
    reconfiguration_ms: float
    description: str = ""
    source: str = ""

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    @property
    def bandwidth_bits_per_cycle(self) -> float:
        """Off-chip bandwidth in bits per design clock cycle."""
        return self.bandwidth_gbit_per_s * 1e9 / self.clock_hz

    @property
    def bandwidth_gbps(self) -> float:
        """Deprecated name of :attr:`bandwidth_gbit_per_s`."""
        warnings.warn("Platform.bandwidth_gbps is deprecated; use Platform.bandwidth_gbit_per_s",
                      DeprecationWarning, stacklevel=2)
        return self.bandwidth_gbit_per_s

    @property
    def reconfiguration_cycles(self) -> float:
        """Reconfiguration time expressed in design clock cycles."""
        return self.reconfiguration_ms * 1e-3 * self.clock_hz

    def resources(self) -> dict[str, int]:
        """The countable resources as a dict (dsp, bram18, uram, lut, ff)."""
        return {k: getattr(self, k) for k in _INT_KEYS}

    def to_dict(self) -> dict[str, Any]:
        """The board as the mapping its YAML file holds (``platform_from_dict`` builds it back)."""
        out: dict[str, Any] = {"version": VERSION, "name": self.name}
        if self.description:
            out["description"] = self.description
        out.update({k: getattr(self, k) for k in (*_INT_KEYS, *_FLOAT_KEYS)})
        return out

    def to_yaml(self) -> str:
        """The board as YAML text."""
        return to_yaml_text(self.to_dict())

    def replace(self, changes: dict[str, Any] | None = None, /, **values: Any) -> Platform:
        """A copy with some keys changed (``board.replace(dsp=1000)``), validated like a YAML file."""
        source = f"{self.name}.replace()"
        return platform_from_dict(apply_changes(self.to_dict(), {**(changes or {}), **values}, source=source),
                                  source=source)

    def with_clock(self, clock_mhz: float) -> Platform:
        """The same board run at another clock (MHz)."""
        return replace(self, clock_mhz=require_float(clock_mhz, key="clock_mhz", minimum=MIN_CLOCK_MHZ,
                                                     maximum=MAX_CLOCK_MHZ))

    def scaled(self, fraction: float) -> Platform:
        """A copy whose countable resources are ``fraction`` of this one's (a utilisation cap)."""
        frac = require_float(fraction, key="resource_fraction", strictly_positive=True)
        if frac > 1:
            raise SpecError("must be <= 1", key="resource_fraction", value=fraction, accepted="0 < fraction <= 1")
        return replace(self, **{k: int(getattr(self, k) * frac) for k in _INT_KEYS})  # type: ignore[arg-type]


def preset_names() -> list[str]:
    """Names of the shipped platform presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def platform_from_dict(data: Any, source: str = "<dict>") -> Platform:
    """Validate a parsed YAML mapping and build a ``Platform``."""
    if not isinstance(data, dict):
        raise SpecError("platform spec must be a mapping", source=source, value=type(data).__name__,
                        accepted="a YAML mapping with version, name, dsp, bram18, ...")
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise SpecError("unsupported or missing version", source=source, key="version", value=version,
                        accepted=" | ".join(str(v) for v in SUPPORTED_VERSIONS))
    data = read_renamed(data, PLATFORM_RENAMES, source=source, version=VERSION)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError("missing platform name", source=source, key="name", value=name, accepted="a string")
    values: dict[str, Any] = {}
    for key in _INT_KEYS:
        if key not in data:
            raise SpecError("missing resource", source=source, key=key, accepted="an integer >= 0")
        values[key] = require_int(data[key], key=key, source=source, minimum=0, maximum=MAX_RESOURCES)
    for key in _FLOAT_KEYS:
        if key not in data:
            raise SpecError("missing value", source=source, key=key, accepted="a number > 0")
        values[key] = require_float(data[key], key=key, source=source, minimum=0.0,
                                    strictly_positive=key != "reconfiguration_ms", maximum=MAX_FLOAT_VALUES[key])
    for key in ("dsp", "bram18", "lut", "ff"):
        if values[key] < 1:
            raise SpecError("a platform needs at least one", source=source, key=key, value=values[key],
                            accepted="an integer >= 1")
    known = {"version", "name", "description", *_INT_KEYS, *_FLOAT_KEYS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError("unknown key", source=source, key=unknown[0], accepted=", ".join(sorted(known)))
    return Platform(name=name, source=source, description=str(data.get("description", "")), **values)


def load_platform(name_or_path: str | Path | Platform | dict[str, Any], *, source: str = "platform") -> Platform:
    """Load a platform by preset name (``zc706``, ``ZCU102``, ...), from a YAML path or from a spec
    mapping (``load_platform("zc706").to_dict()``, edited; checked like a YAML file, errors name ``source``)."""
    if isinstance(name_or_path, Platform):
        return name_or_path
    if isinstance(name_or_path, dict):
        return platform_from_dict(copy.deepcopy(name_or_path), source=source)
    text = str(name_or_path)
    path = Path(text)
    if not (path.suffix in (".yaml", ".yml") or path_exists(path)):
        path = PRESET_DIR / f"{text.lower()}.yaml"
        if not path_exists(path):
            raise not_a_preset(text, "fpga", flag="platform", message="unknown FPGA platform",
                               accepted=f"a preset ({', '.join(preset_names())}) or a YAML file path")
    if not path_exists(path):
        raise SpecError("platform file not found", source=str(path), value=text)
    return platform_from_dict(read_yaml(path, kind="FPGA platform"), source=str(path))
