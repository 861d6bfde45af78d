"""The event fidelity and the FPGA pipeline on the streaming engine against their SimPy versions.

    git worktree add /tmp/simpy-engine 47cb9b8   # the last commit with the SimPy models
    nice python benchmarks/bench_engine.py --baseline /tmp/simpy-engine [--repeats 3]

Runs the same cases in two child processes, one importing this tree and one the baseline tree, taking
turns run by run (one timed call of a case in one tree, then one in the other), so both trees see the
same load however it drifts on a shared machine; prints per case the median CPU seconds of each (JIT
warm: one untimed run first), their ratio, and whether the numbers are identical (every row of the
event table; every core's end and stalls by cause; every finish time and stall of the pipeline).
``event`` is the whole event table (fold schedules and row building included, which both trees
share); ``folds only`` is the engine alone: every MAC layer's folds, schedules made beforehand (one
graph on the engine, one SimPy environment per layer in the baseline).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EVENT_CASES = [(wl, hw, cores) for wl in ("resnet50", "bert_base") for hw in ("scalesim-32x32", "tpu-hbm-like")
               for cores in (1, 4)]
PIPELINE_CASES = [("vgg_small", 16, 64), ("vgg_small", 16, 2), ("cnv", 16, 64), ("residual_block", 32, 8)]


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def cases() -> dict[str, tuple[Callable[[], object], Callable[[object], str]]]:
    """Every case of this tree: its call and a digest of its numbers (to compare trees)."""
    from acceldse.dataflows.dataflow import resolve_dataflows
    from acceldse.simulator.event import event_table
    try:  # the FPGA study networks live in the zoo now; the SimPy baseline still has its own module
        from acceldse.workloads.zoo import small

        def fpga_network(name: str):  # type: ignore[no-untyped-def]
            return getattr(small, name)()
    except ImportError:
        from acceldse.simulator.fpga.networks import fpga_network  # type: ignore[no-redef]
    from acceldse.simulator.fpga.pipeline_sim import simulate_pipeline
    from acceldse.simulator.specs.presets import load_hardware
    from acceldse.workloads.loader import load_workload

    out: dict[str, tuple[Callable[[], object], Callable[[object], str]]] = {}
    flows = resolve_dataflows("all")
    for wl, hw, cores in EVENT_CASES:
        net, acc = load_workload(wl), dataclasses.replace(load_hardware(hw), cores=cores)
        out[f"event {wl} {hw} cores={cores}"] = (lambda n=net, a=acc: event_table(n, a, flows),
                                                 lambda table: table.to_json())  # type: ignore[attr-defined]
    for wl, hw, cores in EVENT_CASES:  # the engine alone: every layer's folds, schedules made beforehand
        net, acc = load_workload(wl), dataclasses.replace(load_hardware(hw), cores=cores)
        out[f"folds only {wl} {hw} cores={cores}"] = (_fold_runner(net, acc, flows), lambda runs: repr(
            [[tuple(float(x) for x in (r.end_cycles, r.stall_bandwidth_cycles, r.stall_latency_cycles,
                                       r.stall_capacity_cycles)) for r in layer_runs]
             for layer_runs, _ in runs]))  # type: ignore[attr-defined]
    for name, samples, fifo in PIPELINE_CASES:
        network = fpga_network(name)
        out[f"pipeline {name} samples={samples} fifo={fifo}"] = (
            lambda n=network, s=samples, f=fifo: simulate_pipeline(n, samples=s, fifo_rows=f), repr)
    return out


def worker() -> None:
    """Serve the driver: ``list`` prints the case names; ``warm <case>`` runs it untimed and prints its
    digest; ``time <case>`` prints the CPU seconds of one call."""
    runs = cases()
    for line in sys.stdin:
        command, _, case = line.rstrip("\n").partition(" ")
        if command == "list":
            answer: object = list(runs)
        elif command == "warm":
            answer = runs[case][1](runs[case][0]())
        else:
            answer = _cpu(runs[case][0])
        print(json.dumps(answer), flush=True)


def _fold_runner(net, acc, flows):  # type: ignore[no-untyped-def]
    """A call running every MAC layer's folds on ``acc.cores`` arrays: one graph on the engine, or
    one SimPy environment per layer in the baseline."""
    from acceldse.simulator.event.engine import run_fold_layer
    from acceldse.simulator.systolic.model import core_chunks, fold_schedule

    try:
        from acceldse.simulator.event.engine import transfer_cycles_array
    except ImportError:  # trees before it moved
        from acceldse.simulator.event.kernels import transfer_cycles_array  # type: ignore[no-redef]

    dram, jobs = acc.dram, []
    for flow in flows:
        for layer in (ly for ly in net.layers if ly.has_weights):
            s = fold_schedule(layer, flow, acc)
            load = transfer_cycles_array(s.load_bytes, dram.read_bw_bytes_per_cycle)
            write = transfer_cycles_array(s.write_bytes, dram.write_bw_bytes_per_cycle)
            chunks = [c for c in core_chunks(load.shape[0], acc.cores) if c.stop > c.start]
            jobs.append(([load[c] for c in chunks], [write[c] for c in chunks], s.cycles_per_fold,
                         dram.latency_cycles))
    try:
        from acceldse.simulator.event.engine import FoldJob, run_fold_layers
    except ImportError:  # the SimPy trees
        return lambda: [run_fold_layer(*job) for job in jobs]
    batch = [FoldJob(ld, wr, [cyc] * len(ld), lat, dram.name) for ld, wr, cyc, lat in jobs]
    return lambda: run_fold_layers(batch)


class _Tree:
    """A worker process importing ``tree``."""

    def __init__(self, tree: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], cwd=tree, text=True,
                                     env=dict(os.environ, PYTHONPATH=str(tree)), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def ask(self, command: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker of {command!r} died (see its stderr)")
        return json.loads(line)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the SimPy version")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    if args.baseline is None:
        parser.error("--baseline DIR is needed (a checkout of the SimPy version)")
    new, old = _Tree(Path(__file__).resolve().parents[1]), _Tree(args.baseline.resolve())
    try:
        print(f"{'case':<46} {'simpy_s':>8} {'engine_s':>8} {'speedup':>8} {'identical':>9}")
        for case in new.ask("list"):
            same = new.ask(f"warm {case}") == old.ask(f"warm {case}")
            times: dict[str, list[float]] = {"new": [], "old": []}
            for _ in range(args.repeats):  # turn by turn: both trees under the same load
                times["new"].append(new.ask(f"time {case}"))
                times["old"].append(old.ask(f"time {case}"))
            sec, old_sec = statistics.median(times["new"]), statistics.median(times["old"])
            print(f"{case:<46} {old_sec:>8.4f} {sec:>8.4f} {old_sec / sec:>7.1f}x {str(same):>9}", flush=True)
    finally:
        new.close()
        old.close()


if __name__ == "__main__":
    main()
