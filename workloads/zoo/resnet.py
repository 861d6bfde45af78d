"""ResNets (torchvision v1.5: the stride of a bottleneck sits on its 3x3 conv).

Batch-norm and ReLU are fused into the convolutions (inference). Each residual add is an
``eltwise`` layer with two inputs and real DAG edges from both branches; a block whose shape
changes has a 1x1 projection conv on the shortcut.
"""

from __future__ import annotations

from acceldse.workloads.errors import require_int
from acceldse.workloads.network import Network
from acceldse.workloads.zoo._builder import MAX_CLASSES, GraphBuilder, Tensor, check_common, check_resolution


def _stem(b: GraphBuilder, res: int) -> Tensor:
    x = b.input(3, res, res)
    x = b.conv("conv1", x, 64, 7, stride=2, padding=3)
    return b.pool("maxpool", x, 3, stride=2, padding=1)


def _basic(b: GraphBuilder, prefix: str, x: Tensor, width: int, stride: int) -> Tensor:
    y = b.conv(f"{prefix}.conv1", x, width, 3, stride=stride)
    y = b.conv(f"{prefix}.conv2", y, width, 3)
    shortcut = x
    if stride != 1 or x.channels != width:
        shortcut = b.conv(f"{prefix}.downsample", x, width, 1, stride=stride, padding=0)
    return b.eltwise(f"{prefix}.add", y, shortcut)


def _bottleneck(b: GraphBuilder, prefix: str, x: Tensor, width: int, stride: int) -> Tensor:
    out = width * 4
    y = b.conv(f"{prefix}.conv1", x, width, 1, padding=0)
    y = b.conv(f"{prefix}.conv2", y, width, 3, stride=stride)
    y = b.conv(f"{prefix}.conv3", y, out, 1, padding=0)
    shortcut = x
    if stride != 1 or x.channels != out:
        shortcut = b.conv(f"{prefix}.downsample", x, out, 1, stride=stride, padding=0)
    return b.eltwise(f"{prefix}.add", y, shortcut)


def _resnet(name: str, blocks: tuple[int, ...], bottleneck: bool, batch: int, resolution: int,
            num_classes: int, bits: int) -> Network:
    source = f"zoo:{name}"
    batch, bits = check_common(source, batch, bits)
    res = check_resolution(source, resolution, 32)
    classes = require_int(num_classes, key="num_classes", source=source, maximum=MAX_CLASSES)
    b = GraphBuilder(name, batch, bits)
    x = _stem(b, res)
    block = _bottleneck if bottleneck else _basic
    for stage, count in enumerate(blocks):
        width = 64 * 2 ** stage
        for i in range(count):
            stride = 2 if stage > 0 and i == 0 else 1
            x = block(b, f"layer{stage + 1}.{i}", x, width, stride)
    x = b.global_pool("avgpool", x)
    b.fc("fc", x, classes)
    return b.build()


def resnet18(*, batch: int = 1, resolution: int = 224, num_classes: int = 1000, bits: int = 8) -> Network:
    """ResNet-18: basic blocks [2, 2, 2, 2]; 1.81 GMACs and 11.7 M parameters at 224 x 224."""
    return _resnet("resnet18", (2, 2, 2, 2), False, batch, resolution, num_classes, bits)


def resnet50(*, batch: int = 1, resolution: int = 224, num_classes: int = 1000, bits: int = 8) -> Network:
    """ResNet-50 v1.5: bottlenecks [3, 4, 6, 3]; 4.09 GMACs and 25.6 M parameters at 224 x 224."""
    return _resnet("resnet50", (3, 4, 6, 3), True, batch, resolution, num_classes, bits)
