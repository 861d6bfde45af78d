"""Numba kernels of the analytical model's rules over designs x layers.

Each rule is written once here and run by every driver (one design's table, a sweep's many
designs, an environment's per-step evaluator) through ``evaluate_network``:

* ``fill_case``: a lowered layer (``Case`` without hardware) on a design (``Hw``): array, buffer
  halves, latency, operands widened to the hardware word;
* ``mac_layer``: a layer with MACs: its counts (``kernels.fold_classes``), each fold slowed to the
  SRAM tier's pace when the SRAM cannot feed the array (``sram_pace``), its time on one array (fold
  classes and periodic jumps) or dealt to several cores in contiguous chunks (``chunk_start``),
  plus the SRAM tier's latency once;
* ``vector_layer``: a layer without MACs on a vector unit as wide as the array's columns, its
  operands streamed through DRAM;
* ``layer_energy``: bytes and energy of a layer's counts;
* ``case_fold_counts`` / ``fold_schedules``: every case's fold sequence (what the event fidelity runs),
  ``layer_energies`` the energy of its rows.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from acceldse.simulator.systolic.fold_time import RUNS_WORK, chunk_cycles, runs_cycles_in
from acceldse.simulator.systolic.hardware import Hw
from acceldse.simulator.systolic.jit import kernel
from acceldse.simulator.systolic.kernels import N_OUT, Case, Out, case_folds, fold_classes, fold_cycles, fold_traffic


class Vector(IntEnum):
    """Columns of a lowered layer without MACs (int64)."""

    OPS = 0
    INPUT_ELEMS = 1
    OUTPUT_ELEMS = 2
    IN_ELEM_BYTES = 3  # not widened
    OUT_ELEM_BYTES = 4


class Bytes(IntEnum):
    """Columns of ``layer_energy``'s output."""

    SRAM_BYTES = 0
    DRAM_BYTES = 1
    ENERGY_MAC_PJ = 2
    ENERGY_SRAM_PJ = 3
    ENERGY_DRAM_PJ = 4


N_CASE = len(Case)
N_VECTOR = len(Vector)
N_BYTES = len(Bytes)


@kernel
def fill_case(base: np.ndarray, hw: np.ndarray, c: np.ndarray) -> None:
    """``c`` = the lowered case ``base`` on the design ``hw`` (``Hw``)."""
    c[:] = base
    c[Case.ROWS] = int(hw[Hw.ROWS])
    c[Case.COLS] = int(hw[Hw.COLS])
    c[Case.IN_CAP_BYTES] = int(hw[Hw.IN_CAP_BYTES])
    c[Case.W_CAP_BYTES] = int(hw[Hw.W_CAP_BYTES])
    c[Case.OUT_CAP_BYTES] = int(hw[Hw.OUT_CAP_BYTES])
    c[Case.DRAM_LATENCY_CYCLES] = int(hw[Hw.DRAM_LATENCY_CYCLES])
    word = int(hw[Hw.WORD_BYTES])
    wide = max(base[Case.IN_ELEM_BYTES], word)
    c[Case.IN_BYTES_UNIQUE] = base[Case.IN_BYTES_UNIQUE] // base[Case.IN_ELEM_BYTES] * wide
    c[Case.IN_ELEM_BYTES] = wide
    wide = max(base[Case.W_ELEM_BYTES], word)
    c[Case.W_BYTES_UNIQUE] = base[Case.W_BYTES_UNIQUE] // base[Case.W_ELEM_BYTES] * wide
    c[Case.W_ELEM_BYTES] = wide
    c[Case.OUT_ELEM_BYTES] = max(base[Case.OUT_ELEM_BYTES], word)


@kernel
def weight_bytes(c: np.ndarray) -> float:
    """Bytes per weight stored and moved: the (widened) word plus its N:M position metadata."""
    return c[Case.W_ELEM_BYTES] + c[Case.W_META_BITS] / 8.0


@kernel
def sram_pace(c: np.ndarray, o: np.ndarray, read_bw: float, write_bw: float) -> int:
    """Cycles one fold needs when the SRAM tier feeds the array at its bandwidth (0 without folds).

    A fold moves (on average over the layer's folds) its share of the array-side SRAM traffic:
    reads of ifmap, filter and partial sums, writes of outputs and partial sums (``o``: the case's
    ``Out`` counts); it cannot be shorter than ``read bytes / read_bw`` or ``write bytes / write_bw``.
    """
    folds = o[Out.FOLDS]
    if folds <= 0:
        return 0
    eb_out = c[Case.OUT_ELEM_BYTES]
    read = o[Out.SRAM_READS_IFMAP] * c[Case.IN_ELEM_BYTES] + o[Out.SRAM_READS_FILTER] * weight_bytes(c) \
        + o[Out.SRAM_READS_OFMAP] * eb_out
    write = o[Out.SRAM_WRITES_OFMAP] * eb_out
    return max(math.ceil(read / folds / read_bw), math.ceil(write / folds / write_bw))


