"""Chrome / Perfetto trace JSON: the one trace writer of every event-level model.

A trace holds processes (``pid``: a model, or a part of a system), each with tracks (``tid``:
a streaming context, a compute array, a DMA engine, a pipeline stage) of complete (``"X"``)
spans and counters (``"C"``: a channel's occupancy). What a track draws is the busy intervals
of its context (:meth:`NetRun.busy <acceldse.simulator.streaming.flat.NetRun.busy>`: a firing
is busy from its start to the later of its end and its start + ii); firings back to back
with the same label are merged into one span (``args.firings`` counts them), zero-length
firings are left out. Timestamps (``ts``, ``dur``) are microseconds at ``clock_mhz``
(cycles / MHz); each span's ``args`` keeps its cycles; ``otherData`` records
``time_unit: "us"`` and the clock. A streaming graph has no clock of its own: the default
1 MHz shows one cycle per microsecond, so ``ts`` reads as cycles. Open the JSON in
https://ui.perfetto.dev or chrome://tracing.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from acceldse.dataflows.streams.graph import StreamGraph
    from acceldse.simulator.streaming.flat import NetRun
    from acceldse.simulator.streaming.result import StreamResult

DEFAULT_CLOCK_MHZ = 1.0
"""Clock of a trace when none is given: one cycle per microsecond."""

LARGE_TRACE_TOKENS = 4_000_000
"""Above this many recorded channel events a trace is written with a warning (it gets big)."""


@dataclass(frozen=True, eq=False)
class Track:
    """What one track of a trace draws, in cycles: busy intervals and their labels.

    Attributes:
        name: the track's name.
        starts, ends: busy interval of each firing (cycles; zero-length ones are left out).
        labels: one label for every span, or one per firing (equal labels back to back merge).
        cat: the spans' category (``firing``, ``compute``, ``dma`` ...).
    """

    name: str
    starts: np.ndarray
    ends: np.ndarray
    labels: str | Sequence[str] = ""
    cat: str = "firing"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Track) and (self.name, self.cat) == (other.name, other.cat)
                and np.array_equal(self.starts, other.starts) and np.array_equal(self.ends, other.ends)
                and (self.labels == other.labels if isinstance(self.labels, str)
                     else list(self.labels) == list(other.labels)))

    __hash__ = None  # type: ignore[assignment]


class Trace:
    """A trace under construction: add tracks and counters, then :meth:`build` or :meth:`write`.

    Args:
        clock_mhz: clock the cycles are at (``ts`` = cycles / MHz).
        process: name of the default process.
        other: extra entries of ``otherData`` (e.g. the executor, the cycles).
    """

    def __init__(self, clock_mhz: float = DEFAULT_CLOCK_MHZ, process: str = "acceldse", **other: Any) -> None:
        if not (isinstance(clock_mhz, int | float) and clock_mhz > 0):
            raise SpecError("must be > 0", key="clock_mhz", value=clock_mhz, accepted="a clock in MHz > 0")
        self.clock_mhz = clock_mhz
        self.process = process
        self.other = other
        self.events: list[dict[str, Any]] = []
        self._pids: dict[str, int] = {}
        self._tids: dict[tuple[int, str], int] = {}

    def _pid(self, process: str | None) -> int:
        return self._pids.setdefault(self.process if process is None else process, len(self._pids))

    def _tid(self, pid: int, track: str) -> int:
        return self._tids.setdefault((pid, track), sum(p == pid for p, _ in self._tids) + 1)

    def add(self, track: Track, *, offset_cycles: float = 0.0, process: str | None = None,
            args: dict[str, Any] | None = None) -> None:
        """Draw ``track`` shifted by ``offset_cycles`` (in ``process``; ``args`` added to every span)."""
        pid = self._pid(process)
        tid = self._tid(pid, track.name)
        starts = np.asarray(track.starts, np.float64) + offset_cycles
        ends = np.asarray(track.ends, np.float64) + offset_cycles
        keep = np.nonzero(ends > starts)[0]
        if not keep.size:
            return
        labels = None if isinstance(track.labels, str) else np.asarray(track.labels, object)[keep]
        starts, ends = starts[keep], ends[keep]
        cut = starts[1:] != ends[:-1]
        if labels is not None:
            cut |= labels[1:] != labels[:-1]
        first = np.concatenate(([0], np.nonzero(cut)[0] + 1))
        last = np.concatenate((first[1:], [starts.size])) - 1
        mhz = self.clock_mhz
        for a, b in zip(first.tolist(), last.tolist()):
            s, e = float(starts[a]), float(ends[b])
            self.events.append({"name": track.labels if labels is None else labels[a], "cat": track.cat, "ph": "X",
                                "pid": pid, "tid": tid, "ts": s / mhz, "dur": (e - s) / mhz,
                                "args": {**(args or {}), "firings": b - a + 1, "start_cycles": s, "end_cycles": e}})

    def occupancy(self, name: str, writes: np.ndarray, reads: np.ndarray, *, process: str | None = None) -> None:
        """A counter (``tokens``) of a channel's occupancy from the write and read cycles of its tokens
        (negative times drawn at 0)."""
        pid, dt = self._pid(process), np.result_type(writes.dtype, reads.dtype)
        out_t, out_occ = np.zeros(writes.size + reads.size, dt), np.zeros(writes.size + reads.size, np.int64)
        steps = occupancy_steps(np.ascontiguousarray(writes, dt), np.ascontiguousarray(reads, dt), out_t, out_occ)
        for t, v in zip(np.maximum(out_t[:steps], 0).tolist(), out_occ[:steps].tolist()):
            self.events.append({"name": name, "ph": "C", "pid": pid, "ts": t / self.clock_mhz, "args": {"tokens": v}})

    def add_run(self, run: NetRun, contexts: Sequence[int] | None = None, *, names: Sequence[str] | None = None,
                channels: Sequence[int] = (), channel_names: Sequence[str] | None = None,
                process: str | None = None) -> None:
        """Draw a recorded run of the engine: the busy intervals of ``contexts`` (default all; every span
        labelled with its track's name) and the occupancy of ``channels``, named ``names`` /
        ``channel_names`` (default their own)."""
        for i, c in enumerate(range(len(run.names)) if contexts is None else contexts):
            name = run.names[c] if names is None else names[i]
            self.add(Track(name, *run.busy(c), name), process=process)
        times = run.channel_times or []
        for i, ch in enumerate(channels if times else ()):
            self.occupancy(run.channels[ch] if channel_names is None else channel_names[i], *times[ch], process=process)

    def build(self) -> dict[str, Any]:
        """The trace object: ``traceEvents`` (process and thread names first), ``displayTimeUnit``,
        ``otherData`` (time unit, clock and the extras)."""
        meta: list[dict[str, Any]] = [{"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}}
                                      for name, pid in self._pids.items()]
        meta += [{"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": track}}
                 for (pid, track), tid in self._tids.items()]
        return {"traceEvents": meta + self.events, "displayTimeUnit": "ns",
                "otherData": {"time_unit": "us", "clock_mhz": self.clock_mhz, **self.other}}

    def write(self, path: str | Path) -> Path:
        """Write the trace JSON to ``path`` and return the path."""
        out = Path(path)
        out.write_text(json.dumps(self.build()))
        return out


def build_trace(graph: StreamGraph, result: StreamResult, clock_mhz: float = DEFAULT_CLOCK_MHZ) -> dict[str, Any]:
    """The trace of a streaming graph's run recorded with ``record=True``: a track per context
    (each firing busy for its ii), an occupancy counter per channel; times in microseconds at ``clock_mhz``.

    Raises:
        ValueError: the result holds no recorded times.
    """
    from acceldse.dataflows.streams.graph import Context

    trace = Trace(clock_mhz, f"{graph.name} ({result.executor})", executor=result.executor, cycles=result.cycles)
    if result.fire_times is None or result.channel_times is None:
        raise ValueError("the run was not recorded; pass record=True (or a trace path) to the executor")
    tokens = sum(w.size + r.size for w, r in result.channel_times.values())
    if tokens > LARGE_TRACE_TOKENS:
        warnings.warn(f"trace of {tokens:,} channel events will be large; trace smaller runs for viewing",
                      stacklevel=2)
    for ctx in graph.contexts:
        starts = result.fire_times.get(ctx.name, np.zeros(0, np.int64))
        ii = ctx.ii_cycles if isinstance(ctx, Context) else 1
        trace.add(Track(ctx.name, starts, starts + ii, ctx.name))
    for ch in graph.channels:
        trace.occupancy(ch.name, *result.channel_times[ch.name])
    return trace.build()


def write_trace(graph: StreamGraph, result: StreamResult, path: str | Path,
                clock_mhz: float = DEFAULT_CLOCK_MHZ) -> Path:
    """Write the trace JSON (microseconds at ``clock_mhz``) to ``path`` and return the path."""
    out = Path(path)
    out.write_text(json.dumps(build_trace(graph, result, clock_mhz)))
    return out


@njit(cache=True)
def occupancy_steps(write_time: np.ndarray, read_time: np.ndarray,
                    out_t: np.ndarray, out_occ: np.ndarray) -> int:
    """Write the occupancy after every cycle at which it changes; return the number of steps."""
    nw = write_time.shape[0]
    nr = read_time.shape[0]
    w = 0
    r = 0
    n = 0
    last = -1
    while w < nw or r < nr:
        if r >= nr or (w < nw and write_time[w] <= read_time[r]):
            t = write_time[w]
        else:
            t = read_time[r]
        while w < nw and write_time[w] == t:
            w += 1
        while r < nr and read_time[r] == t:
            r += 1
        occ = w - r
        if occ != last:
            out_t[n] = t
            out_occ[n] = occ
            n += 1
            last = occ
    return n
