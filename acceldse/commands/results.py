"""``acceldse results``: summarise, rank, filter and export a result store."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options, emit, output_path, positive, print_table

NOT_AXES = ("point_id", "hardware_sha256", "design_sha256", "workload_params", "workload_sha256", "acceldse_version")
"""Identity columns of a point that are hashes or bookkeeping, not axes to summarise."""


def axis_columns(frame: Any) -> list[str]:
    """The columns that describe a point (a sweep's axes), not its results."""
    from acceldse.simulator.systolic.batch import TOTAL_COLUMNS

    return [str(c) for c in frame.columns if c not in TOTAL_COLUMNS and c not in NOT_AXES]

EXAMPLES = """examples:
  acceldse results results.duckdb                                  # tables, axes and metric ranges
  acceldse results results.duckdb --top 5 --by energy_pj
  acceldse results results.duckdb --pareto energy_pj,total_cycles --where "area_mm2 <= 10"
  acceldse results results.duckdb --pareto latency_us,utilization:max --export front.csv
  acceldse results results.duckdb --where '"array.rows" = 32' --export r32.parquet
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("results", help="summarise, rank or export a sweep's result store",
                       description="Read a DuckDB result store written by 'acceldse sweep' (or an exploration).",
                       epilog=f"{EXAMPLES.rstrip()}\n{EXIT_CODES_HELP}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="the .duckdb result store")
    p.add_argument("--table", default="points", help="table to read (default: points)")
    p.add_argument("--where", default=None, help="SQL filter; quote dotted columns: '\"array.rows\" >= 16'")
    p.add_argument("--top", type=int, default=None, metavar="K", help="the K best rows by --by")
    p.add_argument("--by", default="total_cycles", help="column ranked by --top (default: total_cycles)")
    p.add_argument("--descending", action="store_true", help="--top takes the largest values")
    p.add_argument("--pareto", default=None, metavar="COL,COL",
                   help="non-dominated rows over these columns (minimised; COL:max to maximise)")
    p.add_argument("--columns", default=None, help="comma list of columns to print")
    p.add_argument("--export", default=None, help="write the selected rows to a .csv or .parquet file")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from acceldse.results import check_columns, load_results, pareto_front, parse_objectives, summary, top

    positive(args.top, flag="--top")
    output_path(args.export, flag="--export", suffixes=(".csv", ".parquet"))
    frame = load_results(args.file, args.table, args.where)
    selected, title = frame, f"{len(frame)} rows in {args.file} table {args.table}"
    if args.pareto:
        cols, maximize = parse_objectives(args.pareto)
        selected = pareto_front(frame, cols, maximize, source="--pareto")
        title = f"Pareto front over {', '.join(cols)}: {len(selected)} of {len(frame)} rows"
    if args.top is not None:
        selected = top(selected, args.top, args.by, descending=args.descending)
        title += f"; top {len(selected)} by {args.by}"
    if args.export:
        from acceldse.store import EXPORT_SUFFIXES
        from acceldse.workloads.errors import SpecError

        out = Path(args.export)
        if out.suffix.lower() not in EXPORT_SUFFIXES or not out.parent.is_dir():
            raise SpecError("cannot export there", source="--export", value=args.export,
                            accepted="a .csv or .parquet path in an existing folder")
        if out.suffix.lower() == ".csv":
            selected.to_csv(out, index=False)
        else:
            selected.to_parquet(out, index=False)
    if args.format != "table":
        show = _columns(selected, args) if args.pareto or args.top is not None or args.columns else None
        if show is not None:
            check_columns(selected, show, flag="--columns")
        emit(args.format, selected, columns=show, title=title)
        return 0
    print(title)
    if args.pareto or args.top is not None or args.columns:
        show = _columns(selected, args)
        check_columns(selected, show, flag="--columns")
        print_table(selected, columns=show)  # within 100 columns: wide selections continue in blocks
    else:
        for axis in axis_columns(frame):
            values = frame[axis].dropna().unique().tolist()
            values = sorted(values) if all(isinstance(v, int | float) for v in values) else sorted(values, key=str)
            more = " ..." if len(values) > 8 else ""
            print(f"  {axis}: {len(values)} values ({', '.join(map(str, values[:8]))}{more})")
        with pd.option_context("display.width", 200, "display.float_format", "{:,.4g}".format):
            print(summary(frame).to_string(index=False))
    if args.export:
        print(f"wrote {len(selected)} rows to {args.export}")
    return 0


def _columns(frame: Any, args: argparse.Namespace) -> list[str]:
    if args.columns:
        return [c.strip() for c in args.columns.split(",")]
    axes = axis_columns(frame)
    metrics = [c for c in ("total_cycles", "energy_pj", "utilization", "area_mm2") if c in frame.columns]
    extra = []
    if args.pareto:
        extra = [c.partition(":")[0] for c in args.pareto.split(",")]
    if args.top is not None:
        extra.append(args.by)
    return [c for c in dict.fromkeys(["point_id", *axes, *extra, *metrics]) if c in frame.columns]
