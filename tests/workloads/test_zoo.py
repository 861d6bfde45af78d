"""Zoo networks against published MAC and parameter counts, and structural properties."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network
from acceldse.workloads.zoo import ZOO, build, describe_rows, list_workloads, parameters


def params(net: Network) -> int:
    """Static weights (conv + gemm); matmul 'weights' are activations. Biases/BN are not counted."""
    return sum(layer.weight_elems for layer in net if layer.op in ("conv", "gemm"))


# (name, published MACs, rel tol, published params incl. biases/BN, rel tol) -- torchvision model docs
# (GFLOPS there are multiply-accumulates) and the papers.
PUBLISHED = [
    ("alexnet", 0.714e9, 0.002, 61.10e6, 0.002),
    ("vgg16", 15.47e9, 0.001, 138.36e6, 0.001),
    ("resnet18", 1.81e9, 0.003, 11.69e6, 0.002),
    ("resnet50", 4.09e9, 0.002, 25.56e6, 0.003),
    ("mobilenet_v1", 569e6, 0.002, 4.24e6, 0.01),
    ("mobilenet_v2", 300e6, 0.005, 3.50e6, 0.01),
    ("vit_b16", 17.56e9, 0.001, 86.57e6, 0.004),
]


@pytest.mark.parametrize(("name", "macs", "mac_tol", "weights", "weight_tol"), PUBLISHED)
def test_published_totals(name: str, macs: float, mac_tol: float, weights: float, weight_tol: float) -> None:
    net = build(name)
    assert net.macs == pytest.approx(macs, rel=mac_tol)
    assert params(net) == pytest.approx(weights, rel=weight_tol)
    assert params(net) <= weights  # biases and batch-norm parameters are not weights here


def test_exact_resnet50_and_resnet18() -> None:
    # conv/fc weight counts: torchvision totals (25,557,032 / 11,689,512) less biases and BN parameters
    assert params(build("resnet50")) == 25_557_032 - 1000 - 2 * 26_560
    assert params(build("resnet18")) == 11_689_512 - 1000 - 2 * 4_800
    assert params(build("mobilenet_v2")) == 3_504_872 - 1000 - 2 * 17_056


def _transformer_layer_macs(tokens: int, keys: int, hidden: int = 768, ffn: int = 3072) -> int:
    return tokens * (4 * hidden * hidden + 2 * hidden * ffn) + 2 * tokens * keys * hidden


@pytest.mark.parametrize("seq_len", [1, 64, 128, 384])
def test_bert_layer_formula(seq_len: int) -> None:
    net = build("bert_base", seq_len=seq_len)
    assert net.macs == _transformer_layer_macs(seq_len, seq_len)
    assert build("bert_base", seq_len=seq_len, num_layers=12).macs == 12 * net.macs
    assert params(net) == 4 * 768 * 768 + 2 * 768 * 3072


def test_vit_formula() -> None:
    net = build("vit_b16")
    patch = 196 * 768 * 3 * 16 * 16
    assert net.macs == patch + 12 * _transformer_layer_macs(197, 197) + 768 * 1000
    qk = net["encoder.0.attn.qk"]
    assert (qk.op, qk.G, qk.P, qk.K, qk.C) == ("matmul", 12, 197, 197, 64)
    av = net["encoder.0.attn.av"]
    assert (av.G, av.P, av.K, av.C) == (12, 197, 64, 197)
    assert net["patch_embed"].R == 16 and net["patch_embed"].stride == (16, 16)


def test_gpt2_prefill_and_decode() -> None:
    seq = 256
    pre = build("gpt2_prefill", seq_len=seq)
    assert pre.macs == 12 * _transformer_layer_macs(seq, seq) + 768 * 50257
    dec = build("gpt2_decode", kv_len=1000)
    assert dec.macs == 12 * _transformer_layer_macs(1, 1000) + 768 * 50257
    qk = dec["h.0.attn.qk"]
    assert (qk.P, qk.K, qk.C, qk.G) == (1, 1000, 64, 12)
    assert all(layer.P * layer.Q == 1 for layer in dec if layer.op == "gemm")
    # decode is memory-bound: every GEMM MAC reads its own 8-bit weight (one byte per MAC)
    weight_bytes = sum(layer.weight_bytes for layer in dec if layer.op == "gemm")
    gemm_macs = sum(layer.macs for layer in dec if layer.op == "gemm")
    assert weight_bytes == gemm_macs
    assert build("gpt2_decode", kv_len=1000, batch=4).macs == 4 * dec.macs


def test_residual_edges_are_real() -> None:
    net = build("resnet50")
    add = "layer1.0.add"
    assert sorted(net.predecessors(add)) == ["layer1.0.conv3", "layer1.0.downsample"]
    assert sorted(net.predecessors("layer1.1.add")) == ["layer1.0.add", "layer1.1.conv3"]
    assert net["layer2.0.conv2"].stride == (2, 2) and net["layer2.0.conv1"].stride == (1, 1)  # v1.5
    assert net["layer1.0.add"].num_inputs == 2
    bert = build("bert_base")
    assert sorted(bert.predecessors("encoder.0.attn.qk")) == ["encoder.0.attn.k", "encoder.0.attn.q"]
    assert sorted(bert.predecessors("encoder.0.attn.av")) == ["encoder.0.attn.softmax", "encoder.0.attn.v"]


def test_mobilenet_depthwise_and_width() -> None:
    net = build("mobilenet_v1")
    dw = net["block1.dw"]
    assert (dw.G, dw.C, dw.K, dw.R) == (32, 1, 1, 3)
    # published width-multiplier rows of the MobileNetV1 paper (Table 6): MACs in millions
    for width, mmacs in ((0.75, 325), (0.5, 149), (0.25, 41)):
        assert build("mobilenet_v1", width=width).macs / 1e6 == pytest.approx(mmacs, rel=0.02)
    # MobileNetV1 at 160 px: 0.75 width row of Table 7 -> 1.0 width 160 px = 290 M (paper Table 7)
    assert build("mobilenet_v1", resolution=160).macs / 1e6 == pytest.approx(290, rel=0.02)
    v2 = build("mobilenet_v2", width=0.5)
    assert v2.macs / 1e6 == pytest.approx(97, rel=0.03)  # paper Table: 0.5 x 224 -> 97 M
    assert all(layer.G * layer.C % 8 == 0 for layer in v2 if layer.op == "conv" and layer.name != "conv1")
    assert v2["conv_last"].K == 1280


@pytest.mark.parametrize("name", list(ZOO))
def test_every_network_is_consistent(name: str) -> None:
    net = build(name)
    assert list_workloads()[list(ZOO).index(name)] == name
    positions = {layer.name: i for i, layer in enumerate(net)}
    for src, dst in net.edges:
        assert positions[src] < positions[dst]
    consumers = {src for src, _ in net.edges}
    assert [layer.name for layer in net if layer.name not in consumers] == [net.layers[-1].name]
    assert net.macs == sum(math.prod(layer.dims.values()) for layer in net if layer.has_weights)
    assert build(name, batch=2).macs == 2 * net.macs
    assert "batch" in parameters(name)


@pytest.mark.parametrize(("name", "key", "value"), [
    ("resnet50", "batch", 0), ("resnet50", "batch", -1), ("resnet50", "batch", 1.5), ("resnet50", "batch", "x"),
    ("resnet50", "resolution", 8), ("mobilenet_v1", "width", 0), ("mobilenet_v2", "width", -0.5),
    ("mobilenet_v2", "width", "wide"), ("bert_base", "seq_len", 0), ("gpt2_decode", "kv_len", 0),
    ("gpt2_prefill", "seq_len", 10**9), ("vgg16", "resolution", 100), ("alexnet", "resolution", 100),
    ("resnet18", "bits", 0), ("vit_b16", "resolution", 8), ("resnet18", "colour", 3),
])
def test_bad_parameters(name: str, key: str, value: object) -> None:
    with pytest.raises(SpecError) as info:
        build(name, **{key: value})
    assert key in str(info.value)


def test_numbers_given_as_strings_are_refused() -> None:
    """``simulate(batch="2")`` from Python is a type error, never read as batch 2 (the CLI parses its numbers)."""
    import acceldse

    for call in (lambda: acceldse.simulate("resnet18", batch="2"),
                 lambda: acceldse.simulate("mobilenet_v1", width="0.5"),
                 lambda: acceldse.simulate(Path(__file__).parents[2] / "examples/model.onnx", batch="2")):
        with pytest.raises(SpecError, match=r"must be (an integer|a number), not a string \(got '[0-9.]+'\)"):
            call()


def test_the_docs_zoo_table_is_what_the_zoo_builds() -> None:
    """docs/workloads.md's table (layers, MACs, weights per zoo network) equals ``describe_rows()``."""
    import re

    text = (Path(__file__).parents[2] / "docs" / "workloads.md").read_text()
    rows = {m[1]: (int(m[2]), int(m[3].replace(",", "")), int(m[4].replace(",", "")))
            for m in re.finditer(r"^\| `(\w+)` \| [^|]+ \| (\d+) \| ([\d,]+) \| ([\d,]+) \|", text, re.M)}
    assert rows == {r["workload"]: (r["layers"], r["macs"], r["weights"]) for r in describe_rows()}
    readme = (Path(__file__).parents[2] / "README.md").read_text()  # its table: GMACs at the defaults, rounded
    quoted = re.findall(r"`(\w+)`(?: \([^)]*\))? \| ([\d.]+) G", readme)
    assert len(quoted) == 10
    for name, gmacs in quoted:
        assert f"{rows[name][1] / 1e9:.{len(gmacs.split('.')[1])}f}" == gmacs, name


