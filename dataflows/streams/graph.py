"""Streaming-dataflow graphs as data: contexts (processes) joined by channels.

A graph is a description only; executors in ``simulator.streaming`` run it.

Semantics (shared by every executor, in cycles):

* A **static-rate context** fires ``firings`` times. Firing ``k`` consumes
  ``rate(port, k)`` tokens from every input port and produces ``rate(port, k)`` tokens
  on every output port, where a port's rate is a cyclic pattern (cyclo-static dataflow):
  ``pattern[k % len(pattern)]``. A constant rate is a pattern of length one, and a
  data-independent "emit once per row after N inputs" is the pattern ``[0]*(N-1) + [1]``.
* Firing ``k`` starts at ``s[k] = max(s[k-1] + ii_cycles, visible time of every input token
  it consumes, read time of the token ``capacity`` places earlier on every output channel)``.
  It reads its inputs and claims its output slots at ``s[k]``; its output tokens become
  visible to the consumer at ``s[k] + latency_cycles + channel.latency_cycles``.
* A **channel** holds at most ``capacity`` tokens, counted from the cycle a token is written
  (the producer's firing) until the cycle it is read (the consumer's firing); a slot freed
  at cycle ``t`` may be written at ``t``. ``latency_cycles >= 1``, so no token is seen in the
  cycle it is written. ``initial_tokens`` are present (and visible) at cycle 0.
* A **generator context** runs a Python generator for behaviour that depends on token values
  (what it reads, writes and works may depend on the values it reads, never on the cycle).

Values: a static context may carry ``fn``, a numpy function over whole streams:
``fn(*input_streams) -> output_stream | tuple(output_streams)``; each stream is an array whose
first axis is the token index. A Kahn network's values do not depend on timing, so values
can be evaluated once (``dataflows.streams.values``) and timing separately.  A context may also
carry ``step``, the same arithmetic one firing at a time on token values; executors run with
``tokens=True`` then carry real values through the channels as they fire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from acceldse.workloads.errors import SpecError, require_int

StreamFn = Callable[..., Any]
"""``fn(*input_streams) -> output stream or tuple of output streams`` (numpy arrays)."""

StepFn = Callable[[dict[str, Any], int, tuple[list[Any], ...]], tuple[list[Any], ...]]
"""``step(state, firing, input_tokens) -> output_tokens``: one firing on token values.

