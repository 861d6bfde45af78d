"""Numba kernels of the analytical systolic-array model (first principles, per fold).

A (layer, dataflow) case is a row of ``CASE_FIELDS`` integers; ``fold_classes`` gives its counts
(``OUT_FIELDS``) and the DRAM bytes of each class of fold, ``fold_traffic`` the same fold by fold (what the
event fidelity replays); ``fold_time`` turns those bytes into the fold sequence's time. No validation
here: ``simulator.systolic.batch`` lowers and ``layer_kernels`` runs the cases.

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
* Timing (``fold_time``): one DRAM channel, prefetch of fold f+1 and write-back of fold f-1 overlap
  fold f; a fold starts when its inputs have arrived (latency included) and the previous fold is done.
* N:M weight sparsity (``NM_N`` < ``NM_M``; 0, 0 when dense): the case's reduction extent (T on
  os, Sr on ws and is) is already the kept one; every weight stored or moved carries ``W_META_BITS``
  of position metadata; on ws each kept reduction row reads its M-block of inputs, so ifmap SRAM
  reads are M/N per kept row; on os and is the layer runs as the dense one over its kept rows, each
  input streamed (os) or held (is) once (SCALE-Sim 3.0.0's rules).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from acceldse.simulator.systolic.jit import kernel


class Case(IntEnum):
    """Columns of a kernel case (one layer on one design, all integers)."""

    SR = 0  # rows of the operand matrix (per group)
    SC = 1  # columns of the operand matrix
    T = 2  # operands streamed through the array per fold
    GROUPS = 3
    ROWS = 4  # PE array rows and columns
    COLS = 5
    DATAFLOW = 6  # DATAFLOW_IDS
    IN_BYTES_UNIQUE = 7  # bytes of one group's input and of the weights
    W_BYTES_UNIQUE = 8
    IN_CAP_BYTES = 9  # half of each SRAM partition (double buffered)
    W_CAP_BYTES = 10
    OUT_CAP_BYTES = 11
    IN_ELEM_BYTES = 12  # bytes per operand, widened to the hardware word
    W_ELEM_BYTES = 13
    OUT_ELEM_BYTES = 14
    DRAM_LATENCY_CYCLES = 15
    MACS = 16  # MACs performed (N:M: on kept weights only)
    W_META_BITS = 17  # N:M position metadata per kept weight (0 dense)
    NM_N = 18  # the N:M ratio (0, 0 dense): on ws each kept reduction row reads M/N inputs
    NM_M = 19


class Out(IntEnum):
    """Columns of a kernel output row (one layer on one design)."""

    COMPUTE_CYCLES = 0
    TOTAL_CYCLES = 1
    FOLDS = 2
    MAPPING_EFFICIENCY = 3
    SRAM_READS_IFMAP = 4
    SRAM_READS_FILTER = 5
    SRAM_WRITES_OFMAP = 6
    SRAM_READS_OFMAP = 7
    DRAM_READS_IFMAP = 8
    DRAM_READS_FILTER = 9
    DRAM_WRITES_OFMAP = 10
    DRAM_READS_OFMAP = 11


CASE_FIELDS = tuple(m.name.lower() for m in Case)
OUT_FIELDS = tuple(m.name.lower() for m in Out)
N_OUT = len(OUT_FIELDS)
COUNT_FIELDS = OUT_FIELDS[Out.SRAM_READS_IFMAP:]
"""The access counts of a layer (elements): SRAM then DRAM; ifmap, filter, ofmap writes, ofmap reads."""

DATAFLOW_IDS = {"os": 0, "ws": 1, "is": 2}


@kernel
def fold_cycles(rows: int, cols: int, t: int) -> int:
    """Cycles of one fold (all three dataflows: fill/load R, skew R + C - 2, T steps)."""
    return 2 * rows + cols + t - 2


@kernel
def row_folds(c: np.ndarray) -> int:
    """Folds along the operand matrix's rows of one case (``Case`` columns)."""
    return (c[Case.SR] + c[Case.ROWS] - 1) // c[Case.ROWS]


