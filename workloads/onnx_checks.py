"""Why an ONNX node has no static output shape: the check that fails, for the node that fails it.

Shape inference leaves a shape unknown for different reasons that need different fixes: a symbolic
dimension in a graph input, a 0-size dimension, a stride or dilation of 0, a kernel larger than its
padded input, channels that do not match the groups, a MatMul/Gemm whose inner dimensions differ, or
an op that shape inference does not know. ``unknown_shape_error`` finds the first node (in
dependency order) whose inputs have known shapes and whose output does not, and names the check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from acceldse.workloads.errors import SpecError

Shape = tuple[int, ...]
CONV_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")


def symbolic_inputs(model: Any) -> dict[str, list[str]]:
    """Graph input -> its symbolic (or missing) dimensions, written ``name@axis``."""
    initializers = {t.name for t in model.graph.initializer}
    found: dict[str, list[str]] = {}
    for value in model.graph.input:
        if value.name in initializers or not value.type.HasField("tensor_type"):
            continue
        dims = value.type.tensor_type.shape.dim
        bad = [f"{d.dim_param or '?'}@{axis}" for axis, d in enumerate(dims) if not d.HasField("dim_value")]
        if bad:
            found[value.name] = bad
    return found


def unknown_shape_error(model: Any, nodes: Sequence[Any], shapes: dict[str, Shape | None], source: str,
                        attrs: Callable[[Any], dict[str, Any]], noticed: str) -> SpecError:
    """The most specific error for a graph where some node's output shape stayed unknown (``noticed``:
    where the importer met it, named when nothing more specific is found)."""
    known = {t.name for t in model.graph.initializer} | {v.name for v in model.graph.input}
    known |= {t for node in nodes for t in node.output if t}
    for index, node in enumerate(nodes):
        for t in node.input:
            if t and t not in known:
                return SpecError(f"input {t!r} is not produced by any node, initializer or graph input",
                                 source=f"{source}: node {node.name or index!r} ({node.op_type})",
                                 accepted="every node input produced by the graph")
    for value, dims in symbolic_inputs(model).items():
        return SpecError(f"graph input {value!r} has symbolic dimension(s) {', '.join(dims)}", source=noticed,
                         accepted="static dimensions (only the batch dimension may be symbolic: batch= sets it)")
    for index, node in enumerate(nodes):
        ins = [t for t in node.input if t]
        outs = [t for t in node.output if t]
        if any(shapes.get(t) is None for t in ins) or all(shapes.get(t) is not None for t in outs):
            continue
        where = f"{source}: node {node.name or index!r} ({node.op_type})"
        in_shapes = [shape for t in node.input if t and (shape := shapes.get(t)) is not None]
        problem = check_node(node.op_type, attrs(node), in_shapes)
        if problem is None:
            return SpecError(f"ONNX shape inference cannot infer the shape of output {outs[0]!r}", source=where,
                             accepted="a model whose shapes onnx.shape_inference infers (static, known op types)")
        message, accepted = problem
        return SpecError(message, source=where, accepted=accepted)
    return SpecError("a tensor shape stayed unknown after shape inference", source=noticed,
                     accepted="a model whose shapes onnx.shape_inference infers")


def check_node(op: str, attrs: dict[str, Any], shapes: Sequence[Shape]) -> tuple[str, str] | None:
    """(what is wrong, what is accepted) for a node whose inputs have these shapes, or None."""
    try:
        return _check_node(op, attrs, shapes)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:  # attributes of the wrong type or length
        return f"malformed attributes ({type(exc).__name__}: {exc})", f"{op} attributes as ONNX defines them"


def _check_node(op: str, attrs: dict[str, Any], shapes: Sequence[Shape]) -> tuple[str, str] | None:
    for i, shape in enumerate(shapes):
        if any(d == 0 for d in shape):
            return f"0-size dimension in input {i} (shape {shape})", "every dimension >= 1"
    if op in CONV_OPS and shapes:
        return _check_window(op, attrs, shapes)
    if op in ("MatMul", "Gemm") and len(shapes) >= 2:
        return _check_matmul(op, attrs, shapes[0], shapes[1])
    return None


def _check_window(op: str, attrs: dict[str, Any], shapes: Sequence[Shape]) -> tuple[str, str] | None:
    x = shapes[0]
    spatial = max(len(x) - 2, 0)
    if op in ("Conv", "ConvTranspose") and len(shapes) >= 2:
        w = shapes[1]
        kernel = list(attrs.get("kernel_shape") or w[2:])
        group = int(attrs.get("group") or 1)
        in_ch = w[0] if op == "ConvTranspose" else w[1] * group
        if group < 1 or len(x) < 2 or x[1] != in_ch:
            return (f"input channels {x[1] if len(x) > 1 else '?'} do not match the weights {w} with group {group}",
                    "input channels = weight channels x group")
    else:
        kernel = list(attrs.get("kernel_shape") or [])
    for name in ("strides", "dilations"):
        values = list(attrs.get(name) or [])
        if any(v < 1 for v in values):
            return f"{name} must be >= 1 (got {values})", f"{name} >= 1 on every axis"
    if op == "ConvTranspose" or len(kernel) != spatial:
        return None
    dilations = list(attrs.get("dilations") or [1] * spatial)
    pads = list(attrs.get("pads") or [0] * 2 * spatial)
    auto_pad = attrs.get("auto_pad") or b"NOTSET"
    if (auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)) != "NOTSET":
        return None
    padded = [x[2 + a] + pads[a] + pads[a + spatial] for a in range(spatial)]
    effective = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    if any(e > p for e, p in zip(effective, padded)):
        return (f"kernel {'x'.join(map(str, effective))} (dilated) is larger than the padded input "
                f"{'x'.join(map(str, padded))}", "a kernel no larger than the padded input")
    return None


def _check_matmul(op: str, attrs: dict[str, Any], a: Shape, b: Shape) -> tuple[str, str] | None:
    if op == "Gemm":
        a = a[::-1] if attrs.get("transA") else a
        b = b[::-1] if attrs.get("transB") else b
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return (f"inner dimensions differ: {a} x {b} ({a2[-1]} != {b2[-2]})",
                "A (..., M, K) x B (..., K, N) with the same K")
    batch_a, batch_b = a2[:-2], b2[:-2]
    for da, db in zip(reversed(batch_a), reversed(batch_b)):
        if da != db and 1 not in (da, db):
            return f"batch dimensions {batch_a} and {batch_b} do not broadcast", "broadcastable batch dimensions"
    if math.prod(a2) == 0 or math.prod(b2) == 0:
        return "0-size operand", "every dimension >= 1"
    return None
