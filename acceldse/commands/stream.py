"""``acceldse stream``: streaming-dataflow case studies (scaled-dot-product attention)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from dataflows.streams.loader import load_graph
from simulator.streaming import run_graph
from simulator.streaming.sdpa import CRITERIA, min_fifo_depth, run_sdpa

EPILOG = """examples:
  acceldse stream sdpa --variant reordered --seq-len 1024 --head-dim 64
  acceldse stream sdpa --variant naive --seq-len 256 --head-dim 64 --fifo-depth 200 --json
  acceldse stream sdpa --variant window --seq-len 512 --head-dim 64 --window 32 --fifo-depth 36
  acceldse stream sdpa --variant reordered --seq-len 64 --head-dim 16 --executor simpy --trace sdpa.json
  acceldse stream min-depth --variant naive --seq-len 512 --criterion full-rate
  acceldse stream run my_graph.yaml --executor simpy --trace my_graph.json

The naive graph deadlocks when --fifo-depth < seq-len (the report names the long FIFO
'exp->divide'); the reordered (online-softmax) graph runs at one element per cycle with
every FIFO 12 deep for any seq-len; the window graph needs a long FIFO of about --window.
"""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stream", help="streaming-dataflow case studies (attention)",
        description="Run streaming-dataflow graphs on the DAM-style engine.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="stream_command", metavar="STUDY", required=True)
    sdpa = sub.add_parser(
        "sdpa", help="streaming scaled-dot-product attention",
        description="Stream softmax(Q K^T / sqrt(d)) V on random Q, K, V one score per cycle and "
                    "report cycles, throughput, FIFO occupancy, deadlock and error against numpy.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sdpa.add_argument("--variant", required=True, choices=["naive", "reordered", "window"],
                      help="naive softmax with a long FIFO, reordered online softmax, or sliding window")
    sdpa.add_argument("--seq-len", type=int, required=True, help="sequence length N (rows of Q, K, V)")
    sdpa.add_argument("--head-dim", type=int, required=True, help="head dimension d")
    sdpa.add_argument("--window", type=int, default=None, help="keys per query row (window variant)")
    sdpa.add_argument("--fifo-depth", type=int, default=None,
                      help="long-FIFO depth (naive/window; default row length + 12) or every "
                           "FIFO's depth (reordered; default 12), in tokens")
    sdpa.add_argument("--executor", choices=["compiled", "simpy"], default="compiled",
                      help="compiled numba recurrence (fast) or SimPy processes (default: compiled)")
    sdpa.add_argument("--seed", type=int, default=0, help="random seed for Q, K, V (default 0)")
    sdpa.add_argument("--no-values", action="store_true",
                      help="skip computing the attention output (max_abs_error becomes null)")
    sdpa.add_argument("--trace", default=None, metavar="PATH", help="write a Chrome/Perfetto trace JSON")
    sdpa.add_argument("--json", action="store_true", help="print one JSON object")
    sdpa.set_defaults(func=run)

    depth = sub.add_parser(
        "min-depth", help="smallest FIFO depth of an SDPA graph that avoids deadlock / keeps full rate",
        description="Bisect the long-FIFO depth (naive/window) or every FIFO's depth (reordered).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    depth.add_argument("--variant", required=True, choices=["naive", "reordered", "window"])
    depth.add_argument("--seq-len", type=int, required=True, help="sequence length N")
    depth.add_argument("--window", type=int, default=None, help="keys per query row (window variant)")
    depth.add_argument("--criterion", choices=list(CRITERIA), default="no-deadlock",
                       help="no-deadlock (default) or full-rate (cycles of an unbounded FIFO)")
    depth.add_argument("--json", action="store_true", help="print one JSON object")
    depth.set_defaults(func=run_min_depth)

    graph = sub.add_parser(
        "run", help="run a stream graph from YAML (timing only)",
        description="Run a stream-graph YAML file (version, name, contexts, channels) and report cycles, "
                    "firings, FIFO occupancy and any deadlock.",
        epilog=EPILOG + GRAPH_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    graph.add_argument("path", help="stream graph YAML file")
    graph.add_argument("--executor", choices=["compiled", "simpy"], default="compiled")
    graph.add_argument("--trace", default=None, metavar="PATH", help="write a Chrome/Perfetto trace JSON")
    graph.add_argument("--json", action="store_true", help="print one JSON object")
    graph.set_defaults(func=run_yaml)


GRAPH_EXAMPLE = """
graph file format:
  version: 1
  name: pipe
  contexts:
    - {name: src, outputs: [o], firings: 12, latency_cycles: 5}
    - {name: acc, inputs: [i], outputs: [o], firings: 12, rates: {o: [0, 0, 0, 1]}}
    - {name: sink, inputs: [i], firings: 3, ii_cycles: 2}
  channels:
    - {name: src->acc, src: src.o, dst: acc.i, capacity: 4, latency_cycles: 3}
    - {name: acc->sink, src: acc.o, dst: sink.i, capacity: 1}
