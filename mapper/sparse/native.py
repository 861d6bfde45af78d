"""Sparseloop's analysis of a mapping found by acceldse's own mapper on one of its hierarchies.

``mapper.timeloop.sparse`` builds a ``SparseDesign`` from Timeloop input files; ``design_for`` builds
the same from a native ``Layer`` + ``Hierarchy`` + ``Mapping`` and its dense ``CostResult`` (what
``acceldse.map`` returns), so a preset's sparse features (compressed DRAM tensors, gated scratchpad
reads, gated MACs) can be costed on the mapper's choice. Tensors are named as ``Einsum.from_layer``
names them (``Inputs``, ``Weights``, ``Outputs``; ranks N G K C P Q R S); levels by the hierarchy's
names. Energies come from the hierarchy (per level: its kept dataspaces' read / fill / update; a
level whose dataspaces cost differently is refused), gated actions from ``gated_energy_pj``.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import Any

from acceldse.mapper.sparse.density import DensityModel
from acceldse.mapper.sparse.design import (
    DenseCounts,
    Loop,
    SafSpec,
    SparseDesign,
    StorageSpec,
    action_energies,
    compute_energies,
)
from acceldse.mapper.sparse.formats import RankFormat
from acceldse.workloads.einsum import Einsum
from acceldse.workloads.layer import DIMS

Saf = tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]]
"""(level name, ``gate`` | ``skip``, ((target tensor, condition tensors), ...))."""


def _level_energies(level: Any) -> dict[str, float]:
    tables = {tuple(v) for ds, v in level.energy_pj.items() if ds in level.keeps}
    if len(tables) > 1:
        raise ValueError(f"{level.name}: per-dataspace energies differ ({sorted(tables)}); Sparseloop's "
                         "analysis takes one energy table per level")
    read, fill, update = next(iter(tables)) if tables else (0.0, 0.0, 0.0)
    return {"read": read, "fill": fill, "update": update}


def design_for(layer: Any, hierarchy: Any, mapping: Any, cost: Any, *, densities: MappingABC[str, DensityModel],
               formats: MappingABC[tuple[str, str], tuple[RankFormat, ...]] | None = None,
               metadata_word_bits: MappingABC[str, int] | None = None, safs: tuple[Saf, ...] = (),
               gate_on_zero_operand: bool = False, skip_on_not_aligned_operands: bool = False,
               gated_energy_pj: MappingABC[str, MappingABC[str, float]] | None = None) -> SparseDesign:
    """The ``SparseDesign`` of ``mapping`` (dense cost ``cost``) of ``layer`` on ``hierarchy``.

    Args:
        densities: tensor name -> density model (a tensor not named is dense).
        formats: (level name, tensor) -> rank formats, innermost rank first.
        metadata_word_bits: level name -> bits of one metadata word (e.g. a run length).
        safs: storage action optimisations (gating / skipping a target's accesses on empty conditions).
        gate_on_zero_operand, skip_on_not_aligned_operands: the compute's optimisations.
        gated_energy_pj: component (level name, or the compute's name) -> extra ERT actions
            (``gated_read``, ``mac_gated`` ...); a gated action not given costs nothing.
    """
    formats, extra = dict(formats or {}), dict(gated_energy_pj or {})
    md_bits = dict(metadata_word_bits or {})
    einsum = Einsum.from_layer(layer)
    names = {t.name.lower(): t.name for t in einsum.tensors}
    by_level = {lm.level: lm for lm in mapping.levels}
    levels: list[StorageSpec] = []
    for lv in reversed(hierarchy.levels):  # innermost first, as Sparseloop indexes them
        lm = by_level.get(lv.name)
        loops: list[Loop] = []
        if lm is not None:  # a level's spatial fan-out sits under its temporal loops
            for axis in (lm.spatial_x, lm.spatial_y):
                loops += [Loop(dim, int(f), spatial=True) for dim, f in axis.items() if f > 1]
            loops += [Loop(dim, int(lm.temporal.get(dim, 1))) for dim in reversed(lm.full_order()) if dim in DIMS]
        ert = {**_level_energies(lv), **extra.get(lv.name, {})}
        bits = md_bits.get(lv.name, 0)
        levels.append(StorageSpec(
            name=lv.name, loops=tuple(loops), word_bits=lv.word_bits, block_size=lv.block_size,
            metadata_word_bits=bits, metadata_storage_width=bits,
            read_bandwidth=lv.read_bandwidth_words_per_cycle, write_bandwidth=lv.write_bandwidth_words_per_cycle,
            energy_pj=action_energies(ert)))
    index = {lv.name: j for j, lv in enumerate(levels)}
    dense = {(index[r.level], names[r.dataspace]): DenseCounts(int(r.tile_words), int(r.reads), int(r.fills),
                                                               int(r.updates), int(r.instances))
             for r in cost.counts.itertuples()}
    named = {lv for lv, _ in formats} | {lv for lv, _, _ in safs} | set(md_bits) | set(extra)
    unknown = sorted(named - set(index) - {hierarchy.compute.name})
    if unknown:
        raise ValueError(f"unknown level(s) {', '.join(unknown)}; levels: {', '.join(index)}")
    missing = sorted(t for t in densities if t not in names.values())
    if missing:
        raise ValueError(f"unknown tensor(s) {', '.join(missing)}; tensors: {', '.join(names.values())}")
    cycles = max(cost.cycles, 1)
    compute_ert = {"mac": hierarchy.compute.energy_pj, **extra.get(hierarchy.compute.name, {})}
    return SparseDesign(
        tensors=tuple(einsum.tensors), densities=dict(densities), levels=tuple(levels), dense=dense,
        formats={(index[lv], t): f for (lv, t), f in formats.items() if (index[lv], t) in dense},
        safs=tuple(SafSpec(index[lv], kind, group) for lv, kind, group in safs),
        algorithmic_computes=int(cost.macs), compute_energy_pj=compute_energies(compute_ert),
        compute_instances=int(cost.utilised_pes), gate_on_zero_operand=gate_on_zero_operand,
        skip_on_not_aligned_operands=skip_on_not_aligned_operands,
        leakage_pj_per_cycle={index[name]: pj / cycles for name, pj in cost.leakage_pj_by_level.items()})


__all__ = ["Saf", "design_for"]
