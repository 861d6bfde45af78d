"""A memory link whose bandwidth is shared by the transfers in flight (processor sharing).

Work is measured in full-bandwidth cycles (``ceil(bytes / bytes_per_cycle)`` per transfer).
With ``n`` transfers in flight each progresses at ``1/n`` of the link's rate, so a transfer
alone on the link takes exactly its work in cycles, and concurrent transfers from several
DMA engines slow each other down - the contention the event engine measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

_EPS = 1e-9


@dataclass
class _Job:
    remaining_cycles: float
    done: simpy.Event
    owner: str
    label: str
    start: float


@dataclass
class LinkStats:
    """What a link did: cycles with at least one transfer, transfers, peak concurrency."""

    busy_cycles: float = 0.0
    transfers: int = 0
    work_cycles: int = 0
    max_concurrency: int = 0
    spans: list[tuple[str, str, float, float]] = field(default_factory=list)


class SharedLink:
    """A tier-to-tier link shared by processor sharing.

    Args:
        env: the SimPy environment.
        name: link name (``hbm->sram``).
        record: keep ``(owner, label, start, end)`` of every transfer (for traces).
        exclusive: one DMA engine issues one transfer at a time (nothing to share): each
            transfer is a plain timeout of its work cycles (same times, fewer events).
    """

    def __init__(self, env: simpy.Environment, name: str, *, record: bool = False, exclusive: bool = False) -> None:
        self.env = env
        self.name = name
        self.record = record
        self.exclusive = exclusive
        self.stats = LinkStats()
        self._jobs: list[_Job] = []
        self._last = 0.0
        self._version = 0
        self._busy_until = 0.0

    def transfer(self, work_cycles: int, owner: str = "", label: str = "") -> simpy.Event:
        """Start a transfer of ``work_cycles`` full-bandwidth cycles; the event fires when it is done."""
        if self.exclusive and work_cycles > 0:
            now = float(self.env.now)
            if now < self._busy_until:
                raise RuntimeError(f"exclusive link {self.name!r} got a second concurrent transfer")
            self._busy_until = now + work_cycles
            self.stats.transfers += 1
            self.stats.work_cycles += int(work_cycles)
            self.stats.busy_cycles += work_cycles
            self.stats.max_concurrency = max(self.stats.max_concurrency, 1)
            if self.record:
                self.stats.spans.append((owner, label, now, now + work_cycles))
            return self.env.timeout(work_cycles)
        done = self.env.event()
        if work_cycles <= 0:
            done.succeed()
            return done
        self._advance()
        self._jobs.append(_Job(float(work_cycles), done, owner, label, float(self.env.now)))
        self.stats.transfers += 1
        self.stats.work_cycles += int(work_cycles)
        self.stats.max_concurrency = max(self.stats.max_concurrency, len(self._jobs))
        self._schedule()
        return done

    def _advance(self) -> None:
        now = float(self.env.now)
        elapsed = now - self._last
        if elapsed > 0 and self._jobs:
            share = elapsed / len(self._jobs)
            for job in self._jobs:
                job.remaining_cycles -= share
            self.stats.busy_cycles += elapsed
        self._last = now

    def _schedule(self) -> None:
        finished = [j for j in self._jobs if j.remaining_cycles <= _EPS]
        if finished:
            self._jobs = [j for j in self._jobs if j.remaining_cycles > _EPS]
            for job in finished:
                if self.record:
                    self.stats.spans.append((job.owner, job.label, job.start, float(self.env.now)))
                job.done.succeed()
        if self._jobs:
            self._version += 1
            version = self._version
            delay = min(j.remaining_cycles for j in self._jobs) * len(self._jobs)
            self.env.timeout(delay).callbacks.append(lambda _ev: self._wake(version))

    def _wake(self, version: int) -> None:
        if version != self._version:
            return
        self._advance()
        self._schedule()
