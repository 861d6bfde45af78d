"""Sliding-window attention on an FPGA (SWAT-style) versus a dense-attention design.

SWAT design (row-wise dataflow, input-stationary, fused QK^T -> softmax -> .V):

* the K and V rows of the current window (``window`` rows of ``head_dim`` words each) stay on chip
  in BRAM; each new query row shifts one K/V row in and one out (every K, V, Q row is read from
  off-chip exactly once);
* per query row, a QK^T engine computes ``window`` dot products (``window * head_dim`` MACs), a
  softmax unit exponentiates and normalises ``window`` scores, an SV engine accumulates ``window``
  weighted V rows (``window * head_dim`` MACs); the three are pipelined across rows, so one row
  leaves every ``max(t_qk, t_softmax, t_sv)`` cycles;
* latency = rows * that interval + one row's fill, or the off-chip transfer time if larger --
  linear in the sequence length for a fixed window.

Dense baseline on the same DSPs: QK^T over all ``N x N`` pairs, softmax over rows of ``N`` scores,
then .V; the ``N x N`` score matrix stays on chip while it fits in the BRAM left over, otherwise it
is written to and read back from off-chip memory -- compute and traffic grow as ``N^2``.

DSPs are split evenly between the QK^T and SV engines (``dsp_per_mac`` of the operand widths);
softmax uses ``softmax_lanes`` LUT-built exponent units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from simulator.fpga.resources import bram18_for, dsp_per_mac
from simulator.specs.platform import Platform, load_platform
from workloads.errors import SpecError, require_int


@dataclass(frozen=True)
class AttentionReport:
    """Latency and resources of one attention design.

    Attributes:
        design: ``swat`` or ``dense``.
        seq_len, window, head_dim, heads: problem size (window = seq_len for dense).
        compute_cycles: cycles of the compute pipeline.
        memory_cycles: cycles to move the off-chip traffic at the platform bandwidth.
        latency_cycles: max(compute, memory) plus pipeline fill.
        latency_ms: latency in milliseconds at the platform clock.
        macs: multiply-accumulates.
        offchip_bytes: bytes moved to/from off-chip memory.
        dsp, bram18: resources used.
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


def _lanes(platform: Platform, bits: int) -> int:
    per_engine = platform.dsp // (2 * dsp_per_mac(bits, bits))
    if per_engine < 1:
        raise SpecError("platform has too few DSPs for two MAC engines", source=platform.source or platform.name,
                        key="dsp", value=platform.dsp, accepted=f">= {2 * dsp_per_mac(bits, bits)}")
    return per_engine


def swat_attention(seq_len: int, window: int, platform: str | Platform, *, head_dim: int = 64, heads: int = 1,
                   bits: int = 16, softmax_lanes: int = 16) -> AttentionReport:
    """Latency of the SWAT streaming design for ``heads`` heads of ``seq_len`` rows."""
    plat = load_platform(platform)
    n = require_int(seq_len, key="seq_len")
    w = require_int(window, key="window")
    d = require_int(head_dim, key="head_dim")
    h = require_int(heads, key="heads")
    w = min(w, n)
    lanes = _lanes(plat, bits)
    t_qk = math.ceil(w * d / lanes)
    t_sm = math.ceil(w / softmax_lanes)
    t_sv = math.ceil(w * d / lanes)
    interval = max(t_qk, t_sm, t_sv)
    compute = h * n * interval + t_qk + t_sm + t_sv + w  # + loading the first window
    bram = 2 * bram18_for(w * d, bits) + bram18_for(d, bits) + bram18_for(w, 32)
    if bram > plat.bram18:
        raise SpecError("window buffers do not fit in BRAM", source=plat.source or plat.name, key="window",
                        value=window, accepted=f"a window whose K/V buffers fit {plat.bram18} BRAM18")
    traffic_bits = h * 4 * n * d * bits  # Q, K, V in once; O out once
    memory = math.ceil(traffic_bits / plat.bandwidth_bits_per_cycle)
    latency = max(compute, memory)
    return AttentionReport("swat", n, w, d, h, compute, memory, latency, latency / plat.clock_hz * 1e3,
                           2 * h * n * w * d, traffic_bits // 8, 2 * lanes * dsp_per_mac(bits, bits), bram)


def dense_attention(seq_len: int, platform: str | Platform, *, head_dim: int = 64, heads: int = 1,
                    bits: int = 16, softmax_lanes: int = 16) -> AttentionReport:
    """Latency of a dense-attention design (full N x N scores) on the same platform."""
    plat = load_platform(platform)
    n = require_int(seq_len, key="seq_len")
    d = require_int(head_dim, key="head_dim")
    h = require_int(heads, key="heads")
    lanes = _lanes(plat, bits)
    t_qk = math.ceil(n * d / lanes)
    t_sm = math.ceil(n / softmax_lanes)
    t_sv = math.ceil(n * d / lanes)
    # scores of the whole head must exist before softmax normalisation and .V: no row fusion across phases
    compute = h * n * (t_qk + t_sm + t_sv)
    io_bram = 2 * bram18_for(n * d, bits) if bram18_for(n * d, bits) * 2 < plat.bram18 // 2 else 0
    score_bram = bram18_for(n * n, bits)
    spill = score_bram > plat.bram18 - io_bram
    traffic_bits = h * 4 * n * d * bits + (h * 2 * n * n * bits if spill else 0)
    if io_bram == 0:  # K, V re-read once per query row block when they do not fit
        traffic_bits += h * 2 * n * d * bits * max(1, math.ceil(n * d * bits / (plat.bram18 * 18 * 1024)))
    memory = math.ceil(traffic_bits / plat.bandwidth_bits_per_cycle)
    latency = max(compute, memory)
    bram = min(plat.bram18, io_bram + (0 if spill else score_bram))
    return AttentionReport("dense", n, n, d, h, compute, memory, latency, latency / plat.clock_hz * 1e3,
                           2 * h * n * n * d, traffic_bits // 8, 2 * lanes * dsp_per_mac(bits, bits), bram)


def compare_attention(platform: str | Platform, *, seq_lens: tuple[int, ...] = (1024, 2048, 4096, 8192, 16384),
                      window: int = 512, head_dim: int = 64, heads: int = 1, bits: int = 16) -> pd.DataFrame:
    """One row per sequence length: SWAT and dense latency (ms), speed-up, MACs and traffic."""
    rows = []
    for n in seq_lens:
        s = swat_attention(n, window, platform, head_dim=head_dim, heads=heads, bits=bits)
        d = dense_attention(n, platform, head_dim=head_dim, heads=heads, bits=bits)
        rows.append({"seq_len": n, "window": s.window, "swat_latency_ms": s.latency_ms,
                     "dense_latency_ms": d.latency_ms, "speedup": d.latency_cycles / s.latency_cycles,
                     "swat_macs": s.macs, "dense_macs": d.macs, "swat_offchip_bytes": s.offchip_bytes,
                     "dense_offchip_bytes": d.offchip_bytes, "dsp": s.dsp, "swat_bram18": s.bram18,
                     "dense_bram18": d.bram18})
    return pd.DataFrame(rows)
