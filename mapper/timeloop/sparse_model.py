"""Sparseloop's model of any mapping of one Timeloop problem (``mapper.sparse.batched`` on Timeloop inputs).

``SparseModel(spec)`` reads once what does not depend on the mapping (per-level attributes and
ERT energies, densities, formats, gating / skipping, the MAC's energies, metadata storages) from a
``TimeloopSpec`` with ``sparse_optimizations``; then

* ``design(mapping, dense)`` is the ``SparseDesign`` of one mapping from its dense figures (what
  ``mapper.sparse.analyse`` turns into Sparseloop's statistics);
* ``evaluate(mapping)`` is one mapping's (dense ``CostResult``, ``SparseResult``), refusing with a
  ``SpecError`` a mapping Sparseloop rejects;
* ``evaluate_many(arrays)`` scores a batch for the search (``BatchedSparse.evaluate_many``: codes
  ``REJECTED``, ``OVER_CAPACITY`` for what Sparseloop rejects); search on ``relax(hierarchy)``.
"""

from __future__ import annotations

from typing import Any

from acceldse.mapper.mapping import Mapping
from acceldse.mapper.sparse import SafSpec, SparseDesign, SparseResult, StorageSpec
from acceldse.mapper.sparse.batched import BatchedSparse, DenseFigures, Loops
from acceldse.mapper.sparse.design import DenseCounts, action_energies, compute_energies, with_loops
from acceldse.workloads.errors import SpecError


