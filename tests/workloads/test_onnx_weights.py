"""Real ONNX weights feed the decomposition: low-rank layers are decomposed within max_error."""

from pathlib import Path

import numpy as np
import pytest
from onnx_graphs import low_rank_conv_fc

from acceldse.workloads.decompose import Decomposition, reconstruction_error
from acceldse.workloads.errors import SpecError
from acceldse.workloads.onnx_import import load_onnx
from acceldse.workloads.onnx_weights import onnx_weights


def test_weights_keyed_by_layer_names(tmp_path: Path) -> None:
    conv_w, fc_w = low_rank_conv_fc(tmp_path / "m.onnx")
    net = load_onnx(tmp_path / "m.onnx")
    w = onnx_weights(tmp_path / "m.onnx")
    assert set(w) == {layer.name for layer in net if layer.has_weights}
    assert np.allclose(w["conv"], conv_w, atol=1e-5)
    assert w["fc"].shape == (10, 32 * 6 * 6) and np.allclose(w["fc"], fc_w.T, atol=1e-5)
    assert reconstruction_error(w["conv"], Decomposition("svd", 3)) < 1e-6


def test_missing_file() -> None:
    with pytest.raises(SpecError):
        onnx_weights("/nonexistent.onnx")
