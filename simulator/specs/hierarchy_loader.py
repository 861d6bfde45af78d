"""Load a ``Hierarchy`` from versioned YAML (a preset name or a file path).

Format (``version: 2``; version 1 is still read)::

    version: 2
    name: eyeriss_like
    clock_mhz: 200                # drives every time output (latency_us = cycles / clock_mhz)
    technology_nm: 32             # process node of the area model (simulator.specs.area)
    dataflow: rs                  # optional: the dataflow the hardware fixes
    levels:                       # outermost first
      - name: DRAM
        keeps: [inputs, weights, outputs]
        # always_keeps: [weights] # of keeps, those a mapping search must not bypass
        block_size: 8             # words per access
        word_bits: 8
        energy_pj: {read: 512, fill: 512, update: 512}     # or per dataspace:
        #   energy_pj: {inputs: {read: .., fill: ..}, outputs: {update: ..}}
      - name: shared_glb
        capacity_words: 131072    # shared; or {inputs: 100, outputs: 50} per dataspace
        read_bandwidth_words_per_cycle: 16
        ...
      - name: pe_column
        instances: 14             # per parent instance
        mesh_x: 14
        keeps: []
    compute: {name: mac, energy_pj: 0.208, bits: 8, instances: 1}   # area from bits (or area_mm2: ...)

A level's area is modelled from its capacity (``memory: sram`` (default) or ``regfile``, ``ports: 1``)
unless it gives ``area_mm2`` (one instance); see ``simulator.specs.area``.

Every error is a ``SpecError`` naming the file and the key path (``levels[2].capacity_words``).
The version-1 key ``clock_ghz`` is still read (converted to MHz) with a ``DeprecationWarning``.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

from acceldse.dataflows.dataflow import get_dataflow
from acceldse.simulator.specs.area import MEMORY_KINDS, check_technology
from acceldse.simulator.specs.hierarchy import ACTIONS, DATASPACES, ComputeUnit, Hierarchy, StorageLevel
from acceldse.simulator.specs.presets import PRESET_DIRS, not_a_preset
from acceldse.workloads.errors import (
    MAX_AREA_MM2,
    MAX_BW_BYTES_PER_CYCLE,
    MAX_BYTES,
    MAX_CLOCK_MHZ,
    MAX_ENERGY_PJ,
    MIN_BW_BYTES_PER_CYCLE,
    MIN_CLOCK_MHZ,
    SpecError,
    require_float,
    require_int,
)
from acceldse.workloads.spec_io import check_version, load_yaml, path_exists, reject_unknown

MAX_INSTANCES = 2**20
"""Most instances (PEs, buffers) of one level and most words per block."""

PRESET_DIR = PRESET_DIRS["hierarchy"]
HIERARCHY_VERSION = 2
"""Current hierarchy spec version (2: ``clock_mhz`` replaces ``clock_ghz``; ``technology_nm``)."""

_LEVEL_KEYS = {"name", "instances", "mesh_x", "mesh_y", "keeps", "always_keeps", "capacity_words", "word_bits",
               "block_size",
               "read_bandwidth_words_per_cycle", "write_bandwidth_words_per_cycle", "energy_pj",
               "leakage_pj_per_cycle", "area_mm2", "double_buffered", "cluster_size", "description", "memory",
               "ports"}
_COMPUTE_KEYS = {"name", "instances", "mesh_x", "mesh_y", "energy_pj", "area_mm2", "bits"}


def hierarchy_presets() -> list[str]:
    """Names of the shipped hierarchy presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_hierarchy(name_or_path: str | Path | Hierarchy | dict[str, Any], *, source: str = "hardware") -> Hierarchy:
    """A preset name (``eyeriss_like``), a YAML path or a spec mapping (``load_hierarchy(name).to_dict()``,
    edited; checked like a YAML file, errors name ``source``) -> ``Hierarchy``."""
    if isinstance(name_or_path, Hierarchy):
        return name_or_path
    if isinstance(name_or_path, dict):
        data = copy.deepcopy(name_or_path)
        check_version(data, kind="hierarchy", source=source, versions=(1, HIERARCHY_VERSION))
        return build_hierarchy(data, source=source)
    text = str(name_or_path)
    path = Path(text)
    if not path.suffix and path_exists(PRESET_DIR / f"{text}.yaml"):
        path = PRESET_DIR / f"{text}.yaml"
    elif not path_exists(path):
        raise not_a_preset(text, "hierarchy", flag="hardware",
                           message="unknown hierarchy preset or file",
                           accepted="a YAML path or one of " + ", ".join(hierarchy_presets()))
    data = load_yaml(path, kind="hierarchy", versions=(1, HIERARCHY_VERSION))
    return build_hierarchy(data, source=str(path))


