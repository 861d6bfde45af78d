"""Token values of a static-rate graph, evaluated stream by stream.

The graph is a Kahn process network: the values on every channel are fixed by the context
functions alone, whatever the timing. So values are evaluated once here, in topological
order, with each context's ``fn`` applied to whole input streams (numpy arrays, token index
first), while the executors compute timing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from acceldse.dataflows.streams.graph import Context, StreamGraph
from acceldse.workloads.errors import SpecError


def topological_order(graph: StreamGraph) -> list[str] | None:
    """Context names in dependency order, or None when the graph has a directed cycle."""
    indeg = {c.name: 0 for c in graph.contexts}
    succ: dict[str, list[str]] = {c.name: [] for c in graph.contexts}
    for ch in graph.channels:
        succ[ch.src_context].append(ch.dst_context)
        indeg[ch.dst_context] += 1
    ready = [n for n, d in indeg.items() if d == 0]
    order: list[str] = []
    while ready:
        node = ready.pop()
        order.append(node)
        for nxt in succ[node]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                ready.append(nxt)
    return order if len(order) == len(graph.contexts) else None


def evaluate(graph: StreamGraph,
             overrides: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray | None]:
    """Return the full value stream of every channel (None where no ``fn`` computes it).

    Args:
        graph: a built graph; must be acyclic if any context has a ``fn``.
        overrides: channel name -> stream to use instead of evaluating its producer
            (the executor passes the streams written by generator contexts).

    Raises:
        SpecError: a cycle through contexts with values, or an ``fn`` whose output has the
            wrong number of streams or tokens.
    """
    overrides = dict(overrides or {})
    order = topological_order(graph)
    if order is None:
        if any(isinstance(c, Context) and c.fn is not None for c in graph.contexts):
            raise SpecError("values can only be evaluated on an acyclic graph", source=graph.name,
                            key="contexts", accepted="no directed cycle, or no fn on any context")
        return {ch.name: overrides.get(ch.name) for ch in graph.channels}
    streams: dict[str, np.ndarray | None] = {ch.name: None for ch in graph.channels}
    streams.update(overrides)
    for name in order:
        ctx = graph.context(name)
        out_channels = [graph.port_channel[(name, p)] for p in ctx.outputs]
        if all(ch.name in overrides for ch in out_channels) and out_channels:
            continue
        if not isinstance(ctx, Context) or ctx.fn is None:
            continue
        ins = []
        for port in ctx.inputs:
            ch = graph.port_channel[(name, port)]
            stream = streams[ch.name]
            if stream is None:
                break
            ins.append(stream[: ctx.total_tokens(port)])
        else:
            result = ctx.fn(*ins)
            outs = result if isinstance(result, tuple) else (result,)
            if len(outs) != len(ctx.outputs):
                raise SpecError(f"fn of '{name}' returned {len(outs)} streams", source=graph.name,
                                key=f"contexts.{name}.fn", value=len(outs),
                                accepted=f"{len(ctx.outputs)} streams (one per output port)")
            for port, ch, out in zip(ctx.outputs, out_channels, outs, strict=True):
                arr = np.asarray(out)
                want = ctx.total_tokens(port)
                if arr.ndim == 0 or arr.shape[0] != want:
                    raise SpecError(f"fn of '{name}' returned a wrong-length stream for port '{port}'",
                                    source=graph.name, key=f"contexts.{name}.fn",
                                    value=arr.shape, accepted=f"{want} tokens on the first axis")
                if ch.initial_tokens:
                    init = np.zeros((ch.initial_tokens,) + arr.shape[1:], dtype=arr.dtype)
                    arr = np.concatenate([init, arr])
                streams[ch.name] = arr
    return streams
