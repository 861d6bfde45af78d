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
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from acceldse.simulator.result import SimResult
    from acceldse.simulator.specs.accelerator import Accelerator

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
DEFAULT_FIGSIZE = (7.0, 4.5)


def _axes(ax: Axes | None, figsize: tuple[float, float] | None, default: tuple[float, float] = DEFAULT_FIGSIZE
          ) -> Axes:
    """``ax``, or the Axes of a new figure of ``figsize`` (pyplot's, so Jupyter shows it once)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize or default, constrained_layout=True)
    return new


def _scales(ax: Axes, logx: bool, logy: bool) -> None:
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")


def save(fig: Figure | Axes | Any, path: str | Path) -> Path:
    """Write the figure of ``fig`` (a Figure, an Axes or an array of Axes) to a ``.png``, ``.svg`` or
    ``.pdf`` file (the folder must exist) and close it."""
    import matplotlib.pyplot as plt

    out = Path(path)
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise SpecError("unknown figure format", source="path", value=str(path), accepted="a .png, .svg or .pdf path")
    if not out.parent.is_dir():
        raise SpecError(f"folder {str(out.parent)!r} does not exist", source="path", value=str(path))
    figure = figure_of(fig)
    figure.savefig(out, dpi=120)
    plt.close(figure)
    return out


def figure_of(obj: Figure | Axes | Any) -> Figure:
    """The Figure holding ``obj`` (a Figure, an Axes or an array of Axes)."""
    if isinstance(obj, np.ndarray):
        obj = obj.flat[0]
    return cast("Figure", obj if hasattr(obj, "savefig") else obj.figure)


# ---- single simulation -------------------------------------------------------------------

def _accelerator(result: SimResult, hardware: Accelerator | None) -> Accelerator:
    acc = hardware or result.extra.get("accelerator")
    if acc is None:
        from acceldse.simulator.specs.presets import load_hardware

        acc = load_hardware(result.hardware)
    return acc


def roofline_data(result: SimResult, hardware: Accelerator | None = None) -> tuple[pd.DataFrame, float, float]:
    """Per MAC layer: ``intensity`` (ops per DRAM byte) and ``attained`` (ops per cycle); and the
    compute roof of the whole chip (2 x PEs of all cores, ops/cycle) and the DRAM bandwidth roof
    (bytes/cycle)."""
    acc = _accelerator(result, hardware)
    layers = result.layers[(result.layers["macs"] > 0) & (result.layers["dram_bytes"] > 0)]
    ops = 2.0 * layers["macs"].to_numpy(dtype=float)
    data = pd.DataFrame({"layer": layers["layer"].to_numpy(), "op": layers["op"].to_numpy(),
                         "dataflow": layers["dataflow"].to_numpy(),
                         "intensity": ops / layers["dram_bytes"].to_numpy(dtype=float),
                         "attained": ops / layers["total_cycles"].to_numpy(dtype=float)})
    bandwidth = max(acc.dram.read_bw_bytes_per_cycle, acc.dram.write_bw_bytes_per_cycle)
    return data, 2.0 * result.pes, float(bandwidth)


def ridges(result: SimResult, hardware: Accelerator | None = None) -> dict[int, float]:
    """Ridge point (ops per DRAM byte where the compute roof meets the bandwidth roof) per core
    count: all the chip's cores and one core (a layer left of a ridge is memory-bound there)."""
    acc = _accelerator(result, hardware)
    _, peak, bandwidth = roofline_data(result, acc)
    return {cores: peak * cores / acc.cores / bandwidth for cores in sorted({acc.cores, 1}, reverse=True)}


