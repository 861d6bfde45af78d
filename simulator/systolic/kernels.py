"""Numba kernels of the analytical systolic-array model (first principles, per fold).

One call evaluates a batch of (layer, dataflow) cases. Each case is a row of ``CASE_FIELDS``
integers; the kernel writes a row of ``OUT_FIELDS`` into a caller-allocated array. No
validation here: ``simulator.systolic.model`` validates and builds the cases.

Model (documented in docs/systolic_model.md):

* A fold maps an R x C block of the (Sr x Sc) operand matrix onto the array and streams
  T operands through it. Fold cycles: output stationary ``2R + C + T - 2`` (fill R + C - 2,
  T MAC steps, R cycles to drain the outputs); weight/input stationary ``2R + C + T - 2``
  (R cycles to load the stationary block, T + R + C - 2 to stream). Folds run column-fold
  outer, row-fold inner, for each group.
* SRAM traffic is what enters/leaves the array edges: streamed operands once per fold
  they feed; stationary operands once; outputs once (os) or as partial sums per row fold
  (ws/is, which also read earlier partial sums back).
* DRAM traffic: each operand buffer is double buffered, so half of its SRAM holds the
  working tile. An operand whose unique bytes fit that half is fetched once. Otherwise a
  tile is fetched again whenever a fold needs it and the previous fold did not (cyclic
  streams larger than a buffer get no reuse). Partial sums that do not fit spill to DRAM.
* Timing: one DRAM channel, prefetch of fold f+1 and write-back of fold f-1 overlap fold f;
  a fold starts when its inputs have arrived (latency included) and the previous fold is
  done. Stall cycles = total - sum of fold cycles.
"""

from __future__ import annotations

import numpy as np
from numba import njit

CASE_FIELDS = ("sr", "sc", "t", "groups", "rows", "cols", "dataflow", "in_bytes_unique", "w_bytes_unique",
               "in_cap_bytes", "w_cap_bytes", "out_cap_bytes", "in_elem_bytes", "w_elem_bytes",
               "out_elem_bytes", "dram_latency_cycles", "macs")
OUT_FIELDS = ("compute_cycles", "total_cycles", "folds", "mapping_efficiency", "sram_reads_ifmap",
              "sram_reads_filter", "sram_writes_ofmap", "sram_reads_ofmap", "dram_reads_ifmap",
              "dram_reads_filter", "dram_writes_ofmap", "dram_reads_ofmap")

DATAFLOW_IDS = {"os": 0, "ws": 1, "is": 2}


