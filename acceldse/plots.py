"""Figures (matplotlib, headless): roofline, Pareto front, per-layer breakdown, heatmap,
best-so-far curves and timelines. The CLI (``acceldse plot KIND``) and the Python API
(``result.plot.roofline()``, ``acceldse.plots.pareto(frame, ...)``) call the same functions.

Every function returns the ``matplotlib.figure.Figure``; ``save(fig, path)`` writes PNG, SVG
or PDF. Units: the roofline is in operations (2 per MAC) per cycle against operations per
DRAM byte, so it does not depend on the clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from acceldse.simulator.result import SimResult
    from acceldse.simulator.specs.accelerator import Accelerator

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def _figure(ncols: int = 1, size: tuple[float, float] = (7.0, 4.5)) -> tuple[Figure, Any]:
    import os

    import matplotlib

    if "MPLBACKEND" not in os.environ:  # headless by default; Jupyter sets its inline backend this way
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, ncols, figsize=size, constrained_layout=True)
    return fig, ax


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to a ``.png``, ``.svg`` or ``.pdf`` file (the folder must exist)."""
    import matplotlib.pyplot as plt

    out = Path(path)
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise SpecError("unknown figure format", source="--out", value=str(path), accepted="a .png, .svg or .pdf path")
    if not out.parent.is_dir():
        raise SpecError(f"folder {str(out.parent)!r} does not exist", source="--out", value=str(path))
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


# ---- single simulation -------------------------------------------------------------------

def roofline_data(result: SimResult, hardware: Accelerator | None = None) -> tuple[pd.DataFrame, float, float]:
    """Per MAC layer: ``intensity`` (ops per DRAM byte) and ``attained`` (ops per cycle); and the
    compute roof (2 x PEs ops/cycle) and the DRAM bandwidth roof (bytes/cycle)."""
    acc = hardware or result.extra.get("accelerator")
    if acc is None:
        from acceldse.simulator.specs.presets import load_hardware

        acc = load_hardware(result.hardware)
    layers = result.layers[(result.layers["macs"] > 0) & (result.layers["dram_bytes"] > 0)]
    ops = 2.0 * layers["macs"].to_numpy(dtype=float)
    data = pd.DataFrame({"layer": layers["layer"].to_numpy(), "dataflow": layers["dataflow"].to_numpy(),
                         "intensity": ops / layers["dram_bytes"].to_numpy(dtype=float),
                         "attained": ops / layers["total_cycles"].to_numpy(dtype=float)})
    bandwidth = max(acc.dram.read_bw_bytes_per_cycle, acc.dram.write_bw_bytes_per_cycle)
    return data, 2.0 * result.pes, float(bandwidth)