def roofline(result: SimResult, hardware: Accelerator | None = None, *, ax: Axes | None = None,
             figsize: tuple[float, float] | None = None, hue: str = "dataflow", label_top: int = 5) -> Axes:
    """Each layer's attained throughput against its arithmetic intensity, under the compute roof
    (2 ops per PE per cycle, all cores) and the bandwidth roof (intensity x DRAM bytes/cycle), with
    the ridge point of each core count drawn and labelled (multi-core chips: all cores and one).

    Args:
        hue: colour the layers by ``dataflow``, ``op`` or ``layer``.
        label_top: name the layers with the lowest attained throughput.
    """
    acc = _accelerator(result, hardware)
    data, peak, bandwidth = roofline_data(result, acc)
    if hue not in data.columns:
        raise SpecError("unknown hue", source="hue", value=hue, accepted="dataflow, op or layer")
    ax = _axes(ax, figsize)
    ridge = ridges(result, acc)
    lo = min(data["intensity"].min() / 2, min(ridge.values()) / 10) if len(data) else 0.1
    hi = max(data["intensity"].max() * 2, max(ridge.values()) * 10) if len(data) else 100.0
    x = np.geomspace(lo, hi, 200)
    ax.plot(x, np.minimum(peak, x * bandwidth), color="black", lw=1.5, label="roofline")
    ax.axhline(peak, color="tab:red", ls="--", lw=1, label=f"compute roof {peak:,.0f} ops/cycle")
    ax.plot(x, x * bandwidth, color="tab:blue", ls="--", lw=1, label=f"DRAM roof {bandwidth:g} B/cycle")
    for cores, at in ridge.items():
        roof = at * bandwidth
        if cores != acc.cores:
            ax.plot([lo, hi], [roof, roof], color="tab:red", ls=":", lw=1)
        ax.axvline(at, color="0.4", ls=":", lw=1)
        value = f"{at:,.0f}" if at >= 100 else f"{at:.3g}"
        ax.annotate(f"ridge, {cores} core{'s' * (cores != 1)}: {value} ops/B", (at, roof), fontsize=7,
                    rotation=90, xytext=(3, -4), textcoords="offset points", ha="left", va="top", color="0.3")
    for name, part in data.groupby(hue, sort=False):
        ax.scatter(part["intensity"], part["attained"], s=18, label=f"{name}", zorder=3)
    for (x_at, y_at), names in _labels_at(data.nsmallest(label_top, "attained")).items():
        ax.annotate(names, (x_at, y_at), fontsize=7, xytext=(3, -8), textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (ops / DRAM byte)",
           ylabel="attained (ops / cycle)", ylim=(max(data["attained"].min() / 3, 1e-3) if len(data) else 1e-3,
                                                 peak * 2),
           title=f"roofline: {result.workload} on {result.hardware} ({result.fidelity})")
    ax.legend(fontsize=7, loc="lower right", title=hue, title_fontsize=7)
    return ax


def _labels_at(rows: pd.DataFrame) -> dict[tuple[float, float], str]:
    """One label per drawn position: layers at the same point share it (``encoder.0.attn.q, k, v``)."""
    out: dict[tuple[float, float], list[str]] = {}
    for layer, x_at, y_at in zip(rows["layer"], rows["intensity"], rows["attained"]):
        out.setdefault((float(f"{x_at:.3g}"), float(f"{y_at:.3g}")), []).append(str(layer))  # would overprint
    def label(names: list[str]) -> str:
        if len({n.rsplit(".", 1)[0] for n in names}) == 1:  # one block: its layers by their last part
            return ", ".join([names[0], *(n.rsplit(".", 1)[-1] for n in names[1:])])
        return f"{names[0]} (+{len(names) - 1} more)"

    return {at: label(names) for at, names in out.items()}


BREAKDOWN_PARTS = ("cycles", "energy")


