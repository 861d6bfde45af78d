"""Exploration harness speed and the equal-budget agent comparison on AcceleratorDesign-v0.

    python benchmarks/bench_explore.py                 # both parts (~5-10 min on 2 busy cores)
    python benchmarks/bench_explore.py --part speed    # evaluations per second only
    python benchmarks/bench_explore.py --part compare --seeds 10 --budget 400

Part 1 (speed): evaluations per second on ResNet-18 at analytical fidelity, medians of 3 runs:
the bare env (``env.step`` on pre-drawn actions), the env inside the budget/log harness
(``BudgetEnv``, agent overhead excluded), the harness with the DuckDB experience log, and
each agent end to end (agent overhead included).

Part 2 (compare): a target spec few designs meet (latency <= 3,000 us, energy <= 2,600 uJ,
area <= 4 mm2: 0.35 % of random designs), every agent at the same budget over seeds 0..K-1:
best reward, how many seeds met the targets and the evaluations it took.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium as gym  # noqa: E402

from acceldse import envs  # noqa: E402, F401 - registers the envs
from acceldse.compare import compare, summarize  # noqa: E402
from acceldse.envs.agents import BudgetEnv  # noqa: E402
from acceldse.explore import explore  # noqa: E402

ENV = "acceldse/AcceleratorDesign-v0"
HARD = {"workload": "resnet18", "targets": {"latency_us": 3000, "energy_uj": 2600, "area_mm2": 4}}


def _median_rate(fn, n: int, repeats: int = 3) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def _logged_run(store: Path, n: int):
    seeds = itertools.count(100)  # a new run (not a resume) each repeat
    return lambda: explore(ENV, "random", n, next(seeds), env_kwargs=HARD, store=store)


def speed(n: int) -> None:
    env = gym.make(ENV, disable_env_checker=True, **HARD)
    rng = np.random.default_rng(0)
    actions = [rng.integers(0, env.action_space.nvec) for _ in range(n)]
    env.reset(seed=0)
    for a in actions[:50]:  # warm the numba kernels
        env.step(a)

    def bare() -> None:
        env.reset(seed=0)
        for a in actions:
            if env.step(a)[3]:
                env.reset()

    def harness() -> None:
        wrapped = BudgetEnv(env, n)
        wrapped.reset(seed=0)
        for a in actions:
            if wrapped.step(a)[3]:
                wrapped.reset()

    rows = [("bare env.step", _median_rate(bare, n)), ("harness (budget + in-memory log)", _median_rate(harness, n))]
    with tempfile.TemporaryDirectory() as tmp:
        for i, agent in enumerate(["random", "sa", "aco", "ga", "bo", "ppo"]):
            budget = n if agent in ("random", "sa", "aco", "ga") else min(n, 500)
            rows.append((f"agent {agent} (overhead included)",
                         _median_rate(lambda a=agent, b=budget: explore(ENV, a, b, 0, env_kwargs=HARD), budget)))
            if i == 0:
                rows.append(("agent random + DuckDB experience log", _median_rate(
                    _logged_run(Path(tmp) / "s.duckdb", n), n)))
    print(f"\nevaluations per second, ResNet-18, analytical fidelity, {n} evaluations (median of 3)")
    print(f"{'what':44} {'evals/s':>10}")
    for name, rate in rows:
        print(f"{name:44} {rate:10,.0f}")


def comparison(agents: list[str], budget: int, seeds: int, lottery: bool, plot: Path | None) -> None:
    start = time.perf_counter()
    runs = compare(ENV, agents, budget, seeds, env_kwargs=HARD, lottery=lottery, plot=plot)
    table = summarize(runs, lottery=lottery)
    cols = ["agent"] + (["setting"] if lottery else []) + ["runs", "met", "evals_to_target_mean",
                                                            "evals_to_target_censored", "best_reward_mean",
                                                            "best_reward_std", "wall_s_mean"]
    if lottery:
        cols += ["lottery_min", "lottery_max", "lottery_evals_min", "lottery_evals_max"]
    print(f"\nequal budget {budget}, seeds 0..{seeds - 1}, targets {HARD['targets']} on {HARD['workload']}"
          f" ({time.perf_counter() - start:.0f} s)")
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["speed", "compare", "all"], default="all")
    parser.add_argument("--evaluations", type=int, default=2000, help="evaluations per speed run")
    parser.add_argument("--agents", default="random,ga,sa,bo,aco,ppo")
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--lottery", action="store_true")
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()
    if args.part in ("speed", "all"):
        speed(args.evaluations)
    if args.part in ("compare", "all"):
        comparison(args.agents.split(","), args.budget, args.seeds, args.lottery, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
