"""Faults injected into stores, sweeps and explorations (issue 21), 2: a resume with other content (edited
hardware, another acceldse version, layer rows asked for later) is never mixed with the stored rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from acceldse.explore import EVALUATIONS_TABLE, explore
from acceldse.simulator.specs.presets import PRESET_DIR
from acceldse.store import ResultStore
from acceldse.sweep import load_sweep_spec, run_sweep
from acceldse.sweep.points import plan_sweep
from acceldse.workloads.errors import SpecError
from tests.acceldse.fault_helpers import spec_text, write


def test_edited_hardware_file_refused_on_resume(tmp_path: Path) -> None:
    hw = tmp_path / "hw.yaml"
    shutil.copy(PRESET_DIR / "scalesim-32x32.yaml", hw)
    spec, store = write(tmp_path, spec_text("[4, 8]", hardware=str(hw))), tmp_path / "r.duckdb"
    first = run_sweep(spec, store)
    hw.write_text("# edited, same content\n" + hw.read_text() + "\n")
    assert run_sweep(spec, store).evaluated == 0
    hw.write_text(hw.read_text().replace("clock_mhz: 1000", "clock_mhz: 700", 1))
    with pytest.raises(SpecError, match="hardware content changed"):
        run_sweep(spec, store)
    with ResultStore(store, create=False) as db:
        assert db.count("points") == first.points


def test_other_version_refused_and_constant_axis_is_the_same_design(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec, store = write(tmp_path, spec_text("[4, 8]")), tmp_path / "r.duckdb"
    run_sweep(spec, store)
    import acceldse.sweep.points as points
    import acceldse.sweep.runner as runner

    monkeypatch.setattr(runner, "acceldse_version", lambda: "99.0")
    monkeypatch.setattr(points, "acceldse_version", lambda: "99.0")
    with pytest.raises(SpecError, match="acceldse version changed"):
        run_sweep(spec, store)
    monkeypatch.undo()
    base = plan_sweep(load_sweep_spec(spec_text("[4, 8]")))
    constant = spec_text("[4, 8]").replace("axes:\n", "axes:\n  clock_mhz: [1000]\n  array.cols: [32]\n")
    clock = plan_sweep(load_sweep_spec(constant))  # the base values, written as axes: the same designs
    assert base.points["point_id"].tolist() == clock.points["point_id"].tolist()


def test_explore_with_edited_hardware_is_a_new_run(tmp_path: Path) -> None:
    hw, store = tmp_path / "hw.yaml", tmp_path / "e.duckdb"
    shutil.copy(PRESET_DIR / "scalesim-32x32.yaml", hw)
    kwargs = {"workload": "alexnet", "hardware": str(hw)}
    explore("AcceleratorDesign-v0", "random", 4, seed=0, env_kwargs=kwargs, store=store)
    hw.write_text(hw.read_text().replace("clock_mhz: 1000", "clock_mhz: 700", 1))
    again = explore("AcceleratorDesign-v0", "random", 4, seed=0, env_kwargs=kwargs, store=store)
    assert again.replayed == 0
    log = ResultStore(store, create=False).read(EVALUATIONS_TABLE)
    assert log["run_id"].nunique() == 2 and len(log) == 8


def test_resume_with_layers_true_fills_the_layer_rows(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    spec = write(tmp_path, spec_text("[4, 8]"))
    first = run_sweep(spec, store)
    spec.write_text(spec_text("[4, 8]") + "layers: true\n")
    again = run_sweep(spec, store)
    assert again.evaluated == first.points  # every point stored without its layer rows is evaluated again
    with ResultStore(store, create=False) as db:
        layers = db.read("layers")
        assert db.count("points") == first.points
    assert set(layers["point_id"]) == set(db_points(store)) and layers["layer_id"].is_unique


def db_points(store: Path) -> list[str]:
    with ResultStore(store, create=False) as db:
        return db.read("points")["point_id"].tolist()
