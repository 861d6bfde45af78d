"""ONNX import: graphs built in-test with onnx.helper, and a torch.onnx export when torch is present."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import onnx
import onnx_graphs as onnx_models
import pytest

from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload
from acceldse.workloads.onnx_import import OnnxImportWarning, load_onnx


def _save(model: onnx.ModelProto, tmp_path: Path, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def test_resnet_block(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = load_onnx(_save(onnx_models.resnet_block(), tmp_path))
    assert [layer.name for layer in net] == ["conv1", "relu1", "conv2", "add", "relu2"]
    conv = net["conv1"]
    assert (conv.op, conv.C, conv.K, conv.P, conv.Q, conv.padding) == ("conv", 64, 64, 56, 56, (1, 1, 1, 1))
    assert net.macs == 2 * 56 * 56 * 64 * 64 * 9
    assert net["add"].num_inputs == 2 and net["relu1"].num_inputs == 1
    assert set(net.edges) == {("conv1", "relu1"), ("relu1", "conv2"), ("conv2", "add"), ("add", "relu2")}


def test_batch_override(tmp_path: Path) -> None:
    path = _save(onnx_models.resnet_block(batch="N"), tmp_path)
    assert load_onnx(path)["conv1"].N == 1
    net = load_onnx(path, batch=4)
    assert net["conv1"].N == 4 and net["add"].N == 4
    assert load_workload(str(path), batch=2).macs == 2 * load_onnx(path).macs
    with pytest.raises(SpecError, match="batch"):
        load_onnx(path, batch=0)


def test_depthwise_separable(tmp_path: Path) -> None:
    net = load_onnx(_save(onnx_models.separable_block(), tmp_path))
    dw, pw, pool, gap, fc = net.layers
    assert (dw.G, dw.C, dw.K, dw.P, dw.stride, dw.padding) == (32, 1, 1, 56, (2, 2), (0, 0, 1, 1))
    assert (pw.G, pw.C, pw.K, pw.P) == (1, 32, 64, 56)
    assert (pool.op, pool.pool_kind, pool.P) == ("pool", "max", 28)  # ceil_mode: ceil((56-3)/2)+1 = 28
    assert (gap.pool_kind, gap.R, gap.P) == ("avg", 28, 1)
    assert (fc.op, fc.gemm) == ("gemm", (1, 10, 64))
    assert ("gap", "fc") in net.edges  # through the Flatten
    assert net.macs == 56 * 56 * 32 * 9 + 56 * 56 * 32 * 64 + 640


def test_attention_block(tmp_path: Path) -> None:
    net = load_onnx(_save(onnx_models.attention_block(tokens=16, hidden=64, heads=4), tmp_path), batch=2)
    assert net["q_proj"].op == "gemm" and net["q_proj"].N == 2 and net["q_proj"].gemm == (32, 64, 64)
    qk, av = net["qk"], net["av"]
    assert (qk.op, qk.G, qk.P, qk.K, qk.C) == ("matmul", 8, 16, 16, 16)
    assert (av.op, av.G, av.P, av.K, av.C) == ("matmul", 8, 16, 16, 16)
    assert sorted(net.predecessors("qk")) == ["k_proj", "q_proj"]  # through Reshape/Transpose
    assert sorted(net.predecessors("av")) == ["softmax", "v_proj"]
    assert net["softmax"].G == 4 and net["softmax"].N == 2
    assert net["scale_div"].num_inputs == 1  # the scale is a constant
    assert sorted(net.predecessors("residual")) == ["out_proj"]
    assert net.macs == 2 * (4 * 16 * 64 * 64 + 2 * 4 * 16 * 16 * 16)


@pytest.mark.parametrize("op", ["ConvTranspose", "LSTM"])
def test_ops_with_macs_we_do_not_map_are_refused(tmp_path: Path, op: str) -> None:
    model = onnx_models.with_unsupported()
    model.graph.node[1].op_type = op  # the first LRN becomes an op whose MACs would be dropped
    model.graph.node[1].ClearField("attribute")
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    with pytest.raises(SpecError, match=rf"m.onnx.*node 'lrn' is a {op}, whose multiply-accumulates are not modelled"):
        load_onnx(path)


def test_unsupported_ops_warn_once(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = load_onnx(_save(onnx_models.with_unsupported(), tmp_path))
    ours = [w for w in caught if issubclass(w.category, OnnxImportWarning)]
    assert len(ours) == 1
    assert "LRN x2" in str(ours[0].message) and "ReduceMax x1" in str(ours[0].message)
    assert [layer.name for layer in net] == ["conv", "add"]
    assert net.edges == (("conv", "add"),)


def test_malformed_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not protobuf \xff\xff\xff")
    with pytest.raises(SpecError, match="bad.onnx"):
        load_onnx(bad)
    with pytest.raises(SpecError, match="cannot|readable"):
        load_onnx(tmp_path / "missing.onnx")
    model = onnx_models.resnet_block()
    model.graph.node[2].input[1] = "nowhere"  # conv2 weight does not exist: shape unknown
    with pytest.raises(SpecError) as info:
        load_onnx(_save(model, tmp_path, "dangling.onnx"))
    assert "dangling.onnx" in str(info.value) and "conv2" in str(info.value)
    model = onnx_models.resnet_block()
    del model.graph.node[:]
    with pytest.raises(SpecError, match="no graph nodes"):
        load_onnx(_save(model, tmp_path, "empty.onnx"))


def test_torch_export_small_cnn(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU6(),
        nn.Conv2d(16, 32, 1), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    ).eval()
    path = tmp_path / "cnn.onnx"
    try:
        torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False, opset_version=17)
    except Exception as exc:  # exporter back-ends vary between torch versions
        pytest.skip(f"torch.onnx.export unavailable: {exc}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OnnxImportWarning)
        net = load_onnx(path)
    macs = 16 * 16 * 16 * 27 + 16 * 16 * 16 * 9 + 16 * 16 * 32 * 16 + 320
    assert net.macs == macs
    convs = [layer for layer in net if layer.op == "conv"]
    assert [(c.G, c.C, c.K, c.P) for c in convs] == [(1, 3, 16, 16), (16, 1, 1, 16), (1, 16, 32, 16)]
    assert net.layers[-1].op == "gemm"


def _single(tmp_path: Path, node: onnx.NodeProto, x_shape: list[int | str], inits: list[tuple[str, list[int]]],
            name: str) -> Path:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    tensors = [numpy_helper.from_array(np.zeros(shape, dtype=np.float32), n) for n, shape in inits]
    model = helper.make_model(helper.make_graph([node], "g", [x], [y], initializer=tensors),
                              opset_imports=[helper.make_opsetid("", 17)])
    return _save(model, tmp_path, name)


def test_conv1d_same_lower_dilated(tmp_path: Path) -> None:
    from onnx import helper

    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad="SAME_LOWER", dilations=[2])
    conv = load_onnx(_single(tmp_path, node, [2, 8, 100], [("w", [16, 8, 4])], "c1d.onnx")).layers[0]
    # "same" padding for the effective kernel (4 - 1) * 2 + 1 = 7: 6 in total, 3 at each end
    assert (conv.N, conv.H, conv.W, conv.S, conv.dilation, conv.Q, conv.padding) == (
        2, 1, 100, 4, (1, 2), 100, (0, 3, 0, 3))
    assert conv.macs == 2 * 100 * 16 * 8 * 4


def test_gemm_transposes_and_broadcast_matmul(tmp_path: Path) -> None:
    from onnx import helper

    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="g", transA=1)
    layer = load_onnx(_single(tmp_path, node, [32, 5], [("w", [32, 7])], "gemm.onnx")).layers[0]
    assert (layer.op, layer.gemm) == ("gemm", (5, 7, 32))
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="m")
    layer = load_onnx(_single(tmp_path, node, [3, 4, 10, 6], [("w", [4, 6, 9])], "bmm.onnx")).layers[0]
    assert (layer.op, layer.G, layer.gemm) == ("gemm", 12, (10, 9, 6))  # static weights per broadcast group
    node = helper.make_node("Softmax", ["x"], ["y"], name="s")
    layer = load_onnx(_single(tmp_path, node, [2, 12, 197, 197], [], "sm.onnx")).layers[0]
    assert (layer.op, layer.N, layer.G, layer.P, layer.Q, layer.macs) == ("eltwise", 2, 12, 197, 197, 0)


def test_symbolic_inner_dimension_is_an_error(tmp_path: Path) -> None:
    from onnx import helper

    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")
    path = _single(tmp_path, node, [1, "seq", 64], [("w", [64, 64])], "sym.onnx")
    with pytest.raises(SpecError) as info:
        load_onnx(path)
    assert "sym.onnx" in str(info.value) and "proj" in str(info.value)


def test_torch_export_attention_needs_evaluated_shapes(tmp_path: Path) -> None:
    """torch's chunk + view(B, L, h, -1) leaves shapes unknown to static inference; they are evaluated."""
    torch: Any = pytest.importorskip("torch")
    nn = torch.nn

    class Block(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, d: int = 64, heads: int = 4) -> None:
            super().__init__()
            self.heads, self.qkv, self.out = heads, nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc1, self.fc2, self.ln = nn.Linear(d, 256), nn.Linear(256, d), nn.LayerNorm(d)

        def forward(self, x: Any) -> Any:
            b, n, d = x.shape
            q, k, v = (t.view(b, n, self.heads, -1).transpose(1, 2) for t in self.qkv(self.ln(x)).chunk(3, -1))
            attn = torch.softmax(q @ k.transpose(-1, -2) / 4.0, -1)
            x = x + self.out((attn @ v).transpose(1, 2).reshape(b, n, d))
            return x + self.fc2(torch.nn.functional.gelu(self.fc1(x)))

    path = tmp_path / "attn.onnx"
    try:
        torch.onnx.export(Block().eval(), (torch.zeros(2, 10, 64),), str(path), dynamo=False, opset_version=17,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    except Exception as exc:
        pytest.skip(f"torch.onnx.export unavailable: {exc}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OnnxImportWarning)
        net = load_onnx(path, batch=2)
    assert net.macs == 2 * (10 * (4 * 64 * 64 + 2 * 64 * 256) + 2 * 4 * 10 * 10 * 16)
    matmuls = [layer for layer in net if layer.op == "matmul"]
    assert [(m.G, m.P, m.K, m.C) for m in matmuls] == [(8, 10, 10, 16), (8, 10, 16, 10)]
    assert len(net.predecessors(matmuls[1].name)) == 2  # softmax and the V slice of the QKV projection
