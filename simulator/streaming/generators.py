"""Generator (data-dependent) contexts on the compiled engine: their programs from one untimed run.

A generator context reads, writes and works as the values it reads dictate, never as the clock
does: the graph is a Kahn process network with blocking reads and (bounded FIFOs) blocking
writes, so what every context does -- and where it blocks for good -- is fixed by the values
alone, whatever the schedule. :func:`untimed_run` runs the graph once without time (contexts in
graph order, each as far as its tokens and free slots allow, until nothing moves) and records
every generator's actions; ``compiled.lower`` then makes each one a cyclo-static context of one
firing per action, which the compiled kernel times with the FIFO rule, deadlock report and trace
of every other graph. A generator blocked in the untimed run ends its program with the action it
blocked on, so the timed run blocks there too and reports the deadlock.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Context, GeneratorContext, StreamGraph
from acceldse.dataflows.streams.tokens import call_step
from acceldse.workloads.errors import SpecError

READ, WRITE, WORK = 0, 1, 2


@dataclass
class Program:
    """A generator context's actions, one firing each: ``kind`` (READ, WRITE or WORK), its ``port``
    (an input or output port name; "" for WORK) and its ``cycles`` (WORK only)."""

    kind: list[int] = field(default_factory=list)
    port: list[str] = field(default_factory=list)
    cycles: list[int] = field(default_factory=list)

    def add(self, kind: int, port: str = "", cycles: int = 0) -> None:
        self.kind.append(kind)
        self.port.append(port)
        self.cycles.append(cycles)

    @property
    def io(self) -> np.ndarray:
        """Per firing, whether it moves a token (the firings a run reports)."""
        return np.asarray(self.kind, np.int64) != WORK


class GeneratorIO:
    """What a generator context's body uses: ``x = yield from io.read(port)``,
    ``yield from io.write(port, value)``, ``yield from io.work(cycles)``."""

    def read(self, port: str) -> Generator[Any, Any, Any]:
        """Wait for the next token on input ``port`` and return its value."""
        return (yield (READ, port, None))

    def write(self, port: str, value: Any = None) -> Generator[Any, Any, None]:
        """Wait for a free slot on output ``port`` and write one token holding ``value``."""
        yield (WRITE, port, value)

    def work(self, cycles: int) -> Generator[Any, Any, None]:
        """Spend ``cycles`` cycles computing."""
        if cycles > 0:
            yield (WORK, "", int(cycles))


def untimed_run(graph: StreamGraph, streams: Mapping[str, Any] | None, *, tokens: bool = False,
                max_cycles: int | None = None) -> tuple[dict[str, Program], dict[str, list[Any]]]:
    """Every generator's program and every channel's token values (initial tokens as 0.0).

    A generator reads from ``streams[channel]`` where given (the static contexts' values), else
    the values written into the channel (by generators; with ``tokens``, by every static
    context's ``step`` too).

    Raises:
        RuntimeError: a generator's work passes ``max_cycles`` (a livelock: it keeps working
            without ever finishing).
        SpecError: a body names a port its context does not have.
    """
    chan = {ch.name: i for i, ch in enumerate(graph.channels)}
    cap = [ch.capacity for ch in graph.channels]
    written = [ch.initial_tokens for ch in graph.channels]
    read = [0] * len(cap)
    vals: list[list[Any]] = [[0.0] * ch.initial_tokens for ch in graph.channels]
    given = [None if streams is None else streams.get(ch.name) for ch in graph.channels]
    port = {(c.name, p): chan[graph.port_channel[(c.name, p)].name] for c in graph.contexts
            for p in c.inputs + c.outputs}
    programs = {c.name: Program() for c in graph.contexts if isinstance(c, GeneratorContext)}
    bodies: dict[str, Any] = {}
    pending: dict[str, tuple[int, str, Any]] = {}
    worked = dict.fromkeys(programs, 0)
    fired = dict.fromkeys((c.name for c in graph.contexts if isinstance(c, Context)), 0)
    states: dict[str, dict[str, Any]] = {name: {} for name in fired}

    def request(ctx: GeneratorContext, sent: Any) -> bool:
        """Resume ``ctx``'s body with ``sent``; False when it returned."""
        try:
            kind, name, arg = bodies[ctx.name].send(sent)
        except StopIteration:
            del pending[ctx.name]
            return False
        if kind != WORK and name not in (ctx.inputs if kind == READ else ctx.outputs):
            raise SpecError("a generator body used a port its context does not have", source=graph.name,
                            key=f"contexts.{ctx.name}", value=name,
                            accepted=f"inputs {list(ctx.inputs)} to read, outputs {list(ctx.outputs)} to write")
        programs[ctx.name].add(kind, name, arg if kind == WORK else 0)
        pending[ctx.name] = (kind, name, arg)
        return True

    for ctx in graph.contexts:
        if isinstance(ctx, GeneratorContext):
            assert ctx.body is not None
            bodies[ctx.name] = ctx.body(GeneratorIO())
            pending[ctx.name] = (WORK, "", 0)
            request(ctx, None)
    moved = True
    while moved:
        moved = False
        for ctx in graph.contexts:
            if isinstance(ctx, Context):
                while fired[ctx.name] < ctx.firings:
                    k = fired[ctx.name]
                    ins = [(port[(ctx.name, p)], ctx.rate(p, k)) for p in ctx.inputs]
                    outs = [(port[(ctx.name, p)], ctx.rate(p, k)) for p in ctx.outputs]
                    if any(written[c] - read[c] < r for c, r in ins) or any(written[c] + r - read[c] > cap[c]
                                                                            for c, r in outs):
                        break
                    made = call_step(ctx, states[ctx.name], k, tuple(vals[c][read[c]:read[c] + r] for c, r in ins)) \
                        if tokens else None
                    for c, r in ins:
                        read[c] += r
                    for i, (c, r) in enumerate(outs):
                        written[c] += r
                        if made is not None:
                            vals[c].extend(made[i])
                    fired[ctx.name] += 1
                    moved = True
                continue
            while ctx.name in pending:
                kind, name, arg = pending[ctx.name]
                c = port.get((ctx.name, name), -1)
                if kind == READ and read[c] < written[c]:
                    j, stream = read[c], given[c]
                    read[c] += 1
                    value = stream[j] if stream is not None else vals[c][j] if j < len(vals[c]) else None
                elif kind == WRITE and written[c] - read[c] < cap[c]:
                    written[c] += 1
                    vals[c].append(arg)
                    value = None
                elif kind == WORK:
                    worked[ctx.name] += arg
                    if max_cycles is not None and worked[ctx.name] > max_cycles:
                        raise RuntimeError(f"graph '{graph.name}' still running after max_cycles={max_cycles} "
                                           f"(contexts not blocked on a channel: {[ctx.name]})")
                    value = None
                else:
                    break
                moved = True
                request(ctx, value)
    return programs, {ch.name: vals[i] for i, ch in enumerate(graph.channels)}
