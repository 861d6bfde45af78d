"""Python wrappers over the cost kernel: validate, allocate, call, and label the results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from acceldse.mapper.cost_kernel import access_energy, bandwidth_cycles, block_shifts, evaluate_batch, evaluate_one
from acceldse.mapper.legality import OK, explain, workload_array
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.mapper.residual import check_residuals, residual_counts, residual_moves
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy, HierarchyArrays
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer

COUNT_COLUMNS = ("level", "dataspace", "instances", "tile_words", "reads", "fills", "updates", "energy_pj")
"""Columns of ``CostResult.counts``: counts are per utilised instance, in words; energy is the total over instances."""


@dataclass(frozen=True)
class CostResult:
    """Cost of one mapping.

    Attributes:
        cycles: latency in cycles (temporal iterations, or bandwidth-bound if slower).
        energy_pj: total energy in pJ.
        macs: MACs performed, including padding of imperfect factors.
        useful_macs: the layer's MACs.
        utilised_pes: MAC instances used.
        counts: per level and kept dataspace (see ``COUNT_COLUMNS``).
        mac_energy_pj, leakage_pj: the MAC and static parts of ``energy_pj``.
        area_mm2: area of the whole hierarchy.
        leakage_pj_by_level: the leakage part per storage level (sums to ``leakage_pj``).
    """

    cycles: int
    energy_pj: float
    macs: int
    useful_macs: int
    utilised_pes: int
    counts: pd.DataFrame
    mac_energy_pj: float
    leakage_pj: float
    area_mm2: float
    leakage_pj_by_level: dict[str, float] = field(default_factory=dict)

    @property
    def edp(self) -> float:
        """Energy-delay product in pJ x cycles."""
        return self.energy_pj * self.cycles

    def energy_by_component(self) -> dict[str, float]:
        """pJ per ``level.dataspace`` plus ``mac`` and ``leakage``."""
        out = {f"{r.level}.{r.dataspace}": float(r.energy_pj) for r in self.counts.itertuples()}
        out["mac"] = self.mac_energy_pj
        out["leakage"] = self.leakage_pj
        return out


def _hw_args(hw: HierarchyArrays) -> tuple:
    return (hw.keep, hw.capacity, hw.block, hw.bandwidth, hw.energy, hw.leakage, hw.fanout, hw.clusters,
            hw.mac_energy_pj)


def evaluate(layer: Layer, hierarchy: Hierarchy, mapping: Mapping | MappingArrays, *,
             source: str = "mapping", replay: bool = False) -> CostResult:
    """Cost of one mapping; an illegal mapping raises ``SpecError`` naming level, dataspace and excess.

    A mapping with Timeloop's residual factors (``Q8,6``) is costed by replaying Timeloop's nest analysis
    (``mapper/residual.py``); ``replay=True`` replays it for any mapping (a check of the kernel's closed
    forms: both give the same counts on perfect factors)."""
    arrays = mapping.to_arrays(hierarchy) if isinstance(mapping, Mapping) else mapping
    if arrays.temporal.shape != (hierarchy.num_levels, 8):
        raise SpecError("mapping does not match the hierarchy's levels", source=source,
                        value=arrays.temporal.shape, accepted=f"({hierarchy.num_levels}, 8)")
    hw = hierarchy.arrays()
    n = hierarchy.num_levels
    tile = np.zeros((n + 1, 3), dtype=np.int64)
    inst = np.zeros(n + 1, dtype=np.int64)
    changes = np.zeros((n + 1, 3), dtype=np.int64)
    distinct = np.zeros((n + 1, 3), dtype=np.int64)
    counts = np.zeros((n, 3, 3), dtype=np.int64)
    epj = np.zeros((n + 2, 3), dtype=np.float64)
    info = np.zeros(3, dtype=np.int64)
    result = np.zeros(3, dtype=np.float64)
    code = evaluate_one(arrays.temporal, arrays.spatial_x, arrays.spatial_y, arrays.order, arrays.keep,
                        arrays.double_buffered, workload_array(layer), *_hw_args(hw), tile, inst, changes, distinct,
                        counts, epj, info, result)
    if code != OK:
        raise SpecError(f"illegal mapping: {explain(code, info, hierarchy, layer)}", source=source,
                        key=f"layer {layer.name!r} on {hierarchy.name}")
    res = mapping.residual_array(hierarchy) if isinstance(mapping, Mapping) else None
    if res is None and replay:
        res = np.stack([arrays.temporal, arrays.spatial_x, arrays.spatial_y], axis=1)
    if res is not None:   # Timeloop's residual form: its nest analysis replayed (mapper/residual.py)
        _residual(layer, hierarchy, arrays, res, tile, inst, counts, epj, result, source=source)
    rows = []
    for lvl, lv in enumerate(hierarchy.levels):
        for ds_i, ds in enumerate(DATASPACES):
            if arrays.keep[lvl, ds_i] and not (ds == "weights" and not layer.has_weights):
                rows.append((lv.name, ds, int(inst[lvl]), int(tile[lvl, ds_i]), int(counts[lvl, ds_i, 0]),
                             int(counts[lvl, ds_i, 1]), int(counts[lvl, ds_i, 2]), float(epj[lvl, ds_i])))
    return CostResult(cycles=int(result[0]), energy_pj=float(result[1]), macs=int(result[2]),
                      useful_macs=layer.macs, utilised_pes=int(inst[n]),
                      counts=pd.DataFrame(rows, columns=list(COUNT_COLUMNS)),
                      mac_energy_pj=float(epj[n, 0]), leakage_pj=float(epj[n + 1, 0]), area_mm2=hierarchy.area_mm2,
                      leakage_pj_by_level={lv.name: float(hw.leakage[i] * result[0] * inst[i])
                                           for i, lv in enumerate(hierarchy.levels)})


def _residual(layer: Layer, hierarchy: Hierarchy, arrays: MappingArrays, res: np.ndarray, tile: np.ndarray,
              inst: np.ndarray, counts: np.ndarray, epj: np.ndarray, result: np.ndarray, *, source: str) -> None:
    """Overwrite the kernel's tile, counts, energy and result with Timeloop's counts for residual factors."""
    hw = hierarchy.arrays()
    check_residuals(arrays.temporal, arrays.spatial_x, arrays.spatial_y, res,
                    [lv.name for lv in hierarchy.levels], source=source)
    rc = residual_moves(workload_array(layer), arrays.temporal, arrays.spatial_x, arrays.spatial_y, arrays.order,
                        res, hw.fanout)
    tile[:] = rc.tile
    residual_counts(rc, arrays.keep, arrays.spatial_x, arrays.spatial_y, layer.has_weights, counts)
    cycles = bandwidth_cycles(rc.iterations, counts, hw.bandwidth)
    shift = np.empty(hierarchy.num_levels, dtype=np.int64)
    block_shifts(hw.block, shift)
    macs = rc.macs * int(inst[hierarchy.num_levels - 1])   # the replay walks one instance of the last level
    result[0] = cycles
    result[1] = access_energy(counts, arrays.keep, hw.block, shift, hw.energy, hw.leakage, hw.clusters, inst, cycles,
                              macs, hw.mac_energy_pj, epj)
    result[2] = macs


def evaluate_many(layer: Layer, hierarchy: Hierarchy | HierarchyArrays, arrays: MappingArrays
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched cost: (cycles int64[B] (-1 if illegal), energy_pj float64[B] (inf if illegal), code int64[B])."""
    hw = hierarchy.arrays() if isinstance(hierarchy, Hierarchy) else hierarchy
    a = arrays.batched()
    b = a.batch
    cycles = np.empty(b, dtype=np.int64)
    energy = np.empty(b, dtype=np.float64)
    code = np.empty(b, dtype=np.int64)
    evaluate_batch(a.temporal, a.spatial_x, a.spatial_y, a.order, a.keep, a.double_buffered, workload_array(layer),
                   *_hw_args(hw), cycles, energy, code)
    return cycles, energy, code
