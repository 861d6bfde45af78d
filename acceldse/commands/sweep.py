"""``acceldse sweep``: evaluate every point of a sweep spec into a resumable DuckDB store."""

from __future__ import annotations

import argparse
import os
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options, emit, positive

EXAMPLES = """example spec (sweep.yaml):
  version: 1
  workload: resnet18            # or a list: an axis
  hardware: scalesim-32x32      # preset or hardware YAML
  dataflow: [os, ws]            # a list is an axis
  fidelity: analytical
  axes:
    array.rows: [8, 16, 32, 64]
    array.cols: {range: [8, 72, 8]}
    tiers.sram.partition_bytes.ifmap: [16KiB, 64KiB]
  sample: grid                  # or {random: 1000, seed: 0} or {sobol: 1024, seed: 0}
  constraints: ["area_mm2 <= 10"]

examples:
  acceldse sweep sweep.yaml --store results.duckdb --workers 2
  acceldse sweep sweep.yaml --backend ray --workers 2              # a local Ray instance
  acceldse sweep sweep.yaml --backend ray --address auto          # an existing Ray cluster
  acceldse results results.duckdb --pareto energy_pj,total_cycles
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a design-space sweep into a result store",
                       description="Evaluate every point of a sweep spec (axes over hardware keys, workloads, "
                                   "dataflows, fidelity) and store one row per point. Rerunning skips stored points.",
                       epilog=f"{EXAMPLES.rstrip()}\n{EXIT_CODES_HELP}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", help="sweep spec YAML")
    p.add_argument("--store", default="results.duckdb", help="DuckDB result store (default: results.duckdb)")
    p.add_argument("--backend", default="local", choices=("local", "ray"), help="process pool or Ray")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    p.add_argument("--address", default=None, help="Ray cluster address (auto or HOST:PORT); default: local Ray")
    p.add_argument("--batch-size", type=int, default=None, help="points per task (default: 1000 analytical)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    p.add_argument("--max-memory", type=float, default=None, metavar="GIB",
                   help="refuse a sweep whose plan is estimated to need more memory (default: half the RAM)")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from acceldse.sweep import run_sweep

    positive(args.workers, flag="--workers", limit=4096)
    positive(args.batch_size, flag="--batch-size", limit=1 << 24)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    positive(args.max_memory, flag="--max-memory", integer=False)
    summary = run_sweep(args.spec, args.store, backend=args.backend, workers=workers, address=args.address,
                        batch_size=args.batch_size, progress=False if args.no_progress else None,
                        max_memory_gib=args.max_memory)
    if args.format == "table":
        print(summary)
    else:
        emit(args.format, [{k: v for k, v in vars(summary).items() if not isinstance(v, list | dict)}]
             if hasattr(summary, "__dict__") else [{"summary": str(summary)}])
    return 0
