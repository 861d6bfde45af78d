"""The DuckDB result store: keyed inserts, resume, schema/version checks, path validation."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.store import META_TABLE, ResultStore
from acceldse.workloads.errors import SpecError


def frame(ids: list[str], value: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"point_id": ids, "array.rows": [len(i) for i in ids], "energy_pj": [value] * len(ids)})


def test_insert_skips_stored_keys_and_keeps_first(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    with ResultStore(path) as store:
        assert store.insert("points", frame(["a", "bb"], 1.0)) == 2
        assert store.insert("points", frame(["bb", "ccc", "ccc"], 2.0)) == 1
        assert store.keys("points") == {"a", "bb", "ccc"}
        assert store.tables() == ["points"]
    with ResultStore(path, create=False) as store:
        got = store.read("points").sort_values("point_id")
    assert got["point_id"].tolist() == ["a", "bb", "ccc"]
    assert got["energy_pj"].tolist() == [1.0, 1.0, 2.0]  # a stored row is never overwritten
    assert got["array.rows"].tolist() == [1, 2, 3]


def test_where_new_columns_and_export(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "r.duckdb") as store:
        store.insert("points", frame(["a", "bb"]))
        store.insert("points", frame(["ccc"]).assign(extra=7))
        got = store.read("points", where='"array.rows" >= 2').sort_values("point_id")
        assert got["point_id"].tolist() == ["bb", "ccc"]
        assert got["extra"].isna().tolist() == [True, False]
        store.export("points", tmp_path / "p.parquet")
        store.export("points", tmp_path / "p.csv", where="extra = 7")
        with pytest.raises(SpecError, match="bad filter"):
            store.read("points", where="nosuchcolumn > 1")
        with pytest.raises(SpecError, match="bad filter: a filter is one condition"):  # not 'a corrupt store'
            store.read("points", where="1=1; DROP TABLE points")
        with pytest.raises(SpecError, match="no such table"):
            store.read("missing")
        with pytest.raises(SpecError, match="bad table name"):
            store.insert("drop table;", frame(["x"]))
        with pytest.raises(SpecError, match="export format"):
            store.export("points", tmp_path / "p.xlsx")
    assert sorted(pd.read_parquet(tmp_path / "p.parquet")["point_id"]) == ["a", "bb", "ccc"]
    assert pd.read_csv(tmp_path / "p.csv")["point_id"].tolist() == ["ccc"]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=6), max_size=5))
def test_union_of_batches_stored_once(tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]]) -> None:
    path = tmp_path_factory.mktemp("s") / "r.duckdb"
    with ResultStore(path) as store:
        added = sum(store.insert("t", frame(b)) for b in batches if b)
        union = {k for b in batches for k in b}
        assert added == len(union)
        assert store.keys("t") == union
        if union:
            assert store.count("t") == len(union)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist") as err:
        ResultStore(tmp_path / "nofolder" / "r.duckdb")
    assert "nofolder" in str(err.value)
    with pytest.raises(SpecError, match="is a directory"):
        ResultStore(tmp_path)
    with pytest.raises(SpecError, match="not found"):
        ResultStore(tmp_path / "absent.duckdb", create=False)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database" * 100)
    with pytest.raises(SpecError, match="cannot open"):
        ResultStore(junk)


def test_unwritable_folder(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes anywhere a permission bit allows; /proc refuses new files
        target = Path("/proc/acceldse-results.duckdb")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "r.duckdb"
    with pytest.raises(SpecError, match="not writable|cannot open"):
        ResultStore(target)


@pytest.mark.parametrize("key,value", [("schema_version", "999"), ("acceldse_version", "0.0.1")])
def test_incompatible_store(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "r.duckdb"
    with ResultStore(path) as store:
        store.insert("points", frame(["a"]))
    con = duckdb.connect(str(path))
    con.execute(f"UPDATE {META_TABLE} SET value = ? WHERE key = ?", [value, key])
    con.close()
    with pytest.raises(SpecError, match="incompatible acceldse"):
        ResultStore(path)


def test_foreign_duckdb_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE x (a INT)")
    con.close()
    with pytest.raises(SpecError, match="not an acceldse result store"):
        ResultStore(path)