def breakdown(result: SimResult, dataflow: str | None = None, *, ax: Any = None,
              figsize: tuple[float, float] | None = None, what: str = "both", logy: bool = False) -> Any:
    """Per layer: compute vs stall cycles and MAC / SRAM / DRAM energy, stacked.

    Args:
        dataflow: the dataflow to show; required when the result holds several.
        what: ``cycles``, ``energy`` or ``both`` (two Axes, one above the other).
        ax: an Axes (``cycles`` or ``energy``) or a pair of Axes (``both``).

    Returns:
        the Axes, or for ``both`` an array of the two.
    """
    layers = result.layers
    flows = list(dict.fromkeys(layers["dataflow"]))
    if dataflow is None:
        if len(flows) > 1:
            raise SpecError("the result holds several dataflows: name one", source="dataflow", value=None,
                            accepted=" | ".join(flows))
        dataflow = flows[0]
    rows = layers[layers["dataflow"] == dataflow]
    if rows.empty:
        raise SpecError("no rows for this dataflow", source="dataflow", value=dataflow, accepted=" | ".join(flows))
    if what not in (*BREAKDOWN_PARTS, "both"):
        raise SpecError("unknown part", source="what", value=what, accepted="cycles | energy | both")
    parts = BREAKDOWN_PARTS if what == "both" else (what,)
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(len(parts), 1, figsize=figsize or (max(7.0, 0.22 * len(rows)), 3.0 * len(parts)),
                               sharex=True, constrained_layout=True, squeeze=False)
        axes = axes[:, 0]
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if len(axes) != len(parts):
            raise SpecError(f"needs {len(parts)} Axes", source="ax", value=len(axes),
                            accepted="one Axes for what='cycles' or 'energy', two for what='both'")
    x = np.arange(len(rows))
    for part, a in zip(parts, axes):
        if part == "cycles":
            a.bar(x, rows["compute_cycles"], label="compute", color="tab:green")
            a.bar(x, rows["stall_cycles"], bottom=rows["compute_cycles"], label="stall", color="tab:red")
            a.set(ylabel="cycles")
        else:
            base = np.zeros(len(rows))
            for col, color in (("energy_mac_pj", "tab:purple"), ("energy_sram_pj", "tab:orange"),
                               ("energy_dram_pj", "tab:brown")):
                a.bar(x, rows[col], bottom=base, label=col.removeprefix("energy_").removesuffix("_pj"), color=color)
                base = base + rows[col].to_numpy(dtype=float)
            a.set(ylabel="energy (pJ)")
        _scales(a, False, logy)
        a.legend(fontsize=7)
    axes[0].set_title(f"{result.workload} on {result.hardware} ({dataflow}, {result.fidelity})")
    axes[-1].set_xticks(x, rows["layer"], rotation=90, fontsize=6)
    return axes if what == "both" else axes[0]


# ---- tables of points ---------------------------------------------------------------------

