"""``acceldse simulate``: per-layer cycles, traffic and energy of a workload on an accelerator."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from acceldse.api import COMPAT_MODES, FIDELITIES, simulate
from simulator.result import SimResult
from simulator.specs.presets import kind_help
from workloads.errors import SpecError

EXAMPLES = """examples:
  acceldse simulate                                   # ResNet-18 on SCALE-Sim's 32x32 default, os
  acceldse simulate --workload resnet50 --hardware tpu-v1-like --dataflow all --out r50.parquet
  acceldse simulate --workload model.onnx --hardware my_chip.yaml
  acceldse simulate --workload scalesim:Resnet18 --hardware scale.cfg --dataflow ws --compat scalesim
"""

TABLE_COLUMNS = ["layer", "dataflow", "macs", "total_cycles", "compute_cycles", "stall_cycles", "folds",
                 "mapping_efficiency", "compute_utilization", "dram_bytes", "energy_pj"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("simulate", help="simulate a workload on an accelerator",
                       description="Simulate every layer of a workload on an accelerator and print a per-layer "
                                   "table and totals.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="resnet18",
                   help="zoo name (see 'acceldse list'), ONNX file, SCALE-Sim topology CSV, or scalesim:<name>")
    p.add_argument("--hardware", default="scalesim-32x32",
                   help=f"{kind_help('systolic')}, a YAML spec or a SCALE-Sim .cfg (default scalesim-32x32)")
    p.add_argument("--dataflow", default=None, help="os | ws | is | all (default: the hardware's, else os)")
    p.add_argument("--fidelity", default="analytical", choices=FIDELITIES,
                   help="analytical | event | cycle (not with --compat, which reports the peer's own numbers)")
    p.add_argument("--compat", default=None, choices=COMPAT_MODES,
                   help="report a peer tool's numbers (SCALE-Sim 3.0.0, CALC mode)")
    p.add_argument("--batch", type=int, default=None, help="batch size for zoo workloads")
    p.add_argument("--seq-len", type=int, default=None, help="sequence length for transformer zoo workloads")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="other zoo parameters, e.g. --param width=0.5 --param resolution=160 --param kv_len=2048")
    p.add_argument("--out", default=None, help="write the per-layer table to a .csv or .parquet file")
    p.add_argument("--all-columns", action="store_true", help="print every column, not the summary set")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    params = workload_params(args)
    result = simulate(args.workload, args.hardware, args.dataflow, fidelity=args.fidelity, compat=args.compat,
                      **params)
    print_result(result, all_columns=args.all_columns)
    if args.out:
        path = result.save(args.out)
        print(f"\nwrote {len(result.layers)} rows to {path}")
    return 0


def workload_params(args: argparse.Namespace) -> dict[str, Any]:
    """Zoo parameters from --batch, --seq-len and repeated --param KEY=VALUE (numbers parsed)."""
    params: dict[str, Any] = {k: v for k, v in (("batch", args.batch), ("seq_len", args.seq_len)) if v is not None}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SpecError("expected KEY=VALUE", source="--param", value=item, accepted="e.g. width=0.5")
        number: Any = value
        for cast in (int, float):
            try:
                number = cast(value)
                break
            except ValueError:
                continue
        params[key.strip().replace("-", "_")] = number
    return params


def print_result(result: SimResult, *, all_columns: bool = False, file: Any = None) -> None:
    out = file or sys.stdout
    mode = f"compat={result.compat}" if result.compat else result.fidelity
    print(f"{result.workload} on {result.hardware} ({mode})", file=out)
    table = result.layers if all_columns else result.layers[[c for c in TABLE_COLUMNS if c in result.layers]]
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200,
                           "display.float_format", "{:,.3f}".format):
        print(table.to_string(index=False), file=out)
        print("\ntotals", file=out)
        totals = result.totals
        keep = [c for c in ("dataflow", "macs", "total_cycles", "compute_cycles", "stall_cycles", "utilization",
                            "compute_utilization", "dram_bytes", "energy_pj", "latency_us", "area_mm2")
                if c in totals]
        print(totals[keep].to_string(index=False), file=out)
