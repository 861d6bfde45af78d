"""``ResultStore``: the embedded DuckDB file that sweeps and explorations append rows to (the package
docstring tells how it keeps rows whole)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from acceldse.store.columns import FLOAT_TYPES, INTEGER_TYPES, check_fits, lossless, quote
from acceldse.store.faults import check_store_path, signals_deferred, storage_error
from acceldse.workloads.errors import SpecError

STORE_SCHEMA_VERSION = 2
"""Bumped when the layout of the store (meta table, key handling) changes incompatibly (2: rows carry
the values they are keyed on, declared column types, the ``sweeps`` table)."""

META_TABLE = "acceldse_meta"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EXPORT_SUFFIXES = (".csv", ".parquet", ".pq")


def acceldse_version() -> str:
    import acceldse

    return str(acceldse.__version__)


def _compatible(stored: str, current: str) -> bool:
    """Same major.minor: results of 0.1.x stores are comparable."""
    return stored.split(".")[:2] == current.split(".")[:2]


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

    def __init__(self, path: str | Path, *, create: bool = True, source: str = "store") -> None:
        import duckdb

        self.path = check_store_path(path, create=create, source=source)
        self.source = source
        self.writable = create
        self._closed = False
        created = not self.path.exists()
        try:
            with signals_deferred():
                self._con = duckdb.connect(str(self.path), read_only=not create)
        except (duckdb.Error, OSError) as err:
            raise storage_error(err, self.path, "open the result store") from None
        try:
            with self._storage("read the result store"):
                self._check_meta(writable=create)
        except BaseException:
            self._con.close()
            if created:  # nothing of ours was stored: leave no empty file behind
                self._remove_files()
            raise

    # ---- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint (a writable store) and close; a failed checkpoint is an error naming the file
        (the committed rows stay in its ``.wal`` journal and are replayed when the store is next opened)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.writable:
                with self._storage("checkpoint the result store (committed rows are kept in its .wal journal "
                                   "and recovered on the next open)"), signals_deferred():
                    self._con.execute("CHECKPOINT")
        finally:
            with suppress(Exception):  # after a failed checkpoint, that error is the one to report
                self._con.close()

    def _remove_files(self) -> None:
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            with suppress(OSError):
                p.unlink()

    def discard_if_empty(self) -> None:
        """Close and delete a store that holds no result table (e.g. a sweep refused before any row)."""
        if not self._closed and not self.tables():
            self._closed = True
            self._con.close()
            self._remove_files()

    @contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        """DuckDB and OS errors of the block become one ``SpecError`` naming the file and the cause."""
        import duckdb

        try:
            yield
        except SpecError:
            raise
        except (duckdb.Error, OSError) as err:
            raise storage_error(err, self.path, action) from None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        try:  # an error is on its way out already: it is the one to report
            self.close()
        except SpecError as err:
            if isinstance(exc, SpecError):  # a storage fault already said why; the checkpoint failed for it too
                return
            import logging

            logging.getLogger(__name__).warning("%s", err)

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
                                     f"{STORE_SCHEMA_VERSION}; use a new store path")
        self.meta = meta

    def _transaction(self) -> Any:
        con = self._con

        class _Tx:
            def __enter__(self) -> None:
                con.execute("BEGIN TRANSACTION")

            def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
                if exc_type is None:
                    con.execute("COMMIT")
                    return
                with suppress(Exception):  # a failed transaction may be gone already; report its cause
                    con.execute("ROLLBACK")

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
        with self._storage(f"read table {table!r}"):
            return {str(r[0]) for r in self._con.execute(f"SELECT {quote(key)} FROM {table}").fetchall()}

    def count(self, table: str) -> int:
        self._check_table(table, must_exist=True)
        with self._storage(f"read table {table!r}"):
            return int(self._con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]

    def read(self, table: str, where: str | None = None) -> pd.DataFrame:
        """Rows of ``table`` (no particular order), optionally filtered by an SQL ``where`` clause.

        Column names with dots are quoted in SQL: ``where='"array.rows" >= 16 AND area_mm2 <= 10'``.
        """
        import duckdb

        self._check_table(table, must_exist=True)
        sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
        try:
            if where and len(self._con.extract_statements(sql)) != 1:  # '1=1; DROP TABLE points'
                raise duckdb.ParserException("a filter is one condition, not several SQL statements")
            return self._con.execute(sql).df()
        except (duckdb.ParserException, duckdb.BinderException, duckdb.ConversionException) as err:
            if not where:
                raise storage_error(err, self.path, f"read table {table!r}") from None
            raise SpecError(f"bad filter: {str(err).splitlines()[0]}", source="where", value=where,
                            accepted="an SQL condition over the columns " + ", ".join(self.columns(table))) from None
        except (duckdb.Error, OSError) as err:
            raise storage_error(err, self.path, f"read table {table!r}") from None

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Any read-only SQL over the store's tables (``?`` placeholders filled from ``params``)."""
        with self._storage("read the result store"):
            return self._con.execute(sql, params or []).df()

    # ---- writing -----------------------------------------------------------------------

    def insert(self, table: str, rows: pd.DataFrame, key: str = "point_id",
               schema: dict[str, str] | None = None) -> int:
        """Insert the rows whose ``key`` is not stored yet, in one transaction; returns how many.

        The table is created on first use (``key`` is its primary key) with the ``schema`` types
        (column -> SQL type) for the columns it names and, for the others, the type of all the
        frame's values; columns a later frame adds are added (earlier rows get NULL).
        """
        return self.insert_many({table: rows}, {table: key}, {table: schema or {}})[table]

    def insert_many(self, frames: dict[str, pd.DataFrame], keys: dict[str, str],
                    schemas: dict[str, dict[str, str]] | None = None) -> dict[str, int]:
        """``insert`` into several tables in one transaction (e.g. a sweep's points and their layers)."""
        if not self.writable:
            raise SpecError("the result store is open read-only", source=str(self.path))
        for table, rows in frames.items():
            self._check_table(table, must_exist=False)
            if keys[table] not in rows.columns:
                raise SpecError("rows lack the key column", source=str(self.path), key=keys[table],
                                value=list(rows.columns), accepted=f"a DataFrame with a {keys[table]!r} column")
        with self._storage("write to the result store"), signals_deferred(), self._transaction():
            return {table: self._insert_new(table, rows, keys[table], (schemas or {}).get(table) or {})
                    for table, rows in frames.items()}

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> SQL type of a stored table (empty when it does not exist yet)."""
        if table not in self._all_tables():
            return {}
        return {r[0]: r[1] for r in self._con.execute(f"DESCRIBE {table}").fetchall()}

    def _insert_new(self, table: str, rows: pd.DataFrame, key: str, schema: dict[str, str]) -> int:
        if rows.empty:
            return 0
        frame = rows.drop_duplicates(subset=[key], keep="first")
        con = self._con
        inferred = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM frame").fetchall()}
        wanted = {c: schema.get(c, t) for c, t in inferred.items()}
        for c, t in wanted.items():
            if c in schema and inferred[c] not in (t, '"NULL"'):
                check_fits(frame[c], t, column=c, table=table, path=self.path)
        have = self.column_types(table)
        if not have:
            cols = ", ".join(f"{quote(c)} {t}" for c, t in wanted.items() if t != '"NULL"')
            con.execute(f"CREATE TABLE {table} ({cols}, PRIMARY KEY ({quote(key)}))")
        else:
            for c, t in wanted.items():
                if t == '"NULL"':  # no value yet: fits any column
                    continue
                if c not in have:
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(c)} {t}")
                elif have[c] != t:
                    if lossless(t, have[c]):
                        continue
                    if lossless(have[c], t):  # e.g. integers stored so far, fractions now: widen
                        con.execute(f"ALTER TABLE {table} ALTER COLUMN {quote(c)} TYPE {t}")
                        continue
                    if have[c] in INTEGER_TYPES and t in FLOAT_TYPES:
                        check_fits(frame[c], have[c], column=c, table=table, path=self.path)
                        continue
                    raise SpecError(f"column {c!r} of table {table!r} holds {have[c]} values; these rows bring "
                                    f"{t} values, which it cannot hold unchanged", source=str(self.path),
                                    value=frame[c].dropna().head(3).tolist(),
                                    accepted="values of the stored type, or a new store path")
        names = [c for c in frame.columns if wanted.get(c) != '"NULL"']
        select = ", ".join(quote(c) for c in names)  # noqa: F841 - read by DuckDB by name
        before = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
        con.execute(f"INSERT OR IGNORE INTO {table} ({select}) SELECT {select} FROM frame")
        after = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
        return after - before

    def export(self, table: str, path: str | Path, where: str | None = None) -> Path:
        """Write ``table`` (optionally filtered) to a ``.csv`` or ``.parquet`` file."""
        path = Path(path)
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            raise SpecError("unknown export format", source="path", value=str(path),
                            accepted="a .csv or .parquet path")
        if not path.parent.is_dir():
            raise SpecError(f"folder {str(path.parent)!r} does not exist", source="path", value=str(path))
        frame = self.read(table, where)
        if path.suffix.lower() == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path


__all__ = ["EXPORT_SUFFIXES", "META_TABLE", "STORE_SCHEMA_VERSION", "ResultStore", "acceldse_version"]
