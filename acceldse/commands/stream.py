"""``acceldse stream``: streaming-dataflow case studies (scaled-dot-product attention)."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from acceldse.commands.common import (
    EXIT_CHECK_FAILED,
    EXIT_CODES_HELP,
    add_output_options,
    bad_input,
    output_path,
    positive,
    print_csv,
    print_json,
    print_wrapped,
    progress_bar,
    seed,
)

log = logging.getLogger("acceldse.stream")
CRITERIA = ("no-deadlock", "full-rate")  # simulator.streaming.sdpa.CRITERIA (a test keeps them equal)

EPILOG = """examples:
  acceldse stream sdpa --variant reordered --seq-len 1024 --head-dim 64
  acceldse stream sdpa --variant naive --seq-len 256 --head-dim 64 --fifo-depth 200 --json
  acceldse stream sdpa --variant window --seq-len 512 --head-dim 64 --window 32 --fifo-depth 36
  acceldse stream sdpa --variant reordered --seq-len 64 --head-dim 16 --carry-tokens --trace sdpa.json
  acceldse stream min-depth --variant naive --seq-len 512 --criterion full-rate
  acceldse stream run my_graph.yaml --trace my_graph.json
  acceldse stream system --hardware tpu-hbm-like --link-bw 8 --workload bert_base --layer encoder.0.attn.q \
      --pipeline lenet --samples 2 --seq-len 32 --head-dim 16 --trace system.json

