"""``acceldse fpga``: layer-pipelined FPGA streaming designs (fpgaConvNet / SAMO style).

Optimises per-stage folding and partitioning of a network on an FPGA board (acceldse's own
optimiser, not SAMO's) and prints a per-stage table (like SAMO's report) and the network summary;
``--design FILE`` instead evaluates a given SAMO / fpgaConvNet design; ``--export samo`` writes the
design in fpgaConvNet's partition JSON; ``acceldse fpga swat`` compares sliding-window and dense
attention designs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acceldse.commands.common import (
    EXIT_CODES_HELP,
    add_output_options,
    emit,
    positive,
    print_csv,
    print_table,
    progress_bar,
    reject_ignored,
    seed,
)
from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from acceldse.mapper.fpga import FpgaResult
    from acceldse.workloads.network import Network

SWAT_DEFAULTS = {"--seq-len": [1024, 2048, 4096, 8192, 16384], "--window": 512, "--head-dim": 64, "--heads": 1}
OPTIMISE_DEFAULTS = {"--workload": "lenet", "--objective": "throughput", "--batch": None, "--method": "greedy",
                     "--seed": 0, "--clock-mhz": None, "--decompose": False, "--max-error": None,
                     "--min-rank-fraction": 0.25, "--no-reconf": False, "--bits": None, "--design": None,
                     "--fpgaconvnet-cycles": False, "--export": None, "--out": None}

EPILOG = """examples:
  acceldse fpga --workload lenet --platform zc706 --objective throughput --batch 256
  acceldse fpga --workload lenet --platform zc706 --clock-mhz 100 --method anneal --seed 1 --json
  acceldse fpga --workload vgg_small --platform zcu102 --decompose --max-error none
  acceldse fpga --workload model.onnx --platform u250 --objective latency --batch 1
  acceldse fpga --workload model.onnx --platform zcu102 --decompose --max-error 0.05
  acceldse fpga --workload lenet --platform zc706 --clock-mhz 100 --design tests/golden/fpga/samo_lenet_zc706.json
  acceldse fpga --workload model.onnx --bits 16 --platform samo-u250-1slr --export samo --out design.json
  acceldse fpga swat --platform zcu102 --seq-len 1024 2048 4096 8192 16384 --window 512
