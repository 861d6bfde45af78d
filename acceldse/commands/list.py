"""``acceldse list``: what can be simulated (workloads), on what (hardware), how (dataflows), and the envs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from acceldse.commands.common import (
    COMMAND_TAKING,
    EXIT_CODES_HELP,
    add_output_options,
    emit,
    print_json,
    print_wrapped,
)

if TYPE_CHECKING:
    from acceldse.simulator.specs.catalogue import PresetInfo

WHAT = ["all", "workloads", "hardware", "dataflows", "envs"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("list", help="list workloads, hardware presets, dataflows and environments",
                       description="List the built-in workloads, hardware presets, dataflows and Gymnasium envs.",
                       epilog="examples:\n  acceldse list hardware\n  acceldse list hardware --json\n"
                              f"  acceldse list envs\n  acceldse list workloads --format csv\n{EXIT_CODES_HELP}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", default="all", choices=WHAT)
    add_output_options(p)
    p.set_defaults(func=run)


def rows(what: str) -> list[dict[str, Any]]:
    """One row per item (``kind``, ``name``, ``description``, and ``layers``/``gmacs`` for workloads)."""
    found: list[dict[str, Any]] = []
    if what in ("all", "workloads"):
        from acceldse.workloads.scalesim_csv import list_scalesim_topologies
        from acceldse.workloads.zoo import describe_rows

        found += [{"kind": "workload", "name": r["workload"], "layers": r["layers"], "gmacs": r["macs"] / 1e9,
                   "description": r["parameters"]} for r in describe_rows()]
        found += [{"kind": "workload", "name": f"scalesim:{t}", "description": "SCALE-Sim topology"}
                  for t in list_scalesim_topologies()]
    if what in ("all", "hardware"):
        from acceldse.simulator.specs.catalogue import catalogue

        found += [{"kind": f"hardware ({info.kind})", "name": info.name, "description": info.description}
                  for info in catalogue()]
    if what in ("all", "dataflows"):
        from acceldse.dataflows.dataflow import DATAFLOWS

        found += [{"kind": "dataflow", "name": df.name, "description": df.description} for df in DATAFLOWS.values()]
    if what in ("all", "envs"):
        from acceldse.envs import ENV_SUMMARIES

        found += [{"kind": "env", "name": env_id, "description": summary} for env_id, summary in ENV_SUMMARIES.items()]
    return found


def run(args: argparse.Namespace) -> int:
    if args.format == "json" and args.what == "hardware":  # the catalogue: one object per preset, units in keys
        from acceldse.simulator.specs.catalogue import catalogue

        print_json([info.to_dict() for info in catalogue()])
        return 0
    if args.format != "table":
        emit(args.format, rows(args.what), columns=["kind", "name", "layers", "gmacs", "description"])
        return 0
    if args.what in ("all", "workloads"):
        print("workloads (use --workload NAME [--param KEY=VALUE ...], an .onnx file or a SCALE-Sim .csv):")
        items = rows("workloads")
        for row in items:
            if "layers" in row:
                head = f"  {row['name']:14s} {row['layers']:4d} layers {row['gmacs']:9.3f} GMACs  "
                print_wrapped(head, row["description"])
        print_wrapped("  scalesim:<name> for SCALE-Sim's topologies: ",
                      ", ".join(r["name"].split(":", 1)[1] for r in items if r["name"].startswith("scalesim:")))
    if args.what in ("all", "hardware"):
        from acceldse.simulator.specs.catalogue import catalogue

        print_catalogue(catalogue())
    if args.what in ("all", "dataflows"):
        print("dataflows (simulate: os | ws | is | all; the mapper also takes rs, nvdla, shidiannao):")
        for row in rows("dataflows"):
            print_wrapped(f"  {row['name']:11s} ", row["description"])
    if args.what in ("all", "envs"):
        print("environments (gymnasium.make(ID, **kwargs); see docs/envs.md):")
        for row in rows("envs"):
            print_wrapped(f"  {row['name']:32s} ", row["description"])
    return 0


def print_catalogue(infos: list[PresetInfo]) -> None:
    """One table per kind: name, compute units, on-chip memory, DRAM bandwidth, clock, description."""
    kind = None
    for info in infos:
        if info.kind != kind:
            kind = info.kind
            print_wrapped("", f"hardware presets of kind {kind} (use with {COMMAND_TAKING[kind]}):")
            print(f"  {'name':24s} {'compute':>12s} {'on-chip':>10s} {'DRAM':>11s} {'clock':>9s}  description")
        bandwidth = "unlimited" if info.dram_gbyte_per_s is None else f"{info.dram_gbyte_per_s:,.1f} GB/s"
        print_wrapped(f"  {info.name:24s} {info.compute_units:>8,d} {info.compute_unit:3s} "
                      f"{_bytes(info.on_chip_bytes):>10s} {bandwidth:>11s} {info.clock_mhz:>5,.0f} MHz  ",
                      info.description)


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"
