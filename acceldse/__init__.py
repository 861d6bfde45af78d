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
"""

import envs  # noqa: F401 - registers the acceldse/* Gymnasium environments
from acceldse.api import map_workload as map  # noqa: A001 - the public name the docs use
from acceldse.api import simulate
from acceldse.plots import ResultPlots
from acceldse.results import load_results
from acceldse.sweep import run_sweep
from simulator.result import COLUMNS, SimResult, register_accessor
from simulator.specs.presets import load_hardware
from simulator.streaming import run_sdpa
from workloads.layer import conv2d, eltwise, gemm, matmul, pool2d
from workloads.loader import load_workload
from workloads.network import Network

register_accessor("plot", ResultPlots)

__all__ = ["COLUMNS", "Network", "SimResult", "conv2d", "eltwise", "gemm", "load_hardware", "load_results",
           "load_workload", "map", "matmul", "pool2d", "run_sdpa", "run_sweep", "simulate"]
__version__ = "0.1.0"
