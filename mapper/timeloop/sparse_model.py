"""Sparseloop's model of any mapping of one Timeloop problem, one mapping or a whole batch at a time.

``SparseModel(spec)`` reads once what does not depend on the mapping (per-level attributes and
ERT energies, densities, formats, gating / skipping, the MAC's energies) from a ``TimeloopSpec``
with ``sparse_optimizations``; then

* ``design(mapping, dense)`` is the ``SparseDesign`` of one mapping from its dense counts (what
  ``mapper.sparse.analyse`` turns into Sparseloop's statistics);
* ``evaluate(mapping)`` is one mapping's (dense ``CostResult``, ``SparseResult``), refusing with a
  ``SpecError`` a mapping Sparseloop rejects;
* ``evaluate_many(arrays)`` scores a batch for the search: the batched cost kernel's dense counts
  of every mapping (``mapper.sparse.dense_counts``), then Sparseloop's cycles and energy of each
  legal one (code 0), or a code saying why Sparseloop rejects it (``REJECTED``: its formats do not
  fit the tile's ranks, or a level must (de)compress and cannot; ``OVER_CAPACITY``).

The capacity check is Sparseloop's: a tensor kept *compressed* at a level takes its largest
occupancy (the density model's, confidence 1) rather than its dense tile, plus its metadata bits
against ``metadata_storage_depth x metadata_storage_width`` when the level has a metadata
storage; the dense kernel's capacity check is lifted at levels holding a compressed tensor.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from acceldse.mapper.legality import OK, workload_array
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.mapper.sparse import Loop, SafSpec, SparseDesign, SparseResult, StorageSpec, analyse
from acceldse.mapper.sparse.dense_counts import dense_counts_batch
from acceldse.mapper.sparse.design import DenseCounts, action_energies, compute_energies
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.errors import SpecError

REJECTED = 100
"""Code of a mapping Sparseloop rejects (formats / (de)compression; see ``evaluate_many``)."""
OVER_CAPACITY = 101
"""Code of a mapping whose compressed tiles (or metadata) exceed a level's capacity."""

