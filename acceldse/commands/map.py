"""``acceldse map``: search the best mapping of each layer on a Timeloop-style hierarchy.

Prints each layer's best mapping as a loop nest (like Timeloop's map.txt) and a table
(``mapper.api.RESULT_COLUMNS``); ``--out`` writes the table as CSV and ``--save-mappings``
writes one mapping YAML per layer. ``--mapping FILE`` evaluates a given mapping instead and
prints Timeloop-style statistics; ``--timeloop FILE...`` reads Timeloop's own inputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mapper.api import map_network
from mapper.search import METHODS
from simulator.specs.presets import kind_help
from workloads.errors import SpecError

EPILOG = """examples:
  acceldse map --workload resnet18 --hardware eyeriss_like --objective edp --search ga --budget 20000
  acceldse map --workload resnet50 --hardware simple_ws_32x32 --search hybrid --seed 1 --out r50.csv
  acceldse map --workload resnet18 --layer layer1.0.conv1 --dataflow auto --objective pareto
  acceldse map --timeloop parsed-processed-input.yaml timeloop-mapper.ERT.yaml --mapping timeloop-mapper.map.yaml
  acceldse map --timeloop arch.yaml problem.yaml ERT.yaml --search hybrid     (search on a Timeloop spec)
  acceldse map --timeloop arch.yaml ERT.yaml --workload resnet18 --dataflow any  (a Timeloop arch as hardware)
  acceldse map --workload resnet18 --layer conv1 --hardware eyeriss_like --mapping best.yaml
"""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "map", help="search per-layer mappings (tiling, loop order, spatial unrolling, bypass)",
        description="Search the best mapping of every MAC layer of a workload on a hierarchical "
                    "architecture (Timeloop-style), print loop nests and a table.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="resnet18", help="zoo name, .onnx or .csv file (default resnet18)")
    parser.add_argument("--hardware", default="eyeriss_like",
                        help=f"{kind_help('hierarchy')} or a hierarchy YAML path (default eyeriss_like)")
    parser.add_argument("--dataflow", default="hardware",
                        help="hardware (the preset's), auto (best per layer), any, or os/ws/is/rs/nvdla/shidiannao")
    parser.add_argument("--objective", default="edp", choices=["latency", "energy", "edp", "pareto"])
    parser.add_argument("--search", default="ga", choices=list(METHODS))
    parser.add_argument("--budget", type=int, default=20_000, help="evaluations per layer (default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--layer", action="append", default=None, help="map only this layer (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="write the table as CSV")
    parser.add_argument("--save-mappings", type=Path, default=None, metavar="DIR",
                        help="write each layer's best mapping as DIR/<layer>.yaml")
    parser.add_argument("--pad", action="store_true",
                        help="also search padded (imperfect) factors for dims with a prime factor above 7")
    parser.add_argument("--no-nest", action="store_true", help="print only the table")
    parser.add_argument("--mapping", type=Path, default=None, metavar="FILE",
                        help="evaluate this mapping (Timeloop map.yaml with --timeloop, else acceldse YAML) and "
                             "print Timeloop-style stats instead of searching")
    parser.add_argument("--timeloop", type=Path, nargs="+", default=None, metavar="FILE",
                        help="Timeloop input YAML files (architecture v0.4, ERT, optional ART, problem and "
                             "mapping); they replace --hardware, and --workload too when they define a problem")
    parser.set_defaults(func=run)


def _progress(done: int, total: int, name: str) -> None:
    """A one-line progress bar on stderr (only when it is a terminal)."""
    if not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:24.24}", end=end, file=sys.stderr,
          flush=True)


def _evaluate(args: argparse.Namespace) -> int:
    """--mapping / --timeloop: evaluate one given mapping, or search on a Timeloop spec."""
    from mapper.api import evaluate_mapping
    from mapper.mapping import Mapping
    from mapper.timeloop import run_timeloop
    from mapper.timeloop.stats import format_stats

    if args.timeloop:
        tl = run_timeloop(args.timeloop, args.mapping, objective=args.objective, search=args.search,
                          budget=args.budget, seed=args.seed, pad=args.pad)
        if tl.unapplied_constraints:
            print("note: searched without these Timeloop constraints: " + "; ".join(tl.unapplied_constraints),
                  file=sys.stderr)
        layer, hierarchy, mapping, cost = tl.layer, tl.hierarchy, tl.mapping, tl.cost
    else:
        if not args.mapping.is_file():
            raise SpecError("no such file", source="--mapping", value=str(args.mapping))
        layer, hierarchy, cost = evaluate_mapping(args.workload, args.hardware,
                                                  args.layer[0] if args.layer else None, args.mapping)
        mapping = Mapping.from_yaml(args.mapping)
    if not args.no_nest:
        print(mapping.loop_nest(layer, hierarchy), end="\n\n")
    print(format_stats(cost, hierarchy), end="")
    if args.save_mappings is not None:
        args.save_mappings.mkdir(parents=True, exist_ok=True)
        mapping.to_yaml(args.save_mappings / f"{layer.name}.yaml")
    return 0


def run(args: argparse.Namespace) -> int:
    hardware = args.hardware
    single_layer = args.mapping is not None
    if args.timeloop:
        from mapper.timeloop import has_problem, timeloop_hardware

        for path in args.timeloop:
            if not path.is_file():
                raise SpecError("no such file", source="--timeloop", value=str(path))
        if has_problem(args.timeloop):
            single_layer = True
        else:                                   # a Timeloop architecture as the hardware of --workload
            if args.mapping is not None:
                raise SpecError("--mapping with --timeloop needs the Timeloop problem", source="--timeloop",
                                value=[str(p) for p in args.timeloop], accepted="files that include 'problem:'")
            hardware, unapplied = timeloop_hardware(args.timeloop)
            if unapplied:
                print("note: searching without these Timeloop constraints: " + "; ".join(unapplied), file=sys.stderr)
    if single_layer:
        if args.layer and len(args.layer) > 1:
            raise SpecError("--mapping evaluates one layer", source="--layer", value=args.layer,
                            accepted="a single --layer")
        return _evaluate(args)
    result = map_network(args.workload, hardware, dataflow=args.dataflow, objective=args.objective,
                         search=args.search, budget=args.budget, seed=args.seed, layers=args.layer,
                         pad=args.pad, progress=_progress)
    out = sys.stdout
    if not args.no_nest:
        for res in result.layers:
            if res.reused_from:
                continue
            print(f"=== {res.layer.name} ({res.dataflow}) ===", file=out)
            print(res.loop_nest(), file=out)
            print(file=out)
    table = result.table
    print(table.to_string(index=False), file=out)
    print(f"\n{result.network} on {result.hierarchy.name}: {result.cycles:,} cycles "
          f"({result.hierarchy.latency_us(result.cycles):,.2f} us at {result.hierarchy.clock_mhz:g} MHz), "
          f"{result.energy_pj / 1e6:,.2f} uJ, area {result.hierarchy.area_mm2:.2f} mm2", file=out)
    if args.out is not None:
        table.to_csv(args.out, index=False)
    if args.save_mappings is not None:
        args.save_mappings.mkdir(parents=True, exist_ok=True)
        for res in result.layers:
            if res.mapping is not None:
                res.mapping.to_yaml(args.save_mappings / f"{res.layer.name}.yaml")
    return 0
