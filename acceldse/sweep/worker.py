"""What a worker runs: one task = a batch of points sharing workload, dataflow and fidelity.

Workers never touch the result store: they return the totals of the points they evaluated
(and the reason for each point that failed) to the parent, the store's only writer. The
analytical fidelity goes through the batched path (``simulator.systolic.batch``: one numba
pass over the whole batch, no DataFrame per point); event and cycle fidelities call
``acceldse.simulate`` per point.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.systolic.batch import TOTAL_COLUMNS, NetworkCases
from acceldse.simulator.systolic.hardware import HardwareArrays

log = logging.getLogger(__name__)

_NETWORKS: dict[str, Any] = {}
_CASES: dict[tuple[str, str], NetworkCases] = {}


@dataclass(frozen=True)
class Task:
    """A batch of points for one worker.

    Attributes:
        rows: the points' row numbers in the plan (returned with the results).
        workload: (name, zoo params); dataflow; fidelity.
        accs: the distinct designs of the batch: their ``HardwareArrays`` (analytical), else the
            ``Accelerator`` objects; acc_index: which one each point uses.
        layers: also return every point's per-layer rows.
    """

    rows: np.ndarray
    workload: tuple[str, dict[str, Any]]
    dataflow: str
    fidelity: str
    accs: list[Accelerator] | HardwareArrays
    acc_index: np.ndarray
    layers: bool = False


@dataclass
class TaskResult:
    """Totals of the points that ran (``rows`` in the same order), ``(row, reason)`` per failure and,
    when asked, their per-layer rows (column ``row`` names the point, layers in network order)."""

    rows: np.ndarray
    totals: pd.DataFrame
    failures: list[tuple[int, str]] = field(default_factory=list)
    layers: pd.DataFrame | None = None


def _network(workload: tuple[str, dict[str, Any]]) -> Any:
    key = json.dumps(workload, sort_keys=True, default=str)
    if key not in _NETWORKS:
        from acceldse.api import resolve_workload

        _NETWORKS[key] = resolve_workload(workload[0], **workload[1])
    return _NETWORKS[key]


def evaluate_task(task: Task) -> TaskResult:
    """Evaluate every point of ``task``; a failing point is reported, never raised."""
    if task.fidelity == "analytical":  # batched: one pass over the whole task
        try:
            return _analytical(task)
        except Exception as err:  # noqa: BLE001 - fall back to one point at a time to name each failure
            reason = f"{type(err).__name__}: {err}"
            if isinstance(task.accs, HardwareArrays):  # no objects to simulate one by one: the batch fails together
                return TaskResult(rows=np.zeros(0, dtype=np.int64),
                                  totals=pd.DataFrame(columns=list(TOTAL_COLUMNS)),
                                  failures=[(int(row), reason) for row in task.rows])
            log.warning("batched evaluation failed (%s); evaluating the task point by point", reason)
    return _one_by_one(task)


def _analytical(task: Task) -> TaskResult:
    from acceldse.dataflows.dataflow import resolve_dataflows
    from acceldse.simulator.systolic.batch import layer_frame, network_cases, network_layer_arrays, totals_from_arrays
    from acceldse.simulator.systolic.jit import compile_kernels

    compile_kernels()  # a sweep runs thousands of designs: numba's kernels from the first batch
    net = _network(task.workload)
    (flow,) = resolve_dataflows(task.dataflow)
    key = (json.dumps(task.workload, sort_keys=True, default=str), task.dataflow)
    if key not in _CASES:
        _CASES[key] = network_cases(net, flow)
    arrays = network_layer_arrays(net, task.accs, flow, _CASES[key])
    totals = totals_from_arrays(arrays).iloc[task.acc_index].reset_index(drop=True)
    layers = None
    if task.layers:  # each point's block of the per-design table, in point order
        n = len(net.layers)
        per_design = layer_frame(net, arrays, task.dataflow).drop(columns="design")
        pick = (task.acc_index[:, None] * n + np.arange(n)[None, :]).ravel()
        layers = per_design.iloc[pick].reset_index(drop=True)
        layers.insert(0, "row", np.repeat(task.rows, n))
    return TaskResult(rows=task.rows, totals=totals, layers=layers)


def _one_by_one(task: Task) -> TaskResult:
    from acceldse.api import simulate

    ok, rows, failures, layers = [], [], [], []
    for row, i in zip(task.rows, task.acc_index):
        try:
            net = _network(task.workload)
            result = simulate(net, task.accs[i], task.dataflow, fidelity=task.fidelity)  # type: ignore[index, arg-type]
            totals = result.totals
            ok.append(totals[[c for c in TOTAL_COLUMNS if c in totals]].iloc[0])
            rows.append(row)
            if task.layers:
                layers.append(result.layers.assign(row=int(row)))
        except Exception as err:  # noqa: BLE001 - a failing point is a result, not a crash
            failures.append((int(row), f"{type(err).__name__}: {err}"))
    frame = pd.DataFrame(ok).reset_index(drop=True) if ok else pd.DataFrame(columns=list(TOTAL_COLUMNS))
    return TaskResult(rows=np.asarray(rows, dtype=np.int64), totals=frame, failures=failures,
                      layers=pd.concat(layers, ignore_index=True) if layers else None)


__all__ = ["Task", "TaskResult", "evaluate_task"]