@kernel
def chunk_start(folds: int, cores: int, core: int) -> int:
    """First fold of ``core``'s contiguous chunk when ``folds`` folds are dealt to ``cores`` arrays
    (chunk sizes differ by at most one, the larger first)."""
    base, extra = divmod(folds, cores)
    return core * base + min(core, extra)


@kernel
def _cores(c: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray, per_fold: int, cores: int, read_bw: float,
           write_bw: float) -> tuple[int, int]:
    """(cycles, folds of the chunk that finishes last) with the folds dealt to ``cores`` arrays, each
    running its chunk with the whole off-chip link (the first chunk on a tie); ``load_cls``,
    ``write_cls``: the case's fold-class bytes (``fold_classes``)."""
    n = case_folds(c)
    total, critical = 0, 0
    for core in range(cores):
        start, stop = chunk_start(n, cores, core), chunk_start(n, cores, core + 1)
        if stop <= start:
            continue
        end = chunk_cycles(c, load_cls, write_cls, per_fold, read_bw, write_bw, start, stop)
        if end > total:
            total, critical = end, stop - start
    return total, critical


@kernel
def mac_layer(c: np.ndarray, hw: np.ndarray, o: np.ndarray, load_cls: np.ndarray, write_cls: np.ndarray,
              work: np.ndarray) -> None:
    """The case ``c`` (``Case``) on the design ``hw`` into ``o`` (``Out``); ``load_cls``, ``write_cls``: (3, 3)
    scratch, ``work``: ``runs_cycles_in``'s."""
    fold_classes(c, load_cls, write_cls, o)
    array_fold = fold_cycles(c[Case.ROWS], c[Case.COLS], c[Case.T])
    per_fold = max(array_fold, sram_pace(c, o, hw[Hw.SRAM_READ_BW], hw[Hw.SRAM_WRITE_BW]))
    cores = int(hw[Hw.CORES])
    read_bw, write_bw = hw[Hw.DRAM_READ_BW], hw[Hw.DRAM_WRITE_BW]
    if cores == 1:
        total = runs_cycles_in(c, load_cls, write_cls, per_fold, read_bw, write_bw, work)
    else:
        total, critical = _cores(c, load_cls, write_cls, per_fold, cores, read_bw, write_bw)
        o[Out.COMPUTE_CYCLES] = critical * array_fold
    o[Out.TOTAL_CYCLES] = total + int(hw[Hw.SRAM_LATENCY_CYCLES])


@kernel
def vector_layer(v: np.ndarray, hw: np.ndarray, o: np.ndarray) -> None:
    """A layer without MACs (``Vector``) on ``hw``: read its inputs, ``cols`` operations per cycle, write
    its outputs; ``o`` gets its ``Out`` counts."""
    word = int(hw[Hw.WORD_BYTES])
    compute = math.ceil(v[Vector.OPS] / int(hw[Hw.COLS]))
    load = math.ceil(v[Vector.INPUT_ELEMS] * max(v[Vector.IN_ELEM_BYTES], word) / hw[Hw.DRAM_READ_BW])
    store = math.ceil(v[Vector.OUTPUT_ELEMS] * max(v[Vector.OUT_ELEM_BYTES], word) / hw[Hw.DRAM_WRITE_BW])
    o[:] = 0.0
    o[Out.COMPUTE_CYCLES] = compute
    o[Out.TOTAL_CYCLES] = max(compute, load + store) + 2 * int(hw[Hw.DRAM_LATENCY_CYCLES])
    o[Out.SRAM_READS_IFMAP] = o[Out.DRAM_READS_IFMAP] = v[Vector.INPUT_ELEMS]
    o[Out.SRAM_WRITES_OFMAP] = o[Out.DRAM_WRITES_OFMAP] = v[Vector.OUTPUT_ELEMS]


@kernel
def case_fold_counts(mac_cases: np.ndarray, hw: np.ndarray, folds: np.ndarray) -> None:
    """``folds[j]``: the folds of the lowered case ``mac_cases[j]`` on the design ``hw``."""
    c = np.empty(N_CASE, dtype=np.int64)
    for j in range(mac_cases.shape[0]):
        fill_case(mac_cases[j], hw, c)
        folds[j] = case_folds(c)


