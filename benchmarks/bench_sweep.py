"""Sweep throughput: a >= 100,000-point ResNet-18 analytical sweep on the local pool (1 and 2
workers) and on Ray (2 workers), side by side with a plain Python loop over ``acceldse.simulate``.

    python benchmarks/bench_sweep.py [--points 100000] [--loop-points 300] [--repeats 1] [--no-ray]

Each backend sweeps the same spec into a fresh DuckDB store; points/s is points evaluated and
stored per second of the run (planning the points is reported separately; Ray's start-up too).
A rerun of the finished sweep checks that it resumes with nothing left to do.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import acceldse
from acceldse.store import ResultStore
from acceldse.sweep import load_sweep_spec, run_sweep
from acceldse.sweep.points import plan_sweep

SPEC = """version: 1
name: bench-resnet18
workload: resnet18
hardware: scalesim-32x32
dataflow: [os, ws, is]
fidelity: analytical
axes:
  array.rows: {{range: [8, 136, 8]}}
  array.cols: {{range: [8, 136, 8]}}
  tiers.sram.partitions.ifmap: [16KiB, 32KiB, 64KiB, 128KiB]
  tiers.sram.partitions.filter: [16KiB, 32KiB, 64KiB, 128KiB]
  tiers.sram.partitions.ofmap: [32KiB, 64KiB, 128KiB]
  tiers.dram.bw_bytes_per_cycle: [4, 8, 16, 32]
sample: {{random: {points}, seed: 0}}
"""


def loop_rate(spec_text: str, n: int) -> float:
    """Points/s of a plain loop calling ``acceldse.simulate`` on each (already built) design."""
    plan = plan_sweep(load_sweep_spec(spec_text))
    acceldse.simulate("resnet18", plan.variants[0], "os")  # warm the JIT cache
    start = time.perf_counter()
    for i in range(n):
        point = plan.points.iloc[i]
        acc = plan.variants[plan.variant[i]]
        _ = acceldse.simulate(point["workload"], acc, point["dataflow"]).totals
    return n / (time.perf_counter() - start)


def sweep_rate(spec_text: str, folder: Path, backend: str, workers: int, repeats: int) -> tuple[float, float, int]:
    """Median points/s over ``repeats`` fresh stores; planning seconds; rows stored."""
    rates, plan_s, rows = [], [], 0
    for r in range(repeats):
        store = folder / f"{backend}-{workers}-{r}.duckdb"
        summary = run_sweep(spec_text, store, backend=backend, workers=workers, progress=False)
        assert not summary.failures and summary.evaluated == summary.points, summary
        rates.append(summary.points_per_s)
        plan_s.append(summary.plan_seconds)
        again = run_sweep(spec_text, store, backend="local", workers=1, progress=False)
        assert again.evaluated == 0 and again.stored == summary.points  # resumes with nothing to do
        with ResultStore(store, create=False) as db:
            rows = db.count("points")
        store.unlink()
    return statistics.median(rates), statistics.median(plan_s), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--loop-points", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    spec_text = SPEC.format(points=args.points)
    rows = [("plain loop over acceldse.simulate", 1, loop_rate(spec_text, args.loop_points), float("nan"), 0)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for workers in (1, 2):
            rate, plan_s, stored = sweep_rate(spec_text, folder, "local", workers, args.repeats)
            rows.append(("acceldse sweep --backend local", workers, rate, plan_s, stored))
        ray_start = float("nan")
        if not args.no_ray:
            from acceldse.sweep.backends import start_ray

            t0 = time.perf_counter()
            ray, _ = start_ray(2)
            ray_start = time.perf_counter() - t0
            try:
                rate, plan_s, stored = sweep_rate(spec_text, folder, "ray", 2, args.repeats)
            finally:
                ray.shutdown()
            rows.append(("acceldse sweep --backend ray (local instance)", 2, rate, plan_s, stored))
    loop = rows[0][2]
    print(f"ResNet-18 analytical sweep, {args.points:,} points (random over a 147,456-point grid); "
          f"plain loop timed on {args.loop_points} points; median of {args.repeats}")
    print(f"{'backend':48s} {'workers':>7s} {'points/s':>10s} {'vs loop':>8s} {'plan s':>7s} {'rows':>8s}")
    for name, workers, rate, plan_s, stored in rows:
        print(f"{name:48s} {workers:7d} {rate:10,.0f} {rate / loop:7.1f}x {plan_s:7.2f} {stored:8,d}")
    if not args.no_ray:
        print(f"Ray start-up (local instance, 2 CPUs): {ray_start:.1f} s")


if __name__ == "__main__":
    main()
