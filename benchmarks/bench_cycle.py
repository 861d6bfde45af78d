"""Cycle-level systolic model: throughput, and a random-shape fidelity sweep.

Usage:
    python benchmarks/bench_cycle.py                 # throughput table (medians of --repeat runs)
    python benchmarks/bench_cycle.py --sweep 3000    # random GEMMs: output and cycle mismatches

Throughput is reported per CPU-second (``time.process_time``; wall time is shown too, but on a
shared machine it mostly measures the other jobs): simulated PE-cycles (cycles x PEs: every PE
register update counts, busy or not), useful MACs and simulated array cycles per CPU-second.
For scale, PUBLISHED.md measured SCALE-Sim 3.0.0 at ~4,000 simulated cycles per second
(850-9,300) on a 32x32 array on this machine; that figure is quoted, not re-run here.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from acceldse.simulator.systolic.cycle import analytical_compute_cycles, run_gemm_cycle

SHAPES = [  # (M, K, N, rows, cols)
    (64, 64, 64, 16, 16),
    (256, 256, 256, 32, 32),
    (3136, 576, 64, 32, 32),  # ResNet-18 layer1 conv (56x56 outputs, 3x3x64, 64 filters)
    (196, 1152, 256, 64, 64),
]


def throughput(repeat: int, dtype: str) -> None:
    rng = np.random.default_rng(0)
    run_gemm_cycle(np.ones((2, 2)), np.ones((2, 2)), 2, 2, "os")  # compile / load the cache
    run_gemm_cycle(np.ones((2, 2), int), np.ones((2, 2), int), 2, 2, "ws")
    print(f"{'shape (MxKxN on RxC)':<28}{'df':>4}{'cycles':>12}{'wall s':>9}{'cpu s':>9}{'PE-cyc/cpu-s':>14}"
          f"{'MAC/cpu-s':>12}{'cycles/cpu-s':>14}{'util':>7}")
    for m, k, n, rows, cols in SHAPES:
        a: np.ndarray
        b: np.ndarray
        if dtype == "int64":
            a, b = rng.integers(-4, 5, (m, k)), rng.integers(-4, 5, (k, n))
        else:
            a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        for df in ("os", "ws", "is"):
            wall, cpu = [], []
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                res = run_gemm_cycle(a, b, rows, cols, df)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            med_wall, med = statistics.median(wall), statistics.median(cpu)
            pe_cycles = res.cycles * rows * cols
            print(f"{f'{m}x{k}x{n} on {rows}x{cols}':<28}{df:>4}{res.cycles:>12,}{med_wall:>9.3f}{med:>9.3f}"
                  f"{pe_cycles / med:>14.3g}{res.macs / med:>12.3g}{res.cycles / med:>14.3g}{res.utilization:>7.3f}")


def sweep(count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    out_bad = {"os": 0, "ws": 0, "is": 0}
    cyc_bad = {"os": 0, "ws": 0, "is": 0}
    runs = {"os": 0, "ws": 0, "is": 0}
    for i in range(count):
        m, k, n = (int(v) for v in rng.integers(1, 65, 3))
        rows, cols = (int(v) for v in rng.integers(1, 17, 2))
        df = ("os", "ws", "is")[i % 3]
        as_float = i % 4 == 3
        a: np.ndarray
        b: np.ndarray
        if as_float:
            a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        else:
            a, b = rng.integers(-100, 101, (m, k)), rng.integers(-100, 101, (k, n))
        res = run_gemm_cycle(a, b, rows, cols, df)
        ok = np.allclose(res.output, a @ b, rtol=1e-10, atol=1e-10) if as_float else np.array_equal(res.output, a @ b)
        runs[df] += 1
        out_bad[df] += not ok
        cyc_bad[df] += res.cycles != analytical_compute_cycles(df, m, k, n, rows, cols) \
            or int(res.activity.sum()) != m * k * n
    for df in runs:
        print(f"{df}: {runs[df]} random GEMMs (M,K,N <= 64, arrays <= 16x16, 1/4 float64), "
              f"output mismatches {out_bad[df]}, cycle/activity mismatches {cyc_bad[df]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per shape (median reported)")
    parser.add_argument("--dtype", choices=("int64", "float64"), default="int64")
    parser.add_argument("--sweep", type=int, default=0, help="run N random GEMMs and count mismatches instead")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if args.sweep:
        sweep(args.sweep, args.seed)
    else:
        throughput(args.repeat, args.dtype)


if __name__ == "__main__":
    main()