@kernel
def fold_schedules(mac_cases: np.ndarray, hw: np.ndarray, start: np.ndarray, load: np.ndarray, write: np.ndarray,
                   counts: np.ndarray, cycles: np.ndarray) -> None:
    """The fold sequence of every lowered case on the design ``hw`` (what the event fidelity runs): DRAM
    bytes before / after each fold of case j in ``load`` / ``write`` from ``start[j]`` (``case_fold_counts``),
    its ``Out`` counts (no time) in ``counts[j]``, its cycles per fold (paced by the SRAM tier) and the
    array's own in ``cycles[j]``."""
    c = np.empty(N_CASE, dtype=np.int64)
    for j in range(mac_cases.shape[0]):
        fill_case(mac_cases[j], hw, c)
        counts[j, :] = 0.0
        fold_traffic(c, load[start[j]: start[j + 1]], write[start[j]: start[j + 1]], counts[j])
        array_fold = fold_cycles(c[Case.ROWS], c[Case.COLS], c[Case.T])
        cycles[j, 0] = max(array_fold, sram_pace(c, counts[j], hw[Hw.SRAM_READ_BW], hw[Hw.SRAM_WRITE_BW]))
        cycles[j, 1] = array_fold


@kernel
def layer_energies(counts: np.ndarray, cases: np.ndarray, vectors: np.ndarray, lowered: np.ndarray, hw: np.ndarray,
                   energy: np.ndarray) -> None:
    """``layer_energy`` of every row of ``counts`` (``Out``) on the design ``hw``, row i the lowered layer
    ``lowered[i]`` (a row of ``cases``, then of ``vectors``)."""
    m = cases.shape[0]
    word = int(hw[Hw.WORD_BYTES])
    c = np.empty(N_CASE, dtype=np.int64)
    for i in range(counts.shape[0]):
        j = lowered[i]
        if j < m:
            fill_case(cases[j], hw, c)
            layer_energy(counts[i], c[Case.IN_ELEM_BYTES], weight_bytes(c), c[Case.OUT_ELEM_BYTES], c[Case.MACS], hw,
                         energy[i])
        else:
            v = vectors[j - m]
            layer_energy(counts[i], max(v[Vector.IN_ELEM_BYTES], word), float(word),
                         max(v[Vector.OUT_ELEM_BYTES], word), 0, hw, energy[i])


@kernel
def layer_energy(r: np.ndarray, eb_in: int, eb_w: float, eb_out: int, macs: int, hw: np.ndarray,
                 o: np.ndarray) -> None:
    """Bytes and energy (``Bytes``) of the counts ``r`` (``Out``) with ``eb_*`` bytes per ifmap, filter
    and ofmap element (widened; a filter element with its N:M metadata) and ``macs`` MACs on ``hw``.

    SRAM energy is the array-side traffic plus filling from DRAM (SRAM writes) and draining to DRAM
    (SRAM reads)."""
    sram_read = r[Out.SRAM_READS_IFMAP] * eb_in + r[Out.SRAM_READS_FILTER] * eb_w + r[Out.SRAM_READS_OFMAP] * eb_out
    sram_write = r[Out.SRAM_WRITES_OFMAP] * eb_out
    dram_read = r[Out.DRAM_READS_IFMAP] * eb_in + r[Out.DRAM_READS_FILTER] * eb_w + r[Out.DRAM_READS_OFMAP] * eb_out
    dram_write = r[Out.DRAM_WRITES_OFMAP] * eb_out
    o[Bytes.SRAM_BYTES] = sram_read + sram_write
    o[Bytes.DRAM_BYTES] = dram_read + dram_write
    o[Bytes.ENERGY_MAC_PJ] = macs * hw[Hw.MAC_PJ]
    o[Bytes.ENERGY_SRAM_PJ] = (sram_read + dram_write) * hw[Hw.SRAM_READ_PJ] \
        + (sram_write + dram_read) * hw[Hw.SRAM_WRITE_PJ]
    o[Bytes.ENERGY_DRAM_PJ] = dram_read * hw[Hw.DRAM_READ_PJ] + dram_write * hw[Hw.DRAM_WRITE_PJ]


@kernel
def evaluate_layer(mac_cases: np.ndarray, vectors: np.ndarray, j: int, h: np.ndarray, c: np.ndarray,
                   load_cls: np.ndarray, write_cls: np.ndarray, work: np.ndarray, counts: np.ndarray,
                   energy: np.ndarray) -> None:
    """The lowered layer j (a row of ``mac_cases``, ``Case``, then of ``vectors``, ``Vector``) on the design
    ``h`` (``Hw``): its ``Out`` counts into ``counts`` and its ``Bytes`` into ``energy``; ``c``, ``load_cls``,
    ``write_cls``, ``work``: scratch (``mac_layer``'s)."""
    m = mac_cases.shape[0]
    if j < m:
        fill_case(mac_cases[j], h, c)
        mac_layer(c, h, counts, load_cls, write_cls, work)
        layer_energy(counts, c[Case.IN_ELEM_BYTES], weight_bytes(c), c[Case.OUT_ELEM_BYTES], c[Case.MACS], h,
                     energy)
        return
    v = vectors[j - m]
    word = int(h[Hw.WORD_BYTES])
    vector_layer(v, h, counts)
    layer_energy(counts, max(v[Vector.IN_ELEM_BYTES], word), float(word), max(v[Vector.OUT_ELEM_BYTES], word), 0, h,
                 energy)


