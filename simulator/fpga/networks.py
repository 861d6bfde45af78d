"""Small networks used by the FPGA study (LeNet exactly as in SAMO's example, a VGG-style net).

These are built with the ``workloads.layer`` constructors so the FPGA package does not depend
on the model zoo.  ``fpga_network(name)`` resolves a name; ``FPGA_NETWORKS`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, conv2d, eltwise, gemm, pool2d
from acceldse.workloads.network import Network


def lenet(bits: int = 16) -> Network:
    """LeNet as in SAMO's example: conv 20@5x5, pool, conv 50@5x5, pool, fc 500, relu, fc 10 on 1x28x28."""
    layers = (
        conv2d("conv0", 1, 20, 28, 5, bits=bits),
        pool2d("pool1", 20, 24, 2, bits=bits),
        conv2d("conv2", 20, 50, 12, 5, bits=bits),
        pool2d("pool3", 50, 8, 2, bits=bits),
        gemm("fc5", 1, 500, 50 * 4 * 4, bits=bits),
        eltwise("relu6", 500, 1, num_inputs=1, bits=bits),
        gemm("fc7", 1, 10, 500, bits=bits),
    )
    return Network("lenet", layers, source="acceldse.simulator.fpga.networks")


def vgg_small(bits: int = 16, in_hw: int = 32, widths: tuple[int, ...] = (32, 64, 128, 128, 256)) -> Network:
    """A VGG-style CIFAR network: blocks of two 3x3 convs (padding 1) + ReLU, then 2x2 max pool; FC head."""
    layers: list[Layer] = []
    ch, hw = 3, in_hw
    for b, width in enumerate(widths):
        for j in range(2):
            layers.append(conv2d(f"conv{b}_{j}", ch, width, hw, 3, padding=1, bits=bits))
            layers.append(eltwise(f"relu{b}_{j}", width, hw, num_inputs=1, bits=bits))
            ch = width
        layers.append(pool2d(f"pool{b}", ch, hw, 2, bits=bits))
        hw //= 2
    layers.append(gemm("fc0", 1, 256, ch * hw * hw, bits=bits))
    layers.append(eltwise("relu_fc0", 256, 1, num_inputs=1, bits=bits))
    layers.append(gemm("fc1", 1, 10, 256, bits=bits))
    return Network("vgg_small", tuple(layers), source="acceldse.simulator.fpga.networks")


def residual_block(bits: int = 16, channels: int = 16, hw: int = 16) -> Network:
    """A residual block (DAG): conv -> [conv -> conv] + skip -> add; exercises FIFOs on a reconvergent path."""
    layers = (
        conv2d("stem", 3, channels, hw, 3, padding=1, bits=bits),
        conv2d("branch_a", channels, channels, hw, 3, padding=1, bits=bits),
        conv2d("branch_b", channels, channels, hw, 3, padding=1, bits=bits),
        eltwise("add", channels, hw, num_inputs=2, bits=bits),
        pool2d("pool", channels, hw, 2, bits=bits),
    )
    edges = (("stem", "branch_a"), ("branch_a", "branch_b"), ("branch_b", "add"), ("stem", "add"), ("add", "pool"))
    return Network("residual_block", layers, edges=edges, source="acceldse.simulator.fpga.networks")


def mlp(bits: int = 16) -> Network:
    """A three-layer MLP on 784 inputs."""
    layers = (gemm("fc0", 1, 256, 784, bits=bits), eltwise("relu0", 256, 1, num_inputs=1, bits=bits),
              gemm("fc1", 1, 128, 256, bits=bits), eltwise("relu1", 128, 1, num_inputs=1, bits=bits),
              gemm("fc2", 1, 10, 128, bits=bits))
    return Network("mlp", layers, source="acceldse.simulator.fpga.networks")


def at_bits(network: Network, bits: int) -> Network:
    """``network`` with every layer's input, weight and output precision set to ``bits``."""
    layers = tuple(replace(layer, input_bits=bits, weight_bits=bits, output_bits=bits) for layer in network)
    return Network(network.name, layers, edges=tuple(network.edges), source=network.source)


def cnv(bits: int = 16) -> Network:
    """FINN's CNV as in SAMO's ``scripts/generate_networks.py``: 3x32x32, 3x3 unpadded convs 64, 64, pool,
    128, 128, pool, 256, 256 (each with ReLU), then FC 512, ReLU, FC 512, ReLU, FC 10."""
    layers: list[Layer] = []
    ch, hw = 3, 32
    for i, (width, pool_after) in enumerate(((64, False), (64, True), (128, False), (128, True), (256, False),
                                             (256, False))):
        layers.append(conv2d(f"conv{i}", ch, width, hw, 3, bits=bits))
        hw -= 2
        ch = width
        layers.append(eltwise(f"relu{i}", ch, hw, num_inputs=1, bits=bits))
        if pool_after:
            layers.append(pool2d(f"pool{i}", ch, hw, 2, bits=bits))
            hw //= 2
    layers += [gemm("fc0", 1, 512, ch * hw * hw, bits=bits), eltwise("relu_fc0", 512, 1, num_inputs=1, bits=bits),
               gemm("fc1", 1, 512, 512, bits=bits), eltwise("relu_fc1", 512, 1, num_inputs=1, bits=bits),
               gemm("fc2", 1, 10, 512, bits=bits)]
    return Network("cnv", tuple(layers), source="acceldse.simulator.fpga.networks")


def vgg_tiny(bits: int = 16) -> Network:
    """``vgg_small`` with widths 16, 32, 64 (three blocks): the network of the stored SAMO golden on ZCU102."""
    return vgg_small(bits, widths=(16, 32, 64))


FPGA_NETWORKS: dict[str, Callable[[], Network]] = {
    "lenet": lenet, "cnv": cnv, "vgg_small": vgg_small, "vgg_tiny": vgg_tiny, "residual_block": residual_block,
    "mlp": mlp,
}


def fpga_network(name: str) -> Network:
    """A network of the FPGA study by name."""
    key = name.lower()
    if key not in FPGA_NETWORKS:
        raise SpecError("unknown FPGA study network", key="workload", value=name, accepted=", ".join(FPGA_NETWORKS))
    return FPGA_NETWORKS[key]()


def load_fpga_workload(name: str, *, source: str = "workload") -> Network:
    """An FPGA study network by name, else a zoo name, ONNX file or SCALE-Sim CSV (``load_workload``);
    an unknown name lists both kinds. ``source`` is the argument or flag named in errors."""
    if not isinstance(name, str):
        raise SpecError("workload must be a name or a path", source=source, value=name)
    if name.lower() in FPGA_NETWORKS:
        return fpga_network(name)
    from acceldse.workloads.loader import load_workload

    try:
        return load_workload(name)
    except SpecError as err:
        if "unknown workload" not in str(err):
            raise
        raise SpecError("unknown workload", source=source, value=name,
                        accepted=f"an FPGA study network ({', '.join(FPGA_NETWORKS)}) or {err.accepted}") from None
