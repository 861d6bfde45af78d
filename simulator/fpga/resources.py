"""Memory and multiplier primitives of the FPGA resource model (fpgaConvNet-model 0.1.4.2's).

DSP: one multiplier of a ``w``-bit weight by a ``d``-bit datum takes ``ceil((w + d) / 48)`` DSP
slices (fpgaConvNet's ``dsp_multiplier_resource_model``: 1 for 16 x 16 and 8 x 8, 2 for 32 x 32).

BRAM18, two mappings as in fpgaConvNet (its table uses 1000 / 2000 / ... words, not 1024 / 2048):

* a *memory* (weights, biases, accumulator buffers) of ``depth`` words of ``width`` bits uses
  the narrowest aspect ratio at least ``width`` wide: ``ceil(depth / words_at(width))`` blocks;
* a *stream* buffer (line and window buffers) uses the shallowest aspect ratio at least
  ``depth`` deep (strictly deeper unless equal): ``ceil(width / width_at(depth))`` blocks.

fpgaConvNet asserts ``width <= 36``; wider words here take ``ceil(width / 36)`` such columns.
fpgaConvNet caps a stream's depth at 16,000 words; deeper buffers here take one such column per
16,000 words (fpgaConvNet would under-count them).

UltraRAM (our extension, fpgaConvNet has no URAM model): 4096 x 72-bit blocks, narrow words
packed ``72 // width`` to a row.  LUT-built multipliers (our extension): about ``w * d`` LUTs and
``w + d`` FFs per multiplier.
"""

from __future__ import annotations

import bisect
import math

BRAM18_WORDS_BY_WIDTH: dict[int, int] = {1: 16000, 2: 8000, 4: 4000, 9: 2000, 18: 1000, 36: 512}
"""fpgaConvNet's 18 Kb block RAM aspect ratios: width in bits -> depth in words."""
BRAM18_WIDTH_BY_WORDS: dict[int, int] = {d: w for w, d in BRAM18_WORDS_BY_WIDTH.items()}
_WIDTHS = sorted(BRAM18_WORDS_BY_WIDTH)
_DEPTHS = sorted(BRAM18_WIDTH_BY_WORDS)
MAX_BRAM_WIDTH_BITS = 36

LUT_MULT_LUT_PER_BIT2 = 1.0
"""A w x d multiplier built from LUTs costs about w*d LUTs (partial products + adder tree)."""
LUT_MULT_FF_PER_BIT = 1
"""... and about w + d pipeline FFs."""

URAM_SHAPE: tuple[int, int] = (4096, 72)
"""(depth words, width bits) of one 288 Kb UltraRAM."""


def dsp_per_mac(weight_bits: int, data_bits: int) -> int:
    """DSP slices for one multiplier of ``weight_bits`` x ``data_bits`` operands (fpgaConvNet)."""
    return math.ceil((weight_bits + data_bits) / 48)


def bram18_memory(depth_words: int, width_bits: int) -> int:
    """18 Kb blocks of a random-access memory of ``depth_words`` x ``width_bits`` (0 if empty)."""
    if depth_words <= 0 or width_bits <= 0:
        return 0
    columns = math.ceil(width_bits / MAX_BRAM_WIDTH_BITS)
    width = math.ceil(width_bits / columns)
    bram_width = width if width in BRAM18_WORDS_BY_WIDTH else _WIDTHS[bisect.bisect_right(_WIDTHS, width)]
    return columns * math.ceil(depth_words / BRAM18_WORDS_BY_WIDTH[bram_width])


def bram18_stream(depth_words: int, width_bits: int) -> int:
    """18 Kb blocks of a FIFO / line buffer of ``depth_words`` x ``width_bits`` (0 if empty)."""
    if depth_words <= 0 or width_bits <= 0:
        return 0
    deepest = _DEPTHS[-1]
    stacks = math.ceil(depth_words / deepest)
    depth = math.ceil(depth_words / stacks)
    bram_depth = depth if depth in BRAM18_WIDTH_BY_WORDS else _DEPTHS[min(bisect.bisect_right(_DEPTHS, depth),
                                                                          len(_DEPTHS) - 1)]
    return stacks * math.ceil(width_bits / BRAM18_WIDTH_BY_WORDS[bram_depth])


def bram18_for(depth_words: int, width_bits: int) -> int:
    """Blocks of a memory of ``depth_words`` x ``width_bits`` (alias of ``bram18_memory``)."""
    return bram18_memory(depth_words, width_bits)


def uram_for(depth_words: int, width_bits: int) -> int:
    """UltraRAMs for a memory of ``depth_words`` words of ``width_bits`` bits (0 if empty).

    Narrow words are packed ``72 // width_bits`` to a 72-bit row (one row read serves several cycles).
    """
    if depth_words <= 0 or width_bits <= 0:
        return 0
    per_row = max(1, URAM_SHAPE[1] // width_bits)
    return math.ceil(width_bits / URAM_SHAPE[1]) * math.ceil(depth_words / (URAM_SHAPE[0] * per_row))


LUTRAM_MAX_BITS = 1024
"""Inter-stage FIFOs of at most this many bits are built from LUT-RAM / SRL instead of BRAM."""


def fifo_cost(depth_words: int, width_bits: int) -> tuple[int, int]:
    """(bram18, lut) of one inter-stage FIFO lane: LUT-RAM (one LUT per 64 bits) when small, else BRAM.

    fpgaConvNet-model 0.1.4.2 leaves these FIFOs out (its layers' ``buffer_depth`` is 0); HLS
    builds its depth-2 streams from shift registers, so a shallow FIFO costs a few LUTs here.
    """
    bits = depth_words * width_bits
    if bits <= LUTRAM_MAX_BITS:
        return 0, math.ceil(bits / 64)
    return bram18_stream(depth_words, width_bits), 0
