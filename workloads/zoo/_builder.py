"""A small graph builder the zoo modules share: tracks tensors, layers and edges.

A ``Tensor`` is an activation: its producer layer (``None`` for the network input) and its
shape as channels x rows x columns for one batch item. Transformer activations are
``hidden x tokens x 1``. Each call appends one layer, adds an edge from every input tensor's
producer, and returns the output tensor, so layers come out in topological order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import Layer, conv2d, eltwise, gemm, matmul, pool2d
from acceldse.workloads.network import Network


@dataclass(frozen=True)
class Tensor:
    """An activation tensor of one batch item: ``channels x rows x cols``, made by ``producer``."""

    producer: str | None
    channels: int
    rows: int
    cols: int = 1


@dataclass
class GraphBuilder:
    """Accumulates layers and producer -> consumer edges for one network.

    Attributes:
        name: network name. batch: batch size N of every layer. bits: operand precision in bits.
    """

    name: str
    batch: int = 1
    bits: int = 8
    layers: list[Layer] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def input(self, channels: int, rows: int, cols: int = 1) -> Tensor:
        """The network input (no producer layer)."""
        return Tensor(None, channels, rows, cols)

    def _add(self, layer: Layer, sources: tuple[Tensor, ...]) -> Layer:
        self.layers.append(layer)
        for src in sources:
            if src.producer is not None and (src.producer, layer.name) not in self.edges:
                self.edges.append((src.producer, layer.name))
        return layer

    def conv(self, name: str, x: Tensor, out_channels: int, kernel: int, *, stride: int = 1,
             padding: int | None = None, groups: int = 1) -> Tensor:
        """A 2-D convolution; ``padding`` defaults to ``kernel // 2`` ("same" for odd kernels)."""
        pad = kernel // 2 if padding is None else padding
        layer = conv2d(name, x.channels, out_channels, (x.rows, x.cols), kernel, stride=stride, padding=pad,
                       groups=groups, batch=self.batch, bits=self.bits)
        self._add(layer, (x,))
        return Tensor(name, out_channels, layer.P, layer.Q)

    def pool(self, name: str, x: Tensor, kernel: int | tuple[int, int], *, stride: int | tuple[int, int] | None = None,
             padding: int = 0, kind: str = "max") -> Tensor:
        """Max or average pooling over each channel."""
        layer = pool2d(name, x.channels, (x.rows, x.cols), kernel, stride=stride, padding=padding, kind=kind,
                       batch=self.batch, bits=self.bits)
        self._add(layer, (x,))
        return Tensor(name, x.channels, layer.P, layer.Q)

    def global_pool(self, name: str, x: Tensor, kind: str = "avg") -> Tensor:
        """Global pooling to 1 x 1."""
        return self.pool(name, x, (x.rows, x.cols), stride=1, kind=kind)

    def adaptive_pool(self, name: str, x: Tensor, out: int, kind: str = "avg") -> Tensor:
        """Adaptive pooling to ``out x out`` (no layer when the map already has that size).

        Uses stride ``in // out`` and kernel ``in - (out - 1) * stride``, which yields exactly
        ``out`` outputs whenever ``in >= out``.
        """
        if (x.rows, x.cols) == (out, out):
            return x
        if x.rows < out or x.cols < out:
            raise SpecError("input resolution too small: the feature map before the classifier is smaller "
                            "than the adaptive pooling output", source=self.name, key="resolution",
                            value=(x.rows, x.cols), accepted=f"a resolution giving a feature map >= {out}x{out}")
        sr, sc = x.rows // out, x.cols // out
        kr, kc = x.rows - (out - 1) * sr, x.cols - (out - 1) * sc
        return self.pool(name, x, (kr, kc), stride=(sr, sc), kind=kind)

    def eltwise(self, name: str, *xs: Tensor) -> Tensor:
        """An elementwise layer over one or more same-shaped tensors (add, GELU, layernorm, ...)."""
        x = xs[0]
        layer = eltwise(name, x.channels, (x.rows, x.cols), num_inputs=len(xs), batch=self.batch, bits=self.bits)
        self._add(layer, xs)
        return Tensor(name, x.channels, x.rows, x.cols)

    def fc(self, name: str, x: Tensor, out_features: int) -> Tensor:
        """A fully-connected layer on a flattened tensor (one row per batch item)."""
        features = x.channels * x.rows * x.cols
        self._add(gemm(name, 1, out_features, features, batch=self.batch, bits=self.bits), (x,))
        return Tensor(name, out_features, 1, 1)

    def linear(self, name: str, x: Tensor, out_features: int) -> Tensor:
        """A token-wise linear layer: ``tokens x hidden`` times ``hidden x out_features``."""
        self._add(gemm(name, x.rows, out_features, x.channels, batch=self.batch, bits=self.bits), (x,))
        return Tensor(name, out_features, x.rows, 1)

    def matmul(self, name: str, a: Tensor, b: Tensor, m: int, n: int, k: int, groups: int) -> Tensor:
        """A batched activation x activation matmul (``groups`` = batch * heads)."""
        self._add(matmul(name, m, n, k, groups=groups * self.batch, bits=self.bits), (a, b))
        return Tensor(name, groups * n, m, 1)

    def scores_eltwise(self, name: str, x: Tensor, heads: int, m: int, n: int) -> Tensor:
        """An elementwise layer (softmax) over ``heads`` score matrices of ``m x n``."""
        layer = eltwise(name, heads, (m, n), num_inputs=1, batch=self.batch, bits=self.bits)
        self._add(layer, (x,))
        return Tensor(name, heads * n, m, 1)

    def build(self, source: str = "") -> Network:
        return Network(name=self.name, layers=tuple(self.layers), edges=tuple(self.edges),
                       source=source or f"zoo:{self.name}")


MAX_BATCH = 2**16
MAX_RESOLUTION = 2**14
"""Largest batch and input resolution (pixels) a zoo network accepts (16,384 x 16,384 images)."""
MAX_CLASSES = 2**24
MAX_LAYERS = 1024


def check_common(source: str, batch: int, bits: int) -> tuple[int, int]:
    """Validate the batch size and bit width every zoo builder takes."""
    return (require_int(batch, key="batch", source=source, maximum=MAX_BATCH),
            require_int(bits, key="bits", source=source, maximum=64))


def check_resolution(source: str, resolution: int, minimum: int) -> int:
    """Validate an input resolution in pixels (square images)."""
    value = require_int(resolution, key="resolution", source=source, maximum=MAX_RESOLUTION)
    if value < minimum:
        raise SpecError(f"resolution must be >= {minimum} pixels", source=source, key="resolution", value=resolution,
                        accepted=f"an integer in [{minimum}, {MAX_RESOLUTION:,}]")
    return value


def check_width(source: str, width: float) -> float:
    """Validate a MobileNet width multiplier (0 < width <= 4)."""
    if isinstance(width, bool) or not isinstance(width, int | float) or not 0 < float(width) <= 4:
        raise SpecError("width multiplier must be a number in (0, 4]", source=source, key="width", value=width,
                        accepted="a number in (0, 4], e.g. 1.0, 0.75, 0.5, 0.25")
    return float(width)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to the nearest multiple of ``divisor`` not below 90 % of ``value`` (MobileNet rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