def build_hierarchy(data: dict[str, Any], *, source: str) -> Hierarchy:
    """Validate a parsed YAML mapping and build the frozen ``Hierarchy``."""
    reject_unknown(data, {"version", "name", "description", "clock_mhz", "clock_ghz", "technology_nm", "dataflow",
                          "levels", "compute"}, source=source)
    raw_levels = data.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        raise SpecError("missing or empty list of levels", source=source, key="levels", value=raw_levels,
                        accepted="a non-empty list of storage levels, outermost (DRAM) first")
    levels = tuple(_level(raw, source=source, key=f"levels[{i}]") for i, raw in enumerate(raw_levels))
    compute = _compute(data.get("compute", {}), source=source)
    clock = _clock_mhz(data, source=source)
    tech = check_technology(require_float(data.get("technology_nm", 45.0), key="technology_nm", source=source,
                                          strictly_positive=True), source=source)
    name = str(data.get("name") or Path(source).stem)
    dataflow = data.get("dataflow")
    if dataflow is not None:
        dataflow = get_dataflow(dataflow, source=f"{source}: dataflow").name
    try:
        return Hierarchy(name=name, levels=levels, compute=compute, clock_mhz=clock, dataflow=dataflow,
                         technology_nm=tech)
    except SpecError as err:
        raise SpecError(str(err), source=source) from None


def _clock_mhz(data: dict[str, Any], *, source: str) -> float:
    """``clock_mhz``, or the deprecated ``clock_ghz`` converted (with a ``DeprecationWarning``)."""
    if "clock_ghz" in data:
        if "clock_mhz" in data:
            raise SpecError("give clock_mhz or the deprecated clock_ghz, not both", source=source, key="clock_ghz",
                            value=data["clock_ghz"], accepted="clock_mhz only")
        warnings.warn(f"{source}: 'clock_ghz' is deprecated; write 'clock_mhz: "
                      f"{data['clock_ghz'] * 1000 if isinstance(data['clock_ghz'], int | float) else '...'}' "
                      f"(hierarchy spec version {HIERARCHY_VERSION})", DeprecationWarning, stacklevel=4)
        return 1000.0 * require_float(data["clock_ghz"], key="clock_ghz", source=source,
                                      minimum=MIN_CLOCK_MHZ / 1000, maximum=MAX_CLOCK_MHZ / 1000)
    return require_float(data.get("clock_mhz", 1000.0), key="clock_mhz", source=source, minimum=MIN_CLOCK_MHZ,
                         maximum=MAX_CLOCK_MHZ)


def _level(raw: Any, *, source: str, key: str) -> StorageLevel:
    if not isinstance(raw, dict):
        raise SpecError("a level must be a mapping", source=source, key=key, value=raw)
    reject_unknown(raw, _LEVEL_KEYS, source=source, prefix=f"{key}.")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError("level needs a name", source=source, key=f"{key}.name", value=name)
    inst, mx, my = _mesh(raw, source=source, key=key)
    keeps = raw.get("keeps", list(DATASPACES))
    if not isinstance(keeps, list) or any(k not in DATASPACES for k in keeps):
        raise SpecError("keeps must list dataspaces", source=source, key=f"{key}.keeps", value=keeps,
                        accepted="a list of " + " / ".join(DATASPACES))
    always = raw.get("always_keeps", [])
    if not isinstance(always, list) or any(k not in keeps for k in always):
        raise SpecError("always_keeps must list dataspaces the level keeps", source=source,
                        key=f"{key}.always_keeps", value=always, accepted="a list of " + " / ".join(keeps))
    cap_raw = raw.get("capacity_words")
    cap: int | None = None
    per_ds: dict[str, int] = {}
    if isinstance(cap_raw, dict):
        for ds, v in cap_raw.items():
            if ds not in DATASPACES:
                raise SpecError("unknown dataspace", source=source, key=f"{key}.capacity_words.{ds}",
                                accepted=" | ".join(DATASPACES))
            per_ds[ds] = require_int(v, key=f"{key}.capacity_words.{ds}", source=source, maximum=MAX_BYTES)
    elif cap_raw is not None:
        cap = require_int(cap_raw, key=f"{key}.capacity_words", source=source, maximum=MAX_BYTES)
    bws = []
    for bkey in ("read_bandwidth_words_per_cycle", "write_bandwidth_words_per_cycle"):
        v = raw.get(bkey)
        bws.append(None if v is None else require_float(v, key=f"{key}.{bkey}", source=source,
                                                          minimum=MIN_BW_BYTES_PER_CYCLE,
                                                          maximum=MAX_BW_BYTES_PER_CYCLE))
    dbuf = raw.get("double_buffered", False)
    if not isinstance(dbuf, bool):
        raise SpecError("must be true or false", source=source, key=f"{key}.double_buffered", value=dbuf)
    return StorageLevel(
        name=name, instances=inst, mesh_x=mx, mesh_y=my, keeps=tuple(k for k in DATASPACES if k in keeps),
        always_keeps=tuple(k for k in DATASPACES if k in always),
        capacity_words=cap, capacity_words_per_dataspace=per_ds,
        word_bits=require_int(raw.get("word_bits", 8), key=f"{key}.word_bits", source=source, maximum=1024),
        block_size=require_int(raw.get("block_size", 1), key=f"{key}.block_size", source=source,
                               maximum=MAX_INSTANCES),
        read_bandwidth_words_per_cycle=bws[0], write_bandwidth_words_per_cycle=bws[1],
        energy_pj=_energy(raw.get("energy_pj", {}), source=source, key=f"{key}.energy_pj"),
        leakage_pj_per_cycle=require_float(raw.get("leakage_pj_per_cycle", 0.0), key=f"{key}.leakage_pj_per_cycle",
                                           source=source, maximum=MAX_ENERGY_PJ),
        area_mm2=_optional_area(raw.get("area_mm2"), key=f"{key}.area_mm2", source=source),
        double_buffered=dbuf,
        cluster_size=require_int(raw.get("cluster_size", 1), key=f"{key}.cluster_size", source=source,
                                 maximum=MAX_INSTANCES),
        memory=_memory(raw.get("memory", "sram"), key=f"{key}.memory", source=source),
        ports=require_int(raw.get("ports", 1), key=f"{key}.ports", source=source, maximum=MAX_INSTANCES),
    )


