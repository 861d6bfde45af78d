"""ONNX op tables and the per-op mapping to ``Layer`` used by ``workloads.onnx_import``.

Each mapper takes a ``NodeView`` (the node, its attributes and the static shapes of its
inputs and outputs) and returns one ``Layer``; shapes are checked by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, conv2d, eltwise, gemm, matmul, pool2d

ELTWISE_OPS: frozenset[str] = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Where",
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Swish",
    "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs",
    "Clip", "Softmax", "LogSoftmax", "LayerNormalization", "BatchNormalization", "InstanceNormalization",
    "GroupNormalization", "RMSNormalization",
})
"""Shape-preserving ops: one ``eltwise`` layer each (zero MACs, real traffic)."""

PASS_THROUGH_OPS: frozenset[str] = frozenset({
    "Flatten", "Reshape", "Transpose", "Identity", "Squeeze", "Unsqueeze", "Dropout", "Cast", "CastLike",
    "Concat", "Split", "Slice", "Gather", "Expand", "Tile", "Pad", "DepthToSpace", "SpaceToDepth",
})
"""Data-movement ops: no layer; edges pass from their inputs' producers to their consumers."""

METADATA_OPS: frozenset[str] = frozenset({"Shape", "Size", "Constant", "ConstantOfShape", "Range"})
"""Ops whose outputs are constants or shape metadata (no layer, no edges)."""

LAYER_OPS: frozenset[str] = frozenset({"Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
                                       "GlobalMaxPool"})
"""Ops mapped to conv / gemm / matmul / pool layers."""

UNMODELLED_MAC_OPS: frozenset[str] = frozenset({
    "ConvTranspose", "ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul", "QGemm", "DeformConv",
    "Einsum", "LSTM", "GRU", "RNN", "Attention", "MultiHeadAttention",
})
"""Ops that do multiply-accumulates we do not map: refused, since passing them through would drop their MACs."""

@dataclass(frozen=True)
class NodeView:
    """A node with what a mapper needs.

    Attributes:
        name: unique layer name. op: ONNX op type. attrs: decoded attributes.
        inputs: static shape of each input (``None`` for an absent optional input).
        const: whether each input is a constant (initializer or folded constant).
        output: static shape of the first output. bits: operand precision in bits.
        where: source text for errors (``file: node 'x' (Conv)``).
    """

    name: str
    op: str
    attrs: dict[str, Any]
    inputs: tuple[tuple[int, ...] | None, ...]
    const: tuple[bool, ...]
    output: tuple[int, ...]
    bits: int
    where: str

    def fail(self, message: str, key: str, value: Any = None, accepted: str | None = None) -> SpecError:
        return SpecError(message, source=self.where, key=key, value=value, accepted=accepted)

    def shape(self, i: int) -> tuple[int, ...]:
        shape = self.inputs[i] if i < len(self.inputs) else None
        if shape is None:
            raise self.fail("input shape unknown", key=f"input[{i}]", accepted="a static shape")
        return shape


