"""acceldse: a hardware-accelerator design-space simulator.

Public API::

    import acceldse
    result = acceldse.simulate("resnet50", "scalesim-32x32", dataflow="all")
    result.layers      # per-layer DataFrame (columns: simulator.result.COLUMNS)
    result.totals      # one row per dataflow
"""

from acceldse.api import simulate
from simulator.result import COLUMNS, SimResult

__all__ = ["COLUMNS", "SimResult", "simulate"]
__version__ = "0.1.0"
