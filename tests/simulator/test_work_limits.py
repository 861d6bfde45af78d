"""Work limits live in the function that does the work: a Python call and the command line refuse the same
run up front with the same line (the command line names its flags for the Python arguments)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from acceldse.cli import main
from acceldse.dataflows.streams.loader import graph_from_dict
from acceldse.simulator.fpga.attention import compare_attention
from acceldse.simulator.streaming import MAX_WORK, min_fifo_depth, run_graph, run_sdpa
from acceldse.workloads.errors import SpecError

GRAPH = {"version": 1, "name": "long", "contexts": [
    {"name": "src", "outputs": ["o"], "firings": 3_000_000},
    {"name": "sink", "inputs": ["i"], "firings": 3_000_000}],
    "channels": [{"name": "src->sink", "src": "src.o", "dst": "sink.i", "capacity": 2}]}
"""A graph of 6 million firings: over the trace limit (2^22), within the timing one."""


def as_cli(python_line: str) -> str:
    """The command line's words for a Python error line: argument names as flags."""
    return re.sub(r"\b(seq_len|head_dim|max_work)\b", lambda m: "--" + m[0].replace("_", "-"), python_line)


CASES: list[tuple[str, Callable[[], Any], list[str]]] = [
    ("sdpa scores", lambda: run_sdpa("reordered", 100_000, 8),
     ["stream", "sdpa", "--variant", "reordered", "--seq-len", "100000", "--head-dim", "8"]),
    ("sdpa tokens", lambda: run_sdpa("naive", 2_000, 8, carry_tokens=True),
     ["stream", "sdpa", "--variant", "naive", "--seq-len", "2000", "--head-dim", "8", "--carry-tokens"]),
    ("sdpa head", lambda: run_sdpa("reordered", 64, 5000),
     ["stream", "sdpa", "--variant", "reordered", "--seq-len", "64", "--head-dim", "5000"]),
    ("min depth", lambda: min_fifo_depth("naive", 20_000),
     ["stream", "min-depth", "--variant", "naive", "--seq-len", "20000"]),
    ("max work", lambda: min_fifo_depth("naive", 64, max_work=100),
     ["stream", "min-depth", "--variant", "naive", "--seq-len", "64", "--max-work", "100"]),
    ("fpga attention", lambda: compare_attention("zcu102", seq_lens=(1024, 1 << 25)),
     ["fpga", "swat", "--platform", "zcu102", "--seq-len", "1024", str(1 << 25)]),
    ("fpga head", lambda: compare_attention("zcu102", seq_lens=(1024,), head_dim=5000),
     ["fpga", "swat", "--platform", "zcu102", "--seq-len", "1024", "--head-dim", "5000"]),
]


@pytest.mark.parametrize(("label", "call", "argv"), CASES, ids=[c[0] for c in CASES])
def test_python_and_cli_refuse_the_same_run(label: str, call: Callable[[], Any], argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SpecError) as raised:
        call()
    line = str(raised.value)
    assert "\n" not in line and ("too much work" in line or "must be <=" in line), line
    assert main(argv) == 2
    assert capsys.readouterr().err == f"acceldse: error: {as_cli(line)}\n"


def test_the_limits_are_the_documented_ones() -> None:
    with pytest.raises(SpecError, match=r"^seq_len: too much work: 10,000,000,000 scores > the limit "
                                        r"268,435,456 .*raise the limit with max_work$"):
        run_sdpa("reordered", 100_000, 8)
    assert MAX_WORK == {"compiled": 1 << 28, "tokens": 1 << 19, "trace": 1 << 22}
    assert run_sdpa("reordered", 16, 4, max_work=256, values=False).tokens == 256  # at the limit: runs


def test_a_graph_over_its_executors_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = graph_from_dict(GRAPH)
    with pytest.raises(SpecError, match=r"^graph 'long': too much work: 6,000,000 context firings > the limit "
                                        r"4,194,304"):
        run_graph(graph, trace_path=tmp_path / "long.json")
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(GRAPH))
    assert main(["stream", "run", str(path), "--trace", str(tmp_path / "long.json")]) == 2
    assert "graph 'long': too much work: 6,000,000 context firings" in capsys.readouterr().err