""" + EXIT_CODES_HELP


def fpga_workload(name: str, bits: int | None = None) -> Network:
    """A zoo name (the FPGA study's small networks among them), an ONNX file or a SCALE-Sim CSV, with every
    operand at ``bits`` when given (default: the network's own; 16 for the study networks, 8 for ONNX files)."""
    from acceldse.api import resolve_workload

    if not bits:
        return resolve_workload(name)
    if name.lower().endswith(".csv") or name.lower().startswith("scalesim:"):  # a topology has no precision
        from dataclasses import replace

        network = resolve_workload(name)
        layers = tuple(replace(x, input_bits=bits, weight_bits=bits, output_bits=bits) for x in network)
        return replace(network, layers=layers)
    return resolve_workload(name, bits=bits)


def add_parser(subparsers: Any) -> None:
    from acceldse.simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    parser = subparsers.add_parser(
        "fpga", help="layer-pipelined FPGA streaming designs: folding, partitions, decomposition",
        description="Optimise the folding (coarse_in, coarse_out, fine) and partitioning of a "
                    "layer-pipelined streaming design (one stage per layer) on an FPGA board, and print "
                    "per-stage cycles and resources and the network summary.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="optimise", choices=["optimise", "swat"],
                        help="optimise a network (default) or compare window vs dense attention (swat)")
    parser.add_argument("--workload", default="lenet",
                        help="a zoo name (the FPGA study's small networks: lenet, cnv, vgg_small, vgg_tiny, mlp, "
                             "residual_block), an .onnx file or a SCALE-Sim .csv (default lenet)")
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
    parser.add_argument("--max-error", default=None, metavar="E|none",
                        help="with --decompose: largest relative reconstruction error per layer, computed from "
                             "the .onnx workload's weights (default 0.3); 'none' decomposes without an accuracy "
                             "bound (needed for study networks, which have no weights)")
    parser.add_argument("--min-rank-fraction", type=float, default=0.25,
                        help="with --decompose: smallest rank as a fraction of full rank (default 0.25)")
    parser.add_argument("--no-reconf", action="store_true", help="one partition only (no reconfiguration)")
    parser.add_argument("--seq-len", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384],
                        help="swat: sequence lengths (default 1k..16k)")
    parser.add_argument("--window", type=int, default=512, help="swat: keys per query row (default 512)")
    parser.add_argument("--head-dim", type=int, default=64, help="swat: head dimension (default 64)")
    parser.add_argument("--heads", type=int, default=1, help="swat: attention heads (default 1)")
    parser.add_argument("--bits", type=int, default=None,
                        help="operand precision of every layer in bits (SAMO's runs are 16-bit; ONNX loads at 8)")
    parser.add_argument("--design", default=None, metavar="FILE",
                        help="evaluate this SAMO / fpgaConvNet design JSON instead of optimising")
    parser.add_argument("--fpgaconvnet-cycles", action="store_true",
                        help="with --design: count a padded conv's padding twice, as fpgaConvNet 0.1.4.2 "
                             "(and so SAMO 0.2.4) does, to reproduce SAMO's printed cycles")
    parser.add_argument("--export", choices=["samo"], default=None,
                        help="write the design in fpgaConvNet's partition JSON (SAMO's output format)")
    parser.add_argument("--out", default=None, metavar="PATH", help="with --export: file to write (default stdout)")
    add_output_options(parser)
    parser.set_defaults(func=run)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _run_swat(args: argparse.Namespace) -> int:
    reject_ignored(args, OPTIMISE_DEFAULTS, reason="by 'fpga swat' (it compares attention designs)")
    from acceldse.simulator.fpga.attention import compare_attention

    table = compare_attention(args.platform, seq_lens=tuple(args.seq_len), window=args.window,
                              head_dim=args.head_dim, heads=args.heads)
    if args.format == "json":
        print(json.dumps({"platform": args.platform, "rows": table.to_dict(orient="records")}))
    else:
        cols = ["seq_len", "window", "swat_latency_ms", "dense_latency_ms", "speedup", "swat_energy_uj",
                "dense_energy_uj"]
        emit(args.format, table, columns=[c for c in cols if c in table])
    covered = [n for n in args.seq_len if n <= args.window]
    if covered:  # window attention over a window that covers the sequence is dense attention (SWAT's clamp)
        print(f"note: --window {args.window} covers --seq-len {', '.join(map(str, covered))}: every row attends to "
              "all N keys there, so the window is N and SWAT equals dense attention", file=sys.stderr)
    return 0


def _given_design(args: argparse.Namespace, network: Network) -> FpgaResult:
    """Evaluate the design file ``args.design`` (no optimisation)."""
    from acceldse.mapper.fpga import FpgaResult
    from acceldse.simulator.fpga.design import evaluate_design
    from acceldse.simulator.fpga.samo_io import load_design
    from acceldse.simulator.specs.platform import load_platform

    onnx_path = args.workload if args.workload.lower().endswith(".onnx") else None
    loaded = load_design(args.design, network, onnx_path=onnx_path)
    plat = load_platform(args.platform)
    if args.clock_mhz is not None:
        plat = plat.with_clock(args.clock_mhz)
    batch = args.batch or loaded.batch or 256
    report = evaluate_design(network, loaded.foldings, plat, batch=batch, partitions=loaded.partitions,
                             padding_twice=args.fpgaconvnet_cycles)
    return FpgaResult(network, report, loaded.foldings, loaded.partitions)


def _export(args: argparse.Namespace, result: FpgaResult) -> None:
    from acceldse.simulator.fpga.samo_io import design_to_samo

    text = json.dumps(design_to_samo(result.report, result.network), indent=1)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)


