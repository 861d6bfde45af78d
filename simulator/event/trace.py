"""Chrome / Perfetto trace JSON of an event run: one track per compute array and DMA engine.

Open the ``json.dump`` of ``TraceBuilder.build()`` in https://ui.perfetto.dev or
chrome://tracing. Timestamps (``ts``, ``dur``) are microseconds at the accelerator clock
(cycles / MHz), as in the streaming trace; each span's ``args`` keeps its cycles and ``otherData``
records ``time_unit: "us"`` and ``clock_mhz``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acceldse.simulator.event.engine import CoreRun, Link


class TraceBuilder:
    """Collects complete-duration (``ph: X``) events, layer after layer.

    Args:
        clock_mhz: accelerator clock, to turn cycles into microseconds.
    """

    def __init__(self, clock_mhz: float) -> None:
        self.clock_mhz = clock_mhz
        self.events: list[dict[str, Any]] = []
        self._tids: dict[str, int] = {}

    def _tid(self, track: str) -> int:
        if track not in self._tids:
            self._tids[track] = len(self._tids) + 1
        return self._tids[track]

    def _span(self, track: str, name: str, cat: str, start_cycles: float, end_cycles: float, layer: str) -> None:
        self.events.append({"name": name, "cat": cat, "ph": "X", "pid": 1, "tid": self._tid(track),
                            "ts": start_cycles / self.clock_mhz,
                            "dur": max(end_cycles - start_cycles, 0.0) / self.clock_mhz,
                            "args": {"layer": layer, "start_cycles": start_cycles, "end_cycles": end_cycles}})

    def add_layer(self, layer: str, offset_cycles: float, runs: Sequence[CoreRun], link: Link) -> None:
        """Add one layer's compute spans and link transfers, shifted by ``offset_cycles``."""
        for run in runs:
            for track, label, start, end in run.spans:
                self._span(track, label, "compute", offset_cycles + start, offset_cycles + end, layer)
        for owner, label, start, end in link.stats.spans:
            self._span(f"{owner} ({link.name})", label, "dma", offset_cycles + start, offset_cycles + end, layer)

    def add_spans(self, layer: str, spans: list[tuple[str, str, float, float]], cat: str) -> None:
        """Add spans already in absolute cycles (e.g. weight staging copies)."""
        for track, label, start, end in spans:
            self._span(track, label, cat, start, end, layer)

    def build(self) -> dict[str, Any]:
        """The trace object: ``traceEvents`` with thread-name metadata, times in microseconds, and
        ``otherData`` with the time unit and the clock."""
        meta: list[dict[str, Any]] = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
                                       "args": {"name": "acceldse event"}}]
        meta += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": track}}
                 for track, tid in self._tids.items()]
        return {"traceEvents": meta + self.events, "displayTimeUnit": "ns",
                "otherData": {"time_unit": "us", "clock_mhz": self.clock_mhz}}