class SparseModel:
    """Sparseloop's model of ``spec``'s problem on its architecture, for any mapping (module docstring)."""

    def __init__(self, spec: Any) -> None:
        from acceldse.mapper.timeloop.arch import _ert_table, flatten_tree, split_name
        from acceldse.mapper.timeloop.sparse import _bits, densities

        if spec.sparse is None or spec.lowering is None or spec.einsum is None:
            raise ValueError("SparseModel needs Timeloop inputs with sparse_optimizations")
        self.spec = spec
        self.source = ", ".join(spec.sources)
        merged = spec.inputs
        hierarchy, einsum = spec.hierarchy, spec.einsum
        self.rank_of = {dim: rank for rank, dim in spec.lowering.dims.items()}
        self.attrs: dict[str, dict[str, Any]] = {}
        for comp, _, inherited in flatten_tree(merged["architecture"], source=self.source):
            self.attrs[split_name(comp["name"], source=self.source)[0]] = {**inherited,
                                                                            **(comp.get("attributes") or {})}
        ert = _ert_table(merged["ERT"], source=self.source)
        n = hierarchy.num_levels
        self.index = {lv.name: n - 1 - i for i, lv in enumerate(hierarchy.levels)}
        """Level name -> Sparseloop's index (innermost first)."""
        self.level_specs: list[StorageSpec] = []
        self.metadata_bits_capacity: list[int | None] = []
        for i in reversed(range(n)):
            lv = hierarchy.levels[i]
            a = self.attrs.get(lv.name, {})
            self.level_specs.append(StorageSpec(
                name=lv.name, loops=(), word_bits=lv.word_bits, block_size=lv.block_size,
                metadata_word_bits=_bits(a, ("metadata_datawidth", "metadata_word_bits"), self.source, lv.name),
                metadata_storage_width=_bits(a, ("metadata_storage_width", "metadata_width"), self.source, lv.name),
                read_bandwidth=lv.read_bandwidth_words_per_cycle, write_bandwidth=lv.write_bandwidth_words_per_cycle,
                energy_pj=action_energies(ert.get(lv.name, {}))))
            depth = a.get("metadata_storage_depth")
            width = self.level_specs[-1].metadata_storage_width
            bits = depth * width if isinstance(depth, int) and not isinstance(depth, bool) and width else None
            self.metadata_bits_capacity.append(None if bits is None else bits // (2 if lv.double_buffered else 1))
        self.names = spec.tensor_names
        self.opts = spec.sparse
        self.densities = densities(merged["problem"], source=self.source,
                                   tensor_sizes={t.name: t.footprint(einsum.sizes) for t in einsum.tensors})
        for t in einsum.tensors:
            if t.name not in self.densities and t.density is not None and t.density < 1:
                raise SpecError("density model not modelled", source=self.source,
                                key=f"problem.instance.densities.{t.name}")
        self.safs = tuple(SafSpec(self.index[lv], kind, group) for lv, kind, group in self.opts.safs)
        self.compute_energy = compute_energies(ert.get(hierarchy.compute.name, {}))
        self.read_write = {t.name: t.read_write for t in einsum.tensors}
        self.tensors = tuple(einsum.tensors)
        self.formats = {(self.index[lv], t): f for (lv, t), f in self.opts.formats.items()}
        compressed = {lv for (lv, _), f in self.opts.formats.items() if any(r.compressed for r in f)}
        self._cache: dict[Any, Any] = {}
        self._checked: set[frozenset[tuple[int, str]]] = set()
        self.batch = BatchedSparse(
            spec.layer, hierarchy, self.design_from, rank_of=self.rank_of, tensor_names=self.names,
            compressed_levels=compressed,
            metadata_bits={lv.name: bits for lv, bits in zip(reversed(hierarchy.levels), self.metadata_bits_capacity,
                                                             strict=True) if bits is not None},
            rejects=(ValueError, SpecError), template=self.template(), check_kept=self.check_kept)
        self.relaxed = self.batch.relaxed
        """``spec.hierarchy`` without the dense capacity at levels that keep a tensor compressed."""
        self.relax = self.batch.relax
        self.evaluate_many = self.batch.evaluate_many
        self.over_capacity = self.batch.over_capacity

    def template(self) -> SparseDesign:
        """The design without a mapping (no loops, no counts; every format): what the batched kernel reads once."""
        return SparseDesign(
            tensors=self.tensors, densities=self.densities, levels=tuple(self.level_specs), dense={},
            formats=dict(self.formats), safs=self.safs, algorithmic_computes=0, compute_energy_pj=self.compute_energy,
            gate_on_zero_operand=self.opts.gate_on_zero_operand,
            skip_on_not_aligned_operands=self.opts.skip_on_not_aligned_operands)

    def check_kept(self, kept: frozenset[tuple[int, str]]) -> None:
        """Sparseloop's (de)compression rule on the (level, tensor) tiles a mapping keeps (``design_from``'s
        check: a ``SpecError`` saying why a mapping keeping them is rejected)."""
        from acceldse.mapper.timeloop.sparse import _check_decompression

        if kept in self._checked:
            return
        dense = {key: DenseCounts(1, 0, 0, 0) for key in kept}
        _check_decompression(self.level_specs, dense, {key: f for key, f in self.formats.items() if key in dense},
                             self.attrs, self.read_write, self.source)
        self._checked.add(kept)

    # ---- one mapping ----------------------------------------------------------------------------
    def loops(self, mapping: Mapping) -> Loops:
        """Per level (Sparseloop's index, innermost first) its loops, innermost first: a level's
        spatial fan-out sits under its temporal loops (``mapper.sparse.batched.mapping_loops``)."""
        return self.batch.loops(mapping)

    def design(self, mapping: Mapping, cost: Any) -> SparseDesign:
        """The ``SparseDesign`` of ``mapping`` whose dense figures are ``cost`` (a ``CostResult``: its kept
        tiles' counts, MACs, utilised MACs, cycles and leakage)."""
        return self.design_from(self.loops(mapping), self.batch.figures(cost))

    def design_from(self, loops: Loops, figures: DenseFigures) -> SparseDesign:
        """The ``SparseDesign`` of a mapping's ``Loops`` and ``DenseFigures`` (what ``design`` and the batch
        build)."""
        from acceldse.mapper.timeloop.sparse import _check_decompression

        levels = [with_loops(s, lp) for s, lp in zip(self.level_specs, loops, strict=True)]
        dense = figures.dense
        # a format at a level the mapping bypasses has no tile to describe (Sparseloop skips it too)
        formats = {key: f for key, f in self.formats.items() if key in dense}
        kept = frozenset(key for key, d in dense.items() if d.shape)
        if kept not in self._checked:  # the rule reads only which levels keep which tensor
            _check_decompression(levels, dense, formats, self.attrs, self.read_write, self.source)
            self._checked.add(kept)
        return SparseDesign(
            tensors=self.tensors, densities=self.densities, levels=tuple(levels), dense=dense,
            formats=formats, safs=self.safs,
            algorithmic_computes=figures.macs, compute_energy_pj=self.compute_energy,
            compute_instances=figures.utilised_pes,
            gate_on_zero_operand=self.opts.gate_on_zero_operand,
            skip_on_not_aligned_operands=self.opts.skip_on_not_aligned_operands,
            leakage_pj_per_cycle=figures.leakage_pj_per_cycle, cache=self._cache)

    def evaluate(self, mapping: Mapping) -> tuple[Any, SparseResult]:
        """(dense ``CostResult``, Sparseloop's ``SparseResult``) of one mapping; a mapping Sparseloop
        rejects is a ``SpecError`` saying why."""
        try:
            return self.batch.evaluate(mapping)
        except ValueError as err:
            key = "mapping" if str(err).startswith("illegal mapping") else "sparse_optimizations"
            raise SpecError(str(err), source=self.source, key=key) from None
