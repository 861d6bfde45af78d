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
    SafSpec,
    SparseDesign,
    StorageSpec,
    action_energies,
    compute_energies,
    with_loops,
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


class NativeDesigner:
    """The ``SparseDesign`` of any mapping of ``layer`` on ``hierarchy`` with the sparse features below
    (what does not depend on the mapping is read once; a bad feature is a ``ValueError`` here).

    Args:
        densities: tensor name -> density model (a tensor not named is dense).
        formats: (level name, tensor) -> rank formats, innermost rank first.
        metadata_word_bits: level name -> bits of one metadata word (e.g. a run length).
        safs: storage action optimisations (gating / skipping a target's accesses on empty conditions).
        gate_on_zero_operand, skip_on_not_aligned_operands: the compute's optimisations.
        gated_energy_pj: component (level name, or the compute's name) -> extra ERT actions
            (``gated_read``, ``mac_gated`` ...); a gated action not given costs nothing.
    """

    cache: dict[Any, Any] | None = None
    """Given to every design (``SparseDesign.cache``): set a dict to reuse what tiles' loops alone decide."""

    def __init__(self, layer: Any, hierarchy: Any, *, densities: MappingABC[str, DensityModel],
                 formats: MappingABC[tuple[str, str], tuple[RankFormat, ...]] | None = None,
                 metadata_word_bits: MappingABC[str, int] | None = None, safs: tuple[Saf, ...] = (),
                 gate_on_zero_operand: bool = False, skip_on_not_aligned_operands: bool = False,
                 gated_energy_pj: MappingABC[str, MappingABC[str, float]] | None = None) -> None:
        formats, extra = dict(formats or {}), dict(gated_energy_pj or {})
        md_bits = dict(metadata_word_bits or {})
        einsum = Einsum.from_layer(layer)
        self.names = {t.name.lower(): t.name for t in einsum.tensors}
        self.level_specs: list[StorageSpec] = []
        for lv in reversed(hierarchy.levels):  # innermost first, as Sparseloop indexes them
            ert = {**_level_energies(lv), **extra.get(lv.name, {})}
            bits = md_bits.get(lv.name, 0)
            self.level_specs.append(StorageSpec(
                name=lv.name, loops=(), word_bits=lv.word_bits, block_size=lv.block_size,
                metadata_word_bits=bits, metadata_storage_width=bits,
                read_bandwidth=lv.read_bandwidth_words_per_cycle, write_bandwidth=lv.write_bandwidth_words_per_cycle,
                energy_pj=action_energies(ert)))
        self.index = {lv.name: j for j, lv in enumerate(self.level_specs)}
        named = {lv for lv, _ in formats} | {lv for lv, _, _ in safs} | set(md_bits) | set(extra)
        unknown = sorted(named - set(self.index) - {hierarchy.compute.name})
        if unknown:
            raise ValueError(f"unknown level(s) {', '.join(unknown)}; levels: {', '.join(self.index)}")
        missing = sorted(t for t in densities if t not in self.names.values())
        if missing:
            raise ValueError(f"unknown tensor(s) {', '.join(missing)}; tensors: {', '.join(self.names.values())}")
        self.tensors = tuple(einsum.tensors)
        self.densities = dict(densities)
        self.formats = {(self.index[lv], t): f for (lv, t), f in formats.items()}
        self.safs = tuple(SafSpec(self.index[lv], kind, group) for lv, kind, group in safs)
        self.compute_energy = compute_energies({"mac": hierarchy.compute.energy_pj,
                                                **extra.get(hierarchy.compute.name, {})})
        self.gate_on_zero_operand = gate_on_zero_operand
        self.skip_on_not_aligned_operands = skip_on_not_aligned_operands
        self.level_names = [lv.name for lv in hierarchy.levels]

    def template(self) -> SparseDesign:
        """The design without a mapping (no loops, no counts; every format): what the batched kernel reads once."""
        return SparseDesign(
            tensors=self.tensors, densities=self.densities, levels=tuple(self.level_specs), dense={},
            formats=dict(self.formats), safs=self.safs, algorithmic_computes=0, compute_energy_pj=self.compute_energy,
            gate_on_zero_operand=self.gate_on_zero_operand,
            skip_on_not_aligned_operands=self.skip_on_not_aligned_operands)

    def design(self, loops: Any, figures: Any) -> SparseDesign:
        """The ``SparseDesign`` of a mapping's ``Loops`` and ``DenseFigures`` (``mapper.sparse.batched``)."""
        dense = figures.dense
        return SparseDesign(
            tensors=self.tensors, densities=self.densities,
            levels=tuple(with_loops(s, lp) for s, lp in zip(self.level_specs, loops, strict=True)),
            dense=dense, formats={key: f for key, f in self.formats.items() if key in dense}, safs=self.safs,
            algorithmic_computes=figures.macs, compute_energy_pj=self.compute_energy,
            compute_instances=figures.utilised_pes, gate_on_zero_operand=self.gate_on_zero_operand,
            skip_on_not_aligned_operands=self.skip_on_not_aligned_operands,
            leakage_pj_per_cycle=figures.leakage_pj_per_cycle, cache=self.cache)


def design_for(layer: Any, hierarchy: Any, mapping: Any, cost: Any, **features: Any) -> SparseDesign:
    """The ``SparseDesign`` of ``mapping`` (dense cost ``cost``, a ``CostResult``) of ``layer`` on ``hierarchy``
    with the sparse ``features`` of ``NativeDesigner``."""
    from acceldse.mapper.sparse.batched import figures_of, mapping_loops

    designer = NativeDesigner(layer, hierarchy, **features)
    return designer.design(mapping_loops(mapping, designer.level_names, {d: d for d in DIMS}),
                           figures_of(cost, designer.index, designer.names))


__all__ = ["NativeDesigner", "Saf", "design_for"]
