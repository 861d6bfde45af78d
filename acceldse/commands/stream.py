"""``acceldse stream``: streaming-dataflow case studies (scaled-dot-product attention)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from simulator.streaming.sdpa import run_sdpa

EPILOG = """examples:
  acceldse stream sdpa --variant reordered --seq-len 1024 --head-dim 64
  acceldse stream sdpa --variant naive --seq-len 256 --head-dim 64 --fifo-depth 200 --json
  acceldse stream sdpa --variant window --seq-len 512 --head-dim 64 --window 32 --fifo-depth 36
  acceldse stream sdpa --variant reordered --seq-len 64 --head-dim 16 --executor simpy --trace sdpa.json

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
