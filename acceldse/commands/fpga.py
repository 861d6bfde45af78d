"""``acceldse fpga``: layer-pipelined FPGA streaming designs (fpgaConvNet / SAMO style).

Optimises per-stage folding and partitioning of a network on an FPGA board and prints a per-stage
table (like SAMO's report) and the network summary; ``acceldse fpga swat`` compares sliding-window
and dense attention designs.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from acceldse.commands.common import (
    EXIT_CODES_HELP,
    add_output_options,
    clean,
    emit,
    positive,
    print_csv,
    print_json,
    print_table,
    progress_bar,
    reject_ignored,
    seed,
)

if TYPE_CHECKING:
    from workloads.network import Network

log = logging.getLogger("acceldse.fpga")
FPGA_NETWORKS = ("lenet", "vgg_small", "residual_block", "mlp")  # simulator.fpga.networks (a test checks)
SWAT_DEFAULTS = {"--seq-len": [1024, 2048, 4096, 8192, 16384], "--window": 512, "--head-dim": 64, "--heads": 1}
OPTIMISE_DEFAULTS = {"--workload": "lenet", "--objective": "throughput", "--batch": None, "--method": "greedy",
                     "--seed": 0, "--clock-mhz": None, "--decompose": False, "--max-error": None,
                     "--min-rank-fraction": 0.25, "--no-reconf": False}

EPILOG = """examples:
  acceldse fpga --workload lenet --platform zc706 --objective throughput --batch 256
  acceldse fpga --workload lenet --platform zc706 --clock-mhz 100 --method anneal --seed 1 --json
  acceldse fpga --workload vgg_small --platform zcu102 --decompose
  acceldse fpga --workload model.onnx --platform u250 --objective latency --batch 1
  acceldse fpga --workload model.onnx --platform zcu102 --decompose --max-error 0.05
  acceldse fpga swat --platform zcu102 --seq-len 1024 2048 4096 8192 16384 --window 512
