"""Reading a result store: summaries, top-K, Pareto fronts (the API behind ``acceldse results``).

    from acceldse.results import load_results, pareto_front, top
    points = load_results("results.duckdb", where="area_mm2 <= 10")
    front = pareto_front(points, ["energy_pj", "total_cycles"])
    fastest = top(points, 5, by="latency_us")
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from acceldse.store import ResultStore
from acceldse.workloads.errors import SpecError

SUMMARY_METRICS = ("total_cycles", "latency_us", "energy_pj", "utilization", "dram_bytes", "area_mm2")


def load_results(path: str | Path, table: str = "points", where: str | None = None) -> pd.DataFrame:
    """Rows of ``table`` in a result store (read-only), optionally filtered by SQL ``where``."""
    with ResultStore(path, create=False, source="results file") as store:
        return store.read(table, where)


def check_columns(frame: pd.DataFrame, names: list[str], *, flag: str) -> None:
    """Every name must be a column; an unknown one is named with the closest columns."""
    for name in names:
        if name not in frame.columns:
            close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=3)
            raise SpecError("unknown column", source=flag, value=name,
                            accepted=("did you mean " + " or ".join(close) + "? " if close else "")
                            + "one of " + ", ".join(map(str, frame.columns)))


def top(frame: pd.DataFrame, k: int, by: str, *, descending: bool = False) -> pd.DataFrame:
    """The ``k`` best rows by ``by`` (smallest first unless ``descending``); ties broken by ``point_id``."""
    check_columns(frame, [by], flag="by")
    if k < 1:
        raise SpecError("must be >= 1", source="k", value=k)
    keys = [by, "point_id"] if "point_id" in frame.columns and by != "point_id" else [by]
    ordered = frame.sort_values(keys, ascending=[not descending] + [True] * (len(keys) - 1), kind="stable")
    return ordered.head(k).reset_index(drop=True)


def parse_objectives(objectives: str) -> tuple[list[str], list[bool]]:
    """``energy_pj,utilization:max`` -> (columns, maximize flags); minimise unless ``:max``."""
    cols, maximize = [], []
    for item in objectives.split(","):
        name, _, sense = item.strip().partition(":")
        if sense not in ("", "min", "max") or not name:
            raise SpecError("bad objective", source="objectives", value=item,
                            accepted="COLUMN, COLUMN:min or COLUMN:max, comma separated")
        cols.append(name)
        maximize.append(sense == "max")
    if len(cols) < 2:
        raise SpecError("a Pareto front needs at least two columns", source="objectives", value=objectives,
                        accepted="e.g. energy_pj,total_cycles")
    return cols, maximize


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (all objectives minimised) that no other row dominates.

    A row is dominated when another is <= in every objective and < in at least one; equal rows
    are all kept. Rows run in lexicographic order, so a row's dominators come before it and
    (domination being transitive) it is enough to test it against the front found so far.
    """
    keep = np.zeros(len(values), dtype=bool)
    front = np.empty((0, values.shape[1]))
    for i in np.lexsort(values.T[::-1]):
        v = values[i]
        if len(front) and np.any(np.all(front <= v, axis=1) & np.any(front < v, axis=1)):
            continue
        keep[i] = True
        front = np.vstack([front, v])
    return keep


def pareto_front(frame: pd.DataFrame, columns: list[str], maximize: list[bool] | None = None, *,
                 source: str = "columns") -> pd.DataFrame:
    """The non-dominated rows of ``frame`` over ``columns`` (minimised unless ``maximize``), sorted by the first."""
    if not isinstance(frame, pd.DataFrame):
        raise SpecError("not a table", source="frame", value=type(frame).__name__,
                        accepted="a pandas DataFrame (acceldse.load_results(...), SimResult.layers)")
    columns = [columns] if isinstance(columns, str) else list(columns)  # one name, not its letters
    check_columns(frame, columns, flag=source)
    maximize = maximize or [False] * len(columns)
    values = frame[columns].to_numpy(dtype=float) * np.where(maximize, -1.0, 1.0)
    ok = ~np.isnan(values).any(axis=1)
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.flatnonzero(ok)] = pareto_mask(values[ok])
    return frame[mask].sort_values(columns[0], ascending=not maximize[0], kind="stable").reset_index(drop=True)


def summary(frame: pd.DataFrame, axes: list[str] | None = None) -> pd.DataFrame:
    """min / median / max of the main metrics (one row per metric present)."""
    metrics = [c for c in SUMMARY_METRICS if c in frame.columns]
    rows = [{"column": c, "min": frame[c].min(), "median": frame[c].median(), "max": frame[c].max()}
            for c in metrics]
    return pd.DataFrame(rows)


__all__ = ["check_columns", "load_results", "pareto_front", "pareto_mask", "parse_objectives", "summary", "top"]
