"""One layer as a graph of the streaming engine: per-core DMA engines and compute arrays on a shared link.

Per core (fold granularity, double-buffered SRAM, one DMA engine), two contexts of a
:class:`~acceldse.simulator.streaming.net.Net`:

* the DMA engine, for fold f, waits until fold f-2 is done (its buffer half is free:
  bounded buffers, back-pressure), writes fold f-2's outputs back, then loads fold f's
  inputs; the inputs are usable ``latency`` cycles after the transfer (when any bytes
  moved). At the end it drains the last two folds' outputs (plus latency).
* the compute array starts fold f when its inputs are ready and fold f-1 is done, and
  is busy ``cycles_per_fold`` cycles (the dataflow's exact per-fold cycles).

They talk through two channels (``ready``: inputs loaded, ``done``: fold computed). Every DMA
engine's transfers are work on one shared resource, the off-chip tier's link, processor-shared
among the transfers in flight, so several cores contend for bandwidth. With one core this is
exactly the analytical ``double_buffer_cycles`` recurrence, event by event.

Stall cycles of a core (idle array time) are split by cause, per idle gap before a fold:
``latency`` = the part covered by the tier latency after the transfer, ``capacity`` = the
cycles the DMA engine sat waiting for a free buffer half (back-pressure), ``bandwidth`` =
the rest (bytes on the link, including waiting behind other cores' transfers). The final
drain is latency then bandwidth. The three always sum to the stall cycles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from acceldse.simulator.streaming.net import Net, NetRun
from acceldse.simulator.streaming.trace import Track

_WRITE, _LOAD, _READY = 0, 1, 2


@dataclass
class CoreRun:
    """One core's part of a layer (cycles from the layer's start).

    Attributes:
        folds: folds this core ran.
        compute_cycles: folds x cycles per fold.
        end_cycles: when its last write-back landed (its total).
        stall_bandwidth_cycles, stall_latency_cycles, stall_capacity_cycles: idle array
            cycles by cause; they sum to ``end_cycles - compute_cycles``.
        tracks: its array's busy folds when recording.
    """

    folds: int
    compute_cycles: int
    end_cycles: float
    stall_bandwidth_cycles: float = 0.0
    stall_latency_cycles: float = 0.0
    stall_capacity_cycles: float = 0.0
    tracks: list[Track] = field(default_factory=list)


@dataclass
class LinkStats:
    """What a link did: cycles with at least one transfer, transfers, peak concurrency, and
    its DMA engines' transfers when recording."""

    busy_cycles: float = 0.0
    transfers: int = 0
    work_cycles: int = 0
    max_concurrency: int = 0
    tracks: list[Track] = field(default_factory=list)


@dataclass
class Link:
    """A tier link's part of a run: its name, whether one DMA engine had it alone, its stats."""

    name: str
    exclusive: bool
    stats: LinkStats


def link_of(run: NetRun, resource: int, name: str, exclusive: bool, tracks: list[Track] | None = None) -> Link:
    """The :class:`Link` view of one shared resource of a finished run."""
    return Link(name, exclusive, LinkStats(
        busy_cycles=float(run.resource_busy[resource]), transfers=int(run.resource_jobs[resource]),
        work_cycles=int(round(run.resource_work[resource])), max_concurrency=int(run.resource_peak[resource]),
        tracks=tracks or []))


