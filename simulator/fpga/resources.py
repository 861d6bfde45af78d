"""Resource formulas of the FPGA stage model (DSP, BRAM18, LUT, FF).

DSP: one MAC lane of w-bit weights times d-bit data uses ``ceil(w/18) * ceil(d/27)`` DSP
slices (the DSP48's 18x27 multiplier; 1 for 16x16), as in fpgaConvNet/SAMO.

BRAM18: a memory of ``depth`` words of ``width`` bits is mapped onto 18 Kb blocks in the
cheapest of their aspect ratios (16K x 1, 8K x 2, 4K x 4, 2K x 9, 1K x 18, 512 x 36).

LUT / FF: documented linear models (our own, not fitted to synthesis) -- see the constants
below.  They are order-of-magnitude estimates used as constraints, not sign-off numbers.
"""

from __future__ import annotations

import math

BRAM18_SHAPES: tuple[tuple[int, int], ...] = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
"""(depth words, width bits) configurations of one 18 Kb block RAM."""

LUTRAM_MAX_BITS = 1024
"""FIFOs of at most this many bits are built from LUT-RAM / SRL instead of BRAM."""

# ---- linear LUT/FF model (per stage) ------------------------------------------------------------
STAGE_BASE_LUT = 200
"""Control, counters and stream handshakes of any stage."""
STAGE_BASE_FF = 300
MAC_LANE_LUT_PER_BIT = 1
"""Per MAC lane: accumulator adder and multiplexers, LUTs per accumulator bit."""
MAC_LANE_FF_PER_BIT = 2
"""Per MAC lane: accumulator and pipeline registers, FFs per accumulator bit."""
LUT_MULT_LUT_PER_BIT2 = 1.0
"""A w x d multiplier built from LUTs costs about w*d LUTs (partial products + adder tree)."""
LUT_MULT_FF_PER_BIT = 1
"""... and about w + d pipeline FFs."""
STREAM_LANE_LUT_PER_BIT = 2
"""Pooling / elementwise lane: comparator or adder plus muxes, LUTs per data bit."""
STREAM_LANE_FF_PER_BIT = 2
WINDOW_FF_PER_BIT = 1
"""Sliding-window registers: one FF per bit of each window element."""
LUTRAM_LUT_PER_64_BITS = 1
"""A LUT-RAM FIFO costs one LUT per 64 bits (SRL64 / LUTRAM64)."""


def dsp_per_mac(weight_bits: int, data_bits: int) -> int:
    """DSP slices for one MAC lane of ``weight_bits`` x ``data_bits`` operands."""
    return math.ceil(weight_bits / 18) * math.ceil(data_bits / 27)


def bram18_for(depth_words: int, width_bits: int) -> int:
    """18 Kb block RAMs for a memory of ``depth_words`` words of ``width_bits`` bits (0 if empty)."""
    if depth_words <= 0 or width_bits <= 0:
        return 0
    return min(math.ceil(width_bits / w) * math.ceil(depth_words / d) for d, w in BRAM18_SHAPES)


URAM_SHAPE: tuple[int, int] = (4096, 72)
"""(depth words, width bits) of one 288 Kb UltraRAM."""


def uram_for(depth_words: int, width_bits: int) -> int:
    """UltraRAMs for a memory of ``depth_words`` words of ``width_bits`` bits (0 if empty).

    Narrow words are packed ``72 // width_bits`` to a 72-bit row (one row read serves several cycles).
    """
    if depth_words <= 0 or width_bits <= 0:
        return 0
    per_row = max(1, URAM_SHAPE[1] // width_bits)
    return math.ceil(width_bits / URAM_SHAPE[1]) * math.ceil(depth_words / (URAM_SHAPE[0] * per_row))


def fifo_cost(depth_words: int, width_bits: int) -> tuple[int, int]:
    """(bram18, lut) of one FIFO: LUT-RAM when small (<= LUTRAM_MAX_BITS bits), else BRAM."""
    bits = depth_words * width_bits
    if bits <= LUTRAM_MAX_BITS:
        return 0, math.ceil(bits / 64) * LUTRAM_LUT_PER_64_BITS
    return bram18_for(depth_words, width_bits), 0


def accumulator_bits(weight_bits: int, data_bits: int, terms: int) -> int:
    """Bits of an accumulator summing ``terms`` products without overflow."""
    return weight_bits + data_bits + max(1, math.ceil(math.log2(max(2, terms))))