""" + EXIT_CODES_HELP


def resolve_workload(name: str) -> Network:
    """An FPGA-study network (lenet, vgg_small, ...), else a zoo name or file via ``load_workload``."""
    from simulator.fpga.networks import fpga_network
    from workloads.errors import SpecError
    from workloads.loader import load_workload

    if name.lower() in FPGA_NETWORKS:
        return fpga_network(name)
    try:
        return load_workload(name)
    except SpecError as err:
        if "unknown workload" not in str(err):
            raise
        raise SpecError("unknown workload", source="--workload", value=name,
                        accepted=f"an FPGA study network ({', '.join(FPGA_NETWORKS)}) or {err.accepted}") from None


def add_parser(subparsers: Any) -> None:
    from simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    parser = subparsers.add_parser(
        "fpga", help="layer-pipelined FPGA streaming designs: folding, partitions, decomposition",
        description="Optimise the folding (coarse_in, coarse_out, fine) and partitioning of a "
                    "layer-pipelined streaming design (one stage per layer) on an FPGA board, and print "
                    "per-stage cycles and resources and the network summary.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="optimise", choices=["optimise", "swat"],
                        help="optimise a network (default) or compare window vs dense attention (swat)")
    parser.add_argument("--workload", default="lenet",
                        help=f"{', '.join(FPGA_NETWORKS)}, a zoo name or an .onnx file (default lenet)")
    parser.add_argument("--platform", default="zc706",
                        help=f"{kind_help('fpga')} or a platform YAML path (default zc706)")
    parser.add_argument("--objective", choices=["throughput", "latency"], default="throughput")
    parser.add_argument("--batch", type=int, default=None,
                        help="samples per batch (default 256 for throughput, 1 for latency, as in SAMO)")
    parser.add_argument("--method", choices=["greedy", "anneal"], default="greedy",
                        help="rule-based greedy, or greedy followed by seeded simulated annealing")
    parser.add_argument("--seed", type=int, default=0, help="annealing seed (default 0)")
    parser.add_argument("--clock-mhz", type=float, default=None, help="override the platform clock (MHz)")
    parser.add_argument("--decompose", action="store_true", help="let the optimiser apply SVD/CP per layer")
    parser.add_argument("--max-error", type=float, default=None,
                        help="with --decompose on an .onnx workload: largest relative reconstruction error "
                             "per layer, computed from the model's weights")
    parser.add_argument("--min-rank-fraction", type=float, default=0.25,
                        help="with --decompose: smallest rank as a fraction of full rank (default 0.25)")
    parser.add_argument("--no-reconf", action="store_true", help="one partition only (no reconfiguration)")
    parser.add_argument("--seq-len", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384],
                        help="swat: sequence lengths (default 1k..16k)")
    parser.add_argument("--window", type=int, default=512, help="swat: keys per query row (default 512)")
    parser.add_argument("--head-dim", type=int, default=64, help="swat: head dimension (default 64)")
    parser.add_argument("--heads", type=int, default=1, help="swat: attention heads (default 1)")
    add_output_options(parser)
    parser.set_defaults(func=run)


def run_swat(args: argparse.Namespace) -> int:
    reject_ignored(args, OPTIMISE_DEFAULTS, reason="by 'fpga swat' (it compares attention designs)")
    for n in args.seq_len:
        positive(n, flag="--seq-len", limit=1 << 24)
    positive(args.window, flag="--window")
    positive(args.head_dim, flag="--head-dim", limit=4096)
    positive(args.heads, flag="--heads", limit=4096)
    from simulator.fpga.attention import compare_attention

    table = compare_attention(args.platform, seq_lens=tuple(args.seq_len), window=args.window,
                              head_dim=args.head_dim, heads=args.heads)
    if args.format == "json":
        print_json({"platform": args.platform, "rows": table.to_dict(orient="records")})
    else:
        emit(args.format, table, columns=["seq_len", "window", "swat_latency_ms", "dense_latency_ms", "speedup"])
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "swat":
        return run_swat(args)
    reject_ignored(args, SWAT_DEFAULTS, reason="by 'fpga optimise' (only by 'fpga swat')")
    seed(args.seed)
    if args.batch is None:
        args.batch = 1 if args.objective == "latency" else 256
    positive(args.batch, flag="--batch", limit=1 << 30)
    positive(args.clock_mhz, flag="--clock-mhz", integer=False, limit=10_000)
    positive(args.max_error, flag="--max-error", integer=False)
    if not 0 < args.min_rank_fraction <= 1:
        from workloads.errors import SpecError

        raise SpecError("out of range", source="--min-rank-fraction", value=args.min_rank_fraction,
                        accepted="a fraction in (0, 1]")
    from mapper.fpga import optimise
    from workloads.errors import SpecError

    network = resolve_workload(args.workload)
    weights = None
    if args.decompose and args.workload.lower().endswith(".onnx"):
        from workloads.onnx_weights import onnx_weights

        weights = onnx_weights(args.workload)
    if args.max_error is not None and weights is None:
        raise SpecError("needs --decompose and an .onnx workload (the weights come from it)", source="--max-error",
                        value=args.max_error, accepted="--decompose --workload model.onnx")
    result = optimise(network, args.platform, objective=args.objective, batch=args.batch, method=args.method,
                      seed=args.seed, decompose=args.decompose, clock_mhz=args.clock_mhz,
                      enable_reconf=not args.no_reconf, weights=weights, max_error=args.max_error,
                      min_rank_fraction=args.min_rank_fraction,
                      progress=progress_bar("FPGA decomposition", unit="plan") if args.decompose else None)
    summary = {k: clean(v) for k, v in result.summary.items()}
    if args.format == "json":
        print_json({"summary": summary, "stages": result.stages.to_dict(orient="records"),
                    "decomposition": {k: list(v) for k, v in result.decomposition.items()},
                    "decomposition_errors": result.decomposition_errors})
        return 0
    cols = ["partition", "layer", "coarse_in", "coarse_out", "fine", "personality", "weights_on_chip", "cycles",
            "dsp", "bram18", "uram", "lut", "ff"]
    if args.format == "csv":
        print_csv(result.stages)
        return 0
    print_table(result.stages, columns=cols, keys=2)
    print()
    s = summary
    print(f"{s['network']} on {s['platform']} @ {s['clock_mhz']:g} MHz, batch {s['batch']}, "
          f"{s['partitions']} partition(s)")
    print(f"  batch latency   {s['batch_time_us']:,.1f} us  (with pipeline fill {s['latency_us']:,.1f} us)")
    print(f"  throughput      {s['throughput_per_s']:,.1f} samples/s  ({s.get('gops', 0):,.2f} GOP/s)")
    print(f"  per DSP         {s['throughput_per_dsp']:,.3f} samples/s/DSP")
    for res in ("dsp", "bram18", "uram", "lut", "ff"):
        used, avail = s[f"{res}_used"], s[f"{res}_available"]
        if not avail:
            continue
        print(f"  {res:<7} {used:>10,} / {avail:<10,} ({100 * used / avail:5.1f} %)")
    print(f"  bandwidth {s['bandwidth_gbit_per_s']:,.3f} / {s['bandwidth_limit_gbit_per_s']:,} Gb/s")
    if result.decomposition:
        print("  decomposition: " + ", ".join(f"{k}={m}:{r}" for k, (m, r) in result.decomposition.items()))
        if result.decomposition_errors:
            print("  reconstruction error: " + ", ".join(f"{k}={v:.2e}"
                                                       for k, v in result.decomposition_errors.items()))
    if result.candidates:
        print("\ndecomposition plans tried (rank fraction 1.0 = undecomposed):")
        print_table(result.candidates)
    return 0
