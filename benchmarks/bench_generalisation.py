"""Generalisation across workloads: PPO trained on some CNNs, tested on networks it never saw.

    python benchmarks/bench_generalisation.py [--seeds 3] [--train-steps 4096] [--k 20]

AcceleratorDesign-v0 conditioned on a workload set (``workloads=TRAIN``: each episode one of them, the
18 workload features in the observation), default targets per workload (half the reference design's
latency and energy). For each seed, Stable-Baselines3 PPO trains on ``TRAIN``; then on every workload of
``TRAIN + TEST`` (``reset(options={"workload": w})``) the deterministic policy gets ``k`` evaluations
from the reference design, and random search gets ``k`` random designs (same seed). Reported per
workload: the best reward within ``k`` evaluations (0 = every target met; the spec distance below),
median and range over seeds, and on how many seeds the targets were met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import acceldse  # noqa: E402, F401 - registers the envs

ENV = "acceldse/AcceleratorDesign-v0"
TRAIN = ["resnet18", "vgg16", "mobilenet_v1"]
TEST = ["resnet50", "mobilenet_v2", "alexnet", "vit_b16"]


def policy_best(env: gym.Env, model: Any, workload: str, k: int) -> float:
    obs, _ = env.reset(options={"workload": workload})
    best = -np.inf
    for _ in range(k):
        obs, reward, terminated, truncated, _ = env.step(model.predict(obs, deterministic=True)[0])
        best = max(best, float(reward))
        if terminated or truncated:
            break
    return best


def random_best(env: gym.Env, workload: str, k: int, seed: int) -> float:
    env.reset(options={"workload": workload})
    rng = np.random.default_rng(seed)
    nvec = env.action_space.nvec
    best = -np.inf
    for _ in range(k):
        _, reward, terminated, truncated, _ = env.step(rng.integers(0, nvec))
        best = max(best, float(reward))
        if terminated or truncated:
            env.reset(options={"workload": workload})
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=4096)
    parser.add_argument("--k", type=int, default=20, help="evaluations per test workload (default 20)")
    args = parser.parse_args()
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    results: dict[str, dict[str, list[float]]] = {w: {"ppo": [], "random": []} for w in TRAIN + TEST}
    for seed in range(args.seeds):
        env = gym.make(ENV, workloads=TRAIN)
        env.reset(seed=seed)
        model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=5, learning_rate=3e-3, seed=seed,
                    policy_kwargs={"net_arch": [64, 64]}, device="cpu", verbose=0)
        model.learn(total_timesteps=args.train_steps)
        test_env = gym.make(ENV, workloads=TRAIN + TEST)
        for w in TRAIN + TEST:
            results[w]["ppo"].append(policy_best(test_env, model, w, args.k))
            results[w]["random"].append(random_best(test_env, w, args.k, seed))
        print(f"seed {seed} done", file=sys.stderr)

    def cell(values: list[float]) -> str:
        met = sum(v == 0.0 for v in values)
        return f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}], met {met}/{len(values)}"

    print(f"| workload | set | PPO (trained on {', '.join(TRAIN)}) | random search |")
    print("|---|---|---|---|")
    for w in TRAIN + TEST:
        kind = "train" if w in TRAIN else "test (unseen)"
        print(f"| {w} | {kind} | {cell(results[w]['ppo'])} | {cell(results[w]['random'])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
