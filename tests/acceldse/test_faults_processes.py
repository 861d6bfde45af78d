"""Faults injected into sweeps and their pools (issue 21), 5: workers die with their parent, SIGTERM and
SIGINT flush and end with one line, Ctrl-C never cuts a commit, Ray's faults and output stay off stdout."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from acceldse.cli import main
from acceldse.store import ResultStore
from acceldse.sweep.backends import check_ray_address
from acceldse.workloads.errors import SpecError
from tests.acceldse.fault_helpers import ROOT, TINY, spec_text, write
from tests.acceldse.proc_helpers import children, wait_gone

LONG = f"""version: 1
workload: {TINY}
hardware: scalesim-32x32
fidelity: event
dataflow: [os, ws, is]
axes:
  array.rows: [4, 8, 12, 16, 24, 32]
  array.cols: [4, 8, 12, 16, 24, 32]
  tiers.1.bw_bytes_per_cycle: [4, 8, 16, 32]
sample: grid
"""


def _ctrl_c_default() -> None:
    """Ctrl-C as at a terminal: a shell's background job (`pytest ... &`) inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, set[int]]:
    """A 2-worker sweep, stopped once it has committed rows; returns it, its store and its workers."""
    spec, store = write(tmp_path, LONG), tmp_path / "long.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "acceldse", "-v", "sweep", str(spec), "--store", str(store),
                             "--workers", "2", "--batch-size", "1", "--no-progress"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_ctrl_c_default)
    assert proc.stderr is not None
    for line in proc.stderr:
        if re.search(rb"committed \d+ points", line):
            break
    workers = children(proc.pid)
    assert len(workers) >= 2
    return proc, store, workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_flush_and_print_one_line(tmp_path: Path, sig: int, code: int) -> None:
    proc, store, workers = _start_sweep(tmp_path)
    if sig == signal.SIGINT:  # Ctrl-C reaches the whole foreground group, workers included
        os.killpg(proc.pid, sig)
    else:  # `kill PID`
        os.kill(proc.pid, sig)
    try:
        assert proc.wait(timeout=60) == code
        assert proc.stderr is not None
        rest = [ln for ln in proc.stderr.read().decode().splitlines() if not re.match(r"^(INFO|DEBUG) ", ln)]
        assert rest[-1:] and "interrupted" in rest[-1] and "Traceback" not in "\n".join(rest), rest
        assert len([ln for ln in rest if "acceldse:" in ln]) == 1, rest
        assert wait_gone(workers) == set()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with ResultStore(store, create=False) as db:
        points = db.read("points")
    assert len(points) > 0 and points["point_id"].is_unique


def test_ctrl_c_during_a_commit_arrives_after_it(tmp_path: Path) -> None:
    from acceldse.store import signals_deferred

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # also when pytest runs as a background job
    with ResultStore(tmp_path / "s.duckdb") as db:
        with pytest.raises(KeyboardInterrupt), signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)  # arrives mid-transaction: held until it has committed
            db.insert("t", pd.DataFrame({"k": ["a", "b"], "x": [1, 2]}), key="k")
        assert db.count("t") == 2
    signal.signal(signal.SIGINT, previous)


def test_dead_ray_address_fails_fast_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(SpecError, match="no Ray head answers"):
        check_ray_address(f"127.0.0.1:{port}", timeout_s=2)
    spec = write(tmp_path, spec_text("[4, 8]"))
    code = main(["sweep", str(spec), "--store", str(tmp_path / "r.duckdb"), "--backend", "ray", "--address",
                 f"127.0.0.1:{port}", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--address" in err
    assert time.perf_counter() - start < 15
    assert not (tmp_path / "r.duckdb").exists()


def test_exhausted_ray_retries_are_one_line() -> None:
    from types import SimpleNamespace

    from acceldse.sweep.backends import _ray_get

    class RayError(Exception):
        pass

    def get(refs: list[object]) -> list[object]:
        raise RayError("Task failed after 3 retries: worker died\n  (long Ray traceback)")

    fake = SimpleNamespace(exceptions=SimpleNamespace(RayError=RayError), get=get)
    with pytest.raises(SpecError, match=r"Ray could not run a task \(RayError: Task failed after 3 retries: "
                                        r"worker died\); committed rows are kept") as err:
        _ray_get(fake, [object()])
    assert "\n" not in str(err.value)


def test_ray_output_never_reaches_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    from acceldse.sweep.backends import stdout_to_stderr

    with stdout_to_stderr():
        os.write(1, b"raylet says hello\n")  # what Ray's processes print, at the descriptor level
    print("result")
    out, err = capfd.readouterr()
    assert out == "result\n" and "raylet says hello" in err
