"""Fused mappings end to end on the CLI: ``acceldse attention`` (JSON, table, statistics), ``acceldse map
--cascade FILE``, and bad flags or bad fused mappings as one line with exit code 2."""

from __future__ import annotations

import json

import pytest

from acceldse.cli import main
from acceldse.workloads.attention import attention_cascade


def test_cli_attention_json_and_table(capsys) -> None:
    assert main(["attention", "--design", "all", "--model", "t5", "--seq-len", "4K", "--batch", "8",
                 "--format", "json"]) == 0
    pts = {p["design"]: p for p in json.loads(capsys.readouterr().out)["points"]}
    assert pts["fusemax"]["speedup_vs_flat"] > 1 and pts["flat"]["speedup_vs_flat"] == 1.0
    assert pts["fusemax"]["passes"] == 1 and pts["unfused"]["passes"] == 3
    assert main(["attention", "--design", "fusemax", "--cascade", "2pass", "--model", "t5", "--seq-len", "4K",
                 "--batch", "8", "--format", "json"]) == 0
    two = json.loads(capsys.readouterr().out)
    assert two["passes"] == 2 and two["cascade"] == "2pass" and two["dram_bytes"] > pts["fusemax"]["dram_bytes"]
    assert main(["attention", "--design", "fusemax", "--model", "bert", "--seq-len", "1024", "--stats"]) == 0
    out = capsys.readouterr().out
    assert "=== SLNV ===" in out and "util_2d" in out


@pytest.mark.parametrize(("argv", "words"), [
    (["--seq-len", "abc"], "--seq-len"),
    (["--seq-len", "4K,4096"], "--seq-len: sequence length 4,096 is given twice"),
    (["--model", "gpt9"], "unknown model"),
    (["--heads", "4"], "--head-dim"),
    (["--buffer", "lots"], "--buffer"),
    (["--design", "fusemax", "--seq-len", "1000"], "multiple of"),
    (["--design", "search", "--end-to-end"], "attention only"),
    (["--design", "flat", "--query-tile", "3"], "query tile"),
    (["--design", "flat", "--cascade", "1pass"], "--cascade"),
    (["--design", "search", "--cascade", "2pass"], "1-pass"),
])
def test_cli_bad_input_is_one_line_exit_2(argv: list[str], words: str, capsys) -> None:
    assert main(["attention", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_map_cascade_file(tmp_path, capsys) -> None:
    path = tmp_path / "att.yaml"
    path.write_text(json.dumps({**attention_cascade("1pass", seq_len=512, batch=1).to_dict(),
                                "hardware": "fusemax"}))
    assert main(["map", "--cascade", str(path), "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["cycles"] > 0 and {e["einsum"] for e in got["einsums"]} >= {"QK", "RM", "AV"}


def _softmax_file(tmp_path, mapping: dict | None, hardware: object = "fusemax"):
    raw = {"version": 1, "name": "softmax", "hardware": hardware, "ranks": {"P": 4096, "M": 4096}, "einsums": [
        {"name": "GM", "output": "GM[p]", "inputs": ["S[m,p]"], "compute": [], "reduce": "max"},
        {"name": "SN", "output": "SN[m,p]", "inputs": ["S[m,p]", "GM[p]"], "compute": ["sub", "exp"],
         "reduce": "none"}]}
    if mapping is not None:
        raw["mapping"] = mapping
    path = tmp_path / "softmax.yaml"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize(("mapping", "hardware", "words"), [
    # the whole 4096 x 4096 score tensor staged in a 16 MiB buffer: over capacity
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe2d", "SN": "pe2d"}}, "fusemax",
     "mapping.keep.S"),
    # FLAT's 2D array has no subtract or exponential unit
    ({"groups": [{"einsums": ["GM"]}, {"einsums": ["SN"]}], "binding": {"GM": "pe1d", "SN": "pe2d"},
      "keep": {"S": "dram", "GM": "dram", "SN": "dram"}}, "flat_cloud", "cannot run operator 'sub'"),
    ({"groups": [{"einsums": ["GM"]}], "binding": {"GM": "pe1d"}}, "fusemax", "exactly one group"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}, "keep": {"QK": "unit"}},
     "fusemax", "no such tensor"),
    ({"groups": [{"einsums": ["GM", "SN"], "loops": ["Z"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}}, "fusemax",
     "no such rank"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe3d"}}, "fusemax",
     "no such compute unit"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}, "keep": {"GM": "disk"}},
     "fusemax", "unknown level"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}, "keep": {"S": "unit"}},
     "fusemax", "cascade input or output cannot live in PE registers"),
    ({"groups": [{"einsums": ["GM"]}, {"einsums": ["SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"},
      "keep": {"S": "dram", "GM": "unit"}}, "fusemax", "shared by two groups"),
    ({"groups": [{"einsums": ["GM", "SN"], "stages": [["GM"]]}], "binding": {"GM": "pe1d", "SN": "pe1d"},
      "keep": {"S": "dram", "SN": "dram"}}, "fusemax", "stages must list each Einsum"),
])
def test_cli_bad_fused_mapping_is_one_line_exit_2(tmp_path, capsys, mapping, hardware, words) -> None:
    assert main(["map", "--cascade", str(_softmax_file(tmp_path, mapping, hardware))]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "softmax.yaml" in err and len(err.splitlines()) == 1
