"""Speed of the event fidelity (every fold on the streaming engine) against the analytical model, same process.

    nice python benchmarks/bench_event.py [--repeats 5]

For ResNet-18 and BERT-base x {os, ws, is} on several presets (one core, and four cores sharing
the off-chip link) prints: folds simulated, the median wall time of the analytical table and of the
event table (JIT warm), their ratio, folds per second of the event engine, and whether every layer's
cycles agree (one core).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable

import numpy as np

from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.event import event_table
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic.model import systolic_table
from acceldse.workloads.loader import load_workload


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (JIT compile or cache load)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    flows = resolve_dataflows("all")
    print(f"{'workload':<10} {'hardware':<16} {'cores':>5} {'folds':>7} {'analytical_s':>12} {'event_s':>9} "
          f"{'ratio':>7} {'folds/s':>9} {'equal':>6}")
    for workload in ("resnet18", "bert_base"):
        net = load_workload(workload)
        for hw in ("tpu-v1-like", "sn40l-like", "scalesim-32x32", "tpu-hbm-like"):
            for cores in (1, 4):
                acc = dataclasses.replace(load_hardware(hw), cores=cores)
                t_a = median_seconds(lambda n=net, h=acc: systolic_table(n, h, flows), args.repeats)
                t_e = median_seconds(lambda n=net, h=acc: event_table(n, h, flows), args.repeats)
                a, e = systolic_table(net, acc, flows), event_table(net, acc, flows)
                folds = int(e["folds"].sum())
                equal = bool(np.array_equal(a["total_cycles"].to_numpy(), e["total_cycles"].to_numpy()))
                print(f"{workload:<10} {hw:<16} {cores:>5} {folds:>7} {t_a:>12.4f} {t_e:>9.3f} {t_e / t_a:>7.0f} "
                      f"{folds / t_e:>9,.0f} {str(equal) if cores == 1 else '-':>6}")


if __name__ == "__main__":
    main()
