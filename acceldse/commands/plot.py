"""``acceldse plot KIND``: figures from a simulation, a result store, a table or a trace."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options, output_path, print_csv, print_json
from acceldse.simulator.fidelities import FIDELITIES
from acceldse.simulator.specs.presets import kind_help

KINDS = ("roofline", "breakdown", "pareto", "heatmap", "best-so-far", "timeline")

EXAMPLES = """examples:
  acceldse plot roofline --workload bert_base --param seq_len=512 --hardware tpu-hbm-like --out roofline.png
  acceldse plot breakdown --workload mobilenet_v1 --hardware array-64x64 --out layers.svg
  acceldse plot pareto results.duckdb --x energy_pj --y total_cycles --where "area_mm2 <= 10" --out front.png
  acceldse plot heatmap results.duckdb --x array.cols --y array.rows --value utilization --out util.png
  acceldse plot best-so-far runs.csv --step step --reward reward --group agent --out curves.png
  acceldse plot timeline sdpa.json --out gantt.png        # a trace from 'acceldse stream ... --trace'
  acceldse plot timeline --workload resnet18 --hardware tpu-v1-like --out event.png   # an event-fidelity run
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("plot", help="draw a roofline, Pareto front, breakdown, heatmap, curves or timeline",
                       description="Draw a figure (matplotlib, headless) to --out (.png, .svg or .pdf).",
                       epilog=f"{EXAMPLES.rstrip()}\n{EXIT_CODES_HELP}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=KINDS)
    p.add_argument("source", nargs="?", default=None,
                   help="result store (.duckdb), table (.csv/.parquet) or trace (.json), by KIND")
    p.add_argument("--out", required=True, help="figure file: .png, .svg or .pdf")
    p.add_argument("--workload", default="resnet18", help="roofline/breakdown/timeline: workload to simulate")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="roofline/breakdown/timeline: zoo parameters of the workload, e.g. --param seq_len=512")
    p.add_argument("--hardware", default="scalesim-32x32",
                   help=f"roofline/breakdown/timeline: {kind_help('systolic')} or a YAML spec (default scalesim-32x32)")
    p.add_argument("--dataflow", default=None, help="roofline/breakdown: os | ws | is | all")
    p.add_argument("--fidelity", default="analytical", choices=tuple(FIDELITIES))
    p.add_argument("--table", default="points", help="table of a result store (default: points)")
    p.add_argument("--where", default=None, help="SQL filter on a result store")
    p.add_argument("--x", default="energy_pj", help="pareto/heatmap: x column")
    p.add_argument("--y", default="total_cycles", help="pareto/heatmap: y column")
    p.add_argument("--value", default="utilization", help="heatmap: cell value column")
    p.add_argument("--agg", default="max", help="heatmap: max | min | mean | median over other axes")
    p.add_argument("--step", default="step", help="best-so-far: step column")
    p.add_argument("--reward", default="reward", help="best-so-far: reward column")
    p.add_argument("--group", default=None, help="best-so-far: one curve per value of this column")
    p.add_argument("--by", default="auto",
                   help="pareto: one front per value of this column (default: per workload when several; "
                        "'none': one front over every row)")
    p.add_argument("--logx", action="store_true", help="pareto/best-so-far: log x axis")
    p.add_argument("--logy", action="store_true", help="pareto/best-so-far/breakdown: log y axis")
    add_output_options(p)
    p.set_defaults(func=run)


def _table(args: argparse.Namespace) -> Any:
    import pandas as pd

    from acceldse.workloads.errors import SpecError

    if args.source is None:
        raise SpecError(f"'plot {args.kind}' needs a result store or table", source="source",
                        accepted="a .duckdb, .csv or .parquet file")
    path = Path(args.source)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet", ".pq"):
        if not path.is_file():
            raise SpecError("file not found", source="source", value=args.source)
        return pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    from acceldse.results import load_results

    return load_results(path, args.table, args.where)


def run(args: argparse.Namespace) -> int:
    output_path(args.out, flag="--out", suffixes=(".png", ".svg", ".pdf"))
    import matplotlib

    matplotlib.use("Agg")  # the command writes a file: draw off screen, whatever the session has
    from acceldse import plots
    from acceldse.api import simulate
    from acceldse.commands.simulate import workload_params

    out = Path(args.out)
    if out.suffix.lower() not in plots.FIGURE_SUFFIXES or not out.parent.is_dir():
        from acceldse.workloads.errors import SpecError

        raise SpecError("cannot write a figure there", source="--out", value=args.out,
                        accepted="a .png, .svg or .pdf path in an existing folder")
    params = workload_params(args)
    if args.kind in ("roofline", "breakdown"):
        result = simulate(args.workload, args.hardware, args.dataflow, fidelity=args.fidelity, **params)
        fig = plots.roofline(result) if args.kind == "roofline" \
            else plots.breakdown(result, args.dataflow, logy=args.logy)
    elif args.kind == "timeline":
        fig = plots.timeline(args.source if args.source else _event_trace(args, params))
    elif args.kind == "pareto":
        by = None if str(args.by).lower() == "none" else args.by
        fig = plots.pareto(_table(args), args.x, args.y, by=by, logx=args.logx, logy=args.logy)
    elif args.kind == "heatmap":
        fig = plots.heatmap(_table(args), args.x, args.y, args.value, args.agg)
    else:
        fig = plots.best_so_far(_table(args), args.step, args.reward, args.group, logx=args.logx, logy=args.logy)
    path = plots.save(fig, out)
    if args.format == "json":
        print_json({"figure": str(path), "kind": args.kind})
    elif args.format == "csv":
        print_csv([{"figure": str(path), "kind": args.kind}])
    else:
        print(f"wrote {path}")
    return 0


def _event_trace(args: argparse.Namespace, params: dict[str, Any]) -> dict[str, Any]:
    from acceldse.api import resolve_workload
    from acceldse.dataflows.dataflow import resolve_dataflows
    from acceldse.simulator.event import event_run
    from acceldse.simulator.specs.presets import load_hardware

    acc = load_hardware(args.hardware, source="--hardware")
    flows = resolve_dataflows(args.dataflow or acc.dataflow or "os")[:1]
    trace = event_run(resolve_workload(args.workload, **params), acc, flows, trace=True).trace
    assert trace is not None
    return trace
