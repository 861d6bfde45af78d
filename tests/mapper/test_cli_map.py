"""``acceldse map`` prints loop nests and a table, writes CSV and mapping YAMLs, and rejects bad input."""

from __future__ import annotations

import pandas as pd

from acceldse.cli import main
from acceldse.mapper import RESULT_COLUMNS, Mapping


def test_map_command(tmp_path, capsys):
    out = tmp_path / "r.csv"
    maps = tmp_path / "maps"
    code = main(["map", "--workload", "resnet18", "--hardware", "simple_ws_32x32", "--layer", "layer1.0.conv1",
                 "--layer", "fc", "--budget", "3000", "--seed", "1", "--out", str(out), "--save-mappings", str(maps)])
    assert code == 0
    text = capsys.readouterr().out
    assert "<< Compute >>" in text and "(Spatial-" in text and "layer1.0.conv1" in text
    table = pd.read_csv(out)
    assert list(table.columns) == list(RESULT_COLUMNS) and len(table) == 2
    assert (table.cycles > 0).all() and (table.utilization <= 1).all()
    assert Mapping.from_yaml(maps / "fc.yaml").levels[0].level == "DRAM"


def test_map_command_errors(capsys):
    assert main(["map", "--workload", "resnet18", "--layer", "nope", "--budget", "10"]) == 2
    assert "error: --layer: unknown layer of resnet18 (got 'nope')" in capsys.readouterr().err  # the flag first
    # a layer without MACs is refused by name, never mapped into an empty table (exit 0, "0 cycles")
    assert main(["map", "--workload", "resnet18", "--layer", "layer1.0.add", "--budget", "10"]) == 2
    err = capsys.readouterr().err
    assert "error: --layer: layer of resnet18 has no MACs" in err and "layer1.0.add" in err and err.count("\n") == 1


def test_a_template_variable_given_twice_is_refused(capsys):
    assert main(["map", "--timeloop", __file__, "--timeloop-var", "a=1", "--timeloop-var", "a=2"]) == 2
    assert "--timeloop-var: a is given twice" in capsys.readouterr().err


def test_a_template_variable_without_timeloop_files_is_refused(capsys):
    assert main(["map", "--workload", "resnet18", "--timeloop-var", "reg_enabled=false", "--budget", "5"]) == 2
    err = capsys.readouterr().err
    assert "--timeloop-var" in err and "reg_enabled=false" in err and "no --timeloop" in err and err.count("\n") == 1


def test_a_flag_the_mode_does_not_read_is_refused(tmp_path, capsys):
    """--timeloop files with a problem replace --workload and --hardware; their stats are text (no --out);
    a cascade file holds its Einsums: none of these is ignored silently."""
    from pathlib import Path

    folder = Path(__file__).parents[1] / "golden/timeloop/exercises/2020/00-model-conv1d-1level"
    files = [str(folder / "parsed-processed-input.yaml"), str(folder / "timeloop-model.ERT.yaml")]
    for extra, flag in ((["--workload", "bert_base"], "--workload"), (["--hardware", "toy_2x2"], "--hardware"),
                        (["--out", str(tmp_path / "x.csv")], "--out"), (["--format", "json"], "--format")):
        assert main(["map", "--timeloop", *files, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"acceldse: error: {flag}: not used") and err.count("\n") == 1, err
    assert main(["map", "--cascade", files[0], "--seq-len", "64"]) == 2
    assert "--seq-len: not used with --cascade" in capsys.readouterr().err


def test_map_takes_zoo_parameters(capsys):
    assert main(["map", "--workload", "bert_base", "--seq-len", "16", "--layer", "encoder.0.attn.qk",
                 "--budget", "50", "--no-nest", "--format", "csv"]) == 0
    assert "encoder.0.attn.qk" in capsys.readouterr().out
    import acceldse

    best = acceldse.map("bert_base", layer="encoder.0.attn.qk", seq_len=16, budget=50)
    assert main(["map", "--workload", "bert_base", "--param", "seq_len=16", "--layer", "encoder.0.attn.qk",
                 "--budget", "50", "--no-nest", "--json"]) == 0
    assert f'"cycles": {best.cost.cycles}' in capsys.readouterr().out


def test_a_directory_given_as_an_input_file_is_named_so(tmp_path, capsys):
    for flag in ("--cascade", "--timeloop", "--mapping"):
        assert main(["map", flag, str(tmp_path), "--layer", "conv1", "--budget", "5"]) == 2
        assert f"{flag}: a directory, not a file" in capsys.readouterr().err


def test_map_python_takes_one_layer_name():
    import acceldse

    best = acceldse.map("resnet18", "toy_2x2", layers="fc", budget=20, search="random")
    assert list(best.table.layer) == ["fc"]
    assert main(["map", "--hardware", "nope.yaml", "--budget", "10"]) == 2
    assert main(["map", "--layer", "conv1", "--dataflow", "zigzag", "--budget", "10"]) == 2
