"""Sparseloop's analysis as a search's cost model: one mapping, or a whole batch at a time.

``BatchedSparse`` scores mappings of one layer on one hierarchy with Sparseloop's cycles and energy:
the batched cost kernel gives every mapping's dense counts (``dense_counts``), a *design builder*
turns one mapping's loops (``array_loops``: straight from the batch's arrays, no ``Mapping`` built) and
its dense figures (``DenseFigures``) into a ``SparseDesign`` and ``analyse`` gives its statistics.
Builders: ``mapper.timeloop.sparse_model.SparseModel`` (Timeloop inputs with
``sparse_optimizations``) and ``native`` below (an acceldse hierarchy with the sparse features of
``mapper.sparse.native.design_for``), e.g. on a zoo layer::

    model = native(layer, load_hierarchy("eyeriss-v1"), densities={"Inputs": FixedStructured(0.4)},
                   safs=(("weights_spad", "gate", (("Weights", ("Inputs",)),)),))
    best = map_layer(layer, model.relaxed, cost_model=model.evaluate_many)
    cost, sparse = model.evaluate(best.mapping)     # dense CostResult, SparseResult

``evaluate_many`` returns (cycles, energy_pj, code) like the dense kernel (a mapping it met before,
as a search revisits some, is not analysed again); a mapping Sparseloop
rejects gets ``REJECTED`` (its formats do not fit its tiles' ranks, a level that must (de)compress
cannot) or ``OVER_CAPACITY``. The capacity check is Sparseloop's: a tensor kept *compressed* at a
level takes its largest occupancy (the density model's, confidence 1) rather than its dense tile,
plus its metadata bits where the level has a metadata storage; the dense kernel's capacity check is
lifted at levels that may keep a tensor compressed (``relaxed``).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from acceldse.mapper.legality import OK, workload_array
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.mapper.sparse.analysis import analyse
from acceldse.mapper.sparse.dense_counts import dense_counts_batch
from acceldse.mapper.sparse.design import DenseCounts, Loop, SparseDesign, SparseResult
from acceldse.mapper.sparse.kernel import NOT_MODELLED, OVER_CAPACITY, REJECTED, score_batch
from acceldse.mapper.sparse.tables import SparseTables
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.layer import DIMS

Loops = tuple[tuple[Loop, ...], ...]
"""Per storage level (Sparseloop's index, innermost first) its loops, innermost first."""


@functools.lru_cache(maxsize=8192)
def _loop(rank: str, bound: int, spatial: bool) -> Loop:
    """One ``Loop`` per (rank, bound, spatial): a search builds the same few again and again."""
    return Loop(rank, bound, spatial)


def mapping_loops(mapping: Mapping, level_names: list[str], rank_of: dict[str, str]) -> Loops:
    """``Loops`` of ``mapping`` on levels ``level_names`` (outermost first): a level's spatial fan-out
    (x, then y) sits under its temporal loops (innermost first; its dimensions without a loop at factor 1);
    ``rank_of``: dimension -> the problem rank it is (dimensions not in it are left out)."""
    by_level = {lm.level: lm for lm in mapping.levels}
    out = []
    for name in reversed(level_names):
        lm = by_level.get(name)
        loops: list[Loop] = []
        if lm is not None:
            for axis in (lm.spatial_x, lm.spatial_y):
                loops += [_loop(rank_of[dim], int(f), True) for dim, f in axis.items() if dim in rank_of and f > 1]
            loops += [_loop(rank_of[dim], int(lm.temporal.get(dim, 1)), False) for dim in reversed(lm.full_order())
                      if dim in rank_of]
        out.append(tuple(loops))
    return tuple(out)


def array_loops(temporal: list[list[int]], spatial_x: list[list[int]], spatial_y: list[list[int]],
                order: list[list[int]], ranks: list[str | None]) -> Loops:
    """``mapping_loops`` of one mapping of a batch (its arrays as lists, levels outermost first) without
    building the ``Mapping``: ``ranks`` per dimension index its rank (None: left out)."""
    out = []
    for i in reversed(range(len(temporal))):
        t = temporal[i]
        loops = [_loop(r, f, True) for axis in (spatial_x[i], spatial_y[i])
                 for r, f in zip(ranks, axis, strict=True) if f > 1 and r is not None]
        loops += [_loop(r, 1, False) for d in reversed(range(8)) if t[d] == 1 and (r := ranks[d]) is not None]
        loops += [_loop(r, t[d], False) for d in reversed(order[i]) if t[d] != 1 and (r := ranks[d]) is not None]
        out.append(tuple(loops))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class DenseFigures:
    """A mapping's dense figures as Sparseloop's analysis reads them: per (Sparseloop level index, tensor)
    its kept tile's ``DenseCounts``, MACs (with padding), utilised MACs and leakage per cycle by level index."""

    dense: dict[tuple[int, str], DenseCounts]
    macs: int
    utilised_pes: int
    leakage_pj_per_cycle: dict[int, float]


def figures_of(cost: Any, index: dict[str, int], names: dict[str, str]) -> DenseFigures:
    """The ``DenseFigures`` of a dense ``CostResult`` (``index``: level name -> Sparseloop index; ``names``:
    dataspace -> tensor name)."""
    dense = {(index[r.level], names.get(r.dataspace, r.dataspace)):
             DenseCounts(int(r.tile_words), int(r.reads), int(r.fills), int(r.updates), int(r.instances))
             for r in cost.counts.itertuples()}
    cycles = max(int(cost.cycles), 1)
    return DenseFigures(dense, int(cost.macs), int(cost.utilised_pes),
                        {index[name]: pj / cycles for name, pj in cost.leakage_pj_by_level.items()})


DesignOf = Callable[[Loops, DenseFigures], SparseDesign]
"""(a mapping's ``Loops``, its ``DenseFigures``) -> its ``SparseDesign``."""


class BatchedSparse:
    """Sparseloop's cost of any mapping of ``layer`` on ``hierarchy`` (module docstring).

    Args:
        design_of: the design builder; an exception of a type in ``rejects`` it (or ``analyse``) raises
            means Sparseloop rejects the mapping.
        rank_of: dimension (N G K C P Q R S) -> the problem rank it is in the designs (others: left out).
        tensor_names: dataspace (inputs / weights / outputs) -> the tensor's name in the designs.
        compressed_levels: levels that may keep a tensor compressed (their dense capacity is lifted).
        metadata_bits: level -> bits its metadata storage holds (levels without one: not checked).
    """

    def __init__(self, layer: Any, hierarchy: Hierarchy, design_of: DesignOf, *, rank_of: dict[str, str],
                 tensor_names: dict[str, str], compressed_levels: set[str], metadata_bits: dict[str, int] | None = None,
                 rejects: tuple[type[Exception], ...] = (ValueError,), template: SparseDesign | None = None,
                 check_kept: Callable[[frozenset[tuple[int, str]]], None] | None = None) -> None:
        self.layer, self.hierarchy, self.design_of = layer, hierarchy, design_of
        self.rank_of, self.names, self.rejects = dict(rank_of), dict(tensor_names), rejects
        self.compressed_levels, self.metadata_bits = set(compressed_levels), dict(metadata_bits or {})
        self.relaxed = self.relax(hierarchy)
        """``hierarchy`` without the dense capacity of ``compressed_levels`` (search on this one)."""
        self._hw = self.relaxed.arrays()
        self._wl = workload_array(layer)
        self._seen: dict[tuple[Any, ...], tuple[int, float, int]] = {}
        self._level_names = [lv.name for lv in hierarchy.levels]
        n = len(self._level_names)
        self.index = {name: n - 1 - i for i, name in enumerate(self._level_names)}
        """Level name -> Sparseloop's index (innermost first)."""
        self._ranks = [self.rank_of.get(d) for d in DIMS]
        self._tensor = [self.names.get(ds, ds) for ds in DATASPACES]
        self.tables = None if template is None else SparseTables.of(
            template, tensor_names=self._tensor, rank_of=self.rank_of, hierarchy=hierarchy,
            metadata_bits=self.metadata_bits, weights=layer.has_weights)
        """The design's arrays for the batched kernel (``kernel.score_batch``); None: every mapping is analysed
        on its own (a design the kernel does not model, or no ``template`` given)."""
        self._kept_names = [] if template is None else [(lv, t.name) for lv in range(len(template.levels))
                                                         for t in template.tensors]
        self.check_kept = check_kept
        self._kept_ok: dict[int, bool] = {}

    def relax(self, hierarchy: Hierarchy) -> Hierarchy:
        """``hierarchy`` (or a search variant of it) without the dense capacity at levels that may keep a
        tensor compressed (their capacity is checked on the compressed tiles, ``over_capacity``)."""
        return dataclasses.replace(hierarchy, levels=tuple(
            dataclasses.replace(lv, capacity_words=None, capacity_words_per_dataspace={})
            if lv.name in self.compressed_levels else lv for lv in hierarchy.levels))

    def over_capacity(self, result: SparseResult) -> str | None:
        """Why ``result``'s tiles do not fit (Sparseloop's capacity check), or None."""
        for lv in self.hierarchy.levels:
            md = self.metadata_bits.get(lv.name)
            if lv.capacity_words is None and not lv.capacity_words_per_dataspace and md is None:
                continue
            mult = 2 if lv.double_buffered else 1
            total = bits = 0
            for ds in DATASPACES:
                t = result.tensors.get((lv.name, self.names.get(ds, ds)))
                if t is None:
                    continue
                words = t.data_capacity * mult
                total += words
                bits += t.metadata_capacity_bits
                cap = lv.capacity_words_per_dataspace.get(ds)
                if cap is not None and words > cap:
                    return f"level {lv.name!r}, {t.tensor}: compressed tile needs {words} words, capacity {cap}"
            if lv.capacity_words is not None and total > lv.capacity_words:
                return f"level {lv.name!r}: compressed tiles need {total} words, capacity {lv.capacity_words}"
            if md is not None and bits > md:
                return f"level {lv.name!r}: metadata needs {bits} bits, metadata storage {md}"
        return None

    def evaluate(self, mapping: Mapping) -> tuple[Any, SparseResult]:
        """(dense ``CostResult`` (on ``relaxed``; area of ``hierarchy``), ``SparseResult``) of one mapping;
        raises what ``design_of`` / ``analyse`` raise, or a ``ValueError`` naming the level over capacity."""
        from acceldse.mapper.cost import evaluate

        cost = dataclasses.replace(evaluate(self.layer, self.relaxed, mapping),
                                   area_mm2=self.hierarchy.area_mm2)
        result = analyse(self.design_of(self.loops(mapping), self.figures(cost)))
        why = self.over_capacity(result)
        if why is not None:
            raise ValueError(f"illegal mapping: {why}")
        return cost, result

    def loops(self, mapping: Mapping) -> Loops:
        """``mapping_loops`` of ``mapping`` on this hierarchy."""
        return mapping_loops(mapping, self._level_names, self.rank_of)

    def figures(self, cost: Any) -> DenseFigures:
        """``figures_of`` a dense ``CostResult`` (or anything with its ``counts``, ``macs``, ``utilised_pes``,
        ``cycles``, ``leakage_pj_by_level``) of this hierarchy."""
        return figures_of(cost, self.index, self.names)

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
        weights = self.layer.has_weights
        todo = np.flatnonzero(code == OK)
        if self.tables is not None:
            kept = np.zeros(b, dtype=np.int64)
            score_batch(a.temporal, a.spatial_x, a.spatial_y, a.order, a.keep, tile, inst, counts, res, code, cycles,
                        energy, kept, *self.tables.arrays())
            self._check_kept(code, kept, cycles, energy)
            todo = np.flatnonzero(code == NOT_MODELLED)
            code[todo] = OK
        if len(self._seen) > 200_000:
            self._seen.clear()
        collecting = gc.isenabled()
        gc.disable()  # the analysis allocates many small objects and leaves no cycles: no collection passes
        try:
            for k in todo:
                key = mapping_key(a, k)
                if key in self._seen:  # a mapping met before (a search revisits some): the same result
                    cycles[k], energy[k], code[k] = self._seen[key]
                    continue
                self._score(a, k, code, tile, inst, counts, res, cycles, energy, weights)
                self._seen[key] = (cycles[k], energy[k], code[k])
        finally:
            if collecting:
                gc.enable()
        return cycles, energy, code

    def _check_kept(self, code: np.ndarray, kept: np.ndarray, cycles: np.ndarray, energy: np.ndarray) -> None:
        """``REJECTED`` for the mappings the kernel scored whose kept tiles ``check_kept`` refuses (Sparseloop's
        (de)compression rule reads only which levels keep which tensor: checked once per pattern)."""
        if self.check_kept is None:
            return
        scored = np.flatnonzero((code == OK) | (code == OVER_CAPACITY))
        for pattern in np.unique(kept[scored]).tolist():
            ok = self._kept_ok.get(pattern)
            if ok is None:
                ok = True
                try:
                    self.check_kept(frozenset(key for i, key in enumerate(self._kept_names) if pattern >> i & 1))
                except self.rejects:
                    ok = False
                self._kept_ok[pattern] = ok
            if not ok:
                bad = scored[kept[scored] == pattern]
                code[bad], cycles[bad], energy[bad] = REJECTED, -1, np.inf

    def _score(self, a: MappingArrays, k: int, code: np.ndarray, tile: np.ndarray, inst: np.ndarray,
               counts: np.ndarray, res: np.ndarray, cycles: np.ndarray, energy: np.ndarray, weights: bool) -> None:
        """Sparseloop's cycles and energy (or rejection code) of mapping ``k`` of a batch, from its dense counts."""
        hw, n, names = self._hw, self.relaxed.num_levels, self._tensor
        keep, ins, til, cnt = a.keep[k].tolist(), inst[k].tolist(), tile[k].tolist(), counts[k].tolist()
        dense = {(n - 1 - i, names[j]): DenseCounts(til[i][j], cnt[i][j][0], cnt[i][j][1], cnt[i][j][2], ins[i])
                 for i in range(n) for j in range(3) if keep[i][j] and (j != 1 or weights)}
        cyc = max(int(res[k, 0]), 1)
        figures = DenseFigures(dense, int(res[k, 2]), ins[n],
                               {n - 1 - i: float(hw.leakage[i] * res[k, 0] * inst[k, i]) / cyc for i in range(n)})
        loops = array_loops(a.temporal[k].tolist(), a.spatial_x[k].tolist(), a.spatial_y[k].tolist(),
                            a.order[k].tolist(), self._ranks)
        try:
            result = analyse(self.design_of(loops, figures), brief=True)
        except self.rejects:
            code[k] = REJECTED
            return
        if self.over_capacity(result) is not None:
            code[k] = OVER_CAPACITY
            return
        cycles[k] = result.cycles
        energy[k] = result.energy_pj


def mapping_key(a: MappingArrays, k: int) -> tuple[Any, ...]:
    """What tells mapping ``k`` of batch ``a`` apart: its factors, keeps, buffering and the order of its
    loops that iterate (the order of factor-1 loops changes nothing)."""
    t = a.temporal[k]
    return (t.tobytes(), a.spatial_x[k].tobytes(), a.spatial_y[k].tobytes(), a.keep[k].tobytes(),
            a.double_buffered[k].tobytes(), tuple(d for lvl in range(t.shape[0]) for d in (*a.order[k, lvl], -1)
                                                  if d < 0 or t[lvl, d] > 1))


def native(layer: Any, hierarchy: Hierarchy, **features: Any) -> BatchedSparse:
    """``BatchedSparse`` of ``layer`` on an acceldse ``hierarchy`` with the sparse ``features`` of
    ``mapper.sparse.native.design_for`` (``densities``, ``formats``, ``metadata_word_bits``, ``safs``,
    compute gating / skipping, ``gated_energy_pj``); a bad feature is a ``ValueError`` here."""
    from acceldse.mapper.sparse.native import NativeDesigner

    compressed = {lv for (lv, _), f in (features.get("formats") or {}).items() if any(r.compressed for r in f)}
    designer = NativeDesigner(layer, hierarchy, **features)
    designer.cache = {}
    return BatchedSparse(layer, hierarchy, designer.design, rank_of={d: d for d in DIMS},
                         tensor_names={ds: ds.capitalize() for ds in DATASPACES},  # Einsum.from_layer's names
                         compressed_levels=compressed, template=designer.template())


__all__ = ["OVER_CAPACITY", "REJECTED", "BatchedSparse", "DenseFigures", "array_loops", "figures_of",
           "mapping_key", "mapping_loops", "native"]
