"""Sliding-window attention on an FPGA (SWAT-style) versus dense attention, on one row pipeline.

Both designs use the same row-wise dataflow (input-stationary, fused QK^T -> softmax -> .V) and the
same pipelining: per query row a QK^T engine computes ``keys`` dot products (``keys * head_dim``
MACs), a softmax unit exponentiates and normalises ``keys`` scores, an SV engine accumulates
``keys`` weighted V rows; the three engines are pipelined across rows, so one row leaves every
``max(t_qk, t_softmax, t_sv)`` cycles.  ``keys`` is the window ``W`` for SWAT and the whole
sequence ``N`` for dense attention -- at ``N = W`` the two designs are the same design and take
the same time, resources and energy.

* SWAT keeps the ``W`` K and V rows of the current window on chip (each new query row shifts one
  K/V row in and one out); every Q, K, V row is read from off-chip once and every O row written once.
* Dense keeps all ``N`` K and V rows on chip while they fit the BRAM; otherwise it splits K and V
  into ``chunks`` that fit, and every chunk sweeps all query rows (online softmax): Q is read and
  the partial O rows written and read back once per chunk, ``3 * chunks * N * d`` words per head.

latency = max(compute, off-chip transfer) with compute = heads * rows * interval + one row's
fill + loading the first ``keys`` K/V rows.

Resources: DSPs split evenly between the QK^T and SV engines (``dsp_per_mac``); ``softmax_lanes``
LUT-built exponent units (``SOFTMAX_LUT_PER_LANE`` LUTs and ``SOFTMAX_FF_PER_LANE`` FFs each);
BRAM18 for the K/V buffers, one Q row and one row of 32-bit scores.

Energy (our documented defaults, order-of-magnitude figures for a 16 nm FPGA, not measured):
``ENERGY_PJ_PER_MAC`` per 16-bit DSP MAC, ``ENERGY_PJ_PER_EXP`` per softmax exponent,
``ENERGY_PJ_PER_BRAM_BIT`` per on-chip buffer bit read, ``ENERGY_PJ_PER_DRAM_BIT`` per off-chip bit,
plus ``STATIC_W`` watts of static power over the latency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from acceldse.simulator.fpga.resources import bram18_for, dsp_per_mac
from acceldse.simulator.specs.platform import Platform, load_platform
from acceldse.workloads.errors import SpecError, require_int

SOFTMAX_LUT_PER_LANE = 600
"""LUTs of one exponent + divide lane (piecewise-linear exp, reciprocal multiply), our estimate."""
SOFTMAX_FF_PER_LANE = 800
ENERGY_PJ_PER_MAC = 1.0
ENERGY_PJ_PER_EXP = 5.0
ENERGY_PJ_PER_BRAM_BIT = 0.05
ENERGY_PJ_PER_DRAM_BIT = 20.0
STATIC_W = 2.0


@dataclass(frozen=True)
class AttentionReport:
    """Latency, resources and energy of one attention design.

    Attributes:
        design: ``swat`` or ``dense``.
        seq_len, window, head_dim, heads: problem size (window = keys per query row; seq_len for dense).
        compute_cycles: cycles of the compute pipeline.
        memory_cycles: cycles to move the off-chip traffic at the platform bandwidth.
        latency_cycles: max(compute, memory).
        latency_ms: latency in milliseconds at the platform clock.
        macs: multiply-accumulates.
        offchip_bytes: bytes moved to/from off-chip memory.
        dsp, bram18, lut, ff: resources used.
        energy_uj: energy in microjoules (see the module docstring).
    """

    design: str
    seq_len: int
    window: int
    head_dim: int
    heads: int
    compute_cycles: int
    memory_cycles: int
    latency_cycles: int
    latency_ms: float
    macs: int
    offchip_bytes: int
    dsp: int
    bram18: int
    lut: int = 0
    ff: int = 0
    energy_uj: float = 0.0


MAX_SEQ_LEN = 1 << 24
"""Longest sequence ``swat_attention`` and ``dense_attention`` accept."""
MAX_HEAD_DIM = MAX_HEADS = 4096
"""Widest head and most heads they accept."""

def _lanes(platform: Platform, bits: int) -> int:
    per_engine = platform.dsp // (2 * dsp_per_mac(bits, bits))
    if per_engine < 1:
        raise SpecError("platform has too few DSPs for two MAC engines", source=platform.source or platform.name,
                        key="dsp", value=platform.dsp, accepted=f">= {2 * dsp_per_mac(bits, bits)}")
    return per_engine


def row_pipeline(design: str, seq_len: int, keys: int, plat: Platform, *, head_dim: int, heads: int, bits: int,
                 softmax_lanes: int) -> AttentionReport:
    """The fused row pipeline with ``keys`` keys per query row (see the module docstring)."""
    n, d, h = seq_len, head_dim, heads
    lanes = _lanes(plat, bits)
    t_qk = math.ceil(keys * d / lanes)
    t_sm = math.ceil(keys / softmax_lanes)
    t_sv = math.ceil(keys * d / lanes)
    compute = h * n * max(t_qk, t_sm, t_sv) + t_qk + t_sm + t_sv + keys
    kv_bram = 2 * bram18_for(keys * d, bits)
    row_bram = bram18_for(d, bits) + bram18_for(keys, 32)
    kv_on_chip = kv_bram + row_bram <= plat.bram18
    traffic_bits = h * 4 * n * d * bits  # Q, K, V in once; O out once
    if not kv_on_chip:
        if design == "swat" or plat.bram18 <= row_bram:
            raise SpecError("window buffers do not fit in BRAM", source=plat.source or plat.name, key="window",
                            value=keys, accepted=f"a window whose K/V buffers fit {plat.bram18} BRAM18")
        chunks = math.ceil(kv_bram / (plat.bram18 - row_bram))
        traffic_bits += h * 3 * (chunks - 1) * n * d * bits  # Q again, partial O out and back, per extra chunk
    memory = math.ceil(traffic_bits / plat.bandwidth_bits_per_cycle)
    latency = max(compute, memory)
    macs = 2 * h * n * keys * d
    bram = min(kv_bram, plat.bram18 - row_bram) + row_bram
    seconds = latency / plat.clock_hz
    energy_pj = (macs * ENERGY_PJ_PER_MAC + h * n * keys * ENERGY_PJ_PER_EXP
                 + 2 * macs * bits * ENERGY_PJ_PER_BRAM_BIT + traffic_bits * ENERGY_PJ_PER_DRAM_BIT
                 + STATIC_W * seconds * 1e12)
    return AttentionReport(design, n, keys, d, h, compute, memory, latency, seconds * 1e3, macs, traffic_bits // 8,
                           2 * lanes * dsp_per_mac(bits, bits), bram, softmax_lanes * SOFTMAX_LUT_PER_LANE,
                           softmax_lanes * SOFTMAX_FF_PER_LANE, energy_pj * 1e-6)


def swat_attention(seq_len: int, window: int, platform: str | Platform, *, head_dim: int = 64, heads: int = 1,
                   bits: int = 16, softmax_lanes: int = 16) -> AttentionReport:
    """The SWAT design for ``heads`` heads of ``seq_len`` rows, ``window`` keys per row.

    A window of ``seq_len`` keys or more covers the whole sequence: every row attends to all ``seq_len``
    keys, which is dense attention, so the design's window is ``min(window, seq_len)`` (its ``window``)."""
    n = require_int(seq_len, key="seq_len", maximum=MAX_SEQ_LEN)
    w = require_int(window, key="window", maximum=MAX_SEQ_LEN)
    return row_pipeline("swat", n, min(w, n), load_platform(platform),
                        head_dim=require_int(head_dim, key="head_dim", maximum=MAX_HEAD_DIM),
                        heads=require_int(heads, key="heads", maximum=MAX_HEADS), bits=bits,
                        softmax_lanes=softmax_lanes)