def pareto(frame: pd.DataFrame, x: str, y: str, *, maximize: tuple[bool, bool] = (False, False),
           label: str | None = None, by: str | None = "auto", ax: Axes | None = None,
           figsize: tuple[float, float] | None = None, logx: bool = False, logy: bool = False) -> Axes:
    """Every point in grey and the non-dominated ones (``acceldse.results.pareto_front``) highlighted.

    Args:
        by: one front per value of this column (points of different workloads never dominate each
            other); ``"auto"``: by ``workload`` when the table holds several, else one front; ``None``:
            one front over every row.
        label: annotate the front's points with this column.
    """
    from acceldse.results import check_columns, pareto_front

    check_columns(frame, [x, y], flag="pareto")
    if by == "auto":
        by = "workload" if "workload" in frame.columns and frame["workload"].nunique() > 1 else None
    if by is not None:
        check_columns(frame, [by], flag="by")
    ax = _axes(ax, figsize)
    ax.scatter(frame[x], frame[y], s=6, color="0.75", label=f"{len(frame)} points")
    groups = frame.groupby(by, sort=True) if by else [(None, frame)]
    for i, (name, part) in enumerate(groups):
        front = pareto_front(part, [x, y], list(maximize))
        color = "tab:red" if by is None else f"C{i % 10}"
        text = f"Pareto front ({len(front)})" if by is None else f"{name} ({len(front)})"
        ax.step(front[x], front[y], where="post", color=color, lw=1)
        ax.scatter(front[x], front[y], s=22, color=color, zorder=3, label=text)
        if label and label in front.columns:
            for _, row in front.iterrows():
                ax.annotate(str(row[label]), (row[x], row[y]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    _scales(ax, logx, logy)
    ax.set(xlabel=x, ylabel=y, title=f"Pareto front: {x} vs {y}" + (f" by {by}" if by else ""))
    ax.legend(fontsize=7)
    return ax


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str = "utilization", agg: str = "max", *,
            ax: Axes | None = None, figsize: tuple[float, float] | None = None) -> Axes:
    """``value`` over two axes (``agg`` over the other axes), one annotated cell per (x, y)."""
    from acceldse.results import check_columns

    check_columns(frame, [x, y, value], flag="heatmap")
    if agg not in ("max", "min", "mean", "median"):
        raise SpecError("unknown aggregation", source="agg", value=agg, accepted="max | min | mean | median")
    table = frame.pivot_table(index=y, columns=x, values=value, aggfunc=agg).sort_index().sort_index(axis=1)
    ax = _axes(ax, figsize, (1.0 + 0.7 * table.shape[1], 1.0 + 0.5 * table.shape[0]))
    image = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7, color="white")
    ax.figure.colorbar(image, ax=ax, label=f"{agg} {value}")
    ax.set(xlabel=x, ylabel=y, title=f"{value} ({agg} over the other axes)")
    return ax


def best_so_far(frame: pd.DataFrame, step: str = "step", reward: str = "reward", group: str | None = None,
                *, minimize: bool = False, ax: Axes | None = None, figsize: tuple[float, float] | None = None,
                logx: bool = False, logy: bool = False) -> Axes:
    """Running best ``reward`` against ``step`` (one curve per ``group``, e.g. per agent)."""
    from acceldse.results import check_columns

    check_columns(frame, [step, reward] + ([group] if group else []), flag="best-so-far")
    ax = _axes(ax, figsize)
    groups = frame.groupby(group, sort=True) if group else [("all", frame)]
    for name, part in groups:
        part = part.sort_values(step, kind="stable")
        values = part[reward].to_numpy(dtype=float)
        best = np.minimum.accumulate(values) if minimize else np.maximum.accumulate(values)
        ax.plot(part[step].to_numpy(), best, drawstyle="steps-post", label=str(name))
    _scales(ax, logx, logy)
    ax.set(xlabel=step, ylabel=f"best {reward} so far", title=f"best {reward} so far")
    ax.legend(fontsize=7)
    return ax


