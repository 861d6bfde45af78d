"""Where tasks run: a local process pool (default) or Ray (a local instance or a cluster).

Both backends take an iterable of tasks and yield ``TaskResult``s as they complete, keeping
only a few tasks in flight per worker so memory stays flat on sweeps of any size. Neither
touches the result store; the caller (one process) writes what they yield.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from acceldse.sweep.worker import Task, TaskResult, evaluate_task
from acceldse.workloads.errors import SpecError

BACKENDS = ("local", "ray")
IN_FLIGHT_PER_WORKER = 2


def run_tasks(tasks: Iterable[Task], *, backend: str = "local", workers: int = 1,
              address: str | None = None) -> Iterator[TaskResult]:
    """Evaluate ``tasks`` on ``backend`` with ``workers`` processes; yields results as they finish."""
    if backend == "local":
        return run_local(tasks, workers)
    if backend == "ray":
        return run_ray(tasks, workers, address)
    raise SpecError("unknown backend", source="--backend", value=backend, accepted=" | ".join(BACKENDS))


def run_local(tasks: Iterable[Task], workers: int) -> Iterator[TaskResult]:
    """One worker: in this process. More: a process pool (fork, so workers start warm)."""
    if workers == 1:
        for task in tasks:
            yield evaluate_task(task)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
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
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def start_ray(workers: int, address: str | None = None) -> tuple[Any, bool]:
    """Connect to Ray: the running instance, the cluster at ``address``, or a new local one with
    ``workers`` CPUs. Returns (the ray module, whether this call started it)."""
    try:
        import ray
    except ImportError:
        raise SpecError("the Ray backend needs Ray", source="--backend", value="ray",
                        accepted="pip install 'acceldse[sweep]', or --backend local") from None
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
            raise SpecError(f"cannot connect to the Ray cluster: {err}", source="--address", value=address,
                            accepted="'auto' or HOST:PORT of a running Ray head (ray start --head)") from None
    return ray, True


def run_ray(tasks: Iterable[Task], workers: int, address: str | None) -> Iterator[TaskResult]:
    """Ray tasks (retried by Ray up to 3 times if a worker dies), ``workers`` x 2 in flight."""
    ray, started = start_ray(workers, address)
    remote = ray.remote(max_retries=3, num_cpus=1)(evaluate_task)
    try:
        pending: list[Any] = []
        for task in tasks:
            pending.append(remote.remote(task))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                done, pending = ray.wait(pending, num_returns=1)
                yield from ray.get(done)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done)
    finally:
        if started:
            ray.shutdown()


__all__ = ["BACKENDS", "run_local", "run_ray", "run_tasks", "start_ray"]
