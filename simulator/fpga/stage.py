"""One hardware stage per layer (fpgaConvNet / SAMO semantics): folding, cycles, resources.

Folding of a stage:

* ``coarse_in``  -- input-channel parallelism (divides the layer's input channels G*C),
* ``coarse_out`` -- output-channel parallelism (divides the per-group output channels K),
* ``fine``       -- kernel parallelism (divides R*S; 1 for fully connected layers).

A MAC stage (conv, gemm, matmul) has ``coarse_in * coarse_out * fine`` MAC lanes and takes
``MACs / (coarse_in * coarse_out * fine)`` cycles per sample -- or longer when sweeping its padded
input (``G*C*Hp*Wp / coarse_in`` words) or writing its output (``G*K*P*Q / coarse_out``) takes longer, as in
fpgaConvNet, where every module of a stage runs at its own rate and the slowest sets the stage's.
A pooling or elementwise stage has ``coarse_in == coarse_out`` lanes and takes ``G*H*W / coarse``
cycles per sample (it reads every input element once).  The batch multiplies both.

Memory of a MAC stage: its weights on chip in ``lanes`` banks (one weight per lane per cycle),
or -- when ``weights_on_chip`` is False -- streamed from off-chip once per sample with the
sample's input frame buffered on chip so every weight tile can sweep it.

Resources are fpgaConvNet-model's per-module models (``simulator.fpga.modules``): sliding window,
fork, conv, accumulate, glue, biases and weights memories, pool, ReLU.  Options fpgaConvNet does
not have -- LUT-built multipliers (``personality="lut"``), UltraRAM weights, off-chip weights --
are our extensions on top of the same modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from acceldse.simulator.fpga import modules as mod
from acceldse.simulator.fpga.resources import LUT_MULT_FF_PER_BIT, LUT_MULT_LUT_PER_BIT2, bram18_memory, uram_for
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer

Personality = Literal["dsp", "lut"]


@dataclass(frozen=True)
class Folding:
    """Parallelism of one stage.

    Attributes:
        coarse_in: input-channel lanes.
        coarse_out: output-channel lanes.
        fine: kernel-window lanes (MAC stages with a window only).
        personality: ``dsp`` (MACs on DSP slices) or ``lut`` (MACs built from LUTs).
        weights_on_chip: keep the weights on chip (True) or stream them from off-chip.
        weights_in_uram: with ``weights_on_chip``, store the weight banks in UltraRAM instead of BRAM.
    """

    coarse_in: int = 1
    coarse_out: int = 1
    fine: int = 1
    personality: Personality = "dsp"
    weights_on_chip: bool = True
    weights_in_uram: bool = False

    @property
    def lanes(self) -> int:
        return self.coarse_in * self.coarse_out * self.fine


@dataclass(frozen=True)
class StageCost:
    """Per-sample cycles and resources of one stage.

    Attributes:
        cycles_per_sample: cycles to process one sample (the batch multiplies it).
        dsp, bram18, lut, ff, uram: resources of the stage (FIFOs between stages not included).
        offchip_weight_bits_per_sample: weight bits read from off-chip per sample (0 when on chip).
    """

    cycles_per_sample: int
    dsp: int
    bram18: int
    lut: int
    ff: int
    offchip_weight_bits_per_sample: int
    uram: int = 0


def channels_in(layer: Layer) -> int:
    """Input channels the coarse_in factor divides (G*C; G for pool/eltwise)."""
    return layer.G * layer.C


def channels_out(layer: Layer) -> int:
    """Output channels the coarse_out factor divides (K per group; G for pool/eltwise)."""
    return layer.K if layer.has_weights else layer.G


def kernel_size(layer: Layer) -> int:
    """Values the fine factor divides: R*S for conv, 1 otherwise."""
    return layer.R * layer.S if layer.op == "conv" else 1


def divisors(n: int) -> list[int]:
    """Positive divisors of ``n`` in increasing order."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def check_folding(layer: Layer, folding: Folding) -> None:
    """Raise ``SpecError`` naming the layer and factor when a folding does not divide its dims."""
    where = f"layer {layer.name!r}"
    checks = (("coarse_in", folding.coarse_in, channels_in(layer)),
              ("coarse_out", folding.coarse_out, channels_out(layer)),
              ("fine", folding.fine, kernel_size(layer)))
    for key, factor, size in checks:
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1 or size % factor:
            raise SpecError(f"folding factor does not divide the layer's {key.split('_')[0]} size {size}",
                            source=where, key=key, value=factor, accepted=f"a divisor of {size}: {divisors(size)}")
    if not layer.has_weights and folding.coarse_in != folding.coarse_out:
        raise SpecError("a pooling/elementwise stage has one coarse factor", source=where, key="coarse_out",
                        value=folding.coarse_out, accepted=f"equal to coarse_in ({folding.coarse_in})")
    if folding.personality not in ("dsp", "lut"):
        raise SpecError("unknown personality", source=where, key="personality", value=folding.personality,
                        accepted="dsp | lut")