def compare_curves(runs: pd.DataFrame, *, target: float | None = 0.0, yscale: str = "symlog",
                   ax: Axes | None = None, figsize: tuple[float, float] | None = None, title: str = "") -> Axes:
    """Median best-so-far reward per agent over its runs (``acceldse.compare.compare``'s rows), with the
    inter-quartile band across runs, and the ``target`` reward drawn (0: every target met). A run's curve
    is NaN until its first feasible design; the median is over the runs that have one.

    The reward is 0 once the targets are met and falls steeply below, so the y axis is ``symlog``
    by default (linear within the last unit before the target, logarithmic beyond): the range
    where agents differ is not squashed by a bad first guess. ``yscale="linear"`` clips it instead
    to the spread of the final rewards."""
    from acceldse.results import check_columns

    check_columns(runs, ["agent", "curve"], flag="runs")
    if yscale not in ("symlog", "linear"):
        raise SpecError("unknown y scale", source="yscale", value=yscale, accepted="symlog | linear")
    ax = _axes(ax, figsize)
    finals: list[float] = []
    for agent, part in runs.groupby("agent", sort=False):
        length = min(len(c) for c in part.curve)
        curves = np.stack([np.asarray(c[:length], dtype=float) for c in part.curve])
        x = np.arange(1, length + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: no run feasible yet
            q1, med, q3 = np.nanpercentile(curves, [25, 50, 75], axis=0)
        ax.plot(x, med, label=f"{agent} ({len(part)} runs, median)")
        ax.fill_between(x, q1, q3, alpha=0.15)
        finals.extend(float(v) for v in curves[:, -1] if np.isfinite(v))
    if target is not None:
        ax.axhline(target, color="black", ls="--", lw=1, label=f"target ({target:g})")
    if yscale == "symlog":
        ax.set_yscale("symlog", linthresh=1.0)
    elif finals:
        lo, hi = min(finals), max(max(finals), target if target is not None else max(finals))
        pad = 0.1 * (hi - lo) or 1.0
        ax.set_ylim(lo - pad, hi + pad)
    ax.set(xlabel="evaluations", ylabel="best reward so far", title=title)
    ax.legend(fontsize=8)
    return ax


# ---- traces ---------------------------------------------------------------------------------

def trace_spans(trace: dict[str, Any] | str | Path) -> pd.DataFrame:
    """Complete (``ph: X``) events of a Chrome/Perfetto trace: ``track``, ``name``, ``category``, ``start``,
    ``duration`` (in the trace's time unit)."""
    if not isinstance(trace, dict):
        try:
            trace = json.loads(Path(trace).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise SpecError(f"cannot read trace: {err}", source="trace", value=str(trace),
                            accepted="a Chrome/Perfetto trace JSON from 'acceldse stream ... --trace'") from None
    events = trace.get("traceEvents", []) if isinstance(trace, dict) else []
    names = {(e.get("pid"), e.get("tid")): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    rows = [{"track": names.get((e.get("pid"), e.get("tid")), str(e.get("tid"))), "name": e.get("name", ""),
             "category": e.get("cat", e.get("name", "")), "start": float(e["ts"]), "duration": float(e.get("dur", 0.0))}
            for e in events if e.get("ph") == "X"]
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
    other = data.get("otherData") or {}
    clock_mhz = float(other.get("clock_mhz", 1.0))
    if unit == "auto":
        unit = "cycles" if clock_mhz == 1.0 and "executor" in other else "us"
    if unit not in TIME_UNITS:
        raise SpecError("unknown time unit", source="unit", value=unit, accepted="auto | " + " | ".join(TIME_UNITS))
    scale = clock_mhz if unit == "cycles" else TIME_UNITS[unit]  # trace times are microseconds
    start, duration = spans["start"].to_numpy() * scale, spans["duration"].to_numpy() * scale
    visible = max(float((start + duration).max() - start.min()), 1e-12) / 1000
    tracks = list(dict.fromkeys(spans["track"]))[:max_tracks]
    ax = _axes(ax, figsize, (9.0, 1.2 + 0.35 * len(tracks)))
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


class ResultPlots:
    """``SimResult.plot``: ``result.plot.roofline()``, ``.breakdown(dataflow)``, ``.timeline()``
    (an event run with ``trace=True``); each takes the keyword arguments of the function it calls."""

    def __init__(self, result: SimResult) -> None:
        self._result = result

    def roofline(self, hardware: Accelerator | None = None, **kwargs: Any) -> Axes:
        return roofline(self._result, hardware, **kwargs)

    def breakdown(self, dataflow: str | None = None, **kwargs: Any) -> Any:
        return breakdown(self._result, dataflow, **kwargs)

    def timeline(self, **kwargs: Any) -> Axes:
        trace = self._result.extra.get("trace")
        if trace is None:
            raise SpecError("this result has no trace", source="timeline",
                            accepted="acceldse.simulate(..., fidelity='event', trace=True), or a trace JSON file")
        return timeline(trace, **kwargs)


__all__ = ["ResultPlots", "best_so_far", "breakdown", "compare_curves", "figure_of", "heatmap", "pareto", "ridges",
           "roofline", "roofline_data", "save", "timeline", "trace_spans"]
