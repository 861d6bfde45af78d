"""Faults injected into stores, sweeps and explorations (issue 21), 1: values never change on the way in
(a fraction after an integer, text into a number column, numbers written as text)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from acceldse.explore import EVALUATIONS_TABLE, explore
from acceldse.store import ResultStore
from acceldse.sweep import run_sweep
from acceldse.workloads.errors import SpecError
from tests.acceldse.fault_helpers import spec_text, write


def test_fractional_axis_after_integer_one_is_stored_exactly(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    run_sweep(write(tmp_path, spec_text("[4, 8]", name="ints")), store)
    run_sweep(write(tmp_path, spec_text("[10.5, 20.25]", name="fracs"), "b.yaml"), store)
    with ResultStore(store, create=False) as db:
        rows = db.read("points")
        assert db.column_types("points")["tiers.1.bw_bytes_per_cycle"] == "DOUBLE"
    assert sorted(set(rows["tiers.1.bw_bytes_per_cycle"])) == [4.0, 8.0, 10.5, 20.25]
    assert len(rows) == 2 * 2 * 4 and rows["point_id"].is_unique
    # every design once: the stored identity columns give back each row's key
    assert not rows.duplicated(["array.rows", "tiers.1.bw_bytes_per_cycle", "dataflow"]).any()


def test_store_widens_integer_column_and_refuses_lossy_values(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "s.duckdb") as db:
        db.insert("t", pd.DataFrame({"k": ["a"], "x": [3]}), key="k")
        db.insert("t", pd.DataFrame({"k": ["b"], "x": [3.75]}), key="k")
        assert db.read("t").set_index("k")["x"].to_dict() == {"a": 3.0, "b": 3.75}
        db.insert("u", pd.DataFrame({"k": ["a"], "n": [1]}), key="k", schema={"n": "BIGINT"})
        with pytest.raises(SpecError, match="does not fit column 'n'"):
            db.insert("u", pd.DataFrame({"k": ["b"], "n": [1.5]}), key="k", schema={"n": "BIGINT"})
        with pytest.raises(SpecError, match="holds DOUBLE values"):
            db.insert("t", pd.DataFrame({"k": ["c"], "x": ["fast"]}), key="k")
        assert db.count("u") == 1 and db.count("t") == 2


def test_explore_knob_values_keep_their_fractions(tmp_path: Path) -> None:
    store = tmp_path / "e.duckdb"
    kwargs = {"workload": "alexnet", "knobs": {"clock_mhz": [933.3, 1000.5]}}
    explore("AcceleratorDesign-v0", "random", 6, seed=0, env_kwargs=kwargs, store=store)
    with ResultStore(store, create=False) as db:
        log = db.read(EVALUATIONS_TABLE)
    assert set(log["knob.clock_mhz"]) <= {933.3, 1000.5} and len(log) == 6


def test_numbers_written_as_text_are_refused_before_anything_is_stored(tmp_path: Path) -> None:
    # a quoted number is refused at load (the hardware loader takes no numbers as text), so no text ever
    # reaches a number column and no row of the sweep is written
    store = tmp_path / "r.duckdb"
    with pytest.raises(SpecError, match=r"tiers\[1\]\.bw_bytes_per_cycle: must be a number, not a string \(got '10'\)"):
        run_sweep(write(tmp_path, spec_text('["10", 20]')), store)
    assert not store.exists()
