"""The executor: exact firing times of any graph, lowered to a :class:`Net` and run by the compiled kernel.

Static-rate contexts lower as they are; a generator context lowers to the program its values
dictate (``generators.untimed_run``: one firing per read, write or work), so every graph has one
FIFO rule, one deadlock report and one trace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Context, StreamGraph
from acceldse.dataflows.streams.tokens import replay, schedule_order
from acceldse.dataflows.streams.values import evaluate
from acceldse.simulator.streaming.generators import READ, WRITE, Program, untimed_run
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.streaming.result import Deadlock, StreamResult


def lower(graph: StreamGraph, net: Net | None = None, *, prefix: str = "",
          inputs: Mapping[str, list[tuple[int, int]]] | None = None,
          outputs: Mapping[str, list[tuple[int, int]]] | None = None,
          programs: Mapping[str, Program] | None = None) -> Net:
    """The graph as contexts and channels of a :class:`Net`: one context per context, one channel per channel.

    A context's latency is its outputs' latency; a channel's initial tokens count as written
    ``latency`` cycles before 0 (visible at 0). By default a new cycle-level (int64) net; or added
    to ``net`` with names prefixed ``prefix``, ``inputs`` / ``outputs`` giving extra ports
    ``(channel, tokens per firing)`` per context name (e.g. a loader feeding a source). A generator
    context runs its program from ``programs`` (a firing per action; a WORK action's cycles are its ii).
    """
    net = Net(graph.name, np.int64) if net is None else net
    index = {}
    for ch in graph.channels:
        vis = graph.context(ch.src_context).latency_cycles + ch.latency_cycles
        index[ch.name] = net.channel(prefix + ch.name, capacity=ch.capacity, latency=ch.latency_cycles,
                                     initial=ch.initial_tokens, initial_write=-vis)
    for ctx in graph.contexts:
        firings: int
        ii: int | list[int]
        rates: Mapping[str, Sequence[int]]
        if isinstance(ctx, Context):
            firings, ii, rates = ctx.firings, ctx.ii_cycles, ctx.rates
        else:
            prog = (programs or {})[ctx.name]
            firings, ii = len(prog.kind), prog.cycles or [0]
            rates = {p: [int(k in (READ, WRITE) and q == p) for k, q in zip(prog.kind, prog.port)] or [0]
                     for p in ctx.inputs + ctx.outputs}
        net.context(prefix + ctx.name, firings, ii=ii, latency=ctx.latency_cycles,
                    inputs=[(index[graph.port_channel[(ctx.name, p)].name], rates[p]) for p in ctx.inputs]
                    + list((inputs or {}).get(ctx.name, [])),
                    outputs=[(index[graph.port_channel[(ctx.name, p)].name], rates[p]) for p in ctx.outputs]
                    + list((outputs or {}).get(ctx.name, [])))
    return net


def run_compiled(graph: StreamGraph, *, record: bool = False, values: bool = False,
                 tokens: bool = False, max_cycles: int | None = None) -> StreamResult:
    """Run a graph (static-rate and generator contexts) on the compiled kernel.

    Args:
        graph: a built graph.
        record: keep every firing time and every token's write/read cycle (for traces).
        values: evaluate the value stream of every channel (``result.values``).
        tokens: carry token values through every context's ``step`` (``result.values`` holds each
            channel's tokens); implies ``record``.
        max_cycles: stop a generator context whose work passes this many cycles (a livelock, which
            no channel state reveals), and refuse a run longer than this (RuntimeError).

    Returns:
        A :class:`StreamResult`; ``result.deadlock`` is set when the graph cannot finish.
    """
    record = record or tokens
    programs: dict[str, Program] = {}
    carried: dict[str, list[Any]] = {}
    if not graph.is_static:
        programs, carried = untimed_run(graph, None if tokens else evaluate(graph), tokens=tokens,
                                        max_cycles=max_cycles)
    run = lower(graph, programs=programs).run(record=record or bool(programs))
    last: dict[str, int] = {}
    fire_times: dict[str, np.ndarray] = {}
    firings = {}
    for i, ctx in enumerate(graph.contexts):
        n = int(run.firings[i])
        if ctx.name in programs:  # the firings that move a token (work is a firing's ii)
            io = programs[ctx.name].io[:n]
            starts = run.times(i)[0][io]
            firings[ctx.name] = int(io.sum())
            fire_times[ctx.name] = starts
            if starts.size:
                last[ctx.name] = int(starts[-1])
        else:
            firings[ctx.name] = n
            if record:
                fire_times[ctx.name] = run.times(i)[0]
            if n:
                last[ctx.name] = int(run.last_start[i])
    deadlock = run.deadlock
    if deadlock is not None:
        cycles = max(last.values(), default=-1) + 1
        deadlock = Deadlock(cycles, tuple(dataclasses.replace(b, firing=-1) if b.context in programs else b
                                          for b in deadlock.blocked))
    else:
        cycles = max((t + graph.context(c).latency_cycles for c, t in last.items()), default=-1) + 1
    if max_cycles is not None and cycles > max_cycles:
        raise RuntimeError(f"graph '{graph.name}' still running after max_cycles={max_cycles} "
                           f"(contexts not blocked on a channel: {[c for c, t in last.items() if t >= max_cycles]})")
    chans = run.channels
    return StreamResult(
        graph=graph.name, executor="compiled", cycles=cycles, firings=firings,
        tokens={c: int(run.written[i]) for i, c in enumerate(chans)},
        tokens_read={c: int(run.read[i]) for i, c in enumerate(chans)},
        max_occupancy={c: int(run.max_occupancy[i]) for i, c in enumerate(chans)}, deadlock=deadlock,
        fire_times=fire_times if record else None,
        channel_times=dict(zip(chans, run.channel_times)) if record and run.channel_times else None,
        values=None if deadlock is not None else _values(graph, fire_times, values, tokens, programs, carried))


def _values(graph: StreamGraph, fire_times: dict[str, np.ndarray], values: bool, tokens: bool,
            programs: dict[str, Program], carried: dict[str, list[Any]]) -> dict[str, Any] | None:
    if tokens:
        if programs:
            return {name: np.asarray(v) for name, v in carried.items()}
        return dict(replay(graph, schedule_order(graph, fire_times)))
    if not values:
        return None
    made = {ch.name: np.asarray(carried[ch.name]) for ch in graph.channels if ch.src_context in programs}
    return dict(evaluate(graph, made))
