"""``acceldse validate``: measured silicon and the seed papers' headline results beside acceldse's values."""

from __future__ import annotations

import argparse
import math
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, FORMATS, add_verbose, emit, progress_bar

COLUMNS = ["id", "published", "acceldse", "unit", "error_pct"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("validate", help="published measurements and papers' results beside acceldse's",
                       description="Recompute every published figure acceldse is validated against (measured "
                                   "silicon: Eyeriss v1, TPU v1, Gemmini RTL, FINN on Zynq boards; the seed papers' "
                                   "headline results) "
                                   "and print published value, acceldse's value and the error. docs/validation.md is "
                                   "'--format markdown'.",
                       epilog="examples:\n  acceldse validate\n  acceldse validate --category silicon --format csv\n"
                              f"  acceldse validate --json --reuse\n{EXIT_CODES_HELP}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--category", choices=["all", "silicon", "paper"], default="all",
                   help="which rows (default all)")
    p.add_argument("--reuse", action="store_true",
                   help="take sources this exact code already computed from the saved results "
                        "($ACCELDSE_CACHE_DIR, default ~/.cache/acceldse) instead of recomputing them")
    group = p.add_argument_group("output")
    group.add_argument("--format", choices=[*FORMATS, "markdown"], default="table",
                       help="table (default), csv, json (every field, with source, conditions and command) or "
                            "markdown (the docs page's table)")
    group.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    add_verbose(group)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from acceldse.validation import markdown, summary, validate

    rows = validate(None if args.category == "all" else args.category, reuse=args.reuse,
                    progress=progress_bar("validate", unit="source"))
    if args.format == "markdown":
        print(markdown(rows), end="")
        return 0
    records = [r.to_dict() for r in rows]
    if args.format == "table":
        for rec in records:
            rec["published"] = _shown(rec["published"])
    emit(args.format, records, columns=None if args.format == "json" else COLUMNS,
         title="published vs acceldse (error_pct: signed, % of the published value; 0 inside a published range)",
         summary={f"{cat} {k}": v for cat, s in summary(rows).items() for k, v in s.items()})
    return 0


def _shown(value: float | list[float]) -> Any:
    from acceldse.validation import fmt_value

    return fmt_value((value[0], math.inf if value[1] is None else value[1])) if isinstance(value, list) else value
