"""Expanding a sweep spec into design points: sampling, hardware variants, point ids, constraints.

A point is one workload x hardware variant x dataflow x fidelity. ``plan_sweep`` samples the
axes (grid, random or Sobol), builds every distinct hardware variant once through the
hardware loader (a rejected value is reported with its point), checks every distinct
workload, drops points that fail a constraint and gives each point a stable ``point_id``:
a hash of its resolved inputs (the full variant YAML, the workload and its parameters, the
dataflow, the fidelity) and the acceldse version.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.simulator.specs.accelerator import Accelerator, accelerator_from_dict
from acceldse.store import acceldse_version
from acceldse.sweep.spec import SweepSpec, axis_column_value, resolve_key, set_key
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

MAX_GRID_POINTS = 50_000_000
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq,
        "!=": operator.ne}


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


def sample_indices(spec: SweepSpec) -> np.ndarray:
    """(N, axes) value indices per point, in the spec's axis order."""
    sizes = [len(v) for v in spec.axes.values()]
    total = math.prod(sizes)
    if spec.sample == "grid":
        if total > MAX_GRID_POINTS:
            raise SpecError("grid too large", source=spec.source, key="sample", value=total,
                            accepted=f"at most {MAX_GRID_POINTS:,} points; use {{random: N}} or {{sobol: N}}")
        return np.stack(np.unravel_index(np.arange(total), sizes), axis=1)
    n = spec.samples
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


def _digest(obj: Any) -> str:
    return hashlib.blake2b(json.dumps(obj, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


def _describe(keys: list[str], values: tuple[Any, ...]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in zip(keys, values)) + "}"


def build_variants(spec: SweepSpec, combos: np.ndarray, *, progress: bool = False
                   ) -> tuple[list[Accelerator], list[str]]:
    """One ``Accelerator`` per distinct hardware-axis combination (rows of value indices)."""
    from tqdm import tqdm

    keys = spec.hardware_axes()
    canonical = [resolve_key(spec.hardware, k, source=spec.source) for k in keys]
    variants, digests = [], []
    base = _digest(spec.hardware)
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
        digests.append(_digest([base, canonical, values]))  # the base YAML and the values written into it
    return variants, digests


def build_workloads(spec: SweepSpec, combos: list[tuple[Any, ...]], keys: list[str]
                    ) -> tuple[list[tuple[str, dict[str, Any]]], list[Network], list[str]]:
    """Each distinct (workload, params.*) combination, built once to check it."""
    from acceldse.api import resolve_workload

    out, networks, digests = [], [], []
    for values in combos:
        named = dict(zip(keys, values))
        name = str(named.pop("workload"))
        params = {**spec.params, **{k.removeprefix("params."): v for k, v in named.items()}}
        try:
            networks.append(resolve_workload(name, **params))
        except SpecError as err:
            raise SpecError(f"workload rejected: {err}", source=spec.source, key="workload",
                            value=_describe(keys, values)) from None
        path = Path(name)
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out.append((name, params))
        digests.append(_digest([name, params, content]))
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
    columns = {k: [axis_column_value(k, v) for v in spec.axes[k]] for k in keys}
    frame = pd.DataFrame({k: np.asarray(columns[k], dtype=object)[idx[:, j]] for j, k in enumerate(keys)})
    frame.insert(0, "hardware", spec.hardware_name)
    version = acceldse_version()
    ids = [hashlib.blake2b(f"{hw_digest[v]}|{wl_digest[w]}|{d}|{f}|{version}".encode(), digest_size=8).hexdigest()
           for v, w, d, f in zip(variant, workload, frame["dataflow"], frame["fidelity"])]
    frame.insert(0, "point_id", ids)
    keep = _constraint_mask(spec, frame, variants, variant)
    skipped = int((~keep).sum())
    keep &= ~frame["point_id"].duplicated().to_numpy()
    frame = frame[keep].reset_index(drop=True)
    for k in keys:  # numeric axes as numbers, not objects
        if len(frame) and frame[k].map(_is_number).all():
            frame[k] = pd.to_numeric(frame[k])
    return SweepPlan(spec=spec, points=frame, variant=variant[keep], workload=workload[keep], variants=variants,
                     workloads=workloads, networks=networks, sampled=len(idx), skipped=skipped)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


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
        values = np.asarray(design[c.name])[variant] if c.name in design else frame[c.name].to_numpy(dtype=float)
        keep &= _OPS[c.op](values, c.bound)
    return keep


__all__ = ["SweepPlan", "build_variants", "plan_sweep", "sample_indices"]
