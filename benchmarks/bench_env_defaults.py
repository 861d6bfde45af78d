"""Tune the per-env defaults (``Agent.ENV_DEFAULTS``) of SA, BO and PPO on seeds no report uses.

    python benchmarks/bench_env_defaults.py --env FpgaDesign-v0
    python benchmarks/bench_env_defaults.py --env AcceleratorDesign-v0 --agents bo
    python benchmarks/bench_env_defaults.py --env Mapping-v0 --agents bo --budget 80

Every setting of an agent's small grid (``GRIDS``) runs on the tuning seeds 100, 101, 102 (the reported
comparisons, ``bench_compare.py``, use seeds 0..9) on the env setting of ``bench_compare.SETTINGS[env]``,
at ``--budget`` (default 200; the SA and PPO defaults were tuned at 200, BO's at each env's comparison
budget). Printed per setting: the mean best feasible reward (a run without a feasible candidate counts
as the illegal reward, -4), the runs with a feasible candidate, the mean feasible rate and the mean
evaluations to the targets with a miss counted as the whole budget. The setting with the highest mean
best reward (ties: fewer evaluations to the target) is the one to write into the agent's ``ENV_DEFAULTS``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_compare import SETTINGS  # noqa: E402

from acceldse.explore import explore  # noqa: E402

TUNING_SEEDS = (100, 101, 102)
TUNING_BUDGET = 200
NO_FEASIBLE = -4.0
"""The best reward of a run without a feasible candidate (Mapping-v0's illegal reward)."""
GRIDS: dict[str, list[dict]] = {
    "sa": [{}, {"moves": 2}, {"moves": 4}, {"t_start": 0.3}, {"t_start": 0.3, "moves": 2}, {"restart": 20}],
    "bo": [{"multivariate": True}, {"multivariate": False}, {"n_startup_trials": 25}, {"n_ei_candidates": 64},
           {"multivariate": False, "n_ei_candidates": 64}],
    "ppo": [{}, {"learning_rate": 1e-3}, {"n_steps": 32, "batch_size": 16}, {"ent_coef": 0.05},
            {"learning_rate": 1e-3, "n_steps": 32, "batch_size": 16}],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="FpgaDesign-v0", choices=sorted(SETTINGS))
    parser.add_argument("--agents", default="sa,bo,ppo")
    parser.add_argument("--budget", type=int, default=TUNING_BUDGET)
    args = parser.parse_args()
    kwargs = SETTINGS[args.env]["env_kwargs"]
    print(f"{args.env} {kwargs}, budget {args.budget}, seeds {TUNING_SEEDS}")
    print("| agent | setting | mean best reward | feasible runs | feasible rate | evals to target (censored) |")
    print("|---|---|---|---|---|---|")
    for agent in args.agents.split(","):
        for hp in GRIDS[agent]:
            best, feasible, rates, evals = [], 0, [], []
            for seed in TUNING_SEEDS:
                res = explore(args.env, agent, args.budget, seed, env_kwargs=kwargs, hparams=hp)
                best.append(res.best_reward if res.best_reward is not None else NO_FEASIBLE)
                feasible += res.best_reward is not None
                rates.append(res.feasible_rate)
                evals.append(res.first_met_at or args.budget)
            setting = ", ".join(f"{k}={v}" for k, v in hp.items()) or "per-env default"
            print(f"| {agent} | {setting} | {sum(best) / len(best):.3f} | {feasible}/{len(TUNING_SEEDS)} | "
                  f"{sum(rates) / len(rates):.3f} | {sum(evals) / len(evals):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
