"""The result store: an embedded DuckDB file that sweeps and explorations append rows to.

One process writes (the parent of a sweep or an exploration); workers return rows to it.
Each ``insert`` is one transaction that adds only the rows whose key is not stored yet, so a
``kill -9`` at any moment loses no committed row and a rerun duplicates none; SIGINT and SIGTERM
arriving during a transaction are delivered once it has committed.

Column types are declared, never guessed from one batch: the caller's ``schema`` (column -> SQL
type) wins, other columns take the type of all the values they bring. A value never changes on
the way in: an integer column meeting fractional values is widened to ``DOUBLE`` (lossless), and
any other mismatch (text into a number column, a fraction into a declared integer) is a
``SpecError`` naming the column. Storage faults (no space, permission, a lock held by another
process, a corrupt file) are ``SpecError``s naming the file and the cause.

Example::

    from acceldse.store import ResultStore
    with ResultStore("results.duckdb") as store:
        store.insert("points", frame)            # frame has a ``point_id`` column
        done = store.keys("points")
        best = store.read("points", where="area_mm2 <= 10")
        store.export("points", "points.parquet")

One file per concept: ``result_store`` (the ``ResultStore``), ``columns`` (column types), ``faults`` (path
checks, storage errors as one line, signals held during a commit).
"""

from __future__ import annotations

from acceldse.store.columns import quote, sql_type
from acceldse.store.faults import check_store_path, signals_deferred, storage_error
from acceldse.store.result_store import EXPORT_SUFFIXES as EXPORT_SUFFIXES  # the formats `export` writes
from acceldse.store.result_store import META_TABLE as META_TABLE  # the store's own table (schema, version)
from acceldse.store.result_store import STORE_SCHEMA_VERSION, ResultStore
from acceldse.store.result_store import acceldse_version as acceldse_version  # stamped on stored rows

__all__ = ["STORE_SCHEMA_VERSION", "ResultStore", "check_store_path", "quote", "signals_deferred", "sql_type",
           "storage_error"]
