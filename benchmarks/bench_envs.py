"""Environment speed: env steps per CPU-second (one core) of every acceldse env, with random actions.

    python benchmarks/bench_envs.py [--repeats 5] [--steps 2000] [--json out.json]
    python benchmarks/bench_envs.py --part vector [--num-envs 256] [--batches 20]  # the batched vector env only
    python benchmarks/bench_envs.py --part masks [--steps 2000]       # legal-step rate with and without masks
    python benchmarks/bench_envs.py --part mapping                    # Mapping-v0 only
    python benchmarks/bench_envs.py --part accelerator                # AcceleratorDesign-v0 only

Rows (medians over repeats; CPU time is ``time.process_time``, this process only, numba and torch
limited to one thread):

* AcceleratorDesign-v0, ResNet-18, analytical fast path (``env.unwrapped``, and through ``gym.make``'s
  wrappers), vs the same designs through
  ``acceldse.simulate`` (DataFrame per design) -- the ratio is the fast path's speed-up; ArchGym pays
  one simulator run (seconds) per step;
* FpgaDesign-v0 (LeNet on ZC706; VGG-small on ZCU102) vs ``simulator.fpga.evaluate_design``;
* Mapping-v0 (ResNet-18 on eyeriss_like) vs ``acceldse.map``-style ``mapper.cost.evaluate`` per step;
* CoExploration-v0 (digits + digits16, 2 sub-accelerators): cold (fresh env: every new layer shape
  is mapped) and warm (the same designs again, every mapping cached);
* MultiAgentDesign (PettingZoo), shared reward;
* AcceleratorDesign-v0 (ResNet-18) as a vector env of N sub-envs: the batched
  ``vectorization_mode="vector_entry_point"`` env vs ``make_vec(..., vectorization_mode="sync")`` on the
  same random actions (sub-env steps per CPU-second; the two give identical observations and rewards); a
  second row with a workload set (``VECTOR_SET``, one sampled per sub-env episode: one kernel call per
  workload present in a step).

``--part masks``: the share of legal steps of uniform random actions, unmasked and drawn inside the env's
action mask (``envs.action_masks``), on Mapping-v0 (ResNet-18 and AlexNet on eyeriss_like, every step a
layer mapping) and FpgaDesign-v0 (LeNet on ZC706, VGG-small on ZCU102), with the share of knob values the
mask allows and the time to build it.

Floors (the issue's targets): AcceleratorDesign >= 5,000, Mapping and FpgaDesign >= 1,000,
CoExploration >= 200 warm and >= 5 cold steps per CPU-second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import acceldse  # noqa: E402 - registers the envs

VECTOR_SET = ("resnet18", "mobilenet_v2", "alexnet", "vgg16")
"""The workload set of the vector env's second row: each sub-env samples one per episode."""
FLOORS = {"AcceleratorDesign-v0": 5_000, "FpgaDesign-v0": 1_000, "Mapping-v0": 1_000,
          "CoExploration-v0 warm": 200, "CoExploration-v0 cold": 5}


def rate(run: Callable[[], int], repeats: int) -> float:
    """Median steps per CPU-second of ``run`` (which returns the steps it took)."""
    rates = []
    for _ in range(repeats):
        t0 = time.process_time()
        n = run()
        rates.append(n / max(time.process_time() - t0, 1e-9))
    return statistics.median(rates)


def stepper(env: gym.Env, actions: list) -> Callable[[], int]:
    def run() -> int:
        for a in actions:
            if env.step(a)[2]:
                env.reset()
        return len(actions)
    return run


def sampled(env: gym.Env, n: int, seed: int = 0) -> list:
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(n)]


