"""Co-exploration vs successive search on CoExploration-v0 at the same total budget (NASAIC's study).

    python benchmarks/bench_coexplore.py                       # budget 300, seeds 0..4, agent bo
    python benchmarks/bench_coexplore.py --budget 200 --seeds 3 --agent ga
    python benchmarks/bench_coexplore.py --budget 100 --seeds 3 --accuracy train   # real training, ~15 min

* co-exploration: one agent searches the network and the heterogeneous accelerator together for
  ``budget`` evaluations (reward: mean accuracy minus the spec penalty);
* successive: the agent first searches the network alone for accuracy (hardware at the reference
  design, no spec) for ``budget / 2`` evaluations, then, with the most accurate network fixed, the
  hardware for the other half (same specs and reward as co-exploration).

Both use the specs of CoExploration-v0's defaults: accuracy >= 0.95, latency and energy <= half of the
reference design's, area <= the reference's. The final design of a run is its best-reward
evaluation. Printed per approach: how many runs meet every spec, the mean number of violated specs,
and the mean latency, energy, area and accuracy of the final designs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium as gym  # noqa: E402

from acceldse import envs  # noqa: E402, F401 - registers the envs
from acceldse.envs.agents import explore  # noqa: E402

ENV = "acceldse/CoExploration-v0"
NO_SPEC = {"area_mm2": 1e9}  # a bound every design meets: the reward is the accuracy alone


ACCURACY: list[Any] = ["surrogate"]  # the env's accuracy evaluator (one shared TrainedAccuracy for "train")


def _make(cache: dict, **kwargs: Any) -> gym.Env:
    env = gym.make(ENV, disable_env_checker=True, accuracy=ACCURACY[0], **kwargs)
    env.unwrapped.map_cache = cache  # mapping results per (layer shape, sub-accelerator) are shared
    return env


def _final(env: gym.Env, design: dict[str, Any], targets: dict[str, float]) -> dict[str, Any]:
    metrics = env.unwrapped.evaluate(design)
    violated = [k for k, t in targets.items() if metrics[k] > t]
    return {"latency_us": metrics["latency_us"], "energy_uj": metrics["energy_uj"], "area_mm2": metrics["area_mm2"],
            "accuracy": metrics["accuracy"], "violations": len(violated), "violated": ",".join(violated),
            "met": not violated}


def co_exploration(cache: dict, targets: dict[str, float], agent: str, budget: int, seed: int) -> dict[str, Any]:
    env = _make(cache, targets=_user_targets(targets))
    res = explore(env, agent, budget, seed)
    return {"approach": "co-exploration", "seed": seed, **_final(env, res.best_design, targets)}


def successive(cache: dict, targets: dict[str, float], agent: str, budget: int, seed: int) -> dict[str, Any]:
    ref = _make(cache, targets=_user_targets(targets)).unwrapped
    hardware = {k: [v] for k, v in ref.reference_design.items() if k.startswith("sub")}
    nas = _make(cache, targets=NO_SPEC, knobs=hardware)
    network = explore(nas, agent, budget // 2, seed).best_design  # the most accurate network
    fixed = {k: [v] for k, v in network.items() if not k.startswith("sub")}
    hw = _make(cache, targets=_user_targets(targets), knobs=fixed)
    res = explore(hw, agent, budget - budget // 2, seed)
    return {"approach": "successive", "seed": seed, **_final(ref, res.best_design, targets)}


def _user_targets(targets: dict[str, float]) -> dict[str, float]:
    """The env's internal targets (``error``) as its ``targets=`` argument (``accuracy``)."""
    return {("accuracy" if k == "error" else k): (1.0 - v if k == "error" else v) for k, v in targets.items()}


def study(agent: str = "bo", budget: int = 300, seeds: int = 5) -> pd.DataFrame:
    cache: dict = {}
    targets = dict(_make(cache).unwrapped.targets)  # the default specs, fixed for every run
    rows = []
    for seed in range(seeds):
        rows.append(co_exploration(cache, targets, agent, budget, seed))
        rows.append(successive(cache, targets, agent, budget, seed))
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agent", default="bo")
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--accuracy", choices=["surrogate", "train"], default="surrogate",
                        help="the env's surrogate, or real CPU-torch training on the digits (cached by architecture)")
    args = parser.parse_args()
    if args.accuracy == "train":
        from acceldse.envs.nas import TrainedAccuracy

        ACCURACY[0] = TrainedAccuracy()
    start = time.perf_counter()
    runs = study(args.agent, args.budget, args.seeds)
    print(runs.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    table = runs.groupby("approach", sort=False).agg(
        met=("met", lambda s: f"{int(s.sum())}/{len(s)}"), violations=("violations", "mean"),
        latency_us=("latency_us", "mean"), energy_uj=("energy_uj", "mean"), area_mm2=("area_mm2", "mean"),
        accuracy=("accuracy", "mean"))
    print(f"\n{args.agent}, total budget {args.budget} per run, seeds 0..{args.seeds - 1} "
          f"({time.perf_counter() - start:.0f} s)")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    co, su = table.loc["co-exploration"], table.loc["successive"]
    print(f"\nco-exploration vs successive: latency {100 * (1 - co.latency_us / su.latency_us):.1f} % lower, "
          f"energy {su.energy_uj / co.energy_uj:.2f}x lower, area {su.area_mm2 / co.area_mm2:.2f}x smaller, "
          f"accuracy {100 * (su.accuracy - co.accuracy):.2f} points lower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
