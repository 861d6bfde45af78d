"""SCALE-Sim topology CSV import/export."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from acceldse.workloads.errors import SpecError
from acceldse.workloads.scalesim_csv import (
    list_scalesim_topologies,
    load_scalesim_csv,
    scalesim_topology_path,
    to_scalesim_csv,
)
from acceldse.workloads.zoo import build

SHIPPED = list_scalesim_topologies()


def test_shipped_copies_match_reference() -> None:
    candidates = [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]
    ref = next((c / "reference" / "scalesim" for c in candidates if (c / "reference").is_dir()), Path("/missing"))
    if not ref.is_dir():
        pytest.skip("reference copies not present")
    for path in ref.glob("*.csv"):
        assert scalesim_topology_path(path.stem).read_bytes() == path.read_bytes()
    assert len(SHIPPED) >= 11


def test_resnet18_conv1_is_unpadded() -> None:
    net = load_scalesim_csv(scalesim_topology_path("Resnet18"))
    conv1 = net["Conv1"]
    assert (conv1.P, conv1.Q, conv1.C, conv1.K, conv1.R) == (110, 110, 3, 64, 7)
    assert conv1.gemm == (12100, 64, 147)  # PUBLISHED.md: Conv1 is 12100 x 64 x 147
    assert len(net) == 21 and net.layers[-1].name == "FC" and net.edges[0] == ("Conv1", "Conv2_1a")


def test_resnet50_extra_columns_and_blank_rows() -> None:
    net = load_scalesim_csv(scalesim_topology_path("Resnet50"))
    assert net.layers[0].name == "Conv1" and (net.layers[0].P, net.layers[0].Q) == (110, 110)
    assert len(net) == 54


def _scalesim_macs(path: Path, gemm: bool) -> list[int]:
    """MACs per row as SCALE-Sim's own topology class computes them (ceil formula)."""
    topo = pytest.importorskip("scalesim.topology_utils").topologies()
    topo.load_arrays(str(path), mnk_inputs=gemm)
    topo.topo_calc_hyperparams()
    return [entry[2] for entry in topo.layers_calculated_hyperparams]


@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "Resnet50"])
def test_macs_match_scalesim_parser(name: str) -> None:
    path = scalesim_topology_path(name)
    net = load_scalesim_csv(path)
    gemm = net.layers[0].op == "gemm"
    assert [layer.macs for layer in net] == _scalesim_macs(path, gemm)
    if gemm:
        assert name in ("gpt2", "vit_s", "transformer_partial", "test_mnk_input")


def test_scalesim_itself_cannot_parse_its_resnet50() -> None:
    """Its Resnet50.csv has empty extra columns that SCALE-Sim 3.0.0 reads as a sparsity ratio."""
    with pytest.raises(IndexError):
        _scalesim_macs(scalesim_topology_path("Resnet50"), False)
    assert load_scalesim_csv(scalesim_topology_path("Resnet50")).layers[-1].name == "FC6"


def test_dp_rows_are_depthwise(tmp_path: Path) -> None:
    path = tmp_path / "dw.csv"
    path.write_text("Layer name, H, W, R, S, C, N, stride,\nConvDP1,112,112,3,3,32,1,1,\n")
    layer = load_scalesim_csv(path).layers[0]
    assert (layer.G, layer.C, layer.K, layer.P) == (32, 1, 1, 110)
    assert [m for m in _scalesim_macs(path, False)] == [110 * 110 * 9] * 32  # SCALE-Sim splits per channel
    assert layer.macs == 32 * 110 * 110 * 9


