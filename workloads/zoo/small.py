"""Small networks of the FPGA study: LeNet and CNV as in SAMO's examples, FINN's TFC, VGG-style CIFAR nets, an MLP
and a residual block (a reconvergent DAG). 16-bit operands by default, as the FPGA study runs them.
"""

from __future__ import annotations

from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import Layer, conv2d, eltwise, gemm, pool2d
from acceldse.workloads.network import Network
from acceldse.workloads.zoo._builder import check_common, check_resolution


def lenet(*, batch: int = 1, bits: int = 16) -> Network:
    """LeNet as in SAMO's example: conv 20@5x5, pool, conv 50@5x5, pool, fc 500, relu, fc 10 on 1x28x28."""
    n, bits = check_common("zoo:lenet", batch, bits)
    layers = (
        conv2d("conv0", 1, 20, 28, 5, batch=n, bits=bits),
        pool2d("pool1", 20, 24, 2, batch=n, bits=bits),
        conv2d("conv2", 20, 50, 12, 5, batch=n, bits=bits),
        pool2d("pool3", 50, 8, 2, batch=n, bits=bits),
        gemm("fc5", 1, 500, 50 * 4 * 4, batch=n, bits=bits),
        eltwise("relu6", 500, 1, num_inputs=1, batch=n, bits=bits),
        gemm("fc7", 1, 10, 500, batch=n, bits=bits),
    )
    return Network("lenet", layers, source="zoo:lenet")


def vgg_small(*, batch: int = 1, bits: int = 16, resolution: int = 32,
              widths: tuple[int, ...] = (32, 64, 128, 128, 256)) -> Network:
    """A VGG-style CIFAR network: blocks of two 3x3 convs (padding 1) + ReLU, then 2x2 max pool; FC head.

    Args:
        resolution: input height = width (halved by every block's pool). widths: channels of each block.
    """
    source = "zoo:vgg_small"
    n, bits = check_common(source, batch, bits)
    if not isinstance(widths, tuple | list) or not widths:
        raise SpecError("widths must be a non-empty list of channel counts", source=source, key="widths",
                        value=widths, accepted="e.g. (16, 32, 64)")
    widths = tuple(require_int(w, key="widths", source=source) for w in widths)
    hw = check_resolution(source, resolution, 2 ** len(widths))
    layers: list[Layer] = []
    ch = 3
    for b, width in enumerate(widths):
        for j in range(2):
            layers.append(conv2d(f"conv{b}_{j}", ch, width, hw, 3, padding=1, batch=n, bits=bits))
            layers.append(eltwise(f"relu{b}_{j}", width, hw, num_inputs=1, batch=n, bits=bits))
            ch = width
        layers.append(pool2d(f"pool{b}", ch, hw, 2, batch=n, bits=bits))
        hw //= 2
    layers.append(gemm("fc0", 1, 256, ch * hw * hw, batch=n, bits=bits))
    layers.append(eltwise("relu_fc0", 256, 1, num_inputs=1, batch=n, bits=bits))
    layers.append(gemm("fc1", 1, 10, 256, batch=n, bits=bits))
    return Network("vgg_small", tuple(layers), source=source)


def vgg_tiny(*, batch: int = 1, bits: int = 16) -> Network:
    """``vgg_small`` with widths 16, 32, 64 (three blocks): the network of the stored SAMO golden on ZCU102."""
    return vgg_small(batch=batch, bits=bits, widths=(16, 32, 64))


def residual_block(*, batch: int = 1, bits: int = 16, channels: int = 16, resolution: int = 16) -> Network:
    """A residual block (DAG): conv -> [conv -> conv] + skip -> add -> pool; a reconvergent path for FIFOs."""
    source = "zoo:residual_block"
    n, bits = check_common(source, batch, bits)
    ch = require_int(channels, key="channels", source=source)
    hw = check_resolution(source, resolution, 2)
    layers = (
        conv2d("stem", 3, ch, hw, 3, padding=1, batch=n, bits=bits),
        conv2d("branch_a", ch, ch, hw, 3, padding=1, batch=n, bits=bits),
        conv2d("branch_b", ch, ch, hw, 3, padding=1, batch=n, bits=bits),
        eltwise("add", ch, hw, num_inputs=2, batch=n, bits=bits),
        pool2d("pool", ch, hw, 2, batch=n, bits=bits),
    )
    edges = (("stem", "branch_a"), ("branch_a", "branch_b"), ("branch_b", "add"), ("stem", "add"), ("add", "pool"))
    return Network("residual_block", layers, edges=edges, source=source)


def mlp(*, batch: int = 1, bits: int = 16) -> Network:
    """A three-layer MLP on 784 inputs."""
    n, bits = check_common("zoo:mlp", batch, bits)
    layers = (gemm("fc0", 1, 256, 784, batch=n, bits=bits), eltwise("relu0", 256, 1, num_inputs=1, batch=n, bits=bits),
              gemm("fc1", 1, 128, 256, batch=n, bits=bits), eltwise("relu1", 128, 1, num_inputs=1, batch=n, bits=bits),
              gemm("fc2", 1, 10, 128, batch=n, bits=bits))
    return Network("mlp", layers, source="zoo:mlp")


def tfc(*, batch: int = 1, bits: int = 16) -> Network:
    """FINN's TFC (BNN-PYNQ's MNIST MLP): 784 -> 64 -> 64 -> 64 -> 10, each hidden layer with its activation
    (FINN runs it binarized: ``bits=1``)."""
    n, bits = check_common("zoo:tfc", batch, bits)
    layers: list[Layer] = []
    width = 784
    for i, out in enumerate((64, 64, 64)):
        layers += [gemm(f"fc{i}", 1, out, width, batch=n, bits=bits),
                   eltwise(f"act{i}", out, 1, num_inputs=1, batch=n, bits=bits)]
        width = out
    layers.append(gemm("fc3", 1, 10, width, batch=n, bits=bits))
    return Network("tfc", tuple(layers), source="zoo:tfc")


def cnv(*, batch: int = 1, bits: int = 16) -> Network:
    """FINN's CNV as in SAMO's ``scripts/generate_networks.py``: 3x32x32, 3x3 unpadded convs 64, 64, pool,
    128, 128, pool, 256, 256 (each with ReLU), then FC 512, ReLU, FC 512, ReLU, FC 10."""
    n, bits = check_common("zoo:cnv", batch, bits)
    layers: list[Layer] = []
    ch, hw = 3, 32
    for i, (width, pool_after) in enumerate(((64, False), (64, True), (128, False), (128, True), (256, False),
                                             (256, False))):
        layers.append(conv2d(f"conv{i}", ch, width, hw, 3, batch=n, bits=bits))
        hw -= 2
        ch = width
        layers.append(eltwise(f"relu{i}", ch, hw, num_inputs=1, batch=n, bits=bits))
        if pool_after:
            layers.append(pool2d(f"pool{i}", ch, hw, 2, batch=n, bits=bits))
            hw //= 2
    layers += [gemm("fc0", 1, 512, ch * hw * hw, batch=n, bits=bits),
               eltwise("relu_fc0", 512, 1, num_inputs=1, batch=n, bits=bits),
               gemm("fc1", 1, 512, 512, batch=n, bits=bits),
               eltwise("relu_fc1", 512, 1, num_inputs=1, batch=n, bits=bits),
               gemm("fc2", 1, 10, 512, batch=n, bits=bits)]
    return Network("cnv", tuple(layers), source="zoo:cnv")


__all__ = ["cnv", "lenet", "mlp", "residual_block", "tfc", "vgg_small", "vgg_tiny"]