@kernel
def evaluate_network(mac_cases: np.ndarray, vectors: np.ndarray, hw: np.ndarray, counts: np.ndarray,
                     energy: np.ndarray) -> None:
    """Every layer on every design: ``counts[p, j]`` (``Out``) and ``energy[p, j]`` (``Bytes``) of the
    lowered layer j (``evaluate_layer``) on the design ``hw[p]`` (``Hw``)."""
    c = np.empty(N_CASE, dtype=np.int64)
    load_cls = np.zeros((3, 3))
    write_cls = np.zeros((3, 3))
    work = np.empty(RUNS_WORK, dtype=np.int64)
    for p in range(hw.shape[0]):
        for j in range(mac_cases.shape[0] + vectors.shape[0]):
            evaluate_layer(mac_cases, vectors, j, hw[p], c, load_cls, write_cls, work, counts[p, j], energy[p, j])


@kernel
def network_sums(mac_cases: np.ndarray, vectors: np.ndarray, h: np.ndarray, repeats: np.ndarray
                 ) -> tuple[int, float]:
    """(total cycles, energy pJ) of a network on one design ``h`` (``Hw``): lowered layer j counted
    ``repeats[j]`` times (``evaluate_layer``; the per-step evaluator of the design environment)."""
    return _sums(mac_cases, vectors, h, repeats, np.empty(N_CASE, dtype=np.int64), np.zeros((3, 3)),
                 np.zeros((3, 3)), np.empty(RUNS_WORK, dtype=np.int64), np.empty(N_OUT), np.empty(N_BYTES))


@kernel
def network_sums_many(mac_cases: np.ndarray, mac_start: np.ndarray, vectors: np.ndarray, vector_start: np.ndarray,
                      repeats: np.ndarray, table: np.ndarray, hw: np.ndarray, cycles: np.ndarray,
                      energy_pj: np.ndarray) -> None:
    """``network_sums`` of every design ``hw[p]`` on its network ``table[p]`` into ``cycles[p]``, ``energy_pj[p]``
    (the batched vector env's step: designs on several workloads and dataflows in one call), with one set of
    scratch for them all. Network t is the lowered layers ``mac_cases[mac_start[t]:mac_start[t + 1]]`` then
    ``vectors[vector_start[t]:vector_start[t + 1]]``, their ``repeats`` in that order from
    ``mac_start[t] + vector_start[t]``."""
    c = np.empty(N_CASE, dtype=np.int64)
    load_cls = np.zeros((3, 3))
    write_cls = np.zeros((3, 3))
    work = np.empty(RUNS_WORK, dtype=np.int64)
    counts = np.empty(N_OUT)
    energy = np.empty(N_BYTES)
    for p in range(hw.shape[0]):
        t = table[p]
        m0, m1, v0, v1 = mac_start[t], mac_start[t + 1], vector_start[t], vector_start[t + 1]
        cycles[p], energy_pj[p] = _sums(mac_cases[m0:m1], vectors[v0:v1], hw[p], repeats[m0 + v0:m1 + v1], c,
                                        load_cls, write_cls, work, counts, energy)


@kernel
def _sums(mac_cases: np.ndarray, vectors: np.ndarray, h: np.ndarray, repeats: np.ndarray, c: np.ndarray,
          load_cls: np.ndarray, write_cls: np.ndarray, work: np.ndarray, counts: np.ndarray, energy: np.ndarray
          ) -> tuple[int, float]:
    """``network_sums`` with its scratch (``evaluate_layer``'s)."""
    cycles = 0
    energy_pj = 0.0
    for j in range(mac_cases.shape[0] + vectors.shape[0]):
        evaluate_layer(mac_cases, vectors, j, h, c, load_cls, write_cls, work, counts, energy)
        cycles += int(counts[Out.TOTAL_CYCLES]) * repeats[j]
        energy_pj += (energy[Bytes.ENERGY_MAC_PJ] + energy[Bytes.ENERGY_SRAM_PJ] + energy[Bytes.ENERGY_DRAM_PJ]) \
            * repeats[j]
    return cycles, energy_pj


__all__ = ["N_BYTES", "N_CASE", "N_VECTOR", "Bytes", "Vector", "case_fold_counts", "chunk_start", "evaluate_layer",
           "evaluate_network", "fill_case", "fold_schedules", "layer_energies", "layer_energy", "mac_layer",
           "network_sums", "network_sums_many", "sram_pace", "vector_layer", "weight_bytes"]
