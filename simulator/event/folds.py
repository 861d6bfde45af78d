"""Many layers' fold graphs at once: the kernel's flat arrays built with array operations.

The graph is the one ``engine.add_fold_job`` builds context by context (per core a DMA context
and an array context, ``ready`` and ``done`` channels, each layer on its own link), but built
for every core of every layer in a few array operations, so a network's event table costs one
kernel call and no per-core Python. ``run_fold_layers`` gives the same numbers as running each
layer alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from acceldse.simulator.event.engine import (
    _LOAD,
    _READY,
    _WRITE,
    CoreRun,
    FoldJob,
    Link,
    dma_track,
    fold_track,
    link_of,
)
from acceldse.simulator.streaming.net import FlatNet, run_flat
from acceldse.simulator.streaming.trace import Track


def _programs(n: np.ndarray, fold0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every DMA engine's firings (``engine.dma_program`` for all cores), core after core.

    Returns kind, global fold, core, and whether the firing is a write-back inside the fold loop."""
    cores = n.shape[0]
    core_of = np.repeat(np.arange(cores), n)
    local = np.arange(int(n.sum())) - np.repeat(fold0, n)
    g = np.arange(int(n.sum()))
    kind = np.broadcast_to(np.array([_WRITE, _LOAD, _READY]), (g.size, 3))
    fold = np.stack([g - 2, g, g], axis=1)
    key = 3 * local[:, None] + np.arange(3)[None, :]
    keep = np.ones((g.size, 3), bool)
    keep[:, 0] = local >= 2
    last = fold0 + n - 1
    t_fold = np.stack([last - 1, last], axis=1)
    t_keep = np.stack([n >= 2, np.ones(cores, bool)], axis=1)
    t_key = 3 * n[:, None] + np.arange(2)[None, :]
    all_core = np.concatenate([np.broadcast_to(core_of[:, None], (g.size, 3))[keep],
                               np.broadcast_to(np.arange(cores)[:, None], (cores, 2))[t_keep]])
    all_key = np.concatenate([key[keep], t_key[t_keep]])
    order = np.lexsort((all_key, all_core))
    kinds = np.concatenate([kind[keep], np.full(int(t_keep.sum()), _WRITE)])[order]
    folds = np.concatenate([fold[keep], t_fold[t_keep]])[order]
    in_loop = np.concatenate([(kind == _WRITE)[keep], np.zeros(int(t_keep.sum()), bool)])[order]
    return kinds, folds, all_core[order], in_loop


