"""The fixed agents compared on each design env at one equal budget, ten seeds (docs/explore.md's tables).

    python benchmarks/bench_compare.py --env FpgaDesign-v0
    python benchmarks/bench_compare.py --env Mapping-v0 --write
    python benchmarks/bench_compare.py --env MultiAgentDesign    # the PettingZoo env, joint search + MAPPO

Runs ``acceldse explore compare`` (``acceldse.compare.compare``) with every agent of ``agents_of(env)``
(``AGENTS``; MultiAgentDesign: the joint-design searches and multi-agent PPO) at its per-env defaults on seeds
0-9 (``Agent.ENV_DEFAULTS`` were tuned on seeds 100-102: no reported run was tuned on) and the env setting and
budget of ``SETTINGS`` (each env's whole comparison fits about two
CPU-minutes). Prints the markdown table docs/explore.md quotes (``table``) and checks that no agent's
median feasible (legal) rate is below random search's, nor its count of seeds with a feasible candidate
(Mapping-v0: a legal whole-network mapping); ``--write`` also stores the per-run figures in
``benchmarks/compare_runs/compare_<env>.json``, which ``tests/envs/test_compare_tables.py`` checks against
the docs' table and partly recomputes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AGENTS = ("random", "ga", "sa", "bo", "aco", "ppo", "maskable-ppo")
SEEDS = 10
SETTINGS: dict[str, dict[str, Any]] = {
    "AcceleratorDesign-v0": {"budget": 100, "env_kwargs": {
        "workload": "resnet18", "targets": {"latency_us": 3000, "energy_uj": 2600, "area_mm2": 4}}},
    "FpgaDesign-v0": {"budget": 100, "env_kwargs": {"workload": "lenet", "platform": "zc706"}},
    "Mapping-v0": {"budget": 60, "env_kwargs": {"workload": "lenet", "hardware": "eyeriss_like"}},
    "CoExploration-v0": {"budget": 50, "env_kwargs": {"tasks": ["digits"], "sub_accelerators": 2,
                                                      "mapper_budget": 50}},
    "MultiAgentDesign": {"budget": 100, "agents": ("random", "ga", "sa", "bo", "aco", "mappo"), "env_kwargs": {
        "workload": "resnet18", "targets": {"latency_us": 3000, "energy_uj": 2600, "area_mm2": 4}}},
}
"""Per env the setting and budget of its comparison (and of the tuning runs of ``bench_env_defaults.py``)."""
FIELDS = ("agent", "seed", "best_reward", "targets_met", "first_met_at", "feasible_rate", "hypervolume")
"""The per-run figures kept in ``compare_runs/compare_<env>.json`` (no curves, no wall times)."""


def agents_of(env: str) -> tuple[str, ...]:
    """The agents of an env's comparison (``SETTINGS[env]["agents"]``, else ``AGENTS``)."""
    return tuple(SETTINGS[env].get("agents", AGENTS))


def results_path(env: str) -> Path:
    return ROOT / "benchmarks" / "compare_runs" / f"compare_{env.split('-')[0].lower()}.json"


def run(env: str, agents: tuple[str, ...] | None = None, seeds: int = SEEDS) -> list[dict[str, Any]]:
    """The per-run figures (``FIELDS``, NaN as ``None``) of the comparison of ``SETTINGS[env]``."""
    from acceldse.compare import compare, runs_json

    s = SETTINGS[env]
    runs = compare(env, list(agents or agents_of(env)), s["budget"], seeds, env_kwargs=s["env_kwargs"])
    return [{k: r[k] for k in FIELDS} for r in runs_json(runs)]


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def table(env: str, records: list[dict[str, Any]]) -> str:
    """The markdown table docs/explore.md quotes: per agent medians and IQRs over the seeds."""
    import pandas as pd

    from acceldse.compare import summarize

    frame = pd.DataFrame(records)
    for col in ("best_reward", "first_met_at", "hypervolume", "feasible_rate"):
        frame[col] = frame[col].map(_num)
    frame["evaluations"] = SETTINGS[env]["budget"]
    frame["wall_s"] = 0.0
    summary = summarize(frame)
    met_col = "met" if env != "Mapping-v0" else "legal network mappings (runs)"
    lines = [f"| agent | feasible rate, median (IQR) | {met_col} | best reward, median (IQR) | "
             "evaluations to target, median (IQR) | hypervolume, median (IQR) |", "|---|---|---|---|---|---|"]
    for row in summary.itertuples(index=False):
        lines.append(f"| {row.agent} | {row.feasible_rate_median:.3f} ({row.feasible_rate_iqr:.3f}) | "
                     f"{row.met if env != 'Mapping-v0' else row.feasible_runs} | "
                     f"{row.best_reward_median:.3f} ({row.best_reward_iqr:.3f}) | "
                     f"{row.evals_to_target_median:.1f} ({row.evals_to_target_iqr:.1f}) | "
                     f"{row.hypervolume_median:.3f} ({row.hypervolume_iqr:.3f}) |")
    return "\n".join(lines).replace("nan", "—").replace("-inf", "none")


def below_random(records: list[dict[str, Any]]) -> list[str]:
    """Agents whose median feasible rate is below random search's, or that found a feasible candidate (on
    Mapping-v0: a legal whole-network mapping; within the board on FpgaDesign-v0) on fewer seeds than random
    search. Meeting the targets is a matter of quality, reported in the table, not checked here."""
    import numpy as np

    def median(agent: str) -> float:
        return float(np.median([r["feasible_rate"] for r in records if r["agent"] == agent]))

    def feasible_runs(agent: str) -> int:
        return sum(r["best_reward"] is not None for r in records if r["agent"] == agent)

    agents = list(dict.fromkeys(r["agent"] for r in records))
    return [a for a in agents if median(a) < median("random") or feasible_runs(a) < feasible_runs("random")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", required=True, choices=sorted(SETTINGS))
    parser.add_argument("--agents", default=None, help="comma-separated (default: the env's agents_of)")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--write", action="store_true", help="store the per-run figures for the docs test")
    args = parser.parse_args()
    start = time.process_time()
    records = run(args.env, tuple(args.agents.split(",")) if args.agents else None, args.seeds)
    s = {k: v for k, v in SETTINGS[args.env].items() if k != "agents"}
    print(f"{args.env} {json.dumps(s['env_kwargs'])}, budget {s['budget']}, seeds 0-{args.seeds - 1}, "
          f"{time.process_time() - start:.0f} CPU-s")
    print(table(args.env, records))
    if args.write:
        path = results_path(args.env)
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"env": args.env, **s, "seeds": args.seeds, "runs": records}, indent=1) + "\n")
    low = below_random(records)
    if low:
        print(f"below random search on the feasible rate or runs: {', '.join(low)}")
    return 1 if low else 0


if __name__ == "__main__":
    raise SystemExit(main())