def dma_program(load: np.ndarray, write: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A DMA engine's firings for ``n`` folds, as (kind, fold) arrays.

    Per fold f: write fold f-2 back (after fold f-2 is done; f >= 2), load fold f, signal
    fold f ready; then write back the last two folds."""
    n = load.shape[0]
    f = np.arange(n)
    kind = np.tile(np.array([_WRITE, _LOAD, _READY]), n)
    fold = np.stack([f - 2, f, f], axis=1).ravel()
    keep = fold >= 0
    tail = np.arange(max(n - 2, 0), n)
    return (np.concatenate([kind[keep], np.full(tail.size, _WRITE)]),
            np.concatenate([fold[keep], tail]))


@dataclass(frozen=True)
class FoldJob:
    """One layer's folds on ``len(loads)`` cores sharing one link.

    Attributes:
        loads, writes: per core, full-bandwidth link cycles of each fold's load and write-back.
        per_fold: array cycles of one fold, per core.
        latency: tier latency in cycles.
        link_name: the link's name (traces).
        shared: processor-share the link (``True``) or give each transfer the whole link
            (``False``, one core only); ``None``: shared for several cores.
    """

    loads: list[np.ndarray]
    writes: list[np.ndarray]
    per_fold: list[int]
    latency: int
    link_name: str = "dram"
    shared: bool | None = None


def run_fold_layer(loads: list[np.ndarray], writes: list[np.ndarray], per_fold: int | Sequence[int], latency: int, *,
                   record: bool = False, link_name: str = "dram",
                   shared: bool | None = None) -> tuple[list[CoreRun], Link]:
    """Run one layer's folds on ``len(loads)`` cores sharing one link (see :class:`FoldJob`).

    Returns:
        one ``CoreRun`` per core, and the link (its stats and spans).
    """
    if isinstance(per_fold, Sequence):
        folds_cycles = [int(p) for p in per_fold]
    else:
        folds_cycles = [int(per_fold)] * len(loads)
    if len(folds_cycles) != len(loads):
        raise ValueError('"per_fold" needs one value per core.')
    job = FoldJob(loads, writes, folds_cycles, latency, link_name, shared)
    net = Net(link_name)
    link, progs = add_fold_job(net, job)
    return collect_fold_job(net.run(record=True), job, link, progs, record)


FoldGraph = tuple[int, list[tuple[np.ndarray, np.ndarray, int, int]]]
"""A fold job added to a net: its link and, per core, the DMA program and the two context ids."""


def add_fold_job(net: Net, job: FoldJob, *, prefix: str = "", link: int | None = None) -> FoldGraph:
    """Add a layer's DMA engines and arrays to ``net`` (names prefixed ``prefix``), on ``link``
    (default: a link of its own)."""
    if link is None:
        link = net.resource(job.link_name, shared=job.shared)
    progs = []
    for c, (load, write, cyc) in enumerate(zip(job.loads, job.writes, job.per_fold)):
        n = load.shape[0]
        kind, fold = dma_program(load, write)
        if n == 0:
            progs.append((kind, fold, -1, -1))
            continue
        ready = net.channel(f"{prefix}ready{c}", capacity=n)
        done = net.channel(f"{prefix}done{c}", capacity=n)
        work = np.where(kind == _WRITE, write[fold], np.where(kind == _LOAD, load[fold], 0))
        dma = net.context(f"{prefix}dma{c}", kind.size, work=work.astype(np.float64), resource=link,
                          latency=np.where((kind == _READY) & (load[fold] > 0), float(job.latency), 0.0),
                          inputs=[(done, (kind == _WRITE).astype(np.int64))],
                          outputs=[(ready, (kind == _READY).astype(np.int64))])
        core = net.context(f"{prefix}core{c}", n, ii=float(cyc), latency=float(cyc), inputs=[(ready, 1)],
                           outputs=[(done, 1)])
        progs.append((kind, fold, dma, core))
    return link, progs


def collect_fold_job(run: NetRun, job: FoldJob, link: int, progs: list[tuple[np.ndarray, np.ndarray, int, int]],
                     record: bool = False) -> tuple[list[CoreRun], Link]:
    """One layer's cores (end, stalls by cause) and link from a run of its net."""
    runs = []
    tracks: list[Track] = []
    latency = job.latency
    for c, (load, write, cyc, (kind, fold, dma, core)) in enumerate(zip(job.loads, job.writes, job.per_fold, progs)):
        n = load.shape[0]
        if n == 0:
            runs.append(CoreRun(folds=0, compute_cycles=0, end_cycles=0.0))
            continue
        start, _ = run.times(core)
        d_start, d_end = run.times(dma)
        cap_wait = np.zeros(n)
        waits = np.nonzero((kind == _WRITE) & (np.arange(kind.size) < kind.size - min(n, 2)))[0]
        cap_wait[fold[waits] + 2] = d_start[waits] - d_end[waits - 1]
        wrote = bool(write[max(n - 2, 0):].sum() > 0)
        end = float(d_end[-1]) + (latency if wrote and latency else 0)
        run_c = CoreRun(folds=n, compute_cycles=n * cyc, end_cycles=end)
        _attribute(start, cap_wait, end, cyc, load, write, latency, run_c)
        if record:
            run_c.tracks = [fold_track(run, core, c, n)]
            tracks.append(dma_track(run, dma, c, kind, fold, job.link_name))
        runs.append(run_c)
    exclusive = len(job.loads) == 1 if job.shared is None else not job.shared
    return runs, link_of(run, link, job.link_name, exclusive, tracks)


def fold_track(run: NetRun, context: int, core: int, folds: int) -> Track:
    """The busy folds of core ``core``'s array (its context ``context``)."""
    return Track(f"core{core}", *run.busy(context), [f"fold {f}" for f in range(folds)], "compute")


def dma_track(run: NetRun, context: int, core: int, kind: np.ndarray, fold: np.ndarray, link: str) -> Track:
    """The transfers of core ``core``'s DMA engine (its context ``context``; firings ``kind``, ``fold``)."""
    names = ["write" if k == _WRITE else "load" for k in kind.tolist()]
    return Track(f"dma{core} ({link})", *run.busy(context), [f"{a} fold {f}" for a, f in zip(names, fold.tolist())],
                 "dma")


def _attribute(start: np.ndarray, cap_wait: np.ndarray, end_cycles: float, per_fold: int, load: np.ndarray,
               write: np.ndarray, latency: int, run: CoreRun) -> None:
    """Split the core's idle gaps into latency / capacity / bandwidth (vectorised)."""
    n = start.shape[0]
    prev_end = np.concatenate(([0.0], start[:-1] + per_fold))
    gap = np.maximum(start - prev_end, 0.0)
    lat = np.where(load > 0, float(latency), 0.0)
    lat_part = np.minimum(gap, lat)
    cap_part = np.minimum(gap - lat_part, cap_wait)
    bw_part = gap - lat_part - cap_part
    drain = max(end_cycles - (start[-1] + per_fold), 0.0)
    wrote = bool(write[max(n - 2, 0):].sum() > 0)
    drain_lat = min(drain, float(latency)) if wrote else 0.0
    run.stall_latency_cycles = float(lat_part.sum()) + drain_lat
    run.stall_capacity_cycles = float(cap_part.sum())
    run.stall_bandwidth_cycles = float(bw_part.sum()) + drain - drain_lat


def run_vector_layer(compute: int, load: int, store: int, latency: int, *, record: bool = False,
                     link_name: str = "dram") -> tuple[CoreRun, Link]:
    """A layer without MACs streamed through a vector unit while the DMA moves its operands.

    The DMA loads then stores after the first latency; the unit computes between the first
    inputs' and the last outputs' latency: total = max(compute, load + store) + 2 x latency
    (the analytical vector-layer rule).
    """
    total = float(max(compute, load + store) + 2 * latency)
    stall = total - compute
    lat_part = min(stall, 2.0 * latency)
    run = CoreRun(folds=0, compute_cycles=compute, end_cycles=total, stall_latency_cycles=lat_part,
                  stall_bandwidth_cycles=stall - lat_part)
    stats = LinkStats(busy_cycles=float(load + store), transfers=int(load > 0) + int(store > 0),
                      work_cycles=load + store, max_concurrency=int(load + store > 0))
    if record:
        run.tracks = [Track("core0", np.array([latency]), np.array([latency + compute]), "vector", "compute")]
        stats.tracks = [Track(f"dma0 ({link_name})", np.array([latency, latency + load]),
                              np.array([latency + load, latency + load + store]), ["load", "store"], "dma")]
    return run, Link(link_name, True, stats)


def ceil_cycles(value: float) -> int:
    """Whole cycles (contended runs end at fractional times)."""
    return int(math.ceil(value - 1e-9))
