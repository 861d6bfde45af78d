"""Figures of Chrome/Perfetto traces (``acceldse stream ... --trace``, an event run with ``trace=True``):
the spans as a table and the timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from acceldse.plots.figures import axes_or_new
from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from matplotlib.axes import Axes


TRACE = "a Chrome/Perfetto trace JSON from 'acceldse stream ... --trace'"


def trace_spans(trace: dict[str, Any] | str | Path) -> pd.DataFrame:
    """Complete (``ph: X``) events of a Chrome/Perfetto trace: ``track``, ``name``, ``category``, ``start``,
    ``duration`` (in the trace's time unit)."""
    if not isinstance(trace, dict):
        try:
            trace = json.loads(Path(trace).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise SpecError(f"cannot read trace: {getattr(err, 'strerror', None) or err}", source="trace",
                            value=str(trace), accepted=TRACE) from None
    events = trace.get("traceEvents", []) if isinstance(trace, dict) else []
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise SpecError("traceEvents must be a list of event objects", source="trace", value=type(events).__name__,
                        accepted=TRACE)
    try:
        names = {(e.get("pid"), e.get("tid")): e["args"]["name"] for e in events
                 if e.get("ph") == "M" and e.get("name") == "thread_name"}
        rows = [{"track": names.get((e.get("pid"), e.get("tid")), str(e.get("tid"))), "name": e.get("name", ""),
                 "category": e.get("cat", e.get("name", "")), "start": float(e["ts"]),
                 "duration": float(e.get("dur", 0.0))} for e in events if e.get("ph") == "X"]
    except (KeyError, TypeError, ValueError) as err:  # an event without ts, a name that is not text ...
        raise SpecError(f"malformed trace event ({type(err).__name__}: {err})", source="trace",
                        accepted=TRACE) from None
    if not rows:
        raise SpecError("trace has no complete (ph: X) events", source="trace", value=str(type(trace).__name__))
    return pd.DataFrame(rows)


TIME_UNITS = {"cycles": None, "ns": 1e3, "us": 1.0, "ms": 1e-3}
"""Units a timeline's axis can be drawn in, and how many of each make a microsecond."""


def timeline(trace: dict[str, Any] | str | Path, *, unit: str = "auto", max_tracks: int = 40,
             ax: Axes | None = None, figsize: tuple[float, float] | None = None) -> Axes:
    """A Gantt chart: one row per track (compute array, DMA engine, streaming context), one
    colour per span category (compute, dma, firing ...). Every span is drawn at least 1/1000
    of the time range wide, so a 1-cycle span stays visible next to a long run.

    Args:
        unit: ``cycles``, ``ns``, ``us``, ``ms`` or ``auto``: cycles when the trace has no real clock
            (a streaming graph's default 1 MHz), else microseconds at its ``clock_mhz``.
    """
    spans = trace_spans(trace)
    data: dict[str, Any] = trace if isinstance(trace, dict) else json.loads(Path(trace).read_text())
    given = data.get("otherData")
    other: dict[str, Any] = given if isinstance(given, dict) else {}
    clock_mhz = float(other.get("clock_mhz", 1.0))
    if unit == "auto":
        unit = "cycles" if clock_mhz == 1.0 and "executor" in other else "us"
    if unit not in TIME_UNITS:
        raise SpecError("unknown time unit", source="unit", value=unit, accepted="auto | " + " | ".join(TIME_UNITS))
    scale = clock_mhz if unit == "cycles" else TIME_UNITS[unit]  # trace times are microseconds
    start, duration = spans["start"].to_numpy() * scale, spans["duration"].to_numpy() * scale
    visible = max(float((start + duration).max() - start.min()), 1e-12) / 1000
    tracks = list(dict.fromkeys(spans["track"]))[:max_tracks]
    ax = axes_or_new(ax, figsize, (9.0, 1.2 + 0.35 * len(tracks)))
    colors = {cat: f"C{i % 10}" for i, cat in enumerate(dict.fromkeys(spans["category"]))}
    for i, track in enumerate(tracks):
        mask = (spans["track"] == track).to_numpy()
        ax.broken_barh(list(zip(start[mask], np.maximum(duration[mask], visible))), (i - 0.4, 0.8),
                       facecolors=[colors[c] for c in spans["category"][mask]], edgecolor="none")
    ax.set_yticks(range(len(tracks)), tracks, fontsize=7)
    ax.invert_yaxis()
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=cat) for cat, c in colors.items()], fontsize=7, loc="upper right")
    clock = f" at {clock_mhz:g} MHz" if unit != "cycles" else ""
    ax.set(xlabel=f"time ({unit}{clock})", title="timeline")
    return ax


__all__ = ["TIME_UNITS", "timeline", "trace_spans"]