@njit(cache=True)
def _ceil_div(a: float, b: float) -> int:
    if a <= 0.0:
        return 0
    q = int(a // b)
    return q + 1 if q * b < a else q


@njit(cache=True)
def fold_cycles(dataflow: int, rows: int, cols: int, t: int) -> int:
    """Cycles of one fold (all three dataflows: fill/load R, skew R + C - 2, T steps)."""
    return 2 * rows + cols + t - 2


@njit(cache=True)
def evaluate_cases(cases: np.ndarray, read_bw: float, write_bw: float, out: np.ndarray) -> None:
    """Evaluate every case (row of ``cases``) into the matching row of ``out``."""
    for i in range(cases.shape[0]):
        c = cases[i]
        folds = c[3] * ((c[0] + c[4] - 1) // c[4]) * ((c[1] + c[5] - 1) // c[5])
        load = np.empty(folds)
        write = np.empty(folds)
        fold_traffic(c, load, write, out[i])
        per_fold = fold_cycles(c[6], c[4], c[5], c[2])
        out[i, 1] = double_buffer_cycles(load, write, per_fold, read_bw, write_bw, c[15])


@njit(cache=True)
def double_buffer_cycles(load_bytes: np.ndarray, write_bytes: np.ndarray, per_fold: int, read_bw: float,
                         write_bw: float, latency: int) -> int:
    """Total cycles of a fold sequence on one DRAM channel with double-buffered SRAM.

    Fold f's inputs are fetched once fold f-2 has finished (its buffer half is free), after
    fold f-2's outputs are written back; fold f starts when they have arrived (``latency``
    after the transfer) and fold f-1 is done. The last two folds' outputs drain at the end.
    """
    ch = 0
    end_m1 = 0
    end_m2 = 0
    w_m1 = 0
    w_m2 = 0
    for f in range(load_bytes.shape[0]):
        load_cycles = _ceil_div(load_bytes[f], read_bw)
        ch = max(ch, end_m2) + w_m2 + load_cycles
        ready = ch + (latency if load_cycles > 0 else 0)
        start = max(end_m1, ready)
        end_m2, w_m2 = end_m1, w_m1
        end_m1, w_m1 = start + per_fold, _ceil_div(write_bytes[f], write_bw)
    ch = max(ch, end_m2) + w_m2
    ch = max(ch, end_m1) + w_m1
    return max(end_m1, ch + (latency if w_m1 + w_m2 > 0 else 0))


@njit(cache=True)
def fold_traffic(c: np.ndarray, load_bytes: np.ndarray, write_bytes: np.ndarray, o: np.ndarray) -> None:
    """Per-fold DRAM bytes (fetched before / written after each fold) and the layer's counts.

    Fills ``load_bytes`` and ``write_bytes`` (one entry per fold, execution order) and
    ``o`` (``OUT_FIELDS``; ``total_cycles`` is left to ``double_buffer_cycles``).
    """
    sr, sc, t, groups, R, C, df = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    in_unique, w_unique = float(c[7]), float(c[8])
    in_cap, w_cap, out_cap = float(c[9]), float(c[10]), float(c[11])
    eb_in, eb_w, eb_out = float(c[12]), float(c[13]), float(c[14])
    fr_n = (sr + R - 1) // R
    fc_n = (sc + C - 1) // C
    per_fold = fold_cycles(df, R, C, t)
    in_fits = in_unique <= in_cap
    w_fits = w_unique <= w_cap

    sram_in = 0.0
    sram_w = 0.0
    sram_out_w = 0.0
    sram_out_r = 0.0
    dram_in = 0.0
    dram_w = 0.0
    dram_out_w = 0.0
    dram_out_r = 0.0
    eff_sum = 0.0
    f = 0
    for _g in range(groups):
        for fc in range(fc_n):
            cols_f = min(C, sc - fc * C)
            for fr in range(fr_n):
                rows_f = min(R, sr - fr * R)
                eff_sum += rows_f * cols_f / (R * C)
                load = 0.0  # bytes to fetch before this fold
                write = 0.0  # bytes to write after this fold
                if df == 0:  # output stationary: rows = output pixels, cols = filters, T = C*R*S
                    sram_in += rows_f * t
                    sram_w += t * cols_f
                    sram_out_w += rows_f * cols_f
                    if fc == 0 or not in_fits:
                        share = in_unique * rows_f / sr
                        dram_in += share / eb_in
                        load += share
                    if fr == 0 or t * cols_f * eb_w > w_cap:
                        dram_w += t * cols_f
                        load += t * cols_f * eb_w
                    dram_out_w += rows_f * cols_f
                    write += rows_f * cols_f * eb_out
                else:
                    # ws: rows = C*R*S, cols = filters, T = output pixels (weights stationary)
                    # is: rows = C*R*S, cols = output pixels, T = filters (inputs stationary)
                    sram_out_w += t * cols_f
                    if fr > 0:
                        sram_out_r += t * cols_f
                    if df == 1:
                        sram_w += rows_f * cols_f
                        sram_in += rows_f * t
                        dram_w += rows_f * cols_f
                        load += rows_f * cols_f * eb_w
                        if fc == 0 or not in_fits:
                            share = in_unique * rows_f / sr
                            dram_in += share / eb_in
                            load += share
                    else:
                        sram_in += rows_f * cols_f
                        sram_w += rows_f * t
                        share = in_unique * rows_f * cols_f / (sr * sc)
                        dram_in += share / eb_in
                        load += share
                        if fc == 0 or not w_fits:
                            dram_w += rows_f * t
                            load += rows_f * t * eb_w
                    block = t * cols_f * eb_out  # partial-sum block accumulated over row folds
                    if block <= out_cap:
                        if fr == fr_n - 1:
                            dram_out_w += t * cols_f
                            write += block
                    else:
                        dram_out_w += t * cols_f
                        write += block
                        if fr > 0:
                            dram_out_r += t * cols_f
                            load += block
                load_bytes[f] = load
                write_bytes[f] = write
                f += 1
    folds = groups * fr_n * fc_n
    o[0] = folds * per_fold
    o[2] = folds
    o[3] = eff_sum / folds
    o[4] = sram_in
    o[5] = sram_w
    o[6] = sram_out_w
    o[7] = sram_out_r
    o[8] = round(dram_in)
    o[9] = dram_w
    o[10] = dram_out_w
    o[11] = dram_out_r