def dense_attention(seq_len: int, platform: str | Platform, *, head_dim: int = 64, heads: int = 1,
                    bits: int = 16, softmax_lanes: int = 16) -> AttentionReport:
    """The dense design (every query row against all ``seq_len`` keys) on the same row pipeline."""
    n = require_int(seq_len, key="seq_len", maximum=MAX_SEQ_LEN)
    return row_pipeline("dense", n, n, load_platform(platform),
                        head_dim=require_int(head_dim, key="head_dim", maximum=MAX_HEAD_DIM),
                        heads=require_int(heads, key="heads", maximum=MAX_HEADS), bits=bits,
                        softmax_lanes=softmax_lanes)


def compare_attention(platform: str | Platform, *, seq_lens: tuple[int, ...] = (1024, 2048, 4096, 8192, 16384),
                      window: int = 512, head_dim: int = 64, heads: int = 1, bits: int = 16) -> pd.DataFrame:
    """One row per sequence length: SWAT and dense latency (ms), speed-up, energy, MACs, traffic, resources."""
    rows = []
    for n in seq_lens:
        s = swat_attention(n, window, platform, head_dim=head_dim, heads=heads, bits=bits)
        d = dense_attention(n, platform, head_dim=head_dim, heads=heads, bits=bits)
        rows.append({"seq_len": n, "window": s.window, "swat_latency_ms": s.latency_ms,
                     "dense_latency_ms": d.latency_ms, "speedup": d.latency_cycles / s.latency_cycles,
                     "swat_energy_uj": s.energy_uj, "dense_energy_uj": d.energy_uj,
                     "energy_ratio": d.energy_uj / s.energy_uj,
                     "swat_macs": s.macs, "dense_macs": d.macs, "swat_offchip_bytes": s.offchip_bytes,
                     "dense_offchip_bytes": d.offchip_bytes, "dsp": s.dsp, "swat_bram18": s.bram18,
                     "dense_bram18": d.bram18, "lut": s.lut, "ff": s.ff})
    return pd.DataFrame(rows)
