"""Compiled executor: exact firing times of a static-rate graph, lowered to a :class:`Net`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Context, StreamGraph
from acceldse.dataflows.streams.tokens import replay, schedule_order
from acceldse.dataflows.streams.values import evaluate
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.streaming.result import StreamResult
from acceldse.workloads.errors import SpecError


def lower(graph: StreamGraph, net: Net | None = None, *, prefix: str = "",
          inputs: Mapping[str, list[tuple[int, int]]] | None = None,
          outputs: Mapping[str, list[tuple[int, int]]] | None = None) -> Net:
    """The graph as contexts and channels of a :class:`Net`: one context per context, one channel per channel.

    A context's latency is its outputs' latency; a channel's initial tokens count as written
    ``latency`` cycles before 0 (visible at 0). By default a new cycle-level (int64) net; or added
    to ``net`` with names prefixed ``prefix``, ``inputs`` / ``outputs`` giving extra ports
    ``(channel, tokens per firing)`` per context name (e.g. a loader feeding a source).

    Raises:
        SpecError: the graph has a generator context (use the SimPy executor).
    """
    if not graph.is_static:
        names = [c.name for c in graph.contexts if not isinstance(c, Context)]
        raise SpecError("the compiled executor runs static-rate graphs only", source=graph.name,
                        key="contexts", value=names, accepted="Context (use executor='simpy' for generators)")
    net = Net(graph.name, np.int64) if net is None else net
    index = {}
    for ch in graph.channels:
        vis = graph.context(ch.src_context).latency_cycles + ch.latency_cycles
        index[ch.name] = net.channel(prefix + ch.name, capacity=ch.capacity, latency=ch.latency_cycles,
                                     initial=ch.initial_tokens, initial_write=-vis)
    for ctx in graph.contexts:
        assert isinstance(ctx, Context)
        net.context(prefix + ctx.name, ctx.firings, ii=ctx.ii_cycles, latency=ctx.latency_cycles,
                    inputs=[(index[graph.port_channel[(ctx.name, p)].name], ctx.rates[p]) for p in ctx.inputs]
                    + list((inputs or {}).get(ctx.name, [])),
                    outputs=[(index[graph.port_channel[(ctx.name, p)].name], ctx.rates[p]) for p in ctx.outputs]
                    + list((outputs or {}).get(ctx.name, [])))
    return net


def run_compiled(graph: StreamGraph, *, record: bool = False, values: bool = False,
                 tokens: bool = False) -> StreamResult:
    """Run a static-rate graph with the compiled recurrence.

    Args:
        graph: a graph whose contexts are all static-rate.
        record: keep every firing time and every token's write/read cycle (for traces).
        values: evaluate the value stream of every channel (``result.values``).
        tokens: carry token values through every context's ``step`` in the order the compiled
            schedule fired them (``result.values`` holds each channel's tokens); implies ``record``.

    Returns:
        A :class:`StreamResult`; ``result.deadlock`` is set when the graph cannot finish.
    """
    record = record or tokens
    run = lower(graph).run(record=record)
    names = run.names
    lat = np.array([c.latency_cycles for c in graph.contexts], np.int64)
    if run.deadlock is not None:
        cycles = run.deadlock.cycle
    else:
        cycles = int((run.last_start + lat).max()) + 1 if names else 0
    fire_times = dict(zip(names, run.fire_time)) if run.fire_time is not None else None
    chans = run.channels
    return StreamResult(
        graph=graph.name, executor="compiled", cycles=cycles,
        firings={n: int(run.firings[i]) for i, n in enumerate(names)},
        tokens={c: int(run.written[i]) for i, c in enumerate(chans)},
        tokens_read={c: int(run.read[i]) for i, c in enumerate(chans)},
        max_occupancy={c: int(run.max_occupancy[i]) for i, c in enumerate(chans)}, deadlock=run.deadlock,
        fire_times=fire_times, channel_times=dict(zip(chans, run.channel_times)) if run.channel_times else None,
        values=_values(graph, fire_times, values, tokens) if run.deadlock is None else None)


def _values(graph: StreamGraph, fire_times: dict[str, np.ndarray] | None, values: bool,
            tokens: bool) -> dict[str, Any] | None:
    if tokens:
        assert fire_times is not None
        return dict(replay(graph, schedule_order(graph, fire_times)))
    return dict(evaluate(graph)) if values else None
