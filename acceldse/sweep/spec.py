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
    constraints: ["area_mm2 <= 10", "array.rows * array.cols <= 4096"]
    layers: false                 # true: also store every point's per-layer rows (table ``layers``)

Per-workload parameters: under ``params`` a workload's own name holds its parameters
(``params: {batch: 1, bert_base: {seq_len: 512}}``: every workload runs at batch 1, BERT at 512
tokens). Linked axes vary together instead of in a grid: ``axes: {zip: {array.rows: [16, 32],
array.cols: [16, 32]}}`` gives 16x16 and 32x32 only (a list of such mappings: several groups;
``workload`` and ``params.NAME`` may be linked too). A constraint compares expressions of the
design quantities and numeric axes (``+ - * / // % **``, ``and``/``or``): ``array.rows ==
array.cols``, ``pes * clock_mhz <= 2e6``.

Every hardware axis is a dotted key into the hardware YAML (``sweep.hardware_keys``); a variant is
the base YAML with the axis values written in, validated by the hardware loader (one code path for
presets, files and variants). Constraints: ``sweep.constraints``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.fidelities import FIDELITIES
from acceldse.simulator.specs.accelerator import SUPPORTED_VERSIONS, VERSION
from acceldse.simulator.specs.presets import PRESET_DIR, list_hardware
from acceldse.simulator.specs.renames import TIER_RENAMES, read_renamed
from acceldse.sweep.constraints import Constraint, parse_constraint
from acceldse.sweep.hardware_keys import SPECIAL_AXES, hardware_keys, resolve_key
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import load_yaml, parse_yaml, reject_unknown

SPEC_KEYS = {"version", "name", "workload", "params", "hardware", "dataflow", "fidelity", "axes", "sample", "layers",
             "constraints"}
ZIP_KEY = "zip"
"""The ``axes`` entry holding linked axes."""


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec.

    Attributes:
        name: the sweep's name (the spec file's stem by default).
        source: where it was loaded from (for error messages).
        hardware: the base hardware YAML as a mapping; hardware_name: its preset name or path.
        params: zoo parameters held fixed for every workload.
        workload_params: workload name -> parameters of that workload only (over ``params``).
        axes: axis key -> list of values, in spec order (``workload``, ``dataflow``, ``fidelity``,
            ``params.NAME`` and hardware dotted keys).
        links: groups of axes that vary together (``zip``): one index for all axes of a group.
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
    workload_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: tuple[tuple[str, ...], ...] = ()

    def params_for(self, workload: str) -> dict[str, Any]:
        """The fixed parameters one workload runs with (shared, then its own)."""
        return {**self.params, **self.workload_params.get(workload, {})}

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
    raw_axes, link_keys = _unzip(raw_axes, src)
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
    links = tuple(_link(group, axes, src) for group in link_keys)
    params, workload_params = _split_params(params, axes["workload"], src)
    sample, samples, seed = _sample(data.get("sample", "grid"), src)
    constraints = tuple(parse_constraint(c, axes, src) for c in _as_list(data.get("constraints")))
    layers = data.get("layers", False)
    if not isinstance(layers, bool):
        raise SpecError("must be true or false", source=src, key="layers", value=layers,
                        accepted="layers: true to store every point's per-layer rows too")
    name = str(data.get("name") or (Path(src).stem if src.endswith((".yaml", ".yml")) else "sweep"))
    return SweepSpec(name=name, source=src, hardware=hardware, hardware_name=hw_name, params=params, axes=axes,
                     sample=sample, samples=samples, seed=seed, constraints=constraints, layers=layers,
                     workload_params=workload_params, links=links)


def _unzip(raw_axes: dict[str, Any], source: str) -> tuple[dict[str, Any], list[list[str]]]:
    """The axes with the ``zip`` groups' axes written in (in order), and each group's keys."""
    if ZIP_KEY not in raw_axes:
        return raw_axes, []
    groups = raw_axes[ZIP_KEY]
    groups = [groups] if isinstance(groups, dict) else groups
    flat: dict[str, Any] = {}
    keys: list[list[str]] = []
    for i, group in enumerate(groups if isinstance(groups, list) else [None]):
        if not isinstance(group, dict) or len(group) < 2:
            raise SpecError("a zip group maps two or more axes to value lists of one length", source=source,
                            key=f"axes.{ZIP_KEY}" + (f"[{i}]" if isinstance(groups, list) and len(groups) > 1 else ""),
                            value=group, accepted="e.g. zip: {array.rows: [16, 32], array.cols: [16, 32]}")
        keys.append([str(k) for k in group])
        flat.update({str(k): v for k, v in group.items()})
    out: dict[str, Any] = {}
    for key, values in raw_axes.items():
        if key == ZIP_KEY:
            for k, v in flat.items():
                if k in raw_axes:
                    raise SpecError("an axis is both linked (zip) and free", source=source, key=f"axes.{k}")
                out[k] = v
        else:
            out[str(key)] = values
    return out, keys


def _link(group: list[str], axes: dict[str, list[Any]], source: str) -> tuple[str, ...]:
    lengths = {k: len(axes[k]) for k in group}
    if len(set(lengths.values())) != 1:
        raise SpecError("linked axes need value lists of one length", source=source, key=f"axes.{ZIP_KEY}",
                        value=", ".join(f"{k}: {n} values" for k, n in lengths.items()),
                        accepted="as many values on every axis of a zip group")
    return tuple(group)


def _split_params(raw: dict[str, Any], workloads: list[Any], source: str
                  ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Shared parameters and per-workload ones (a workload's own name holding a mapping)."""
    names = [str(w) for w in workloads]
    shared, own = {}, {}
    for key, value in raw.items():
        if isinstance(value, dict):
            if str(key) not in names:
                raise SpecError("per-workload parameters for a workload this sweep does not run", source=source,
                                key=f"params.{key}", accepted="a workload of the sweep (" + ", ".join(names) + ")")
            own[str(key)] = dict(value)
        else:
            shared[str(key)] = value
    return shared, own


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


MAX_AXIS_VALUES = 1_000_000
"""Most values one axis may list (a grid is bounded by ``points.MAX_GRID_POINTS`` as a whole)."""


def _values(raw: Any, *, key: str, source: str) -> list[Any]:
    """An axis: a non-empty list of values or ``{range: [start, stop, step]}``."""
    if isinstance(raw, dict) and set(raw) == {"range"} and isinstance(raw["range"], list) \
            and len(raw["range"]) in (2, 3) and all(isinstance(v, int) and not isinstance(v, bool)
                                                    for v in raw["range"]):
        if len(raw["range"]) == 3 and raw["range"][2] == 0:
            raise SpecError("a range step must not be 0", source=source, key=f"{key}.range", value=raw["range"],
                            accepted="[start, stop] or [start, stop, step] with step != 0")
        span = range(*raw["range"])
        if len(span) > MAX_AXIS_VALUES:
            raise SpecError(f"a range of {len(span):,} values", source=source, key=f"{key}.range", value=raw["range"],
                            accepted=f"at most {MAX_AXIS_VALUES:,} values per axis")
        values: list[Any] = list(span)
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


__all__ = ["SweepSpec", "load_sweep_spec"]
