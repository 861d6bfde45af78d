"""Every MAC layer of a table as a job of the engine: its folds dealt to arrays, and its rows' times.

``mac_jobs`` lowers the MAC layers of a network under each dataflow to fold schedules (``systolic``'s
kernels) and deals each layer's folds to ``cores`` identical arrays in contiguous chunks, or splits it
over different arrays (``simulator.event.arrays``): the ``Folds`` the engine runs
(``engine.run_folds``). ``layer_times`` turns the runs' ends and stalls into each table row's cycles
and stalls by cause.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.event.arrays import split_layer
from acceldse.simulator.event.engine import Folds, transfer_cycles_array
from acceldse.simulator.specs.accelerator import Accelerator, SystolicArray
from acceldse.simulator.systolic.batch import NetworkCases, lower_layer, network_cases
from acceldse.simulator.systolic.hardware import HardwareArrays
from acceldse.simulator.systolic.kernels import N_OUT, Out
from acceldse.simulator.systolic.layer_kernels import N_CASE, case_fold_counts, fold_schedules
from acceldse.workloads.layer import Layer


@dataclass(frozen=True)
class MacJobs:
    """Every distinct MAC layer of a table as a job of the engine (on a link of its own).

    Attributes:
        folds: the jobs' folds (``Folds``; a run per array the job's folds were dealt to).
        counts: per job, its ``Out`` counts (no time).
        array_cycles: per run, the array's own cycles per fold (without the SRAM tier's pace).
        row_job: per (dataflow, layer) row, its job (-1: a layer without MACs).
        alone: per run of a job, the run that is it alone on a link (itself when the job has one run;
            ``mac_jobs(alone=True)``: jobs after the first ``len(counts)`` are those copies).
    """

    folds: Folds
    counts: np.ndarray
    array_cycles: np.ndarray
    row_job: np.ndarray
    alone: np.ndarray


def mac_jobs(layers: Sequence[Layer], dataflows: Sequence[Dataflow], acc: Accelerator, *, cores: int = 1,
             arrays: Sequence[SystolicArray] | None = None, cases: NetworkCases | None = None,
             hw: HardwareArrays | None = None, alone: bool = False) -> MacJobs:
    """The MAC layers of ``layers`` under each of ``dataflows`` (``cases``: their ``network_cases``) as jobs:
    each layer's folds dealt to ``cores`` copies of ``acc``'s array (``hw``: its hardware columns) in
    contiguous chunks, or split over different ``arrays`` (each its own sub-layer's fold schedule); with
    ``alone``, every run of a job with several runs also as a job of its own, alone on a link."""
    nc = cases or network_cases(layers, dataflows)
    m = len(nc.mac_cases)
    if arrays is None:  # one part: every case on the array, chunked over the cores
        parts = [((hw or HardwareArrays.of([acc], area=False)).matrix[0], nc.mac_cases, np.arange(m), cores)]
    else:  # one part per array: its sub-layer of every case it has a share of, the whole sub-layer
        rows = np.flatnonzero(nc.lowered < m)
        first = rows[np.unique(nc.lowered[rows], return_index=True)[1]].tolist()
        subs = [split_layer(layers[r % len(layers)], arrays) for r in first]
        flows = [dataflows[r // len(layers)] for r in first]
        own = HardwareArrays.of([dataclasses.replace(acc, array=a, cores=1) for a in arrays], area=False).matrix
        parts = []
        for a in range(len(arrays)):
            job = np.array([j for j, sub in enumerate(subs) if sub[a] is not None], np.int64)
            parts.append((own[a], np.array([lower_layer(subs[j][a], flows[j]) for j in job.tolist()],
                                            np.int64).reshape(-1, N_CASE), job, 1))
    counts, weighted = np.zeros((m, N_OUT)), np.zeros(m)
    loads, writes, runs, offset = [], [], [], 0
    for p, (h, mac_cases, job, k) in enumerate(parts):
        folds = np.zeros(len(mac_cases), np.int64)
        case_fold_counts(mac_cases, h, folds)
        start = np.concatenate(([0], np.cumsum(folds))).astype(np.int64)
        load, write = np.empty(int(start[-1])), np.empty(int(start[-1]))
        part, cycles = np.zeros((len(mac_cases), N_OUT)), np.zeros((len(mac_cases), 2), np.int64)
        fold_schedules(mac_cases, h, start, load, write, part, cycles)
        counts[job] += part
        weighted[job] += part[:, Out.MAPPING_EFFICIENCY] * part[:, Out.FOLDS]
        runs.append(deal_folds(folds, start, cycles, job, k, p, offset))
        loads.append(load)
        writes.append(write)
        offset += len(load)
    if arrays is not None:  # a job's sub-layers' counts summed; their mapping efficiency weighted by folds
        counts[:, Out.MAPPING_EFFICIENCY] = weighted / counts[:, Out.FOLDS]
    run, load, write = runs[0], loads[0], writes[0]  # one part: its runs and folds are in order
    if len(parts) > 1:
        run = np.concatenate(runs, axis=1)
        run = run[:, np.lexsort((run[1], run[0]))]  # job after job, its arrays in order
        take = np.repeat(run[3] - (np.cumsum(run[2]) - run[2]), run[2]) + np.arange(int(run[2].sum()))
        load, write = np.concatenate(loads)[take], np.concatenate(writes)[take]
    run, alone_of, take, core, users = alone_runs(run, m, alone)
    if len(take):  # every run of a job with several runs again, as a job of its own alone on a link
        load, write = np.concatenate([load, load[take]]), np.concatenate([write, write[take]])
    dram = acc.dram
    fs = Folds(transfer_cycles_array(load, dram.read_bw_bytes_per_cycle),
               transfer_cycles_array(write, dram.write_bw_bytes_per_cycle), run[2], run[0], core,
               run[4].astype(np.float64), np.full(len(users), float(dram.latency_cycles)), users > 1,
               [dram.name] * len(users), users.tolist())
    # the array's own cycles per fold (the SRAM tier's pace is a stall); different arrays: the paced ones
    return MacJobs(fs, counts, run[5] if arrays is None else run[4], np.where(nc.lowered < m, nc.lowered, -1),
                   alone_of)


@njit(cache=True)
def deal_folds(folds: np.ndarray, start: np.ndarray, cycles: np.ndarray, job: np.ndarray, cores: int, part: int,
               offset: int) -> np.ndarray:
    """Case ``i``'s ``folds[i]`` folds (from ``offset + start[i]`` of the fold list) dealt to ``cores`` arrays in
    contiguous chunks, the larger first: per chunk with folds a run (job, part, folds, first fold, paced and
    the array's own cycles per fold: ``cycles[i]``), as the columns of a (6, runs) array."""
    size = np.empty((folds.shape[0], cores), np.int64)
    for i in range(folds.shape[0]):
        for c in range(cores):
            size[i, c] = folds[i] // cores + (c < folds[i] % cores)
    run = np.empty((6, np.count_nonzero(size)), np.int64)
    r = 0
    for i in range(folds.shape[0]):
        first = offset + start[i]
        for c in range(cores):
            if size[i, c]:
                run[0, r], run[1, r], run[2, r], run[3, r] = job[i], part, size[i, c], first
                run[4, r], run[5, r] = cycles[i, 0], cycles[i, 1]
                first += size[i, c]
                r += 1
    return run


@njit(cache=True)
def alone_runs(run: np.ndarray, m: int, alone: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """``run`` (``deal_folds``'s columns, job after job, folds in run order) with, when ``alone``, every run of
    a job with several runs again as a job of its own (``m + k`` for the k-th such run), alone on a link.

    Returns the runs, per first run the run that is it alone (itself when its job has one run), the folds
    the copies take (in fold order), per run its core within its job, per job its runs."""
    count = np.bincount(run[0], minlength=m)
    copies = 0
    for r in range(run.shape[1]):
        if alone and count[run[0, r]] > 1:
            copies += 1
    out = np.empty((6, run.shape[1] + copies), np.int64)
    out[:, :run.shape[1]] = run
    alone_of = np.arange(run.shape[1])
    take = np.empty(np.sum(run[2]) if copies else 0, np.int64)
    k, t, first = 0, 0, 0
    for r in range(run.shape[1]):
        if alone and count[run[0, r]] > 1:
            out[:, run.shape[1] + k] = run[:, r]
            out[0, run.shape[1] + k] = m + k
            alone_of[r] = run.shape[1] + k
            for f in range(run[2, r]):
                take[t] = first + f
                t += 1
            k += 1
        first += run[2, r]
    users = np.bincount(out[0])
    core = np.empty(out.shape[1], np.int64)
    seen = np.zeros(users.shape[0], np.int64)
    for r in range(out.shape[1]):
        core[r] = seen[out[0, r]]
        seen[out[0, r]] += 1
    return out, alone_of, take[:t], core, users


@njit(cache=True)
def layer_times(end: np.ndarray, latency: np.ndarray, capacity: np.ndarray, bandwidth: np.ndarray, job: np.ndarray,
                n: np.ndarray, cycles: np.ndarray, m: int, alone: np.ndarray, array_cycles: np.ndarray,
                vec_end: np.ndarray, vec_compute: np.ndarray, dram_latency: int, sram_latency: int,
                lowered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total and compute cycles of every lowered layer, and per table row (``lowered``) its stalls by cause
    (bandwidth, latency, capacity, contention).

    A MAC layer (job ``j < m``, its runs' ``end`` and stalls by cause from ``run_folds``; its shared runs are the
    first ``len(alone)``) ends when its last run does, plus the SRAM latency; its critical run (the first that
    ends last) alone on the link (``alone``) gives its compute cycles (the array's own, ``array_cycles``) and
    stalls; the cycles sharing adds are contention; rounding a fractional end up, and the cycles the SRAM
    tier's pace adds to the array's own, go to bandwidth. A layer without MACs (``vec_end``, ``vec_compute``:
    the vector unit) stalls for latency up to twice the DRAM latency, the rest bandwidth."""
    n_vec = vec_end.shape[0]
    job_end = np.full(m, -np.inf)
    crit = np.full(m, alone.shape[0])
    for i in range(alone.shape[0]):
        job_end[job[i]] = max(job_end[job[i]], end[i])
    for i in range(alone.shape[0]):
        if end[i] == job_end[job[i]] and i < crit[job[i]]:
            crit[job[i]] = i
    total, compute, stalls = np.empty(m + n_vec, np.int64), np.empty(m + n_vec, np.int64), np.empty((4, m + n_vec))
    for j in range(m + n_vec):
        sram = sram_latency if j < m else 0
        if j < m:
            if crit[j] == alone.shape[0]:   # bounds are not checked in a kernel: never read past ``alone``
                raise ValueError("event fidelity: a MAC layer without a run")
            a = alone[crit[j]]
            finish, crit_end, work = job_end[j] + sram, end[a], n[a] * array_cycles[crit[j]]
            crit_work, bw, lat, cap = np.int64(n[a] * cycles[a]), bandwidth[a], latency[a], capacity[a]
        else:
            finish, crit_end, work = vec_end[j - m] + sram, vec_end[j - m], vec_compute[j - m]
            stall = vec_end[j - m] - vec_compute[j - m]
            lat = 2.0 * dram_latency if 2.0 * dram_latency < stall else stall
            crit_work, bw, cap = work, stall - lat, 0.0
        over = finish - crit_end - sram
        contention = over if over > 0.0 else 0.0
        total[j], compute[j] = np.int64(np.ceil(finish - 1e-9)), work
        stalls[0, j] = bw + contention + (total[j] - finish) + (crit_work - work)
        stalls[1, j], stalls[2, j], stalls[3, j] = lat + sram, cap, contention
    return total, compute, stalls[:, lowered]
