"""A result keeps its context: saved and loaded back whole, shown briefly, with one spelling per column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import acceldse
from acceldse.workloads.errors import SpecError


@pytest.mark.parametrize("name", ["r.csv", "r.parquet"])
def test_save_and_load_round_trip_data_and_context(name: str, tmp_path: Path) -> None:
    acc = acceldse.load_hardware("tpu-v1-like").replace(array={"rows": 128})
    result = acceldse.simulate("bert_base", acc, "all", seq_len=256)
    back = acceldse.load_result(result.save(tmp_path / name))
    pd.testing.assert_frame_equal(back.layers, result.layers, check_dtype=False)
    pd.testing.assert_frame_equal(back.totals, result.totals, check_dtype=False)
    assert back.params == {"batch": 1, "seq_len": 256, "num_layers": 1, "bits": 8}
    assert (back.workload, back.hardware, back.fidelity, back.pes) == ("bert_base", "tpu-v1-like", "analytical",
                                                                      128 * 256)
    assert back.extra["accelerator"].to_dict() == acc.to_dict()  # the varied spec, not the preset's
    assert back.plot.roofline() is not None


def test_a_table_without_context_is_refused(tmp_path: Path) -> None:
    pd.DataFrame({"layer": ["a"]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(SpecError, match="no acceldse context"):
        acceldse.load_result(tmp_path / "plain.parquet")


def test_repr_is_a_header_and_the_totals() -> None:
    result = acceldse.simulate("resnet50", "scalesim-32x32", "all")
    text, html, md = repr(result), result._repr_html_(), result._repr_markdown_()
    assert text.startswith("SimResult: resnet50 (batch=1, resolution=224") and len(text.splitlines()) == 5
    assert "Accelerator(" not in text + html + md and html.count("<tr") == 4 and md.count("\n| ") == 4
    assert result.totals.loc["ws", "total_cycles"] == result.layers.query("dataflow == 'ws'").total_cycles.sum()
    assert list(result.totals["dataflow"]) == ["os", "ws", "is"]  # the column stays for export


def test_map_takes_workload_parameters_and_spells_utilization_once() -> None:
    best = acceldse.map("bert_base", "simple_ws_32x32", seq_len=64, layer=None, search="random", budget=30)
    assert best.params["seq_len"] == 64
    assert best.table.macs.sum() == acceldse.load_workload("bert_base", seq_len=64).macs
    assert {"utilization", "utilized_pes"} <= set(best.table.columns)
    assert not [c for c in best.table.columns if "utilis" in c]
    assert repr(best).startswith("NetworkMapping: bert_base (batch=1, seq_len=64")
    with pytest.raises(SpecError, match="seq_len"):
        acceldse.map("bert_base", "simple_ws_32x32", params={"seq_len": 0}, budget=30)
    with pytest.raises(SpecError, match=r"^seq_len: not an option of search method 'ga'.*population"):
        acceldse.map("resnet18", "simple_ws_32x32", seq_len=512, budget=30)  # resnet18 takes no seq_len


def test_python_errors_name_python_arguments_and_the_cli_its_flags(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    store = tmp_path / "s.duckdb"
    acceldse.run_sweep("version: 1\nworkload: alexnet\n", store, workers=1, progress=False)
    with pytest.raises(SpecError, match=r"^where: bad filter") as err:
        acceldse.load_results(store, where="no_such_column > 1")
    with pytest.raises(SpecError, match=r"^workers: must be an integer >= 1"):
        acceldse.run_sweep("version: 1\nworkload: alexnet\n", store, workers=0)
    with pytest.raises(SpecError, match=r"^k: must be >= 1"):
        acceldse.results.top(acceldse.load_results(store), 0, "total_cycles")
    assert "--" not in str(err.value).split(":")[0]
    assert main(["results", str(store), "--where", "no_such_column > 1"]) == 2
    assert capsys.readouterr().err.startswith("acceldse: error: --where: bad filter")
    assert main(["results", str(store), "--top", "1", "--by", "no_such_column"]) == 2
    assert capsys.readouterr().err.startswith("acceldse: error: --by: unknown column")
    assert main(["simulate", "--workload", "alexnet", "--hardware", "no-such-chip"]) == 2
    assert capsys.readouterr().err.startswith("acceldse: error: --hardware: unknown hardware")


def test_results_tables_fit_100_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    store = tmp_path / "s.duckdb"
    acceldse.run_sweep("version: 1\nworkload: alexnet\ndataflow: [os, ws]\naxes: {array.rows: [8, 16], "
                       "array.cols: [8, 16]}\n", store, workers=1, progress=False)
    for flags in (["--pareto", "area_mm2,latency_us"], ["--top", "3"]):
        assert main(["results", str(store), *flags]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert max(map(len, lines[1:])) <= 100 and any("energy_pj" in line for line in lines)  # [0]: title, a path


def test_csv_on_stdout_has_the_columns_of_the_saved_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    out = tmp_path / "r.csv"
    assert main(["simulate", "--workload", "alexnet", "--dataflow", "all", "--format", "csv", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == out.read_text().splitlines()[0]  # one header: every column


def test_a_layer_mapping_shows_its_header_and_loop_nest() -> None:
    best = acceldse.map("alexnet", "simple_ws_32x32", layer="conv2", search="random", budget=50)
    text = repr(best)
    assert text.startswith("LayerMapping: conv2 (conv, 223,948,800 MACs) on simple_ws_32x32, random search")
    assert "<< Compute >>" in text and "Hierarchy(" not in text + best._repr_html_()
