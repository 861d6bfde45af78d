"""Stream graphs from YAML: a good file builds and runs; bad files name the file and key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acceldse.cli import main
from acceldse.dataflows.streams.loader import graph_from_dict, load_graph
from acceldse.workloads.errors import SpecError

GOOD = """version: 1
name: pipe
contexts:
  - {name: src, outputs: [o], firings: 12, latency_cycles: 5}
  - {name: acc, inputs: [i], outputs: [o], firings: 12, rates: {o: [0, 0, 0, 1]}}
  - {name: sink, inputs: [i], firings: 3, ii_cycles: 2}
channels:
  - {name: src->acc, src: src.o, dst: acc.i, capacity: 4, latency_cycles: 3}
  - {name: acc->sink, src: acc.o, dst: sink.i, capacity: 1}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "g.yaml"
    path.write_text(text)
    return path


def test_good_file_builds_and_runs_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD)
    graph = load_graph(path)
    assert [c.name for c in graph.contexts] == ["src", "acc", "sink"]
    assert main(["stream", "run", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # src: s[j] = 8 (j // 4) + j % 4 (cap 4, round trip 8); acc emits at firings 3, 7, 11
    # (cycles 11, 19, 27); sink reads at 12, 20, 28 -> 29 cycles.
    assert out["cycles"] == 29 and out["deadlock"] is None
    assert out["max_fifo_occupancy"] == {"src->acc": 4, "acc->sink": 1}


@pytest.mark.parametrize("old, new, match", [
    ("latency_cycles: 3}", "latency_cycles: 0}", r"g\.yaml.*zero latency"),
    ("dst: acc.i", "dst: acc.x", r"g\.yaml.*unknown input port of 'acc'"),
    ("version: 1", "version: 7", r"g\.yaml: version: unsupported"),
    ("firings: 12, latency", "firings: 0, latency", r"g\.yaml: contexts\[0\].*firings"),
    ("ii_cycles: 2}", "ii_cycles: 2, speed: 3}", r"contexts\[2\]\.speed"),
    ("  - {name: acc->sink, src: acc.o, dst: sink.i, capacity: 1}\n", "", r"dangling port"),
])
def test_bad_files_name_file_and_key(tmp_path: Path, old: str, new: str, match: str) -> None:
    assert old in GOOD
    with pytest.raises(SpecError, match=match):
        load_graph(_write(tmp_path, GOOD.replace(old, new)))


def test_missing_sections() -> None:
    with pytest.raises(SpecError, match="contexts"):
        graph_from_dict({"version": 1, "channels": []})


def test_cli_min_depth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream", "min-depth", "--variant", "window", "--seq-len", "64", "--window", "10",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["min_fifo_depth"] == 10
