"""The result store: an embedded DuckDB file that sweeps and explorations append rows to.

One process writes (the parent of a sweep or an exploration); workers return rows to it.
Each ``insert`` is one transaction that adds only the rows whose key is not stored yet, so a
``kill -9`` at any moment loses no committed row and a rerun duplicates none. Tables are
created on first use from the columns of the first frame; later frames may add columns.

Example::

    from acceldse.store import ResultStore
    with ResultStore("results.duckdb") as store:
        store.insert("points", frame)            # frame has a ``point_id`` column
        done = store.keys("points")
        best = store.read("points", where="area_mm2 <= 10")
        store.export("points", "points.parquet")
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from acceldse.workloads.errors import SpecError

STORE_SCHEMA_VERSION = 1
"""Bumped when the layout of the store (meta table, key handling) changes incompatibly."""

META_TABLE = "acceldse_meta"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EXPORT_SUFFIXES = (".csv", ".parquet", ".pq")


def acceldse_version() -> str:
    import acceldse

    return str(acceldse.__version__)


def _compatible(stored: str, current: str) -> bool:
    """Same major.minor: results of 0.1.x stores are comparable."""
    return stored.split(".")[:2] == current.split(".")[:2]


def quote(name: str) -> str:
    """A column name as a DuckDB identifier (dotted axis keys such as ``array.rows`` included)."""
    return '"' + name.replace('"', '""') + '"'


def check_store_path(path: str | Path, *, create: bool, source: str = "--store") -> Path:
    """Validate a store path before any work: folder exists, not a directory, writable."""
    path = Path(path)
    if path.is_dir():
        raise SpecError("is a directory", source=source, value=str(path), accepted="a .duckdb file path")
    if not path.exists():
        if not create:
            raise SpecError("result store not found", source=source, value=str(path),
                            accepted="an existing .duckdb file written by 'acceldse sweep'")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise SpecError(f"folder {str(parent)!r} does not exist", source=source, value=str(path),
                            accepted="a path in an existing, writable folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise SpecError(f"folder {str(parent)!r} is not writable", source=source, value=str(path),
                            accepted="a path in an existing, writable folder")
    elif create and not os.access(path, os.W_OK):
        raise SpecError("result store is not writable", source=source, value=str(path),
                        accepted="a writable .duckdb file")
    return path


class ResultStore:
    """An embedded DuckDB result store.

    Args:
        path: the ``.duckdb`` file.
        create: create the file if missing and open it for writing; ``False`` opens an
            existing store read-only (``acceldse results``).
        source: the flag or argument the path came from, for error messages.

    Raises:
        SpecError: a missing folder, a directory, an unwritable path, a file that is not a
            DuckDB database, or a store written by an incompatible acceldse version.
    """

    def __init__(self, path: str | Path, *, create: bool = True, source: str = "--store") -> None:
        import duckdb

        self.path = check_store_path(path, create=create, source=source)
        self.source = source
        try:
            self._con = duckdb.connect(str(self.path), read_only=not create)
        except duckdb.Error as err:
            raise SpecError(f"cannot open the result store: {err}", source=source, value=str(self.path),
                            accepted="a DuckDB file written by acceldse, or a new path") from None
        try:
            self._check_meta(writable=create)
        except BaseException:
            self._con.close()
            raise

    # ---- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _check_meta(self, *, writable: bool) -> None:
        current = acceldse_version()
        if META_TABLE not in self._all_tables():
            if self._all_tables():
                raise SpecError("not an acceldse result store (no acceldse_meta table)", source=self.source,
                                value=str(self.path), accepted="a store written by acceldse, or a new path")
            if not writable:
                raise SpecError("empty result store", source=self.source, value=str(self.path))
            with self._transaction():
                self._con.execute(f"CREATE TABLE {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
                self._con.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)",
                                      [("schema_version", str(STORE_SCHEMA_VERSION)), ("acceldse_version", current)])
        meta = dict(self._con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
        schema, version = meta.get("schema_version"), meta.get("acceldse_version", "?")
        if schema != str(STORE_SCHEMA_VERSION) or not _compatible(version, current):
            raise SpecError(f"result store written by an incompatible acceldse (version {version}, store schema "
                            f"{schema})", source=self.source, value=str(self.path),
                            accepted=f"a store of acceldse {'.'.join(current.split('.')[:2])}.x, schema "
                                     f"{STORE_SCHEMA_VERSION}; use a new --store path")
        self.meta = meta

    def _transaction(self) -> Any:
        con = self._con

        class _Tx:
            def __enter__(self) -> None:
                con.execute("BEGIN TRANSACTION")

            def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
                con.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    # ---- queries -----------------------------------------------------------------------

    def _all_tables(self) -> list[str]:
        rows = self._con.execute("SELECT table_name FROM information_schema.tables "
                                 "WHERE table_schema = 'main' ORDER BY table_name").fetchall()
        return [r[0] for r in rows]

    def tables(self) -> list[str]:
        """Result tables (the store's own metadata table left out)."""
        return [t for t in self._all_tables() if t != META_TABLE]

    def columns(self, table: str) -> list[str]:
        self._check_table(table, must_exist=True)
        return [r[0] for r in self._con.execute(f"DESCRIBE {table}").fetchall()]

    def _check_table(self, table: str, *, must_exist: bool) -> None:
        if not isinstance(table, str) or not _IDENT.match(table) or table == META_TABLE:
            raise SpecError("bad table name", source=str(self.path), key="table", value=table,
                            accepted="letters, digits and underscores, not starting with a digit")
        if must_exist and table not in self._all_tables():
            raise SpecError("no such table in the result store", source=str(self.path), key="table", value=table,
                            accepted=", ".join(self.tables()) or "(the store is empty)")

    def keys(self, table: str, key: str = "point_id") -> set[str]:
        """Keys already stored in ``table`` (empty when the table does not exist yet)."""
        self._check_table(table, must_exist=False)
        if table not in self._all_tables():
            return set()
        return {str(r[0]) for r in self._con.execute(f"SELECT {quote(key)} FROM {table}").fetchall()}

    def count(self, table: str) -> int:
        self._check_table(table, must_exist=True)
        return int(self._con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]

    def read(self, table: str, where: str | None = None) -> pd.DataFrame:
        """Rows of ``table`` (no particular order), optionally filtered by an SQL ``where`` clause.

        Column names with dots are quoted in SQL: ``where='"array.rows" >= 16 AND area_mm2 <= 10'``.
        """
        import duckdb

        self._check_table(table, must_exist=True)
        sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
        try:
            return self._con.execute(sql).df()
        except duckdb.Error as err:
            raise SpecError(f"bad filter: {str(err).splitlines()[0]}", source="--where", value=where,
                            accepted="an SQL condition over the columns " + ", ".join(self.columns(table))) from None

    def query(self, sql: str) -> pd.DataFrame:
        """Any read-only SQL over the store's tables."""
        return self._con.execute(sql).df()

    # ---- writing -----------------------------------------------------------------------

    def insert(self, table: str, rows: pd.DataFrame, key: str = "point_id") -> int:
        """Insert the rows whose ``key`` is not stored yet, in one transaction; returns how many.

        The table is created on first use from the frame's columns (``key`` is its primary
        key); columns a later frame adds are added to the table (earlier rows get NULL).
        """
        return self.insert_many({table: rows}, {table: key})[table]

    def insert_many(self, frames: dict[str, pd.DataFrame], keys: dict[str, str]) -> dict[str, int]:
        """``insert`` into several tables in one transaction (e.g. a sweep's points and their layers)."""
        for table, rows in frames.items():
            self._check_table(table, must_exist=False)
            if keys[table] not in rows.columns:
                raise SpecError("rows lack the key column", source=str(self.path), key=keys[table],
                                value=list(rows.columns), accepted=f"a DataFrame with a {keys[table]!r} column")
        with self._transaction():
            return {table: self._insert_new(table, rows, keys[table]) for table, rows in frames.items()}

    def _insert_new(self, table: str, rows: pd.DataFrame, key: str) -> int:
        if rows.empty:
            return 0
        frame = rows.drop_duplicates(subset=[key], keep="first")  # noqa: F841 - read by DuckDB by name
        con = self._con
        types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM frame").fetchall()}
        if table not in self._all_tables():
            cols = ", ".join(f"{quote(c)} {t}" for c, t in types.items())
            con.execute(f"CREATE TABLE {table} ({cols}, PRIMARY KEY ({quote(key)}))")
        else:
            have = set(self.columns(table))
            for c, t in types.items():
                if c not in have:
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(c)} {t}")
        before = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
        con.execute(f"INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM frame")
        after = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
        return after - before

    def export(self, table: str, path: str | Path, where: str | None = None) -> Path:
        """Write ``table`` (optionally filtered) to a ``.csv`` or ``.parquet`` file."""
        path = Path(path)
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            raise SpecError("unknown export format", source="--export", value=str(path),
                            accepted="a .csv or .parquet path")
        if not path.parent.is_dir():
            raise SpecError(f"folder {str(path.parent)!r} does not exist", source="--export", value=str(path))
        frame = self.read(table, where)
        if path.suffix.lower() == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path


__all__ = ["STORE_SCHEMA_VERSION", "ResultStore", "check_store_path", "quote"]
