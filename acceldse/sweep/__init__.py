"""Sweeps: a versioned spec of axes over designs, run on a local pool or Ray into a DuckDB store.

    from acceldse.sweep import run_sweep
    summary = run_sweep("sweep.yaml", "results.duckdb", workers=2)
"""

from acceldse.sweep.runner import POINTS_TABLE, SweepSummary, run_sweep
from acceldse.sweep.spec import SweepSpec, load_sweep_spec

__all__ = ["POINTS_TABLE", "SweepSpec", "SweepSummary", "load_sweep_spec", "run_sweep"]