def roofline(result: SimResult, hardware: Accelerator | None = None, *, label_top: int = 5) -> Figure:
    """Each layer's attained throughput against its arithmetic intensity, under the compute roof
    (2 ops per PE per cycle) and the bandwidth roof (intensity x DRAM bytes/cycle)."""
    data, peak, bandwidth = roofline_data(result, hardware)
    fig, ax = _figure()
    lo = min(data["intensity"].min() / 2, peak / bandwidth / 10) if len(data) else 0.1
    hi = max(data["intensity"].max() * 2, peak / bandwidth * 10) if len(data) else 100.0
    x = np.geomspace(lo, hi, 200)
    ax.plot(x, np.minimum(peak, x * bandwidth), color="black", lw=1.5, label="roofline")
    ax.axhline(peak, color="tab:red", ls="--", lw=1, label=f"compute roof {peak:,.0f} ops/cycle")
    ax.plot(x, x * bandwidth, color="tab:blue", ls="--", lw=1, label=f"DRAM roof {bandwidth:g} B/cycle")
    for df, part in data.groupby("dataflow", sort=False):
        ax.scatter(part["intensity"], part["attained"], s=18, label=f"layers ({df})", zorder=3)
    for _, row in data.nsmallest(label_top, "attained").iterrows():
        ax.annotate(str(row["layer"]), (row["intensity"], row["attained"]), fontsize=7, xytext=(3, -8),
                    textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (ops / DRAM byte)",
           ylabel="attained (ops / cycle)", ylim=(max(data["attained"].min() / 3, 1e-3) if len(data) else 1e-3,
                                                 peak * 2),
           title=f"roofline: {result.workload} on {result.hardware} ({result.fidelity})")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def breakdown(result: SimResult, dataflow: str | None = None) -> Figure:
    """Per layer: compute vs stall cycles (top) and MAC / SRAM / DRAM energy (bottom), stacked."""
    layers = result.layers
    flow = dataflow or str(layers["dataflow"].iloc[0])
    rows = layers[layers["dataflow"] == flow]
    if rows.empty:
        raise SpecError("no rows for this dataflow", source="--dataflow", value=flow,
                        accepted=", ".join(layers["dataflow"].unique()))
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(7.0, 0.22 * len(rows)), 6), sharex=True,
                                      constrained_layout=True)
    x = np.arange(len(rows))
    top.bar(x, rows["compute_cycles"], label="compute", color="tab:green")
    top.bar(x, rows["stall_cycles"], bottom=rows["compute_cycles"], label="stall", color="tab:red")
    top.set(ylabel="cycles", title=f"{result.workload} on {result.hardware} ({flow}, {result.fidelity})")
    top.legend(fontsize=7)
    base = np.zeros(len(rows))
    for col, color in (("energy_mac_pj", "tab:purple"), ("energy_sram_pj", "tab:orange"),
                       ("energy_dram_pj", "tab:brown")):
        bottom.bar(x, rows[col], bottom=base, label=col.removeprefix("energy_").removesuffix("_pj"), color=color)
        base = base + rows[col].to_numpy(dtype=float)
    bottom.set(ylabel="energy (pJ)")
    bottom.set_xticks(x, rows["layer"], rotation=90, fontsize=6)
    bottom.legend(fontsize=7)
    return fig


# ---- tables of points ---------------------------------------------------------------------

def pareto(frame: pd.DataFrame, x: str, y: str, *, maximize: tuple[bool, bool] = (False, False),
           label: str | None = None) -> Figure:
    """Every point in grey and the non-dominated ones (``acceldse.results.pareto_front``) highlighted."""
    from acceldse.results import pareto_front

    front = pareto_front(frame, [x, y], list(maximize))
    fig, ax = _figure()
    ax.scatter(frame[x], frame[y], s=6, color="0.75", label=f"{len(frame)} points")
    ax.step(front[x], front[y], where="post", color="tab:red", lw=1)
    ax.scatter(front[x], front[y], s=22, color="tab:red", zorder=3, label=f"Pareto front ({len(front)})")
    if label and label in front.columns:
        for _, row in front.iterrows():
            ax.annotate(str(row[label]), (row[x], row[y]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel=x, ylabel=y, title=f"Pareto front: {x} vs {y}")
    ax.legend(fontsize=7)
    return fig


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str = "utilization", agg: str = "max") -> Figure:
    """``value`` over two axes (``agg`` over the other axes), one annotated cell per (x, y)."""
    from acceldse.results import check_columns

    check_columns(frame, [x, y, value], flag="heatmap")
    if agg not in ("max", "min", "mean", "median"):
        raise SpecError("unknown aggregation", source="--agg", value=agg, accepted="max | min | mean | median")
    table = frame.pivot_table(index=y, columns=x, values=value, aggfunc=agg).sort_index().sort_index(axis=1)
    fig, ax = _figure(size=(1.0 + 0.7 * table.shape[1], 1.0 + 0.5 * table.shape[0]))
    image = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(image, ax=ax, label=f"{agg} {value}")
    ax.set(xlabel=x, ylabel=y, title=f"{value} ({agg} over the other axes)")
    return fig