def test_describe_table() -> None:
    from acceldse.workloads.zoo import describe

    table = describe().set_index("workload")
    assert list(table.index) == list_workloads()
    assert table.loc["resnet50", "macs"] == build("resnet50").macs
    assert table.loc["vgg16", "weights"] == params(build("vgg16"))
    assert "width=1.0" in table.loc["mobilenet_v2", "parameters"]


def test_unknown_name_lists_zoo() -> None:
    with pytest.raises(SpecError, match="resnet50"):
        build("resnet51")


def test_fpga_study_networks_are_zoo_names() -> None:
    """LeNet as in SAMO's example, counted by hand: conv 20@5x5 on 28x28 (288,000 MACs), conv 50@5x5 on
    12x12 with 20 inputs (1,600,000), fc 800->500 (400,000), fc 500->10 (5,000)."""
    import acceldse

    net = build("lenet")
    assert net.macs == 288_000 + 1_600_000 + 400_000 + 5_000
    assert all(x.input_bits == 16 for x in net) and build("lenet", bits=8).layers[0].weight_bits == 8
    result = acceldse.simulate("lenet", "scalesim-32x32")
    assert list(result.layers["layer"]) == [x.name for x in net]
    assert result.totals["macs"].iloc[0] == net.macs


README_MACS = {  # README "zoo name | MACs" table, as printed (G = 1e9 MACs)
    ("alexnet", ()): "0.714", ("vgg16", ()): "15.47", ("resnet18", ()): "1.814", ("resnet50", ()): "4.089",
    ("mobilenet_v1", ()): "0.569", ("mobilenet_v2", ()): "0.301", ("vit_b16", ()): "17.56",
    ("bert_base", (("seq_len", 128),)): "0.931", ("gpt2_prefill", (("seq_len", 1024),)): "106.3",
    ("gpt2_decode", (("kv_len", 1024),)): "0.142",
}


def test_readme_zoo_mac_table() -> None:
    for (name, kwargs), printed in README_MACS.items():
        digits = len(printed.split(".")[1])
        assert f"{build(name, **dict(kwargs)).macs / 1e9:.{digits}f}" == printed, name
