"""Small ONNX graphs built with ``onnx.helper`` for the importer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _init(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def _model(nodes: list[Any], inputs: list[Any], outputs: list[Any], inits: list[Any], name: str) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def resnet_block(batch: int | str = 1) -> onnx.ModelProto:
    """conv3x3/1 -> relu -> conv3x3/1 (+) projection-free identity shortcut -> relu, 64 ch, 56x56."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 64, 56, 56])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 64, 56, 56])
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu2"),
    ]
    return _model(nodes, [x], [y], [_init("w1", 64, 64, 3, 3), _init("w2", 64, 64, 3, 3), _init("b2", 64)], "block")


def separable_block() -> onnx.ModelProto:
    """Depthwise 3x3/2 (SAME_UPPER) -> pointwise 1x1 -> maxpool 3/2 ceil_mode -> GAP -> flatten -> Gemm."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 112, 112])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    nodes = [
        helper.make_node("Conv", ["x", "wd"], ["d"], name="dw", group=32, strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Conv", ["d", "wp"], ["p"], name="pw"),
        helper.make_node("MaxPool", ["p"], ["m"], name="pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        helper.make_node("GlobalAveragePool", ["m"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    inits = [_init("wd", 32, 1, 3, 3), _init("wp", 64, 32, 1, 1), _init("wf", 10, 64), _init("bf", 10)]
    return _model(nodes, [x], [y], inits, "separable")


def attention_block(tokens: int = 16, hidden: int = 64, heads: int = 4) -> onnx.ModelProto:
    """Multi-head self-attention: Q/K/V MatMuls, reshape/transpose to heads, QK^T, softmax, .V."""
    d = hidden // heads
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", tokens, hidden])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", tokens, hidden])
    shape = numpy_helper.from_array(np.array([0, tokens, heads, d], dtype=np.int64), "heads_shape")
    back = numpy_helper.from_array(np.array([0, tokens, hidden], dtype=np.int64), "back_shape")
    nodes = []
    for t in "qkv":
        nodes += [
            helper.make_node("MatMul", ["x", f"w{t}"], [f"{t}0"], name=f"{t}_proj"),
            helper.make_node("Reshape", [f"{t}0", "heads_shape"], [f"{t}1"], name=f"{t}_reshape"),
            helper.make_node("Transpose", [f"{t}1"], [f"{t}2"], name=f"{t}_transpose",
                             perm=[0, 2, 3, 1] if t == "k" else [0, 2, 1, 3]),
        ]
    nodes += [
        helper.make_node("MatMul", ["q2", "k2"], ["s"], name="qk"),
        helper.make_node("Div", ["s", "scale"], ["s2"], name="scale_div"),
        helper.make_node("Softmax", ["s2"], ["a"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["a", "v2"], ["o"], name="av"),
        helper.make_node("Transpose", ["o"], ["o1"], name="o_transpose", perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["o1", "back_shape"], ["o2"], name="o_reshape"),
        helper.make_node("MatMul", ["o2", "wo"], ["y0"], name="out_proj"),
        helper.make_node("Add", ["y0", "x"], ["y"], name="residual"),
    ]
    inits = [_init(f"w{t}", hidden, hidden) for t in "qkvo"]
    inits += [shape, back, numpy_helper.from_array(np.array(8.0, dtype=np.float32), "scale")]
    return _model(nodes, [x], [y], inits, "attention")


def with_unsupported() -> onnx.ModelProto:
    """A conv, two LRNs and a ReduceMax (all unsupported), then an add."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("LRN", ["c"], ["l"], name="lrn", size=3),
        helper.make_node("LRN", ["l"], ["l2"], name="lrn2", size=3),
        helper.make_node("ReduceMax", ["l2"], ["m"], name="rmax", keepdims=1),
        helper.make_node("Add", ["m", "l2"], ["y"], name="add"),
    ]
    return _model(nodes, [x], [y], [_init("w", 8, 8, 1, 1)], "unsupported")


def low_rank_conv_fc(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Save a conv (rank-3 weights) -> relu -> flatten -> fc model with real initializers; return the weights."""
    rng = np.random.default_rng(0)
    conv_w = (rng.standard_normal((32, 3)) @ rng.standard_normal((3, 16 * 9))).reshape(32, 16, 3, 3)  # rank 3
    fc_w = rng.standard_normal((32 * 6 * 6, 10))  # Gemm B (K x N), transB = 0, full rank
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    nodes = [helper.make_node("Conv", ["x", "cw"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat", axis=1),
             helper.make_node("Gemm", ["f", "fw"], ["y"], name="fc")]
    inits = [numpy_helper.from_array(conv_w.astype(np.float32), "cw"),
             numpy_helper.from_array(fc_w.astype(np.float32), "fw")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))
    return conv_w, fc_w
