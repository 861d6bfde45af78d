"""Sparseloop's analysis as a search's cost model: one mapping, or a whole batch at a time.

``BatchedSparse`` scores mappings of one layer on one hierarchy with Sparseloop's cycles and energy:
the batched cost kernel gives every mapping's dense counts (``dense_counts``), a *design builder*
turns one mapping and its counts into a ``SparseDesign`` and ``analyse`` gives its statistics.
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
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np

from acceldse.mapper.legality import OK, workload_array
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.mapper.sparse.analysis import analyse
from acceldse.mapper.sparse.dense_counts import dense_counts_batch
from acceldse.mapper.sparse.design import SparseDesign, SparseResult
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy

REJECTED = 100
"""Code of a mapping Sparseloop rejects (formats / (de)compression)."""
OVER_CAPACITY = 101
"""Code of a mapping whose compressed tiles (or metadata) exceed a level's capacity."""

DenseRow = namedtuple("DenseRow", ("level", "dataspace", "instances", "tile_words", "reads", "fills", "updates"))
"""One kept tile's dense figures (per utilised instance), as ``CostResult.counts`` lists them."""


@dataclasses.dataclass(frozen=True)
class DenseCost:
    """A mapping's dense figures as Sparseloop's analysis reads them (the fields of a ``CostResult``
    it uses; ``counts.itertuples()`` gives the ``DenseRow``s)."""

    rows: tuple[DenseRow, ...]
    macs: int
    utilised_pes: int
    cycles: int
    leakage_pj_by_level: dict[str, float]

    @property
    def counts(self) -> Any:
        rows = self.rows

        class _Rows:
            def itertuples(self) -> Any:
                return iter(rows)

        return _Rows()


DesignOf = Callable[[Mapping, Any], SparseDesign]
"""(mapping, its dense figures: a ``CostResult`` or ``DenseCost``) -> its ``SparseDesign``."""


class BatchedSparse:
    """Sparseloop's cost of any mapping of ``layer`` on ``hierarchy`` (module docstring).

    Args:
        design_of: the design builder; an exception of a type in ``rejects`` it (or ``analyse``) raises
            means Sparseloop rejects the mapping.
        tensor_names: dataspace (inputs / weights / outputs) -> the tensor's name in the designs.
        compressed_levels: levels that may keep a tensor compressed (their dense capacity is lifted).
        metadata_bits: level -> bits its metadata storage holds (levels without one: not checked).
    """

    def __init__(self, layer: Any, hierarchy: Hierarchy, design_of: DesignOf, *, tensor_names: dict[str, str],
                 compressed_levels: set[str], metadata_bits: dict[str, int] | None = None,
                 rejects: tuple[type[Exception], ...] = (ValueError,)) -> None:
        self.layer, self.hierarchy, self.design_of = layer, hierarchy, design_of
        self.names, self.rejects = tensor_names, rejects
        self.compressed_levels, self.metadata_bits = set(compressed_levels), dict(metadata_bits or {})
        self.relaxed = self.relax(hierarchy)
        """``hierarchy`` without the dense capacity of ``compressed_levels`` (search on this one)."""
        self._hw = self.relaxed.arrays()
        self._wl = workload_array(layer)
        self._seen: dict[tuple[Any, ...], tuple[int, float, int]] = {}

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
        result = analyse(self.design_of(mapping, cost))
        why = self.over_capacity(result)
        if why is not None:
            raise ValueError(f"illegal mapping: {why}")
        return cost, result

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
        weights = self.layer.has_weights
        if len(self._seen) > 200_000:
            self._seen.clear()
        for k in np.flatnonzero(code == OK):
            key = mapping_key(a, k)
            if key in self._seen:  # a mapping met before (a search revisits some): the same result
                cycles[k], energy[k], code[k] = self._seen[key]
                continue
            self._score(a, k, code, tile, inst, counts, res, cycles, energy, names, weights)
            self._seen[key] = (cycles[k], energy[k], code[k])
        return cycles, energy, code

    def _score(self, a: MappingArrays, k: int, code: np.ndarray, tile: np.ndarray, inst: np.ndarray,
               counts: np.ndarray, res: np.ndarray, cycles: np.ndarray, energy: np.ndarray, names: list[str],
               weights: bool) -> None:
        """Sparseloop's cycles and energy (or rejection code) of mapping ``k`` of a batch, from its dense counts."""
        hw, n = self._hw, self.relaxed.num_levels
        keep, ins, til, cnt = a.keep[k].tolist(), inst[k].tolist(), tile[k].tolist(), counts[k].tolist()
        rows = tuple(DenseRow(names[i], ds, ins[i], til[i][j], *cnt[i][j])
                     for i in range(n) for j, ds in enumerate(DATASPACES)
                     if keep[i][j] and not (ds == "weights" and not weights))
        dense = DenseCost(rows, macs=int(res[k, 2]), utilised_pes=ins[n], cycles=int(res[k, 0]),
                          leakage_pj_by_level={names[i]: float(hw.leakage[i] * res[k, 0] * inst[k, i])
                                               for i in range(n)})
        try:
            result = analyse(self.design_of(Mapping.from_arrays(a.take(k), self.relaxed), dense), brief=True)
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
    from acceldse.mapper.sparse.native import design_for

    compressed = {lv for (lv, _), f in (features.get("formats") or {}).items() if any(r.compressed for r in f)}
    cache: dict[Any, Any] = {}

    def design_of(mapping: Mapping, dense: Any) -> SparseDesign:
        return dataclasses.replace(design_for(layer, hierarchy, mapping, dense, **features), cache=cache)

    model = BatchedSparse(layer, hierarchy, design_of, tensor_names={}, compressed_levels=compressed)
    model.names = {ds: ds.capitalize() for ds in DATASPACES}  # Einsum.from_layer's tensor names
    probe = Mapping(())  # every feature names a known level and tensor: checked once, on a trivial mapping
    design_of(probe, DenseCost((), 1, 1, 1, {}))
    return model


__all__ = ["OVER_CAPACITY", "REJECTED", "BatchedSparse", "DenseCost", "DenseRow", "mapping_key", "native"]
