"""The sweep spec: versioned YAML naming a base design and the axes to vary.

Example (``acceldse sweep --help`` shows it too)::

    version: 1
    workload: resnet18            # or a list: an axis
    params: {batch: 1}            # zoo parameters held fixed (``params.batch: [1, 8]`` in axes varies one)
    hardware: scalesim-32x32      # a preset or a hardware YAML (relative to this file)
    dataflow: os                  # or a list: an axis
    fidelity: analytical          # or a list: an axis
    axes:
      array.rows: [8, 16, 32, 64]
      array.cols: {range: [8, 72, 8]}          # start, stop (exclusive), step
      tiers.0.partition_bytes.ifmap: [16KiB, 64KiB]  # a tier by index or by name (tiers.sram.latency_cycles)
    sample: grid                  # or {random: 1000, seed: 0} or {sobol: 1024, seed: 0}
    constraints: ["area_mm2 <= 10"]
    layers: false                 # true: also store every point's per-layer rows (table ``layers``)

Every hardware axis is a dotted key into the hardware YAML; a variant is the base YAML with
the axis values written in, validated by the hardware loader (one code path for presets,
files and variants).
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.specs.accelerator import (
    _ARRAY_KEYS,
    _TIER_KEYS,
    _TOP_KEYS,
    OPERAND_BUFFERS,
    SUPPORTED_VERSIONS,
    VERSION,
)
from acceldse.simulator.specs.presets import PRESET_DIR, list_hardware
from acceldse.simulator.specs.renames import TIER_RENAMES, read_renamed
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import load_yaml, parse_bytes, parse_yaml, reject_unknown

FIDELITIES = ("analytical", "event", "cycle")
SPEC_KEYS = {"version", "name", "workload", "params", "hardware", "dataflow", "fidelity", "axes", "sample", "layers",
             "constraints"}
SPECIAL_AXES = ("workload", "dataflow", "fidelity")
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE]+)\s*$")
CONSTRAINT_NAMES = ("area_mm2", "pes", "rows", "cols", "clock_mhz", "cores", "sram_bytes", "dram_bw_bytes_per_cycle")
"""Design quantities a constraint may test (besides any numeric axis)."""


@dataclass(frozen=True)
class Constraint:
    name: str
    op: str
    bound: float
    text: str


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec.

    Attributes:
        name: the sweep's name (the spec file's stem by default).
        source: where it was loaded from (for error messages).
        hardware: the base hardware YAML as a mapping; hardware_name: its preset name or path.
        params: zoo parameters held fixed.
        axes: axis key -> list of values, in spec order (``workload``, ``dataflow``, ``fidelity``,
            ``params.NAME`` and hardware dotted keys).
        sample: ``grid``, ``random`` or ``sobol``; samples: N for random/sobol; seed.
        constraints: skip a point unless all hold.
        layers: also store every point's per-layer rows (table ``layers``).
    """

    name: str
    source: str
    hardware: dict[str, Any]
    hardware_name: str
    params: dict[str, Any]
    axes: dict[str, list[Any]]
    sample: str = "grid"
    samples: int = 0
    seed: int = 0
    constraints: tuple[Constraint, ...] = field(default_factory=tuple)
    layers: bool = False

    def hardware_axes(self) -> list[str]:
        return [k for k in self.axes if k not in SPECIAL_AXES and not k.startswith("params.")]


