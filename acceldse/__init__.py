"""acceldse: a hardware-accelerator design-space simulator.

Public API::

    import acceldse
    result = acceldse.simulate("resnet50", "scalesim-32x32", dataflow="all")
    result.layers      # per-layer DataFrame (columns: simulator.result.COLUMNS)
    result.totals      # one row per dataflow
    best = acceldse.map("resnet18", "eyeriss_like", objective="edp", search="ga", budget=5000)
    best.table         # best mapping per layer
    summary = acceldse.run_sweep("sweep.yaml", "results.duckdb", workers=2)   # one row per design point
    points = acceldse.load_results("results.duckdb", where="area_mm2 <= 10")
    result.plot.roofline()                                                     # matplotlib figures

The names are imported on first use (PEP 562), so ``import acceldse`` and ``acceldse --help``
do not pay for numba, pandas or the simulator. Importing ``acceldse`` registers the
``acceldse/*`` Gymnasium environments (``envs``; entry points are strings, nothing heavy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from acceldse import envs  # noqa: F401 - registers the acceldse/* Gymnasium environments

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, str]] = {
    "COLUMNS": ("acceldse.simulator.result", "COLUMNS"),
    "Network": ("acceldse.workloads.network", "Network"),
    "SimResult": ("acceldse.simulator.result", "SimResult"),
    "conv2d": ("acceldse.workloads.layer", "conv2d"),
    "eltwise": ("acceldse.workloads.layer", "eltwise"),
    "gemm": ("acceldse.workloads.layer", "gemm"),
    "load_hardware": ("acceldse.simulator.specs.presets", "load_hardware"),
    "load_results": ("acceldse.results", "load_results"),
    "load_workload": ("acceldse.workloads.loader", "load_workload"),
    "map": ("acceldse.api", "map_workload"),
    "matmul": ("acceldse.workloads.layer", "matmul"),
    "pool2d": ("acceldse.workloads.layer", "pool2d"),
    "run_sdpa": ("acceldse.simulator.streaming", "run_sdpa"),
    "run_sweep": ("acceldse.sweep", "run_sweep"),
    "simulate": ("acceldse.api", "simulate"),
}
"""Public name -> (module, attribute) it is imported from on first use."""

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # static checkers see the real objects
    from acceldse.api import map_workload as map  # noqa: A001, F401
    from acceldse.api import simulate  # noqa: F401
    from acceldse.results import load_results  # noqa: F401
    from acceldse.simulator.result import COLUMNS, SimResult  # noqa: F401
    from acceldse.simulator.specs.presets import load_hardware  # noqa: F401
    from acceldse.simulator.streaming import run_sdpa  # noqa: F401
    from acceldse.sweep import run_sweep  # noqa: F401
    from acceldse.workloads.layer import conv2d, eltwise, gemm, matmul, pool2d  # noqa: F401
    from acceldse.workloads.loader import load_workload  # noqa: F401
    from acceldse.workloads.network import Network  # noqa: F401


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'acceldse' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