DenseRow = tuple[str, str, int, int, int, int, int]
"""(level name, dataspace, utilised instances, tile words, reads, fills, updates): one kept tile."""


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
        self.compute_energy = compute_energies(ert.get(hierarchy.compute.name, {}))
        self.read_write = {t.name: t.read_write for t in einsum.tensors}
        self._compressed_levels = {lv for (lv, _), f in self.opts.formats.items() if any(r.compressed for r in f)}
        self.relaxed = self.relax(hierarchy)
        """``spec.hierarchy`` without the dense capacity at levels that keep a tensor compressed."""
        self._hw = self.relaxed.arrays()
        self._cache: dict[Any, Any] = {}
        self._wl = workload_array(spec.layer)

    def relax(self, hierarchy: Hierarchy) -> Hierarchy:
        """``hierarchy`` without the dense capacity at levels that may keep a tensor compressed (their
        capacity is checked on the compressed tiles, ``over_capacity``)."""
        return dataclasses.replace(hierarchy, levels=tuple(
            dataclasses.replace(lv, capacity_words=None, capacity_words_per_dataspace={})
            if lv.name in self._compressed_levels else lv for lv in hierarchy.levels))

    # ---- one mapping ----------------------------------------------------------------------------
    def loops(self, mapping: Mapping) -> list[tuple[Loop, ...]]:
        """Per level (Sparseloop's index, innermost first) its loops, innermost first: a level's
        spatial fan-out sits under its temporal loops."""
        by_level = {lm.level: lm for lm in mapping.levels}
        out = []
        for lv in reversed(self.spec.hierarchy.levels):
            lm = by_level.get(lv.name)
            loops: list[Loop] = []
            if lm is not None:
                for axis in (lm.spatial_x, lm.spatial_y):
                    loops += [Loop(self.rank_of[dim], int(f), spatial=True) for dim, f in axis.items()
                              if dim in self.rank_of and f > 1]
                for dim in reversed(lm.full_order()):
                    if dim in self.rank_of:
                        loops.append(Loop(self.rank_of[dim], int(lm.temporal.get(dim, 1))))
            out.append(tuple(loops))
        return out

    def design(self, mapping: Mapping, rows: list[DenseRow], *, macs: int, utilised_pes: int,
               leakage_pj_per_cycle: dict[str, float]) -> SparseDesign:
        """The ``SparseDesign`` of ``mapping`` whose dense kept tiles are ``rows``."""
        from acceldse.mapper.timeloop.sparse import _check_decompression

        levels = [dataclasses.replace(s, loops=loops) for s, loops in zip(self.level_specs, self.loops(mapping),
                                                                         strict=True)]
        dense = {(self.index[lv], self.names.get(ds, ds)): DenseCounts(tile, r, f, u, inst)
                 for lv, ds, inst, tile, r, f, u in rows}
        # a format at a level the mapping bypasses has no tile to describe (Sparseloop skips it too)
        formats = {(self.index[lv], t): f for (lv, t), f in self.opts.formats.items()
                   if (self.index[lv], t) in dense}
        _check_decompression(levels, dense, formats, self.attrs, self.read_write, self.source)
        return SparseDesign(
            tensors=tuple(self.spec.einsum.tensors), densities=self.densities, levels=tuple(levels), dense=dense,
            formats=formats, safs=tuple(SafSpec(self.index[lv], kind, group) for lv, kind, group in self.opts.safs),
            algorithmic_computes=macs, compute_energy_pj=self.compute_energy, compute_instances=utilised_pes,
            gate_on_zero_operand=self.opts.gate_on_zero_operand,
            skip_on_not_aligned_operands=self.opts.skip_on_not_aligned_operands,
            leakage_pj_per_cycle={self.index[name]: pj for name, pj in leakage_pj_per_cycle.items()},
            cache=self._cache)

    def over_capacity(self, result: SparseResult) -> str | None:
        """Why ``result``'s tiles do not fit (Sparseloop's capacity check), or None."""
        for lv in self.relaxed.levels:
            if lv.name not in {s.name for s in self.level_specs}:
                continue
            original = self.spec.hierarchy.levels[self.spec.hierarchy.level_index(lv.name)]
            if original.capacity_words is None and not original.capacity_words_per_dataspace \
                    and self.metadata_bits_capacity[self.index[lv.name]] is None:
                continue
            mult = 2 if original.double_buffered else 1
            total = bits = 0
            for ds in DATASPACES:
                t = result.tensors.get((lv.name, self.names.get(ds, ds)))
                if t is None:
                    continue
                words = t.data_capacity * mult
                total += words
                bits += t.metadata_capacity_bits
                cap = original.capacity_words_per_dataspace.get(ds)
                if cap is not None and words > cap:
                    return f"level {lv.name!r}, {t.tensor}: compressed tile needs {words} words, capacity {cap}"
            if original.capacity_words is not None and total > original.capacity_words:
                return f"level {lv.name!r}: compressed tiles need {total} words, capacity {original.capacity_words}"
            md = self.metadata_bits_capacity[self.index[lv.name]]
            if md is not None and bits > md:
                return f"level {lv.name!r}: metadata needs {bits} bits, metadata storage {md}"
        return None

    def evaluate(self, mapping: Mapping) -> tuple[Any, SparseResult]:
        """(dense ``CostResult``, Sparseloop's ``SparseResult``) of one mapping; a mapping Sparseloop
        rejects is a ``SpecError`` saying why."""
        from acceldse.mapper.cost import evaluate

        cost = dataclasses.replace(evaluate(self.spec.layer, self.relaxed, mapping, source=self.source),
                                   area_mm2=self.spec.hierarchy.area_mm2)
        rows = [(r.level, r.dataspace, int(r.instances), int(r.tile_words), int(r.reads), int(r.fills),
                 int(r.updates)) for r in cost.counts.itertuples()]
        cycles = max(cost.cycles, 1)
        try:
            result = analyse(self.design(mapping, rows, macs=int(cost.macs), utilised_pes=int(cost.utilised_pes),
                                         leakage_pj_per_cycle={k: pj / cycles
                                                               for k, pj in cost.leakage_pj_by_level.items()}))
        except ValueError as err:
            raise SpecError(str(err), source=self.source, key="sparse_optimizations") from None
        why = self.over_capacity(result)
        if why is not None:
            raise SpecError(f"illegal mapping: {why}", source=self.source, key="mapping")
        return cost, result

    # ---- a batch --------------------------------------------------------------------------------
    def evaluate_many(self, arrays: MappingArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparseloop's (cycles int64[B] (-1 if illegal), energy_pj float64[B] (inf if illegal), code
        int64[B]) of a batch: the kernel's codes, ``REJECTED`` or ``OVER_CAPACITY``."""
        hw, a = self._hw, arrays.batched()
        b, n = a.batch, self.relaxed.num_levels
        code = np.empty(b, dtype=np.int64)
        tile = np.zeros((b, n + 1, 3), dtype=np.int64)
        inst = np.zeros((b, n + 1), dtype=np.int64)
        counts = np.zeros((b, n, 3, 3), dtype=np.int64)
        res = np.zeros((b, 3), dtype=np.float64)
        dense_counts_batch(a.temporal, a.spatial_x, a.spatial_y, a.order, a.keep, a.double_buffered, self._wl,
                           hw.keep, hw.capacity, hw.block, hw.bandwidth, hw.energy, hw.leakage, hw.fanout,
                           hw.clusters, hw.mac_energy_pj, code, tile, inst, counts, res)
        cycles = np.full(b, -1, dtype=np.int64)
        energy = np.full(b, np.inf)
        names = [lv.name for lv in self.relaxed.levels]
        weights = self.spec.layer.has_weights
        for k in np.flatnonzero(code == OK):
            keep = a.keep[k]
            rows = [(names[i], ds, int(inst[k, i]), int(tile[k, i, j]), int(counts[k, i, j, 0]),
                     int(counts[k, i, j, 1]), int(counts[k, i, j, 2]))
                    for i in range(n) for j, ds in enumerate(DATASPACES)
                    if keep[i, j] and not (ds == "weights" and not weights)]
            dense_cycles = max(int(res[k, 0]), 1)
            leak = {names[i]: float(hw.leakage[i] * res[k, 0] * inst[k, i]) / dense_cycles for i in range(n)}
            try:
                result = analyse(self.design(Mapping.from_arrays(a.take(k), self.relaxed), rows,
                                             macs=int(res[k, 2]), utilised_pes=int(inst[k, n]),
                                             leakage_pj_per_cycle=leak))
            except (ValueError, SpecError):
                code[k] = REJECTED
                continue
            if self.over_capacity(result) is not None:
                code[k] = OVER_CAPACITY
                continue
            cycles[k] = result.cycles
            energy[k] = result.energy_pj
        return cycles, energy, code
