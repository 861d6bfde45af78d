"""Compat mode with SCALE-Sim's sparsity on, against stored SCALE-Sim 3.0.0 runs, and the .cfg keys.

``tests/golden/scalesim/sparse/golden_sparse.csv`` was made by
``benchmarks/make_scalesim_sparse_golden.py`` with the installed SCALE-Sim (a grid of dataflows,
arrays, SRAM sizes, GEMM and conv topologies with per-layer N:M ratios, OptimizedMapping false/true
with several block sizes and seeds, csr/csc/ellpack_block). A run SCALE-Sim crashed on must be
refused. No peer is needed at test time.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from acceldse.api import simulate
from acceldse.simulator.scalesim.calc import scalesim_gemm, scalesim_layer
from acceldse.simulator.specs.scalesim_cfg import ScaleSimSparsity, load_scalesim_cfg
from acceldse.workloads.errors import SpecError
from acceldse.workloads.scalesim_csv import load_scalesim_csv, to_scalesim_csv
from tests.peers.scalesim_runner import REPORT_FIELDS, SPARSE_FIELDS

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "scalesim" / "sparse" / "golden_sparse.csv"
SHAPE = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride", "array_rows",
         "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")


def _runs() -> dict[str, list[dict[str, str]]]:
    runs: dict[str, list[dict[str, str]]] = defaultdict(list)
    with GOLDEN.open() as fh:
        for row in csv.DictReader(fh):
            runs[row["run"]].append(row)
    return dict(runs)


RUNS = _runs()
CFG_PATH = str(Path(__file__).resolve().parents[1] / "golden" / "scalesim" / "scale.cfg")
CFG = Path(CFG_PATH).read_text()


def _compat(row: dict[str, str]) -> dict[str, float]:
    sparsity = None
    if row["sparsity_support"] == "True":
        sparsity = ScaleSimSparsity(row["sparse_rep"], row["optimized_mapping"] == "True", int(row["block_size"]),
                                    int(row["seed"]))
    ratio = tuple(int(x) for x in row["ratio"].split(":")) if row["ratio"] else (1, 1)
    return scalesim_layer(dataflow=row["dataflow"], sparsity=sparsity, ratio=ratio,  # type: ignore[arg-type]
                          **{k: int(row[k]) for k in SHAPE}).report()


def test_grid_covers_the_space() -> None:
    rows = [r for rs in RUNS.values() for r in rs]
    assert len(rows) >= 500
    ok = [r for r in rows if not r["crash"]]
    assert {r["dataflow"] for r in ok if r["sparsity_support"] == "True"} == {"os", "ws", "is"}
    assert {r["sparse_rep"] for r in ok} == {"csr", "csc", "ellpack_block"}
    assert {r["form"] for r in ok} == {"gemm", "conv"}
    assert {r["block_size"] for r in ok if r["optimized_mapping"] == "True"} >= {"2", "3", "4", "8"}
    assert len({r["ratio"] for r in ok}) >= 12
    assert len({(r["array_rows"], r["array_cols"]) for r in ok}) >= 6
    assert any(r["crash"] for r in rows)


@pytest.mark.parametrize("run", sorted(RUNS), ids=str)
def test_golden_run_matches(run: str) -> None:
    """Every reported field of every layer equal to SCALE-Sim's (or the crash refused)."""
    for row in RUNS[run]:
        if row["crash"]:
            with pytest.raises(SpecError, match="SCALE-Sim"):
                _compat(row)
            continue
        ours = _compat(row)
        fields = REPORT_FIELDS + (SPARSE_FIELDS if row["sparsity_support"] == "True" else ())
        assert set(fields) <= set(ours)
        for key in fields:
            assert ours[key] == float(row[key]), (row["layer_id"], key)


def test_issue_example_through_the_cli_path(tmp_path: Path) -> None:
    """64x128x256 GEMM, 2:4, 32x32 ws: SCALE-Sim reports 2,527 cycles (5,055 dense)."""
    cfg = tmp_path / "sparse.cfg"
    cfg.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true"))
    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\ng, 64, 128, 256, 2:4,\n")
    row = simulate(str(topo), str(cfg), compat="scalesim").layers.iloc[0]
    assert row["total_cycles"] == 2527
    assert (row["filter_storage_words"], row["filter_storage_sparse_words"], row["filter_metadata_words"]) == \
        (32768, 17408.0, 1024.0)
    (tmp_path / "dense.csv").write_text("Layer, M, N, K,\ng, 64, 128, 256,\n")
    dense = simulate(str(tmp_path / "dense.csv"), CFG_PATH,
                     compat="scalesim")
    assert dense.layers.iloc[0]["total_cycles"] == 5055


