"""Pareto fronts and hypervolume of the designs a run found (lower is better on every metric).

The hypervolume is measured in ``log2(metric / reference)`` space: scale-free (a metric in us or in
cycles gives the same number) and comparable across metrics that span orders of magnitude. The
reference point is twice the reference design's value on every metric (``log2 = 1``); a design worse
than that on any metric adds nothing, and ``log2`` values below ``-LOG2_CLIP`` are clipped. One unit
of hypervolume in two metrics is, for example, a design twice as good as the reference on both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from acceldse.envs.knobs import LOG2_CLIP

REFERENCE_LOG2 = 1.0
"""The hypervolume's reference point: ``log2(metric / reference) = 1`` on every metric."""


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Which rows of ``points`` (n x d, minimised) no other row dominates (duplicates: the first is kept)."""
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    keep = np.ones(n, dtype=bool)
    order = np.argsort(pts.sum(axis=1), kind="stable")
    kept: list[int] = []
    for i in order:
        p = pts[i]
        if kept:
            others = pts[kept]
            if np.any(np.all(others <= p, axis=1)):
                keep[i] = False
                continue
        kept.append(int(i))
    return keep


def _hv(points: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume of minimised ``points`` below ``ref`` (slicing on the last metric)."""
    points = points[np.all(points < ref, axis=1)]
    if len(points) == 0:
        return 0.0
    d = points.shape[1]
    if d == 1:
        return float(ref[0] - points[:, 0].min())
    if d == 2:
        pts = points[np.lexsort((points[:, 1], points[:, 0]))]
        total, best_y = 0.0, ref[1]
        for x, y in pts:
            if y < best_y:  # a horizontal strip from x to the reference, between y and the strip above
                total += (ref[0] - x) * (best_y - y)
                best_y = y
        return float(total)
    pts = points[np.argsort(points[:, -1], kind="stable")]
    total = 0.0
    for i in range(len(pts)):
        top = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        height = top - pts[i, -1]
        if height > 0:
            total += height * _hv(pts[: i + 1, :-1], ref[:-1])
    return float(total)


def hypervolume(points: np.ndarray, reference: Sequence[float] | None = None) -> float:
    """Hypervolume dominated by ``points`` (n x d, minimised) up to ``reference`` (default: 1 on every metric)."""
    pts = np.asarray(points, dtype=np.float64).reshape(len(points), -1) if len(points) else np.zeros((0, 1))
    if len(pts) == 0:
        return 0.0
    ref = np.full(pts.shape[1], REFERENCE_LOG2) if reference is None else np.asarray(reference, dtype=np.float64)
    return _hv(pts[pareto_mask(pts)], ref)


def log2_points(metrics: Sequence[Mapping[str, Any]], names: Sequence[str], reference: Mapping[str, float]
                ) -> np.ndarray:
    """``log2(metric / reference)`` of every design and metric, clipped to ``[-LOG2_CLIP, LOG2_CLIP]``."""
    rows = []
    for m in metrics:
        row = []
        for k in names:
            v, r = float(m[k]), float(reference[k])
            if not v < math.inf:
                x = LOG2_CLIP
            elif v <= 0:
                x = -LOG2_CLIP
            else:
                x = math.log2(v / r) if r > 0 else LOG2_CLIP
            row.append(min(max(x, -LOG2_CLIP), LOG2_CLIP))
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(names))


def hypervolume_of(metrics: Sequence[Mapping[str, Any]], names: Sequence[str],
                   reference: Mapping[str, float] | None) -> float | None:
    """The hypervolume (module docstring) of feasible designs' ``metrics`` over ``names``; ``None`` without a
    reference design or when a design lacks one of the metrics."""
    if reference is None or not names or any(k not in reference for k in names):
        return None
    usable = [m for m in metrics if all(k in m for k in names)]
    if len(usable) != len(metrics):
        return None
    return hypervolume(log2_points(usable, names, reference))


__all__ = ["REFERENCE_LOG2", "hypervolume", "hypervolume_of", "log2_points", "pareto_mask"]
