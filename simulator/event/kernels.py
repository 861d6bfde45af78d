"""Numba kernels of the event engine: per-transfer cycle counts (ceil per transfer).

A transfer of ``b`` bytes over a link of ``bw`` bytes per cycle occupies the link for
``ceil(b / bw)`` full-bandwidth cycles; the same rounding as the analytical model
(``simulator.systolic.kernels._ceil_div``), so one core reproduces it exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from acceldse.simulator.systolic import kernels
from acceldse.simulator.systolic.jit import compile_kernels

compile_kernels()  # the numba code below calls the analytical model's rounding
_ceil_div = kernels._ceil_div


@njit(cache=True)
def transfer_cycles(nbytes: np.ndarray, bw_bytes_per_cycle: float, out: np.ndarray) -> None:
    """``out[i] = ceil(nbytes[i] / bw)`` full-bandwidth cycles (0 for no bytes)."""
    for i in range(nbytes.shape[0]):
        out[i] = _ceil_div(nbytes[i], bw_bytes_per_cycle)


def transfer_cycles_array(nbytes: np.ndarray, bw_bytes_per_cycle: float) -> np.ndarray:
    """Validate and allocate around ``transfer_cycles``; returns int64 cycles per transfer."""
    if not bw_bytes_per_cycle > 0:
        raise ValueError('"bw_bytes_per_cycle" must be > 0.')
    data = np.ascontiguousarray(nbytes, dtype=np.float64)
    out = np.zeros(data.shape[0], dtype=np.int64)
    if data.shape[0]:
        transfer_cycles(data, float(bw_bytes_per_cycle), out)
    return out
