"""Search quality: exhaustive ground truth vs GA / annealing / hybrid / random at 5 % of its evaluations.

    python benchmarks/bench_search_quality.py [--seeds 0 1 2]

Prints, per layer / method / seed, the evaluations used (and their share of the exhaustive
count) and the gap to the exhaustive optimum (EDP), then medians per method.
"""

from __future__ import annotations

import argparse
import statistics
import time

from acceldse.mapper.search import run_search
from acceldse.mapper.space import MappingSpace
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.layer import conv2d, gemm

CASES = {
    "conv 2->8 4x4 1x1 (os)": (conv2d("b", 2, 8, 4, 1), "os"),
    "conv 4->2 6x6 3x3 s2 (is)": (conv2d("f", 4, 2, 6, 3, stride=2), "is"),
    "gemm 4x8x4 (ws)": (gemm("e", 4, 8, 4), "ws"),
    "conv 2->4 4x4 1x1 N=2 (shidiannao)": (conv2d("g", 2, 4, 4, 1, batch=2), "shidiannao"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--share", type=float, default=0.05, help="budget as a share of the exhaustive count")
    args = parser.parse_args()
    hierarchy = load_hierarchy("toy_2x2")
    gaps: dict[str, list[float]] = {}
    print(f"{'layer':36} {'method':10} {'seed':>4} {'evals':>10} {'share':>7} {'gap to optimum':>15}")
    for label, (layer, df) in CASES.items():
        space = MappingSpace(layer, hierarchy, df)
        t0 = time.process_time()
        truth = run_search(space, "exhaustive", "edp", None)
        print(f"{label:36} {'exhaustive':10} {'-':>4} {truth.evaluations:10,} {1:7.1%} {0:15.2%}"
              f"   ({time.process_time() - t0:.1f} CPU-s)")
        budget = int(truth.evaluations * args.share)
        for method in ("ga", "anneal", "hybrid", "random"):
            for seed in args.seeds:
                res = run_search(space, method, "edp", budget, seed)
                gap = res.value / truth.value - 1
                gaps.setdefault(method, []).append(gap)
                print(f"{label:36} {method:10} {seed:4} {res.evaluations:10,} "
                      f"{res.evaluations / truth.evaluations:7.2%} {gap:15.2%}")
    print()
    print(f"{'method':10} {'median gap':>11} {'worst gap':>10} {'runs within 1%':>15}")
    for method, values in gaps.items():
        within = sum(v <= 0.01 for v in values)
        print(f"{method:10} {statistics.median(values):11.2%} {max(values):10.2%} {within:>9}/{len(values)}")


if __name__ == "__main__":
    main()
