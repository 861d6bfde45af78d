"""The AcceleratorDesign-v0 speed figure in README.md is the one docs/envs.md records from its command.

Not a timed test (speed stays in ``benchmarks/``), and it runs nothing: it checks the figure's provenance --
the README's row names ``benchmarks/bench_envs.py --part accelerator`` and quotes the steps per CPU-second that
docs/envs.md shows that command printing (its output block), and the benchmark offers that part.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "bench_envs.py --part accelerator"
README_ROW = "| AcceleratorDesign-v0 env steps"


def _printed_rate(doc: str) -> int:
    """The AcceleratorDesign-v0 rate in docs/envs.md's output block of the command."""
    block = re.search(r"```text\n\$ python benchmarks/" + re.escape(COMMAND) + r"\n(.*?)```", doc, re.S)
    assert block, f"docs/envs.md shows no output of `python benchmarks/{COMMAND}`"
    line = next((ln for ln in block[1].splitlines() if ln.startswith("AcceleratorDesign-v0 ")), None)
    assert line, block[1]
    return int(line.split()[1].replace(",", ""))


def test_the_readme_quotes_the_rate_the_docs_show_the_command_printing() -> None:
    rows = [ln for ln in (ROOT / "README.md").read_text().splitlines() if ln.startswith(README_ROW)]
    assert len(rows) == 1, rows
    assert COMMAND in rows[0], rows[0]
    quoted = re.search(r"\| ([\d,]+) steps / CPU-s", rows[0])
    assert quoted, rows[0]
    doc = (ROOT / "docs" / "envs.md").read_text()
    assert int(quoted[1].replace(",", "")) == _printed_rate(doc)
    table = re.search(r"\| AcceleratorDesign-v0, ResNet-18, analytical \| ([\d,]+)", doc)
    assert table and table[1] == quoted[1], "docs/envs.md's speed table quotes another AcceleratorDesign-v0 rate"


def test_the_benchmark_offers_the_part() -> None:
    source = (ROOT / "benchmarks" / "bench_envs.py").read_text()
    choices = re.search(r'add_argument\("--part", choices=\(([^)]*)\)', source)
    assert choices and '"accelerator"' in choices[1], "bench_envs.py has no --part accelerator"
