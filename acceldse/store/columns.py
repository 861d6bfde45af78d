"""Column types of the result store: the SQL type that holds a batch's values exactly, which stored types
take which values unchanged, and column names as DuckDB identifiers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from acceldse.workloads.errors import SpecError


def quote(name: str) -> str:
    """A column name as a DuckDB identifier (dotted axis keys such as ``array.rows`` included)."""
    return '"' + name.replace('"', '""') + '"'


INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
FLOAT_TYPES = ("FLOAT", "DOUBLE")


def sql_type(values: Any) -> str:
    """The column type that holds every one of ``values`` exactly (NULLs ignored).

    Booleans -> BOOLEAN, integers -> BIGINT, numbers with a fraction (or a mix of integers and
    floats) -> DOUBLE, anything else -> VARCHAR (a mix of text and numbers included).
    """
    kinds = set()
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if hasattr(v, "item") and not isinstance(v, str | bytes):
            v = v.item()
        kinds.add("BOOLEAN" if isinstance(v, bool) else "BIGINT" if isinstance(v, int)
                  else "DOUBLE" if isinstance(v, float) else "VARCHAR")
    if kinds <= {"BIGINT", "DOUBLE"} and kinds:
        return "DOUBLE" if "DOUBLE" in kinds else "BIGINT"
    return kinds.pop() if len(kinds) == 1 else "VARCHAR"


def lossless(source: str, target: str) -> bool:
    """Whether every ``source`` value converts to ``target`` unchanged (numbers within 2**53)."""
    if source == target:
        return True
    if source in INTEGER_TYPES:
        return target in INTEGER_TYPES and INTEGER_TYPES.index(target) >= INTEGER_TYPES.index(source) \
            and (source.startswith("U") or not target.startswith("U")) or target in FLOAT_TYPES
    return source == "FLOAT" and target == "DOUBLE"


def check_fits(values: pd.Series, target: str, *, column: str, table: str, path: Path) -> None:
    """Values bound for an integer (or other declared) column must convert unchanged."""
    present = values.dropna()
    if target in INTEGER_TYPES:
        numeric = pd.to_numeric(present, errors="coerce")
        bad = present[numeric.isna() | (numeric % 1 != 0)]
    elif target in FLOAT_TYPES:
        bad = present[pd.to_numeric(present, errors="coerce").isna()]
    elif target == "BOOLEAN":
        bad = present[~present.map(lambda v: isinstance(v, bool | int) and v in (0, 1))]
    else:
        bad = present.iloc[:0]
    if len(bad):
        first = bad.iloc[0]
        raise SpecError(f"value does not fit column {column!r} ({target}) of table {table!r}", source=str(path),
                        value=first.item() if hasattr(first, "item") else first, accepted=f"{target.lower()} values")


__all__ = ["FLOAT_TYPES", "INTEGER_TYPES", "check_fits", "lossless", "quote", "sql_type"]