@pytest.mark.slow
def test_resnet18_at_2_4_the_readme_figure(tmp_path: Path) -> None:
    """README / sparsity notebook: SCALE-Sim's ResNet-18 at 2:4 on 32x32 ws, 1,272,091 cycles in compat mode
    against acceldse's 1,272,112 compute cycles (one cycle per layer: SCALE-Sim reports the last cycle's index)."""
    cfg = tmp_path / "sparse.cfg"
    cfg.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true"))
    ss = simulate("scalesim:Resnet18", str(cfg), "ws", compat="scalesim", weight_sparsity="2:4").totals.iloc[0]
    ours = simulate("scalesim:Resnet18", "scalesim-32x32", "ws", weight_sparsity="2:4").totals.iloc[0]
    assert (int(ss["total_cycles"]), int(ours["compute_cycles"])) == (1_272_091, 1_272_112)


def test_ratio_without_sparsity_support_is_dense_with_a_warning(tmp_path: Path) -> None:
    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\ng, 64, 128, 256, 2:4,\n")
    with pytest.warns(UserWarning, match="SparsitySupport"):
        res = simulate(str(topo), "scalesim-32x32", "ws", compat="scalesim")
    assert res.layers.iloc[0]["total_cycles"] == 5055


def test_refusals_name_the_cause() -> None:
    base = dict(array_rows=8, array_cols=8, ifmap_sram_kb=2, filter_sram_kb=2, ofmap_sram_kb=2)
    opt = ScaleSimSparsity(optimized_mapping=True, block_size=4)
    with pytest.raises(SpecError, match="ws only"):
        scalesim_gemm(16, 12, 20, dataflow="os", sparsity=opt, ratio=(2, 4), **base)
    with pytest.raises(SpecError, match="Invalid block size"):
        scalesim_gemm(16, 12, 20, dataflow="ws", sparsity=ScaleSimSparsity(optimized_mapping=True, block_size=16),
                      **base)
    with pytest.raises(SpecError, match="divide"):
        scalesim_gemm(16, 12, 20, dataflow="ws", sparsity=opt, **{**base, "array_rows": 5})
    with pytest.raises(SpecError, match="CALC"):
        scalesim_gemm(16, 12, 20, dataflow="ws", sparsity=ScaleSimSparsity(), bandwidth_mode="USER", **base)
    with pytest.raises(SpecError, match="SparseRep"):
        ScaleSimSparsity(representation="blocked")


@pytest.mark.parametrize("old,new,match", [
    ("MemoryBanks:   1", "MemoryBanks: 4", "MemoryBanks"),
    ("UseRamulatorTrace: False", "UseRamulatorTrace: True", "Ramulator"),
    ("UseRamulatorTrace: False", "UseRamulatorTrace: yes", "UseRamulatorTrace"),
    ("IfmapCustomLayout: False", "IfmapCustomLayout: True", "custom SRAM layouts"),
    ("FilterCustomLayout: False", "FilterCustomLayout: True", "custom SRAM layouts"),
    ("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER\n[layout]\nIfmapSRAMBankNum: 5", "IfmapSRAMBankNum"),
    ("SparseRep : ellpack_block", "SparseRep : bcsr", "SparseRep"),
    ("SparseRep : ellpack_block", "SparseRep : csr\nNonZeroElems : 2", "NonZeroElems"),
    ("IfmapOffset:    0", "IfmapOffset: -5", "IfmapOffset"),
    ("[run_presets]", "[network_presets]\nTopologyCsvLoc: \"x.csv\"\n[run_presets]", "network_presets"),
    ("OptimizedMapping : false", "OptimizedMapping : maybe", "OptimizedMapping"),
])
def test_cfg_keys_change_the_model_or_are_refused(tmp_path: Path, old: str, new: str, match: str) -> None:
    path = tmp_path / "x.cfg"
    text = CFG.replace(old, new)
    if "[layout]\nIfmapSRAMBankNum: 5" in text:  # replace the key inside the existing [layout] section
        text = text.replace("\n[layout]\nIfmapSRAMBankNum: 5", "").replace("IfmapSRAMBankNum: 10",
                                                                           "IfmapSRAMBankNum: 5")
    assert text != CFG
    path.write_text(text)
    with pytest.raises(SpecError, match=match) as err:
        load_scalesim_cfg(path)
    assert "x.cfg" in str(err.value) and "\n" not in str(err.value)


def test_cfg_sparsity_settings_and_filter_offset(tmp_path: Path) -> None:
    path = tmp_path / "s.cfg"
    path.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true")
                    .replace("OptimizedMapping : false", "OptimizedMapping : true"))
    assert load_scalesim_cfg(path)[1].sparsity == ScaleSimSparsity("ellpack_block", True, 8, 40)
    path.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true")
                    .replace("FilterOffset:   10000000", "FilterOffset: 0"))
    with pytest.raises(SpecError, match="FilterOffset"):
        load_scalesim_cfg(path)
    path.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true")
                    .replace("OptimizedMapping : false", "OptimizedMapping : true").replace("BlockSize : 8",
                                                                                            "BlockSize : 64"))
    with pytest.raises(SpecError, match="BlockSize"):
        load_scalesim_cfg(path)


