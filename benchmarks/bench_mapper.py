"""Mapper speed: evaluations per CPU-second on ResNet-18 layers, a whole ResNet-50 map on a
2-level + DRAM hierarchy, and ZigZag's LOMA on ResNet-18 side by side.

    python benchmarks/bench_mapper.py [--zigzag /work/zigzag-venv/bin/python] [--repeats 3]
    python benchmarks/bench_mapper.py --kernel-only [--candidates 50000]   # the kernel rates alone

Two rates, kept apart because only legal mappings are real evaluations (ZigZag's LOMA counts
valid mappings only):

* **legal** evaluations per CPU-second: the batched kernel on a batch made only of legal
  mappings (each one fully costed: counts, sliding-window reuse, cycles, energy); the floor
  (250,000) applies to this figure. For the GA search: legal candidates scored per CPU-s.
* **all candidates** per CPU-second: random candidates including those rejected at the
  legality check (most of them: see the ``legal`` fraction column).

Prints a table of medians and ratios. CPU time is ``time.process_time`` (this process only).
ZigZag runs in its own venv (``benchmarks/zigzag_loma_runner.py``; ``pip install
zigzag-dse==3.9.1`` into it); without it the published 140-210 mappings per CPU-second
(PUBLISHED.md) are quoted instead.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.mapper.api import map_network
from acceldse.mapper.cost import evaluate_many
from acceldse.mapper.search import run_search
from acceldse.mapper.space import MappingSpace
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.loader import load_workload

FLOOR_EVALS_PER_CPU_S = 250_000
KERNEL_LEGAL = "median kernel LEGAL evaluations / CPU-s (ResNet-18)"
KERNEL_ALL = "median kernel candidates (all) / CPU-s"
FLOOR_RESNET50_S = 60.0
ZIGZAG_PUBLISHED = (140.0, 210.0)


def unique_layers(name: str) -> list:
    seen, out = set(), []
    for layer in load_workload(name):
        key = (tuple(layer.dims.values()), layer.stride)
        if layer.macs and key not in seen:
            seen.add(key)
            out.append(layer)
    return out


def _cpu_rate(layer, hierarchy, arrays, repeats: int) -> tuple[float, np.ndarray]:
    """(median mappings per CPU-s of the batched kernel over ``arrays``, legality codes)."""
    evaluate_many(layer, hierarchy, arrays.take(slice(0, 16)))  # compile / load cache
    rates = []
    code = np.empty(0)
    for _ in range(repeats):
        t0 = time.process_time()
        _, _, code = evaluate_many(layer, hierarchy, arrays)
        rates.append(arrays.batch / max(time.process_time() - t0, 1e-9))
    return statistics.median(rates), code


def kernel_rate(layer, hierarchy, dataflow: str, n: int, repeats: int) -> tuple[float, float, float]:
    """(legal evaluations per CPU-s, all candidates per CPU-s, legal fraction) of the batched kernel.

    The legal rate times a batch of ``n`` legal mappings only (the legal candidates of the
    random sample, repeated to ``n``), so every timed evaluation computes the full cost."""
    space = MappingSpace(layer, hierarchy, dataflow)
    arrays = space.decode(space.random(n, np.random.default_rng(0)))
    all_rate, code = _cpu_rate(layer, hierarchy, arrays, repeats)
    legal = np.flatnonzero(code == 0)
    if legal.size == 0:
        return 0.0, all_rate, 0.0
    legal_rate, code2 = _cpu_rate(layer, hierarchy, arrays.take(np.resize(legal, n)), repeats)
    assert (code2 == 0).all()
    return legal_rate, all_rate, legal.size / n


def search_rate(layer, hierarchy, dataflow: str, budget: int) -> tuple[float, float]:
    """(legal, all) candidates per CPU-s of a whole GA search (sampling, decoding, selection included)."""
    space = MappingSpace(layer, hierarchy, dataflow)
    t0 = time.process_time()
    res = run_search(space, "ga", "edp", budget, 0)
    cpu = max(time.process_time() - t0, 1e-9)
    return res.valid / cpu, res.evaluations / cpu


def zigzag(python: str | None) -> dict | None:
    runner = Path(__file__).with_name("zigzag_loma_runner.py")
    if not python or not Path(python).exists():
        return None
    proc = subprocess.run([python, str(runner), "tpu_like"], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        print(f"zigzag runner failed: {proc.stderr[-500:]}", file=sys.stderr)
        return None
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    # the runner's CPU time is its own process time
    return json.loads(line)


def _layer_table(args: argparse.Namespace) -> dict[str, float]:
    """Per-layer rates on ResNet-18 (printed); returns the medians. ``--kernel-only`` leaves out the GA
    searches (their columns are 0); ``--layers N`` times the first N distinct layers only."""
    rows = []
    for hw_name, df in (("eyeriss_like", "rs"), ("simple_ws_32x32", "ws")):
        hierarchy = load_hierarchy(hw_name)
        for layer in unique_layers("resnet18")[:args.layers]:
            rows.append((hw_name, layer.name, *kernel_rate(layer, hierarchy, df, args.candidates, args.repeats),
                         *((0.0, 0.0) if args.kernel_only else search_rate(layer, hierarchy, df, 100_000))))
    print(f"{'hierarchy':16} {'layer':18} {'kernel legal/CPU-s':>19} {'kernel all/CPU-s':>17} {'legal':>6} "
          f"{'GA legal/CPU-s':>15} {'GA all/CPU-s':>13}")
    for hw_name, name, k_legal, k_all, legal, s_legal, s_all in rows:
        print(f"{hw_name:16} {name:18} {k_legal:19,.0f} {k_all:17,.0f} {legal:6.2f} {s_legal:15,.0f} {s_all:13,.0f}")
    keys = ("k_legal", "k_all", "legal", "s_legal", "s_all")
    return {key: statistics.median(r[2 + i] for r in rows) for i, key in enumerate(keys)}


SPARSE_EXERCISES = (("03.2.2-conv1d+oc", False), ("04.2.2-eyeriss-like-gating-mapspace-search", True),
                    ("04.2.3-eyeriss-like-onchip-compression", True))
"""Sparseloop exercises (tests/golden/timeloop/exercises/sparseloop/) whose search is timed sparse on / off, and
whether their mapspace constraints apply (the small problems' constrained spaces hold a few dozen mappings)."""
SPARSE_ZOO = (("resnet18", "layer2.0.conv2", "eyeriss-v1", "rs"),)
"""Zoo layers timed sparse on / off: (workload, layer, hierarchy, dataflow), with Eyeriss v1's sparse features
(``validation.silicon.eyeriss_sparse_features``: RLC-compressed DRAM inputs / outputs, weights_spad reads gated
on zero inputs) through ``mapper.sparse.batched.native``."""


def sparse_cases(names: tuple[str, ...] = ()) -> list[tuple[str, Any, Any, Any]]:
    """(name, a maker of its sparse model (a new one: empty caches), dense layer, mapping space) of every sparse
    on / off case (``names``: only those)."""
    from acceldse.mapper.sparse.batched import native
    from acceldse.mapper.timeloop import load_timeloop
    from acceldse.mapper.timeloop.sparse_model import SparseModel
    from acceldse.validation.silicon import eyeriss_sparse_features

    root = Path(__file__).parents[1] / "tests" / "golden" / "timeloop" / "exercises" / "sparseloop"
    out: list[tuple[str, Any, Any, Any]] = []
    for name, constrained in SPARSE_EXERCISES:
        if names and name not in names:
            continue
        spec = load_timeloop([root / name / f for f in ("parsed-processed-input.yaml", "timeloop-mapper.ERT.yaml",
                                                        "timeloop-mapper.map.yaml")])
        model = SparseModel(spec)
        space = MappingSpace(spec.layer, model.relax(spec.search_hierarchy or spec.hierarchy), None,
                             constraints=spec.loop_constraints if constrained else ())
        out.append((name, functools.partial(SparseModel, spec), spec.layer, space))
    for workload, layer_name, hw, dataflow in SPARSE_ZOO:
        name = f"{workload} {layer_name} on {hw} ({dataflow})"
        if names and name not in names:
            continue
        layer = next(lay for lay in load_workload(workload) if lay.name == layer_name)
        chip = load_hierarchy(hw)  # every level bypassable (the chip's always_keeps dropped), as the rates were
        # measured: random and GA mappings of a small budget are then legal often enough to time the model
        hierarchy = chip.replace(levels={lv.name: {"always_keeps": []} for lv in chip.levels if lv.always_keeps})
        make = functools.partial(native, layer, hierarchy, **eyeriss_sparse_features(layer))
        out.append((name, make, layer, MappingSpace(layer, make().relaxed, dataflow)))
    return out


def sparse_rates(n: int, repeats: int, names: tuple[str, ...] = (), budget: int = 3000
                 ) -> list[tuple[str, int, float, float, float, float]]:
    """Per case (``sparse_cases``): (name, legal mappings timed, legal mappings per CPU-s with Sparseloop's
    model (``evaluate_many`` of ``SparseModel`` or ``native``), the same mappings per CPU-s with the dense
    kernel, then legal candidates per CPU-s of a GA search of ``budget`` candidates (seed 0) on Sparseloop's
    EDP and on the dense EDP).

    The mappings are distinct (``mapping_key``) random ones of the case's mapspace that both models find legal
    (at most ``n``): each timed evaluation is fully costed, and the sparse model starts every repeat with an
    empty cache (tiles it meets again within the batch are reused, as in a search). The searches (medians of
    ``repeats``, each with a new model) count every legal candidate scored, a revisited one included, as the
    dense GA rate of ``_layer_table`` does."""
    from acceldse.mapper.sparse.batched import mapping_key

    out = []
    for name, make, layer, space in sparse_cases(names):
        model = make()
        arrays = space.decode(space.random(10 * n, np.random.default_rng(0)))
        _, _, code = model.evaluate_many(arrays)
        _, _, dense_code = evaluate_many(layer, model.relaxed, arrays)
        first: dict[tuple, int] = {}
        for i in np.flatnonzero((code == 0) & (dense_code == 0)):
            first.setdefault(mapping_key(arrays, i), int(i))   # distinct mappings only
        legal = np.array(sorted(first.values())[:n], dtype=np.int64)
        batch = arrays.take(legal)
        evaluate_many(layer, model.relaxed, batch)  # compile / load the kernel outside the timing
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(repeats):
            fresh = make()  # empty caches
            dense_run = functools.partial(evaluate_many, layer, model.relaxed)
            for key, run in (("on", fresh.evaluate_many), ("off", dense_run)):
                t0 = time.process_time()
                run(batch)
                rates[key].append(legal.size / max(time.process_time() - t0, 1e-9))
        search: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(repeats):
            for key, cost_model in (("on", make().evaluate_many), ("off", None)):
                t0 = time.process_time()
                res = run_search(space, "ga", "edp", budget, 0, cost_model=cost_model)
                search[key].append(res.valid / max(time.process_time() - t0, 1e-9))
        out.append((name, int(legal.size), statistics.median(rates["on"]), statistics.median(rates["off"]),
                    statistics.median(search["on"]), statistics.median(search["off"])))
    return out


def _sparse_table(n: int, repeats: int, budget: int) -> None:
    print(f"{'sparse case':48} {'mappings':>8} {'ON legal/CPU-s':>15} {'OFF legal/CPU-s':>16} {'OFF/ON':>7} "
          f"{'GA ON legal/CPU-s':>18} {'GA OFF legal/CPU-s':>19} {'OFF/ON':>7}")
    t0 = time.process_time()
    for name, count, on, off, ga_on, ga_off in sparse_rates(n, repeats, budget=budget):
        print(f"{name:48} {count:8,} {on:15,.0f} {off:16,.0f} {off / on:6.0f}x {ga_on:18,.0f} {ga_off:19,.0f} "
              f"{ga_off / ga_on:6.0f}x")
    print(f"({time.process_time() - t0:.0f} CPU-s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zigzag", default="/work/zigzag-venv/bin/python", help="python of the ZigZag venv")
    parser.add_argument("--zigzag-json", default=None, help="reuse a runner result instead of running ZigZag")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=200_000)
    parser.add_argument("--kernel-only", action="store_true",
                        help="only the batched kernel's rates (legal and all candidates), no GA, ResNet-50 or ZigZag")
    parser.add_argument("--layers", type=int, default=None, help="time the first N distinct ResNet-18 layers only")
    parser.add_argument("--sparse-only", action="store_true",
                        help="only the sparsity on / off rates (Sparseloop exercises)")
    parser.add_argument("--sparse-mappings", type=int, default=1000, help="legal mappings timed per sparse case")
    parser.add_argument("--sparse-budget", type=int, default=3000, help="GA candidates per sparse case's search")
    args = parser.parse_args(argv)
    if args.sparse_only:
        _sparse_table(args.sparse_mappings, args.repeats, args.sparse_budget)
        return 0

    med = _layer_table(args)
    if args.kernel_only:
        print()
        print(f"{KERNEL_LEGAL:52} {med['k_legal']:14,.0f}")
        print(f"{KERNEL_ALL:52} {med['k_all']:14,.0f}")
        print(f"{'median legal fraction of random candidates':52} {med['legal']:14.2f}")
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        return 0
    t0, w0 = time.process_time(), time.perf_counter()
    r50 = map_network("resnet50", "simple_ws_32x32", search="ga", budget=20_000, seed=0)
    r50_cpu, r50_wall = time.process_time() - t0, time.perf_counter() - w0
    searched = int((r50.table.reused_from == "").sum())

    zz = json.loads(Path(args.zigzag_json).read_text()) if args.zigzag_json else zigzag(args.zigzag)
    if zz:
        zz_rate = zz["evaluations"] / zz["cpu_s"]
        zz_note = f"measured: {zz['evaluations']:,} LOMA mappings in {zz['cpu_s']:.1f} CPU-s ({zz['hardware']})"
    else:
        zz_rate = statistics.mean(ZIGZAG_PUBLISHED)
        zz_note = "not run; PUBLISHED.md figure 140-210 (midpoint used)"
    floor = FLOOR_EVALS_PER_CPU_S
    print()
    print(f"{'metric':52} {'value':>14} {'floor':>10} {'ratio':>8}")
    print(f"{KERNEL_LEGAL:52} {med['k_legal']:14,.0f} {floor:10,} "
          f"{med['k_legal'] / floor:8.1f}")
    print(f"{KERNEL_ALL:52} {med['k_all']:14,.0f}")
    print(f"{'median legal fraction of random candidates':52} {med['legal']:14.2f}")
    print(f"{'median GA-search LEGAL evaluations / CPU-s':52} {med['s_legal']:14,.0f}")
    print(f"{'median GA-search candidates (all) / CPU-s':52} {med['s_all']:14,.0f}")
    print(f"{'ZigZag LOMA valid mappings / CPU-s (ResNet-18)':52} {zz_rate:14,.0f}")
    print(f"{'  ours (kernel, legal) / ZigZag':52} {med['k_legal'] / zz_rate:14,.0f}x")
    print(f"{'  ours (GA search, legal) / ZigZag':52} {med['s_legal'] / zz_rate:14,.0f}x")
    print(f"{'ResNet-50 whole-network map, CPU-s':52} {r50_cpu:14.1f} {FLOOR_RESNET50_S:10.0f} "
          f"{r50_cpu / FLOOR_RESNET50_S:8.2f}")
    print(f"{'ResNet-50 whole-network map, wall-s':52} {r50_wall:14.1f}")
    print(f"  ({len(r50.table)} MAC layers, {searched} distinct shapes searched with GA x 20,000 evaluations; "
          f"{r50.cycles:,} cycles, {r50.energy_pj / 1e6:,.0f} uJ)")
    print(f"  ZigZag: {zz_note}")
    print()
    _sparse_table(args.sparse_mappings, args.repeats, args.sparse_budget)
    ok = med["k_legal"] >= floor and r50_wall < FLOOR_RESNET50_S
    print("floors met" if ok else "FLOOR MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
