"""Where tasks run: a local process pool (default) or Ray (a local instance or a cluster).

Both backends take an iterable of tasks and yield ``TaskResult``s as they complete, keeping
only a few tasks in flight per worker so memory stays flat on sweeps of any size. Neither
touches the result store; the caller (one process) writes what they yield.

Pool workers die with their parent: on Linux the kernel sends them SIGKILL when it goes
(``PR_SET_PDEATHSIG``), elsewhere a watchdog thread notices within a second; they ignore Ctrl-C
(the parent stops them, so an interrupt prints no worker tracebacks). A Ray address is probed
with a short TCP connect before Ray is started, and Ray's own output goes to stderr, never
to stdout (``--json`` stays parseable).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from acceldse.sweep.worker import Task, TaskResult, evaluate_task
from acceldse.workloads.errors import SpecError

BACKENDS = ("local", "ray")
IN_FLIGHT_PER_WORKER = 2
RAY_PROBE_SECONDS = 5.0
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Make this (child) process end when ``parent`` does: PR_SET_PDEATHSIG on Linux, and a
    watchdog thread everywhere (it also catches a parent that died before the prctl took effect)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="acceldse-parent-watchdog", daemon=True).start()


def _pool_worker_init(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now (an interrupt or an error: their tasks are not wanted)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_tasks(tasks: Iterable[Task], *, backend: str = "local", workers: int = 1,
              address: str | None = None) -> Iterator[TaskResult]:
    """Evaluate ``tasks`` on ``backend`` with ``workers`` processes; yields results as they finish."""
    if backend == "local":
        return run_local(tasks, workers)
    if backend == "ray":
        return run_ray(tasks, workers, address)
    raise SpecError("unknown backend", source="backend", value=backend, accepted=" | ".join(BACKENDS))


def run_local(tasks: Iterable[Task], workers: int) -> Iterator[TaskResult]:
    """One worker: in this process. More: a process pool (fork, so workers start warm)."""
    if workers == 1:
        for task in tasks:
            yield evaluate_task(task)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_pool_worker_init,
                             initargs=(os.getpid(),)) as pool:
        pending: set[Future[TaskResult]] = set()
        queue = iter(tasks)
        try:
            for task in queue:
                pending.add(pool.submit(evaluate_task, task))
                if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        except BaseException:
            _stop_workers(pool)
            raise


def check_ray_address(address: str, timeout_s: float = RAY_PROBE_SECONDS) -> None:
    """Refuse, in at most ``timeout_s``, a Ray address with nothing listening (Ray itself retries for minutes)."""
    if address == "auto":
        if os.environ.get("RAY_ADDRESS"):
            return check_ray_address(os.environ["RAY_ADDRESS"], timeout_s)
        current = Path(os.environ.get("TMPDIR", "/tmp")) / "ray" / "ray_current_cluster"
        if not current.is_file() and not Path("/tmp/ray/ray_current_cluster").is_file():
            raise SpecError("no running Ray cluster found on this machine", source="address", value=address,
                            accepted="start one with 'ray start --head', or give HOST:PORT of a running Ray head")
        return None
    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SpecError("not a Ray address", source="address", value=address,
                        accepted="'auto' or HOST:PORT of a running Ray head (ray start --head prints it)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as err:
        cause = "timed out" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise SpecError(f"no Ray head answers there ({cause} after at most {timeout_s:g} s)", source="address",
                        value=address, accepted="HOST:PORT of a running Ray head (ray start --head), or 'auto'"
                        ) from None
    return None


@contextlib.contextmanager
def stdout_to_stderr() -> Any:
    """Point file descriptor 1 at stderr for the block (what Ray and its raylet print stays off stdout)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all
        yield
        return
    os.dup2(2, 1)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def start_ray(workers: int, address: str | None = None) -> tuple[Any, bool]:
    """Connect to Ray: the running instance, the cluster at ``address``, or a new local one with
    ``workers`` CPUs. Returns (the ray module, whether this call started it)."""
    try:
        import ray
    except ImportError:
        raise SpecError("the Ray backend needs Ray", source="backend", value="ray",
                        accepted="pip install 'acceldse[sweep]', or backend local") from None
    if ray.is_initialized():
        return ray, False
    if address is None:
        # a local instance: its workers import this checkout even when acceldse is not installed
        root = str(Path(__file__).resolve().parents[2])
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *[p for p in paths if p != root]])
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    else:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise SpecError(f"cannot connect to the Ray cluster: {err}", source="address", value=address,
                            accepted="'auto' or HOST:PORT of a running Ray head (ray start --head)") from None
    return ray, True


def run_ray(tasks: Iterable[Task], workers: int, address: str | None) -> Iterator[TaskResult]:
    """Ray tasks (retried by Ray up to 3 times if a worker dies), ``workers`` x 2 in flight."""
    if address is not None:
        check_ray_address(address)
    with stdout_to_stderr():
        ray, started = start_ray(workers, address)
        remote = ray.remote(max_retries=3, num_cpus=1)(evaluate_task)
        try:
            pending: list[Any] = []
            for task in tasks:
                pending.append(remote.remote(task))
                if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                    done, pending = ray.wait(pending, num_returns=1)
                    yield from _ray_get(ray, done)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield from _ray_get(ray, done)
        finally:
            if started:
                ray.shutdown()


def _ray_get(ray: Any, refs: list[Any]) -> list[TaskResult]:
    try:
        return list(ray.get(refs))
    except ray.exceptions.RayError as err:  # retries exhausted, a lost node, a dead cluster
        cause = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SpecError(f"Ray could not run a task ({type(err).__name__}: {cause}); committed rows are kept, "
                        "rerun to resume", source="backend", value="ray") from None


__all__ = ["BACKENDS", "check_ray_address", "die_with_parent", "run_local", "run_ray", "run_tasks", "start_ray",
           "stdout_to_stderr"]
