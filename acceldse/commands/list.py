"""``acceldse list``: what can be simulated (workloads), on what (hardware), and how (dataflows)."""

from __future__ import annotations

import argparse
from typing import Any

from dataflows.dataflow import DATAFLOWS
from simulator.specs.presets import list_hardware, load_hardware
from workloads.scalesim_csv import list_scalesim_topologies
from workloads.zoo import describe


def add_parser(sub: Any) -> None:
    p = sub.add_parser("list", help="list workloads, hardware presets, dataflows and environments",
                       description="List the built-in workloads, hardware presets, dataflows and Gymnasium envs.",
                       epilog="example: acceldse list hardware", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", default="all", choices=["all", "workloads", "hardware", "dataflows", "envs"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what in ("all", "workloads"):
        print("workloads (use --workload NAME [--param KEY=VALUE ...], an .onnx file or a SCALE-Sim .csv):")
        for row in describe().itertuples():
            print(f"  {row.workload:14s} {row.layers:4d} layers {row.macs / 1e9:9.3f} GMACs  {row.parameters}")
        print("  scalesim:<name> for SCALE-Sim's topologies: " + ", ".join(list_scalesim_topologies()))
    if args.what in ("all", "hardware"):
        print("hardware presets (use --hardware NAME, a .yaml spec or a SCALE-Sim .cfg):")
        for name in list_hardware():
            acc = load_hardware(name)
            print(f"  {name:26s} {acc.description}")
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
