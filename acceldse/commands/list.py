"""``acceldse list``: what can be simulated (workloads), on what (hardware), and how (dataflows)."""

from __future__ import annotations

import argparse
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options, emit, print_wrapped


def add_parser(sub: Any) -> None:
    p = sub.add_parser("list", help="list workloads, hardware presets and dataflows",
                       description="List the built-in workloads, hardware presets and dataflows.",
                       epilog=f"example: acceldse list hardware\n{EXIT_CODES_HELP}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", default="all", choices=["all", "workloads", "hardware", "dataflows"])
    add_output_options(p)
    p.set_defaults(func=run)


def catalogue(what: str) -> list[dict[str, Any]]:
    """One row per item: ``kind``, ``name``, and what describes it."""
    rows: list[dict[str, Any]] = []
    if what in ("all", "workloads"):
        from workloads.scalesim_csv import list_scalesim_topologies
        from workloads.zoo import describe_rows

        rows += [{"kind": "workload", "name": r["workload"], "layers": r["layers"], "gmacs": r["macs"] / 1e9,
                  "description": r["parameters"]} for r in describe_rows()]
        rows += [{"kind": "workload", "name": f"scalesim:{t}", "description": "SCALE-Sim topology"}
                 for t in list_scalesim_topologies()]
    if what in ("all", "hardware"):
        from simulator.specs.presets import list_hardware, load_hardware

        for name in list_hardware():
            acc = load_hardware(name)
            rows.append({"kind": "hardware", "name": name, "description": acc.description})
    if what in ("all", "dataflows"):
        from dataflows.dataflow import DATAFLOWS

        rows += [{"kind": "dataflow", "name": df.name, "description": df.description} for df in DATAFLOWS.values()]
    return rows


def run(args: argparse.Namespace) -> int:
    rows = catalogue(args.what)
    if args.format != "table":
        emit(args.format, rows, columns=["kind", "name", "layers", "gmacs", "description"])
        return 0
    if args.what in ("all", "workloads"):
        print("workloads (use --workload NAME [--param KEY=VALUE ...], an .onnx file or a SCALE-Sim .csv):")
        for row in rows:
            if row["kind"] == "workload" and "layers" in row:
                head = f"  {row['name']:14s} {row['layers']:4d} layers {row['gmacs']:9.3f} GMACs  "
                print_wrapped(head, row["description"])
        print_wrapped("  scalesim:<name> for SCALE-Sim's topologies: ",
                      ", ".join(r["name"].split(":", 1)[1] for r in rows if r["name"].startswith("scalesim:")))
    if args.what in ("all", "hardware"):
        print("hardware presets (use --hardware NAME, a .yaml spec or a SCALE-Sim .cfg):")
        for row in rows:
            if row["kind"] == "hardware":
                print_wrapped(f"  {row['name']:26s} ", row["description"])
    if args.what in ("all", "dataflows"):
        print("dataflows (simulate: os | ws | is | all; the mapper also takes rs, nvdla, shidiannao):")
        for row in rows:
            if row["kind"] == "dataflow":
                print_wrapped(f"  {row['name']:11s} ", row["description"])
    return 0
