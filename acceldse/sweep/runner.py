"""Running a sweep: plan the points, skip the stored ones, evaluate the rest, store each batch.

``run_sweep`` is the Python API behind ``acceldse sweep``. The parent process is the store's
only writer: finished batches are inserted together in one transaction every 0.5 s (or 5,000
rows), so a crash or ``kill -9`` loses at most the batches in flight and the last half second,
never a committed row, and a rerun of the same spec evaluates only the points not stored yet.

The store's ``sweeps`` table records each sweep (by name) with its resolved spec: the base
hardware by content, the workloads (files by content), parameters, axes, sampling, constraints
and the acceldse version. Resuming a sweep whose spec changed in any of these is refused, naming
what changed: its rows would mix with the earlier ones (a new ``name:`` adds it as another sweep).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.store import ResultStore, acceldse_version, check_store_path
from acceldse.sweep.backends import BACKENDS, check_ray_address, run_tasks
from acceldse.sweep.points import SweepPlan, check_plan_memory, content_sha256, plan_sweep
from acceldse.sweep.spec import SweepSpec, load_sweep_spec
from acceldse.sweep.worker import Task, TaskResult
from acceldse.workloads.errors import SpecError

log = logging.getLogger(__name__)

POINTS_TABLE = "points"
LAYERS_TABLE = "layers"
SWEEPS_TABLE = "sweeps"
LAYER_ROW_BYTES = 350
"""Store bytes per ``layers`` row (~7 KB per ResNet-18 point of 21 layers), for the up-front disk check."""
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

    @property
    def rate_text(self) -> str:
        """``points_per_s`` as printed: 3 significant digits below 100 (``0.412 points/s``), none when nothing
        was evaluated (every point already stored)."""
        if self.evaluated == 0 or self.run_seconds <= 0:
            return "nothing evaluated"
        rate = self.points_per_s
        return f"{rate:,.0f} points/s" if rate >= 100 else f"{rate:.3g} points/s"

    def __str__(self) -> str:
        lines = [
            f"sweep: {self.points} points ({self.sampled} sampled, {self.skipped} skipped by constraints), "
            f"{self.stored_before} already stored",
            f"evaluated {self.evaluated} points in {self.run_seconds:.3g} s ({self.rate_text}, "
            f"{self.backend} backend, {self.workers} worker{'s' if self.workers > 1 else ''}; planning "
            f"{self.plan_seconds:.3g} s)",
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


def default_max_memory() -> int:
    """Half the machine's physical memory, in bytes (the planning limit without ``--max-memory``)."""
    import os

    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def spec_parts(spec: SweepSpec) -> dict[str, Any]:
    """What a sweep's rows mean, part by part (a resume must match every part)."""
    workloads = spec.axes.get("workload", [])
    files = {str(w): hashlib.sha256(Path(str(w)).read_bytes()).hexdigest() for w in workloads
             if Path(str(w)).is_file()}
    return {"hardware": spec.hardware_name, "hardware content": content_sha256(spec.hardware),
            "acceldse version": acceldse_version(), "workload files": files, "params": spec.params,
            "axes": {k: [str(v) for v in vals] for k, vals in spec.axes.items()},
            "sample": [spec.sample, spec.samples, spec.seed], "constraints": [c.text for c in spec.constraints],
            **({"workload params": spec.workload_params} if spec.workload_params else {}),
            **({"zip": [list(g) for g in spec.links]} if spec.links else {})}


def check_resume(db: ResultStore, spec: SweepSpec) -> dict[str, Any]:
    """Refuse to resume sweep ``spec.name`` from a different spec; returns the row recording it."""
    parts = spec_parts(spec)
    text = json.dumps(parts, sort_keys=True, default=str)
    row = {"name": spec.name, "spec_sha256": hashlib.sha256(text.encode()).hexdigest(), "spec": text,
           "hardware": spec.hardware_name, "hardware_sha256": parts["hardware content"],
           "acceldse_version": parts["acceldse version"]}
    if SWEEPS_TABLE in db.tables():
        stored = db.query(f"SELECT spec_sha256, spec FROM {SWEEPS_TABLE} WHERE name = ?", [spec.name])
        if len(stored) and stored["spec_sha256"].iloc[0] != row["spec_sha256"]:
            before = json.loads(stored["spec"].iloc[0])
            changed = [k for k in parts if json.dumps(before.get(k), sort_keys=True, default=str)
                       != json.dumps(parts[k], sort_keys=True, default=str)] or ["the spec"]
            raise SpecError(f"the store already holds sweep {spec.name!r} from a different spec ({', '.join(changed)} "
                            "changed); resuming would mix its rows with these", source=str(db.path),
                            accepted="the same spec to resume it, a new store, or a new 'name:' in the spec to add "
                                     "it as another sweep")
    return row