``input_tokens`` holds, per input port, the list of tokens this firing consumes (as many as the
port's rate); the result holds, per output port, the tokens it produces (as many as the rate).
``state`` is a dict private to the context, kept across its firings (accumulators)."""


def _pattern(value: int | Sequence[int], *, key: str) -> tuple[int, ...]:
    """Normalise a rate (an int or a cyclic pattern of ints >= 0) to a non-empty tuple."""
    if isinstance(value, int | float | str):
        items: Sequence[Any] = [value]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise SpecError("rate must be an integer or a list of integers", key=key, value=value,
                        accepted="an integer >= 0 or a non-empty list of integers >= 0")
    if len(items) == 0:
        raise SpecError("rate pattern is empty", key=key, value=value,
                        accepted="an integer >= 0 or a non-empty list of integers >= 0")
    return tuple(require_int(v, key=key, minimum=0) for v in items)


@dataclass(frozen=True, eq=False)
class Context:
    """A static-rate (cyclo-static) context.

    Args:
        name: unique name.
        inputs: input port names, in the order ``fn`` receives their streams.
        outputs: output port names, in the order ``fn`` returns their streams.
        firings: total number of firings of this context in one run (>= 1).
        rates: tokens per firing for each port: an int, or a cyclic pattern (firing ``k``
            uses ``pattern[k % len(pattern)]``). A port missing here has rate 1.
        ii_cycles: initiation interval, cycles between successive firings (>= 1).
        latency_cycles: pipeline latency, cycles from a firing to its outputs (>= 0).
        fn: optional numpy function over whole streams computing the output values.
        step: optional per-firing function on token values (``StepFn``); executors that carry
            tokens (``run_compiled(tokens=True)``) call it once per firing, in their schedule's order.
    """

    name: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    firings: int = 1
    rates: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    ii_cycles: int = 1
    latency_cycles: int = 0
    fn: StreamFn | None = None
    step: StepFn | None = None

    def __post_init__(self) -> None:
        key = f"contexts.{self.name}"
        if not isinstance(self.name, str) or not self.name:
            raise SpecError("context name must be a non-empty string", key="contexts", value=self.name)
        ports = tuple(self.inputs) + tuple(self.outputs)
        if len(set(ports)) != len(ports):
            raise SpecError("port names must be unique within a context", key=f"{key}.ports",
                            value=ports)
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "firings", require_int(self.firings, key=f"{key}.firings"))
        object.__setattr__(self, "ii_cycles", require_int(self.ii_cycles, key=f"{key}.ii_cycles"))
        object.__setattr__(self, "latency_cycles",
                           require_int(self.latency_cycles, key=f"{key}.latency_cycles", minimum=0))
        unknown = set(self.rates) - set(ports)
        if unknown:
            raise SpecError("rate given for a port the context does not have",
                            key=f"{key}.rates", value=sorted(unknown), accepted=f"one of {list(ports)}")
        rates = {p: _pattern(self.rates.get(p, 1), key=f"{key}.rates.{p}") for p in ports}
        object.__setattr__(self, "rates", MappingProxyType(rates))

    def rate(self, port: str, firing: int) -> int:
        """Tokens moved on ``port`` by firing number ``firing`` (0-based)."""
        pattern = self.rates[port]
        return pattern[firing % len(pattern)]

    def total_tokens(self, port: str) -> int:
        """Tokens moved on ``port`` over all ``firings``."""
        pattern = self.rates[port]
        full, rest = divmod(self.firings, len(pattern))
        return full * sum(pattern) + sum(pattern[:rest])


@dataclass(frozen=True, eq=False)
class GeneratorContext:
    """A data-dependent context.

    ``body(io)`` is a generator function; inside it use ``value = yield from io.read(port)``,
    ``yield from io.write(port, value)`` and ``yield from io.work(cycles)``. Each read waits
    for a visible token, each write for a free slot; written tokens become visible
    ``latency_cycles + channel latency`` cycles later. The context is done when ``body``
    returns. What it does may depend on the values it reads, not on time (the executor finds its
    actions from the values, then times them: ``simulator.streaming.generators``).
    """

    name: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    body: Callable[[Any], Any] | None = None
    latency_cycles: int = 0

    def __post_init__(self) -> None:
        key = f"contexts.{self.name}"
        if not isinstance(self.name, str) or not self.name:
            raise SpecError("context name must be a non-empty string", key="contexts", value=self.name)
        if not callable(self.body):
            raise SpecError("generator context needs a callable body", key=f"{key}.body",
                            value=self.body, accepted="a generator function body(io)")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "latency_cycles",
                           require_int(self.latency_cycles, key=f"{key}.latency_cycles", minimum=0))


AnyContext = Context | GeneratorContext


@dataclass(frozen=True)
class Channel:
    """A bounded FIFO from ``src`` ("context.port") to ``dst`` ("context.port").

    Args:
        name: unique name (used in deadlock reports and traces).
        src: producer end as ``"context.port"``.
        dst: consumer end as ``"context.port"``.
        capacity: tokens it can hold (>= 1).
        latency_cycles: cycles from write to visibility at the consumer (>= 1).
        initial_tokens: tokens present at cycle 0 (0 <= initial_tokens <= capacity).
    """

    name: str
    src: str
    dst: str
    capacity: int = 1
    latency_cycles: int = 1
    initial_tokens: int = 0

    def __post_init__(self) -> None:
        key = f"channels.{self.name}"
        object.__setattr__(self, "capacity", require_int(self.capacity, key=f"{key}.capacity"))
        latency = self.latency_cycles
        if isinstance(latency, int) and not isinstance(latency, bool) and latency == 0:
            raise SpecError(f"channel '{self.name}' has zero latency", key=f"{key}.latency_cycles",
                            value=latency, accepted="an integer >= 1 (a token cannot be seen in the "
                            "cycle it is written)")
        object.__setattr__(self, "latency_cycles", require_int(latency, key=f"{key}.latency_cycles"))
        object.__setattr__(self, "initial_tokens",
                           require_int(self.initial_tokens, key=f"{key}.initial_tokens", minimum=0))
        if self.initial_tokens > self.capacity:
            raise SpecError("more initial tokens than capacity", key=f"{key}.initial_tokens",
                            value=self.initial_tokens, accepted=f"an integer <= capacity {self.capacity}")
        for end in ("src", "dst"):
            text = getattr(self, end)
            if not isinstance(text, str) or text.count(".") != 1 or "" in text.split("."):
                raise SpecError("endpoint must be 'context.port'", key=f"{key}.{end}", value=text,
                                accepted="a string 'context.port'")

    @property
    def src_context(self) -> str:
        return self.src.split(".")[0]

    @property
    def src_port(self) -> str:
        return self.src.split(".")[1]

    @property
    def dst_context(self) -> str:
        return self.dst.split(".")[0]

    @property
    def dst_port(self) -> str:
        return self.dst.split(".")[1]


@dataclass(frozen=True, eq=False)
class StreamGraph:
    """A checked graph; build it with :func:`build_graph`."""

    name: str
    contexts: tuple[AnyContext, ...]
    channels: tuple[Channel, ...]
    port_channel: Mapping[tuple[str, str], Channel]
    """(context, port) -> the channel attached to that port."""

    def context(self, name: str) -> AnyContext:
        for ctx in self.contexts:
            if ctx.name == name:
                return ctx
        raise KeyError(name)

    @property
    def is_static(self) -> bool:
        """True when every context is static-rate (the compiled executor can run it)."""
        return all(isinstance(c, Context) for c in self.contexts)

    def channel_tokens(self, channel: Channel) -> int | None:
        """Tokens written over a run (initial tokens included); None if the producer is a generator."""
        ctx = self.context(channel.src_context)
        if not isinstance(ctx, Context):
            return None
        return channel.initial_tokens + ctx.total_tokens(channel.src_port)


def build_graph(contexts: Iterable[AnyContext], channels: Iterable[Channel], *,
                name: str = "graph") -> StreamGraph:
    """Check structure and return a :class:`StreamGraph`.

    Raises:
        SpecError: duplicate names, an endpoint naming an unknown context or port, a port
            with no channel or two channels, a consumer that reads more tokens than will ever
            be written, or a directed cycle with no initial token on any of its channels.
    """
    ctxs = tuple(contexts)
    chans = tuple(channels)
    by_name: dict[str, AnyContext] = {}
    for ctx in ctxs:
        if ctx.name in by_name:
            raise SpecError("duplicate context name", source=name, key="contexts", value=ctx.name)
        by_name[ctx.name] = ctx
    seen: set[str] = set()
    attached: dict[tuple[str, str], Channel] = {}
    for ch in chans:
        if ch.name in seen:
            raise SpecError("duplicate channel name", source=name, key="channels", value=ch.name)
        seen.add(ch.name)
        for end, ctx_name, port, kind in ((f"channels.{ch.name}.src", ch.src_context, ch.src_port, "outputs"),
                                          (f"channels.{ch.name}.dst", ch.dst_context, ch.dst_port, "inputs")):
            if ctx_name not in by_name:
                raise SpecError(f"channel '{ch.name}' names an unknown context", source=name, key=end,
                                value=ctx_name, accepted=f"one of {sorted(by_name)}")
            ports = getattr(by_name[ctx_name], kind)
            if port not in ports:
                raise SpecError(f"channel '{ch.name}' names an unknown {kind[:-1]} port of "
                                f"'{ctx_name}'", source=name, key=end, value=port,
                                accepted=f"one of {list(ports)}")
            if (ctx_name, port) in attached:
                raise SpecError(f"port '{ctx_name}.{port}' has two channels "
                                f"('{attached[(ctx_name, port)].name}' and '{ch.name}')",
                                source=name, key=end, value=port)
            attached[(ctx_name, port)] = ch
    for ctx in ctxs:
        for port in ctx.inputs + ctx.outputs:
            if (ctx.name, port) not in attached:
                raise SpecError(f"context '{ctx.name}' has a dangling port '{port}' (no channel)",
                                source=name, key=f"contexts.{ctx.name}.{port}", value=port,
                                accepted="every port connected to exactly one channel")
    graph = StreamGraph(name=name, contexts=ctxs, channels=chans,
                        port_channel=MappingProxyType(dict(attached)))
    _check_rates(graph)
    _check_cycles(graph)
    return graph


def _check_rates(graph: StreamGraph) -> None:
    for ch in graph.channels:
        dst = graph.context(ch.dst_context)
        available = graph.channel_tokens(ch)
        if available is None or not isinstance(dst, Context):
            continue
        wanted = dst.total_tokens(ch.dst_port)
        if wanted > available:
            raise SpecError(f"channel '{ch.name}': consumer '{dst.name}' reads {wanted} tokens but only "
                            f"{available} are ever written", source=graph.name,
                            key=f"channels.{ch.name}", value=wanted,
                            accepted=f"rates that read at most {available} tokens")


def _check_cycles(graph: StreamGraph) -> None:
    """Reject a directed cycle whose channels all start empty (it can never fire)."""
    succ: dict[str, list[Channel]] = {c.name: [] for c in graph.contexts}
    for ch in graph.channels:
        if ch.initial_tokens == 0:
            succ[ch.src_context].append(ch)
    state: dict[str, int] = {}
    stack_path: list[Channel] = []

    def visit(node: str) -> None:
        state[node] = 1
        for ch in succ[node]:
            nxt = ch.dst_context
            stack_path.append(ch)
            if state.get(nxt) == 1:
                start = next(i for i, c in enumerate(stack_path) if c.src_context == nxt)
                cyc = stack_path[start:]
                raise SpecError("cycle without buffering: no channel on it has an initial token "
                                f"(channels {[c.name for c in cyc]}, contexts "
                                f"{[c.src_context for c in cyc]})", source=graph.name,
                                key=f"channels.{cyc[0].name}.initial_tokens", value=0,
                                accepted="at least one channel on every cycle with initial_tokens >= 1")
            if nxt not in state:
                visit(nxt)
            stack_path.pop()
        state[node] = 2

    for ctx in graph.contexts:
        if ctx.name not in state:
            visit(ctx.name)
