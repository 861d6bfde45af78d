"""``optimise``: find per-stage folding and partitioning of a layer-pipelined FPGA design.

Example::

    from mapper.fpga import optimise
    from simulator.fpga.networks import lenet
    result = optimise(lenet(), "zc706", objective="throughput", batch=256, method="greedy")
    print(result.stages)     # per-stage DataFrame
    print(result.summary)    # throughput, latency, resources vs platform, throughput per DSP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mapper.fpga.anneal import anneal_partition
from mapper.fpga.greedy import greedy_partition
from mapper.fpga.partition import Partitioner
from mapper.fpga.space import PartitionSpace, State
from simulator.fpga.design import DesignReport, evaluate_design
from simulator.fpga.stage import Folding
from simulator.specs.platform import Platform, load_platform
from workloads.errors import SpecError
from workloads.network import Network

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


def optimise(network: Network, platform: str | Path | Platform, *, objective: str = "throughput",
             batch: int = 256, method: str = "greedy", seed: int = 0, decompose: bool = False,
             clock_mhz: float | None = None, enable_reconf: bool = True, match_coarse: bool = True,
             allow_lut: bool = True, anneal_iterations: int = 2000, min_rank_fraction: float = 0.25,
             weights: dict[str, np.ndarray] | None = None, max_error: float | None = None,
             progress: Callable[[int, int, str], None] | None = None) -> FpgaResult:
    """Find the folding (and partitioning, and optionally per-layer decomposition) of a streaming design.

    Args:
        network: the network (every layer becomes a stage).
        platform: a ``Platform``, a preset name (``zc706``) or a YAML path.
        objective: ``throughput`` (maximise samples/s) or ``latency`` (minimise batch latency incl. fill).
        batch: samples per batch.
        method: ``greedy`` (rule-based) or ``anneal`` (greedy then seeded simulated annealing).
        seed: annealing seed.
        decompose: let the optimiser choose SVD/CP decomposition and rank per conv/FC layer.
        clock_mhz: override the platform clock.
        enable_reconf: allow several partitions with reconfiguration between them.
        match_coarse: coarse_out of a stage equals coarse_in of the next (fpgaConvNet streams).
        allow_lut: allow MAC stages built from LUTs (multi-personality).
        min_rank_fraction: smallest rank the decomposition may use, as a fraction of full rank.
        weights: real weights per layer (for reconstruction errors of decomposition).
        max_error: largest relative reconstruction error allowed per layer (needs ``weights``).
        progress: ``progress(done, total, what)`` per decomposition plan tried (with ``decompose``).
    """
    if objective not in OBJECTIVES:
        raise SpecError("unknown objective", key="objective", value=objective, accepted=" | ".join(OBJECTIVES))
    if method not in METHODS:
        raise SpecError("unknown method", key="method", value=method, accepted=" | ".join(METHODS))
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError("batch must be a positive integer", key="batch", value=batch, accepted="an integer >= 1")
    plat = load_platform(platform)
    if clock_mhz is not None:
        plat = plat.with_clock(clock_mhz)
    kwargs: dict[str, Any] = {"objective": objective, "batch": batch, "method": method, "seed": seed,
                              "enable_reconf": enable_reconf, "match_coarse": match_coarse, "allow_lut": allow_lut,
                              "anneal_iterations": anneal_iterations}
    if not decompose:
        return optimise_network(network, plat, **kwargs)
    from mapper.fpga.decomposition import optimise_with_decomposition
    result = optimise_with_decomposition(network, plat, min_rank_fraction=min_rank_fraction, weights=weights,
                                         max_error=max_error, progress=progress, **kwargs)
    if progress is not None:
        progress(1, 1, "done")
    return result
