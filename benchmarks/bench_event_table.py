"""The whole event table (fold schedules, the engine, rows, staging, the DataFrame), against another tree.

    git worktree add /tmp/before 998eedd          # or 124a3f5, the SimPy version
    python benchmarks/bench_event_table.py --baseline /tmp/before [--repeats 7]
    python benchmarks/bench_event_table.py --cases "resnet18 tpu-hbm-like 1 os" --repeats 20   # one tree

Every case runs in a child process per tree (this tree, then the baseline, each importing its own
``acceldse``): one untimed run (JIT caches and imports warm), then ``--repeats`` timed runs; it
prints the median CPU milliseconds of a table in each tree, their ratio, and whether the two tables
are identical (every value and dtype). A case is ``workload hardware cores dataflow``. The whole
process (imports included) is what ``/usr/bin/time -v python -m acceldse simulate --workload resnet18
--hardware tpu-hbm-like --fidelity event`` measures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = ["resnet18 tpu-hbm-like 1 os", "resnet18 tpu-hbm-like 1 all", "resnet50 tpu-hbm-like 4 all",
         "bert_base tpu-hbm-like 1 all", "bert_base tpu-hbm-like 4 all", "mobilenet_v2 scalesim-32x32 2 all"]


def worker(cases: list[str], repeats: int) -> dict[str, tuple[float, str]]:
    """Median CPU ms of each case's table in this process, and a digest of the table."""
    import dataclasses

    from acceldse.dataflows.dataflow import resolve_dataflows
    from acceldse.simulator.event import event_table
    from acceldse.simulator.specs.presets import load_hardware
    from acceldse.workloads.loader import load_workload

    out = {}
    for case in cases:
        wl, hw, cores, flow = case.split()
        net, flows = load_workload(wl), resolve_dataflows(flow)
        acc = dataclasses.replace(load_hardware(hw), cores=int(cores))
        table = event_table(net, acc, flows)
        times = []
        for _ in range(repeats):
            start = time.process_time()
            table = event_table(net, acc, flows)
            times.append(time.process_time() - start)
        digest = hashlib.sha1((table.to_csv(float_format=repr) + repr(list(table.dtypes))).encode()).hexdigest()
        out[case] = (1e3 * statistics.median(times), digest)
    return out


def _run_tree(tree: Path, cases: list[str], repeats: int) -> dict[str, tuple[float, str]]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, __file__, "--worker", "--repeats", str(repeats), "--cases", *cases],
                          env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout to compare with")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cases", nargs="+", default=CASES, help='"workload hardware cores dataflow" ...')
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.cases, args.repeats)))
        return
    new = _run_tree(Path(__file__).resolve().parents[1], args.cases, args.repeats)
    old = _run_tree(args.baseline.resolve(), args.cases, args.repeats) if args.baseline else None
    print(f"{'case':<36} {'before_ms':>9} {'now_ms':>8} {'speedup':>8} {'identical':>9}")
    for case, (ms, digest) in new.items():
        if old is None:
            print(f"{case:<36} {'':>9} {ms:>8.1f}")
            continue
        old_ms, old_digest = old[case]
        print(f"{case:<36} {old_ms:>9.1f} {ms:>8.1f} {old_ms / ms:>7.2f}x {str(digest == old_digest):>9}")


if __name__ == "__main__":
    main()
