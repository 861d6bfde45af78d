"""Running a sweep: plan the points, skip the stored ones, evaluate the rest, store each batch.

``run_sweep`` is the Python API behind ``acceldse sweep``. The parent process is the store's
only writer: finished batches are inserted together in one transaction every 0.5 s (or 5,000
rows), so a crash or ``kill -9`` loses at most the batches in flight and the last half second,
never a committed row, and a rerun of the same spec evaluates only the points not stored yet.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.store import ResultStore
from acceldse.sweep.backends import BACKENDS, run_tasks
from acceldse.sweep.points import SweepPlan, plan_sweep
from acceldse.sweep.spec import SweepSpec, load_sweep_spec
from acceldse.sweep.worker import Task, TaskResult
from acceldse.workloads.errors import SpecError

log = logging.getLogger(__name__)

POINTS_TABLE = "points"
LAYERS_TABLE = "layers"
ANALYTICAL_BATCH = 1000
SLOW_BATCH = 4
FLUSH_ROWS = 5000
FLUSH_SECONDS = 0.5
"""Finished batches are buffered and written together (one transaction) once this many rows
are waiting or this long has passed: a commit's fixed cost dominates small inserts."""


@dataclass
class SweepSummary:
    """What a sweep did.

    Attributes:
        points: points after sampling, constraints and de-duplication; sampled: drawn in total.
        skipped: failed a constraint; stored_before: already in the store (not re-run).
        evaluated: points run now; stored: rows now in the store's ``points`` table.
        failures: (point description, reason) per point that failed (not stored; a rerun retries it).
        plan_seconds, run_seconds: planning time and evaluation + store time.
    """

    store: Path
    backend: str
    workers: int
    points: int
    sampled: int
    skipped: int
    stored_before: int
    evaluated: int
    stored: int
    plan_seconds: float
    run_seconds: float
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def points_per_s(self) -> float:
        return self.evaluated / self.run_seconds if self.run_seconds > 0 else 0.0

    def __str__(self) -> str:
        lines = [
            f"sweep: {self.points} points ({self.sampled} sampled, {self.skipped} skipped by constraints), "
            f"{self.stored_before} already stored",
            f"evaluated {self.evaluated} points in {self.run_seconds:.2f} s ({self.points_per_s:,.0f} points/s, "
            f"{self.backend} backend, {self.workers} worker{'s' if self.workers > 1 else ''}; planning "
            f"{self.plan_seconds:.2f} s)",
            f"store: {self.store} ({self.stored} rows in table '{POINTS_TABLE}')",
        ]
        if self.failures:
            lines.append(f"failures: {len(self.failures)}")
            lines += [f"  {point}: {reason}" for point, reason in self.failures[:20]]
            if len(self.failures) > 20:
                lines.append(f"  ... and {len(self.failures) - 20} more")
        else:
            lines.append("failures: 0")
        return "\n".join(lines)


def make_tasks(plan: SweepPlan, rows: np.ndarray, batch_size: int) -> Iterator[Task]:
    """Batches of pending rows sharing workload, dataflow and fidelity.

    An analytical batch ships its designs as ``HardwareArrays`` (plain numbers, cheap to send);
    one at another fidelity ships the ``Accelerator`` objects."""
    from acceldse.simulator.systolic.hardware import HardwareArrays

    points = plan.points
    analytical = (points["fidelity"].to_numpy()[rows] == "analytical").any() if len(rows) else False
    arrays = HardwareArrays.of(plan.variants) if analytical else None
    frame = pd.DataFrame({"row": rows, "w": plan.workload[rows], "d": points["dataflow"].to_numpy()[rows],
                          "f": points["fidelity"].to_numpy()[rows]})
    for (w, d, f), group in frame.groupby(["w", "d", "f"], sort=False):
        size = batch_size if f == "analytical" else min(batch_size, SLOW_BATCH)
        group_rows = group["row"].to_numpy()
        for start in range(0, len(group_rows), size):
            chunk = group_rows[start:start + size]
            used, acc_index = np.unique(plan.variant[chunk], return_inverse=True)
            accs: list[Any] | HardwareArrays = [plan.variants[int(v)] for v in used]
            if f == "analytical" and arrays is not None:
                accs = arrays.take(used)
            yield Task(rows=chunk, workload=plan.workloads[int(w)], dataflow=str(d), fidelity=str(f),
                       accs=accs, acc_index=acc_index.ravel(), layers=plan.spec.layers)


