"""Per-module resource models of a fpgaConvNet layer (LUT, FF, BRAM18, DSP).

A fpgaConvNet layer is built from hardware modules, each replicated per stream lane:

* convolution: sliding window and fork per ``coarse_in`` lane, conv (multipliers) and accumulate
  per ``coarse_in x coarse_out`` lane, one glue (adder tree over the ``coarse_in`` lanes), bias per
  ``coarse_out`` lane, and the weights memory split into ``coarse_in x coarse_out x fine`` banks;
* inner product: the same without the sliding window;
* pooling: sliding window and pool per lane; ReLU: one comparator per lane;
* squeeze: re-groups ``coarse_in`` lanes into ``coarse_out`` lanes between mismatched layers.

LUT and FF of every module are linear in a few of its parameters, with coefficients that
fpgaConvNet-model (0.1.4.2, ``fpgaconvnet/coefficients/*.npy``) fitted to Vivado HLS synthesis;
the figures below are those published coefficients, kept at full precision so that totals equal
the peer's to the unit.  BRAM of
the line, window, accumulator and weight buffers follows ``simulator.fpga.resources``; DSP is
``fine x dsp_per_mac`` per conv module.  A linear estimate is truncated to an integer per module
instance, as the peer does.  ``math.log(x, 2)`` (not ``log2``) is used where the peer uses it,
so that rounding at powers of two matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from acceldse.simulator.fpga.resources import bram18_memory, bram18_stream, dsp_per_mac

# ---- fitted coefficients (fpgaConvNet-model 0.1.4.2) ---------------------------------------------
SLIDING_WINDOW_LUT = (2.8237269452240663, 0.0, 0.0, 0.0, 189.28066965353236)
SLIDING_WINDOW_FF = (2.2412811014433096, 0.0, 0.0, 0.0, 268.9912287045314)
FORK_LUT, FORK_FF = 0.810999165259251, 1.3411598366755253
CONV_LUT = (463.1637645632311, 142.83476476224536, 0.0)
CONV_FF = (658.8505776447937, 164.64079782697917, 0.0)
ACCUM_LUT = (0.020092171280126365, 0.0, 8.078144840943313, 0.023014593438904218, 0.0038400241723048263,
             0.04743935421668812)
ACCUM_FF = (0.016822299553116336, 0.0, 9.642558669866036, 0.0025609528029674348, 0.0, 0.06233321802163449)
ACCUM_DSP = (3.1176946061982637e-06, 6.35983654546467e-05, 0.0, 0.0, 0.0, 0.0)
GLUE_LUT_PER_COARSE_IN, GLUE_FF_PER_COARSE_IN = 733.7549959216965, 648.9383156606852
POOL_LUT_PER_KERNEL_COL, POOL_FF_PER_KERNEL_COL = 267.444956382848, 447.79831674652934
RELU_LUT = (1.8480138780712307, 1.5423404152241333)
RELU_FF = (1.9624755127569673, 1.915871335919626)


@dataclass(frozen=True)
class Rsc:
    """Resources of one module instance or a sum of them."""

    lut: int = 0
    ff: int = 0
    bram18: int = 0
    dsp: int = 0

    def __add__(self, other: Rsc) -> Rsc:
        return Rsc(self.lut + other.lut, self.ff + other.ff, self.bram18 + other.bram18, self.dsp + other.dsp)

    def __mul__(self, copies: int) -> Rsc:
        return Rsc(self.lut * copies, self.ff * copies, self.bram18 * copies, self.dsp * copies)


NONE = Rsc()


def _dot(xs: tuple[float, ...], coef: tuple[float, ...]) -> int:
    return int(sum(x * c for x, c in zip(xs, coef)))


def _log2(x: float) -> float:
    return math.log(x, 2)


def sliding_window(rows: int, cols: int, channels: int, kernel: tuple[int, int], pad_cols: int,
                   data_bits: int) -> Rsc:
    """One sliding-window lane over a ``rows x cols x channels`` (unpadded) map: line + window buffers."""
    k0, k1 = kernel
    xs = (data_bits * k0 * k1, k0 * (k1 - 1) * (data_bits + math.floor(_log2(channels))),
          (k1 - 1) * (data_bits + math.floor(_log2(channels * cols))), k0 * (k1 - 1), k1 - 1)
    line = (k0 - 1) * bram18_stream((cols + pad_cols) * channels + 1, data_bits)
    window = k0 * (k1 - 1) * bram18_stream(channels + 1, data_bits)
    return Rsc(_dot(xs, SLIDING_WINDOW_LUT), _dot(xs, SLIDING_WINDOW_FF), line + window, 0)


def fork(words: int) -> Rsc:
    """One fork lane copying a stream of ``words`` words (per sample) to ``coarse_out`` conv lanes."""
    x = math.ceil(_log2(words))
    return Rsc(int(x * FORK_LUT), int(x * FORK_FF), 0, 0)


def conv(pixels: int, filters: int, fine: int, weight_bits: int, data_bits: int) -> Rsc:
    """One conv lane: ``fine`` multipliers; ``pixels`` output pixels, ``filters`` filters per lane."""
    xs = (_log2(filters), _log2(pixels), 0.0)
    return Rsc(_dot(xs, CONV_LUT), _dot(xs, CONV_FF), 0, fine * dsp_per_mac(weight_bits, data_bits))


def accum(rows: int, cols: int, channels: int, filters: int, groups: int, acc_bits: int) -> Rsc:
    """One accumulate lane: sums ``channels`` products per filter into a ``filters/groups`` buffer."""
    xs = (filters, groups, acc_bits, cols, rows, channels)
    return Rsc(_dot(xs, ACCUM_LUT), _dot(xs, ACCUM_FF), bram18_memory(filters // groups, acc_bits),
               _dot(xs, ACCUM_DSP))


def glue(coarse_in: int) -> Rsc:
    """The adder tree joining ``coarse_in`` partial sums per output lane (whole layer)."""
    return Rsc(int(coarse_in * GLUE_LUT_PER_COARSE_IN), int(coarse_in * GLUE_FF_PER_COARSE_IN), 0, 0)


def bias(rows: int, cols: int, filters: int, data_bits: int, bias_bits: int) -> Rsc:
    """One bias-add lane (fpgaConvNet's model reuses the accumulate coefficients)."""
    xs = (filters, 1, data_bits, cols, rows, 1)
    return Rsc(_dot(xs, ACCUM_LUT), _dot(xs, ACCUM_FF), 0, dsp_per_mac(bias_bits, data_bits))


def pool(kernel: tuple[int, int]) -> Rsc:
    """One pooling lane (max / average over the window)."""
    return Rsc(int(kernel[1] * POOL_LUT_PER_KERNEL_COL), int(kernel[1] * POOL_FF_PER_KERNEL_COL), 0, 0)


def relu(words: int, data_bits: int) -> Rsc:
    """One ReLU lane over ``words`` words per sample."""
    xs = (data_bits, math.ceil(_log2(max(2, words))))
    return Rsc(_dot(xs, RELU_LUT), _dot(xs, RELU_FF), 0, 0)


def weights_memory(weights: int, banks: int, weight_bits: int) -> int:
    """BRAM18 of ``weights`` words split into ``banks`` equal banks (one read per bank per cycle)."""
    return banks * bram18_memory(math.ceil(weights / banks), weight_bits)


def squeeze(coarse_in: int, coarse_out: int, data_bits: int) -> Rsc:
    """A squeeze adapter between ``coarse_in`` and ``coarse_out`` lanes (fpgaConvNet 0.1.4.2: free).

    fpgaConvNet-model 0.1.4.2 costs a squeeze at zero; we count its double buffer of
    ``lcm(coarse_in, coarse_out)`` words in registers (one FF per bit) and one LUT of read
    multiplexing per 32 bits.
    """
    if coarse_in == coarse_out:
        return NONE
    bits = math.lcm(coarse_in, coarse_out) * 2 * data_bits
    return Rsc(math.ceil(bits / 32), bits, 0, 0)
