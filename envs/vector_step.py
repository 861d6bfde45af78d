"""The arithmetic of one step of the batched vector env (``envs.vector_design``), all N designs in one compiled call.

``design_step`` turns N knob-index rows into their ``Hw`` rows, runs the analytical kernel on each design's
workload and dataflow (``layer_kernels.network_sums_many``), and gives the metrics
(``SystolicDesignModel.evaluate`` and ``metrics_of``), the spec penalty (``knobs.spec_penalty``, its terms in
the env's order) and the observation (``DesignEnv._observe``) of every design, with the same float
operations in the same order as the single env, so the numbers are identical to the bit.
"""

from __future__ import annotations

import numpy as np

from acceldse.envs.knobs import log_ratio
from acceldse.simulator.systolic.hardware import N_HW, Hw
from acceldse.simulator.systolic.jit import kernel
from acceldse.simulator.systolic.layer_kernels import network_sums_many

KNOB_COLUMNS = ("rows", "cols", "ifmap_kib", "filter_kib", "ofmap_kib", "dram_gbyte_per_s", "dataflow", "clock_mhz",
                "cores")
"""The knobs ``design_step`` reads, in the order of its ``knob_col`` and ``knob_values`` rows (``dataflow``'s values
as ``FLOWS`` positions; ``cores`` may be absent: one core)."""
METRIC_COLUMNS = ("latency_us", "energy_uj", "area_mm2", "power_w", "edp_uj_us", "total_cycles", "utilization")
"""The columns of ``design_step``'s metrics."""
FLOWS = ("os", "ws", "is")
"""The dataflows, in the order of each workload's kernel tables (table ``3 w + flow``)."""


@kernel
def design_step(index: np.ndarray, knob_col: np.ndarray, knob_values: np.ndarray, base_hw: np.ndarray,
                area: np.ndarray, mac_cases: np.ndarray, mac_start: np.ndarray, vectors: np.ndarray,
                vector_start: np.ndarray, repeats: np.ndarray, wl: np.ndarray, macs: np.ndarray, reference: np.ndarray,
                term_metric: np.ndarray, term_bound: np.ndarray, term_count: np.ndarray, obs_metric: np.ndarray,
                tail: np.ndarray, scale: np.ndarray, metrics: np.ndarray, penalty: np.ndarray,
                obs: np.ndarray) -> None:
    """Design p is knob-index row ``index[p]`` (knob ``KNOB_COLUMNS[i]`` in column ``knob_col[i]``, -1 absent; its
    values ``knob_values[i]``) on workload ``wl[p]``: ``metrics[p]`` (``METRIC_COLUMNS``), ``penalty[p]`` (terms
    ``term_metric[w, :term_count[w]]`` bounded by ``term_bound[w]``) and ``obs[p]`` (``obs_metric`` columns of the
    metrics against ``reference[w]``, the indices over ``scale``, ``tail[w]``). ``base_hw``: the base design's
    ``Hw`` row; ``area``: mm2 per PE, per SRAM byte and the rest; the tables as ``network_sums_many``'s, network
    ``3 w + flow``; ``macs[w]``: the workload's MACs."""
    n = index.shape[0]
    hw = np.empty((n, N_HW))
    table = np.empty(n, dtype=np.int64)
    sram_kib = np.empty(n, dtype=np.int64)
    v = np.empty(len(knob_col))
    for p in range(n):
        for i in range(len(knob_col)):
            v[i] = knob_values[i, index[p, knob_col[i]]] if knob_col[i] >= 0 else 1.0
        h = hw[p]
        h[:] = base_hw
        h[Hw.ROWS], h[Hw.COLS] = int(v[0]), int(v[1])
        h[Hw.IN_CAP_BYTES] = int(v[2]) * 1024 // 2  # hardware.buffer_half
        h[Hw.W_CAP_BYTES] = int(v[3]) * 1024 // 2
        h[Hw.OUT_CAP_BYTES] = int(v[4]) * 1024 // 2
        sram_kib[p] = int(v[2]) + int(v[3]) + int(v[4])
        h[Hw.DRAM_READ_BW] = h[Hw.DRAM_WRITE_BW] = v[5] * 1e3 / v[7]  # systolic_design.dram_bw_bytes_per_cycle
        h[Hw.CLOCK_MHZ] = v[7]
        h[Hw.CORES] = int(v[8])
        table[p] = 3 * wl[p] + int(v[6])
    cycles = np.empty(n, dtype=np.int64)
    energy_pj = np.empty(n)
    network_sums_many(mac_cases, mac_start, vectors, vector_start, repeats, table, hw, cycles, energy_pj)
    m, k = len(obs_metric), index.shape[1]
    for p in range(n):
        w = wl[p]
        h = hw[p]
        clock = h[Hw.CLOCK_MHZ]
        pes = int(h[Hw.ROWS]) * int(h[Hw.COLS]) * int(h[Hw.CORES])
        sram_bytes = sram_kib[p] * 1024
        c, e = cycles[p], energy_pj[p]
        latency_us = c / clock  # metrics_of
        row = metrics[p]
        row[0] = latency_us
        row[1] = e * 1e-6
        row[2] = pes * area[0] + area[1] * sram_bytes + area[2]
        row[3] = e / latency_us * 1e-6 if latency_us > 0 else 0.0
        row[4] = e * 1e-6 * latency_us
        row[5] = float(c)
        row[6] = macs[w] / (c * pes) if c != 0 else 0.0
        pen = 0.0
        for j in range(term_count[w]):
            t = term_bound[w, j]
            pen += max((row[term_metric[w, j]] - t) / (t if t > 0 else 1.0), 0.0)
        penalty[p] = pen
        for j in range(m):
            obs[p, j] = log_ratio(row[obs_metric[j]], reference[w, j])
        for j in range(k):
            obs[p, m + j] = index[p, j] / scale[j]
        for j in range(tail.shape[1]):
            obs[p, m + k + j] = tail[w, j]


__all__ = ["FLOWS", "KNOB_COLUMNS", "METRIC_COLUMNS", "design_step"]
