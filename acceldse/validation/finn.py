"""Measured FPGA boards: FINN's binarized networks (CNV-w1a1, TFC-w1a1) as the FINN team ran them on Zynq boards.

The designs are FINN's own, not searched: each matrix-vector-threshold unit (MVTU) of the network keeps the PE
(output lanes) and SIMD (input lanes) FINN's build gives it, from the folding files of Xilinx/finn-examples
(``build/bnn-pynq/folding_config/{cnv,tfc}-w1a1_folding_config.json``; the same numbers as Xilinx/finn's
``notebooks/end2end_example/bnn-pynq/{cnv,tfc}_end2end_example.ipynb``), every Zynq board built at a 10 ns clock
(``build/bnn-pynq/build.py``: ``synth_clk_period_ns = 10.0``). In fpgaConvNet/SAMO terms an MVTU is a MAC stage
with ``coarse_out = PE``, ``coarse_in = SIMD`` (FINN's sliding window streams SIMD channels of one kernel tap per
cycle, so SIMD divides the input channels) and ``fine = 1``: it takes MACs / (PE x SIMD) cycles per image, which
is FINN's own ``(MH / PE) * (MW / SIMD) * pixels``. The thresholding activation runs inside the MVTU on its PE
outputs (our ReLU stage at PE lanes); FINN's streaming max-pool takes one pixel of all channels per cycle
(its stream is ``bits x NumChannels`` wide: ``StreamingMaxPool_Batch.get_instream_width``), so a pooling stage
runs at ``coarse = channels``.

The measurements are FINN's ``throughput_test`` on the board: the wall time of one ``execute`` of a batch
through the PYNQ driver (DMA in and out included) at the board's measured fabric clock. Ours is the batch over
the simulated latency of the same batch (pipeline fill included) on ``samo-zedboard``: the XC7Z020 of the
Pynq-Z1/Z2 at 100 MHz. Only the clock and the folding enter the cycle count; the device's resources do not (and
our resource model, fpgaConvNet's regressions for DSP MACs, does not cost FINN's XNOR-popcount lanes: the rows
compare throughput only).
"""

from __future__ import annotations

from typing import Any

from acceldse.validation import Measured
from acceldse.workloads.network import Network

FINN_PLATFORM = "samo-zedboard"  # XC7Z020 (the Pynq-Z1/Z2's device) at 100 MHz: FINN's 10 ns build clock
FINN_BITS = 1  # weights and activations binarized (w1a1); the cycle count does not depend on it

FINN_MVTU: dict[str, dict[str, tuple[int, int]]] = {
    # (PE, SIMD) per MVTU, in network order: finn-examples build/bnn-pynq/folding_config/cnv-w1a1_folding_config.json
    # (MatrixVectorActivation_0..8; Xilinx/finn's cnv_end2end_example notebook lists the same nine pairs)
    "cnv_w1a1": {"conv0": (16, 3), "conv1": (32, 32), "conv2": (16, 32), "conv3": (16, 32), "conv4": (4, 32),
                 "conv5": (1, 32), "fc0": (1, 4), "fc1": (1, 8), "fc2": (5, 1)},
    # finn-examples build/bnn-pynq/folding_config/tfc-w1a1_folding_config.json (and the tfc_end2end_example notebook)
    "tfc_w1a1": {"fc0": (16, 49), "fc1": (8, 8), "fc2": (8, 8), "fc3": (10, 8)},
}
"""FINN's folding of each matrix-vector-threshold unit: (PE, SIMD)."""


def finn_network(name: str) -> Network:
    """The network of a FINN example: ``cnv_w1a1`` (the zoo's CNV, FINN's CIFAR-10 net) or ``tfc_w1a1`` (the zoo's
    TFC, FINN's MNIST MLP), binarized."""
    from acceldse.workloads.zoo.small import cnv, tfc

    if name not in FINN_MVTU:
        raise ValueError(f"unknown FINN example {name!r}: accepted {', '.join(FINN_MVTU)}")
    return cnv(bits=FINN_BITS) if name.startswith("cnv") else tfc(bits=FINN_BITS)


def finn_foldings(name: str) -> dict[str, Any]:
    """FINN's folding of ``name`` as fpgaConvNet stage foldings (see the module docstring)."""
    from acceldse.simulator.fpga.stage import Folding

    mvtu = FINN_MVTU[name]
    foldings: dict[str, Any] = {}
    lanes = 1
    for layer in finn_network(name):
        if layer.name in mvtu:
            pe, simd = mvtu[layer.name]
            foldings[layer.name] = Folding(coarse_in=simd, coarse_out=pe, fine=1, personality="lut")
            lanes = pe
        elif layer.op == "pool":  # one pixel of every channel per cycle
            foldings[layer.name] = Folding(coarse_in=layer.G * layer.C, coarse_out=layer.G * layer.C)
        else:  # the MVTU's thresholds, on its PE outputs
            foldings[layer.name] = Folding(coarse_in=lanes, coarse_out=lanes)
    return foldings


def finn_design(name: str, batch: int) -> Any:
    """``evaluate_design`` of FINN's folding of ``name`` on ``FINN_PLATFORM`` for one batch."""
    from acceldse.simulator.fpga.design import evaluate_design

    return evaluate_design(finn_network(name), finn_foldings(name), FINN_PLATFORM, batch=batch)


FINN_RUNS = {"finn.cnv_w1a1.fps": ("cnv_w1a1", 1000), "finn.tfc_w1a1.fps": ("tfc_w1a1", 1000),
             "finn.tfc_w1a1.batch10000.fps": ("tfc_w1a1", 10_000)}
"""Each measured row: the example and the batch its throughput test ran."""


def compute_finn() -> dict[str, Measured]:
    """Images per second of FINN's CNV-w1a1 and TFC-w1a1 designs: the batch over its simulated latency."""
    out = {}
    for key, (name, batch) in FINN_RUNS.items():
        report = finn_design(name, batch)
        out[key] = Measured(batch / report.latency_s,
                            f"acceldse.validation.finn.finn_design('{name}', batch={batch}) (batch ÷ latency_s)")
    return out


COMPUTE = [compute_finn]
