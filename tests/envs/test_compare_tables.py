"""docs/explore.md's per-env comparison tables (ten seeds, medians and IQRs) are ``benchmarks/bench_compare.py``'s
output on its stored per-run figures; a sample of those runs, recomputed, gives the stored figures exactly; and
no agent's median feasible (legal) rate is below random search's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "benchmarks" / "bench_compare.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
DOC = (ROOT / "docs" / "explore.md").read_text()


def _stored(env: str) -> dict:
    return json.loads(bench.results_path(env).read_text())


@pytest.mark.parametrize("env", sorted(bench.SETTINGS))
def test_docs_table_is_the_stored_comparison(env: str) -> None:
    data = _stored(env)
    setting = bench.SETTINGS[env]
    assert (data["budget"], data["env_kwargs"]) == (setting["budget"], setting["env_kwargs"]) and data["seeds"] >= 10
    assert sorted({r["agent"] for r in data["runs"]}) == sorted(bench.AGENTS)
    assert all(sum(r["agent"] == a for r in data["runs"]) == data["seeds"] for a in bench.AGENTS)
    assert bench.table(env, data["runs"]) in DOC
    assert bench.below_random(data["runs"]) == []


@pytest.mark.parametrize("env", sorted(bench.SETTINGS))
def test_stored_runs_recompute(env: str) -> None:
    """Random search and SA on seeds 0 and 1 at the table's budget and setting: the same figures, to the bit."""
    got = bench.run(env, ("random", "sa"), seeds=2)
    stored = [r for r in _stored(env)["runs"] if r["agent"] in ("random", "sa") and r["seed"] < 2]
    assert got == stored
