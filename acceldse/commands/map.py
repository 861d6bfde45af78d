"""``acceldse map``: search the best mapping of each layer on a Timeloop-style hierarchy.

Prints each layer's best mapping as a loop nest (like Timeloop's map.txt) and a table
(``mapper.api.RESULT_COLUMNS``); ``--out`` writes the table as CSV and ``--save-mappings``
writes one mapping YAML per layer. ``--mapping FILE`` evaluates a given mapping instead and
prints Timeloop-style statistics; ``--timeloop FILE...`` reads Timeloop's own inputs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from acceldse.commands.common import (
    EXIT_CHECK_FAILED,
    EXIT_CODES_HELP,
    add_output_options,
    bad_input,
    emit,
    input_file,
    output_dir,
    output_path,
    positive,
    print_table,
    progress_bar,
    seed,
)

log = logging.getLogger("acceldse.map")

SEARCH_METHODS = ("exhaustive", "random", "ga", "anneal", "hybrid")  # mapper.search.METHODS (a test checks)
MAX_BUDGET = 100_000_000
"""Largest --budget accepted without --max-budget (about a minute per layer at ~2 M evaluations/s)."""

EPILOG = """examples:
  acceldse map --workload resnet18 --hardware eyeriss_like --objective edp --search ga --budget 20000
  acceldse map --workload resnet50 --hardware simple_ws_32x32 --search hybrid --seed 1 --out r50.csv
  acceldse map --workload resnet18 --layer layer1.0.conv1 --dataflow auto --objective pareto
  acceldse map --timeloop parsed-processed-input.yaml timeloop-mapper.ERT.yaml --mapping timeloop-mapper.map.yaml
  acceldse map --timeloop arch.yaml problem.yaml ERT.yaml --search hybrid     (search on a Timeloop spec)
  acceldse map --timeloop arch.yaml ERT.yaml --workload resnet18 --dataflow any  (a Timeloop arch as hardware)
  acceldse map --workload resnet18 --layer conv1 --hardware eyeriss_like --mapping best.yaml
