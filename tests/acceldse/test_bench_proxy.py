"""``benchmarks/bench_proxy.py``, whose multi-core search-quality table docs/explore.md quotes, runs end to end at
a tiny size: the proxy is trained on the event fidelity's logged designs, each driver's best design is re-simulated
by the event engine, and "truly met" is exactly a zero true spec distance."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_multi_core_search_quality_study_runs(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_proxy", ROOT / "benchmarks" / "bench_proxy.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--workload", "lenet", "--cores", "1,2", "--train", "16", "--budget", "4", "--seeds", "1",
                       "--agent", "random", "--targets", "half"]) == 0
    out = capsys.readouterr().out
    for driver in ("event simulator", "proxy", "analytical model"):
        assert out.count(driver) >= 2  # its run and its summary row
    assert "re-evaluated by the event simulator" in out and "latency_us" in out
