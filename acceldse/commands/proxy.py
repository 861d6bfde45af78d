"""``acceldse proxy train``: fit a learned cost model on the experience log of a result store."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options
from acceldse.workloads.errors import SpecError

EPILOG = """examples:
  acceldse explore --env AcceleratorDesign-v0 --env-arg fidelity=event --agent random --budget 400 --store ev.duckdb
  acceldse proxy train --store ev.duckdb --target latency_us,energy_uj,area_mm2,power_w --model rf --out ad.proxy
  acceldse explore --env AcceleratorDesign-v0 --env-arg fidelity=event --env-arg proxy=ad.proxy --agent bo --budget 300
""" + EXIT_CODES_HELP


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "proxy", help="learned proxy cost models trained on the experience log",
        description="Train a scikit-learn proxy of a simulator fidelity on logged evaluations; report held-out "
                    "RMSE, relative error, R2 and prediction speed against the simulator it replaces.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="proxy_command", metavar="train", required=True)
    train = sub.add_parser("train", help="fit a proxy on the explore_evaluations table of a store", epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--store", type=Path, required=True, help="result store written by acceldse explore --store")
    train.add_argument("--target", required=True,
                       help="metric column(s) to predict, comma-separated (latency_us or metric.latency_us)")
    train.add_argument("--model", default="mlp", help="mlp (default) | rf (random forest) | gbm (gradient boosting)")
    train.add_argument("--env", default=None, help="use only this env's evaluations (default: the only env logged)")
    train.add_argument("--where", default=None, help="SQL filter on the log, e.g. \"env_kwargs LIKE '%%event%%'\"")
    train.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of designs (default 0.2)")
    train.add_argument("--seed", type=int, default=0, help="split and model seed (default 0)")
    train.add_argument("--out", type=Path, default=None, help="write the proxy (joblib) for --env-arg proxy=FILE")
    add_output_options(train)
    train.set_defaults(func=run)  # the flags of the command that ran name its errors (cli.command_flags)


def run(args: argparse.Namespace) -> int:
    from acceldse.proxy import train_proxy

    if not 0.0 < args.test_fraction < 1.0:
        raise SpecError("held-out fraction out of range", source="--test-fraction", value=args.test_fraction,
                        accepted="a number in (0, 1)")
    targets = [t.strip() for t in str(args.target).split(",") if t.strip()]
    proxy = train_proxy(args.store, targets, model=args.model, env=args.env, where=args.where,
                        test_fraction=args.test_fraction, seed=args.seed, out=args.out)
    if args.format == "json":
        print(json.dumps({"meta": proxy.meta, "report": proxy.report.to_dict(orient="records")}, default=str))
        return 0
    m = proxy.meta
    print(f"proxy {m['model']} for {m.get('env')} on {m['samples']} distinct designs ({m['held_out']} held out)")
    print(proxy.report.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out is not None:
        print(f"wrote {args.out} (use: --env-arg proxy={args.out})")
    return 0
