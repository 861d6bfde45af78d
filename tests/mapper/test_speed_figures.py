"""The mapper's speed figures in README.md and docs/mapper.md come from one command, which runs.

Not a timed test (speed stays in ``benchmarks/``): it checks the figures' provenance and format --
the README's performance row and docs/mapper.md's table name ``benchmarks/bench_mapper.py --kernel-only``,
quote the same legal-mapping rate -- and runs that command at a tiny size, checking it prints the
labelled rates the docs copy.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "bench_mapper.py --kernel-only"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_mapper", ROOT / "benchmarks" / "bench_mapper.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme_row() -> str:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("| mapper cost model, ResNet-18 layers")]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_docs_quote_one_legal_rate_from_the_kernel_only_command() -> None:
    row = _readme_row()
    assert COMMAND in row
    k = re.search(r"\| (\d{3,4}) k \(([\d.]+) M\) / CPU-s", row)
    assert k, row
    legal = int(k[1]) * 1000
    doc = (ROOT / "docs" / "mapper.md").read_text()
    assert COMMAND in doc
    table = re.search(r"\| batched kernel, \*\*legal\*\* mappings[^|]*\| ([\d,]+) \|", doc)
    assert table, "docs/mapper.md's speed table has no legal-mapping row"
    measured = int(table[1].replace(",", ""))
    assert abs(measured - legal) <= 500, (measured, legal)  # the README rounds the table's figure to thousands


@pytest.mark.slow
def test_the_kernel_only_command_prints_the_rates_the_docs_quote(capsys) -> None:
    bench = _bench()
    assert bench.main(["--kernel-only", "--candidates", "2000", "--repeats", "1", "--layers", "1"]) == 0
    out = capsys.readouterr().out
    for label in (bench.KERNEL_LEGAL, bench.KERNEL_ALL):
        line = next(ln for ln in out.splitlines() if ln.startswith(label))
        assert float(line[len(label):].replace(",", "")) > 0, line
    assert "load average" in out


def test_readme_sparse_search_range_is_docs_table() -> None:
    """The README's sparse-search rate range and off/on ratio range are the min and max of docs/mapper.md's
    sparse table (``bench_mapper.py --sparse-only``), rounded as the README prints them."""
    text = (ROOT / "docs" / "mapper.md").read_text()
    header = "| sparse case | mappings | sparse on, legal / CPU-s |"
    table = text.split(header, 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    assert len(rows) >= 4
    on = [int(r[2].replace(",", "")) for r in rows]
    ratio = [int(r[5].strip().rstrip("x")) for r in rows]
    readme = " ".join((ROOT / "README.md").read_text().split())
    quoted = (f"{round(min(on), -3):,}-{round(max(on), -3):,} distinct legal mappings per CPU-s with sparsity on, "
              f"{min(ratio)}-{max(ratio)}x the dense kernel's cost")
    assert quoted in readme


def test_readme_mapper_prose_rounds_the_docs_table() -> None:
    """The Mapper section's "~940,000 legal mappings per CPU-second (1.6 M candidates including the ~86 %
    rejected" is docs/mapper.md's kernel rows, rounded as printed there."""
    doc = (ROOT / "docs" / "mapper.md").read_text()
    legal = re.search(r"\| batched kernel, \*\*legal\*\* mappings[^|]*\| ([\d,]+) \|", doc)
    every = re.search(r"\| batched kernel, all random candidates \((\d+) % rejected[^|]*\| ([\d,]+) \|", doc)
    assert legal and every, "docs/mapper.md's speed table has no kernel rows"
    rate, rejected, candidates = int(legal[1].replace(",", "")), every[1], int(every[2].replace(",", ""))
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert (f"It fully costs ~{round(rate, -4):,} legal mappings per CPU-second ({candidates / 1e6:.1f} M candidates "
            f"including the ~{rejected} % rejected as illegal") in readme