def best_so_far(frame: pd.DataFrame, step: str = "step", reward: str = "reward", group: str | None = None,
                *, minimize: bool = False) -> Figure:
    """Running best ``reward`` against ``step`` (one curve per ``group``, e.g. per agent)."""
    from acceldse.results import check_columns

    check_columns(frame, [step, reward] + ([group] if group else []), flag="best-so-far")
    fig, ax = _figure()
    groups = frame.groupby(group, sort=True) if group else [("all", frame)]
    for name, part in groups:
        part = part.sort_values(step, kind="stable")
        values = part[reward].to_numpy(dtype=float)
        best = np.minimum.accumulate(values) if minimize else np.maximum.accumulate(values)
        ax.plot(part[step].to_numpy(), best, drawstyle="steps-post", label=str(name))
    ax.set(xlabel=step, ylabel=f"best {reward} so far", title=f"best {reward} so far")
    ax.legend(fontsize=7)
    return fig


# ---- traces ---------------------------------------------------------------------------------

def trace_spans(trace: dict[str, Any] | str | Path) -> pd.DataFrame:
    """Complete (``ph: X``) events of a Chrome/Perfetto trace: ``track``, ``name``, ``category``, ``start``,
    ``duration`` (in the trace's time unit)."""
    if not isinstance(trace, dict):
        try:
            trace = json.loads(Path(trace).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise SpecError(f"cannot read trace: {err}", source="--trace", value=str(trace),
                            accepted="a Chrome/Perfetto trace JSON from 'acceldse stream ... --trace'") from None
    events = trace.get("traceEvents", []) if isinstance(trace, dict) else []
    names = {(e.get("pid"), e.get("tid")): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    rows = [{"track": names.get((e.get("pid"), e.get("tid")), str(e.get("tid"))), "name": e.get("name", ""),
             "category": e.get("cat", e.get("name", "")), "start": float(e["ts"]), "duration": float(e.get("dur", 0.0))}
            for e in events if e.get("ph") == "X"]
    if not rows:
        raise SpecError("trace has no complete (ph: X) events", source="--trace", value=str(type(trace).__name__))
    return pd.DataFrame(rows)


def timeline(trace: dict[str, Any] | str | Path, *, max_tracks: int = 40) -> Figure:
    """A Gantt chart: one row per track (compute array, DMA engine, streaming context), one
    colour per span category (compute, dma, firing ...)."""
    spans = trace_spans(trace)
    data: dict[str, Any] = trace if isinstance(trace, dict) else json.loads(Path(trace).read_text())
    unit = (data.get("otherData") or {}).get("time_unit", "us")
    tracks = list(dict.fromkeys(spans["track"]))[:max_tracks]
    fig, ax = _figure(size=(9.0, 1.2 + 0.35 * len(tracks)))
    colors = {cat: f"C{i % 10}" for i, cat in enumerate(dict.fromkeys(spans["category"]))}
    for i, track in enumerate(tracks):
        part = spans[spans["track"] == track]
        ax.broken_barh(list(zip(part["start"], part["duration"])), (i - 0.4, 0.8),
                       facecolors=[colors[c] for c in part["category"]], edgecolor="white", linewidth=0.3)
    ax.set_yticks(range(len(tracks)), tracks, fontsize=7)
    ax.invert_yaxis()
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=cat) for cat, c in colors.items()], fontsize=7, loc="upper right")
    ax.set(xlabel=f"time ({unit})", title="timeline")
    return fig


class ResultPlots:
    """``SimResult.plot``: ``result.plot.roofline()``, ``result.plot.breakdown()``."""

    def __init__(self, result: SimResult) -> None:
        self._result = result

    def roofline(self, hardware: Accelerator | None = None, **kwargs: Any) -> Figure:
        return roofline(self._result, hardware, **kwargs)

    def breakdown(self, dataflow: str | None = None) -> Figure:
        return breakdown(self._result, dataflow)

    def timeline(self) -> Figure:
        trace = self._result.extra.get("trace")
        if trace is None:
            raise SpecError("this result has no trace", source="timeline",
                            accepted="an event run with trace=True, or a trace JSON file")
        return timeline(trace)


__all__ = ["ResultPlots", "best_so_far", "breakdown", "heatmap", "pareto", "roofline", "roofline_data", "save",
           "timeline", "trace_spans"]
