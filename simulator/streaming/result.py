"""What a streaming run returns: cycles, counts, occupancy, a deadlock report, optional trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from acceldse.workloads.errors import DeadlockError

if TYPE_CHECKING:
    from acceldse.dataflows.streams.graph import StreamGraph


@dataclass(frozen=True)
class BlockedContext:
    """One context that cannot make progress.

    Attributes:
        context: its name.
        channel: the channel it waits on.
        reason: ``"empty"`` (waiting for a token that is never written) or ``"full"``
            (waiting for a slot that is never freed).
        occupancy: tokens held in ``channel`` when the run stopped.
        capacity: the channel's capacity (tokens).
        firing: index of the firing it could not start (static contexts; -1 for generators).
        waits_for: the context at the other end of ``channel`` (the one that would have to
            write, for ``empty``, or read, for ``full``).
    """

    context: str
    channel: str
    reason: str
    occupancy: int
    capacity: int
    firing: int
    waits_for: str

    def describe(self) -> str:
        verb = "reading" if self.reason == "empty" else "writing"
        return (f"'{self.context}' blocked {verb} {self.reason} channel '{self.channel}' "
                f"({self.occupancy}/{self.capacity} tokens)")


@dataclass(frozen=True)
class Deadlock:
    """A run that stopped before every context finished.

    Attributes:
        cycle: last cycle at which any context fired (+1), i.e. when progress stopped.
        blocked: every unfinished context and what it waits on, in graph order.
    """

    cycle: int
    blocked: tuple[BlockedContext, ...]

    @property
    def full_channels(self) -> list[str]:
        return sorted({b.channel for b in self.blocked if b.reason == "full"})

    @property
    def empty_channels(self) -> list[str]:
        return sorted({b.channel for b in self.blocked if b.reason == "empty"})

    @property
    def blocked_contexts(self) -> list[str]:
        return [b.context for b in self.blocked]

    @property
    def wait_cycle(self) -> list[BlockedContext]:
        """The circular wait at the heart of the deadlock (following ``waits_for`` from the
        first blocked context until a context repeats); empty if the waits end at a finished
        context (a consumer that stopped reading, leaving a producer blocked)."""
        by_name = {b.context: b for b in self.blocked}
        path: list[BlockedContext] = []
        seen: dict[str, int] = {}
        node = self.blocked[0].context if self.blocked else None
        while node is not None and node in by_name and node not in seen:
            seen[node] = len(path)
            path.append(by_name[node])
            node = by_name[node].waits_for
        if node is None or node not in seen:
            return []
        return path[seen[node]:]

    def describe(self) -> str:
        cycle = self.wait_cycle
        text = f"deadlock at cycle {self.cycle}"
        if cycle:
            text += ": circular wait " + " -> ".join(
                f"{b.context} [{b.reason} '{b.channel}' {b.occupancy}/{b.capacity}]" for b in cycle
            ) + f" -> {cycle[0].context}"
        return (text + "; blocked: " + "; ".join(b.describe() for b in self.blocked)
                + f" (full: {self.full_channels}, empty: {self.empty_channels})")


class StreamDeadlockError(DeadlockError):
    """A streaming graph deadlocked; ``.deadlock`` holds the structured report."""

    def __init__(self, deadlock: Deadlock) -> None:
        self.deadlock = deadlock
        super().__init__(deadlock.describe())


@dataclass(frozen=True, eq=False)
class StreamResult:
    """Outcome of one run of a streaming graph.

    Attributes:
        graph: graph name.
        executor: ``"compiled"`` (the one engine).
        cycles: cycles from 0 to the end of the last firing's pipeline, ``max(s_last +
            latency_cycles) + 1`` over contexts (at deadlock: see ``deadlock.cycle``).
        firings: context -> firings completed.
        tokens: channel -> tokens written (initial tokens included).
        tokens_read: channel -> tokens read by its consumer.
        max_occupancy: channel -> most tokens it held at once.
        deadlock: None, or the report of what blocked.
        fire_times: context -> start cycle of each firing (only when recorded).
        channel_times: channel -> (write cycles, read cycles) per token (only when recorded).
        values: channel -> value stream (None where not computed).
    """

    graph: str
    executor: str
    cycles: int
    firings: dict[str, int]
    tokens: dict[str, int]
    tokens_read: dict[str, int]
    max_occupancy: dict[str, int]
    deadlock: Deadlock | None = None
    fire_times: dict[str, np.ndarray] | None = None
    channel_times: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    values: dict[str, Any] | None = field(default=None, repr=False)

    def context_tokens(self, graph: StreamGraph) -> dict[str, tuple[int, int]]:
        """Context -> (tokens it consumed, tokens it produced), initial tokens excluded."""
        out = {c.name: [0, 0] for c in graph.contexts}
        for ch in graph.channels:
            out[ch.dst_context][0] += self.tokens_read[ch.name]
            out[ch.src_context][1] += self.tokens[ch.name] - ch.initial_tokens
        return {name: (v[0], v[1]) for name, v in out.items()}

    def raise_for_deadlock(self) -> StreamResult:
        """Raise :class:`StreamDeadlockError` if the run deadlocked; else return self."""
        if self.deadlock is not None:
            raise StreamDeadlockError(self.deadlock)
        return self
