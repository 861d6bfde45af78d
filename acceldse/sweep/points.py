"""Expanding a sweep spec into design points: sampling, hardware variants, point ids, constraints.

A point is one workload x hardware variant x dataflow x fidelity. ``plan_sweep`` samples the
axes (grid, random or Sobol), builds every distinct hardware variant once through the
hardware loader (a rejected value is reported with its point), checks every distinct
workload, drops points that fail a constraint and gives each point a stable ``point_id``.

A point's row carries the values it is keyed on (``POINT_IDENTITY``): the resolved hardware
variant by content, the workload, its resolved parameters and (a file) its content, the
dataflow, the fidelity and the acceldse version; ``point_id`` is ``point_key`` of those stored
values. Two specs that describe the same design (a constant axis equal to the base value,
``16KiB`` or ``16384``) give the same id. To key points on one more input, add it to
``POINT_IDENTITY`` and fill the column in ``plan_sweep``.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.simulator.specs.accelerator import Accelerator, accelerator_from_dict
from acceldse.store import acceldse_version, sql_type
from acceldse.sweep.hardware_keys import axis_column_value, resolve_key, set_key
from acceldse.sweep.spec import SweepSpec
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

MAX_GRID_POINTS = 50_000_000
PLAN_BYTES_PER_POINT = 200
PLAN_BYTES_PER_AXIS = 40
"""Peak planning memory per point (measured: a 10^6-point, 3-axis grid peaks ~0.3 GB over the
interpreter's base): sampled indices, the points frame with its identity columns, the ids."""

POINT_IDENTITY: dict[str, str] = {
    "design_sha256": "VARCHAR",     # the resolved hardware variant (every field of the Accelerator), by content
    "workload": "VARCHAR",          # zoo name or file path
    "workload_params": "VARCHAR",   # the resolved workload parameters, JSON with sorted keys
    "workload_sha256": "VARCHAR",   # a workload file's content ('' for a zoo network)
    "dataflow": "VARCHAR",
    "fidelity": "VARCHAR",
    "acceldse_version": "VARCHAR",
}
"""The stored values a point's key is computed from (column -> SQL type)."""

POINT_COLUMNS: dict[str, str] = {"point_id": "VARCHAR", "hardware": "VARCHAR", "hardware_sha256": "VARCHAR",
                                 **POINT_IDENTITY}
"""The declared columns of every ``points`` row besides the axes and the metrics (``hardware_sha256``:
the base hardware's content, which a resume must match)."""


def point_key(values: dict[str, Any]) -> str:
    """A point's id: a hash of its ``POINT_IDENTITY`` values (as stored)."""
    return hashlib.blake2b(json.dumps([str(values[k]) for k in POINT_IDENTITY]).encode(), digest_size=8).hexdigest()


def content_sha256(obj: Any) -> str:
    """A content hash of a mapping (a hardware YAML): keys sorted, every number as a float (``1000`` == ``1000.0``)."""

    def canon(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): canon(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [canon(x) for x in v]
        if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
            return repr(float(v))
        return v

    return hashlib.sha256(json.dumps(canon(obj), sort_keys=True, default=str).encode()).hexdigest()


def design_sha256(acc: Accelerator) -> str:
    """The content hash of a resolved design: every field the loader normalised (integers as ``int``,
    the rest as ``float``, partitions in operand order), its name, description and source left out."""
    import dataclasses

    text = repr(dataclasses.replace(acc, name="", description="", source=""))
    return hashlib.sha256(text.encode()).hexdigest()


def check_plan_memory(spec: SweepSpec, max_memory_bytes: int | None) -> int:
    """Refuse, before sampling, a plan whose estimated memory exceeds ``max_memory_bytes``; returns the estimate."""
    n = math.prod(len(spec.axes[group[0]]) for group in _dimensions(spec)) if spec.sample == "grid" \
        else spec.samples  # a linked (zip) group is one dimension of the grid
    need = n * (PLAN_BYTES_PER_POINT + PLAN_BYTES_PER_AXIS * len(spec.axes))
    if max_memory_bytes is not None and need > max_memory_bytes:
        what = "grid" if spec.sample == "grid" else f"sample.{spec.sample}"
        raise SpecError(f"planning {n:,} points needs about {need / 2**30:.1f} GiB, more than the limit "
                        f"{max_memory_bytes / 2**30:.1f} GiB", source=spec.source, key="sample", value=what,
                        accepted="a higher max_memory_gib, or fewer points: sample: {random: N} or {sobol: N}, "
                                 "fewer axis values")
    return need


@dataclass
class SweepPlan:
    """The points of a sweep, ready to evaluate.

    Attributes:
        spec: the validated spec.
        points: one row per point: ``point_id``, ``hardware`` and one column per axis key.
        variant: index into ``variants`` per point; workload: index into ``workloads`` per point.
        variants: distinct hardware variants; workloads: distinct (name, params) pairs.
        networks: the built network of each workload (reused in process).
        sampled: points drawn before constraints and de-duplication; skipped: failed a constraint.
        schema: the declared SQL type of every identity and axis column (from all of an axis's values).
    """

    spec: SweepSpec
    points: pd.DataFrame
    variant: np.ndarray
    workload: np.ndarray
    variants: list[Accelerator]
    workloads: list[tuple[str, dict[str, Any]]]
    networks: list[Network]
    sampled: int
    skipped: int
    schema: dict[str, str] = field(default_factory=dict)


def sample_indices(spec: SweepSpec) -> np.ndarray:
    """(N, axes) value indices per point, in the spec's axis order."""
    dims = _dimensions(spec)
    idx = _free_indices(spec, [len(spec.axes[group[0]]) for group in dims])
    column = {k: d for d, group in enumerate(dims) for k in group}
    return idx[:, [column[k] for k in spec.axes]]


def _dimensions(spec: SweepSpec) -> list[tuple[str, ...]]:
    """The independent dimensions of the grid: a free axis alone, a linked (zip) group as one."""
    linked = {k: group for group in spec.links for k in group}
    dims: list[tuple[str, ...]] = []
    for key in spec.axes:
        group = linked.get(key, (key,))
        if group not in dims:
            dims.append(group)
    return dims


def _free_indices(spec: SweepSpec, sizes: list[int]) -> np.ndarray:
    """(N, dimensions) value indices: the grid, or N random / Sobol samples of it."""
    total = math.prod(sizes)
    if spec.sample == "grid":
        if total > MAX_GRID_POINTS:
            raise SpecError("grid too large", source=spec.source, key="sample", value=total,
                            accepted=f"at most {MAX_GRID_POINTS:,} points; use {{random: N}} or {{sobol: N}}")
        return np.stack(np.unravel_index(np.arange(total), sizes), axis=1)
    n = spec.samples
    if n > MAX_GRID_POINTS:
        raise SpecError("too many samples", source=spec.source, key=f"sample.{spec.sample}", value=n,
                        accepted=f"at most {MAX_GRID_POINTS:,} points")
    if spec.sample == "random":
        if n > total:
            raise SpecError(f"more samples than the grid's {total} points", source=spec.source, key="sample.random",
                            value=n, accepted=f"at most {total}, or sample: grid")
        rng = np.random.default_rng(spec.seed)
        if total <= 10**12:
            return np.stack(np.unravel_index(rng.choice(total, size=n, replace=False), sizes), axis=1)
        return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1)
    from scipy.stats import qmc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance warning for N not a power of two
        unit = qmc.Sobol(d=len(sizes), scramble=True, seed=spec.seed).random(n)
    return np.minimum((unit * np.array(sizes)).astype(np.int64), np.array(sizes) - 1)


def _describe(keys: list[str], values: tuple[Any, ...]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in zip(keys, values)) + "}"


def build_variants(spec: SweepSpec, combos: np.ndarray, *, progress: bool = False
                   ) -> tuple[list[Accelerator], list[str]]:
    """One ``Accelerator`` per distinct hardware-axis combination (rows of value indices), and the
    content hash of each (``design_sha256``)."""
    from tqdm import tqdm

    keys = spec.hardware_axes()
    canonical = [resolve_key(spec.hardware, k, source=spec.source) for k in keys]
    variants, digests = [], []
    for row in tqdm(combos, desc="hardware variants", unit="variant", disable=not progress or len(combos) < 1000,
                    leave=False, dynamic_ncols=True):
        values = tuple(spec.axes[k][i] for k, i in zip(keys, row))
        data = dict(spec.hardware)
        for key, value in zip(canonical, values):
            set_key(data, key, value)
        try:
            acc = accelerator_from_dict(data, source=f"{spec.source}: point {_describe(keys, values)}")
        except SpecError as err:
            raise SpecError(f"axis value rejected by the hardware loader: {err}", source=spec.source,
                            key="axes", value=_describe(keys, values)) from None
        variants.append(acc)
        digests.append(design_sha256(acc))
    return variants, digests


def build_workloads(spec: SweepSpec, combos: list[tuple[Any, ...]], keys: list[str]
                    ) -> tuple[list[tuple[str, dict[str, Any]]], list[Network], list[str]]:
    """Each distinct (workload, params.*) combination with its resolved parameters (shared, the
    workload's own, its axes, a zoo network's defaults), built once to check it, and the content
    hash of a workload file ('' for a zoo network)."""
    from acceldse.api import resolve_workload, resolved_params

    out, networks, digests = [], [], []
    for values in combos:
        named = dict(zip(keys, values))
        name = str(named.pop("workload"))
        params = {**spec.params_for(name), **{k.removeprefix("params."): v for k, v in named.items()}}
        try:
            networks.append(resolve_workload(name, **params))
        except SpecError as err:
            raise SpecError(f"workload rejected: {err}", source=spec.source, key="workload",
                            value=_describe(keys, values)) from None
        path = Path(name)
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out.append((name, resolved_params(name, params)))  # a zoo network's defaults written out
        digests.append(content)
    return out, networks, digests


def plan_sweep(spec: SweepSpec, *, progress: bool = False) -> SweepPlan:
    """Sample, build variants and workloads, apply constraints, assign point ids (de-duplicated).

    ``progress`` shows a bar while many hardware variants are built (each one through the loader)."""
    keys = list(spec.axes)
    idx = sample_indices(spec)
    hw_cols = [keys.index(k) for k in spec.hardware_axes()]
    wl_keys = [k for k in keys if k == "workload" or k.startswith("params.")]
    wl_cols = [keys.index(k) for k in wl_keys]
    hw_combos, variant = np.unique(idx[:, hw_cols], axis=0, return_inverse=True) if hw_cols \
        else (np.zeros((1, 0), dtype=np.int64), np.zeros(len(idx), dtype=np.int64))
    wl_combos, workload = np.unique(idx[:, wl_cols], axis=0, return_inverse=True)
    variant, workload = variant.ravel(), workload.ravel()
    variants, hw_digest = build_variants(spec, hw_combos, progress=progress)
    wl_values = [tuple(spec.axes[k][i] for k, i in zip(wl_keys, row)) for row in wl_combos]
    workloads, networks, wl_digest = build_workloads(spec, wl_values, wl_keys)
    _check_capacities(spec, variants, variant, networks, workload)
    columns = {k: [axis_column_value(k, v) for v in spec.axes[k]] for k in keys}
    schema = {**POINT_COLUMNS, **{k: sql_type(columns[k]) for k in keys if k not in POINT_COLUMNS}}
    frame = pd.DataFrame({k: np.asarray(columns[k], dtype=object)[idx[:, j]] for j, k in enumerate(keys)})
    params_json = [json.dumps(p, sort_keys=True, default=str) for _, p in workloads]
    frame.insert(0, "hardware", spec.hardware_name)
    frame.insert(1, "hardware_sha256", content_sha256(spec.hardware))
    frame["design_sha256"] = np.asarray(hw_digest, dtype=object)[variant]
    frame["workload_params"] = np.asarray(params_json, dtype=object)[workload]
    frame["workload_sha256"] = np.asarray(wl_digest, dtype=object)[workload]
    frame["acceldse_version"] = acceldse_version()
    frame.insert(0, "point_id", _point_ids(frame))
    keep = _constraint_mask(spec, frame, variants, variant)
    skipped = int((~keep).sum())
    keep &= ~frame["point_id"].duplicated().to_numpy()
    frame = frame[keep].reset_index(drop=True)
    for k, t in schema.items():  # numbers as numbers, of the type the whole axis declares
        if t in ("BIGINT", "DOUBLE") and k in frame:
            frame[k] = frame[k].astype("int64" if t == "BIGINT" else "float64")
    return SweepPlan(spec=spec, points=frame, variant=variant[keep], workload=workload[keep], variants=variants,
                     workloads=workloads, networks=networks, sampled=len(idx), skipped=skipped, schema=schema)


def _check_capacities(spec: SweepSpec, variants: list[Accelerator], variant: np.ndarray, networks: list[Network],
                      workload: np.ndarray) -> None:
    """Every sampled design's outermost tier holds the largest layer of its workload (``api.check_capacity``)."""
    from acceldse.api import check_capacity, layer_footprint_bytes

    need = np.array([layer_footprint_bytes(n)[0] for n in networks], dtype=np.float64)
    have = np.array([v.tiers[-1].capacity_bytes for v in variants], dtype=np.float64)
    bad = np.flatnonzero(have[variant] < need[workload])
    if len(bad):
        check_capacity(networks[workload[bad[0]]], variants[variant[bad[0]]], source=spec.source)


def _point_ids(frame: pd.DataFrame) -> list[str]:
    """``point_key`` of every row (the identity columns as stored; distinct tuples hashed once)."""
    ident = frame[list(POINT_IDENTITY)].astype(str)
    codes, uniques = pd.MultiIndex.from_frame(ident).factorize()
    keys = [point_key(dict(zip(POINT_IDENTITY, u))) for u in uniques]
    return [keys[c] for c in codes]


def _constraint_mask(spec: SweepSpec, frame: pd.DataFrame, variants: list[Accelerator],
                     variant: np.ndarray) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    if not spec.constraints:
        return keep
    design = {
        "area_mm2": [a.area_mm2 for a in variants], "pes": [a.array.pes * a.cores for a in variants],
        "rows": [a.array.rows for a in variants], "cols": [a.array.cols for a in variants],
        "clock_mhz": [a.clock_mhz for a in variants], "cores": [a.cores for a in variants],
        "sram_bytes": [a.sram.capacity_bytes for a in variants],
        "dram_bw_bytes_per_cycle": [a.dram.read_bw_bytes_per_cycle for a in variants],
    }
    for c in spec.constraints:
        keep &= c.holds({n: np.asarray(design[n])[variant] if n in design else frame[n].to_numpy(dtype=float)
                         for n in c.names})
    return keep


__all__ = ["POINT_COLUMNS", "POINT_IDENTITY", "SweepPlan", "build_variants", "check_plan_memory", "content_sha256",
           "design_sha256", "plan_sweep", "point_key", "sample_indices"]
