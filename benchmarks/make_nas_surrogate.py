"""Fit CoExploration-v0's accuracy surrogate (``envs/data/accuracy_surrogate.json``) from real training runs.

    python benchmarks/make_nas_surrogate.py [--samples 20] [--seed 0] [--refit | --add]

``--refit`` refits from the runs already in the file; ``--add`` trains ``--samples`` more architectures per
task on top of them. The file records the commands that made it.
"""

from __future__ import annotations

import argparse
import json

from acceldse.envs.nas import SURROGATE_PATH, fit_surrogate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20, help="architectures per task (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refit", action="store_true", help="refit from the runs already in the file")
    parser.add_argument("--add", action="store_true", help="train --samples more per task on top of the file's runs")
    args = parser.parse_args()
    previous = json.loads(SURROGATE_PATH.read_text()) if args.refit or args.add else {}
    this = f"python benchmarks/make_nas_surrogate.py --samples {args.samples} --seed {args.seed}"
    command = (previous.get("command", "") + (f" && {this} --add" if args.add else "")) or this
    result = fit_surrogate(args.samples, args.seed, runs=previous.get("runs"), add=args.add, command=command)
    print(f"fitted on {len(result['runs'])} runs, rmse {result['rmse']:.4f}, leave-one-out {result['loo_rmse']:.4f}")


if __name__ == "__main__":
    main()