def run_sweep(spec: str | Path | dict[str, Any] | SweepSpec, store: str | Path = "results.duckdb", *,
              backend: str = "local", workers: int = 1, address: str | None = None, batch_size: int | None = None,
              progress: bool | None = None, max_memory_gib: float | None = None) -> SweepSummary:
    """Evaluate every point of a sweep spec into a DuckDB result store (resumable).

    Args:
        spec: a sweep spec (YAML path or text, a mapping, or a ``SweepSpec``).
        store: the ``.duckdb`` file; created if missing, points already in it are skipped.
        backend: ``local`` (process pool) or ``ray``; workers: processes (Ray CPUs for a local Ray).
        address: a Ray cluster (``auto`` or ``HOST:PORT``); default: start a local Ray instance.
        batch_size: points per task (default: 1000 analytical, 4 otherwise, fewer for small sweeps).
        progress: show a progress bar (default: when stderr is a terminal).
        max_memory_gib: refuse a plan estimated to need more (default: half the physical memory).

    Raises:
        SpecError: bad input, a plan over the memory limit, a store without room for the layer rows,
            a store holding this sweep from a different spec, a dead Ray address, a storage fault.

    Returns:
        a ``SweepSummary``; the rows are in ``ResultStore(store).read("points")``.
    """
    if backend not in BACKENDS:
        raise SpecError("unknown backend", source="backend", value=backend, accepted=" | ".join(BACKENDS))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError("must be an integer >= 1", source="workers", value=workers)
    if address is not None and backend != "ray":
        raise SpecError("an address needs backend='ray'", source="address", value=address)
    if max_memory_gib is not None and (isinstance(max_memory_gib, bool) or not max_memory_gib > 0):
        raise SpecError("must be a number of GiB > 0", source="max_memory_gib", value=max_memory_gib)
    started = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    check_store_path(store, create=True)
    spec = spec if isinstance(spec, SweepSpec) else load_sweep_spec(spec)
    limit = int(max_memory_gib * 2**30) if max_memory_gib is not None else default_max_memory()
    check_plan_memory(spec, limit)
    if backend == "ray" and address is not None:
        check_ray_address(address)  # before any work: a dead address is refused in seconds
    created = not Path(store).exists()
    with ResultStore(store) as db:
        try:
            record = check_resume(db, spec)
            plan = plan_sweep(spec, progress=show)
            _check_disk(plan, Path(store))
        except BaseException:
            if created:
                db.discard_if_empty()
            raise
        done = db.keys(POINTS_TABLE)
        missing = ~plan.points["point_id"].isin(done).to_numpy()
        if spec.layers:  # points stored without their layer rows (an earlier run without layers: true)
            missing |= ~plan.points["point_id"].isin(db.keys(LAYERS_TABLE, "point_id")).to_numpy()
        pending = np.flatnonzero(missing)
        db.insert(SWEEPS_TABLE, pd.DataFrame([record]), key="name")
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


def _check_disk(plan: SweepPlan, store: Path) -> None:
    """With ``layers: true``, refuse a sweep whose layer rows will not fit the store's disk."""
    import shutil

    if not plan.spec.layers:
        return
    rows = sum(len(plan.networks[w].layers) for w in plan.workload)
    need = rows * LAYER_ROW_BYTES
    free = shutil.disk_usage(store.resolve().parent).free
    if need > free:
        raise SpecError(f"layers: true stores {rows:,} layer rows, about {need / 2**30:.1f} GiB, more than the "
                        f"{free / 2**30:.1f} GiB free on the store's disk", source=plan.spec.source, key="layers",
                        value=True, accepted="layers: false, fewer points, or a store on a disk with room")


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
            schemas = {POINTS_TABLE: self.plan.schema}
            added = self.db.insert_many(frames, keys, schemas)[POINTS_TABLE]
            log.info("committed %d points (%d of %d done)", added, self.done, self.pending)
        self.frames, self.layer_frames, self.rows, self.last = [], [], 0, time.perf_counter()


def _point_text(plan: SweepPlan, row: int) -> str:
    point = plan.points.iloc[row]
    return point["point_id"] + " {" + ", ".join(f"{k}: {point[k]!r}" for k in plan.spec.axes) + "}"


__all__ = ["LAYERS_TABLE", "POINTS_TABLE", "SWEEPS_TABLE", "SweepSummary", "check_resume", "make_tasks",
           "run_sweep", "spec_parts"]