def test_topology_ratio_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                    "Strides,\nc1,10,10,3,3,4,9,1,2:4,\nc2,10,10,3,3,4,9,1,\n")
    net = load_scalesim_csv(path)
    assert [layer.weight_sparsity for layer in net] == [(2, 4), (1, 1)]
    out = tmp_path / "o.csv"
    to_scalesim_csv(net, out)
    assert [layer.weight_sparsity for layer in load_scalesim_csv(out)] == [(2, 4), (1, 1)]
    for bad, match in (("2:4,notes", "unknown column"), ("5:4", "N:M"), ("0:4", "N:M"), ("half", "N:M")):
        path.write_text(f"Layer, M, N, K,\ng,64,128,256,{bad},\n")
        with pytest.raises(SpecError, match=match) as err:
            load_scalesim_csv(path)
        assert "t.csv" in str(err.value)


def test_topology_ratio_reaches_the_native_is_model(tmp_path: Path) -> None:
    """A topology's N:M ratio is costed on is too (the kept rows: as the dense GEMM of K' = 6 rows)."""
    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\ng, 16, 8, 12, 2:4,\n")
    sparse = simulate(str(topo), "scalesim-32x32", "is").layers.iloc[0]
    topo.write_text("Layer, M, N, K,\ng, 16, 8, 6,\n")
    kept = simulate(str(topo), "scalesim-32x32", "is").layers.iloc[0]
    assert sparse["macs"] == kept["macs"] == 16 * 8 * 6 and sparse["macs_skipped"] == 16 * 8 * 6
    assert sparse["compute_cycles"] == kept["compute_cycles"]


def test_sparse_layer_is_refused_by_the_mapper(tmp_path: Path) -> None:
    from acceldse.mapper.legality import workload_array

    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\ng, 16, 8, 12, 1:4,\n")
    from acceldse.workloads.einsum import Einsum

    layer = load_scalesim_csv(topo).layers[0]
    with pytest.raises(SpecError, match="mapper's cost model"):
        workload_array(layer)
    with pytest.raises(SpecError, match="Einsum form"):
        Einsum.from_layer(layer)


def test_cfg_sparsity_is_refused_outside_compat(tmp_path: Path) -> None:
    from acceldse.simulator.specs.presets import load_hardware

    cfg = tmp_path / "sparse.cfg"
    cfg.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true"))
    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\ng, 16, 8, 12,\n")
    for call in (lambda: simulate(str(topo), str(cfg)), lambda: load_hardware(str(cfg))):
        with pytest.raises(SpecError, match="SparsitySupport.*only compat='scalesim'"):
            call()
    assert simulate(str(topo), str(cfg), compat="scalesim").layers.iloc[0]["filter_storage_words"] == 12 * 8


def test_cli_compat_with_a_sparse_cfg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main
    from acceldse.simulator.result import COLUMNS

    cfg = tmp_path / "sparse.cfg"
    cfg.write_text(CFG.replace("SparsitySupport : false", "SparsitySupport : true"))
    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\ng, 64, 128, 256, 2:4,\n")
    assert main(["simulate", "--workload", str(topo), "--hardware", str(cfg), "--compat", "scalesim", "--format",
                 "csv", "--all-columns"]) == 0
    out = capsys.readouterr().out
    header, row = out.strip().splitlines()[-2:]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["total_cycles"] == "2527" and float(values["filter_metadata_words"]) == 1024.0
    assert set(values) <= set(COLUMNS)


def test_two_windows_in_one_cycle_crash_is_refused(tmp_path: Path) -> None:
    """OptimizedMapping on 128 rows with BlockSize 64 streams wide ifmap rows: a 1 KB read buffer then
    completes two prefetch windows in one cycle and SCALE-Sim divides by zero (run live here); compat
    refuses exactly that layer and runs it with a larger buffer, as SCALE-Sim does."""
    pytest.importorskip("scalesim")
    from tests.peers.scalesim_runner import PeerLayer, PeerSparsity, run_scalesim_layers

    layer = PeerLayer(14, 21, 4, 2, 6, 21, 1, sparsity=(1, 3))
    args = dict(array_rows=128, array_cols=128, filter_sram_kb=2, ofmap_sram_kb=1, dataflow="ws")
    with pytest.raises(ZeroDivisionError):
        run_scalesim_layers([layer], out_dir=tmp_path, sparsity=PeerSparsity("csc", True, 64, 63), ifmap_sram_kb=1,
                            **args)  # type: ignore[arg-type]
    ours = dict(ifmap_h=14, ifmap_w=21, filter_h=4, filter_w=2, channels=6, num_filters=21, stride=1, ratio=(1, 3),
                sparsity=ScaleSimSparsity("csc", True, 64, 63), **args)
    with pytest.raises(SpecError, match="two prefetch windows in one cycle"):
        scalesim_layer(ifmap_sram_kb=1, **ours)  # type: ignore[arg-type]
    assert scalesim_layer(ifmap_sram_kb=64, **ours).total_cycles == 601  # type: ignore[arg-type]
