"""Chrome / Perfetto trace JSON for a recorded streaming run.

One track (``tid``) per context with "X" (complete) events for busy spans (runs of firings
issued back to back at the context's II, merged so big runs stay small) and one "C" counter
per channel with its occupancy. Timestamps (``ts``, ``dur``) are microseconds at ``clock_mhz``
(cycles / MHz), as in the event-fidelity trace; ``otherData`` records ``time_unit: "us"`` and the
clock. A streaming graph has no clock of its own: the default 1 MHz shows one cycle per
microsecond, so ``ts`` reads as cycles.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Context, StreamGraph
from acceldse.simulator.streaming.kernels import occupancy_steps
from acceldse.simulator.streaming.result import StreamResult
from acceldse.workloads.errors import SpecError

DEFAULT_CLOCK_MHZ = 1.0
"""Clock of a trace when none is given: one cycle per microsecond."""

LARGE_TRACE_TOKENS = 4_000_000
"""Above this many recorded channel events a trace is written with a warning (it gets big)."""


def _busy_spans(times: np.ndarray, ii: int) -> list[tuple[int, int, int]]:
    """(start, end, firings) for maximal runs of firings spaced exactly ``ii`` apart."""
    if times.size == 0:
        return []
    breaks = np.nonzero(np.diff(times) != ii)[0] + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [times.size]])
    return [(int(times[a]), int(times[b - 1]) + ii, int(b - a)) for a, b in zip(starts, ends)]


def build_trace(graph: StreamGraph, result: StreamResult, clock_mhz: float = DEFAULT_CLOCK_MHZ) -> dict[str, Any]:
    """Return ``{"traceEvents": [...], "otherData": {...}}`` for a run recorded with ``record=True``;
    times in microseconds at ``clock_mhz``.

    Raises:
        ValueError: the result holds no recorded times.
    """
    if not clock_mhz > 0:
        raise SpecError("must be > 0", key="clock_mhz", value=clock_mhz, accepted="a clock in MHz > 0")
    if result.fire_times is None or result.channel_times is None:
        raise ValueError("the run was not recorded; pass record=True (or a trace path) to the executor")
    tokens = sum(w.size + r.size for w, r in result.channel_times.values())
    if tokens > LARGE_TRACE_TOKENS:
        warnings.warn(f"trace of {tokens:,} channel events will be large; trace smaller runs for viewing",
                      stacklevel=2)
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": 0, "args": {"name": f"{graph.name} ({result.executor})"}},
    ]
    for tid, ctx in enumerate(graph.contexts, start=1):
        events.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": tid, "args": {"name": ctx.name}})
        ii = ctx.ii_cycles if isinstance(ctx, Context) else 1
        for start, end, count in _busy_spans(result.fire_times.get(ctx.name, np.zeros(0, np.int64)), ii):
            events.append({"name": ctx.name, "cat": "firing", "ph": "X", "pid": 0, "tid": tid,
                           "ts": start / clock_mhz, "dur": (end - start) / clock_mhz,
                           "args": {"firings": count, "start_cycles": start, "end_cycles": end}})
    for ch in graph.channels:
        writes, reads = result.channel_times[ch.name]
        n = writes.size + reads.size
        out_t = np.zeros(n, np.int64)
        out_occ = np.zeros(n, np.int64)
        steps = occupancy_steps(np.ascontiguousarray(writes, np.int64), np.ascontiguousarray(reads, np.int64),
                                out_t, out_occ)
        for t, occ in zip(out_t[:steps].tolist(), out_occ[:steps].tolist()):
            events.append({"name": ch.name, "ph": "C", "pid": 0, "ts": max(t, 0) / clock_mhz,
                           "args": {"tokens": occ}})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"time_unit": "us", "clock_mhz": clock_mhz, "executor": result.executor,
                          "cycles": result.cycles}}


def write_trace(graph: StreamGraph, result: StreamResult, path: str | Path,
                clock_mhz: float = DEFAULT_CLOCK_MHZ) -> Path:
    """Write the trace JSON (microseconds at ``clock_mhz``) to ``path`` and return the path."""
    out = Path(path)
    out.write_text(json.dumps(build_trace(graph, result, clock_mhz)))
    return out