def test_gemm_detection_and_forcing(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("Layer,M,N,K,\nfc,196,192,384,\n")
    layer = load_scalesim_csv(path).layers[0]
    assert (layer.op, layer.gemm) == ("gemm", (196, 192, 384))
    headerless = tmp_path / "h.csv"
    headerless.write_text("whatever\nfc,196,192,384,\n")
    assert load_scalesim_csv(headerless).layers[0].gemm == (196, 192, 384)
    with pytest.raises(SpecError, match="too few columns"):
        load_scalesim_csv(headerless, gemm=False)
    no_trailing = tmp_path / "t.csv"
    no_trailing.write_text("Layer Name, M, N, K\nTest 1, 256, 128, 256")
    assert load_scalesim_csv(no_trailing).layers[0].gemm == (256, 128, 256)


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("form", ["conv", "gemm"])
def test_round_trip_shipped(tmp_path: Path, name: str, form: str) -> None:
    net = load_scalesim_csv(scalesim_topology_path(name))
    out = tmp_path / "out.csv"
    rows = to_scalesim_csv(net, out, form=form)  # type: ignore[arg-type]
    again = load_scalesim_csv(out)
    assert rows == len(again) == len(net)
    assert [layer.gemm for layer in again] == [layer.gemm for layer in net]
    assert again.macs == net.macs
    if form == "conv" and net.layers[0].op == "conv":
        assert again.layers == net.layers


@pytest.mark.parametrize("zoo", ["resnet18", "mobilenet_v2", "bert_base"])
def test_export_zoo(tmp_path: Path, zoo: str) -> None:
    net = build(zoo)
    compute = [layer for layer in net if layer.has_weights]
    for form in ("conv", "gemm"):
        out = tmp_path / f"{zoo}_{form}.csv"
        to_scalesim_csv(net, out, form=form)  # type: ignore[arg-type]
        again = load_scalesim_csv(out)
        assert again.macs == net.macs
        if form == "conv":  # padding folded into H, W: output sizes are kept
            convs = {layer.name: layer for layer in again}
            for layer in compute:
                if layer.op == "conv" and layer.G == 1:
                    assert (convs[layer.name].P, convs[layer.name].Q) == (layer.P, layer.Q)
    text = (tmp_path / f"{zoo}_conv.csv").read_text()
    if zoo == "mobilenet_v2":
        assert "block1.dw_DP,114,114,3,3,32,1,1," in text  # depthwise -> one SCALE-Sim DP row, padded input
    if zoo == "bert_base":  # 12 heads of QK^T, one row each
        assert sum(line.startswith("encoder.0.attn.qk_g") for line in text.splitlines()) == 12


def test_grouped_conv_exports_per_group(tmp_path: Path) -> None:
    from acceldse.workloads.layer import conv2d
    from acceldse.workloads.network import Network

    net = Network("g", (conv2d("grp", 64, 128, 28, 3, padding=1, groups=4),))
    assert to_scalesim_csv(net, tmp_path / "g.csv") == 4
    again = load_scalesim_csv(tmp_path / "g.csv")
    assert [(layer.C, layer.K, layer.P) for layer in again] == [(16, 32, 28)] * 4
    assert again.macs == net.macs


def test_export_rejects_what_conv_form_cannot_hold(tmp_path: Path) -> None:
    from acceldse.workloads.layer import conv2d
    from acceldse.workloads.network import Network

    for layer, key in ((conv2d("d", 8, 8, 32, 3, dilation=2), "dilation"), (conv2d("b", 8, 8, 32, 3, batch=2), "N"),
                       (conv2d("s", 8, 8, 32, 3, stride=(1, 2)), "stride")):
        with pytest.raises(SpecError, match=key):
            to_scalesim_csv(Network("x", (layer,)), tmp_path / "x.csv")
        assert to_scalesim_csv(Network("x", (layer,)), tmp_path / "x.csv", form="gemm") == 1
    with pytest.raises(SpecError, match="form"):
        to_scalesim_csv(build("resnet18"), tmp_path / "x.csv", form="tpu")  # type: ignore[arg-type]


BAD_ROWS = [
    ("c1,224,224,7,7,3,64,\n", "too few columns"),
    ("c1,224,224,7,7,3,,2,\n", "column 7"),
    ("c1,224,x,7,7,3,64,2,\n", "column 3 \\(IFMAP Width\\)"),
    ("c1,224,224,7,7,0,64,2,\n", "column 6 \\(Channels\\)"),
    ("c1,224,224,7,7,3,-64,2,\n", "column 7 \\(Num Filter\\)"),
    ("c1,224,224,7,7,3,64,0,\n", "column 8 \\(Strides\\)"),
    ("c1,5,224,7,7,3,64,1,\n", "filter larger"),
    ("c1,224,224,7,7.5,3,64,1,\n", "column 5"),
    ("c1,224,224,7,7,3,99999999999,1,\n", "out of range"),
    ("c1,99999999,99999999,3,3,40000,80000,1,\n", "layer 'c1', N\\*G\\*K.*layer too large"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                    "Strides,\nok,8,8,3,3,1,1,1,\n" + row)
    with pytest.raises(SpecError, match=message) as info:
        load_scalesim_csv(path)
    assert str(path) in str(info.value) and "line 3" in str(info.value)


def test_unreadable_and_empty(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_scalesim_csv(tmp_path / "missing.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SpecError, match="empty"):
        load_scalesim_csv(tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("Layer,M,N,K,\n\n,,,,\n")
    with pytest.raises(SpecError, match="no layers"):
        load_scalesim_csv(tmp_path / "h.csv")
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="UTF-8|NUL"):
        load_scalesim_csv(tmp_path / "b.csv")
    with pytest.raises(SpecError, match="Resnet18"):
        scalesim_topology_path("Resnet19")


def test_duplicate_names_are_kept_renamed_and_said(tmp_path: Path) -> None:
    """SCALE-Sim 3.0.0 runs a repeated name as its own layer (reports go by index): so do we, and say so."""
    path = tmp_path / "d.csv"
    path.write_text("Layer,M,N,K,\nfc,2,3,4,\nfc,2,3,4,\n,5,6,7,\n")
    with pytest.warns(UserWarning, match=r"1 repeated layer name.*line 3 'fc' \(as on line 2\) -> 'fc_2'"):
        net = load_scalesim_csv(path)
    assert [layer.name for layer in net] == ["fc", "fc_2", "layer_line4"]
    assert net.macs == 2 * 24 + 210 == sum(math.prod(layer.gemm) for layer in net)
    assert [layer.macs for layer in net] == _scalesim_macs(path, True)  # every row, as SCALE-Sim runs them


@pytest.mark.parametrize("zoo", ["mobilenet_v2", "resnet50", "vit_b16", "gpt2_decode"])
@pytest.mark.parametrize("form", ["conv", "gemm"])
def test_exported_zoo_read_by_scalesim(tmp_path: Path, zoo: str, form: str) -> None:
    """SCALE-Sim's own parser sees the same total MACs in what we export (DP rows split per channel)."""
    net = build(zoo)
    path = tmp_path / f"{zoo}.csv"
    to_scalesim_csv(net, path, form=form)  # type: ignore[arg-type]
    assert sum(_scalesim_macs(path, form == "gemm")) == net.macs
