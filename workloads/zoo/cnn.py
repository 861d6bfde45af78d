"""Plain CNNs: AlexNet and VGG-16 with torchvision's published shapes.

ReLU and dropout are fused away (inference); pooling layers are kept (zero MACs, real traffic).
The adaptive average pool before the classifier is a layer only when it changes the map size.
"""

from __future__ import annotations

from acceldse.workloads.errors import require_int
from acceldse.workloads.network import Network
from acceldse.workloads.zoo._builder import MAX_CLASSES, GraphBuilder, check_common, check_resolution


def alexnet(*, batch: int = 1, resolution: int = 224, num_classes: int = 1000, bits: int = 8) -> Network:
    """AlexNet, torchvision variant (64/192/384/256/256 channels): 0.714 GMACs at 224 x 224.

    Args:
        batch: images per inference. resolution: input height = width in pixels (>= 195 so the
        final map is at least 6 x 6). num_classes: classifier outputs. bits: operand precision.
    """
    source = "zoo:alexnet"
    batch, bits = check_common(source, batch, bits)
    res = check_resolution(source, resolution, 63)
    classes = require_int(num_classes, key="num_classes", source=source, maximum=MAX_CLASSES)
    b = GraphBuilder("alexnet", batch, bits)
    x = b.input(3, res, res)
    x = b.conv("conv1", x, 64, 11, stride=4, padding=2)
    x = b.pool("pool1", x, 3, stride=2)
    x = b.conv("conv2", x, 192, 5, padding=2)
    x = b.pool("pool2", x, 3, stride=2)
    x = b.conv("conv3", x, 384, 3)
    x = b.conv("conv4", x, 256, 3)
    x = b.conv("conv5", x, 256, 3)
    x = b.pool("pool5", x, 3, stride=2)
    x = b.adaptive_pool("avgpool", x, 6)
    x = b.fc("fc6", x, 4096)
    x = b.fc("fc7", x, 4096)
    b.fc("fc8", x, classes)
    return b.build()


VGG16_CFG: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                                    512, 512, 512, "M")


def vgg16(*, batch: int = 1, resolution: int = 224, num_classes: int = 1000, bits: int = 8) -> Network:
    """VGG-16 (configuration D): 13 3x3 convs, 5 max-pools, 3 FC layers; 15.47 GMACs at 224.

    Args:
        batch: images per inference. resolution: input height = width in pixels (>= 224 keeps
        the 7 x 7 classifier input; smaller maps are rejected). num_classes: classifier outputs.
    """
    source = "zoo:vgg16"
    batch, bits = check_common(source, batch, bits)
    res = check_resolution(source, resolution, 32)
    classes = require_int(num_classes, key="num_classes", source=source, maximum=MAX_CLASSES)
    b = GraphBuilder("vgg16", batch, bits)
    x = b.input(3, res, res)
    stage, index = 1, 1
    for item in VGG16_CFG:
        if item == "M":
            x = b.pool(f"pool{stage}", x, 2, stride=2)
            stage, index = stage + 1, 1
        else:
            x = b.conv(f"conv{stage}_{index}", x, int(item), 3)
            index += 1
    x = b.adaptive_pool("avgpool", x, 7)
    x = b.fc("fc6", x, 4096)
    x = b.fc("fc7", x, 4096)
    b.fc("fc8", x, classes)
    return b.build()
