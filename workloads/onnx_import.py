"""Import an ONNX model as a ``Network``.

The model is loaded, its symbolic batch dimension fixed (``batch``, default 1), and
``onnx.shape_inference`` run so that every tensor has a static shape (where that leaves a shape
unknown, the model is run once on zeros with ``onnx.reference`` to read the shapes off). Nodes are
then mapped:

- ``Conv`` (groups, depthwise, strides, pads, auto_pad, dilations; 1-D and 2-D) -> ``conv``;
- ``Gemm`` (transA/transB) and ``MatMul`` with a constant second operand -> ``gemm``; a
  ``MatMul``/``Gemm`` of two activations -> ``matmul`` with G = the (broadcast) batch dims;
- ``MaxPool``/``AveragePool`` (pads, ceil_mode) and ``GlobalAveragePool``/``GlobalMaxPool`` -> ``pool``;
- elementwise ops (``Add``, ``Mul``, ``Relu``, ``Softmax``, ``LayerNormalization``, ...) -> ``eltwise``
  with ``num_inputs`` = the number of non-constant inputs;
- data-movement ops (``Flatten``, ``Reshape``, ``Transpose``, ``Identity``, ``Concat``, ...) -> no
  layer; edges pass through them from producers to consumers.

Edges follow tensors from the layer that produced them to the layers that read them. Any other
op type is not modelled: edges pass through it and ONE ``warnings.warn`` lists every such op type
with its count. Ops whose inputs are all constants are folded away. A malformed file, a shape
that stays unknown or symbolic, or an inconsistent node raises ``SpecError`` naming the file and node.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network
from acceldse.workloads.onnx_checks import check_node, unknown_shape_error
from acceldse.workloads.onnx_ops import (
    ELTWISE_OPS,
    LAYER_MAPPERS,
    METADATA_OPS,
    PASS_THROUGH_OPS,
    UNMODELLED_MAC_OPS,
    NodeView,
    map_eltwise,
)


class OnnxImportWarning(UserWarning):
    """Some ONNX nodes were not modelled as layers (their op types are listed)."""


def _load(path: Path, batch: int | None) -> Any:
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf and I/O errors of every kind
        raise SpecError(f"not a readable ONNX model ({type(exc).__name__}: {exc})", source=str(path)) from None
    if not model.HasField("graph") or not model.graph.node:
        raise SpecError("ONNX model has no graph nodes", source=str(path), accepted="an ONNX model with a graph")
    initializers = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers or not value.type.HasField("tensor_type"):
            continue
        dims = value.type.tensor_type.shape.dim
        if len(dims) >= 1 and (batch is not None or not dims[0].HasField("dim_value")):
            dims[0].Clear()
            dims[0].dim_value = batch or 1
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    except Exception as exc:
        raise SpecError(f"ONNX shape inference failed ({type(exc).__name__}: {exc})", source=str(path)) from None


def _shapes(model: Any) -> dict[str, tuple[int, ...] | None]:
    """Static shape of every tensor with a known one (``None`` when any dim is unknown or symbolic)."""
    shapes: dict[str, tuple[int, ...] | None] = {}
    graph = model.graph
    for value in (*graph.input, *graph.value_info, *graph.output):
        if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
            continue
        dims = value.type.tensor_type.shape.dim
        static = all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims)
        shapes[value.name] = tuple(int(d.dim_value) for d in dims) if static else None
    for tensor in graph.initializer:
        shapes[tensor.name] = tuple(int(d) for d in tensor.dims)
    return shapes


def _evaluated_shapes(model: Any) -> dict[str, tuple[int, ...]]:
    """Shapes of every node output from running the model once on zeros (``onnx.reference``).

    The fallback when static shape inference leaves a shape unknown (e.g. a ``Reshape`` to ``-1``
    of a dynamically sliced tensor). Returns ``{}`` when the model cannot be run.
    """
    import numpy as np
    import onnx
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    try:
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        names = [out for node in probe.graph.node for out in node.output if out]
        del probe.graph.output[:]
        probe.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in names)
        initializers = {t.name for t in probe.graph.initializer}
        feeds = {}
        for value in probe.graph.input:
            if value.name in initializers:
                continue
            tensor = value.type.tensor_type
            shape = [d.dim_value for d in tensor.shape.dim]
            if any(d < 1 for d in shape) or math.prod(shape) > 1 << 26:
                return {}
            feeds[value.name] = np.zeros(shape, dtype=helper.tensor_dtype_to_np_dtype(tensor.elem_type))
        results = ReferenceEvaluator(probe).run(None, feeds)
        return {name: tuple(int(d) for d in np.shape(r)) for name, r in zip(names, results)}
    except Exception:  # any failure leaves the static shapes as they are
        return {}


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    result: dict[str, Any] = {}
    for attr in node.attribute:
        try:
            result[attr.name] = onnx.helper.get_attribute_value(attr)
        except Exception:
            result[attr.name] = None
    return result


def _toposort(nodes: list[Any], source: str) -> list[Any]:
    """Nodes in dependency order (ONNX requires it; repaired here when a file breaks the rule)."""
    made = {out: i for i, node in enumerate(nodes) for out in node.output if out}
    order: list[Any] = []
    state = [0] * len(nodes)  # 0 new, 1 on stack, 2 done
    for start in range(len(nodes)):
        stack = [(start, 0)]
        while stack:
            i, j = stack.pop()
            if j == 0:
                if state[i] == 2:
                    continue
                state[i] = 1
            deps = [made[t] for t in nodes[i].input if t in made]
            if j < len(deps):
                stack.append((i, j + 1))
                if state[deps[j]] == 1:
                    raise SpecError("ONNX graph has a cycle", source=source,
                                    key=f"node {nodes[i].name or i!r} ({nodes[i].op_type})")
                if state[deps[j]] == 0:
                    stack.append((deps[j], 0))
            elif state[i] != 2:
                state[i] = 2
                order.append(nodes[i])
    return order


def load_onnx(path: str | Path, *, batch: int | None = None, bits: int = 8) -> Network:
    """Load the ONNX model at ``path`` as a ``Network`` (see the module docstring for the op mapping).

    Args:
        path: an ``.onnx`` file. batch: batch size for the graph inputs' first dimension (default:
            the model's, or 1 where it is symbolic). bits: operand precision of every layer in bits.
    Raises:
        SpecError: unreadable or malformed model, unknown/symbolic shapes, inconsistent nodes; an
            unknown shape names the first node whose inputs are known and the check it fails
            (``workloads.onnx_checks``).
    Warns:
        OnnxImportWarning: once, listing each unsupported op type without MACs and how many nodes had it
            (an op with MACs we do not map, e.g. ConvTranspose or LSTM, is a SpecError).
    """
    path = Path(path)
    source = str(path)
    for key, value in (("batch", batch), ("bits", bits)):
        if isinstance(value, str):  # the CLI parses its numbers: a string here is a caller's mistake
            raise SpecError("must be an integer, not a string", source=source, key=key, value=value,
                            accepted="an integer")
    if batch is not None:
        batch = require_int(batch, key="batch", source=source, maximum=1 << 20)
    bits = require_int(bits, key="bits", source=source, maximum=64)
    model, shapes = _model_and_shapes(path, batch)
    nodes = _toposort(list(model.graph.node), source)
    const: set[str] = {t.name for t in model.graph.initializer}
    producers: dict[str, frozenset[str]] = {}
    layers: list[Layer] = []
    edges: list[tuple[str, str]] = []
    unsupported: Counter[str] = Counter()
    for index, node in enumerate(nodes):
        op = node.op_type
        outputs = [t for t in node.output if t]
        feeds = [t for t in node.input if t and t not in const]
        upstream = frozenset().union(*(producers.get(t, frozenset()) for t in feeds))
        if op in METADATA_OPS or (node.input and not feeds):  # shape metadata, or constant folding
            const.update(outputs)
            continue
        if op in UNMODELLED_MAC_OPS:
            raise SpecError(f"node {node.name or index!r} is a {op}, whose multiply-accumulates are not modelled",
                            source=source, accepted="MACs in Conv, Gemm or MatMul nodes (export the model with "
                            "those, e.g. an LSTM unrolled into MatMuls)")
        if op in PASS_THROUGH_OPS or (op not in ELTWISE_OPS and op not in LAYER_MAPPERS):
            if op not in PASS_THROUGH_OPS:
                unsupported[op] += 1
            data = producers.get(node.input[0], upstream) if op == "Reshape" and node.input else upstream
            for out in outputs:
                producers[out] = data
            continue
        in_shapes = tuple(shapes.get(t) if t else None for t in node.input)
        out_shape = shapes.get(outputs[0]) if outputs else None
        if out_shape is None or any(t and shape is None and i < 2 and op in LAYER_MAPPERS
                                    for i, (t, shape) in enumerate(zip(node.input, in_shapes))):
            raise unknown_shape_error(model, nodes, shapes, source, _attrs,
                                      noticed=f"{source}: node {node.name or index!r} ({op})")
        layer = _map_node(node, index, {x.name for x in layers}, in_shapes, out_shape,
                          tuple(t in const for t in node.input), len(feeds), bits, source)
        layers.append(layer)
        edges.extend((p, layer.name) for p in sorted(upstream))
        for out in outputs:
            producers[out] = frozenset({layer.name})
    if unsupported:
        listed = ", ".join(f"{op} x{count}" for op, count in sorted(unsupported.items()))
        warnings.warn(f"{source}: {sum(unsupported.values())} node(s) of unsupported op types were not modelled "
                      f"as layers (edges pass through them): {listed}", OnnxImportWarning, stacklevel=2)
    if not layers:
        raise SpecError("no supported layers in the ONNX model", source=source,
                        accepted="a model with Conv, Gemm, MatMul, pooling or elementwise nodes")
    return Network(name=path.stem, layers=tuple(layers), edges=tuple(dict.fromkeys(edges)),
                   source=source)


def _model_and_shapes(path: Path, batch: int | None) -> tuple[Any, dict[str, tuple[int, ...] | None]]:
    """The shape-inferred model and every tensor's static shape (evaluated on zeros where inference stops)."""
    model = _load(path, batch)
    shapes = _shapes(model)
    outputs = [out for node in model.graph.node for out in node.output if out]
    if any(shapes.get(out) is None for out in outputs):
        for tensor_name, evaluated in _evaluated_shapes(model).items():
            if shapes.get(tensor_name) is None:
                shapes[tensor_name] = evaluated
    return model, shapes


def _map_node(node: Any, index: int, taken: set[str], in_shapes: tuple[tuple[int, ...] | None, ...],
              out_shape: tuple[int, ...], const: tuple[bool, ...], feeds: int, bits: int, source: str) -> Layer:
    """One layer from a Conv/Gemm/MatMul/pooling/elementwise node; errors name the node."""
    op = node.op_type
    base = node.name or f"{op.lower()}_{index}"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    where = f"{source}: node {node.name or index!r} ({op})"
    problem = check_node(op, _attrs(node), [s for s in in_shapes if s is not None])
    if problem is not None:
        raise SpecError(problem[0], source=where, accepted=problem[1])
    view = NodeView(name=name, op=op, attrs=_attrs(node), inputs=in_shapes, const=const, output=out_shape,
                    bits=bits, where=where)
    try:
        return map_eltwise(view, feeds) if op in ELTWISE_OPS else LAYER_MAPPERS[op](view)
    except SpecError as exc:
        if exc.source and exc.source.startswith(source):
            raise
        raise SpecError(str(exc), source=where) from None
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError) as exc:
        raise SpecError(f"malformed node ({type(exc).__name__}: {exc})", source=where) from None