@kernel
def col_folds(c: np.ndarray) -> int:
    """Folds along the operand matrix's columns of one case."""
    return (c[Case.SC] + c[Case.COLS] - 1) // c[Case.COLS]


@kernel
def case_folds(c: np.ndarray) -> int:
    """Every fold of one case: groups x row folds x column folds."""
    return c[Case.GROUPS] * row_folds(c) * col_folds(c)


@kernel
def fold_traffic(c: np.ndarray, load_bytes: np.ndarray, write_bytes: np.ndarray, o: np.ndarray) -> None:
    """Per-fold DRAM bytes (fetched before / written after each fold) and the layer's counts.

    Fills ``load_bytes`` and ``write_bytes`` (one entry per fold, execution order) and
    ``o`` (``OUT_FIELDS``; ``total_cycles`` is left to ``double_buffer_cycles``).
    """
    fr_n, fc_n = row_folds(c), col_folds(c)
    load_cls = np.zeros((3, 3))
    write_cls = np.zeros((3, 3))
    fold_classes(c, load_cls, write_cls, o)
    f = 0
    for _g in range(c[Case.GROUPS]):
        for fc in range(fc_n):
            ci = fold_class(fc, fc_n)
            for fr in range(fr_n):
                ri = fold_class(fr, fr_n)
                load_bytes[f] = load_cls[ci, ri]
                write_bytes[f] = write_cls[ci, ri]
                f += 1


@kernel
def fold_class(i: int, n: int) -> int:
    """Class of fold ``i`` of ``n`` along one axis: 0 first, 1 middle, 2 last (a single fold is first)."""
    if i == 0:
        return 0
    return 2 if i == n - 1 else 1


