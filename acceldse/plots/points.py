"""Figures of tables of design points (a sweep's store, an exploration's log, ``compare``'s runs): the
Pareto front, a heatmap over two axes, best-so-far curves and the agents' median curves."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acceldse.plots.figures import axes_or_new, set_scales
from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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
    ax = axes_or_new(ax, figsize)
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
    set_scales(ax, logx, logy)
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
    ax = axes_or_new(ax, figsize, (1.0 + 0.7 * table.shape[1], 1.0 + 0.5 * table.shape[0]))
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
    ax = axes_or_new(ax, figsize)
    groups = frame.groupby(group, sort=True) if group else [("all", frame)]
    for name, part in groups:
        part = part.sort_values(step, kind="stable")
        values = part[reward].to_numpy(dtype=float)
        best = np.minimum.accumulate(values) if minimize else np.maximum.accumulate(values)
        ax.plot(part[step].to_numpy(), best, drawstyle="steps-post", label=str(name))
    set_scales(ax, logx, logy)
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
    ax = axes_or_new(ax, figsize)
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


__all__ = ["best_so_far", "compare_curves", "heatmap", "pareto"]
