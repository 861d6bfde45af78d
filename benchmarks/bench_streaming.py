"""Streaming-dataflow engine speed and the SDPA depth/throughput study.

Run: ``python benchmarks/bench_streaming.py [--quick]``. Prints

1. the compiled executor on full reordered SDPA, N = 4096 (16.7 M scores, every query row),
   cycle-exact: median wall time (timing only) and the time with values (attention output);
2. scores simulated per second on one graph: timing only, and carrying every token's value;
3. the SDPA FIFO-depth / throughput table for several N (naive, reordered, window).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from acceldse.dataflows.streams.sdpa import SMALL_FIFO_DEPTH, reordered_graph
from acceldse.simulator.streaming import run_compiled, run_sdpa
from acceldse.simulator.streaming.sdpa import min_fifo_depth


def _median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall seconds of ``repeats`` calls (and the last result); also records CPU seconds."""
    times = []
    cpu = []
    out: object = None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    _LAST_CPU[0] = statistics.median(cpu)
    return statistics.median(times), out


_LAST_CPU = [0.0]  # median CPU seconds of the last _median_time call (the machine may be shared)


def _qkv(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    return q, k, v


def bench_n4096(repeats: int) -> None:
    n, d = 4096, 64
    run_compiled(reordered_graph(*_qkv(64, d)).graph)  # compile / load the numba cache
    graph = reordered_graph(*_qkv(n, d)).graph
    secs, res = _median_time(lambda: run_compiled(graph), repeats)
    cpu = _LAST_CPU[0]
    assert hasattr(res, "cycles")
    start = time.perf_counter()
    full = run_sdpa("reordered", n, d)
    with_values = time.perf_counter() - start
    print(f"## Compiled executor, full reordered SDPA N={n}, d={d} ({n * n:,} scores)")
    print(f"cycles {res.cycles:,} (= N^2 + {res.cycles - n * n}), deadlock {res.deadlock}")  # type: ignore[attr-defined]
    print(f"timing only: median {secs:.2f} s wall, {cpu:.2f} s CPU over {repeats} runs "
          f"({n * n / secs / 1e6:.2f} M scores/s wall)")
    print(f"with values (run_sdpa, attention output checked): {with_values:.2f} s, "
          f"max |error| {full.max_abs_error:.2e}")
    print()


def bench_executors(n: int, repeats: int) -> None:
    graph = reordered_graph(*_qkv(n, 16)).graph
    run_compiled(graph)
    t_comp, rc = _median_time(lambda: run_compiled(graph), max(repeats, 5))
    cpu_comp = _LAST_CPU[0]
    t_tok, rt = _median_time(lambda: run_compiled(graph, tokens=True), repeats)
    cpu_tok = _LAST_CPU[0]
    assert rc.cycles == rt.cycles  # type: ignore[attr-defined]
    firings = sum(rc.firings.values())  # type: ignore[attr-defined]
    print(f"## One graph: reordered SDPA N={n} ({n * n:,} scores, {firings:,} firings)")
    print("| run | median wall s | median CPU s | scores/s (wall) | firings/s (wall) | cycles |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, secs, cpu, res in (("timing", t_comp, cpu_comp, rc), ("carrying tokens", t_tok, cpu_tok, rt)):
        print(f"| {name} | {secs:.4f} | {cpu:.4f} | {n * n / secs:,.0f} | {firings / secs:,.0f} | "
              f"{res.cycles:,} |")  # type: ignore[attr-defined]
    print()


def depth_table(sizes: list[int], windows: list[int]) -> None:
    print("## SDPA FIFO depth and throughput (compiled executor; depths in tokens)")
    print("naive/window: depth of the long FIFO exp->divide; reordered: depth of every FIFO.")
    print("'min' = smallest depth that does not deadlock; 'full rate' = smallest depth with the "
          "cycles of unbounded FIFOs (one score per cycle after the fill).")
    header = "| N | naive min | naive full rate | naive cycles @ full | reordered min | reordered full rate | " \
             "reordered cycles @12 | reordered scores/cycle |"
    print(header)
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        if n <= 1024:
            naive_min = min_fifo_depth("naive", n)
            naive_full = min_fifo_depth("naive", n, criterion="full-rate")
            re_min = min_fifo_depth("reordered", n)
            re_full = min_fifo_depth("reordered", n, criterion="full-rate")
        else:  # check the boundary points only (each full run streams N^2 scores)
            assert run_sdpa("naive", n, 4, fifo_depth=n - 1, values=False).deadlock is not None
            assert run_sdpa("naive", n, 4, fifo_depth=n, values=False).deadlock is None
            naive_min = n
            best = run_sdpa("naive", n, 4, fifo_depth=2 * n, values=False).cycles
            assert run_sdpa("naive", n, 4, fifo_depth=n + 4, values=False).cycles == best
            assert run_sdpa("naive", n, 4, fifo_depth=n + 3, values=False).cycles > best
            naive_full = n + 4
            re_min = 1 if run_sdpa("reordered", n, 4, fifo_depth=1, values=False).deadlock is None else -1
            re_full = SMALL_FIFO_DEPTH
            assert run_sdpa("reordered", n, 4, fifo_depth=11, values=False).cycles > n * n + 39
        nv = run_sdpa("naive", n, 4, fifo_depth=naive_full, values=False)
        re = run_sdpa("reordered", n, 4, values=False)
        print(f"| {n} | {naive_min} | {naive_full} | {nv.cycles:,} | {re_min} | {re_full} | {re.cycles:,} | "
              f"{re.tokens_per_cycle:.6f} |")
    print()
    print("| N | window W | min | full rate | cycles @ full rate | scores/cycle |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for w in windows:
            if w >= n:
                continue
            lo = min_fifo_depth("window", n, window=w)
            full = min_fifo_depth("window", n, window=w, criterion="full-rate")
            res = run_sdpa("window", n, 4, window=w, fifo_depth=full, values=False)
            print(f"| {n} | {w} | {lo} | {full} | {res.cycles:,} | {res.tokens_per_cycle:.4f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement")
    args = parser.parse_args()
    if not args.quick:
        bench_n4096(args.repeats)
    bench_executors(64 if args.quick else 256, args.repeats)
    sizes = [64, 256] if args.quick else [64, 256, 1024, 4096]
    depth_table(sizes, [16, 64] if args.quick else [16, 64, 256])


if __name__ == "__main__":
    main()
