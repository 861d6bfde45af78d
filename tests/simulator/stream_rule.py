"""References for the streaming executor's tests: the documented timing rule and occupancy, transcribed
literally in plain Python (independent of the engine's kernel)."""

from __future__ import annotations

import numpy as np

from acceldse.dataflows.streams import Context, GeneratorContext, StreamGraph, build_graph


def max_occupancy_reference(w: np.ndarray, r: np.ndarray) -> int:
    """Most tokens held at once, straight from the definition: max over write cycles t of writes <= t - reads <= t."""
    times = sorted(set(w.tolist()))
    return max([int((w <= t).sum() - (r <= t).sum()) for t in times], default=0)


def timing_rule(graph: StreamGraph) -> dict:
    """The timing rule of ``dataflows.streams.graph``, transcribed literally (a reference, not the engine):
    firing k of a context starts at max(s[k-1] + ii, the visible cycle of every input token it reads, the read
    cycle of the token ``capacity`` places earlier on every output channel), in passes over the contexts
    until none can fire; occupancy is the most tokens written and not yet read at any write."""
    lat = {c.name: c.latency_cycles for c in graph.contexts}
    write = {ch.name: [-(lat[ch.src_context] + ch.latency_cycles)] * ch.initial_tokens for ch in graph.channels}
    visible = {ch.name: [0] * ch.initial_tokens for ch in graph.channels}
    read: dict[str, list[int]] = {ch.name: [] for ch in graph.channels}
    cap = {ch.name: ch.capacity for ch in graph.channels}
    starts: dict[str, list[int]] = {c.name: [] for c in graph.contexts}
    ports = {c.name: [(p, graph.port_channel[(c.name, p)]) for p in c.inputs + c.outputs] for c in graph.contexts}
    blocked = {}
    moved = True
    while moved:
        moved = False
        for ctx in graph.contexts:
            while len(starts[ctx.name]) < ctx.firings:
                k = len(starts[ctx.name])
                t = starts[ctx.name][-1] + ctx.ii_cycles if k else 0
                for p, ch in ports[ctx.name]:
                    r, n = ctx.rate(p, k), ch.name
                    if r and p in ctx.inputs:
                        if len(read[n]) + r > len(write[n]):
                            blocked[ctx.name] = (n, "empty")
                            break
                        t = max([t] + visible[n][len(read[n]): len(read[n]) + r])
                    elif r and len(write[n]) + r - 1 - cap[n] >= 0:
                        if len(write[n]) + r - 1 - cap[n] >= len(read[n]):
                            blocked[ctx.name] = (n, "full")
                            break
                        t = max(t, read[n][len(write[n]) + r - 1 - cap[n]])
                else:
                    blocked.pop(ctx.name, None)
                    for p, ch in ports[ctx.name]:
                        r = ctx.rate(p, k)
                        (read if p in ctx.inputs else write)[ch.name].extend([t] * r)
                        if p in ctx.outputs:
                            visible[ch.name].extend([t + ctx.latency_cycles + ch.latency_cycles] * r)
                    starts[ctx.name].append(t)
                    moved = True
                    continue
                break
    last = [(s[-1], lat[c]) for c, s in starts.items() if s]
    done = not blocked
    return {"cycles": max(s + (lt if done else 0) for s, lt in last) + 1 if last else 0,
            "firings": {c: len(s) for c, s in starts.items()}, "tokens": {c: len(w) for c, w in write.items()},
            "max_occupancy": {c: max_occupancy_reference(np.asarray(write[c]), np.asarray(read[c])) for c in write},
            "blocked": [(c.name, *blocked[c.name]) for c in graph.contexts if c.name in blocked],
            "fire_times": starts, "channel_times": {c: (write[c], read[c]) for c in write}}


def as_generators(graph: StreamGraph) -> StreamGraph:
    """The graph with its source and its sink (one port each) as generator contexts doing the same: write (read)
    a token, then work ii cycles -- the same timing as the static context."""
    def gen(ctx: Context) -> GeneratorContext:
        port = (ctx.inputs + ctx.outputs)[0]

        def body(io):  # type: ignore[no-untyped-def]
            for _ in range(ctx.total_tokens(port)):
                yield from (io.read(port) if ctx.inputs else io.write(port, 0.0))
                yield from io.work(ctx.ii_cycles)
        return GeneratorContext(ctx.name, ctx.inputs, ctx.outputs, body=body, latency_cycles=ctx.latency_cycles)

    simple = [gen(c) if len(c.inputs + c.outputs) == 1 and c.rates[(c.inputs + c.outputs)[0]] == (1,) else c
              for c in graph.contexts]
    return build_graph(simple, graph.channels, name=graph.name)
