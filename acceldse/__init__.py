"""acceldse: a hardware-accelerator design-space simulator.

Public API::

    import acceldse
    result = acceldse.simulate("resnet50", "scalesim-32x32", dataflow="all")
    result.layers      # per-layer DataFrame (columns: simulator.result.COLUMNS)
    result.totals      # one row per dataflow
    best = acceldse.map("resnet18", "eyeriss_like", objective="edp", search="ga", budget=5000)
    best.table         # best mapping per layer
    point = acceldse.fused_attention("fusemax", model="bert", seq_len=65536)   # fused attention
    acceldse.fusemax_vs_flat()                                                    # vs the FuseMax paper
    summary = acceldse.run_sweep("sweep.yaml", "results.duckdb", workers=2)   # one row per design point
    points = acceldse.load_results("results.duckdb", where="area_mm2 <= 10")
    result.plot.roofline()                                                     # matplotlib figures
    acc = acceldse.load_hardware("tpu-v1-like").replace(array={"rows": 128})   # validated like YAML
    acceldse.simulate("bert_base", acc.to_dict(), seq_len=512).save("bert.parquet")   # with its context
    acceldse.load_result("bert.parquet")
    run = acceldse.run_timeloop(["arch.yaml", "ERT.yaml", "map.yaml"])   # Timeloop/Sparseloop inputs
    rows = acceldse.validate("silicon")   # Eyeriss v1, TPU v1 measurements beside ours, with the error

``acceldse.__all__`` lists the functions; ``acceldse.SUBMODULES`` the modules reachable at once
(``acceldse.plots``, ``acceldse.explore``, ...).

The names are imported on first use (PEP 562), so ``import acceldse`` and ``acceldse --help``
do not pay for numba, pandas or the simulator. Importing ``acceldse`` registers the
``acceldse/*`` Gymnasium environments (``envs``; entry points are strings, nothing heavy) as soon as
Gymnasium is imported, so a simulation does not import Gymnasium either.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from acceldse.kernel_cache import use_kernel_cache

use_kernel_cache()  # before any numba kernel is compiled: a cache of older kernel sources is never loaded

from acceldse import envs  # noqa: E402, F401 - registers the acceldse/* Gymnasium environments (on gymnasium's import)

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, str]] = {
    # workloads
    "Network": ("acceldse.workloads.network", "Network"),
    "conv2d": ("acceldse.workloads.layer", "conv2d"),
    "eltwise": ("acceldse.workloads.layer", "eltwise"),
    "gemm": ("acceldse.workloads.layer", "gemm"),
    "list_workloads": ("acceldse.workloads.zoo", "list_workloads"),
    "load_workload": ("acceldse.workloads.loader", "load_workload"),
    "matmul": ("acceldse.workloads.layer", "matmul"),
    "pool2d": ("acceldse.workloads.layer", "pool2d"),
    "workload_parameters": ("acceldse.workloads.zoo", "parameters"),
    # hardware
    "catalogue": ("acceldse.simulator.specs.catalogue", "catalogue"),
    "list_hardware": ("acceldse.simulator.specs.presets", "list_hardware"),
    "load_hardware": ("acceldse.simulator.specs.presets", "load_hardware"),
    "load_hierarchy": ("acceldse.simulator.specs.hierarchy_loader", "load_hierarchy"),
    "load_platform": ("acceldse.simulator.specs.platform", "load_platform"),
    # simulation and results
    "COLUMNS": ("acceldse.simulator.result", "COLUMNS"),
    "SimResult": ("acceldse.simulator.result", "SimResult"),
    "load_result": ("acceldse.simulator.result", "load_result"),
    "map": ("acceldse.api", "map_workload"),
    "run_timeloop": ("acceldse.mapper.timeloop", "run_timeloop"),
    "simulate": ("acceldse.api", "simulate"),
    # attention as cascades of Einsums, fused mappings (FuseMax, FLAT)
    "attention_cascade": ("acceldse.workloads.attention", "attention_cascade"),
    "layer_cascade": ("acceldse.workloads.attention", "layer_cascade"),
    "load_cascade": ("acceldse.workloads.cascade", "load_cascade"),
    "fused_attention": ("acceldse.mapper.attention_designs", "evaluate_design"),
    "search_fused": ("acceldse.mapper.attention_search", "search_fused"),
    "fusemax_vs_flat": ("acceldse.mapper.attention_designs", "fusemax_vs_flat"),
    "load_fused_hardware": ("acceldse.simulator.specs.fused", "load_fused_hardware"),
    # FPGA, streaming, memory tiers
    "evaluate_fpga_design": ("acceldse.simulator.fpga.design", "evaluate_design"),
    "optimise_fpga": ("acceldse.mapper.fpga", "optimise"),
    "compare_attention": ("acceldse.simulator.fpga.attention", "compare_attention"),
    "run_graph": ("acceldse.simulator.streaming", "run_graph"),
    "run_sdpa": ("acceldse.simulator.streaming", "run_sdpa"),
    "expert_switching": ("acceldse.tiers", "switch_study"),
    "fusion": ("acceldse.tiers", "fusion"),
    "event_trace": ("acceldse.tiers", "event_trace"),
    # sweeps, stores, exploration
    "load_results": ("acceldse.results", "load_results"),
    "pareto_front": ("acceldse.results", "pareto_front"),
    "run_sweep": ("acceldse.sweep", "run_sweep"),
    "compare_agents": ("acceldse.compare", "compare"),
    "train_proxy": ("acceldse.proxy", "train_proxy"),
    # published figures (silicon, papers) beside acceldse's values
    "validate": ("acceldse.validation", "validate"),
}
"""Public name -> (module, attribute) it is imported from on first use."""

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # static checkers see the real objects
    from acceldse.api import map_workload as map  # noqa: A001, F401
    from acceldse.api import simulate  # noqa: F401
    from acceldse.compare import compare as compare_agents  # noqa: F401
    from acceldse.mapper.attention_designs import evaluate_design as fused_attention  # noqa: F401
    from acceldse.mapper.attention_designs import fusemax_vs_flat  # noqa: F401
    from acceldse.mapper.attention_search import search_fused  # noqa: F401
    from acceldse.mapper.fpga import optimise as optimise_fpga  # noqa: F401
    from acceldse.mapper.timeloop import run_timeloop  # noqa: F401
    from acceldse.proxy import train_proxy  # noqa: F401
    from acceldse.results import load_results, pareto_front  # noqa: F401
    from acceldse.simulator.fpga.attention import compare_attention  # noqa: F401
    from acceldse.simulator.fpga.design import evaluate_design as evaluate_fpga_design  # noqa: F401
    from acceldse.simulator.result import COLUMNS, SimResult, load_result  # noqa: F401
    from acceldse.simulator.specs.catalogue import catalogue  # noqa: F401
    from acceldse.simulator.specs.fused import load_fused_hardware  # noqa: F401
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy  # noqa: F401
    from acceldse.simulator.specs.platform import load_platform  # noqa: F401
    from acceldse.simulator.specs.presets import list_hardware, load_hardware  # noqa: F401
    from acceldse.simulator.streaming import run_graph, run_sdpa  # noqa: F401
    from acceldse.sweep import run_sweep  # noqa: F401
    from acceldse.tiers import event_trace, fusion  # noqa: F401
    from acceldse.tiers import switch_study as expert_switching  # noqa: F401
    from acceldse.validation import validate  # noqa: F401
    from acceldse.workloads.attention import attention_cascade, layer_cascade  # noqa: F401
    from acceldse.workloads.cascade import load_cascade  # noqa: F401
    from acceldse.workloads.layer import conv2d, eltwise, gemm, matmul, pool2d  # noqa: F401
    from acceldse.workloads.loader import load_workload  # noqa: F401
    from acceldse.workloads.network import Network  # noqa: F401
    from acceldse.workloads.zoo import list_workloads  # noqa: F401
    from acceldse.workloads.zoo import parameters as workload_parameters  # noqa: F401


SUBMODULES = ("compare", "explore", "plots", "proxy", "results", "store", "sweep", "tiers", "validation")
"""Modules reachable as ``acceldse.<name>`` without importing them first (``acceldse.plots.pareto``,
``acceldse.explore.explore``)."""


def __getattr__(name: str) -> Any:
    if name in SUBMODULES:
        value = importlib.import_module(f"acceldse.{name}")
    elif name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attr)
    else:
        raise AttributeError(f"module 'acceldse' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *SUBMODULES])
