"""Mapping a cascade: on a fused accelerator (``evaluate_fused``), or, for a single GEMM / matmul
Einsum, on a Timeloop-style hierarchy with the single-Einsum mapper (exactly ``map_layer``'s numbers).

``default_mapping`` maps every Einsum alone, one after another, each on the first unit that runs its
operators, with every tensor in DRAM (the unfused baseline); a YAML cascade may carry its own
``hardware`` (a preset name or an inline fused spec) and ``mapping`` (``FusedMapping.to_dict`` form).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

from acceldse.mapper.fused import FusedCost, FusedGroup, FusedMapping, evaluate_fused, mapping_from_dict
from acceldse.simulator.specs.fused import FusedHardware, fused_from_dict, fused_presets, load_fused_hardware
from acceldse.workloads.cascade import Cascade, Einsum, cascade_from_dict
from acceldse.workloads.einsum import Einsum as GeneralEinsum
from acceldse.workloads.einsum import Tensor
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, gemm, matmul
from acceldse.workloads.spec_io import load_yaml


def einsum_layer(cascade: Cascade, e: Einsum) -> Layer:
    """A multiply-accumulate Einsum as the mapper's ``Layer``: a GEMM or batched matmul exactly as the
    workload zoo writes it (``layer.gemm`` / ``layer.matmul``), any other MAC Einsum through
    ``workloads.einsum``'s lowering onto the kernel's nest; ``SpecError`` for the rest."""
    if len(e.inputs) != 2 or e.point_ops() != ("mac",) or any(i.take or i.shift for r in e.inputs for i in r.indices):
        raise SpecError(f"Einsum {e.name} is not a multiply-accumulate", source=cascade.source,
                        key=f"einsums.{e.name}", value=str(e),
                        accepted="Z[..] = sum A[..] * B[..] on a hierarchy; other Einsums need a fused accelerator ("
                                 + ", ".join(fused_presets()) + ")")
    a, b = (set(ref.ranks) for ref in e.inputs)
    out = set(e.output.ranks)
    batch = out & a & b
    rows, cols = (out & a) - b, (out & b) - a
    size = cascade.ranks
    if len(e.reduced_ranks) == 1 and len(rows) == 1 and len(cols) == 1 and out == batch | rows | cols:
        nb = math.prod(size[r] for r in batch)
        m, n, k = size[rows.pop()], size[cols.pop()], size[e.reduced_ranks[0]]
        return gemm(e.name, m, n, k, batch=nb) if not batch else matmul(e.name, m, n, k, groups=nb)
    tensors = tuple(Tensor(ref.tensor, tuple(((r, 1),) for r in ref.ranks), read_write=ref is e.output)
                    for ref in (*e.inputs, e.output))
    return GeneralEinsum(e.name, tuple((r, size[r]) for r in e.iteration_ranks), tensors).to_layer()


def _first_unit(hw: FusedHardware, e: Einsum) -> str:
    ops = e.point_ops()
    able = [u for u in hw.units.values() if all(op in u.ops for op in ops)]
    if not able:
        raise SpecError(f"no unit of {hw.name} runs the operators of Einsum {e.name}", source=hw.source,
                        key="units", value=list(ops), accepted="a unit with " + ", ".join(ops))
    return max(able, key=lambda u: (len(u.shape), u.pes)).name


def default_mapping(cascade: Cascade, hw: FusedHardware) -> FusedMapping:
    """Every Einsum alone, in dependency order, every tensor in DRAM (module docstring)."""
    binding: dict[str, str] = {}
    spatial: dict[str, dict[str, tuple[str, ...]]] = {}
    for e in cascade:
        u = hw.units[_first_unit(hw, e)]
        binding[e.name] = u.name
        ranks = list(e.output.iterated) + [r for r in e.reduced_ranks]
        big = sorted(ranks, key=lambda r: -cascade.ranks[r])
        spatial[e.name] = {axis: (r,) for axis, r in zip(u.axes, big, strict=False)}
    groups = tuple(FusedGroup((e.name,)) for e in cascade.order())
    keep = {t: "dram" for t in (*cascade.inputs, *cascade.producers)}
    return FusedMapping(groups, binding, spatial, keep, False, "unfused (default)")


def map_cascade(cascade: Cascade, hardware: str | Path | FusedHardware | Any = "fusemax", *,
                mapping: FusedMapping | dict | None = None, **options: Any) -> Any:
    """Cost of ``cascade``: ``FusedCost`` on a fused accelerator (``mapping`` or ``default_mapping``);
    ``mapper.LayerMapping`` (the single-Einsum mapper's search, ``options`` as ``map_layer``) for a
    one-Einsum cascade on a hierarchy preset or file."""
    from acceldse.simulator.specs.hierarchy import Hierarchy

    fused: FusedHardware | None = None
    if isinstance(hardware, FusedHardware):
        fused = hardware
    elif isinstance(hardware, dict):
        fused = fused_from_dict(hardware, source=f"{cascade.source}: hardware")
    elif not isinstance(hardware, Hierarchy):
        text = str(hardware)
        if text.lower() in fused_presets():
            fused = load_fused_hardware(text)
        elif text.lower().endswith((".yaml", ".yml")) and Path(text).is_file():
            raw = load_yaml(text, kind="hardware", versions=(1, 2))
            if "units" in raw:
                fused = fused_from_dict(raw, source=text)
    if fused is not None:
        if isinstance(mapping, dict):
            mapping = mapping_from_dict(mapping, source=cascade.source)
        return evaluate_fused(cascade, fused, mapping or default_mapping(cascade, fused), source=cascade.source)
    if len(cascade) != 1:
        raise SpecError(f"a cascade of {len(cascade)} Einsums needs a fused accelerator", source=cascade.source,
                        key="hardware", value=str(getattr(hardware, "name", hardware)),
                        accepted=", ".join(fused_presets()) + " or a YAML with 'units:'")
    if mapping is not None:
        raise SpecError("a fused mapping needs a fused accelerator", source=cascade.source, key="mapping",
                        accepted="hardware: " + " | ".join(fused_presets()))
    from acceldse.mapper.api import map_layer

    return map_layer(einsum_layer(cascade, cascade.einsums[0]), cast("str | Path | Hierarchy", hardware), **options)


def load_cascade_file(path: str | Path) -> tuple[Cascade, Any, Any]:
    """A cascade YAML with optional ``hardware`` and ``mapping``: (cascade, hardware or None, mapping or None)."""
    raw = load_yaml(path, kind="cascade")
    cascade = cascade_from_dict(raw, source=str(path))
    return cascade, raw.get("hardware"), raw.get("mapping")


def cost_rows(cost: FusedCost) -> list[dict[str, Any]]:
    return [dict(r) for r in cost.table().to_dict("records")]