def run_fold_layers(jobs: Sequence[FoldJob], *, record: bool = False) -> list[tuple[list[CoreRun], Link]]:
    """Run independent layers (each from cycle 0 on its own link) in one graph, one kernel call."""
    if not jobs:
        return []
    spec = [(j, c, ld, wr, int(cyc)) for j, job in enumerate(jobs)
            for c, (ld, wr, cyc) in enumerate(zip(job.loads, job.writes, job.per_fold)) if ld.shape[0]]
    n = np.array([s[2].shape[0] for s in spec], np.int64)
    cores, folds_total = n.shape[0], int(n.sum())
    fold0 = np.concatenate(([0], np.cumsum(n)[:-1])).astype(np.int64) if cores else np.zeros(0, np.int64)
    load = np.concatenate([s[2] for s in spec]).astype(np.int64) if cores else np.zeros(0, np.int64)
    write = np.concatenate([s[3] for s in spec]).astype(np.int64) if cores else np.zeros(0, np.int64)
    job_of = np.array([s[0] for s in spec], np.int64)
    cyc = np.array([s[4] for s in spec], np.float64)
    latency = np.array([jobs[j].latency for j in job_of], np.float64)
    kind, fold, core, in_loop = _programs(n, fold0)
    m = 3 * folds_total
    start3 = 3 * fold0
    users = np.bincount(job_of, minlength=len(jobs))
    # contexts: dma i = 2i, array i = 2i + 1; channels: ready i = 2i (dma -> array), done i = 2i + 1
    two = np.arange(2 * cores + 1, dtype=np.int64)
    ctx_dma = np.zeros(2 * cores, bool)
    ctx_dma[0::2] = True
    poff = np.where(ctx_dma, np.repeat(start3, 2), 2 * m)
    plen = np.where(ctx_dma, np.repeat(3 * n, 2), 1)
    toff = np.zeros((2 * cores, 3), np.int64)
    tlen = np.ones((2 * cores, 3), np.int64)
    toff[0::2] = np.stack([np.full(cores, 2 * m), start3, m + start3], axis=1)
    tlen[0::2, 1:] = (3 * n)[:, None]
    toff[1::2] = np.stack([2 * m + 1 + np.arange(cores), 2 * m + 1 + np.arange(cores), np.full(cores, 2 * m)], 1)
    res = np.full(2 * cores, -1, np.int64)
    res[0::2] = job_of
    flat = FlatNet(
        name="layers", dtype=np.dtype(np.float64),
        names=[f"{s[0]}:{what}{s[1]}" for s in spec for what in ("dma", "core")],
        channels=[f"{s[0]}:{what}{s[1]}" for s in spec for what in ("ready", "done")],
        resources=[job.link_name for job in jobs], nfire=np.stack([3 * n, n], axis=1).ravel(),
        in_start=two, in_ch=(np.arange(2 * cores) ^ 1).astype(np.int64), in_poff=poff, in_plen=plen,
        out_start=two, out_ch=np.arange(2 * cores, dtype=np.int64), out_poff=np.where(ctx_dma, poff + m, poff),
        out_plen=plen,
        pat=np.concatenate([(kind == _WRITE), (kind == _READY), [True]]).astype(np.int64),
        tpat=np.concatenate([np.where((kind == _READY) & (load[fold] > 0), latency[core], 0.0),
                             np.where(kind == _WRITE, write[fold], np.where(kind == _LOAD, load[fold], 0)),
                             [0.0], cyc]).astype(np.float64),
        toff=toff, tlen=tlen, res=res,
        res_shared=np.array([users[j] > 1 if job.shared is None else job.shared for j, job in enumerate(jobs)],
                            bool),
        cap=np.repeat(n, 2), ch_lat=np.zeros(2 * cores), init=np.zeros(2 * cores, np.int64),
        init_write=np.zeros(2 * cores), ch_src=np.arange(2 * cores, dtype=np.int64),
        ch_dst=np.arange(2 * cores, dtype=np.int64) ^ 1, ntok=np.repeat(n, 2))
    run = run_flat(flat, record=True)
    assert run.starts is not None and run.ends is not None and run.deadlock is None
    # firing times: dma i's firings from offsets[2i], array i's from offsets[2i + 1]
    at = run.offsets[2 * core] + (np.arange(m) - start3[core])
    d_start, d_end = run.starts[at], run.ends[at]
    fold_core = np.repeat(np.arange(cores), n)
    start = run.starts[run.offsets[2 * fold_core + 1] + (np.arange(folds_total) - fold0[fold_core])]
    cap_wait = np.zeros(folds_total)
    w = np.nonzero(in_loop)[0]
    cap_wait[fold[w] + 2] = d_start[w] - d_end[w - 1]
    last = fold0 + n - 1
    wrote = (write[last] > 0) | ((n >= 2) & (write[np.maximum(last - 1, 0)] > 0))
    end = d_end[start3 + 3 * n - 1] + np.where(wrote & (latency > 0), latency, 0.0)
    per_fold = cyc[fold_core]
    prev_end = np.where(np.arange(folds_total) == fold0[fold_core], 0.0, np.roll(start, 1) + per_fold)
    gap = np.maximum(start - prev_end, 0.0)
    lat_part = np.minimum(gap, np.where(load > 0, latency[fold_core], 0.0))
    cap_part = np.minimum(gap - lat_part, cap_wait)
    bw_part = gap - lat_part - cap_part
    drain = np.maximum(end - (start[last] + cyc), 0.0)
    drain_lat = np.where(wrote, np.minimum(drain, latency), 0.0)
    sums = [np.add.reduceat(x, fold0) if cores else x for x in (lat_part, cap_part, bw_part)]
    for i in np.nonzero(flat.res_shared[job_of])[0]:  # fractional times: numpy's own sum, as core by core
        s = slice(fold0[i], fold0[i] + n[i])
        for x, total in zip((lat_part, cap_part, bw_part), sums):
            total[i] = x[s].sum()
    out: list[tuple[list[CoreRun], list[Track]]] = [([], []) for _ in jobs]
    i = 0
    for j, job in enumerate(jobs):
        for c, ld in enumerate(job.loads):
            if not ld.shape[0]:
                out[j][0].append(CoreRun(folds=0, compute_cycles=0, end_cycles=0.0))
                continue
            run_c = CoreRun(folds=int(n[i]), compute_cycles=int(n[i] * cyc[i]), end_cycles=float(end[i]),
                            stall_latency_cycles=float(sums[0][i]) + float(drain_lat[i]),
                            stall_capacity_cycles=float(sums[1][i]),
                            stall_bandwidth_cycles=float(sums[2][i]) + float(drain[i]) - float(drain_lat[i]))
            if record:
                run_c.tracks = [fold_track(run, 2 * i + 1, c, int(n[i]))]
                k = slice(start3[i], start3[i] + 3 * n[i])
                out[j][1].append(dma_track(run, 2 * i, c, kind[k], fold[k] - fold0[i], job.link_name))
            out[j][0].append(run_c)
            i += 1
    return [(runs, link_of(run, j, job.link_name, len(job.loads) == 1 if job.shared is None else not job.shared,
                           tracks)) for j, (job, (runs, tracks)) in enumerate(zip(jobs, out))]
