"""``acceldse explore``: run one search agent on a design env under an evaluation budget;
``acceldse explore compare``: every agent at the same budget over several seeds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options, print_json
from acceldse.workloads.errors import SpecError

EPILOG = """examples:
  acceldse explore --env AcceleratorDesign-v0 --agent bo --budget 200 --seed 0 \\
      --env-arg workload=mobilenet_v1 --env-arg 'targets={"latency_us": 900, "area_mm2": 4}'
  acceldse explore --env AcceleratorDesign-v0 --agent ga --hp population_size=16 --budget 500 --store runs.duckdb
  acceldse explore --env MultiAgentDesign --agent mappo --budget 256 --json
  acceldse explore compare --env AcceleratorDesign-v0 --agents random,ga,sa,bo,ppo --budget 300 --seeds 5 --plot c.png
  acceldse explore compare --env AcceleratorDesign-v0 --agents ga,sa,bo --budget 300 --seeds 3 --lottery
  acceldse explore export --store runs.duckdb --out runs.npz
agents: random, ga, sa, bo, bo-gp, aco, ppo, maskable-ppo, mappo (hyper-parameters: acceldse explore --list-agents)
""" + EXIT_CODES_HELP


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explore", help="run a search agent (random, GA, SA, BO, ACO, PPO ...) on a design env at a fixed budget",
        description="Run one search agent on a design env for exactly --budget simulator evaluations; print the "
                    "best design, its metrics, whether (and when) the targets were met. 'explore compare' runs "
                    "several agents at the same budget over several seeds.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser)
    parser.add_argument("--agent", default="random", help="search agent (default random)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                        help="agent hyper-parameter (repeatable; JSON values)")
    add_output_options(parser)
    parser.add_argument("--list-agents", action="store_true", help="list agents and hyper-parameter defaults")
    sub = parser.add_subparsers(dest="explore_command", metavar="compare | export")
    compare = sub.add_parser("compare", help="equal-budget comparison of agents over seeds",
                             description="Run every agent for the same number of evaluations on each seed; "
                                         "tabulate best reward (mean, spread) and evaluations to meet the targets.",
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(compare)
    compare.add_argument("--agents", default="random,ga,sa,bo", help="comma-separated agents (default random,ga,sa,bo)")
    compare.add_argument("--seeds", type=int, default=10, help="seeds 0..K-1 per agent (default 10)")
    compare.add_argument("--lottery", action="store_true",
                         help="hyper-parameter lottery: each agent over a small grid of its hyper-parameters")
    compare.add_argument("--plot", type=Path, default=None, help="best-so-far curves (.png/.svg/.pdf)")
    compare.add_argument("--out", type=Path, default=None, help="write the per-run table (.csv)")
    compare.add_argument("--runs-json", type=Path, default=None,
                         help="write every run (metrics and best-so-far curve) as JSON")
    add_output_options(compare)
    export = sub.add_parser("export", help="the experience log as an offline-RL dataset (D4RL arrays or Minari)",
                            description="Write one env's logged evaluations as (observation, action, reward, next "
                                        "observation, terminal, timeout) arrays in one .npz, or as a Minari "
                                        "dataset.",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("--store", type=Path, required=True, help="result store written by acceldse explore --store")
    export.add_argument("--out", type=Path, required=True, help="the dataset (.npz)")
    export.add_argument("--env", default=None, help="export only this env's evaluations (default: the only env logged)")
    export.add_argument("--where", default=None, help="SQL filter on the log, e.g. \"agent = 'ppo'\"")
    export.add_argument("--dataset-format", default="d4rl",
                        help="d4rl (one .npz of arrays, default) or minari (a Minari dataset in the --out folder)")
    export.add_argument("--dataset-id", default=None,
                        help="Minari dataset id (default acceldse/<env name>/explore-v0)")
    add_output_options(export)
    parser.set_defaults(func=run)
    compare.set_defaults(func=run_compare)
    export.set_defaults(func=run_export)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=None, help="env id, e.g. AcceleratorDesign-v0 (acceldse list envs)")
    parser.add_argument("--budget", type=int, default=100, help="simulator evaluations per run (default 100)")
    parser.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="env constructor argument (repeatable; JSON values, e.g. 'targets={\"latency_us\": 900}')")
    parser.add_argument("--store", type=Path, default=None,
                        help="result store (.duckdb): log every evaluation; resume a killed run")
    parser.add_argument("--max-budget", type=int, default=None,
                        help="raise the budget limit (default 250,000 evaluations per run)")


def parse_pairs(pairs: list[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict; values parse as JSON where they can, else stay strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError("expected KEY=VALUE", source=flag, value=pair, accepted="e.g. workload=resnet18")
        if key.strip() in out:  # never the last one silently
            raise SpecError(f"{key.strip()} is given twice", source=flag, value=pair,
                            accepted=f"each key once in {flag}")
        try:
            out[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            out[key.strip()] = text
    return out


def _require_env(args: argparse.Namespace) -> str:
    if not args.env:
        from acceldse.env_catalog import env_ids

        raise SpecError("an env is required", source="--env", accepted=", ".join(env_ids()))
    return str(args.env)


def _list_agents() -> int:
    from acceldse.envs.agents import AGENTS

    width = max(len(name) for name in AGENTS)
    for name, cls in AGENTS.items():
        hp = ", ".join(f"{k}={v}" for k, v in cls.HPARAMS.items()) or "(none)"
        print(f"{name:{width}} {hp}")
        for env_id, overrides in cls.ENV_DEFAULTS.items():
            print(f"{'':{width}}   on {env_id}: " + ", ".join(f"{k}={v}" for k, v in overrides.items()))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list_agents:
        return _list_agents()
    from acceldse.explore import explore

    env_kwargs = parse_pairs(args.env_arg, "--env-arg")
    hparams = parse_pairs(args.hp, "--hp")
    from acceldse.envs.agents import check_budget

    check_budget(args.budget, args.max_budget)  # before a progress bar of that length
    bar = _bar(args.budget)
    try:
        result = explore(_require_env(args), args.agent, args.budget, args.seed, env_kwargs=env_kwargs,
                         hparams=hparams, store=args.store, on_evaluation=(lambda ev: bar.update(1)) if bar else None,
                         max_budget=args.max_budget)
    finally:
        if bar is not None:
            bar.close()
    summary = result.summary()
    if args.format == "json":
        print(json.dumps(summary, default=str))
        return 0
    early = " (the agent stopped early)" if result.stopped_early else ""
    resumed = f", {result.replayed} answered from the store" if result.replayed else ""
    print(f"{result.agent} on {result.env_id}: {result.evaluations} of {result.budget} evaluations{early}{resumed}, "
          f"seed {result.seed}, {result.wall_s:.2f} s")
    if result.best_reward is None:
        print(f"best reward   none: no feasible design in {result.evaluations} evaluations")
    else:
        print(f"best reward   {result.best_reward:.6g}")
    print(f"feasible      {100 * result.feasible_rate:.1f} % of evaluations"
          + (f", hypervolume {result.hypervolume:.4g}" if result.hypervolume is not None else ""))
    print("best design   " + ", ".join(f"{k}={v}" for k, v in result.best_design.items()))
    print("metrics       " + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in result.best_metrics.items()))
    met = f"yes, first at evaluation {result.first_met_at}" if result.targets_met else "no"
    print(f"targets met   {met}")
    return 0


def _bar(total: int) -> Any:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="eval", file=sys.stderr, leave=False)


def run_compare(args: argparse.Namespace) -> int:
    from acceldse.compare import compare, summarize

    agents = [a.strip() for a in str(args.agents).split(",") if a.strip()]
    env_kwargs = parse_pairs(args.env_arg, "--env-arg")
    if args.runs_json is not None and not args.runs_json.parent.is_dir():
        raise SpecError(f"folder {str(args.runs_json.parent)!r} does not exist", source="--runs-json",
                        value=str(args.runs_json))
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")  # the command writes a file: draw off screen
    runs = compare(_require_env(args), agents, args.budget, args.seeds, env_kwargs=env_kwargs, lottery=args.lottery,
                   store=args.store, plot=args.plot, progress=sys.stderr.isatty(), max_budget=args.max_budget)
    table = summarize(runs, lottery=args.lottery)
    if args.out is not None:
        runs.drop(columns=["curve"]).to_csv(args.out, index=False)
    if args.runs_json is not None:
        from acceldse.compare import runs_json

        args.runs_json.write_text(json.dumps({"env": args.env, "budget": args.budget, "seeds": args.seeds,
                                              "runs": runs_json(runs)}, indent=1))
    if args.format == "json":
        print(table.to_json(orient="records"))
    else:
        print(table.to_string(index=False))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from acceldse.offline import export_dataset

    summary = export_dataset(args.store, args.out, env=args.env, where=args.where, fmt=args.dataset_format,
                             dataset_id=args.dataset_id)
    if args.format == "json":
        print_json(summary)
        return 0
    what = f"Minari dataset {summary['dataset_id']} in " if "dataset_id" in summary else ""
    print(f"wrote {what}{summary['path']}: {summary['transitions']} transitions of {summary['env']} "
          f"({summary['episodes']} episodes, {summary['runs']} runs, observations of {summary['observation_size']})")
    return 0
