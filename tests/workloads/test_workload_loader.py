"""load_workload resolves zoo names, files and shipped SCALE-Sim topologies."""

from __future__ import annotations

from pathlib import Path

import pytest

from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload
from acceldse.workloads.scalesim_csv import scalesim_topology_path
from acceldse.workloads.zoo import build


def test_zoo_names_and_params() -> None:
    assert load_workload("resnet50").macs == build("resnet50").macs
    assert load_workload("ResNet18", batch=2).macs == 2 * build("resnet18").macs
    assert load_workload("mobilenet_v1", width=0.5).macs == build("mobilenet_v1", width=0.5).macs
    net = build("alexnet")
    assert load_workload(net) is net


def test_scalesim_names_and_files(tmp_path: Path) -> None:
    net = load_workload("scalesim:Resnet18")
    assert net.layers[0].gemm == (12100, 64, 147)
    assert load_workload("scalesim:resnet18").macs == net.macs
    assert load_workload(str(scalesim_topology_path("gpt2"))).layers[0].op == "gemm"
    csv = tmp_path / "two.csv"
    csv.write_text("Layer name,H,W,R,S,C,N,stride,\nc1,8,8,3,3,4,8,1,\nc2,6,6,1,1,8,8,1,\n")
    assert [layer.P for layer in load_workload(str(csv))] == [6, 6]
    with pytest.raises(SpecError, match="N:M sparsity"):  # a conv row read as GEMM: its 5th column is no ratio
        load_workload(str(csv), gemm=True)
    forced = tmp_path / "forced.csv"
    forced.write_text("name,a,b,c,\ng1,8,8,3,\ng2,6,6,1,2:4,\n")
    assert [(layer.gemm, layer.weight_sparsity) for layer in load_workload(str(forced), gemm=True)] == \
        [((8, 8, 3), (1, 1)), ((6, 6, 1), (2, 4))]
    with pytest.raises(SpecError, match="file not found"):
        load_workload(str(tmp_path / "none.csv"))
    with pytest.raises(SpecError, match="batch: parameter not accepted .* expected only gemm for this source"):
        load_workload(str(csv), batch=4)  # a topology has no batch: refused, never ignored
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(SpecError, match="folder.onnx: a directory, not a file"):
        load_workload(str(tmp_path / "folder.onnx"))
    with pytest.raises(SpecError, match="Resnet18"):
        load_workload("scalesim:nope")


@pytest.mark.parametrize("spec", ["resnet51", "", "model.h5", "x.onnx", "missing.csv"])
def test_unknown_lists_accepted(spec: str) -> None:
    with pytest.raises(SpecError) as info:
        load_workload(spec)
    assert "resnet50" in str(info.value) and "scalesim:" in str(info.value)


def test_params_for_wrong_source() -> None:
    with pytest.raises(SpecError, match="seq_len"):
        load_workload("scalesim:Resnet18", seq_len=3)
    with pytest.raises(SpecError, match="seq_len"):
        load_workload("resnet18", seq_len=3)
    with pytest.raises(SpecError):
        load_workload(123)  # type: ignore[arg-type]
