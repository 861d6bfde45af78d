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
exactly the analytical ``double_buffer_cycles`` recurrence, event by event. Every layer of a
table is built at once with array operations (one flat net, one kernel call, no per-core Python).

Stall cycles of a core (idle array time) are split by cause, per idle gap before a fold:
``latency`` = the part covered by the tier latency after the transfer, ``capacity`` = the
cycles the DMA engine sat waiting for a free buffer half (back-pressure), ``bandwidth`` =
the rest (bytes on the link, including waiting behind other cores' transfers). The final
drain is latency then bandwidth. The three always sum to the stall cycles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from acceldse.simulator.streaming.flat import EPS_WORK, FlatNet, NetRun, run_flat
from acceldse.simulator.streaming.kernels import run_net
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
    """What a link did: its transfers' full-bandwidth cycles and, when recording, its DMA engines' transfers."""

    work_cycles: int = 0
    tracks: list[Track] = field(default_factory=list)


@dataclass
class Link:
    """A tier link's part of a run: its name, whether one DMA engine had it alone, its stats."""

    name: str
    exclusive: bool
    stats: LinkStats


def transfer_cycles_array(nbytes: np.ndarray, bw_bytes_per_cycle: float) -> np.ndarray:
    """Full-bandwidth link cycles of each transfer: ``ceil(bytes / bw)`` (0 for no bytes), int64;
    the analytical model's rounding (``systolic.fold_time._ceil_div``), so one core reproduces it."""
    if not bw_bytes_per_cycle > 0:
        raise ValueError('"bw_bytes_per_cycle" must be > 0.')
    return _transfer_cycles(np.asarray(nbytes, dtype=np.float64).reshape(-1), float(bw_bytes_per_cycle))


@njit(cache=True)
def _transfer_cycles(nbytes: np.ndarray, bw: float) -> np.ndarray:
    """``bytes // bw`` (a float floor division, as numpy's), plus one when that moves fewer bytes."""
    out = np.zeros(nbytes.shape[0], np.int64)
    for i in range(nbytes.shape[0]):
        if nbytes[i] > 0:
            q = np.int64(nbytes[i] // bw)
            out[i] = q + 1 if q * bw < nbytes[i] else q
    return out


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


@dataclass(frozen=True)
class Folds:
    """Many layers' folds as arrays: job ``j`` (a layer, on its own link ``j``), its cores with folds (``runs``,
    job after job), their folds (run after run).

    Attributes:
        load, write: per fold, full-bandwidth link cycles of its load and of its write-back.
        n, job, core, cycles: per run, its folds, its job, its core within the job, array cycles of a fold.
        latency, shared, links: per job, its tier latency, whether its link is processor-shared, the link's name.
        width: per job, its cores (those without folds too).
    """

    load: np.ndarray
    write: np.ndarray
    n: np.ndarray
    job: np.ndarray
    core: np.ndarray
    cycles: np.ndarray
    latency: np.ndarray
    shared: np.ndarray
    links: list[str]
    width: list[int]

    @staticmethod
    def of(jobs: Sequence[FoldJob]) -> Folds:
        """The arrays of ``jobs``."""
        runs = [(j, c, ld, wr, int(cyc)) for j, job in enumerate(jobs)
                for c, (ld, wr, cyc) in enumerate(zip(job.loads, job.writes, job.per_fold)) if ld.shape[0]]
        users = np.bincount([r[0] for r in runs], minlength=len(jobs)).astype(np.int64)
        shared = np.array([users[j] > 1 if job.shared is None else job.shared for j, job in enumerate(jobs)], bool)

        def cat(k: int) -> np.ndarray:
            return np.concatenate([r[k] for r in runs]).astype(np.int64) if runs else np.zeros(0, np.int64)

        return Folds(cat(2), cat(3), np.array([r[2].shape[0] for r in runs], np.int64),
                     np.array([r[0] for r in runs], np.int64), np.array([r[1] for r in runs], np.int64),
                     np.array([r[4] for r in runs], np.float64), np.array([j.latency for j in jobs], np.float64),
                     shared, [j.link_name for j in jobs], [len(j.loads) for j in jobs])


@njit(cache=True)
def _graph(n: np.ndarray, job: np.ndarray, load: np.ndarray, write: np.ndarray, cycles: np.ndarray,
           latency: np.ndarray) -> tuple[np.ndarray, ...]:
    """The fold graphs of runs with ``n`` folds (``FoldNet``): every DMA engine's firings, run after run
    (``3 n`` each: per fold f, write fold f-2 back after fold f-2 is done (f >= 2), load fold f, signal
    fold f ready; then write back the last two folds), the contexts' port and time patterns.

    Returns fold0, kind, fold, in_loop (a write-back inside the fold loop), and the ``FlatNet`` arrays
    nfire, poff, plen, out_poff, pat, tpat, toff, tlen, res, cap."""
    c = n.shape[0]
    fold0 = np.zeros(c, np.int64)
    for i in range(1, c):
        fold0[i] = fold0[i - 1] + n[i - 1]
    m = 3 * (fold0[c - 1] + n[c - 1]) if c else 0
    kind, fold, in_loop = np.full(m, _WRITE), np.empty(m, np.int64), np.zeros(m, np.bool_)
    pat, tpat = np.zeros(2 * m + 1, np.int64), np.zeros(2 * m + 1 + c)
    nfire, poff, plen, out_poff = np.empty((4, 2 * c), np.int64)
    toff, tlen, res = np.zeros((2 * c, 3), np.int64), np.ones((2 * c, 3), np.int64), np.full(2 * c, -1, np.int64)
    for i in range(c):
        base, last = 3 * fold0[i], fold0[i] + n[i] - 1
        for f in range(n[i]):
            at = base + (2 * f if f < 2 else 3 * f - 1)
            kind[at], kind[at + 1], fold[at], fold[at + 1] = _LOAD, _READY, fold0[i] + f, fold0[i] + f
            if f >= 2:  # the write-back of fold f - 2
                fold[at - 1], in_loop[at - 1] = fold0[i] + f - 2, True
        if n[i] >= 2:
            fold[base + 3 * n[i] - 2] = last - 1
        fold[base + 3 * n[i] - 1] = last
        for k in range(base, base + 3 * n[i]):
            pat[k], pat[m + k] = kind[k] == _WRITE, kind[k] == _READY
            if kind[k] == _READY and load[fold[k]] > 0:
                tpat[k] = latency[i]
            tpat[m + k] = write[fold[k]] if kind[k] == _WRITE else load[fold[k]] if kind[k] == _LOAD else 0
        tpat[2 * m + 1 + i] = cycles[i]
        nfire[2 * i], nfire[2 * i + 1] = 3 * n[i], n[i]
        poff[2 * i], poff[2 * i + 1], out_poff[2 * i], out_poff[2 * i + 1] = base, 2 * m, base + m, 2 * m
        plen[2 * i], plen[2 * i + 1] = 3 * n[i], 1
        toff[2 * i, 0], toff[2 * i, 1], toff[2 * i, 2] = 2 * m, base, m + base
        tlen[2 * i, 1], tlen[2 * i, 2] = 3 * n[i], 3 * n[i]
        toff[2 * i + 1, 0], toff[2 * i + 1, 1], toff[2 * i + 1, 2] = 2 * m + 1 + i, 2 * m + 1 + i, 2 * m
        res[2 * i] = job[i]
    pat[2 * m] = 1
    return fold0, kind, fold, in_loop, nfire, poff, plen, out_poff, pat, tpat, toff, tlen, res, np.repeat(n, 2)


@dataclass(frozen=True)
class FoldNet:
    """Independent layers' fold graphs as one flat net (each job on a link of its own, ``flat.res``
    ``j`` for job ``j``): per run ``i`` its DMA context ``2i``, its array context ``2i + 1``, channels
    ``ready`` ``2i`` and ``done`` ``2i + 1``."""

    flat: FlatNet
    folds: Folds
    fold0: np.ndarray
    kind: np.ndarray
    fold: np.ndarray
    in_loop: np.ndarray


def fold_net(jobs: Sequence[FoldJob] | Folds) -> FoldNet:
    """The fold graphs of ``jobs`` built with array operations (see :class:`FoldNet`)."""
    fs = jobs if isinstance(jobs, Folds) else Folds.of(jobs)
    cores, users = fs.n.shape[0], np.bincount(fs.job, minlength=len(fs.links))
    fold0, kind, fold, in_loop, nfire, poff, plen, out_poff, pat, tpat, toff, tlen, res, cap = _graph(
        fs.n, fs.job, fs.load, fs.write, fs.cycles, fs.latency[fs.job])
    two, ids = np.arange(2 * cores + 1, dtype=np.int64), np.arange(2 * cores, dtype=np.int64)
    tag = list(zip([""] * cores if len(fs.links) == 1 else [f"{j}:" for j in fs.job.tolist()], fs.core.tolist()))
    flat = FlatNet(
        name="layers", dtype=np.dtype(np.float64), names=[f"{t}{what}{c}" for t, c in tag for what in ("dma", "core")],
        channels=[f"{t}{what}{c}" for t, c in tag for what in ("ready", "done")], resources=list(fs.links),
        nfire=nfire, in_start=two, in_ch=ids ^ 1, in_poff=poff, in_plen=plen, out_start=two, out_ch=ids,
        out_poff=out_poff, out_plen=plen, pat=pat, tpat=tpat, toff=toff, tlen=tlen, res=res, res_shared=fs.shared,
        cap=cap, ch_lat=np.zeros(2 * cores), init=np.zeros(2 * cores, np.int64), init_write=np.zeros(2 * cores),
        ch_src=ids, ch_dst=ids ^ 1, ntok=cap, components=(np.concatenate(([0], np.cumsum(2 * users))).astype(np.int64),
                                                        np.arange(len(fs.links) + 1, dtype=np.int64)))
    return FoldNet(flat, fs, fold0, kind, fold, in_loop)


@dataclass(frozen=True)
class FoldEnds:
    """Per run (a core with folds): when its last write-back landed and its idle array cycles by cause."""

    end: np.ndarray
    latency: np.ndarray
    capacity: np.ndarray
    bandwidth: np.ndarray


def fold_ends(run: NetRun, fn: FoldNet, first: int = 0) -> FoldEnds:
    """Every run's end and stalls by cause, from a run holding ``fn``'s contexts from context ``first`` on."""
    assert run.starts is not None and run.ends is not None and run.deadlock is None
    fs = fn.folds
    return FoldEnds(*_ends(run.offsets[first:], run.starts, run.ends, fs.n, fn.fold0, fn.fold, fn.in_loop, fs.load,
                           fs.write, fs.cycles, fs.latency[fs.job]))


def run_folds(fs: Folds) -> FoldEnds:
    """Every run's end and stalls by cause: ``fold_net(fs)`` run and read by one compiled call (no net,
    no names; the same graph, kernel and reading as ``fold_ends(run_flat(fold_net(fs).flat, True), ...)``)."""
    return FoldEnds(*_run_folds(fs.n, fs.job, fs.load, fs.write, fs.cycles, fs.latency[fs.job], fs.shared))


@njit(cache=True)
def _run_folds(n: np.ndarray, job: np.ndarray, load: np.ndarray, write: np.ndarray, cycles: np.ndarray,
               latency: np.ndarray, shared: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    fold0, kind, fold, in_loop, nfire, poff, plen, out_poff, pat, tpat, toff, tlen, res, cap = _graph(
        n, job, load, write, cycles, latency)
    two, ids, links = np.arange(2 * n.shape[0] + 1), np.arange(2 * n.shape[0]), shared.shape[0]
    parts = np.zeros(links + 1, np.int64)
    for i in range(n.shape[0]):
        parts[job[i] + 1] += 2
    run = run_net(nfire, two, ids ^ 1, poff, plen, two, ids, out_poff, plen, pat, tpat, toff, tlen, res, shared, cap,
                  np.zeros(ids.shape[0]), np.zeros(ids.shape[0], np.int64), np.zeros(ids.shape[0]), ids, ids ^ 1, cap,
                  np.cumsum(parts), np.arange(links + 1), True, EPS_WORK)
    return _ends(run[7], run[5], run[6], n, fold0, fold, in_loop, load, write, cycles, latency)


@njit(cache=True)
def _ends(offsets: np.ndarray, starts: np.ndarray, ends: np.ndarray, n: np.ndarray, fold0: np.ndarray,
          fold: np.ndarray, in_loop: np.ndarray, load: np.ndarray, write: np.ndarray, cycles: np.ndarray,
          latency: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``fold_ends`` of runs whose DMA engine's firings start at ``offsets[2i]`` and array's at ``offsets[2i + 1]``.

    Per idle gap before a fold: the tier latency after its transfer, then the cycles its DMA engine waited for a
    free buffer half, the rest bandwidth; the final drain is latency then bandwidth. Summed run by run as numpy
    sums."""
    c, total = n.shape[0], fold.shape[0] // 3
    start, cap_wait = np.empty(total), np.zeros(total)
    lat_part, cap_part, bw_part = np.empty(total), np.empty(total), np.empty(total)
    end, drain, drain_lat = np.empty(c), np.empty(c), np.zeros(c)
    for i in range(c):
        dma, base, last = offsets[2 * i], 3 * fold0[i], fold0[i] + n[i] - 1
        for f in range(n[i]):
            start[fold0[i] + f] = starts[offsets[2 * i + 1] + f]
        for k in range(1, 3 * n[i]):
            if in_loop[base + k]:  # the write-back of fold f - 2 before fold f's load
                cap_wait[fold[base + k] + 2] = starts[dma + k] - ends[dma + k - 1]
        wrote = write[last] > 0 or (n[i] >= 2 and write[max(last - 1, 0)] > 0)
        end[i] = ends[dma + 3 * n[i] - 1] + (latency[i] if wrote and latency[i] > 0 else 0.0)
        for g in range(fold0[i], last + 1):
            prev = 0.0 if g == fold0[i] else start[g - 1] + cycles[i]
            gap = max(start[g] - prev, 0.0)
            lat_part[g] = min(gap, latency[i] if load[g] > 0 else 0.0)
            cap_part[g] = min(gap - lat_part[g], cap_wait[g])
            bw_part[g] = gap - lat_part[g] - cap_part[g]
        drain[i] = max(end[i] - (start[last] + cycles[i]), 0.0)
        if wrote:
            drain_lat[i] = min(drain[i], latency[i])
    lat, bw = pairwise_sums(lat_part, fold0, n), pairwise_sums(bw_part, fold0, n)
    return end, lat + drain_lat, pairwise_sums(cap_part, fold0, n), bw + drain - drain_lat


def collect_folds(run: NetRun, fn: FoldNet, *, record: bool = False, first: int = 0,
                  links: Sequence[int] | None = None) -> list[tuple[list[CoreRun], Link]]:
    """Per job its cores (end, stalls by cause; every core of the job, those without folds too) and its
    link, from a run holding ``fn``'s contexts from context ``first`` on and its links as resources
    ``links`` (default ``0, 1, ...``)."""
    fs, ends = fn.folds, fold_ends(run, fn, first)
    n, start3 = fs.n, 3 * fn.fold0
    out: list[tuple[list[CoreRun], list[Track]]] = [([], []) for _ in fs.links]
    rows = zip(fs.job.tolist(), fs.core.tolist(), n.tolist(), (n * fs.cycles).astype(np.int64).tolist(),
               ends.end.tolist(), ends.latency.tolist(), ends.capacity.tolist(), ends.bandwidth.tolist())
    for i, (j, c, folds, compute, end, lat, cap, bw) in enumerate(rows):
        runs, tracks = out[j]
        runs.extend(CoreRun(folds=0, compute_cycles=0, end_cycles=0.0) for _ in range(c - len(runs)))
        core = CoreRun(folds, compute, end, stall_latency_cycles=lat, stall_capacity_cycles=cap,
                       stall_bandwidth_cycles=bw)
        if record:
            core.tracks = [Track(f"core{c}", *run.busy(first + 2 * i + 1), [f"fold {f}" for f in range(n[i])],
                                 "compute")]
            k = slice(start3[i], start3[i] + 3 * n[i])
            what = ["write" if q == _WRITE else "load" for q in fn.kind[k].tolist()]
            tracks.append(Track(f"dma{c} ({fs.links[j]})", *run.busy(first + 2 * i),
                                [f"{a} fold {f}" for a, f in zip(what, (fn.fold[k] - fn.fold0[i]).tolist())], "dma"))
        runs.append(core)
    for (runs, _), width in zip(out, fs.width):  # cores without folds at the end
        runs.extend(CoreRun(folds=0, compute_cycles=0, end_cycles=0.0) for _ in range(width - len(runs)))
    work = run.resource_work[np.arange(len(fs.links)) if links is None else np.asarray(links, np.int64)]
    return [(runs, Link(name, not shared, LinkStats(round(w), tracks)))
            for name, shared, w, (runs, tracks) in zip(fs.links, fs.shared.tolist(), work.tolist(), out)]


def run_fold_layers(jobs: Sequence[FoldJob] | Folds, *, record: bool = False) -> list[tuple[list[CoreRun], Link]]:
    """Run independent layers (each from cycle 0 on its own link) in one graph, one kernel call."""
    if not isinstance(jobs, Folds) and not jobs:
        return []
    fn = fold_net(jobs)
    return collect_folds(run_flat(fn.flat, record=True), fn, record=record)


def run_fold_layer(loads: list[np.ndarray], writes: list[np.ndarray], per_fold: int | Sequence[int], latency: int, *,
                   record: bool = False, link_name: str = "dram",
                   shared: bool | None = None) -> tuple[list[CoreRun], Link]:
    """Run one layer's folds on ``len(loads)`` cores sharing one link (see :class:`FoldJob`)."""
    cycles = [int(p) for p in per_fold] if isinstance(per_fold, Sequence) else [int(per_fold)] * len(loads)
    if len(cycles) != len(loads):
        raise ValueError('"per_fold" needs one value per core.')
    return run_fold_layers([FoldJob(loads, writes, cycles, latency, link_name, shared)], record=record)[0]


@njit(cache=True)
def _pairwise_sum(x: np.ndarray, lo: int, n: int) -> float:
    """``numpy.sum`` of ``x[lo: lo + n]`` to the bit: numpy's pairwise summation (eight partial sums in
    blocks of at most 128 values, halves above)."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += x[i]
        return res
    if n <= 128:
        r = x[lo: lo + 8].copy()
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += x[lo + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for k in range(lo + i, lo + n):
            res += x[k]
        return res
    half = n // 2
    half -= half % 8
    return _pairwise_sum(x, lo, half) + _pairwise_sum(x, lo + half, n - half)


@njit(cache=True)
def pairwise_sums(x: np.ndarray, start: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``numpy.sum(x[start[i]: start[i] + n[i]])`` for every ``i``, bit for bit (0.0 when ``n[i]`` is 0)."""
    out = np.zeros(start.shape[0])
    for i in range(start.shape[0]):
        if n[i] > 0:
            out[i] = _pairwise_sum(x, start[i], n[i])
    return out
