"""``acceldse tiers``: memory-tier studies (expert switching, operator fusion, event runs)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from acceldse.commands.common import (
    EXIT_CODES_HELP,
    add_output_options,
    emit,
    format_seconds,
    output_path,
    positive,
    print_json,
    print_table,
    progress_bar,
)
from acceldse.workloads.errors import SpecError

log = logging.getLogger("acceldse.tiers")

EPILOG = """examples:
  acceldse tiers switch --hardware sn40l-like --params 8e9 --dtype bf16 --experts 150
  acceldse tiers switch --hardware sn40l-like --params 8e9 --experts 1 --sockets 1 --json
  acceldse tiers fusion --hardware sn40l-like --workload gpt2_decode
  acceldse tiers fusion --hardware sn40l-like --workload bert_base --block encoder.0 --bits 16
  acceldse tiers event --workload resnet18 --hardware tpu-hbm-like --cores 4 --trace r18.json
  acceldse tiers event --workload gpt2_decode --hardware sn40l-like --weights-tier ddr --staging-depth 2
""" + EXIT_CODES_HELP


def add_parser(subparsers: Any) -> None:
    from acceldse.simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    parser = subparsers.add_parser(
        "tiers", help="memory-tier studies: expert switching, fusion, event runs",
        description="Studies of a tiered memory (SRAM -> HBM -> DDR): composition-of-experts model "
                    "switching, fused vs unfused layers, and event-fidelity runs with stall breakdown.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="tiers_command", metavar="STUDY", required=True)

    sw = sub.add_parser("switch", help="expert switching time = bytes / tier bandwidth",
                        description="Place the experts in the closest tier with room and time switching "
                                    "to an expert in each tier.",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sw.add_argument("--hardware", default="sn40l-like",
                    help=f"{kind_help('systolic')} or a YAML spec (one socket; default sn40l-like)")
    sw.add_argument("--params", type=float, default=8e9, help="parameters per expert (default 8e9)")
    sw.add_argument("--dtype", default="bf16", help="bf16 | fp16 | fp32 | fp8 | int8 | int4 (default bf16)")
    sw.add_argument("--experts", type=int, default=150, help="number of experts (default 150)")
    sw.add_argument("--sockets", type=int, default=None,
                    help="sockets acting as one device (default: the fewest that hold every expert)")
    add_output_options(sw)
    sw.set_defaults(func=run_switch)

    fu = sub.add_parser("fusion", help="fused vs unfused decoder layer",
                        description="Time and off-chip bytes of a block of layers run as one fused kernel "
                                    "(intermediates on chip) and as one kernel per layer (through HBM).",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    fu.add_argument("--hardware", default="sn40l-like",
                    help=f"{kind_help('systolic')} or a YAML spec (default sn40l-like)")
    fu.add_argument("--workload", default="gpt2_decode",
                    help="zoo name, ONNX or SCALE-Sim CSV (default gpt2_decode)")
    fu.add_argument("--block", default=None, help="layer-name prefix (default: the first block, e.g. h.0)")
    fu.add_argument("--bits", type=int, default=None,
                    help="operand bits of zoo and ONNX workloads (default 16: bf16)")
    fu.add_argument("--seq-len", type=int, default=None, help="sequence length (prefill/encoder zoo workloads)")
    fu.add_argument("--kv-len", type=int, default=None, help="KV-cache length (gpt2_decode)")
    fu.add_argument("--layers", action="store_true", help="also print the per-layer table")
    add_output_options(fu)
    fu.set_defaults(func=run_fusion)

    ev = sub.add_parser("event", help="event-fidelity run: stall breakdown, contention, trace",
                        description="Run a network at event fidelity and print the stall cycles by cause.",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ev.add_argument("--workload", default="resnet18", help="zoo name, ONNX or SCALE-Sim CSV (default resnet18)")
    ev.add_argument("--hardware", default="tpu-hbm-like",
                    help=f"{kind_help('systolic')} or a YAML spec (default tpu-hbm-like)")
    ev.add_argument("--dataflow", default=None, help="os | ws | is | all (default: the hardware's, else os)")
    ev.add_argument("--cores", type=int, default=None, help="arrays sharing the off-chip link (default: spec)")
    ev.add_argument("--trace", default=None, metavar="PATH", help="write a Chrome/Perfetto trace JSON")
    ev.add_argument("--weights-tier", default=None,
                    help="tier the weights live in (e.g. ddr), or 'auto' to place them; far tiers are staged inward")
    ev.add_argument("--staging-depth", type=int, default=2, help="layers staged ahead per far tier (default 2)")
    add_output_options(ev)
    ev.set_defaults(func=run_event)


def run_switch(args: argparse.Namespace) -> int:
    positive(args.params, flag="--params", integer=False, limit=1e15)
    if not float(args.params).is_integer():  # a count of parameters, e.g. 8e9
        raise SpecError("not a whole number of parameters", source="--params", value=args.params,
                        accepted="a parameter count >= 1, e.g. 8e9")
    positive(args.experts, flag="--experts", limit=1_000_000)
    from acceldse.simulator.tiers.switching import MAX_SOCKETS
    from acceldse.tiers import switch_study

    positive(args.sockets, flag="--sockets", limit=MAX_SOCKETS)

    r = switch_study(args.hardware, args.params, args.dtype, args.experts, args.sockets)
    if args.format == "json":
        print_json({"hardware": r.hardware, "sockets": r.sockets, "experts": r.experts,
                    "expert_bytes": r.expert_bytes, "mean_switch_seconds": r.mean_switch_seconds,
                    "tiers": r.table.to_dict(orient="records")})
        return 0
    emit(args.format, r.table, title=f"{r.experts} experts x {r.expert_bytes / 1e9:.3g} GB on {r.sockets} x "
                                     f"{r.hardware}")
    if args.format == "table":
        print(f"\nmean switch time (expert picked uniformly): {format_seconds(r.mean_switch_seconds)}")
    return 0


def run_fusion(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("bits", args.bits), ("seq_len", args.seq_len), ("kv_len", args.kv_len))
              if v is not None}
    for flag in ("bits", "seq_len", "kv_len"):
        positive(getattr(args, flag), flag=f"--{flag.replace('_', '-')}")
    from acceldse.tiers import fusion

    r = fusion(args.hardware, args.workload, args.block, **params)
    summary = {"block": r.block, "unfused_cycles": r.unfused_cycles, "fused_cycles": r.fused_cycles,
               "unfused_seconds": r.unfused_seconds, "fused_seconds": r.fused_seconds, "speedup": r.speedup,
               "unfused_bytes": r.unfused_bytes, "fused_bytes": r.fused_bytes,
               "intermediate_bytes": r.intermediate_bytes}
    if args.format == "json":
        print_json(summary)
        return 0
    if args.format == "csv":
        emit("csv", r.layers if args.layers else [summary])
        return 0
    if args.layers:
        print_table(r.layers)
        print()
    print(f"block {r.block!r}: unfused {r.unfused_cycles:,} cycles ({r.unfused_seconds * 1e6:,.2f} us), "
          f"{r.unfused_bytes:,} off-chip bytes")
    print(f"{'':>{len(r.block) + 9}}fused   {r.fused_cycles:,} cycles ({r.fused_seconds * 1e6:,.2f} us), "
          f"{r.fused_bytes:,} off-chip bytes")
    print(f"speed-up {r.speedup:.2f}x; intermediates kept on chip: {r.intermediate_bytes:,} bytes")
    return 0


def run_event(args: argparse.Namespace) -> int:
    positive(args.cores, flag="--cores", limit=4096)
    positive(args.staging_depth, flag="--staging-depth", limit=1_000_000)
    trace = output_path(args.trace, flag="--trace", suffixes=(".json",))
    from acceldse.tiers import event_trace

    run = event_trace(args.workload, args.hardware, args.dataflow, cores=args.cores, trace_path=trace,
                      weight_tiers=args.weights_tier, staging_depth=args.staging_depth,
                      progress=progress_bar("event fidelity", unit="layer"))
    t = run.table
    cols = ["total_cycles", "compute_cycles", "stall_cycles", "stall_bandwidth_cycles", "stall_latency_cycles",
            "stall_capacity_cycles", "stall_contention_cycles", "stall_staging_cycles"]
    totals = t.groupby("dataflow", sort=False)[cols].sum().reset_index()
    if args.format == "json":
        print_json({"layers": t[["layer", "dataflow", *cols]].to_dict(orient="records"),
                    "totals": totals.to_dict(orient="records"), "trace": args.trace})
        return 0
    if args.format == "csv":
        emit("csv", t)
        return 0
    print_table(t, columns=["layer", "dataflow", *cols], keys=2)
    print("\ntotals")
    print_table(totals)
    if args.trace:
        print(f"\nwrote trace {args.trace} (open in https://ui.perfetto.dev)")
    return 0
