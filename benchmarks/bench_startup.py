"""Start-up of the command line: CPU and wall time of fresh ``acceldse`` processes, medians.

    python benchmarks/bench_startup.py [--repeats 5] [--no-sdpa]

Each row runs ``python -m acceldse ...`` from this checkout in a new process (numba's on-disk
cache and Python's bytecode cache warm: one untimed run first, ``PYTHONDONTWRITEBYTECODE`` dropped)
and reports the median wall time, the median CPU time of the child (user + system) and the peak
resident memory of the child. Targets (issue 14): every ``--help`` and ``list`` < 0.3 s CPU,
``simulate`` ResNet-18 x os/ws/is < 1 s wall, ``stream sdpa`` N = 4,096 with values < 10 s and
< 500 MB; (issue 17) ``simulate`` ResNet-18 x os/ws/is <= 0.7 s CPU (it imports neither numba nor
Gymnasium: the analytical kernels of one design run as plain Python, ``simulator.systolic.jit``; nor
pandas: the table is printed from plain columns, ``simulator.result.Table``).

``--python`` adds a row for ``python -c 'import acceldse'``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES: list[tuple[str, list[str], float | None, float | None]] = [
    # (label, arguments, CPU-seconds target, wall-seconds target)
    ("acceldse --help", ["--help"], 0.3, None),
    ("acceldse --version", ["--version"], 0.3, None),
    ("acceldse list", ["list"], 0.3, None),
    ("acceldse simulate --help", ["simulate", "--help"], 0.3, None),
    ("acceldse map --help", ["map", "--help"], 0.3, None),
    ("acceldse fpga --help", ["fpga", "--help"], 0.3, None),
    ("acceldse stream sdpa --help", ["stream", "sdpa", "--help"], 0.3, None),
    ("acceldse tiers event --help", ["tiers", "event", "--help"], 0.3, None),
    ("simulate resnet18 x os/ws/is", ["simulate", "--workload", "resnet18", "--dataflow", "all"], 0.7, 1.0),
]
SDPA = ("stream sdpa reordered N=4096 d=64, values",
        ["stream", "sdpa", "--variant", "reordered", "--seq-len", "4096", "--head-dim", "64"], None, 10.0)


IMPORT = ("python -c 'import acceldse'", ["-c", "import acceldse"], 0.3, None)


def run_once(args: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one ``python -m acceldse ARGS`` (or ``python -c ...``) process
    (``os.wait4`` reports its usage)."""
    argv = args if args[0] == "-c" else ["-m", "acceldse", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # warm: bytecode cached
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=err, env={**env, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"acceldse {' '.join(args)} failed: {err.read().decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(args: list[str], repeats: int) -> tuple[float, float, float]:
    run_once(args)  # warm the numba cache and the file system
    runs = [run_once(args) for _ in range(repeats)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), max(r[2] for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-sdpa", action="store_true", help="skip the N = 4,096 SDPA run (~6 s each)")
    parser.add_argument("--python", action="store_true", help="also time python -c 'import acceldse'")
    opts = parser.parse_args()
    cases = ([IMPORT] if opts.python else []) + CASES + ([] if opts.no_sdpa else [SDPA])
    print(f"{'command':<44} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}  target")
    for label, args, cpu_target, wall_target in cases:
        repeats = opts.repeats if label != SDPA[0] else max(1, min(opts.repeats, 3))
        wall, cpu, peak = measure(args, repeats)
        target = " and ".join(([f"CPU < {cpu_target} s"] if cpu_target else [])
                              + ([f"wall < {wall_target} s"] if wall_target else []))
        ok = (cpu_target is None or cpu < cpu_target) and (wall_target is None or wall < wall_target)
        if label == SDPA[0]:
            target += ", < 500 MB"
            ok = ok and peak < 500
        print(f"{label:<44} {wall:8.3f} {cpu:8.3f} {peak:8.0f}  {target} {'ok' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
