"""Counting, scoring and remembering candidates: the one place every search evaluates through.

Objectives (lower is better): ``latency`` (cycles), ``energy`` (pJ), ``edp`` (pJ x cycles).
Illegal candidates score ``inf``. The evaluator keeps the best mapping and, when asked, the
2-objective (cycles, energy) Pareto front of everything it has seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from acceldse.mapper.cost_kernel import evaluate_batch
from acceldse.mapper.legality import workload_array
from acceldse.mapper.mapping import MappingArrays
from acceldse.mapper.space import Genomes, MappingSpace
from acceldse.workloads.errors import SpecError

OBJECTIVES: tuple[str, ...] = ("latency", "energy", "edp")


def check_objective(objective: str) -> str:
    key = str(objective).strip().lower()
    if key not in (*OBJECTIVES, "pareto"):
        raise SpecError("unknown objective", source="objective", value=objective,
                        accepted=" | ".join((*OBJECTIVES, "pareto")))
    return key


def score(cycles: np.ndarray, energy: np.ndarray, objective: str) -> np.ndarray:
    """Objective values (inf where illegal: energy is inf there)."""
    c = cycles.astype(np.float64)
    if objective == "latency":
        # energy breaks ties between equally fast mappings (1e-13 per pJ: < 0.1 cycle below 1 J)
        return np.where(np.isfinite(energy), c + energy * 1e-13, np.inf)
    if objective == "energy":
        return energy.copy()
    return np.where(np.isfinite(energy), c * energy, np.inf)


def pareto_mask(cycles: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """True for points no other point beats in both cycles and energy (ties kept once)."""
    idx = np.lexsort((energy, cycles))
    keep = np.zeros(cycles.size, dtype=bool)
    best = np.inf
    for i in idx:
        if energy[i] < best:
            keep[i] = True
            best = energy[i]
    return keep


CostModel = Callable[[MappingArrays], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""A batch of mappings -> (cycles int64[B] (-1 if illegal), energy_pj float64[B] (inf if illegal), code
int64[B] (0 = legal)), e.g. Sparseloop's model (``mapper.timeloop.sparse_model.SparseModel.evaluate_many``)."""


@dataclass
class Evaluator:
    """Evaluates batches for one ``MappingSpace`` under one objective and tracks the best
    (``cost_model``: scores batches instead of the dense cost kernel)."""

    space: MappingSpace
    objective: str = "edp"
    keep_front: bool = False
    evaluations: int = 0
    valid: int = 0
    best_value: float = np.inf
    best_cycles: int = -1
    best_energy_pj: float = np.inf
    best: MappingArrays | None = None
    front: list[tuple[int, float, MappingArrays]] = field(default_factory=list)
    cost_model: CostModel | None = None

    def __post_init__(self) -> None:
        self._wl = workload_array(self.space.layer)
        hw = self.space.hw
        self._hw = (hw.keep, hw.capacity, hw.block, hw.bandwidth, hw.energy, hw.leakage, hw.fanout, hw.clusters,
                    hw.mac_energy_pj)

    def arrays(self, a: MappingArrays) -> np.ndarray:
        """Score a batch of decoded mappings; returns objective values (inf if illegal)."""
        b = a.batch
        if self.cost_model is not None:
            cycles, energy, code = self.cost_model(a)
        else:
            cycles = np.empty(b, dtype=np.int64)
            energy = np.empty(b, dtype=np.float64)
            code = np.empty(b, dtype=np.int64)
            evaluate_batch(a.temporal, a.spatial_x, a.spatial_y, a.order, a.keep, a.double_buffered, self._wl,
                           *self._hw, cycles, energy, code)
        if self.space.has_bounds:   # factor bounds / min parallelism: outside them is illegal
            outside = ~self.space.admissible(a)
            energy[outside] = np.inf
            code[outside] = -1
        values = score(cycles, energy, self.objective)
        self.evaluations += b
        ok = code == 0
        self.valid += int(ok.sum())
        if ok.any():
            i = int(np.argmin(values))
            if values[i] < self.best_value:
                self.best_value = float(values[i])
                self.best_cycles = int(cycles[i])
                self.best_energy_pj = float(energy[i])
                self.best = a.take(i)
            if self.keep_front:
                self._merge_front(cycles[ok], energy[ok], a.take(np.flatnonzero(ok)))
        return values

    def __call__(self, g: Genomes) -> np.ndarray:
        return self.arrays(self.space.decode(g))

    def _merge_front(self, cycles: np.ndarray, energy: np.ndarray, a: MappingArrays) -> None:
        mask = pareto_mask(cycles, energy)
        new = [(int(cycles[i]), float(energy[i]), a.take(i)) for i in np.flatnonzero(mask)]
        pool = self.front + new
        c = np.array([p[0] for p in pool], dtype=np.int64)
        e = np.array([p[1] for p in pool])
        keep = pareto_mask(c, e)
        self.front = sorted((p for p, k in zip(pool, keep) if k), key=lambda p: p[0])