The naive graph deadlocks when --fifo-depth < seq-len (the report names the long FIFO
'exp->divide'); the reordered (online-softmax) graph runs at one element per cycle with
every FIFO 12 deep for any seq-len; the window graph needs a long FIFO of about --window.
""" + EXIT_CODES_HELP


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
    sdpa.add_argument("--carry-tokens", action="store_true",
                      help="carry every token's value through the contexts as the engine fired them (the graph's "
                           "own per-token arithmetic; slower) instead of evaluating whole streams")
    sdpa.add_argument("--seed", type=int, default=0, help="random seed for Q, K, V (default 0)")
    sdpa.add_argument("--no-values", action="store_true",
                      help="skip computing the attention output (max_abs_error becomes null)")
    sdpa.add_argument("--trace", default=None, metavar="PATH", help="write a Chrome/Perfetto trace JSON")
    sdpa.add_argument("--max-work", type=float, default=None, metavar="N",
                      help="most scores (seq-len x keys per row) accepted (default 2^28, 2^19 with --carry-tokens, "
                           "2^22 with --trace)")
    add_output_options(sdpa, check="the graph deadlocks")
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
    depth.add_argument("--max-work", type=float, default=None, metavar="N",
                       help="most scores of one run (seq-len x keys per row) accepted (default 2^28)")
    add_output_options(depth)
    depth.set_defaults(func=run_min_depth)

    graph = sub.add_parser(
        "run", help="run a stream graph from YAML (timing only)",
        description="Run a stream-graph YAML file (version, name, contexts, channels) and report cycles, "
                    "firings, FIFO occupancy and any deadlock.",
        epilog=EPILOG + GRAPH_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    graph.add_argument("path", help="stream graph YAML file")
    graph.add_argument("--trace", default=None, metavar="PATH", help="write a Chrome/Perfetto trace JSON")
    graph.add_argument("--max-work", type=float, default=None, metavar="N",
                       help="most context firings accepted (default 2^28, 2^22 with --trace)")
    add_output_options(graph, check="the graph deadlocks")
    graph.set_defaults(func=run_yaml)

    system = sub.add_parser(
        "system", help="a systolic layer, an FPGA pipeline and an SDPA unit sharing one off-chip link",
        description="Run the parts alone and sharing the hardware's closest off-chip link on the one engine, "
                    "and report each part's cycles both ways and the contention.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from acceldse.simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    system.add_argument("--hardware", default="tpu-hbm-like",
                        help=f"{kind_help('systolic')} or a YAML spec (default tpu-hbm-like)")
    system.add_argument("--link-bw", type=float, default=None, metavar="B",
                        help="the link's bandwidth each way, bytes/cycle (default: the hardware's)")
    system.add_argument("--cores", type=int, default=1, help="arrays running the systolic layer (default 1)")
    system.add_argument("--workload", default=None, help="workload of the systolic layer")
    system.add_argument("--layer", default=None, help="the systolic part: a MAC layer of --workload, by name")
    system.add_argument("--dataflow", choices=["os", "ws", "is"], default="os", help="its dataflow (default os)")
    system.add_argument("--pipeline", default=None, help="the FPGA part: a workload run as a layer pipeline")
    system.add_argument("--samples", type=int, default=4, help="samples through the pipeline (default 4)")
    system.add_argument("--fifo-rows", type=int, default=64, help="the pipeline's FIFO depth, rows (default 64)")
    system.add_argument("--seq-len", type=int, default=None, help="the SDPA part (reordered): sequence length N")
    system.add_argument("--head-dim", type=int, default=None, help="its head dimension d")
    system.add_argument("--trace", default=None, metavar="PATH",
                        help="write the shared run's Chrome/Perfetto trace JSON (a process per part)")
    system.add_argument("--max-work", type=float, default=None, metavar="N",
                        help="most SDPA scores, and most context firings of the whole system (the systolic "
                             "folds, the pipeline's rows, the SDPA stream), accepted (default 2^22 each: every firing "
                             "is recorded)")
    add_output_options(system)
    system.set_defaults(func=run_system)


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
    from acceldse.simulator.streaming.sdpa import min_fifo_depth

    depth = min_fifo_depth(args.variant, args.seq_len, window=args.window, criterion=args.criterion,
                           max_work=args.max_work)
    row = {"variant": args.variant, "seq_len": args.seq_len, "window": args.window, "criterion": args.criterion,
           "min_fifo_depth": depth}
    if args.format == "json":
        print_json(row)
    elif args.format == "csv":
        print_csv([row])
    else:
        print(f"{args.variant} N={args.seq_len}" + (f" W={args.window}" if args.window else "")
              + f": smallest FIFO depth ({args.criterion}) = {depth} tokens")
    return 0


def run_yaml(args: argparse.Namespace) -> int:
    trace = output_path(args.trace, flag="--trace", suffixes=(".json",))
    from acceldse.dataflows.streams.loader import load_graph
    from acceldse.simulator.streaming import run_graph

    graph = load_graph(args.path)
    result = run_graph(graph, trace_path=trace, max_work=args.max_work)
    dl = result.deadlock
    failed = EXIT_CHECK_FAILED if args.check and dl is not None else 0
    if args.format == "csv":
        print_csv([{"channel": ch, "tokens": result.tokens[ch], "max_occupancy": peak}
                   for ch, peak in result.max_occupancy.items()])
        return failed
    if args.format == "json":
        print_json({"graph": result.graph, "executor": result.executor, "cycles": result.cycles,
                          "firings": result.firings, "tokens": result.tokens,
                          "context_tokens": {k: {"consumed": v[0], "produced": v[1]}
                                             for k, v in result.context_tokens(graph).items()},
                          "max_fifo_occupancy": result.max_occupancy,
                          "deadlock": None if dl is None else dl.describe()})
        return failed
    print(f"graph {result.graph} ({result.executor} executor): {result.cycles:,} cycles")
    if dl is not None:
        print_wrapped("  DEADLOCK: ", dl.describe())
    for ctx, (consumed, produced) in result.context_tokens(graph).items():
        print(f"  context {ctx}: {result.firings[ctx]:,} firings, {consumed:,} tokens in, {produced:,} out")
    for ch, peak in result.max_occupancy.items():
        print(f"  channel {ch}: {result.tokens[ch]:,} tokens, max occupancy {peak}")
    return failed


def run(args: argparse.Namespace) -> int:
    seed(args.seed)
    positive(args.fifo_depth, flag="--fifo-depth")
    trace = output_path(args.trace, flag="--trace", suffixes=(".json",))
    from acceldse.simulator.streaming.sdpa import run_sdpa

    log.info("SDPA %s N=%d d=%d%s", args.variant, args.seq_len, args.head_dim,
             "" if args.no_values else ", with values" + (" carried token by token" if args.carry_tokens else ""))
    result = run_sdpa(args.variant, args.seq_len, args.head_dim, window=args.window,
                      fifo_depth=args.fifo_depth, carry_tokens=args.carry_tokens, seed=args.seed,
                      values=not args.no_values, trace_path=trace, progress=progress_bar("SDPA", unit="step"),
                      max_work=args.max_work)
    failed = EXIT_CHECK_FAILED if args.check and result.deadlock is not None else 0
    if args.format == "json":
        print_json(result.to_dict())
        return failed
    if args.format == "csv":
        print_csv([{k: v for k, v in result.to_dict().items() if not isinstance(v, list | dict)}])
        return failed
    window = f", window {result.window}" if result.window is not None else ""
    print(f"SDPA {result.variant} (N={result.seq_len}, d={result.head_dim}{window}), "
          f"{result.executor} executor, FIFO depth {result.fifo_depth}")
    if result.deadlock is not None:
        print_wrapped("  DEADLOCK: ", result.deadlock)
    else:
        print(f"  cycles            {result.cycles:,}")
        print(f"  scores streamed   {result.tokens:,}")
        print(f"  tokens per cycle  {result.tokens_per_cycle:.6f} (fill/stall cycles {result.fill_cycles:,})")
        print(f"  max |error|       {result.max_abs_error:.3e}")
    print_wrapped("  max FIFO occupancy: ", ", ".join(f"{k} {v}" for k, v in result.max_fifo_occupancy.items()))
    if args.trace:
        print(f"  trace written to {args.trace}")
    return failed


def run_system(args: argparse.Namespace) -> int:
    positive(args.cores, flag="--cores", limit=1024)
    positive(args.samples, flag="--samples", limit=1 << 16)
    positive(args.fifo_rows, flag="--fifo-rows", limit=1 << 20)
    positive(args.link_bw, flag="--link-bw", integer=False, limit=1e12)
    if (args.seq_len is None) != (args.head_dim is None):
        raise bad_input("the SDPA part needs both --seq-len and --head-dim", flag="--head-dim", value=args.head_dim)
    if (args.workload is None) != (args.layer is None):
        raise bad_input("the systolic part needs both --workload and --layer", flag="--layer", value=args.layer)
    trace = output_path(args.trace, flag="--trace", suffixes=(".json",))
    from acceldse.simulator.streaming.limits import check_sdpa, work_limit

    if args.seq_len is not None:  # before the SDPA graph is built; simulate_system limits the whole system
        check_sdpa(args.seq_len, args.head_dim, None, work_limit("compiled", trace=True, max_work=args.max_work))
    import dataclasses

    import numpy as np

    from acceldse.dataflows.dataflow import resolve_dataflows
    from acceldse.simulator.event.system import simulate_system
    from acceldse.simulator.specs.presets import load_hardware
    from acceldse.simulator.streaming.sdpa import build_sdpa
    from acceldse.workloads.errors import DeadlockError, SpecError
    from acceldse.workloads.loader import load_workload

    acc = dataclasses.replace(load_hardware(args.hardware), cores=args.cores)
    if args.link_bw is not None:
        bw = args.link_bw
        link = dataclasses.replace(acc.dram, read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)
        acc = dataclasses.replace(acc, tiers=tuple(link if t is acc.dram else t for t in acc.tiers))
    layer = None
    if args.layer is not None:
        layers = {ly.name: ly for ly in load_workload(args.workload).layers}
        if args.layer not in layers:
            raise bad_input("unknown layer", flag="--layer", value=args.layer,
                            accepted=f"a layer of {args.workload}: {', '.join(list(layers)[:6])}, ...")
        layer = layers[args.layer]
    try:
        pipeline = load_workload(args.pipeline) if args.pipeline else None
    except SpecError as err:  # the loader names its argument 'workload': here that is --pipeline
        raise err.named("--pipeline") if err.source == "workload" else err from None
    sdpa = None
    if args.seq_len is not None:
        q, k, v = (np.zeros((args.seq_len, args.head_dim)) for _ in range(3))  # timing only
        sdpa = build_sdpa("reordered", q, k, v)
    try:
        run = simulate_system(acc, layer=layer, dataflow=resolve_dataflows(args.dataflow)[0] if layer else None,
                              pipeline=pipeline, samples=args.samples, fifo_rows=args.fifo_rows, sdpa=sdpa,
                              head_dim=args.head_dim or 0, trace=trace is not None, max_work=args.max_work)
    except DeadlockError as err:  # a reconvergent path of the pipeline deeper than its FIFOs
        raise bad_input(f"the system deadlocks: {err}", flag="--fifo-rows", value=args.fifo_rows,
                        accepted="FIFOs deep enough for the pipeline's reconvergent paths") from None
    if trace is not None:
        trace.write_text(json.dumps(run.trace))
    if args.format == "json":
        print_json({"link": run.link, "cycles": run.cycles, "link_busy_cycles": run.link_busy_cycles,
                    "link_peak_transfers": run.link_peak_transfers, "parts": run.table.to_dict("records"),
                    "trace": args.trace})
        return 0
    if args.format == "csv":
        print_csv(run.table)
        return 0
    print(f"{len(run.table)} parts on one {run.link} link ({acc.dram.read_bw_bytes_per_cycle:g} B/cycle): "
          f"{run.cycles:,.0f} cycles; link busy {run.link_busy_cycles:,.0f} cycles, "
          f"up to {run.link_peak_transfers} transfers at once")
    for row in run.table.itertuples():
        print(f"  {row.part:<9} alone {row.alone_cycles:>12,.0f}  shared {row.shared_cycles:>12,.0f}  "
              f"contention {row.contention_cycles:>10,.0f}  slowdown {row.slowdown:.3f}x")
    if args.trace:
        print(f"  trace written to {args.trace} (open in https://ui.perfetto.dev)")
    return 0
