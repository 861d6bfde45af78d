"""Carrying token values through contexts, one firing at a time (``Context.step``).

``call_step`` runs one firing and checks it produced one token per unit of each output port's
rate.  ``replay`` carries values through a whole graph in a given firing order -- the order an
executor's schedule fired the contexts in -- with each channel a FIFO of token values, and
returns every channel's token stream.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Context, StreamGraph
from acceldse.workloads.errors import SpecError


def call_step(ctx: Context, state: dict[str, Any], firing: int, inputs: tuple[list[Any], ...]) -> tuple[list[Any], ...]:
    """Run firing ``firing`` of ``ctx`` on ``inputs``; the output tokens per output port."""
    if ctx.step is None:
        raise SpecError("context has no step function to carry token values", key=f"contexts.{ctx.name}.step",
                        accepted="a step(state, firing, inputs) function")
    outs = ctx.step(state, firing, inputs)
    if len(outs) != len(ctx.outputs):
        raise SpecError(f"step of '{ctx.name}' returned {len(outs)} port lists", key=f"contexts.{ctx.name}.step",
                        value=len(outs), accepted=f"{len(ctx.outputs)} (one per output port)")
    for port, tokens in zip(ctx.outputs, outs):
        want = ctx.rate(port, firing)
        if len(tokens) != want:
            raise SpecError(f"step of '{ctx.name}' firing {firing} wrote {len(tokens)} tokens on '{port}'",
                            key=f"contexts.{ctx.name}.step", value=len(tokens), accepted=f"{want} (the port's rate)")
    return tuple(list(t) for t in outs)


def replay(graph: StreamGraph, order: Iterable[tuple[str, int]]) -> dict[str, np.ndarray]:
    """Every channel's token values when the contexts fire in ``order`` ((context, firing) pairs).

    ``order`` must respect the data dependencies (a firing after the ones producing its inputs),
    as every executor's schedule does.
    """
    fifo: dict[str, deque[Any]] = {ch.name: deque([0.0] * ch.initial_tokens) for ch in graph.channels}
    stream: dict[str, list[Any]] = {ch.name: [0.0] * ch.initial_tokens for ch in graph.channels}
    states: dict[str, dict[str, Any]] = {c.name: {} for c in graph.contexts}
    for name, k in order:
        ctx = graph.context(name)
        assert isinstance(ctx, Context)
        ins = []
        for port in ctx.inputs:
            ch = graph.port_channel[(name, port)].name
            r = ctx.rate(port, k)
            if len(fifo[ch]) < r:
                raise SpecError(f"firing {k} of '{name}' ordered before its input tokens on '{ch}'",
                                source=graph.name, key="order")
            ins.append([fifo[ch].popleft() for _ in range(r)])
        for port, tokens in zip(ctx.outputs, call_step(ctx, states[name], k, tuple(ins))):
            ch = graph.port_channel[(name, port)].name
            fifo[ch].extend(tokens)
            stream[ch].extend(tokens)
    return {name: np.asarray(tokens) for name, tokens in stream.items()}


def schedule_order(graph: StreamGraph, fire_times: dict[str, np.ndarray]) -> list[tuple[str, int]]:
    """(context, firing) pairs sorted by firing cycle; ties in topological order of the contexts."""
    from acceldse.dataflows.streams.values import topological_order

    rank = {name: i for i, name in enumerate(topological_order(graph) or [c.name for c in graph.contexts])}
    events = [(int(t), rank[name], name, k) for name, times in fire_times.items() for k, t in enumerate(times)]
    events.sort()
    return [(name, k) for _, _, name, k in events]
