"""Optimiser and CLI with decomposition driven by real ONNX weights (max_error)."""

import json
from pathlib import Path

import pytest

from acceldse.mapper.fpga import optimise
from acceldse.workloads.onnx_import import load_onnx
from acceldse.workloads.onnx_weights import onnx_weights
from tests.workloads.onnx_graphs import low_rank_conv_fc


def test_optimiser_decomposes_only_what_max_error_allows(tmp_path: Path) -> None:
    low_rank_conv_fc(tmp_path / "m.onnx")
    net = load_onnx(tmp_path / "m.onnx", bits=16)
    w = onnx_weights(tmp_path / "m.onnx")
    res = optimise(net, "zc706", batch=16, decompose=True, weights=w, max_error=1e-3, min_rank_fraction=0.25)
    assert "fc" not in res.decomposition  # full-rank 10 x 1152 loses too much at rank 2-5
    assert res.decomposition["conv"] == ("svd", 8)  # rank-3 conv: SVD at rank 8 is exact, CP is not
    assert res.decomposition_errors["conv"] < 1e-6


def test_cli_decompose_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    low_rank_conv_fc(tmp_path / "m.onnx")
    assert main(["fpga", "--workload", str(tmp_path / "m.onnx"), "--platform", "zc706", "--batch", "8",
                 "--decompose", "--max-error", "0.001", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert all(v <= 1e-3 for v in data["decomposition_errors"].values())
    assert main(["fpga", "--workload", "lenet", "--max-error", "0.1"]) == 2
