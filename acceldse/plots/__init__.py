"""Figures (matplotlib): roofline, Pareto front, per-layer breakdown, heatmap, best-so-far
curves and timelines. The CLI (``acceldse plot KIND``) and the Python API
(``result.plot.roofline()``, ``acceldse.plots.pareto(frame, ...)``) call the same functions.

They follow pandas' plotting conventions: every function takes ``ax=`` (draw into your Axes),
``figsize=`` (for a new figure), ``logx``/``logy`` where an axis may be linear, a grouping
(``hue``/``by``) where points have groups, and returns the ``Axes`` it drew on (``breakdown``:
an array of two). Nothing here picks a matplotlib backend: Jupyter's, the user's
``MPLBACKEND`` or matplotlib's own choice stands; the CLI draws off screen. ``save(ax, path)``
writes PNG, SVG or PDF. Units: the roofline is in operations (2 per MAC) per cycle against
operations per DRAM byte, so it does not depend on the clock.

One file per kind of input: ``figures`` (new Axes, saving), ``simulation`` (one ``SimResult``: roofline,
breakdown, ``result.plot``), ``points`` (tables of design points: Pareto front, heatmap, best-so-far and
agent-comparison curves), ``traces`` (Chrome/Perfetto traces: timeline).
"""

from __future__ import annotations

from acceldse.plots.figures import FIGURE_SUFFIXES as FIGURE_SUFFIXES  # the formats `save` writes
from acceldse.plots.figures import figure_of, save
from acceldse.plots.points import best_so_far, compare_curves, heatmap, pareto
from acceldse.plots.simulation import ResultPlots, breakdown, ridges, roofline, roofline_data
from acceldse.plots.traces import TIME_UNITS as TIME_UNITS  # the units a timeline is drawn in
from acceldse.plots.traces import timeline, trace_spans

__all__ = ["ResultPlots", "best_so_far", "breakdown", "compare_curves", "figure_of", "heatmap", "pareto", "ridges",
           "roofline", "roofline_data", "save", "timeline", "trace_spans"]
