"""``acceldse list``: what can be simulated (workloads), on what (hardware), and how (dataflows)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from dataflows.dataflow import DATAFLOWS
from simulator.specs.catalogue import PresetInfo, catalogue
from workloads.errors import SpecError
from workloads.scalesim_csv import list_scalesim_topologies
from workloads.zoo import describe


def add_parser(sub: Any) -> None:
    p = sub.add_parser("list", help="list workloads, hardware presets, dataflows and environments",
                       description="List the built-in workloads, hardware presets, dataflows and Gymnasium envs.",
                       epilog="examples:\n  acceldse list hardware\n  acceldse list hardware --json\n"
                              "  acceldse list envs",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", default="all", choices=["all", "workloads", "hardware", "dataflows", "envs"])
    p.add_argument("--json", action="store_true",
                   help="hardware only: print the catalogue as JSON (one object per preset, units in the keys)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.json:
        if args.what not in ("all", "hardware"):
            raise SpecError("--json prints the hardware catalogue", source="--json", value=args.what,
                            accepted="acceldse list hardware --json")
        print(json.dumps([info.to_dict() for info in catalogue()], indent=1))
        return 0
    if args.what in ("all", "workloads"):
        print("workloads (use --workload NAME [--param KEY=VALUE ...], an .onnx file or a SCALE-Sim .csv):")
        for row in describe().itertuples():
            print(f"  {row.workload:14s} {row.layers:4d} layers {row.macs / 1e9:9.3f} GMACs  {row.parameters}")
        print("  scalesim:<name> for SCALE-Sim's topologies: " + ", ".join(list_scalesim_topologies()))
    if args.what in ("all", "hardware"):
        print_catalogue(catalogue())
    if args.what in ("all", "dataflows"):
        print("dataflows (simulate: os | ws | is | all; the mapper also takes rs, nvdla, shidiannao):")
        for df in DATAFLOWS.values():
            print(f"  {df.name:11s} {df.description}")
    if args.what in ("all", "envs"):
        from envs import ENV_SUMMARIES

        print("environments (gymnasium.make(ID, **kwargs); see docs/envs.md):")
        for env_id, summary in ENV_SUMMARIES.items():
            print(f"  {env_id:32s} {summary}")
    return 0


def print_catalogue(infos: list[PresetInfo]) -> None:
    """One table per kind: name, compute units, on-chip memory, DRAM bandwidth, clock, description."""
    kind = None
    for info in infos:
        if info.kind != kind:
            kind = info.kind
            print(f"hardware presets of kind {kind} (use with {info.taken_by}):")
            print(f"  {'name':24s} {'compute':>12s} {'on-chip':>10s} {'DRAM':>11s} {'clock':>9s}  description")
        bandwidth = "unlimited" if info.dram_gbyte_per_s is None else f"{info.dram_gbyte_per_s:,.1f} GB/s"
        print(f"  {info.name:24s} {info.compute_units:>8,d} {info.compute_unit:3s} "
              f"{_bytes(info.on_chip_bytes):>10s} {bandwidth:>11s} {info.clock_mhz:>5,.0f} MHz  {info.description}")


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"