def _mesh(raw: dict[str, Any], *, source: str, key: str, accepted: bool = True) -> tuple[int, int, int]:
    """``instances``, ``mesh_x`` and ``mesh_y`` of a level or the compute (a missing side follows from the other)."""
    inst = require_int(raw.get("instances", 1), key=f"{key}.instances", source=source, maximum=MAX_INSTANCES)
    mx = require_int(raw.get("mesh_x", inst if "mesh_y" not in raw else 1), key=f"{key}.mesh_x", source=source,
                     maximum=MAX_INSTANCES)
    my = require_int(raw.get("mesh_y", inst // mx if inst % mx == 0 else 1), key=f"{key}.mesh_y", source=source,
                     maximum=MAX_INSTANCES)
    if mx * my != inst:
        raise SpecError("mesh_x * mesh_y must equal instances", source=source, key=f"{key}.mesh_x",
                        value=(mx, my), accepted=f"two factors of {inst}" if accepted else None)
    return inst, mx, my


def _optional_area(value: Any, *, key: str, source: str) -> float | None:
    """An explicit per-instance area (overrides the area model), or ``None``."""
    return None if value is None else require_float(value, key=key, source=source, maximum=MAX_AREA_MM2)


def _memory(value: Any, *, key: str, source: str) -> str:
    if value not in MEMORY_KINDS:
        raise SpecError("unknown memory kind", source=source, key=key, value=value,
                        accepted=" | ".join(MEMORY_KINDS))
    return str(value)


def _actions(raw: Any, *, source: str, key: str) -> tuple[float, float, float]:
    if not isinstance(raw, dict):
        raise SpecError("must be a mapping of actions", source=source, key=key, value=raw,
                        accepted="{read: pJ, fill: pJ, update: pJ}")
    reject_unknown(raw, set(ACTIONS), source=source, prefix=f"{key}.")
    read = require_float(raw.get("read", 0.0), key=f"{key}.read", source=source, maximum=MAX_ENERGY_PJ)
    fill = require_float(raw.get("fill", read), key=f"{key}.fill", source=source, maximum=MAX_ENERGY_PJ)
    update = require_float(raw.get("update", fill), key=f"{key}.update", source=source, maximum=MAX_ENERGY_PJ)
    return (read, fill, update)


def _energy(raw: Any, *, source: str, key: str) -> dict[str, tuple[float, float, float]]:
    if not isinstance(raw, dict):
        raise SpecError("must be a mapping", source=source, key=key, value=raw,
                        accepted="{read, fill, update} or {dataspace: {read, fill, update}}")
    if raw and all(k in ACTIONS for k in raw):
        table = _actions(raw, source=source, key=key)
        return {ds: table for ds in DATASPACES}
    out: dict[str, tuple[float, float, float]] = {}
    for ds, sub in raw.items():
        if ds not in DATASPACES:
            raise SpecError("unknown dataspace or action", source=source, key=f"{key}.{ds}",
                            accepted=" | ".join((*ACTIONS, *DATASPACES)))
        out[ds] = _actions(sub, source=source, key=f"{key}.{ds}")
    return out


def _compute(raw: Any, *, source: str) -> ComputeUnit:
    if not isinstance(raw, dict):
        raise SpecError("must be a mapping", source=source, key="compute", value=raw)
    reject_unknown(raw, _COMPUTE_KEYS, source=source, prefix="compute.")
    inst, mx, my = _mesh(raw, source=source, key="compute", accepted=False)
    return ComputeUnit(name=str(raw.get("name", "mac")), instances=inst, mesh_x=mx, mesh_y=my,
                       energy_pj=require_float(raw.get("energy_pj", 0.0), key="compute.energy_pj", source=source,
                                               maximum=MAX_ENERGY_PJ),
                       area_mm2=_optional_area(raw.get("area_mm2"), key="compute.area_mm2", source=source),
                       bits=require_int(raw.get("bits", 8), key="compute.bits", source=source, maximum=64))