"""


def run_min_depth(args: argparse.Namespace) -> int:
    depth = min_fifo_depth(args.variant, args.seq_len, window=args.window, criterion=args.criterion)
    if args.json:
        print(json.dumps({"variant": args.variant, "seq_len": args.seq_len, "window": args.window,
                          "criterion": args.criterion, "min_fifo_depth": depth}))
    else:
        print(f"{args.variant} N={args.seq_len}" + (f" W={args.window}" if args.window else "")
              + f": smallest FIFO depth ({args.criterion}) = {depth} tokens")
    return 0


def run_yaml(args: argparse.Namespace) -> int:
    graph = load_graph(args.path)
    result = run_graph(graph, executor=args.executor, trace_path=args.trace)
    dl = result.deadlock
    if args.json:
        print(json.dumps({"graph": result.graph, "executor": result.executor, "cycles": result.cycles,
                          "firings": result.firings, "tokens": result.tokens,
                          "context_tokens": {k: {"consumed": v[0], "produced": v[1]}
                                             for k, v in result.context_tokens(graph).items()},
                          "max_fifo_occupancy": result.max_occupancy,
                          "deadlock": None if dl is None else dl.describe()}))
        return 0
    print(f"graph {result.graph} ({result.executor} executor): {result.cycles:,} cycles")
    if dl is not None:
        print(f"  DEADLOCK: {dl.describe()}")
    for ctx, (consumed, produced) in result.context_tokens(graph).items():
        print(f"  context {ctx}: {result.firings[ctx]:,} firings, {consumed:,} tokens in, {produced:,} out")
    for ch, peak in result.max_occupancy.items():
        print(f"  channel {ch}: {result.tokens[ch]:,} tokens, max occupancy {peak}")
    return 0


def run(args: argparse.Namespace) -> int:
    result = run_sdpa(args.variant, args.seq_len, args.head_dim, window=args.window,
                      fifo_depth=args.fifo_depth, executor=args.executor, seed=args.seed,
                      values=not args.no_values, trace_path=args.trace)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    window = f", window {result.window}" if result.window is not None else ""
    print(f"SDPA {result.variant} (N={result.seq_len}, d={result.head_dim}{window}), "
          f"{result.executor} executor, FIFO depth {result.fifo_depth}")
    if result.deadlock is not None:
        print(f"  DEADLOCK: {result.deadlock}")
    else:
        print(f"  cycles            {result.cycles:,}")
        print(f"  scores streamed   {result.tokens:,}")
        print(f"  tokens per cycle  {result.tokens_per_cycle:.6f} (fill/stall cycles {result.fill_cycles:,})")
        print(f"  max |error|       {result.max_abs_error:.3e}")
    print("  max FIFO occupancy: " + ", ".join(f"{k} {v}" for k, v in result.max_fifo_occupancy.items()))
    if args.trace:
        print(f"  trace written to {args.trace}")
    return 0