def load_sweep_spec(spec: str | Path | dict[str, Any], *, source: str | None = None) -> SweepSpec:
    """Load and validate a sweep spec from a YAML file, YAML text or a mapping."""
    base_dir = Path(".")
    if isinstance(spec, dict):
        data, src = copy.deepcopy(spec), source or "sweep spec"
    elif isinstance(spec, Path) or (isinstance(spec, str) and "\n" not in spec):
        data, src, base_dir = load_yaml(spec, kind="sweep"), str(spec), Path(spec).parent
    else:
        data, src = parse_yaml(spec, kind="sweep", source=source or "sweep spec"), source or "sweep spec"
    reject_unknown(data, SPEC_KEYS, source=src)
    hw_name, hardware = _base_hardware(data.get("hardware", "scalesim-32x32"), base_dir, src)
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise SpecError("must be a mapping of zoo parameters", source=src, key="params", value=params,
                        accepted="e.g. {batch: 1, seq_len: 128}")
    raw_axes = data.get("axes") or {}
    if not isinstance(raw_axes, dict):
        raise SpecError("must be a mapping of dotted key -> values", source=src, key="axes", value=raw_axes,
                        accepted="e.g. {array.rows: [8, 16, 32]}")
    axes: dict[str, list[Any]] = {}
    for key, default in (("workload", "resnet18"), ("dataflow", None), ("fidelity", "analytical")):
        if key in raw_axes:
            if key in data:
                raise SpecError("given both at the top level and as an axis", source=src, key=f"axes.{key}")
            continue
        value = data.get(key, default)
        if key == "dataflow" and value is None:
            value = hardware.get("dataflow") or "os"
        axes[key] = _values(value, key=key, source=src) if isinstance(value, list | dict) else [value]
    valid = hardware_keys(hardware)
    for key, values in raw_axes.items():
        key = str(key)
        if key not in SPECIAL_AXES and not key.startswith("params."):
            resolve_key(hardware, key, valid=valid, source=src)
        axes[key] = _values(values, key=f"axes.{key}", source=src)
    _check_special(axes, src)
    sample, samples, seed = _sample(data.get("sample", "grid"), src)
    constraints = tuple(_constraint(c, axes, src) for c in _as_list(data.get("constraints")))
    layers = data.get("layers", False)
    if not isinstance(layers, bool):
        raise SpecError("must be true or false", source=src, key="layers", value=layers,
                        accepted="layers: true to store every point's per-layer rows too")
    name = str(data.get("name") or (Path(src).stem if src.endswith((".yaml", ".yml")) else "sweep"))
    return SweepSpec(name=name, source=src, hardware=hardware, hardware_name=hw_name, params=params, axes=axes,
                     sample=sample, samples=samples, seed=seed, constraints=constraints, layers=layers)


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _base_hardware(value: Any, base_dir: Path, source: str) -> tuple[str, dict[str, Any]]:
    """The base hardware as its YAML mapping: a preset name or a YAML file."""
    text = str(value)
    if text.lower().endswith((".yaml", ".yml")):
        path = Path(text) if Path(text).is_absolute() else base_dir / text
        return text, _current_keys(load_yaml(path, kind="hardware", versions=SUPPORTED_VERSIONS), text)
    preset = PRESET_DIR / f"{text.lower()}.yaml"
    if not preset.is_file():
        raise SpecError("unknown hardware", source=source, key="hardware", value=value,
                        accepted="a preset (" + ", ".join(list_hardware()) + ") or a hardware .yaml file")
    return text, _current_keys(load_yaml(preset, kind="hardware", versions=SUPPORTED_VERSIONS), text)


def _current_keys(hardware: dict[str, Any], source: str) -> dict[str, Any]:
    """The base mapping with a version-1 file's tier keys renamed (axes then name one key per field)."""
    tiers = hardware.get("tiers")
    if isinstance(tiers, list):
        hardware = {**hardware, "tiers": [read_renamed(t, TIER_RENAMES, source=source, prefix=f"tiers.{i}.",
                                                       version=VERSION) if isinstance(t, dict) else t
                                          for i, t in enumerate(tiers)]}
    return hardware


def _values(raw: Any, *, key: str, source: str) -> list[Any]:
    """An axis: a non-empty list of values or ``{range: [start, stop, step]}``."""
    if isinstance(raw, dict) and set(raw) == {"range"} and isinstance(raw["range"], list) \
            and len(raw["range"]) in (2, 3) and all(isinstance(v, int) and not isinstance(v, bool)
                                                    for v in raw["range"]):
        values: list[Any] = list(range(*raw["range"]))
    elif isinstance(raw, list):
        values = raw
    else:
        raise SpecError("an axis must be a list of values or {range: [start, stop, step]}", source=source, key=key,
                        value=raw, accepted="e.g. [8, 16, 32] or {range: [8, 264, 8]}")
    if not values:
        raise SpecError("an axis needs at least one value", source=source, key=key, value=raw)
    if len({repr(v) for v in values}) != len(values):
        raise SpecError("repeated axis values", source=source, key=key, value=raw)
    return list(values)


def _check_special(axes: dict[str, list[Any]], source: str) -> None:
    for value in axes["fidelity"]:
        if value not in FIDELITIES:
            raise SpecError("unknown fidelity", source=source, key="fidelity", value=value,
                            accepted=" | ".join(FIDELITIES))
    for value in axes["dataflow"]:
        resolve_dataflows(str(value), source=f"{source}: dataflow")
        if str(value).lower() == "all" or "," in str(value):
            raise SpecError("one dataflow per value", source=source, key="dataflow", value=value,
                            accepted="os | ws | is, or a list of them")