def run_sweep(spec: str | Path | dict[str, Any] | SweepSpec, store: str | Path = "results.duckdb", *,
              backend: str = "local", workers: int = 1, address: str | None = None, batch_size: int | None = None,
              progress: bool | None = None) -> SweepSummary:
    """Evaluate every point of a sweep spec into a DuckDB result store (resumable).

    Args:
        spec: a sweep spec (YAML path or text, a mapping, or a ``SweepSpec``).
        store: the ``.duckdb`` file; created if missing, points already in it are skipped.
        backend: ``local`` (process pool) or ``ray``; workers: processes (Ray CPUs for a local Ray).
        address: a Ray cluster (``auto`` or ``HOST:PORT``); default: start a local Ray instance.
        batch_size: points per task (default: 1000 analytical, 4 otherwise, fewer for small sweeps).
        progress: show a progress bar (default: when stderr is a terminal).

    Returns:
        a ``SweepSummary``; the rows are in ``ResultStore(store).read("points")``.
    """
    if backend not in BACKENDS:
        raise SpecError("unknown backend", source="--backend", value=backend, accepted=" | ".join(BACKENDS))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError("must be an integer >= 1", source="--workers", value=workers)
    if address is not None and backend != "ray":
        raise SpecError("--address needs --backend ray", source="--address", value=address)
    started = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    with ResultStore(store) as db:
        spec = spec if isinstance(spec, SweepSpec) else load_sweep_spec(spec)
        plan = plan_sweep(spec, progress=show)
        done = db.keys(POINTS_TABLE)
        pending = np.flatnonzero(~plan.points["point_id"].isin(done).to_numpy())
        plan_seconds = time.perf_counter() - started
        size = batch_size or max(1, min(ANALYTICAL_BATCH, -(-len(pending) // (4 * workers))))
        failures: list[tuple[str, str]] = []
        from tqdm import tqdm

        t0 = time.perf_counter()
        with tqdm(total=len(pending), unit="pt", disable=not show, smoothing=0.1, dynamic_ncols=True) as bar:
            writer = _BufferedWriter(db, plan, len(pending))
            try:
                for result in run_tasks(make_tasks(plan, pending, size), backend=backend, workers=workers,
                                        address=address):
                    writer.add(result)
                    failures += [(_point_text(plan, row), reason) for row, reason in result.failures]
                    bar.update(len(result.rows) + len(result.failures))
            finally:
                writer.flush()
        run_seconds = time.perf_counter() - t0
        stored = db.count(POINTS_TABLE) if POINTS_TABLE in db.tables() else 0
    return SweepSummary(store=Path(store), backend=backend, workers=workers, points=len(plan.points),
                        sampled=plan.sampled, skipped=plan.skipped, stored_before=len(plan.points) - len(pending),
                        evaluated=len(pending) - len(failures), stored=stored, plan_seconds=plan_seconds,
                        run_seconds=run_seconds, failures=failures)


class _BufferedWriter:
    """Collects finished batches and inserts them into the store in one transaction per flush."""

    def __init__(self, db: ResultStore, plan: SweepPlan, pending: int) -> None:
        self.db, self.plan, self.pending = db, plan, pending
        self.frames: list[pd.DataFrame] = []
        self.layer_frames: list[pd.DataFrame] = []
        self.rows = self.done = 0
        self.last = time.perf_counter()

    def add(self, result: TaskResult) -> None:
        self.done += len(result.rows) + len(result.failures)
        if len(result.rows):
            points = self.plan.points.iloc[result.rows].reset_index(drop=True)
            self.frames.append(pd.concat([points, result.totals], axis=1))
            self.rows += len(result.rows)
        if result.layers is not None and len(result.layers):
            self.layer_frames.append(self._layer_rows(result.layers))
        if self.rows >= FLUSH_ROWS or time.perf_counter() - self.last >= FLUSH_SECONDS:
            self.flush()

    def _layer_rows(self, layers: pd.DataFrame) -> pd.DataFrame:
        """Key each layer row by its point: ``layer_id`` = point id : position in the network."""
        rows = layers.pop("row").to_numpy()
        point_ids = self.plan.points["point_id"].to_numpy()[rows]
        position = layers.groupby(rows, sort=False).cumcount().to_numpy()
        layers.insert(0, "layer_index", position)
        layers.insert(0, "point_id", point_ids)
        layers.insert(0, "layer_id", [f"{p}:{i}" for p, i in zip(point_ids, position)])
        return layers

    def flush(self) -> None:
        """One transaction: the buffered points and, with ``layers: true``, their layer rows."""
        if self.frames:
            frames = {POINTS_TABLE: pd.concat(self.frames, ignore_index=True)}
            keys = {POINTS_TABLE: "point_id"}
            if self.layer_frames:
                frames[LAYERS_TABLE] = pd.concat(self.layer_frames, ignore_index=True)
                keys[LAYERS_TABLE] = "layer_id"
            added = self.db.insert_many(frames, keys)[POINTS_TABLE]
            log.info("committed %d points (%d of %d done)", added, self.done, self.pending)
        self.frames, self.layer_frames, self.rows, self.last = [], [], 0, time.perf_counter()


def _point_text(plan: SweepPlan, row: int) -> str:
    point = plan.points.iloc[row]
    return point["point_id"] + " {" + ", ".join(f"{k}: {point[k]!r}" for k in plan.spec.axes) + "}"


__all__ = ["LAYERS_TABLE", "POINTS_TABLE", "SweepSummary", "make_tasks", "run_sweep"]
