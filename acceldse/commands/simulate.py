"""``acceldse simulate``: per-layer cycles, traffic and energy of a workload on an accelerator."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from acceldse.commands.common import (
    EXIT_CODES_HELP,
    add_output_options,
    bad_input,
    output_path,
    positive,
    progress_bar,
)

if TYPE_CHECKING:
    from acceldse.simulator.result import SimResult

log = logging.getLogger("acceldse.simulate")


EXAMPLES = f"""examples:
  acceldse simulate                                   # ResNet-18 on SCALE-Sim's 32x32 default, os
  acceldse simulate --workload resnet50 --hardware tpu-v1-like --dataflow all --out r50.parquet
  acceldse simulate --workload model.onnx --hardware my_chip.yaml
  acceldse simulate --workload scalesim:Resnet18 --hardware scale.cfg --dataflow ws --compat scalesim
  acceldse simulate --workload mobilenet_v1 --param width=0.5 --hardware array-64x64 --fidelity cycle \\
      --max-work 2e9
  acceldse simulate --workload alexnet --format csv > alexnet.csv
{EXIT_CODES_HELP}
"""

TABLE_COLUMNS = ["layer", "dataflow", "macs", "total_cycles", "compute_cycles", "stall_cycles", "folds",
                 "mapping_efficiency", "compute_utilization", "dram_bytes", "energy_pj"]
TOTAL_COLUMNS = ["dataflow", "macs", "total_cycles", "compute_cycles", "stall_cycles", "utilization",
                 "compute_utilization", "dram_bytes", "energy_pj", "latency_us", "area_mm2"]


def add_parser(sub: Any) -> None:
    from acceldse.simulator.fidelities import COMPAT_MODES, DEFAULT_MAX_WORK, FIDELITIES  # no numba, no pandas
    from acceldse.simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    p = sub.add_parser("simulate", help="simulate a workload on an accelerator",
                       description="Simulate every layer of a workload on an accelerator and print a per-layer "
                                   "table and totals.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="resnet18",
                   help="zoo name (see 'acceldse list'), ONNX file, SCALE-Sim topology CSV, or scalesim:<name>")
    p.add_argument("--hardware", default="scalesim-32x32",
                   help=f"{kind_help('systolic')}, a YAML spec or a SCALE-Sim .cfg (default scalesim-32x32)")
    p.add_argument("--dataflow", default=None, help="os | ws | is | all (default: the hardware's, else os)")
    p.add_argument("--fidelity", default="analytical", choices=tuple(FIDELITIES),
                   help="; ".join(f"{f.name}: {f.help}" for f in FIDELITIES.values())
                   + " (not with --compat, which reports the peer's own numbers)")
    p.add_argument("--compat", default=None, choices=tuple(COMPAT_MODES),
                   help="report a peer tool's numbers: "
                   + "; ".join(f"{f.name}: {f.help}" for f in COMPAT_MODES.values()))
    p.add_argument("--batch", type=int, default=None, help="batch size for zoo workloads")
    p.add_argument("--seq-len", type=int, default=None, help="sequence length for transformer zoo workloads")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="other zoo parameters, e.g. --param width=0.5 --param resolution=160 --param kv_len=2048")
    p.add_argument("--max-work", type=float, default=None, metavar="N",
                   help="the most work accepted before starting: " + ", ".join(
                       f"{f.work_unit} ({name}, default {DEFAULT_MAX_WORK[name]:.0e})"
                       for name, f in {**FIDELITIES, **COMPAT_MODES}.items() if f.work_unit))
    p.add_argument("--out", default=None, help="write the per-layer table to a .csv or .parquet file")
    p.add_argument("--all-columns", action="store_true",
                   help="table: every column, not the summary set (csv and json always have every column)")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    params = workload_params(args)
    out = output_path(args.out, flag="--out", suffixes=(".csv", ".parquet", ".pq"))
    positive(args.max_work, flag="--max-work", limit=1e18)
    from acceldse.api import simulate
    from acceldse.simulator.fidelities import MODES
    from acceldse.simulator.specs.presets import load_hardware

    if not str(args.hardware).lower().endswith(".cfg"):  # a .cfg is read by simulate (its settings matter)
        load_hardware(args.hardware, source="--hardware")
    slow = args.compat is None and MODES[args.fidelity].work_unit is not None  # limited: worth a progress bar
    result = simulate(args.workload, args.hardware, args.dataflow, fidelity=args.fidelity, compat=args.compat,
                      max_work=None if args.max_work is None else int(args.max_work),
                      progress=progress_bar(f"{args.fidelity} fidelity", unit="layer") if slow else None, **params)
    acc = result.extra["accelerator"]
    log.info("hardware %s: %dx%d array at %g MHz; workload %s %s", acc.name, acc.array.rows, acc.array.cols,
             acc.clock_mhz, args.workload, params or "")
    mode = f"compat={result.compat}" if result.compat else result.fidelity
    title = (f"{result.workload} on {result.hardware}: {acc.array.rows}x{acc.array.cols} array, "
             f"{acc.clock_mhz:g} MHz ({mode})")
    print_result(result, args.format, title=title, all_columns=args.all_columns)
    if out is not None:
        path = result.save(out)
        log.info("wrote %d rows to %s", result.table.n_rows, path)
        if args.format == "table":
            print(f"\nwrote {result.table.n_rows} rows to {path}")
    return 0


def workload_params(args: argparse.Namespace) -> dict[str, Any]:
    """Zoo parameters from --batch, --seq-len and repeated --param KEY=VALUE (numbers parsed).

    A parameter given twice (``--batch 2 --param batch=4``) is refused rather than silently overridden.
    """
    params: dict[str, Any] = {}
    flags: dict[str, str] = {}
    for key, value in (("batch", getattr(args, "batch", None)), ("seq_len", getattr(args, "seq_len", None))):
        if value is not None:
            params[key], flags[key] = value, f"--{key.replace('_', '-')}"
    for item in args.param:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise bad_input("expected KEY=VALUE", flag="--param", value=item, accepted="e.g. width=0.5")
        if key in params:
            raise bad_input(f"{key} is given twice ({flags[key]} and --param {item})", flag="--param", value=item,
                            accepted=f"one of {flags[key]} or --param {key}=")
        number: Any = value.strip()
        for cast in (int, float):
            try:
                number = cast(value)
                break
            except ValueError:
                continue
        params[key], flags[key] = number, f"--param {item}"
    return params


def print_result(result: SimResult, fmt: str = "table", *, title: str | None = None, all_columns: bool = False,
                 file: Any = None) -> None:
    """The per-layer table and the totals in ``fmt`` (csv: the per-layer table only, every column, as
    ``--out x.csv`` writes it; json: every column too; table: the summary set unless ``all_columns``)."""
    import sys

    from acceldse.commands.common import print_csv, print_json, print_table

    out = file or sys.stdout
    whole = all_columns or fmt != "table"
    layers = result.table.records(None if whole else TABLE_COLUMNS)  # plain columns: no pandas
    totals = result.total_table.records(TOTAL_COLUMNS)
    if fmt == "json":
        print_json({"workload": result.workload, "hardware": result.hardware, "fidelity": result.fidelity,
                    "compat": result.compat, "layers": layers, "totals": totals}, file=out)
    elif fmt == "csv":
        print_csv(layers, file=out)
    else:
        print(title or f"{result.workload} on {result.hardware} ({result.fidelity})", file=out)
        print_table(layers, keys=2 if "dataflow" in result.table else 1, file=out)
        print("\ntotals", file=out)
        print_table(totals, file=out)

__all__ = ["add_parser", "print_result", "run", "workload_params"]
