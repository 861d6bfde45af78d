"""A learned proxy against the event fidelity: accuracy, speed-up, and search quality at equal budget.

    python benchmarks/bench_proxy.py                        # ResNet-18, 300 logged designs, BO 200 x 3 seeds
    python benchmarks/bench_proxy.py --train 600 --budget 300 --seeds 5 --model rf
    python benchmarks/bench_proxy.py --part speed --workload alexnet --cores 1,2,4,8 --train 150
    python benchmarks/bench_proxy.py --workload alexnet --cores 1,2,4,8 --train 150 --budget 100 --seeds 3

``--part search`` (default):

1. Log ``--train`` random designs of AcceleratorDesign-v0 at ``fidelity="event"`` (the streaming engine)
   into a result store, exactly as ``acceldse explore --store`` does.
2. Fit the proxy (``acceldse proxy train``): held-out RMSE, relative error, R2, prediction time
   against the event simulator's time per evaluation.
3. Search with the same agent and budget per seed: driven by the event simulator, driven by the proxy
   (``--env-arg proxy=FILE``) and, with ``--cores`` (where the two fidelities differ), driven by the
   analytical model. The best design of each run is re-evaluated by the event simulator: its true spec
   penalty and whether it truly meets the targets; the median wall time of one env step (the agent's own
   time excluded) and of a whole run. ``--targets`` (JSON) are ResNet-18's hard targets by default;
   ``--targets half`` is half the event fidelity's reference latency and energy (the env's default
   targets), given to every driver alike.

``--part speed``: where a proxy can pay. With ``--cores`` the designs get a ``cores`` knob (arrays sharing
the SRAM and the DRAM link); the event fidelity models their contention for the link, the analytical one
does not, so on multi-core designs the event fidelity is the slow one worth replacing. Logs ``--train``
random event designs, fits the proxy, then times ``env.step`` on ``--steps`` further random designs (median
ms per step) with the analytical model, the event engine and the proxy in place of the event engine, and
reports how far the analytical latency is from the event one on those designs (single- and multi-core).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acceldse.envs.knobs import spec_penalty  # noqa: E402
from acceldse.explore import explore, make_env  # noqa: E402
from acceldse.proxy import train_proxy  # noqa: E402

ENV = "AcceleratorDesign-v0"
TARGETS = ["latency_us", "energy_uj", "area_mm2", "power_w"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="resnet18")
    parser.add_argument("--train", type=int, default=300, help="logged event-fidelity designs")
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--agent", default="bo")
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--part", choices=("search", "speed"), default="search")
    parser.add_argument("--cores", default=None, help="values of a cores knob, e.g. 1,2,4,8 (default: no knob)")
    parser.add_argument("--steps", type=int, default=40, help="--part speed: timed steps per driver")
    parser.add_argument("--targets", default='{"latency_us": 3000, "energy_uj": 2600, "area_mm2": 4}',
                        help="JSON upper bounds, or 'half' (module docstring)")
    args = parser.parse_args(argv)
    kwargs: dict = {"workload": args.workload, "fidelity": "event"}
    if args.cores:
        kwargs["knobs"] = {"cores": [int(c) for c in args.cores.split(",")]}
    kwargs["targets"] = make_env(ENV, kwargs).unwrapped.targets if args.targets == "half" else json.loads(args.targets)
    if args.part == "speed":
        return speed(args, kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        proxy, model, log_s = log_and_train(args, kwargs, Path(tmp))
        truth = make_env(ENV, kwargs).unwrapped
        drivers = {"event simulator": kwargs, "proxy": {**kwargs, "proxy": str(model)}}
        if args.cores:
            drivers["analytical model"] = {**kwargs, "fidelity": "analytical"}
        rows = []
        for seed in range(args.seeds):
            for driver, env_kwargs in drivers.items():
                steps: list[float] = []
                res = explore(ENV, args.agent, args.budget, seed, env_kwargs=env_kwargs,
                              on_evaluation=lambda ev, steps=steps: steps.append(ev.eval_s))
                true = truth.evaluate(res.best_design)
                penalty = spec_penalty(true, truth.targets)
                rows.append({"driver": driver, "seed": seed, "wall_s": res.wall_s,
                             "step_ms": 1e3 * float(pd.Series(steps).median()), "true_penalty": penalty,
                             "truly_met": penalty == 0.0, "believed_met": res.targets_met,
                             "believed_penalty": -res.best_reward, "cores": res.best_design.get("cores", 1),
                             **{f"true_{k}": true[k] for k in ("latency_us", "energy_uj", "area_mm2")}})
        runs = pd.DataFrame(rows)
    print(f"\n{args.agent}, budget {args.budget}, seeds 0..{args.seeds - 1}, targets {kwargs['targets']}: best "
          "design re-evaluated by the event simulator")
    print(runs.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    table = runs.groupby("driver", sort=False).agg(
        step_ms=("step_ms", "median"), believed_met=("believed_met", lambda s: f"{int(s.sum())}/{len(s)}"),
        truly_met=("truly_met", lambda s: f"{int(s.sum())}/{len(s)}"), true_penalty=("true_penalty", "mean"),
        believed_penalty=("believed_penalty", "mean"), wall_s=("wall_s", "mean"))
    print()
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    sim, prx = table.loc["event simulator"], table.loc["proxy"]
    print(f"\nsearch wall time: {sim.wall_s / prx.wall_s:.1f}x less with the proxy "
          f"(+{log_s:.0f} s once to log its training data)")
    return 0


def log_and_train(args: argparse.Namespace, kwargs: dict, tmp: Path) -> tuple[Any, Path, float]:
    """Log ``--train`` random event-fidelity designs into a store in ``tmp`` (as ``acceldse explore --store``),
    fit the proxy on them (``acceldse proxy train``) and print its report: the proxy, its file, the log's wall s."""
    store, model = tmp / "event.duckdb", tmp / "event.proxy"
    start = time.perf_counter()
    explore(ENV, "random", args.train, seed=1000, env_kwargs=kwargs, store=store)
    log_s = time.perf_counter() - start
    proxy = train_proxy(store, TARGETS, model=args.model, out=model)
    print(f"{args.workload}, knobs {kwargs.get('knobs', {})}: proxy {args.model} fitted on {proxy.meta['samples']} "
          f"random event-fidelity designs (logged in {log_s:.0f} s), {proxy.meta['held_out']} held out")
    print(proxy.report.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return proxy, model, log_s


def speed(args: argparse.Namespace, kwargs: dict) -> int:
    """``--part speed`` (module docstring)."""
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        proxy, model, log_s = log_and_train(args, kwargs, Path(tmp))
        drivers = {"analytical": make_env(ENV, {**kwargs, "fidelity": "analytical"}).unwrapped,
                   "event": make_env(ENV, kwargs).unwrapped,
                   "proxy of event": make_env(ENV, {**kwargs, "proxy": str(model)}).unwrapped}
        rng = np.random.default_rng(7)
        nvec = drivers["event"].action_space.nvec
        actions = [np.array([rng.integers(n) for n in nvec]) for _ in range(args.steps)]
        times: dict[str, list[float]] = {name: [] for name in drivers}
        latency: dict[str, list[float]] = {name: [] for name in drivers}
        for action in actions:
            for name, env in drivers.items():
                t0 = time.perf_counter()
                _, _, _, _, info = env.step(action)
                times[name].append(time.perf_counter() - t0)
                latency[name].append(info["metrics"]["latency_us"])
        cores = np.array([drivers["event"].design_of(a).get("cores", 1) for a in actions])
    print(f"\nenv.step on {args.steps} other random designs (median ms per step, one process):")
    event_ms = 1e3 * float(np.median(times["event"]))
    for name in drivers:
        ms = 1e3 * float(np.median(times[name]))
        print(f"  {name:<15} {ms:9.3f} ms   ({event_ms / ms:7.1f}x the event step's speed)")
    ev = np.array(latency["event"])
    for label, sel in (("single-core", cores == 1), ("multi-core", cores > 1)):
        if sel.any():
            off = np.abs(np.array(latency["analytical"])[sel] / ev[sel] - 1)
            prx = np.abs(np.array(latency["proxy of event"])[sel] / ev[sel] - 1)
            print(f"  {label} designs ({int(sel.sum())}): analytical latency off the event one by median "
                  f"{100 * np.median(off):.1f} % (max {100 * off.max():.1f} %); the proxy by median "
                  f"{100 * np.median(prx):.1f} % (max {100 * prx.max():.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
