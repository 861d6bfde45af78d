"""Legal-mapping rate of the search agents on Mapping-v0, with the per-env defaults and without.

    python benchmarks/bench_mapping_agents.py [--budget 400] [--seeds 3] [--workload alexnet]

Mapping-v0 gives each distinct layer its own search (``search_context``) with its share of the budget
(AlexNet: 8 layers, 50 evaluations each at budget 400). Prints per agent setting the share of
evaluations whose mapping was legal, per seed, and the whole-network mappings found legal (summed over the
seeds); ``from_reference=False`` shows a search that does not start from the layer's legal reference mapping.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acceldse.explore import explore  # noqa: E402

SETTINGS = [("random", {}), ("ga", {}), ("ga", {"from_reference": False}), ("ga", {"population_size": 32}),
            ("aco", {}), ("aco", {"from_reference": False}), ("aco", {"ants": 16}), ("sa", {}),
            ("sa", {"from_reference": False})]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workload", default="alexnet")
    args = parser.parse_args()
    print("| agent | setting | legal rate per seed | legal network mappings |")
    print("|---|---|---|---|")
    for agent, hp in SETTINGS:
        rates, networks = [], []
        for seed in range(args.seeds):
            res = explore("Mapping-v0", agent, args.budget, seed=seed, env_kwargs={"workload": args.workload},
                          hparams=hp)
            rates.append(f"{res.feasible_rate:.3f}")
            networks.append(res.feasible_candidates)
        setting = ", ".join(f"{k}={v}" for k, v in hp.items()) or "per-env default"
        print(f"| {agent} | {setting} | {' / '.join(rates)} | {sum(networks)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
