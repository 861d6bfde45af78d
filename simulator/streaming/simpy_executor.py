"""SimPy executor: every context a SimPy process, every channel a bounded store with credits.

A process keeps its own readiness time (previous firing + II); it blocks on a channel event
only when the token it needs has not been written or the slot it needs has not been freed,
and otherwise waits (``timeout``) until the token becomes visible. The simulation runs until
the event queue is empty; processes that have not finished then are deadlocked, and each one
records the channel it was waiting on, so a deadlock is reported, never a hang.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from acceldse.dataflows.streams.graph import Channel, Context, GeneratorContext, StreamGraph
from acceldse.dataflows.streams.tokens import call_step
from acceldse.dataflows.streams.values import evaluate
from acceldse.simulator.streaming.kernels import max_occupancy
from acceldse.simulator.streaming.result import BlockedContext, Deadlock, StreamResult


class _Chan:
    """Run-time state of one channel: token times, counters, wake-up events, values."""

    def __init__(self, env: simpy.Environment, spec: Channel, producer_latency: int) -> None:
        self.env = env
        self.spec = spec
        self.delay = producer_latency + spec.latency_cycles
        self.write_time: list[int] = [-self.delay] * spec.initial_tokens
        self.read_time: list[int] = []
        self.written = spec.initial_tokens
        self.readcnt = 0
        self.on_write = env.event()
        self.on_read = env.event()
        self.stream: Any = None
        self.gen_values: list[Any] = [0.0] * spec.initial_tokens

    def value(self, j: int) -> Any:
        if self.stream is not None:
            return self.stream[j]
        return self.gen_values[j] if j < len(self.gen_values) else None

    def write(self, count: int, values: list[Any] | None = None) -> None:
        now = int(self.env.now)
        self.write_time.extend([now] * count)
        if values is not None:
            self.gen_values.extend(values)
        self.written += count
        event, self.on_write = self.on_write, self.env.event()
        event.succeed()

    def read(self, count: int) -> None:
        self.read_time.extend([int(self.env.now)] * count)
        self.readcnt += count
        event, self.on_read = self.on_read, self.env.event()
        event.succeed()


class _Run:
    """Shared state of one SimPy run."""

    def __init__(self, graph: StreamGraph, record: bool, tokens: bool = False) -> None:
        self.env = simpy.Environment()
        self.graph = graph
        self.record = record
        self.tokens = tokens
        self.states: dict[str, dict[str, Any]] = {c.name: {} for c in graph.contexts}
        self.chans = {ch.name: _Chan(self.env, ch, graph.context(ch.src_context).latency_cycles)
                      for ch in graph.channels}
        self.waiting: dict[str, tuple[str, str]] = {}
        self.fires: dict[str, list[int]] = {c.name: [] for c in graph.contexts}
        self.count: dict[str, int] = {c.name: 0 for c in graph.contexts}
        self.last: dict[str, int] = {}
        self.done: set[str] = set()

    def port(self, ctx: str, port: str) -> _Chan:
        return self.chans[self.graph.port_channel[(ctx, port)].name]

    def wait_token(self, ctx: str, ch: _Chan, j: int) -> Generator[Any, Any, None]:
        """Wait until token ``j`` of ``ch`` has been written and is visible."""
        while j >= ch.written:
            self.waiting[ctx] = (ch.spec.name, "empty")
            yield ch.on_write
        self.waiting.pop(ctx, None)
        visible = ch.write_time[j] + ch.delay
        if visible > self.env.now:
            yield self.env.timeout(visible - self.env.now)

    def wait_slot(self, ctx: str, ch: _Chan, j: int) -> Generator[Any, Any, None]:
        """Wait until the slot for token ``j`` of ``ch`` is free (token ``j - capacity`` read)."""
        while j - ch.spec.capacity >= ch.readcnt:
            self.waiting[ctx] = (ch.spec.name, "full")
            yield ch.on_read
        self.waiting.pop(ctx, None)

    def fired(self, ctx: str) -> None:
        now = int(self.env.now)
        self.last[ctx] = now
        self.count[ctx] += 1
        if self.record:
            self.fires[ctx].append(now)

    def static(self, ctx: Context) -> Generator[Any, Any, None]:
        env = self.env
        ins = [(p, self.port(ctx.name, p)) for p in ctx.inputs]
        outs = [(p, self.port(ctx.name, p)) for p in ctx.outputs]
        for k in range(ctx.firings):
            if k > 0:
                ready = self.last[ctx.name] + ctx.ii_cycles
                if ready > env.now:
                    yield env.timeout(ready - env.now)
            for port, ch in ins:
                r = ctx.rate(port, k)
                if r > 0:
                    yield from self.wait_token(ctx.name, ch, ch.readcnt + r - 1)
            for port, ch in outs:
                r = ctx.rate(port, k)
                if r > 0:
                    yield from self.wait_slot(ctx.name, ch, ch.written + r - 1)
            produced = self.carry(ctx, k, ins) if self.tokens else None
            for port, ch in ins:
                r = ctx.rate(port, k)
                if r > 0:
                    ch.read(r)
            for i, (port, ch) in enumerate(outs):
                r = ctx.rate(port, k)
                if r > 0:
                    ch.write(r, None if produced is None else produced[i])
            self.fired(ctx.name)
        self.done.add(ctx.name)

    def carry(self, ctx: Context, k: int, ins: list[tuple[str, _Chan]]) -> tuple[list[Any], ...]:
        """Run firing ``k``'s ``step`` on the token values it consumes; the values it produces."""
        values = tuple(ch.gen_values[ch.readcnt:ch.readcnt + ctx.rate(port, k)] for port, ch in ins)
        return call_step(ctx, self.states[ctx.name], k, values)

    def generator(self, ctx: GeneratorContext) -> Generator[Any, Any, None]:
        assert ctx.body is not None
        yield from ctx.body(_GeneratorIO(self, ctx))
        self.done.add(ctx.name)