def per_sample_work(layer: Layer) -> int:
    """MACs (MAC stages) or input elements (stream stages) of one sample."""
    if layer.has_weights:
        return layer.macs // layer.N
    return layer.G * layer.H * layer.W


def _stream_cost(layer: Layer, folding: Folding) -> StageCost:
    """Pooling (sliding window + pool per lane) or ReLU / elementwise (one unit per lane and input)."""
    ci = folding.coarse_in
    cycles = stage_cycles(layer, folding)
    ch_lane = channels_in(layer) // ci
    if layer.op == "pool":
        lane = mod.sliding_window(layer.H, layer.W, ch_lane, (layer.R, layer.S), layer.padding[1] + layer.padding[3],
                                  layer.input_bits) + mod.pool((layer.R, layer.S))
    else:
        lane = mod.relu(ch_lane * layer.H * layer.W, layer.input_bits) * layer.num_inputs
    r = lane * ci
    return StageCost(cycles, r.dsp, r.bram18, r.lut, r.ff, 0)


def mac_modules(layer: Layer, folding: Folding) -> mod.Rsc:
    """LUT, FF, BRAM and DSP of a conv / inner-product stage's modules (weights memory excluded).

    Sliding window and fork per ``coarse_in`` lane, conv and accumulate per ``coarse_in x
    coarse_out`` lane, one glue, the biases memory per ``coarse_out`` lane (fpgaConvNet; the bias
    adder is folded into the accumulator for layers with a bias, as its model does).
    """
    ci, co, fine = folding.coarse_in, folding.coarse_out, folding.fine
    ch_lane = channels_in(layer) // ci
    filters_lane = layer.G * layer.K // co
    windowed = layer.op == "conv" and layer.R * layer.S > 1
    total = mod.NONE
    if windowed:
        total += mod.sliding_window(layer.H, layer.W, ch_lane, (layer.R, layer.S),
                                    layer.padding[1] + layer.padding[3], layer.input_bits) * ci
    if co > 1 or layer.op != "conv":
        total += mod.fork(ch_lane * layer.P * layer.Q) * ci
    conv = mod.conv(layer.P * layer.Q, filters_lane, fine if layer.op == "conv" else 1, layer.weight_bits,
                    layer.input_bits)
    if folding.personality == "lut":
        mults = folding.lanes
        conv = mod.Rsc(conv.lut, conv.ff, conv.bram18, 0) * (ci * co) + mod.Rsc(
            int(mults * LUT_MULT_LUT_PER_BIT2 * layer.weight_bits * layer.input_bits),
            mults * LUT_MULT_FF_PER_BIT * (layer.weight_bits + layer.input_bits), 0, 0)
    else:
        conv = conv * (ci * co)
    total += conv
    if ch_lane * (1 if layer.op == "conv" else layer.H * layer.W) > 1:
        acc = mod.accum(layer.P, layer.Q, ch_lane, filters_lane, layer.G, layer.output_bits)
        total += mod.Rsc(acc.lut, acc.ff, 0, acc.dsp) * (ci * co) + mod.Rsc(0, 0, acc.bram18 * co, 0)
    if ci > 1:
        total += mod.glue(ci)
    return total + mod.Rsc(0, 0, co * bram18_memory(layer.G * layer.K // co, layer.output_bits), 0)


def fpgaconvnet_padded_cycles(layer: Layer, folding: Folding) -> int:
    """Cycles per sample fpgaConvNet 0.1.4.2 (as SAMO 0.2.4 drives it) gives a padded conv.

    It sizes the window grid with the padding counted twice, ``P' = (H + 2 (top + bottom) - R) /
    stride + 1`` (likewise ``Q'``), and takes ``P' Q' (GC / coarse_in) (K / coarse_out) (RS / fine)``.
    """
    pt, pl, pb, pr = layer.padding
    p2 = (layer.H + 2 * (pt + pb) - layer.R) // layer.stride[0] + 1
    q2 = (layer.W + 2 * (pl + pr) - layer.S) // layer.stride[1] + 1
    return (p2 * q2 * (channels_in(layer) // folding.coarse_in) * (layer.K // folding.coarse_out)
            * (layer.R * layer.S // folding.fine))


def stage_cycles(layer: Layer, folding: Folding, *, padding_twice: bool = False) -> int:
    """Cycles per sample of the stage implementing ``layer`` with ``folding`` (see :func:`stage_cost`)."""
    if not layer.has_weights:
        return per_sample_work(layer) // folding.coarse_in
    if padding_twice and layer.op == "conv" and any(layer.padding):
        return fpgaconvnet_padded_cycles(layer, folding)
    return max(per_sample_work(layer) // folding.lanes,
               channels_in(layer) * layer.padded_input[0] * layer.padded_input[1] // folding.coarse_in,  # window
               layer.G * layer.K * layer.P * layer.Q // folding.coarse_out)  # output stream


def stage_cost(layer: Layer, folding: Folding, *, check: bool = True, padding_twice: bool = False) -> StageCost:
    """Cycles per sample and resources of the stage implementing ``layer`` with ``folding``.

    ``padding_twice``: cycles of a padded conv as fpgaConvNet 0.1.4.2 counts them
    (``fpgaconvnet_padded_cycles``), to reproduce SAMO's printed cycles; off by default.
    """
    if check:
        check_folding(layer, folding)
    if not layer.has_weights:
        return _stream_cost(layer, folding)
    ci = folding.coarse_in
    in_bits, w_bits = layer.input_bits, layer.weight_bits
    lanes = folding.lanes
    cycles = stage_cycles(layer, folding, padding_twice=padding_twice)
    r = mac_modules(layer, folding)
    lut, ff, bram = r.lut, r.ff, r.bram18
    offchip = 0
    uram = 0
    weights = layer.weight_elems
    if layer.op == "matmul":
        # second operand is an activation: buffer one group's worth per sample on chip
        bram += mod.weights_memory(layer.K * layer.C, lanes, w_bits)
    elif folding.weights_on_chip and folding.weights_in_uram:
        uram = lanes * uram_for(math.ceil(weights / lanes), w_bits)
    elif folding.weights_on_chip:
        bram += mod.weights_memory(weights, lanes, w_bits)
    else:
        offchip = weights * w_bits
        frame = channels_in(layer) * layer.padded_input[0] * layer.padded_input[1]
        if layer.op == "conv":
            bram += ci * bram18_memory(math.ceil(frame / ci), in_bits)
        lut += lanes * math.ceil(2 * 16 * w_bits / 64)  # double-buffered 16-word weight tile per lane, LUT-RAM
    return StageCost(cycles, r.dsp, bram, lut, ff, offchip, uram)
