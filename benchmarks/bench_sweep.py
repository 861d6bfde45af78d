"""Sweep throughput: a >= 100,000-point ResNet-18 analytical sweep on the local pool (1 and 2
workers) and on Ray (2 workers), side by side with a plain Python loop over ``acceldse.simulate``.

    python benchmarks/bench_sweep.py [--points 100000] [--loop-points 300] [--repeats 1] [--no-ray]

Each backend sweeps the same spec into a fresh DuckDB store; points/s is points evaluated and
stored per second of the run (planning the points is reported separately; Ray's start-up too).
On a machine shared with other jobs the wall-clock rate depends on the CPU share the sweep
gets, so the local rows also give points per CPU-second (this process and its pool workers,
planning excluded), which does not. A rerun of the finished sweep checks that it resumes with
nothing left to do.
"""

from __future__ import annotations

import argparse
import os
import resource
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
  tiers.sram.partition_bytes.ifmap: [16KiB, 32KiB, 64KiB, 128KiB]
  tiers.sram.partition_bytes.filter: [16KiB, 32KiB, 64KiB, 128KiB]
  tiers.sram.partition_bytes.ofmap: [32KiB, 64KiB, 128KiB]
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


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the pool workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def plan_cpu_seconds(spec_text: str) -> float:
    start = cpu_seconds()
    plan_sweep(load_sweep_spec(spec_text))
    return cpu_seconds() - start


def sweep_rate(spec_text: str, folder: Path, backend: str, workers: int, repeats: int
               ) -> tuple[float, float, float, int]:
    """Median points/s and points per CPU-second over ``repeats`` fresh stores; planning seconds; rows."""
    rates, per_cpu, plan_s, rows = [], [], [], 0
    plan_cpu = plan_cpu_seconds(spec_text) if backend == "local" else float("nan")
    for r in range(repeats):
        store = folder / f"{backend}-{workers}-{r}.duckdb"
        cpu0 = cpu_seconds()
        summary = run_sweep(spec_text, store, backend=backend, workers=workers, progress=False)
        per_cpu.append(summary.evaluated / (cpu_seconds() - cpu0 - plan_cpu))
        assert not summary.failures and summary.evaluated == summary.points, summary
        rates.append(summary.points_per_s)
        plan_s.append(summary.plan_seconds)
        again = run_sweep(spec_text, store, backend="local", workers=1, progress=False)
        assert again.evaluated == 0 and again.stored == summary.points  # resumes with nothing to do
        with ResultStore(store, create=False) as db:
            rows = db.count("points")
        store.unlink()
    return statistics.median(rates), statistics.median(per_cpu), statistics.median(plan_s), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--loop-points", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    spec_text = SPEC.format(points=args.points)
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    loop = loop_rate(spec_text, args.loop_points)
    loop_cpu = loop * (time.perf_counter() - wall0) / (cpu_seconds() - cpu0)  # approx. (includes one plan)
    rows = [("plain loop over acceldse.simulate", 1, loop, float("nan"), float("nan"), 0)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for workers in (1, 2):
            rate, per_cpu, plan_s, stored = sweep_rate(spec_text, folder, "local", workers, args.repeats)
            rows.append(("acceldse sweep --backend local", workers, rate, per_cpu, plan_s, stored))
        ray_start = float("nan")
        if not args.no_ray:
            from acceldse.sweep.backends import start_ray

            t0 = time.perf_counter()
            ray, _ = start_ray(2)
            ray_start = time.perf_counter() - t0
            try:
                rate, _, plan_s, stored = sweep_rate(spec_text, folder, "ray", 2, args.repeats)
                per_cpu = float("nan")  # Ray's workers are not this process's children
            finally:
                ray.shutdown()
            rows.append(("acceldse sweep --backend ray (local instance)", 2, rate, per_cpu, plan_s, stored))
    print(f"ResNet-18 analytical sweep, {args.points:,} points (random over a 147,456-point grid); "
          f"plain loop timed on {args.loop_points} points; median of {args.repeats}")
    print(f"{'backend':46s} {'workers':>7s} {'points/s':>9s} {'vs loop':>8s} {'pts/CPU-s':>10s} {'plan s':>7s} "
          f"{'rows':>8s}")
    for name, workers, rate, per_cpu, plan_s, stored in rows:
        print(f"{name:46s} {workers:7d} {rate:9,.0f} {rate / loop:7.1f}x {per_cpu:10,.0f} {plan_s:7.2f} {stored:8,d}")
    print(f"plain loop: about {loop_cpu:,.0f} points per CPU-second")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if not args.no_ray:
        print(f"Ray start-up (local instance, 2 CPUs): {ray_start:.1f} s")


if __name__ == "__main__":
    main()
