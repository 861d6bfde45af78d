"""Real ONNX weights feed the decomposition: low-rank layers are decomposed within max_error."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from workloads.decompose import Decomposition, reconstruction_error
from workloads.errors import SpecError
from workloads.onnx_import import load_onnx
from workloads.onnx_weights import onnx_weights


def _model(path: Path) -> tuple[np.ndarray, np.ndarray]:
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


def test_weights_keyed_by_layer_names(tmp_path: Path) -> None:
    conv_w, fc_w = _model(tmp_path / "m.onnx")
    net = load_onnx(tmp_path / "m.onnx")
    w = onnx_weights(tmp_path / "m.onnx")
    assert set(w) == {layer.name for layer in net if layer.has_weights}
    assert np.allclose(w["conv"], conv_w, atol=1e-5)
    assert w["fc"].shape == (10, 32 * 6 * 6) and np.allclose(w["fc"], fc_w.T, atol=1e-5)
    assert reconstruction_error(w["conv"], Decomposition("svd", 3)) < 1e-6


def test_missing_file() -> None:
    with pytest.raises(SpecError):
        onnx_weights("/nonexistent.onnx")
