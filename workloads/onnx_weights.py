"""Real weights of an ONNX model's Conv / Gemm / MatMul layers, keyed by the layer names ``load_onnx`` uses.

The arrays are returned output-channel first, as ``workloads.decompose`` expects:
Conv ``W[K, C, R, S]`` as stored; Gemm ``W[N, K]`` (transposed when ``transB`` is 0); MatMul with a
constant second operand ``W[N, K]`` (its transpose).  Layer names follow ``load_onnx``: the node's
name, or ``<op>_<index>`` in topological order for unnamed nodes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import path_exists


def onnx_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Weights per layer name of the Conv, Gemm and MatMul nodes whose weight is an initializer."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as err:  # pragma: no cover - onnx is a dependency
        raise SpecError("the onnx package is needed to read weights", source=str(path)) from err
    from acceldse.workloads.onnx_import import _toposort

    path = Path(path)
    if not path_exists(path, file=True):
        raise SpecError("file not found", source=str(path), accepted="an .onnx file")
    try:
        model = onnx.load(str(path))
    except Exception as err:  # onnx raises several error types for unreadable files
        raise SpecError(f"unreadable ONNX model ({type(err).__name__})", source=str(path)) from None
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out: dict[str, np.ndarray] = {}
    seen: set[str] = set()
    for index, node in enumerate(_toposort(list(model.graph.node), str(path))):
        if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2 or node.input[1] not in inits:
            continue
        base = node.name or f"{node.op_type.lower()}_{index}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        w = np.asarray(inits[node.input[1]], dtype=np.float64)
        if node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            w = w if trans_b else w.T
        elif node.op_type == "MatMul":
            w = w.T
        out[name] = w
    return out