def _sample(raw: Any, source: str) -> tuple[str, int, int]:
    if raw == "grid":
        return "grid", 0, 0
    if isinstance(raw, dict):
        kinds = [k for k in ("random", "sobol") if k in raw]
        reject_unknown(raw, {"random", "sobol", "seed"}, source=source, prefix="sample.")
        if len(kinds) == 1:
            from acceldse.workloads.errors import require_int

            n = require_int(raw[kinds[0]], key=f"sample.{kinds[0]}", source=source)
            seed = require_int(raw.get("seed", 0), key="sample.seed", source=source, minimum=0)
            return kinds[0], n, seed
    raise SpecError("unknown sampling", source=source, key="sample", value=raw,
                    accepted="grid, {random: N, seed: S} or {sobol: N, seed: S}")


def _constraint(raw: Any, axes: dict[str, list[Any]], source: str) -> Constraint:
    match = _CONSTRAINT.match(str(raw))
    if not match:
        raise SpecError("cannot parse constraint", source=source, key="constraints", value=raw,
                        accepted="NAME OP NUMBER, e.g. 'area_mm2 <= 10' (OP: <=, <, >=, >, ==, !=)")
    name, op, bound = match.groups()
    names = [*CONSTRAINT_NAMES, *(k for k, v in axes.items() if all(_numeric(x) for x in v))]
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        raise SpecError("unknown constraint quantity", source=source, key="constraints", value=name,
                        accepted=("did you mean " + ", ".join(close) + "? " if close else "") + "one of "
                        + ", ".join(names))
    try:
        value = float(bound)
    except ValueError:
        raise SpecError("constraint bound must be a number", source=source, key="constraints", value=raw) from None
    return Constraint(name, op, value, str(raw).strip())


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---- dotted hardware keys ---------------------------------------------------------------

def hardware_keys(hardware: dict[str, Any]) -> list[str]:
    """Every dotted key a hardware axis may set on this base (tiers by index)."""
    keys = [k for k in sorted(_TOP_KEYS) if k not in ("version", "array", "tiers", "name", "description")]
    keys += [f"array.{k}" for k in sorted(_ARRAY_KEYS)]
    for i, _tier in enumerate(hardware.get("tiers") or []):
        keys += [f"tiers.{i}.{k}" for k in sorted(_TIER_KEYS - {"name", "partition_bytes"})]
        keys += [f"tiers.{i}.partition_bytes.{op}" for op in OPERAND_BUFFERS]
    return keys


def resolve_key(hardware: dict[str, Any], key: str, *, valid: list[str] | None = None,
                source: str = "sweep spec") -> str:
    """The canonical dotted key (tier names replaced by indexes); unknown keys name the closest valid ones."""
    parts = key.split(".")
    if len(parts) > 2 and parts[0] == "tiers" and not parts[1].isdigit():
        names = [str(t.get("name") or t.get("kind")) for t in hardware.get("tiers") or []]
        if parts[1] in names:
            parts[1] = str(names.index(parts[1]))
    if len(parts) > 2 and parts[0] == "tiers" and parts[2] in TIER_RENAMES:  # version-1 names of tier keys
        parts[2] = TIER_RENAMES[parts[2]]
    canonical = ".".join(parts)
    valid = valid if valid is not None else hardware_keys(hardware)
    if canonical not in valid:
        close = difflib.get_close_matches(canonical, valid, n=3, cutoff=0.5)
        raise SpecError("unknown hardware key", source=source, key=f"axes.{key}",
                        accepted=("did you mean " + " or ".join(close) + "? " if close else "")
                        + "a dotted key such as array.rows, clock_mhz, tiers.0.partition_bytes.ifmap")
    return canonical


def set_key(hardware: dict[str, Any], key: str, value: Any) -> None:
    """Write ``value`` at dotted ``key`` (canonical form) into a hardware mapping.

    Containers along the path are copied before they are changed, so a shallow copy of the base
    mapping is enough to leave the base untouched (no deep copy per variant).
    """
    node: Any = hardware
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            child = node[int(part)]
            node[int(part)] = child = copy.copy(child)
        else:
            child = node.get(part)
            node[part] = child = copy.copy(child) if child is not None else {}
        node = child
    node[parts[-1]] = value


def axis_column_value(key: str, value: Any) -> Any:
    """What the store keeps for an axis value: byte sizes as integers, the rest as given."""
    last = key.rsplit(".", 1)[-1]
    if (last == "capacity_bytes" or last in OPERAND_BUFFERS) and not _numeric(value):
        return parse_bytes(value, key=key, source="axes")
    return value


__all__ = ["CONSTRAINT_NAMES", "FIDELITIES", "Constraint", "SweepSpec", "axis_column_value", "hardware_keys",
           "load_sweep_spec", "resolve_key", "set_key"]