def activation_dims(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(batch, channels, rows, cols) of an activation: NCHW, (B, L, D) as D x L x 1, (M, K) as K x M x 1."""
    dims = tuple(max(1, d) for d in shape)
    if len(dims) == 0:
        return 1, 1, 1, 1
    if len(dims) == 1:
        return 1, dims[0], 1, 1
    if len(dims) == 2:
        return 1, dims[1], dims[0], 1
    if len(dims) == 3:
        return dims[0], dims[2], dims[1], 1
    return dims[0], dims[1], math.prod(dims[2:-1]), dims[-1]


def _spatial(v: NodeView, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 4:
        return shape[2], shape[3]
    if len(shape) == 3:
        return 1, shape[2]
    raise v.fail("only 1-D and 2-D spatial inputs are supported", key="input[0]", value=shape,
                 accepted="a rank-3 (N, C, L) or rank-4 (N, C, H, W) tensor")


def _pair_attr(v: NodeView, key: str, rank: int, default: int) -> tuple[int, int]:
    values = [int(x) for x in v.attrs.get(key, [default] * rank)]
    if len(values) != rank or any(x < 1 for x in values):
        raise v.fail(f"bad {key}", key=key, value=values, accepted=f"{rank} positive integers")
    return (1, values[0]) if rank == 1 else (values[0], values[1])


def _pads(v: NodeView, rank: int, in_hw: tuple[int, int], out_hw: tuple[int, int], kernel: tuple[int, int],
          stride: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), from ``pads``/``auto_pad``; extra end padding covers ceil_mode."""
    auto = v.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        begin, end = [0, 0], [0, 0]
        if auto != "VALID":
            for ax in range(2):
                total = max(0, (out_hw[ax] - 1) * stride[ax] + (kernel[ax] - 1) * dilation[ax] + 1 - in_hw[ax])
                small, big = total // 2, total - total // 2
                begin[ax], end[ax] = (small, big) if auto == "SAME_UPPER" else (big, small)
        return begin[0], begin[1], end[0], end[1]
    pads = [int(x) for x in v.attrs.get("pads", [0] * 2 * rank)]
    if len(pads) != 2 * rank or any(p < 0 for p in pads):
        raise v.fail("bad pads", key="pads", value=pads, accepted=f"{2 * rank} non-negative integers")
    top, left, bottom, right = (0, pads[0], 0, pads[1]) if rank == 1 else (pads[0], pads[1], pads[2], pads[3])
    extra = [0, 0]
    for ax, (size, pad) in enumerate(((in_hw[0], top + bottom), (in_hw[1], left + right))):
        span = (kernel[ax] - 1) * dilation[ax] + 1
        floor_out = (size + pad - span) // stride[ax] + 1
        if out_hw[ax] > floor_out:  # ceil_mode: the last window hangs over the end
            extra[ax] = (out_hw[ax] - floor_out) * stride[ax]
    return top, left, bottom + extra[0], right + extra[1]


def map_conv(v: NodeView) -> Layer:
    x, w = v.shape(0), v.shape(1)
    if len(w) != len(x) or len(x) not in (3, 4):
        raise v.fail("weight rank must match input rank (3 or 4)", key="input[1]", value=w)
    rank = len(x) - 2
    in_hw, out_hw = _spatial(v, x), _spatial(v, v.output)
    kernel = (1, w[2]) if rank == 1 else (w[2], w[3])
    stride, dilation = _pair_attr(v, "strides", rank, 1), _pair_attr(v, "dilations", rank, 1)
    groups = int(v.attrs.get("group", 1))
    if groups < 1 or x[1] != w[1] * groups:
        raise v.fail("input channels != weight channels x group", key="group", value=groups,
                     accepted=f"group with {x[1]} = {w[1]} x group")
    pads = _pads(v, rank, in_hw, out_hw, kernel, stride, dilation)
    return conv2d(v.name, x[1], w[0], in_hw, kernel, stride=stride, padding=pads, dilation=dilation, groups=groups,
                  batch=x[0], bits=v.bits)


def map_pool(v: NodeView) -> Layer:
    x = v.shape(0)
    in_hw, out_hw = _spatial(v, x), _spatial(v, v.output)
    kind = "max" if "Max" in v.op else "avg"
    if v.op.startswith("Global"):
        return pool2d(v.name, x[1], in_hw, in_hw, stride=1, kind=kind, batch=x[0], bits=v.bits)
    rank = len(x) - 2
    kernel = _pair_attr(v, "kernel_shape", rank, 0)
    stride = _pair_attr(v, "strides", rank, 1)
    pads = _pads(v, rank, in_hw, out_hw, kernel, stride, (1, 1))
    return pool2d(v.name, x[1], in_hw, kernel, stride=stride, padding=pads, kind=kind, batch=x[0], bits=v.bits)


def _mnk(v: NodeView, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(groups, M, N, K) of a (batched, broadcast) matrix product."""
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise v.fail("inner dimensions differ", key="inputs", value=(a, b), accepted="A[..., K] x B[..., K, N]")
    batch_a, batch_b = a2[:-2], b2[:-2]
    width = max(len(batch_a), len(batch_b))
    batch_a, batch_b = (1,) * (width - len(batch_a)) + batch_a, (1,) * (width - len(batch_b)) + batch_b
    groups = math.prod(max(p, q) for p, q in zip(batch_a, batch_b))
    return groups, a2[-2], b2[-1], a2[-1]


def map_matmul(v: NodeView) -> Layer:
    a, b = v.shape(0), v.shape(1)
    if v.op == "Gemm":
        a = a[::-1] if v.attrs.get("transA", 0) else a
        b = b[::-1] if v.attrs.get("transB", 0) else b
        if len(a) != 2 or len(b) != 2:
            raise v.fail("Gemm inputs must be 2-D", key="inputs", value=(a, b))
    groups, m, n, k = _mnk(v, a, b)
    if v.const[1] and not v.const[0]:
        if len(b) <= 2:  # static weights shared by every row of A: one GEMM, batch dims fold into N
            return gemm(v.name, m, n, k, batch=groups, bits=v.bits)
        return Layer(name=v.name, op="gemm", G=groups, K=n, C=k, P=m, Q=1, H=m, W=1,
                     input_bits=v.bits, weight_bits=v.bits, output_bits=v.bits)
    return matmul(v.name, m, n, k, groups=groups, bits=v.bits)


def map_eltwise(v: NodeView, num_inputs: int) -> Layer:
    batch, channels, rows, cols = activation_dims(v.output)
    return eltwise(v.name, channels, (rows, cols), num_inputs=max(1, num_inputs), batch=batch, bits=v.bits)


LAYER_MAPPERS: dict[str, Callable[[NodeView], Layer]] = {
    "Conv": map_conv, "Gemm": map_matmul, "MatMul": map_matmul, "MaxPool": map_pool, "AveragePool": map_pool,
    "GlobalAveragePool": map_pool, "GlobalMaxPool": map_pool,
}
