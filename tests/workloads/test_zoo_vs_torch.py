"""Zoo CNNs against independent torch builds: MACs, weights and every conv's shape, exactly."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import torch_reference  # noqa: E402

from acceldse.workloads.onnx_import import OnnxImportWarning, load_onnx  # noqa: E402
from acceldse.workloads.zoo import build  # noqa: E402


@pytest.mark.parametrize("name", list(torch_reference.BUILDERS))
def test_zoo_matches_torch(name: str) -> None:
    torch.manual_seed(0)
    macs, weights, convs = torch_reference.count(torch_reference.BUILDERS[name]())
    net = build(name)
    assert net.macs == macs
    assert sum(layer.weight_elems for layer in net if layer.op in ("conv", "gemm")) == weights
    ours = [(layer.G * layer.C, layer.G * layer.K, layer.R, layer.stride[0], layer.G, layer.P)
            for layer in net if layer.op == "conv"]
    assert sorted(ours) == sorted(convs)


@pytest.mark.slow
def test_torch_onnx_export_of_resnet18_matches_zoo(tmp_path: Path) -> None:
    model = torch_reference.BUILDERS["resnet18"]().eval()
    path = tmp_path / "resnet18.onnx"
    try:
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False, opset_version=17,
                          do_constant_folding=True)
    except Exception as exc:
        pytest.skip(f"torch.onnx.export unavailable: {exc}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OnnxImportWarning)
        net = load_onnx(path)
    zoo = build("resnet18")
    assert net.macs == zoo.macs
    assert sum(layer.op == "eltwise" and layer.num_inputs == 2 for layer in net) == 8  # the residual adds
    assert sorted(layer.gemm for layer in net if layer.has_weights) == sorted(
        layer.gemm for layer in zoo if layer.has_weights)