""" + EXIT_CODES_HELP


def add_parser(subparsers: Any) -> None:
    from acceldse.simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    parser = subparsers.add_parser(
        "map", help="search per-layer mappings (tiling, loop order, spatial unrolling, bypass)",
        description="Search the best mapping of every MAC layer of a workload on a hierarchical "
                    "architecture (Timeloop-style), print loop nests and a table.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default=None, help="zoo name, .onnx or .csv file (default resnet18)")
    parser.add_argument("--batch", type=int, default=None, help="batch size for zoo workloads")
    parser.add_argument("--seq-len", type=int, default=None, help="sequence length for transformer zoo workloads")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="other zoo parameters, e.g. --param width=0.5 --param resolution=160")
    parser.add_argument("--hardware", default=None,
                        help=f"{kind_help('hierarchy')} or a hierarchy YAML path (default eyeriss_like; "
                             "map --cascade: the file's own, else fusemax for several Einsums)")
    parser.add_argument("--dataflow", default="hardware",
                        help="hardware (the preset's), auto (best per layer), any, or os/ws/is/rs/nvdla/shidiannao")
    parser.add_argument("--objective", default="edp", choices=["latency", "energy", "edp", "pareto"])
    parser.add_argument("--search", default="ga", choices=SEARCH_METHODS)
    parser.add_argument("--budget", type=int, default=20_000,
                        help="evaluations per layer (default 20000; exhaustive: 0 = the whole space, if small)")
    parser.add_argument("--max-budget", type=int, default=MAX_BUDGET, metavar="N",
                        help=f"largest --budget accepted (default {MAX_BUDGET:,}); raise it for longer searches")
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
    parser.add_argument("--timeloop-var", action="append", default=[], metavar="NAME=VALUE",
                        help="a value for the jinja2 templates of --timeloop files (timeloopfe's "
                             "jinja2_parse_data; VALUE is read as YAML: 8, false, text); repeatable")
    parser.add_argument("--cascade", type=Path, default=None, metavar="FILE",
                        help="a cascade of extended Einsums (YAML: ranks, einsums; optional hardware and mapping): "
                             "evaluate its fused mapping (or the single Einsum) and print per-Einsum stats")
    add_output_options(parser, check="a layer has no legal mapping")
    parser.set_defaults(func=run)


def _template_vars(pairs: list[str]) -> dict[str, Any]:
    """``--timeloop-var NAME=VALUE`` pairs -> {NAME: VALUE read as YAML}."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise bad_input("expected NAME=VALUE", flag="--timeloop-var", value=pair,
                            accepted="e.g. reg_enabled=false")
        if name.strip() in out:  # never the last one silently
            raise bad_input(f"{name.strip()} is given twice", flag="--timeloop-var", value=pair,
                            accepted="each name once")
        try:
            out[name.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            out[name.strip()] = value
    return out


def _workload(args: argparse.Namespace) -> Any:
    """--workload (default resnet18) with --batch, --seq-len and --param applied."""
    from acceldse.commands.simulate import workload_params
    from acceldse.workloads.loader import load_workload

    return load_workload(args.workload or "resnet18", **workload_params(args))


def _evaluate(args: argparse.Namespace) -> int:
    """--mapping / --timeloop: evaluate one given mapping, or search on a Timeloop spec."""
    from acceldse.mapper.api import evaluate_mapping
    from acceldse.mapper.mapping import Mapping
    from acceldse.mapper.timeloop import run_timeloop
    from acceldse.mapper.timeloop.stats import format_stats

    if args.timeloop:
        tl = run_timeloop(args.timeloop, args.mapping, template_vars=_template_vars(args.timeloop_var),
                          objective=args.objective, search=args.search,
                          budget=args.budget, seed=args.seed, pad=args.pad)
        if tl.unapplied_constraints:
            print("note: searched without these Timeloop constraints: " + "; ".join(tl.unapplied_constraints),
                  file=sys.stderr)
        layer, hierarchy, mapping, cost = tl.layer, tl.hierarchy, tl.mapping, tl.cost
        names = tl.tensor_names
        if tl.sparse is not None:  # Sparseloop's statistics (sparse_optimizations)
            from acceldse.mapper.timeloop.sparse_stats import format_sparse_stats

            if not args.no_nest:
                print(mapping.loop_nest(layer, hierarchy), end="\n\n")
            print(format_sparse_stats(tl.sparse, hierarchy, list(names.values())), end="")
            if args.save_mappings is not None:
                mapping.to_yaml(Path(args.save_mappings) / f"{layer.name}.yaml")
            return 0
    else:
        input_file(args.mapping, flag="--mapping")
        layer, hierarchy, cost = evaluate_mapping(_workload(args), args.hardware or "eyeriss_like",
                                                  args.layer[0] if args.layer else None, args.mapping)
        mapping = Mapping.from_yaml(args.mapping)
        names = {}
    if not args.no_nest:
        print(mapping.loop_nest(layer, hierarchy), end="\n\n")
    print(format_stats(cost, hierarchy, names), end="")
    if args.save_mappings is not None:
        mapping.to_yaml(Path(args.save_mappings) / f"{layer.name}.yaml")
    return 0


def _refuse_unused(args: argparse.Namespace, mode: str, flags: tuple[str, ...]) -> None:
    """A flag the chosen mode does not read is an error, never silently ignored."""
    given = {"--workload": args.workload, "--hardware": args.hardware, "--layer": args.layer,
             "--batch": args.batch, "--seq-len": args.seq_len, "--param": args.param or None,
             "--dataflow": None if args.dataflow == "hardware" else args.dataflow, "--out": args.out,
             "--mapping": args.mapping, "--timeloop": args.timeloop, "--save-mappings": args.save_mappings,
             "--format": None if args.format == "table" else args.format}
    for flag in flags:
        if given[flag] is not None:
            value = given[flag]
            raise bad_input(f"not used {mode}", flag=flag,
                            value=[str(v) for v in value] if isinstance(value, list) else str(value),
                            accepted=f"no {flag} here")


def run(args: argparse.Namespace) -> int:
    seed(args.seed)
    if args.timeloop_var and not args.timeloop:  # template values with no template: never ignored silently
        raise bad_input("--timeloop-var fills the jinja2 templates of --timeloop files, and no --timeloop is given",
                        flag="--timeloop-var", value=args.timeloop_var[0],
                        accepted="--timeloop FILE... with --timeloop-var NAME=VALUE, or no --timeloop-var")
    if args.cascade is not None:
        from acceldse.commands.attention import run_cascade_file

        input_file(args.cascade, flag="--cascade")
        _refuse_unused(args, "with --cascade (the file holds the Einsums)",
                       ("--workload", "--batch", "--seq-len", "--param", "--layer", "--timeloop", "--mapping",
                        "--out", "--save-mappings"))
        return run_cascade_file(args)
    positive(args.max_budget, flag="--max-budget")
    if not (args.search == "exhaustive" and args.budget == 0):  # exhaustive --budget 0: the whole space
        positive(args.budget, flag="--budget", limit=args.max_budget, raise_flag="--max-budget")
    out_csv = output_path(args.out, flag="--out", suffixes=(".csv",))
    mappings_dir = output_dir(args.save_mappings, flag="--save-mappings")
    hardware = args.hardware or "eyeriss_like"
    loops: tuple = ()                           # Timeloop loop constraints of a --timeloop architecture
    single_layer = args.mapping is not None
    if args.timeloop:
        from acceldse.mapper.timeloop import has_problem, timeloop_hardware

        for path in args.timeloop:
            input_file(path, flag="--timeloop")
        template_vars = _template_vars(args.timeloop_var)
        if has_problem(args.timeloop, template_vars):
            single_layer = True
            _refuse_unused(args, "when the --timeloop files give the problem and the architecture",
                           ("--workload", "--batch", "--seq-len", "--param", "--hardware", "--layer", "--dataflow"))
        else:                                   # a Timeloop architecture as the hardware of --workload
            _refuse_unused(args, "when --timeloop gives the architecture", ("--hardware",))
            if args.mapping is not None:
                raise bad_input("--mapping with --timeloop needs the Timeloop problem", flag="--timeloop",
                                value=[str(p) for p in args.timeloop], accepted="files that include 'problem:'")
            hardware, loops, unapplied = timeloop_hardware(args.timeloop, template_vars=template_vars)
            if unapplied:
                print("note: searching without these Timeloop constraints: " + "; ".join(unapplied), file=sys.stderr)
    if single_layer:
        if args.layer and len(args.layer) > 1:
            raise bad_input("--mapping evaluates one layer", flag="--layer", value=args.layer,
                            accepted="a single --layer")
        _refuse_unused(args, "for one layer's Timeloop-style stats (text; --save-mappings writes the mapping)",
                       ("--out", "--format"))
        if args.mapping is not None and not args.timeloop:
            _refuse_unused(args, "with --mapping (the mapping fixes the dataflow)", ("--dataflow",))
        return _evaluate(args)
    from acceldse.mapper.api import map_network

    result = map_network(_workload(args), hardware, dataflow=args.dataflow, objective=args.objective,
                         search=args.search, budget=args.budget, seed=args.seed, layers=args.layer,
                         pad=args.pad, progress=progress_bar("mapping", unit="layer"), constraints=loops)
    unmapped = [res.layer.name for res in result.layers if res.mapping is None]
    if unmapped and len(unmapped) == len(result.layers):
        raise bad_input(f"no legal mapping of any layer on {result.hierarchy.name} (dataflow {args.dataflow}, "
                        f"{args.search} search, budget {args.budget:,})", flag="--hardware", value=hardware,
                        accepted="a hierarchy with room for the layer, another --dataflow (auto, any) or a "
                                 "larger --budget")
    if unmapped:
        log.warning("no legal mapping for %d layer(s): %s", len(unmapped), ", ".join(unmapped))
    _write(result, out_csv, mappings_dir)
    if args.format != "table":
        emit(args.format, result.table, summary={"network": result.network, "hardware": result.hierarchy.name,
                                                 "cycles": result.cycles, "energy_pj": result.energy_pj,
                                                 "area_mm2": result.hierarchy.area_mm2, "unmapped": unmapped})
        return EXIT_CHECK_FAILED if args.check and unmapped else 0
    out = sys.stdout
    if not args.no_nest:
        for res in result.layers:
            if res.reused_from:
                continue
            print(f"=== {res.layer.name} ({res.dataflow}) ===", file=out)
            print(res.loop_nest(), file=out)
            print(file=out)
    print_table(result.table, file=out)
    print(f"\n{result.network} on {result.hierarchy.name}: {result.cycles:,} cycles "
          f"({result.hierarchy.latency_us(result.cycles):,.2f} us at {result.hierarchy.clock_mhz:g} MHz), "
          f"{result.energy_pj / 1e6:,.2f} uJ, area {result.hierarchy.area_mm2:.2f} mm2", file=out)
    if unmapped:
        print(f"no legal mapping (not in the totals): {', '.join(unmapped)}", file=out)
    return EXIT_CHECK_FAILED if args.check and unmapped else 0


def _write(result: Any, out_csv: Path | None, mappings_dir: Path | None) -> None:
    if out_csv is not None:
        result.table.to_csv(out_csv, index=False)
    if mappings_dir is not None:
        for res in result.layers:
            if res.mapping is not None:
                res.mapping.to_yaml(mappings_dir / f"{res.layer.name}.yaml")
