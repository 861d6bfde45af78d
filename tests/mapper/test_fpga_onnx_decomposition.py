"""Optimiser and CLI with decomposition driven by real ONNX weights (max_error)."""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mapper.fpga import optimise
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


def test_optimiser_decomposes_only_what_max_error_allows(tmp_path: Path) -> None:
    _model(tmp_path / "m.onnx")
    net = load_onnx(tmp_path / "m.onnx", bits=16)
    w = onnx_weights(tmp_path / "m.onnx")
    res = optimise(net, "zc706", batch=16, decompose=True, weights=w, max_error=1e-3, min_rank_fraction=0.25)
    assert "fc" not in res.decomposition  # full-rank 10 x 1152 loses too much at rank 2-5
    assert res.decomposition["conv"] == ("svd", 8)  # rank-3 conv: SVD at rank 8 is exact, CP is not
    assert res.decomposition_errors["conv"] < 1e-6


def test_cli_decompose_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    _model(tmp_path / "m.onnx")
    assert main(["fpga", "--workload", str(tmp_path / "m.onnx"), "--platform", "zc706", "--batch", "8",
                 "--decompose", "--max-error", "0.001", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert all(v <= 1e-3 for v in data["decomposition_errors"].values())
    assert main(["fpga", "--workload", "lenet", "--max-error", "0.1"]) == 2
