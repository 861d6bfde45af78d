"""MobileNets: V1 (depthwise-separable convs) and V2 (inverted residuals, linear bottlenecks).

Channel counts follow torchvision: every width-scaled count is rounded with
``make_divisible(c * width, 8)``. Batch-norm and ReLU/ReLU6 are fused into the convs.
Depthwise convs are grouped convs with G = channels (C = K = 1 per group).
"""

from __future__ import annotations

from acceldse.workloads.errors import require_int
from acceldse.workloads.network import Network
from acceldse.workloads.zoo._builder import (
    MAX_CLASSES,
    GraphBuilder,
    Tensor,
    check_common,
    check_resolution,
    check_width,
    make_divisible,
)

V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
"""(pointwise output channels, depthwise stride) of MobileNetV1's 13 separable blocks."""

V2_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
"""(expansion t, output channels c, repeats n, first stride s) of MobileNetV2's bottleneck stages."""


def mobilenet_v1(*, batch: int = 1, resolution: int = 224, width: float = 1.0, num_classes: int = 1000,
                 bits: int = 8) -> Network:
    """MobileNetV1: 569 M MACs and 4.2 M parameters at width 1.0, 224 x 224.

    Args:
        width: width multiplier alpha in (0, 4]. resolution: input pixels (>= 32).
    """
    source = "zoo:mobilenet_v1"
    batch, bits = check_common(source, batch, bits)
    res = check_resolution(source, resolution, 32)
    alpha = check_width(source, width)
    classes = require_int(num_classes, key="num_classes", source=source, maximum=MAX_CLASSES)
    b = GraphBuilder("mobilenet_v1", batch, bits)
    x = b.input(3, res, res)
    x = b.conv("conv1", x, make_divisible(32 * alpha), 3, stride=2)
    for i, (out, stride) in enumerate(V1_BLOCKS, start=1):
        x = b.conv(f"block{i}.dw", x, x.channels, 3, stride=stride, groups=x.channels)
        x = b.conv(f"block{i}.pw", x, make_divisible(out * alpha), 1, padding=0)
    x = b.global_pool("avgpool", x)
    b.fc("fc", x, classes)
    return b.build()


def _inverted_residual(b: GraphBuilder, prefix: str, x: Tensor, out: int, stride: int, expand: int) -> Tensor:
    hidden = x.channels * expand
    y = x
    if expand != 1:
        y = b.conv(f"{prefix}.expand", y, hidden, 1, padding=0)
    y = b.conv(f"{prefix}.dw", y, hidden, 3, stride=stride, groups=hidden)
    y = b.conv(f"{prefix}.project", y, out, 1, padding=0)
    if stride == 1 and x.channels == out:
        y = b.eltwise(f"{prefix}.add", y, x)
    return y


def mobilenet_v2(*, batch: int = 1, resolution: int = 224, width: float = 1.0, num_classes: int = 1000,
                 bits: int = 8) -> Network:
    """MobileNetV2: 301 M MACs and 3.5 M parameters at width 1.0, 224 x 224.

    The last 1x1 conv has ``make_divisible(1280 * max(1, width))`` channels, as in torchvision.
    """
    source = "zoo:mobilenet_v2"
    batch, bits = check_common(source, batch, bits)
    res = check_resolution(source, resolution, 32)
    alpha = check_width(source, width)
    classes = require_int(num_classes, key="num_classes", source=source, maximum=MAX_CLASSES)
    b = GraphBuilder("mobilenet_v2", batch, bits)
    x = b.input(3, res, res)
    x = b.conv("conv1", x, make_divisible(32 * alpha), 3, stride=2)
    index = 1
    for expand, channels, repeats, first_stride in V2_SETTINGS:
        out = make_divisible(channels * alpha)
        for i in range(repeats):
            x = _inverted_residual(b, f"block{index}", x, out, first_stride if i == 0 else 1, expand)
            index += 1
    x = b.conv("conv_last", x, make_divisible(1280 * max(1.0, alpha)), 1, padding=0)
    x = b.global_pool("avgpool", x)
    b.fc("fc", x, classes)
    return b.build()
