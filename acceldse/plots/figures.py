"""A new figure's Axes, axis scales, and saving a figure to a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
DEFAULT_FIGSIZE = (7.0, 4.5)


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] | None,
                default: tuple[float, float] = DEFAULT_FIGSIZE) -> Axes:
    """``ax``, or the Axes of a new figure of ``figsize`` (pyplot's, so Jupyter shows it once)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize or default, constrained_layout=True)
    return new


def set_scales(ax: Axes, logx: bool, logy: bool) -> None:
    """Log scales on the axes asked for."""
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


__all__ = ["DEFAULT_FIGSIZE", "FIGURE_SUFFIXES", "axes_or_new", "figure_of", "save", "set_scales"]
