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
sample's input frame buffered on chip so every weight tile can sweep it.  Conv and pool stages
with an R x S window keep ``R - 1`` line buffers per input lane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from simulator.fpga.resources import (
    LUT_MULT_FF_PER_BIT,
    LUT_MULT_LUT_PER_BIT2,
    MAC_LANE_FF_PER_BIT,
    MAC_LANE_LUT_PER_BIT,
    STAGE_BASE_FF,
    STAGE_BASE_LUT,
    STREAM_LANE_FF_PER_BIT,
    STREAM_LANE_LUT_PER_BIT,
    WINDOW_FF_PER_BIT,
    accumulator_bits,
    bram18_for,
    dsp_per_mac,
    fifo_cost,
    uram_for,
)
from workloads.errors import SpecError
from workloads.layer import Layer

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


def stage_kind(layer: Layer) -> str:
    """``mac`` for conv/gemm/matmul, ``stream`` for pooling and elementwise layers."""
    return "mac" if layer.has_weights else "stream"


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


def stage_cost(layer: Layer, folding: Folding, *, check: bool = True) -> StageCost:
    """Cycles per sample and resources of the stage implementing ``layer`` with ``folding``."""
    if check:
        check_folding(layer, folding)
    ci = folding.coarse_in
    in_bits, w_bits = layer.input_bits, layer.weight_bits
    if not layer.has_weights:
        lanes = ci
        cycles = per_sample_work(layer) // lanes
        bram = 0
        ff_window = 0
        if layer.op == "pool" and layer.R * layer.S > 1:
            depth = math.ceil(layer.padded_input[1] * layer.G / ci)
            bram = ci * (layer.R - 1) * bram18_for(depth, in_bits)
            ff_window = ci * layer.R * layer.S * in_bits * WINDOW_FF_PER_BIT
        lut = STAGE_BASE_LUT + lanes * STREAM_LANE_LUT_PER_BIT * in_bits * layer.num_inputs
        ff = STAGE_BASE_FF + lanes * STREAM_LANE_FF_PER_BIT * in_bits + ff_window
        return StageCost(cycles, 0, bram, lut, ff, 0)

    lanes = folding.lanes
    cycles = max(per_sample_work(layer) // lanes,
                 channels_in(layer) * layer.padded_input[0] * layer.padded_input[1] // ci,  # window over padded input
                 layer.G * layer.K * layer.P * layer.Q // folding.coarse_out)  # output stream
    acc = accumulator_bits(w_bits, in_bits, layer.C * layer.R * layer.S)
    lut = STAGE_BASE_LUT + lanes * MAC_LANE_LUT_PER_BIT * acc
    ff = STAGE_BASE_FF + lanes * MAC_LANE_FF_PER_BIT * acc
    if folding.personality == "dsp":
        dsp = lanes * dsp_per_mac(w_bits, in_bits)
    else:
        dsp = 0
        lut += int(lanes * LUT_MULT_LUT_PER_BIT2 * w_bits * in_bits)
        ff += lanes * LUT_MULT_FF_PER_BIT * (w_bits + in_bits)
    bram = 0
    if layer.op == "conv" and layer.R * layer.S > 1:
        depth = math.ceil(layer.padded_input[1] * channels_in(layer) / ci)
        bram += ci * (layer.R - 1) * bram18_for(depth, in_bits)
        ff += ci * layer.R * layer.S * in_bits * WINDOW_FF_PER_BIT
    offchip = 0
    uram = 0
    weights = layer.weight_elems
    if layer.op == "matmul":
        # second operand is an activation: buffer one group's worth per sample on chip
        bram += lanes * bram18_for(math.ceil(layer.K * layer.C / lanes), w_bits)
    elif folding.weights_on_chip and folding.weights_in_uram:
        uram = lanes * uram_for(math.ceil(weights / lanes), w_bits)
    elif folding.weights_on_chip:
        bram += lanes * bram18_for(math.ceil(weights / lanes), w_bits)
    else:
        offchip = weights * w_bits
        frame = channels_in(layer) * layer.padded_input[0] * layer.padded_input[1]
        if layer.op == "conv":
            bram += ci * bram18_for(math.ceil(frame / ci), in_bits)
        tile_bram, tile_lut = fifo_cost(2 * 16, w_bits)  # double-buffered weight tile per lane
        bram += lanes * tile_bram
        lut += lanes * tile_lut
    return StageCost(cycles, dsp, bram, lut, ff, offchip, uram)