def bench_accelerator(steps: int, repeats: int) -> list[tuple[str, float, float | None]]:
    env = gym.make("acceldse/AcceleratorDesign-v0", workload="resnet18").unwrapped
    env.reset(seed=0)
    actions = sampled(env, steps)
    fast = rate(stepper(env, actions), repeats)
    wrapped = gym.make("acceldse/AcceleratorDesign-v0", workload="resnet18")  # TimeLimit, order and API checks
    wrapped.reset(seed=0)
    through_make = rate(stepper(wrapped, actions), repeats)
    designs = [env.design_of(a) for a in actions[:40]]

    def via_simulate() -> int:
        for d in designs:
            _ = acceldse.simulate(env.network, env.accelerator(d), d["dataflow"]).totals
        return len(designs)
    slow = rate(via_simulate, max(1, repeats // 2))
    return [("AcceleratorDesign-v0", fast, slow), ("  same, via gym.make wrappers", through_make, slow)]


def bench_fpga(steps: int, repeats: int) -> list[tuple[str, float, float | None]]:
    from acceldse.simulator.fpga import evaluate_design

    rows = []
    for label, kwargs in (("FpgaDesign-v0", {"workload": "lenet", "platform": "zc706"}),
                          ("FpgaDesign-v0 vgg_small", {"workload": "vgg_small", "platform": "zcu102"})):
        env = gym.make("acceldse/FpgaDesign-v0", **kwargs).unwrapped
        env.reset(seed=0)
        actions = sampled(env, steps)
        fast = rate(stepper(env, actions), repeats)
        designs = [env.design_foldings(env.design_of(a)) for a in actions[:200]]

        def via_report(env: gym.Env = env, designs: list = designs) -> int:
            for foldings, parts in designs:
                evaluate_design(env.network, foldings, env.platform, batch=env.batch, partitions=parts)
            return len(designs)
        rows.append((label, fast, rate(via_report, max(1, repeats // 2))))
    return rows


def bench_mapping(steps: int, repeats: int) -> list[tuple[str, float, float | None]]:
    from acceldse.mapper.cost import evaluate

    env = gym.make("acceldse/Mapping-v0", workload="resnet18", hardware="eyeriss_like").unwrapped
    env.reset(seed=0)
    actions = sampled(env, steps)

    def run() -> int:
        for a in actions:
            if env.step(a)[2]:
                env.reset()
        return len(actions)
    fast = rate(run, repeats)
    legal = []
    for i, a in enumerate(actions):
        k = i % len(env.layers)
        if env._cost(k, env.decode(k, a)) is not None:
            legal.append((k, a))

    def via_evaluate() -> int:
        for k, a in legal:
            evaluate(env.layers[k], env.hierarchy, env.mapping(k, a))
        return len(legal)
    return [("Mapping-v0", fast, rate(via_evaluate, max(1, repeats // 2)) if legal else None)]


def bench_coexploration(steps: int, repeats: int) -> list[tuple[str, float, float | None]]:
    kwargs = {"tasks": ["digits", "digits16"], "sub_accelerators": 2}
    colds, warms = [], []
    for r in range(repeats):
        env = gym.make("acceldse/CoExploration-v0", **kwargs).unwrapped
        env.reset(seed=r)
        actions = sampled(env, steps, seed=r)
        t0 = time.process_time()
        stepper(env, actions)()
        colds.append(len(actions) / (time.process_time() - t0))
        t0 = time.process_time()
        stepper(env, actions * 4)()
        warms.append(4 * len(actions) / (time.process_time() - t0))
    return [("CoExploration-v0 cold", statistics.median(colds), None),
            ("CoExploration-v0 warm", statistics.median(warms), None)]


def bench_multi_agent(steps: int, repeats: int) -> list[tuple[str, float, float | None]]:
    from acceldse import envs

    env = envs.multi_agent_env(max_cycles=10 ** 9)
    env.reset(seed=0)
    for a in env.possible_agents:
        env.action_space(a).seed(0)
    actions = [{a: env.action_space(a).sample() for a in env.possible_agents} for _ in range(steps)]

    def run() -> int:
        for act in actions:
            env.step(act)
            if not env.agents:
                env.reset()
        return len(actions)
    return [("MultiAgentDesign", rate(run, repeats), None)]


def bench_vector(num_envs: int, repeats: int, batches: int = 20) -> list[tuple[str, float, float | None]]:
    """The batched vector env and the sync one on the same ``batches`` random action batches (a reset, then
    the batches, per repeat): sub-env steps per CPU-second of each, median over ``repeats``."""
    rows = []
    for label, kwargs in ((f"AcceleratorDesign-v0 x{num_envs}", {"workload": "resnet18"}),
                          (f"  workload set x{num_envs}", {"workloads": list(VECTOR_SET)})):
        sync = gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=num_envs, vectorization_mode="sync", **kwargs)
        vec = gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=num_envs,
                           vectorization_mode="vector_entry_point", **kwargs)
        rng = np.random.default_rng(0)
        nvec = sync.single_action_space.nvec
        actions = [rng.integers(0, nvec, size=(num_envs, len(nvec))) for _ in range(batches)]

        def runner(env: gym.vector.VectorEnv, actions: list = actions) -> Callable[[], int]:
            def run() -> int:
                env.reset(seed=0)
                for a in actions:
                    env.step(a)
                return batches * num_envs
            return run

        runner(vec)()  # compile the batched kernel
        rows.append((label, rate(runner(vec), repeats), rate(runner(sync), repeats)))
    return rows


def bench_masks(steps: int) -> None:
    """``--part masks`` (module docstring)."""
    print(f"{'env':38} {'legal, unmasked':>16} {'legal, masked':>14} {'values allowed':>15} {'mask build s':>13}")
    cases = [("acceldse/Mapping-v0", {"workload": w, "hardware": "eyeriss_like"}) for w in ("resnet18", "alexnet")]
    cases += [("acceldse/FpgaDesign-v0", {"workload": "lenet", "platform": "zc706"}),
              ("acceldse/FpgaDesign-v0", {"workload": "vgg_small", "platform": "zcu102"})]
    for env_id, kwargs in cases:
        env = gym.make(env_id, **kwargs).unwrapped
        mapping = env_id.endswith("Mapping-v0")
        start = time.process_time()
        masks = [env.legal_mask(i) for i in range(len(env.layers))] if mapping else [env.legal_mask()]
        build_s = time.process_time() - start
        rng = np.random.default_rng(0)
        legal = {"unmasked": 0, "masked": 0}
        for k in range(steps):
            mask = masks[k % len(masks)]
            for kind in legal:
                action = mask.sample(rng) if kind == "masked" else rng.integers(0, env.action_space.nvec)
                if mapping:
                    i = k % len(masks)
                    legal[kind] += env.encoding.reason(env.layers[i], env.decode(i, action)) == ""
                else:
                    metrics = env.evaluate(env.design_of(action))
                    legal[kind] += all(metrics[r] <= v for r, v in env.constraints.items())
        allowed = np.mean([m.flat().mean() for m in masks])
        name = f"{env_id.split('/')[1]} {kwargs['workload']}"
        print(f"{name:38} {legal['unmasked'] / steps:16.3f} {legal['masked'] / steps:14.3f} {allowed:15.2f} "
              f"{build_s:13.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000, help="random steps per repeat (CoExploration: 40)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    parser.add_argument("--part", choices=("all", "vector", "masks", "mapping", "accelerator"), default="all",
                        help="every env (default), the batched vector env only, the action masks' legal rates, "
                             "Mapping-v0 only or AcceleratorDesign-v0 only")
    parser.add_argument("--num-envs", type=int, default=256, help="sub-envs of the vector env rows (default 256)")
    parser.add_argument("--batches", type=int, default=20, help="action batches per repeat of the vector env rows")
    args = parser.parse_args(argv)
    if args.part == "masks":
        bench_masks(args.steps)
        return 0
    if args.part == "mapping":
        rows = bench_mapping(args.steps, args.repeats)
    elif args.part == "accelerator":
        rows = bench_accelerator(args.steps, args.repeats)
    else:
        rows = bench_vector(args.num_envs, args.repeats, args.batches)
    if args.part == "all":
        rows = bench_accelerator(args.steps, args.repeats) + bench_fpga(args.steps, args.repeats) \
            + bench_mapping(args.steps, args.repeats) + bench_coexploration(40, max(1, args.repeats // 2)) \
            + bench_multi_agent(args.steps, args.repeats) + rows
    print(f"{'env':28} {'steps/CPU-s':>12} {'DataFrame/report path':>22} {'speed-up':>9} {'floor':>7}")
    out = []
    for name, fast, slow in rows:
        floor = FLOORS.get(name)
        ratio = f"{fast / slow:8.1f}x" if slow else "       -"
        slow_txt = f"{slow:22,.0f}" if slow else f"{'-':>22}"
        verdict = "" if floor is None else ("ok" if fast >= floor else "BELOW")
        print(f"{name:28} {fast:12,.0f} {slow_txt} {ratio:>9} {floor or '':>7} {verdict}")
        out.append({"env": name, "steps_per_cpu_s": fast, "reference_per_cpu_s": slow, "floor": floor})
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0 if all(r["floor"] is None or r["steps_per_cpu_s"] >= r["floor"] for r in out) else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
