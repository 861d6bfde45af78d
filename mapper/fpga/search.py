"""The core folding / partitioning search (no decomposition) and its result type.

``optimise_network`` runs the partitioner with the greedy pass on every candidate partition and
optionally anneals the final ones; ``mapper.fpga.optimise.optimise`` is the public entry point.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from acceldse.mapper.fpga.anneal import anneal_partition
from acceldse.mapper.fpga.greedy import greedy_partition
from acceldse.mapper.fpga.partition import Partitioner
from acceldse.mapper.fpga.space import PartitionSpace, State
from acceldse.simulator.fpga.design import DesignReport, evaluate_design
from acceldse.simulator.fpga.stage import Folding
from acceldse.simulator.specs.platform import Platform
from acceldse.workloads.network import Network

OBJECTIVES = ("throughput", "latency")
METHODS = ("greedy", "anneal")


@dataclass(frozen=True)
class FpgaResult:
    """An optimised design.

    Attributes:
        network: the network the design implements (decomposed when decomposition was chosen).
        report: the full ``DesignReport``.
        foldings: folding per layer.
        partitions: layer names per partition.
        decomposition: per original layer, ``(method, rank)`` of the decomposition applied.
        runtime_s: optimiser wall time, seconds.
        candidates: per decomposition plan tried, its summary (empty without ``decompose``).
        decomposition_errors: relative reconstruction error per decomposed layer (when weights were given).
    """

    network: Network
    report: DesignReport
    foldings: dict[str, Folding]
    partitions: tuple[tuple[str, ...], ...]
    decomposition: dict[str, tuple[str, int]] = field(default_factory=dict)
    runtime_s: float = 0.0
    candidates: tuple[dict[str, Any], ...] = ()
    decomposition_errors: dict[str, float] = field(default_factory=dict)

    @property
    def stages(self) -> pd.DataFrame:
        """Per-stage DataFrame: layer, coarse_in, coarse_out, fine, cycles (batch), dsp, bram18, lut, ff, partition."""
        return self.report.stages

    @property
    def summary(self) -> dict[str, Any]:
        """Network summary: throughput, latency, resources used vs available, throughput per DSP."""
        out = self.report.summary(self.network.macs // max(1, self.network.layers[0].N))
        out["network"] = self.network.name
        out["runtime_s"] = self.runtime_s
        out["decomposed_layers"] = len(self.decomposition)
        return out


def optimise_network(network: Network, platform: Platform, *, objective: str = "throughput", batch: int = 256,
                     method: str = "greedy", seed: int = 0, enable_reconf: bool = True, match_coarse: bool = True,
                     allow_lut: bool = True, anneal_iterations: int = 2000, fifo_depth_words: int = 32,
                     refine: bool = True) -> FpgaResult:
    """Optimise folding and partitioning of ``network`` (no decomposition). See ``optimise``."""
    start = time.perf_counter()
    def greedy(space: PartitionSpace, state: State) -> State:
        return greedy_partition(space, state, objective)

    # partition search runs the greedy pass on every candidate partition; annealing polishes the final ones
    part = Partitioner(network, platform, batch, objective, greedy,
                       match_coarse=match_coarse, allow_lut=allow_lut, fifo_depth_words=fifo_depth_words)
    parts = part.first_fit(enable_reconf)
    plans = part.refine(parts) if (refine and enable_reconf) else part.refine(parts, max_rounds=0)
    if method == "anneal":
        for i, p in enumerate(plans):
            p.state = anneal_partition(p.space, p.state, objective, seed=seed + i, iterations=anneal_iterations)
    foldings: dict[str, Folding] = {}
    for p in plans:
        foldings.update(p.space.foldings(p.state))
    report = evaluate_design(network, foldings, platform, batch=batch, partitions=[p.names for p in plans],
                             fifo_depth_words=fifo_depth_words)
    if not report.feasible:
        raise RuntimeError(f"optimiser produced an infeasible design: {report.violations}")
    return FpgaResult(network, report, foldings, tuple(p.names for p in plans),
                      runtime_s=time.perf_counter() - start)
