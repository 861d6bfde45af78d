"""The ``acceldse`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from acceldse.commands import COMMANDS
from workloads.errors import SpecError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acceldse",
        description="Hardware-accelerator design-space simulator.",
        epilog="example: acceldse simulate --workload resnet18 --hardware scalesim-32x32 --dataflow all",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"acceldse.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = parser.parse_args(["simulate", *(argv or [])])
    try:
        return int(args.func(args) or 0)
    except SpecError as err:
        print(f"acceldse: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