class _GeneratorIO:
    """What a generator context's body uses: ``read``, ``write``, ``work``, ``now``."""

    def __init__(self, run: _Run, ctx: GeneratorContext) -> None:
        self._run = run
        self._ctx = ctx

    @property
    def now(self) -> int:
        """The current cycle."""
        return int(self._run.env.now)

    def read(self, port: str) -> Generator[Any, Any, Any]:
        """Wait for the next token on input ``port`` and return its value."""
        ch = self._run.port(self._ctx.name, port)
        j = ch.readcnt
        yield from self._run.wait_token(self._ctx.name, ch, j)
        ch.read(1)
        self._run.fired(self._ctx.name)
        return ch.value(j)

    def write(self, port: str, value: Any = None) -> Generator[Any, Any, None]:
        """Wait for a free slot on output ``port`` and write one token holding ``value``."""
        ch = self._run.port(self._ctx.name, port)
        yield from self._run.wait_slot(self._ctx.name, ch, ch.written)
        ch.write(1, [value])
        self._run.fired(self._ctx.name)

    def work(self, cycles: int) -> Generator[Any, Any, None]:
        """Spend ``cycles`` cycles computing."""
        if cycles > 0:
            yield self._run.env.timeout(cycles)


def run_simpy(graph: StreamGraph, *, record: bool = False, values: bool = False,
              max_cycles: int | None = None, tokens: bool = False) -> StreamResult:
    """Run any graph (static or generator contexts) as SimPy processes.

    Args:
        graph: a built graph.
        record: keep every firing time and every token's write/read cycle.
        values: evaluate value streams (``result.values``); always done for the tokens that
            generator contexts read.
        tokens: carry real token values through the contexts as they fire (every static
            context's ``step``); ``result.values`` then holds the tokens each channel carried.
        max_cycles: stop a generator that keeps working without ever finishing (a livelock,
            which no channel state reveals) after this many cycles. Static contexts always
            finish or block, so the default (None, no limit) cannot hang on static graphs.

    Returns:
        A :class:`StreamResult`; ``result.deadlock`` is set when the graph cannot finish.

    Raises:
        RuntimeError: ``max_cycles`` passed with contexts still running.
    """
    run = _Run(graph, record, tokens)
    if (values or not graph.is_static) and not tokens:
        for name, stream in evaluate(graph).items():
            run.chans[name].stream = stream
    for ctx in graph.contexts:
        proc = run.static(ctx) if isinstance(ctx, Context) else run.generator(ctx)
        run.env.process(proc)
    run.env.run(until=max_cycles)
    busy = [c.name for c in graph.contexts if c.name not in run.done and c.name not in run.waiting]
    if busy:
        raise RuntimeError(f"graph '{graph.name}' still running after max_cycles={max_cycles} "
                           f"(contexts not blocked on a channel: {busy})")
    deadlock = None
    unfinished = [c for c in graph.contexts if c.name not in run.done]
    if unfinished:
        cycle = max(run.last.values()) + 1 if run.last else 0
        blocked = []
        for ctx in unfinished:
            ch_name, reason = run.waiting[ctx.name]
            ch = run.chans[ch_name]
            blocked.append(BlockedContext(context=ctx.name, channel=ch_name, reason=reason,
                                          occupancy=ch.written - ch.readcnt, capacity=ch.spec.capacity,
                                          firing=run.count[ctx.name] if isinstance(ctx, Context) else -1,
                                          waits_for=ch.spec.dst_context if reason == "full"
                                          else ch.spec.src_context))
        deadlock = Deadlock(cycle=cycle, blocked=tuple(blocked))
        cycles = cycle
    else:
        cycles = max((run.last[c.name] + c.latency_cycles for c in graph.contexts if c.name in run.last),
                     default=-1) + 1
    occupancy = {}
    times = {}
    for name, ch in run.chans.items():
        w = np.asarray(ch.write_time, np.int64)
        r = np.asarray(ch.read_time, np.int64)
        occupancy[name] = int(max_occupancy(w, r))
        times[name] = (w, r)
    result_values: dict[str, Any] | None = None
    if tokens and deadlock is None:
        result_values = {name: np.asarray(ch.gen_values) for name, ch in run.chans.items()}
    elif values and deadlock is None:
        overrides = {ch.spec.name: np.asarray(ch.gen_values) for ch in run.chans.values()
                     if isinstance(graph.context(ch.spec.src_context), GeneratorContext)}
        result_values = evaluate(graph, overrides)
    return StreamResult(
        graph=graph.name, executor="simpy", cycles=cycles, firings=dict(run.count),
        tokens={name: ch.written for name, ch in run.chans.items()},
        tokens_read={name: ch.readcnt for name, ch in run.chans.items()}, max_occupancy=occupancy,
        deadlock=deadlock, fire_times={k: np.asarray(v, np.int64) for k, v in run.fires.items()} if record else None,
        channel_times=times if record else None, values=result_values)
