"""Choosing per-layer tensor decomposition (Mixed-TD) together with the folding.

Candidate plans sweep a rank fraction ``f`` in {1/2, 1/4, 1/8, ...} down to ``min_rank_fraction``.
For each ``f`` and each decomposable layer (conv with one group, FC) the rank is
``max(1, round(f * full_rank))`` and the method (SVD or CP) is the one with fewer MACs among those
that reduce the layer's MACs and weights and whose relative reconstruction error (computed from the
layer's real weights) is at most ``max_error`` -- by default ``DEFAULT_MAX_ERROR``; a layer whose
weights are not given is then left undecomposed.  ``max_error=None`` decomposes without an
accuracy bound (explicitly; figures from such runs state no accuracy).  Every plan (and the undecomposed network) is
optimised; the best by the objective wins.  Fewer weights let more of them stay on chip (fewer
partitions, no off-chip weight traffic), fewer MACs need fewer DSPs for the same throughput.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from acceldse.mapper.fpga.search import FpgaResult, optimise_network
from acceldse.simulator.specs.platform import Platform
from acceldse.workloads.decompose import (
    Decomposition,
    decomposable,
    decompose_network,
    decomposed_macs,
    decomposed_weights,
    full_rank,
    reconstruction_error,
)
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

DEFAULT_MAX_ERROR = 0.3
"""Default largest relative Frobenius reconstruction error per decomposed layer.

On the CNN trained on scikit-learn's digits in ``benchmarks/mixed_td_digits.py`` this bound
decomposes fc1 at half rank on ZCU102: +4.6 % throughput per DSP, no held-out accuracy lost
(docs/fpga.md, "Mixed-TD accuracy")."""


def rank_fractions(min_rank_fraction: float) -> list[float]:
    """1/2, 1/4, ... down to ``min_rank_fraction`` (inclusive)."""
    if not 0 < min_rank_fraction <= 1:
        raise SpecError("must be in (0, 1]", key="min_rank_fraction", value=min_rank_fraction,
                        accepted="0 < fraction <= 1")
    out, f = [], 0.5
    while f >= min_rank_fraction - 1e-12:
        out.append(f)
        f /= 2
    return out or [min_rank_fraction]


def plan_for_fraction(network: Network, fraction: float, weights: dict[str, np.ndarray] | None = None,
                      max_error: float | None = None,
                      errors: dict[tuple[str, str, int], float] | None = None) -> dict[str, Decomposition]:
    """Per-layer decomposition at rank ``fraction`` of full rank (see module docstring)."""
    plan: dict[str, Decomposition] = {}
    for layer in network:
        if not decomposable(layer):
            continue
        rank = max(1, round(fraction * full_rank(layer)))
        per_sample = layer.macs // layer.N
        best: tuple[int, Decomposition] | None = None
        for method in ("svd", "cp") if layer.op == "conv" else ("svd",):
            dec = Decomposition(method, rank)  # type: ignore[arg-type]
            macs = decomposed_macs(layer, dec)
            if macs >= per_sample or decomposed_weights(layer, dec) >= layer.weight_elems:
                continue
            if max_error is not None:
                if weights is None or layer.name not in weights:
                    continue  # no weights, no error bound: leave the layer undecomposed
                key = (layer.name, method, rank)
                if errors is not None and key in errors:
                    err = errors[key]
                else:
                    err = reconstruction_error(weights[layer.name], dec)
                    if errors is not None:
                        errors[key] = err
                if err > max_error:
                    continue
            if best is None or macs < best[0]:
                best = (macs, dec)
        if best is not None:
            plan[layer.name] = best[1]
    return plan


def optimise_with_decomposition(network: Network, platform: Platform, *, min_rank_fraction: float = 0.25,
                                weights: dict[str, np.ndarray] | None = None, max_error: float | None = None,
                                progress: Callable[[int, int, str], None] | None = None,
                                **kwargs: Any) -> FpgaResult:
    """Optimise the undecomposed network and every plan of ``rank_fractions``; return the best.

    ``progress(done, total, plan)`` is called before each plan is optimised and once at the end."""
    objective = kwargs.get("objective", "throughput")
    errors: dict[tuple[str, str, int], float] = {}
    results: list[tuple[float, dict[str, Decomposition], FpgaResult]] = []
    candidates: list[dict[str, Any]] = []
    plans: list[tuple[float, dict[str, Decomposition]]] = [(1.0, {})]
    plans += [(f, plan_for_fraction(network, f, weights, max_error, errors)) for f in rank_fractions(min_rank_fraction)]
    runtime = 0.0
    for i, (fraction, plan) in enumerate(plans):
        if progress is not None:
            progress(i, len(plans), f"rank fraction {fraction:g}")
        if fraction < 1 and not plan:
            continue
        net = decompose_network(network, plan) if plan else network
        res = optimise_network(net, platform, **kwargs)
        runtime += res.runtime_s
        results.append((fraction, plan, res))
        s = res.summary
        candidates.append({"rank_fraction": fraction, "decomposed_layers": len(plan), "macs": net.macs,
                           "weights": sum(layer.weight_elems for layer in net),
                           "throughput_per_s": s["throughput_per_s"], "latency_us": s["latency_us"],
                           "dsp_used": s["dsp_used"], "throughput_per_dsp": s["throughput_per_dsp"],
                           "partitions": s["partitions"]})

    def score(item: tuple[float, dict[str, Decomposition], FpgaResult]) -> tuple[float, float]:
        rep = item[2].report
        main = rep.throughput if objective == "throughput" else -rep.latency_s
        return (main, rep.throughput_per_dsp)

    fraction, plan, best = max(results, key=score)
    errs: dict[str, float] = {}
    for name, dec in plan.items():
        if weights is not None and name in weights:
            key = (name, dec.method, dec.rank)
            errs[name] = errors[key] if key in errors else reconstruction_error(weights[name], dec)
    return FpgaResult(best.network, best.report, best.foldings, best.partitions,
                      decomposition={k: (v.method, v.rank) for k, v in plan.items()}, runtime_s=runtime,
                      candidates=tuple(candidates), decomposition_errors=errs)