def run(args: argparse.Namespace) -> int:
    if args.action == "swat":
        return _run_swat(args)
    reject_ignored(args, SWAT_DEFAULTS, reason="by 'fpga optimise' (only by 'fpga swat')")
    seed(args.seed)
    positive(args.batch, flag="--batch", limit=1 << 30)
    positive(args.clock_mhz, flag="--clock-mhz", integer=False, limit=10_000)
    if args.bits is not None and not 1 <= args.bits <= 64:
        raise SpecError("out of range", source="--bits", value=args.bits, accepted="an integer 1..64")
    if args.batch is not None and args.batch < 1:
        raise SpecError("must be >= 1", source="--batch", value=args.batch, accepted="an integer >= 1")
    network = fpga_workload(args.workload, args.bits)
    if args.design:
        result = _given_design(args, network)
    else:
        result = _optimised(args, network)
    if args.export:
        _export(args, result)
        return 0
    _print_result(args, result)
    return 0


def _optimised(args: argparse.Namespace, network: Network) -> FpgaResult:
    if args.batch is None:
        args.batch = 1 if args.objective == "latency" else 256
    if not args.decompose and args.min_rank_fraction != OPTIMISE_DEFAULTS["--min-rank-fraction"]:
        raise SpecError("needs --decompose", source="--min-rank-fraction", value=args.min_rank_fraction,
                        accepted="--decompose --min-rank-fraction F")
    weights = None
    if args.decompose and args.workload.lower().endswith(".onnx"):
        from acceldse.workloads.onnx_weights import onnx_weights

        weights = onnx_weights(args.workload)
    max_error = _max_error(args.max_error, weights is not None, args.decompose)
    from acceldse.mapper.fpga import optimise

    result = optimise(network, args.platform, objective=args.objective, batch=args.batch, method=args.method,
                      seed=args.seed, decompose=args.decompose, clock_mhz=args.clock_mhz,
                      enable_reconf=not args.no_reconf, weights=weights, max_error=max_error,
                      min_rank_fraction=args.min_rank_fraction,
                      progress=progress_bar("FPGA decomposition", unit="plan") if args.decompose else None)
    return result


def _max_error(text: str | None, have_weights: bool, decompose: bool) -> float | None:
    """--max-error: a bound > 0 (default DEFAULT_MAX_ERROR), or None for 'none'."""
    from acceldse.mapper.fpga.decomposition import DEFAULT_MAX_ERROR

    if text is not None and not decompose:
        raise SpecError("needs --decompose", source="--max-error", value=text, accepted="--decompose --max-error E")
    if text is not None and text.lower() == "none":
        return None
    try:
        value = DEFAULT_MAX_ERROR if text is None else float(text)
    except ValueError:
        raise SpecError("not a number", source="--max-error", value=text, accepted="a number > 0 or 'none'") from None
    if not value > 0:
        raise SpecError("must be > 0", source="--max-error", value=text, accepted="a number > 0 or 'none'")
    if decompose and not have_weights:
        raise SpecError("the error bound needs weights: use an .onnx workload, or --max-error none to decompose "
                        "without an accuracy bound", source="--max-error", value=value,
                        accepted="--workload model.onnx, or --max-error none")
    return value


def _print_result(args: argparse.Namespace, result: FpgaResult) -> None:
    summary = {k: _clean(v) for k, v in result.summary.items()}
    if args.format == "json":
        stages = [{k: _clean(v) for k, v in row.items()} for row in result.stages.to_dict(orient="records")]
        print(json.dumps({"summary": summary, "stages": stages,
                          "decomposition": {k: list(v) for k, v in result.decomposition.items()},
                          "decomposition_errors": result.decomposition_errors,
                          "violations": list(result.report.violations)}))
        return
    if args.format == "csv":
        print_csv(result.stages)
        return
    cols = ["partition", "layer", "coarse_in", "coarse_out", "fine", "personality", "weights_on_chip", "cycles",
            "dsp", "bram18", "uram", "lut", "ff"]
    print_table(result.stages, columns=cols, keys=2)
    print()
    s = summary
    what = f"design {args.design} (evaluated, not optimised)" if args.design else "optimised by acceldse"
    print(f"{s['network']} on {s['platform']} @ {s['clock_mhz']:g} MHz, batch {s['batch']}, "
          f"{s['partitions']} partition(s), {what}")
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
    for violation in result.report.violations:
        print(f"  over budget: {violation}")
