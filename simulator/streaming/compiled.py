"""Compiled executor: exact firing times of a static-rate graph by a numba recurrence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Context, StreamGraph
from acceldse.dataflows.streams.tokens import replay, schedule_order
from acceldse.dataflows.streams.values import evaluate
from acceldse.simulator.streaming.kernels import fire_all
from acceldse.simulator.streaming.result import BlockedContext, Deadlock, StreamResult
from acceldse.workloads.errors import SpecError


@dataclass(frozen=True)
class _Lowered:
    """A static graph as flat integer arrays (see ``kernels.fire_all``)."""

    ii: np.ndarray
    lat: np.ndarray
    nfire: np.ndarray
    in_start: np.ndarray
    in_ch: np.ndarray
    in_poff: np.ndarray
    in_plen: np.ndarray
    out_start: np.ndarray
    out_ch: np.ndarray
    out_poff: np.ndarray
    out_plen: np.ndarray
    pat: np.ndarray
    cap: np.ndarray
    vis_delay: np.ndarray
    ntok: np.ndarray
    init: np.ndarray


def lower(graph: StreamGraph) -> _Lowered:
    """Flatten a static-rate graph into arrays.

    Raises:
        SpecError: the graph has a generator context (use the SimPy executor).
    """
    if not graph.is_static:
        names = [c.name for c in graph.contexts if not isinstance(c, Context)]
        raise SpecError("the compiled executor runs static-rate graphs only", source=graph.name,
                        key="contexts", value=names, accepted="Context (use executor='simpy' for generators)")
    ch_index = {ch.name: i for i, ch in enumerate(graph.channels)}
    ctxs = [c for c in graph.contexts if isinstance(c, Context)]
    pat: list[int] = []
    in_start: list[int] = [0]
    out_start: list[int] = [0]
    in_ch: list[int] = []
    in_poff: list[int] = []
    in_plen: list[int] = []
    out_ch: list[int] = []
    out_poff: list[int] = []
    out_plen: list[int] = []
    for ctx in ctxs:
        for ports, start, chs, poff, plen in ((ctx.inputs, in_start, in_ch, in_poff, in_plen),
                                              (ctx.outputs, out_start, out_ch, out_poff, out_plen)):
            for port in ports:
                pattern = ctx.rates[port]
                chs.append(ch_index[graph.port_channel[(ctx.name, port)].name])
                poff.append(len(pat))
                plen.append(len(pattern))
                pat.extend(pattern)
            start.append(len(chs))
    ntok = np.array([graph.channel_tokens(ch) or 0 for ch in graph.channels], np.int64)
    vis = [graph.context(ch.src_context).latency_cycles + ch.latency_cycles for ch in graph.channels]

    def arr(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64).reshape(-1)

    return _Lowered(
        ii=arr([c.ii_cycles for c in ctxs]), lat=arr([c.latency_cycles for c in ctxs]),
        nfire=arr([c.firings for c in ctxs]),
        in_start=arr(in_start), in_ch=arr(in_ch), in_poff=arr(in_poff), in_plen=arr(in_plen),
        out_start=arr(out_start), out_ch=arr(out_ch), out_poff=arr(out_poff), out_plen=arr(out_plen),
        pat=arr(pat), cap=arr([ch.capacity for ch in graph.channels]), vis_delay=arr(vis),
        ntok=ntok, init=arr([ch.initial_tokens for ch in graph.channels]))


def run_compiled(graph: StreamGraph, *, record: bool = False, values: bool = False,
                 tokens: bool = False) -> StreamResult:
    """Run a static-rate graph with the compiled recurrence.

    Args:
        graph: a built static-rate graph.
        record: keep every firing time and every token's write/read cycle (for traces and
            tests); off by default so big runs stay small.
        values: also evaluate the value stream of every channel (``result.values``).
        tokens: carry token values through every context's ``step`` in the order the compiled
            schedule fired them (``result.values`` holds each channel's tokens); implies ``record``.

    Returns:
        A :class:`StreamResult`; ``result.deadlock`` is set when the graph cannot finish.
    """
    record = record or tokens
    low = lower(graph)
    n_ch = len(graph.channels)
    # record: keep every token (ring = all tokens); else a ring of `capacity` slots suffices
    ring = np.maximum(low.ntok if record else np.minimum(low.cap, low.ntok), 1)
    roff = np.zeros(n_ch, np.int64)
    if n_ch > 1:
        roff[1:] = np.cumsum(ring)[:-1]
    total = int(ring.sum())
    write_time = np.empty(total, np.int64)
    read_time = np.empty(total, np.int64)
    written = low.init.copy()
    for i in range(n_ch):
        write_time[roff[i]: roff[i] + low.init[i]] = -low.vis_delay[i]
    readcnt = np.zeros(n_ch, np.int64)
    best = np.zeros(n_ch, np.int64)
    nctx = low.ii.shape[0]
    next_fire = np.zeros(nctx, np.int64)
    last_s = np.full(nctx, -1, np.int64)
    fire_off = np.zeros(nctx, np.int64)
    if record:
        fire_off[1:] = np.cumsum(low.nfire)[:-1]
        fire_time = np.empty(int(low.nfire.sum()), np.int64)
    else:
        fire_time = np.empty(0, np.int64)
    fire_all(low.ii, low.nfire, low.in_start, low.in_ch, low.in_poff, low.in_plen,
             low.out_start, low.out_ch, low.out_poff, low.out_plen, low.pat, low.cap, low.vis_delay,
             roff, ring, written, readcnt, write_time, read_time, best, next_fire, last_s,
             fire_time, fire_off, record)
    names = [c.name for c in graph.contexts]
    fired = last_s >= 0
    deadlock = None
    if np.any(next_fire < low.nfire):
        cycle = int(last_s[fired].max()) + 1 if fired.any() else 0
        deadlock = _diagnose(graph, low, next_fire, written, readcnt, cycle)
        cycles = cycle
    else:
        cycles = int((last_s + low.lat).max()) + 1 if nctx else 0
    occupancy = {ch.name: int(best[i]) for i, ch in enumerate(graph.channels)}
    channel_times: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    if record:
        channel_times = {ch.name: (write_time[roff[i]: roff[i] + written[i]].copy(),
                                   read_time[roff[i]: roff[i] + readcnt[i]].copy())
                         for i, ch in enumerate(graph.channels)}
    fire_times = None
    if record:
        fire_times = {n: fire_time[fire_off[i]: fire_off[i] + next_fire[i]].copy() for i, n in enumerate(names)}
    return StreamResult(
        graph=graph.name, executor="compiled", cycles=cycles,
        firings={n: int(next_fire[i]) for i, n in enumerate(names)},
        tokens={ch.name: int(written[i]) for i, ch in enumerate(graph.channels)},
        tokens_read={ch.name: int(readcnt[i]) for i, ch in enumerate(graph.channels)},
        max_occupancy=occupancy, deadlock=deadlock, fire_times=fire_times, channel_times=channel_times,
        values=_values(graph, fire_times, values, tokens) if deadlock is None else None)


def _values(graph: StreamGraph, fire_times: dict[str, np.ndarray] | None, values: bool,
            tokens: bool) -> dict[str, Any] | None:
    if tokens:
        assert fire_times is not None
        return dict(replay(graph, schedule_order(graph, fire_times)))
    return dict(evaluate(graph)) if values else None


def _diagnose(graph: StreamGraph, low: _Lowered, next_fire: np.ndarray, written: np.ndarray,
              readcnt: np.ndarray, cycle: int) -> Deadlock:
    """Name, for every unfinished context, the first condition of its next firing that fails."""
    ch_index = {ch.name: i for i, ch in enumerate(graph.channels)}
    blocked = []
    for ci, ctx in enumerate(graph.contexts):
        if not isinstance(ctx, Context):
            continue
        k = int(next_fire[ci])
        if k >= ctx.firings:
            continue
        found = None
        for port in ctx.inputs:
            ch = graph.port_channel[(ctx.name, port)]
            i = ch_index[ch.name]
            r = ctx.rate(port, k)
            if r > 0 and readcnt[i] + r - 1 >= written[i]:
                found = (ch, i, "empty")
                break
        if found is None:
            for port in ctx.outputs:
                ch = graph.port_channel[(ctx.name, port)]
                i = ch_index[ch.name]
                r = ctx.rate(port, k)
                if r > 0 and written[i] + r - 1 - ch.capacity >= readcnt[i]:
                    found = (ch, i, "full")
                    break
        if found is None:  # pragma: no cover - the kernel only stops on a failed condition
            raise RuntimeError(f"context '{ctx.name}' stopped with no failed condition")
        ch, i, reason = found
        blocked.append(BlockedContext(context=ctx.name, channel=ch.name, reason=reason,
                                      occupancy=int(written[i] - readcnt[i]), capacity=ch.capacity,
                                      firing=k, waits_for=ch.dst_context if reason == "full"
                                      else ch.src_context))
    return Deadlock(cycle=cycle, blocked=tuple(blocked))