@kernel
def fold_classes(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, o: np.ndarray) -> None:
    """DRAM bytes of each fold class (``[column class, row class]``, see ``fold_class``) and the layer's
    counts in ``o`` (``OUT_FIELDS`` except total_cycles): folds of one class are identical, so each class's
    counts are added ``groups x its column folds x its row folds`` times (classes in order, one sum per count).

    One fold of column fold ``fc`` and row fold ``fr`` fetches its ``load`` bytes before and writes its ``write``
    bytes after it:

    * os (rows = output pixels, cols = filters, T = C*R*S): ifmap, filter and ofmap SRAM traffic of its block;
      its input rows fetched on the first column fold (every fold when the input does not fit its buffer
      half), its filter block on the first row fold (every fold when that block does not fit), its outputs
      written;
    * ws (rows = C*R*S, cols = filters, T = output pixels) and is (cols = output pixels, T = filters): partial
      sums written every fold and read back after the first row fold; ws fetches its weight block every fold
      and its input rows as os does, is its input block every fold and its filter rows on the first column
      fold (every fold when the weights do not fit); a partial-sum block that fits the ofmap half is written
      once after the last row fold, else spilled (written every fold, read back after the first).
    """
    sr, sc, t, R, C, df = c[Case.SR], c[Case.SC], c[Case.T], c[Case.ROWS], c[Case.COLS], c[Case.DATAFLOW]
    fr_n, fc_n = row_folds(c), col_folds(c)
    in_unique = float(c[Case.IN_BYTES_UNIQUE])
    w_cap, out_cap = float(c[Case.W_CAP_BYTES]), float(c[Case.OUT_CAP_BYTES])
    eb_in, eb_w, eb_out = float(c[Case.IN_ELEM_BYTES]), float(c[Case.W_ELEM_BYTES]), float(c[Case.OUT_ELEM_BYTES])
    in_fits = in_unique <= float(c[Case.IN_CAP_BYTES])
    w_move = eb_w  # bytes per weight moved: data plus N:M position metadata
    w_unique = float(c[Case.W_BYTES_UNIQUE])
    in_scale = 1.0  # inputs read per kept reduction row (M/N on ws)
    if c[Case.NM_N] > 0:
        w_move = eb_w + c[Case.W_META_BITS] / 8.0
        w_unique = w_unique / eb_w * w_move
        in_scale = c[Case.NM_M] / c[Case.NM_N]
    w_fits = w_unique <= w_cap
    groups = c[Case.GROUPS]
    # the sums of the Out counts over every fold (mapping efficiency: of the folds' shares)
    eff = sr_in = sr_w = sw_out = sr_out = dr_in = dr_w = dw_out = dr_out = 0.0
    for ci in range(3):
        fc = 0 if ci == 0 else (1 if ci == 1 else fc_n - 1)
        n_fc = 1 if ci != 1 else fc_n - 2
        if (ci > 0 and fc_n < 2) or (ci == 1 and fc_n < 3):
            continue
        cols_f = min(C, sc - fc * C)
        for ri in range(3):
            fr = 0 if ri == 0 else (1 if ri == 1 else fr_n - 1)
            n_fr = 1 if ri != 1 else fr_n - 2
            if (ri > 0 and fr_n < 2) or (ri == 1 and fr_n < 3):
                continue
            mult = float(groups * n_fc * n_fr)
            rows_f = min(R, sr - fr * R)
            eff += mult * (rows_f * cols_f / (R * C))
            load = 0.0
            write = 0.0
            if df == 0:
                sr_in += mult * (rows_f * t)
                sr_w += mult * (t * cols_f)
                sw_out += mult * (rows_f * cols_f)
                if fc == 0 or not in_fits:
                    share = in_unique * rows_f / sr
                    dr_in += mult * (share / eb_in)
                    load += share
                if fr == 0 or t * cols_f * w_move > w_cap:
                    dr_w += mult * (t * cols_f)
                    load += t * cols_f * w_move
                dw_out += mult * (rows_f * cols_f)
                write += rows_f * cols_f * eb_out
            else:
                sw_out += mult * (t * cols_f)
                if fr > 0:
                    sr_out += mult * (t * cols_f)
                if df == 1:
                    sr_w += mult * (rows_f * cols_f)
                    sr_in += mult * (rows_f * t * in_scale)
                    dr_w += mult * (rows_f * cols_f)
                    load += rows_f * cols_f * w_move
                    if fc == 0 or not in_fits:
                        share = in_unique * rows_f / sr
                        dr_in += mult * (share / eb_in)
                        load += share
                else:
                    sr_in += mult * (rows_f * cols_f)
                    sr_w += mult * (rows_f * t)
                    share = in_unique * rows_f * cols_f / (sr * sc)
                    dr_in += mult * (share / eb_in)
                    load += share
                    if fc == 0 or not w_fits:
                        dr_w += mult * (rows_f * t)
                        load += rows_f * t * w_move
                block = t * cols_f * eb_out  # partial-sum block accumulated over row folds
                if block <= out_cap:
                    if fr == fr_n - 1:
                        dw_out += mult * (t * cols_f)
                        write += block
                else:
                    dw_out += mult * (t * cols_f)
                    write += block
                    if fr > 0:
                        dr_out += mult * (t * cols_f)
                        load += block
            load_cls[ci, ri] = load
            write_cls[ci, ri] = write
    folds = groups * fr_n * fc_n
    o[Out.COMPUTE_CYCLES] = folds * fold_cycles(R, C, t)
    o[Out.FOLDS] = folds
    o[Out.MAPPING_EFFICIENCY] = eff / folds
    o[Out.SRAM_READS_IFMAP] = sr_in
    o[Out.SRAM_READS_FILTER] = sr_w
    o[Out.SRAM_WRITES_OFMAP] = sw_out
    o[Out.SRAM_READS_OFMAP] = sr_out
    o[Out.DRAM_READS_IFMAP] = round(dr_in)
    o[Out.DRAM_READS_FILTER] = dr_w
    o[Out.DRAM_WRITES_OFMAP] = dw_out
    o[Out.DRAM_READS_OFMAP] = dr_out
