"""Mapper speed: evaluations per CPU-second on ResNet-18 layers, a whole ResNet-50 map on a
2-level + DRAM hierarchy, and ZigZag's LOMA on ResNet-18 side by side.

    python benchmarks/bench_mapper.py [--zigzag /work/zigzag-venv/bin/python] [--repeats 3]

Prints a table of medians and ratios. CPU time is ``time.process_time`` (this process only).
ZigZag runs in its own venv (``benchmarks/zigzag_loma_runner.py``); without it the published
140-210 mappings per CPU-second (PUBLISHED.md) are quoted instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mapper.api import map_network
from mapper.cost import evaluate_many
from mapper.search import run_search
from mapper.space import MappingSpace
from simulator.specs.hierarchy_loader import load_hierarchy
from workloads.loader import load_workload

FLOOR_EVALS_PER_CPU_S = 250_000
FLOOR_RESNET50_S = 60.0
ZIGZAG_PUBLISHED = (140.0, 210.0)


def unique_layers(name: str) -> list:
    seen, out = set(), []
    for layer in load_workload(name):
        key = (tuple(layer.dims.values()), layer.stride)
        if layer.macs and key not in seen:
            seen.add(key)
            out.append(layer)
    return out


def kernel_rate(layer, hierarchy, dataflow: str, n: int, repeats: int) -> tuple[float, float]:
    """(evaluations per CPU-s of the batched kernel, legal fraction) on ``n`` random candidates."""
    space = MappingSpace(layer, hierarchy, dataflow)
    arrays = space.decode(space.random(n, np.random.default_rng(0)))
    evaluate_many(layer, hierarchy, arrays.take(slice(0, 16)))  # compile / load cache
    rates = []
    legal = 0.0
    for _ in range(repeats):
        t0 = time.process_time()
        _, _, code = evaluate_many(layer, hierarchy, arrays)
        rates.append(n / max(time.process_time() - t0, 1e-9))
        legal = float((code == 0).mean())
    return statistics.median(rates), legal


def search_rate(layer, hierarchy, dataflow: str, budget: int) -> float:
    """Evaluations per CPU-s of a whole GA search (sampling, decoding, selection included)."""
    space = MappingSpace(layer, hierarchy, dataflow)
    t0 = time.process_time()
    res = run_search(space, "ga", "edp", budget, 0)
    return res.evaluations / max(time.process_time() - t0, 1e-9)


def zigzag(python: str | None) -> dict | None:
    runner = Path(__file__).with_name("zigzag_loma_runner.py")
    if not python or not Path(python).exists():
        return None
    proc = subprocess.run([python, str(runner), "tpu_like"], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        print(f"zigzag runner failed: {proc.stderr[-500:]}", file=sys.stderr)
        return None
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    # the runner's CPU time is its own process time
    return json.loads(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zigzag", default="/work/zigzag-venv/bin/python", help="python of the ZigZag venv")
    parser.add_argument("--zigzag-json", default=None, help="reuse a runner result instead of running ZigZag")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=200_000)
    args = parser.parse_args()

    rows = []
    for hw_name, df in (("eyeriss_like", "rs"), ("simple_ws_32x32", "ws")):
        hierarchy = load_hierarchy(hw_name)
        for layer in unique_layers("resnet18"):
            k, legal = kernel_rate(layer, hierarchy, df, args.candidates, args.repeats)
            s = search_rate(layer, hierarchy, df, 100_000)
            rows.append((hw_name, layer.name, k, s, legal))
    print(f"{'hierarchy':16} {'layer':18} {'kernel evals/CPU-s':>19} {'GA evals/CPU-s':>15} {'legal':>6}")
    for hw_name, name, k, s, legal in rows:
        print(f"{hw_name:16} {name:18} {k:19,.0f} {s:15,.0f} {legal:6.2f}")
    med_k = statistics.median(r[2] for r in rows)
    med_s = statistics.median(r[3] for r in rows)

    t0, w0 = time.process_time(), time.perf_counter()
    r50 = map_network("resnet50", "simple_ws_32x32", search="ga", budget=20_000, seed=0)
    r50_cpu, r50_wall = time.process_time() - t0, time.perf_counter() - w0
    searched = int((r50.table.reused_from == "").sum())

    zz = json.loads(Path(args.zigzag_json).read_text()) if args.zigzag_json else zigzag(args.zigzag)
    if zz:
        zz_rate = zz["evaluations"] / zz["cpu_s"]
        zz_note = f"measured: {zz['evaluations']:,} LOMA mappings in {zz['cpu_s']:.1f} CPU-s ({zz['hardware']})"
    else:
        zz_rate = statistics.mean(ZIGZAG_PUBLISHED)
        zz_note = "not run; PUBLISHED.md figure 140-210 (midpoint used)"
    print()
    print(f"{'metric':44} {'value':>14} {'floor':>10} {'ratio':>8}")
    print(f"{'median kernel evaluations / CPU-s (ResNet-18)':44} {med_k:14,.0f} {FLOOR_EVALS_PER_CPU_S:10,} "
          f"{med_k / FLOOR_EVALS_PER_CPU_S:8.1f}")
    print(f"{'median GA-search evaluations / CPU-s':44} {med_s:14,.0f} {FLOOR_EVALS_PER_CPU_S:10,} "
          f"{med_s / FLOOR_EVALS_PER_CPU_S:8.1f}")
    print(f"{'ZigZag LOMA mappings / CPU-s (ResNet-18)':44} {zz_rate:14,.0f} {'':>10} {'':>8}")
    print(f"{'  ours (kernel) / ZigZag':44} {med_k / zz_rate:14,.0f}x")
    print(f"{'  ours (GA search) / ZigZag':44} {med_s / zz_rate:14,.0f}x")
    print(f"{'ResNet-50 whole-network map, CPU-s':44} {r50_cpu:14.1f} {FLOOR_RESNET50_S:10.0f} "
          f"{r50_cpu / FLOOR_RESNET50_S:8.2f}")
    print(f"{'ResNet-50 whole-network map, wall-s':44} {r50_wall:14.1f}")
    print(f"  ({len(r50.table)} MAC layers, {searched} distinct shapes searched with GA x 20,000 evaluations; "
          f"{r50.cycles:,} cycles, {r50.energy_pj / 1e6:,.0f} uJ)")
    print(f"  ZigZag: {zz_note}")
    ok = med_k >= FLOOR_EVALS_PER_CPU_S and r50_wall < FLOOR_RESNET50_S
    print("floors met" if ok else "FLOOR MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
