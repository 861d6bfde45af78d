"""README's speed table quotes what the docs pages record each benchmark printing (not timed tests: speed stays in
``benchmarks/``; these check that a README figure is the recorded one, so the two cannot drift apart)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_row(start: str) -> str:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(start)]
    assert len(rows) == 1, rows
    return rows[0]


def test_compat_speed_is_docs_scalesim_compat() -> None:
    """The compat-mode row: docs/scalesim_compat.md's ratios over the 201 golden rows' recorded SCALE-Sim times,
    and its whole-ResNet-18 times."""
    doc = " ".join((ROOT / "docs" / "scalesim_compat.md").read_text().split())
    found = re.search(r"recorded in the (\d+) golden rows .*? median ([\d,]+)×.*?all rows together ([\d,]+) s vs "
                      r"([\d.]+) s \(([\d,]+)×\)", doc)
    assert found, "docs/scalesim_compat.md no longer records the golden rows' speed ratios"
    rows, median, peer_s, ours_s, total = found.groups()
    assert (f"| `--compat scalesim` vs SCALE-Sim, {rows} golden layers (identical numbers) | median {median}×, "
            f"total {ours_s} s vs {peer_s} s ({total}×) |") in _readme_row("| `--compat scalesim` vs SCALE-Sim")
    whole = re.search(r"A whole ResNet-18 \(21 layers, 32×32\) takes compat ([\d.–]+) s per dataflow against "
                      r"SCALE-Sim's ([\d–]+) s", doc)
    assert whole, "docs/scalesim_compat.md no longer records the whole ResNet-18 times"
    assert (f"| {whole[1]} s per dataflow | SCALE-Sim {whole[2]} s per dataflow |"
            in _readme_row("| whole ResNet-18 in compat mode"))
