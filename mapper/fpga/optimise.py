"""``optimise``: find per-stage folding and partitioning of a layer-pipelined FPGA design.

Example::

    from acceldse.mapper.fpga import optimise
    from acceldse.workloads.zoo.small import lenet
    result = optimise(lenet(), "zc706", objective="throughput", batch=256, method="greedy")
    print(result.stages)     # per-stage DataFrame
    print(result.summary)    # throughput, latency, resources vs platform, throughput per DSP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.mapper.fpga.decomposition import DEFAULT_MAX_ERROR, optimise_with_decomposition
from acceldse.mapper.fpga.search import METHODS, OBJECTIVES, FpgaResult, optimise_network
from acceldse.simulator.specs.platform import Platform, load_platform
from acceldse.workloads.errors import SpecError, require_seed
from acceldse.workloads.network import Network

__all__ = ["FpgaResult", "optimise", "optimise_network"]


def optimise(network: Network | str, platform: str | Path | Platform, *, objective: str = "throughput",
             batch: int = 256, method: str = "greedy", seed: int = 0, decompose: bool = False,
             clock_mhz: float | None = None, enable_reconf: bool = True, match_coarse: bool = True,
             allow_lut: bool = True, anneal_iterations: int = 2000, min_rank_fraction: float = 0.25,
             weights: dict[str, np.ndarray] | None = None,
             max_error: float | None = DEFAULT_MAX_ERROR,
             progress: Callable[[int, int, str], None] | None = None) -> FpgaResult:
    """Find the folding (and partitioning, and optionally per-layer decomposition) of a streaming design.

    Args:
        network: the network (every layer becomes a stage), or a workload name or file (``lenet``, ``model.onnx``).
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
        max_error: with ``decompose``, largest relative reconstruction error allowed per layer
            (default ``DEFAULT_MAX_ERROR``; needs ``weights``, else ``SpecError``); ``None``
            decomposes without an accuracy bound.
        progress: ``progress(done, total, what)`` per decomposition plan tried (with ``decompose``).
    """
    if objective not in OBJECTIVES:
        raise SpecError("unknown objective", key="objective", value=objective, accepted=" | ".join(OBJECTIVES))
    if method not in METHODS:
        raise SpecError("unknown method", key="method", value=method, accepted=" | ".join(METHODS))
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError("batch must be a positive integer", key="batch", value=batch, accepted="an integer >= 1")
    require_seed(seed)
    if not isinstance(network, Network):
        from acceldse.workloads.loader import load_workload

        network = load_workload(network)
    plat = load_platform(platform)
    if clock_mhz is not None:
        plat = plat.with_clock(clock_mhz)
    kwargs: dict[str, Any] = {"objective": objective, "batch": batch, "method": method, "seed": seed,
                              "enable_reconf": enable_reconf, "match_coarse": match_coarse, "allow_lut": allow_lut,
                              "anneal_iterations": anneal_iterations}
    if not decompose:
        return optimise_network(network, plat, **kwargs)
    if max_error is not None:
        if isinstance(max_error, bool) or not isinstance(max_error, (int, float)) or not max_error > 0:
            raise SpecError("must be a number > 0", key="max_error", value=max_error,
                            accepted="a relative reconstruction error > 0, or None for no bound")
        if weights is None:
            raise SpecError("the per-layer error bound needs the layers' weights", key="max_error", value=max_error,
                            accepted="weights={layer: array} (e.g. onnx_weights(path)), or max_error=None to "
                                     "decompose without an accuracy bound")
    result = optimise_with_decomposition(network, plat, min_rank_fraction=min_rank_fraction, weights=weights,
                                         max_error=max_error, progress=progress, **kwargs)
    if progress is not None:
        progress(1, 1, "done")
    return result
