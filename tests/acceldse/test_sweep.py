"""``acceldse sweep``: points equal direct simulation, resume after SIGKILL, Ray == local, bad input."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import acceldse
from acceldse.cli import main
from acceldse.simulator.systolic.batch import TOTAL_COLUMNS
from acceldse.store import ResultStore
from acceldse.sweep import load_sweep_spec, run_sweep
from acceldse.sweep.points import plan_sweep
from acceldse.workloads.errors import SpecError
from tests.acceldse.proc_helpers import children, wait_gone

ROOT = Path(__file__).resolve().parents[2]

SMALL = """version: 1
workload: [resnet18, mobilenet_v1]
hardware: scalesim-32x32
dataflow: [os, ws, is]
axes:
  array.rows: [8, 32]
  array.cols: [16, 64]
  tiers.sram.partition_bytes.ifmap: [16KiB, 64KiB]
  tiers.1.bw_bytes_per_cycle: [4, 10.5]
sample: grid
constraints: ["area_mm2 <= 2"]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_rows_equal_simulate(frame: pd.DataFrame, n: int, seed: int = 0) -> None:
    """Sampled stored rows equal a direct ``acceldse.simulate`` of the same design, column for column."""
    rng = np.random.default_rng(seed)
    for i in rng.choice(len(frame), size=min(n, len(frame)), replace=False):
        row = frame.iloc[i]
        hw = acceldse.load_hardware("scalesim-32x32")
        sram, dram = hw.tiers
        from dataclasses import replace

        parts = {**sram.partitions, "ifmap": int(row["tiers.sram.partition_bytes.ifmap"])}
        bw = float(row["tiers.1.bw_bytes_per_cycle"])
        acc = replace(hw, array=replace(hw.array, rows=int(row["array.rows"]), cols=int(row["array.cols"])),
                      tiers=(replace(sram, partitions=parts, capacity_bytes=sum(parts.values())),
                             replace(dram, read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)))
        want = acceldse.simulate(row["workload"], acc, row["dataflow"]).totals.iloc[0]
        assert [row[c] for c in TOTAL_COLUMNS] == [want[c] for c in TOTAL_COLUMNS], row["point_id"]


def test_sweep_rows_equal_simulate_and_rerun_skips(tmp_path: Path) -> None:
    spec = write(tmp_path, SMALL)
    store = tmp_path / "r.duckdb"
    first = run_sweep(spec, store)
    plan = plan_sweep(load_sweep_spec(spec))
    assert first.sampled == 2 * 3 * 16 and first.points == len(plan.points) == first.evaluated
    # area model at 45 nm: PEs x 727 um2 + SRAM 3.44 mm2 per MiB: only the 32x64 array with a 64 KiB
    # ifmap buffer (2.13 mm2; 1.96 mm2 with 16 KiB) breaks area_mm2 <= 2
    assert first.skipped == 2 * 3 * 1 * 2
    with ResultStore(store, create=False) as db:
        frame = db.read("points")
    assert sorted(frame["point_id"]) == sorted(plan.points["point_id"])
    big = (frame["array.rows"] == 32) & (frame["array.cols"] == 64)
    assert (frame["area_mm2"] <= 2).all() and big.any()
    assert (frame.loc[big, "tiers.sram.partition_bytes.ifmap"] == 16 * 1024).all()
    assert_rows_equal_simulate(frame, 12)
    again = run_sweep(spec, store)
    assert again.evaluated == 0 and again.stored_before == first.points and again.stored == first.points


def test_point_ids_stable_and_distinct(tmp_path: Path) -> None:
    spec = load_sweep_spec(SMALL)
    a, b = plan_sweep(spec), plan_sweep(spec)
    assert a.points["point_id"].tolist() == b.points["point_id"].tolist()
    assert a.points["point_id"].is_unique
    other = plan_sweep(load_sweep_spec(SMALL.replace("tiers.1.bw_bytes_per_cycle: [4, 10.5]",
                                                     "tiers.1.bw_bytes_per_cycle: [4, 10.25]")))
    shared = set(a.points["point_id"]) & set(other.points["point_id"])
    assert len(shared) == len(a.points) // 2  # only the bw=4 half is the same design


def test_sobol_and_random_sampling() -> None:
    base = SMALL.replace("sample: grid", "sample: {sobol: 64, seed: 3}")
    plan = plan_sweep(load_sweep_spec(base))
    assert plan.sampled == 64 and plan.points["point_id"].is_unique
    assert plan_sweep(load_sweep_spec(base)).points["point_id"].tolist() == plan.points["point_id"].tolist()
    rnd = plan_sweep(load_sweep_spec(SMALL.replace("sample: grid", "sample: {random: 40, seed: 1}")))
    assert rnd.sampled == 40 and len(rnd.points) + rnd.skipped == 40


KILL_SPEC = """version: 1
workload: resnet18
hardware: scalesim-32x32
dataflow: [os, ws, is]
axes:
  array.rows: {range: [4, 68, 2]}
  array.cols: {range: [4, 68, 2]}
  tiers.1.bw_bytes_per_cycle: [4, 8, 16, 32, 64, 128]
sample: grid
"""


def test_sigkill_then_resume(tmp_path: Path) -> None:
    spec, store = write(tmp_path, KILL_SPEC), tmp_path / "kill.duckdb"
    total = len(plan_sweep(load_sweep_spec(spec)).points)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "acceldse", "-v", "sweep", str(spec), "--store", str(store),
                             "--workers", "2", "--batch-size", "40", "--no-progress"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    commits = 0
    assert proc.stderr is not None
    for line in proc.stderr:  # -v logs each commit: "committed N points (D of P done)"
        found = re.search(rb"committed \d+ points \((\d+) of (\d+) done\)", line)
        commits += found is not None
        if found and 0 < int(found[1]) < int(found[2]) // 2:  # well before the end, on any machine speed
            break
    workers = children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)  # the sweep only, as `kill -9 PID` does: its pool workers must follow it
    try:
        assert proc.wait(timeout=30) == -signal.SIGKILL and commits >= 1
        assert len(workers) >= 2 and wait_gone(workers) == set()  # no orphan
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with ResultStore(store) as db:
        kept = db.read("points")
    assert 0 < len(kept) < total and kept["point_id"].is_unique
    resumed = run_sweep(spec, store, workers=1)
    assert resumed.stored_before == len(kept) and resumed.evaluated == total - len(kept)
    with ResultStore(store, create=False) as db:
        final = db.read("points")
    assert len(final) == total and final["point_id"].is_unique
    stored_before = final[final["point_id"].isin(kept["point_id"])]
    rows = stored_before.sample(4, random_state=0)
    for _, row in rows.iterrows():
        hw = acceldse.load_hardware("scalesim-32x32")
        from dataclasses import replace

        bw = float(row["tiers.1.bw_bytes_per_cycle"])
        acc = replace(hw, array=replace(hw.array, rows=int(row["array.rows"]), cols=int(row["array.cols"])),
                      tiers=(hw.tiers[0], replace(hw.tiers[1], read_bw_bytes_per_cycle=bw,
                                                  write_bw_bytes_per_cycle=bw)))
        want = acceldse.simulate("resnet18", acc, row["dataflow"]).totals.iloc[0]
        assert [row[c] for c in TOTAL_COLUMNS] == [want[c] for c in TOTAL_COLUMNS]


@pytest.mark.slow
def test_ray_backend_equals_local(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    spec = write(tmp_path, SMALL)
    local, remote = tmp_path / "local.duckdb", tmp_path / "ray.duckdb"
    run_sweep(spec, local, workers=2, batch_size=8)
    summary = run_sweep(spec, remote, backend="ray", workers=2, batch_size=8)  # starts a local Ray, 2 CPUs
    assert not ray.is_initialized()  # and shuts it down
    assert summary.failures == [] and summary.evaluated == summary.points
    with ResultStore(local, create=False) as a, ResultStore(remote, create=False) as b:
        x = a.read("points").sort_values("point_id").reset_index(drop=True)
        y = b.read("points").sort_values("point_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_event_fidelity_points(tmp_path: Path) -> None:
    spec = write(tmp_path, """version: 1
workload: resnet18
hardware: scalesim-32x32
fidelity: [analytical, event]
axes:
  array.rows: [32, 64]
""")
    summary = run_sweep(spec, tmp_path / "e.duckdb", workers=1)
    assert summary.failures == [] and summary.evaluated == 4
    with ResultStore(tmp_path / "e.duckdb", create=False) as db:
        frame = db.read("points")
    for _, row in frame.iterrows():
        hw = acceldse.load_hardware("scalesim-32x32")
        from dataclasses import replace

        acc = replace(hw, array=replace(hw.array, rows=int(row["array.rows"])))
        want = acceldse.simulate("resnet18", acc, "os", fidelity=row["fidelity"]).totals.iloc[0]
        assert row["total_cycles"] == want["total_cycles"] and row["energy_pj"] == want["energy_pj"]


@pytest.mark.parametrize("text,match", [
    ("axes: {array.row: [8]}", "unknown hardware key.*array.rows"),
    ("axes: {tiers.0.partitions.ifmp: [16KiB]}", "tiers.0.partition_bytes.ifmap"),
    ("axes: {array.rows: [32, 0]}", r"rejected by the hardware loader.*array.rows: 0"),
    ("axes: {array.cols: [32, 40000]}", r"rejected by the hardware loader.*array.cols: 40000.*larger than its"),
    ("axes: {array.rows: []}", "at least one value"),
    ("axes: {array.rows: 8}", "list of values"),
    ("sample: {random: 99}", "more samples than"),
    ("sample: lhs", "unknown sampling"),
    ("constraints: [area <= 3]", "did you mean area_mm2"),
    ("constraints: ['area_mm2 ~ 3']", "cannot parse constraint"),
    ("dataflow: xs", "dataflow"),
    ("fidelity: exact", "unknown fidelity"),
    ("workload: resnet19", "workload rejected.*resnet19"),
    ("hardware: nosuchchip", "unknown hardware"),
    ("axis: {array.rows: [8]}", "unknown key"),
    ("axes: {params.depth: [1]}", "workload rejected.*depth"),
    ("layers: 3", "must be true or false"),
])
def test_bad_specs(text: str, match: str) -> None:
    base = "" if text.startswith("workload:") else "workload: resnet18\n"  # a duplicate key is an error itself
    spec = "version: 1\n" + base + text + "\n"
    with pytest.raises(SpecError, match=match):
        plan_sweep(load_sweep_spec(spec))


def test_cli_sweep_results_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, SMALL)
    store = tmp_path / "cli.duckdb"
    assert main(["sweep", str(spec), "--store", str(store), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "points/s" in out and "failures: 0" in out
    assert main(["results", str(store), "--pareto", "energy_pj,total_cycles", "--export",
                 str(tmp_path / "front.csv")]) == 0
    front = pd.read_csv(tmp_path / "front.csv")
    with ResultStore(store, create=False) as db:
        allrows = db.read("points")
    for _, row in allrows.iterrows():  # no stored point dominates a front point
        dom = (front["energy_pj"] >= row["energy_pj"]) & (front["total_cycles"] >= row["total_cycles"]) & (
            (front["energy_pj"] > row["energy_pj"]) | (front["total_cycles"] > row["total_cycles"]))
        assert not dom.any()
    assert main(["results", str(store), "--top", "3", "--by", "energy_pj", "--where", '"array.rows" = 32']) == 0
    out = capsys.readouterr().out
    assert "top 3 by energy_pj" in out
    assert main(["sweep", str(spec), "--store", str(tmp_path / "missing" / "r.duckdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["results", str(store), "--top", "3", "--by", "energy"]) == 2
    assert "did you mean energy_pj" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--store", str(store), "--workers", "0"]) == 2


def test_zoo_parameter_and_clock_axes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, """version: 1
workload: mobilenet_v1
params: {resolution: 160}
hardware: edge-8x8
axes:
  params.width: [0.5, 1.0]
  clock_mhz: [500, 1000]
""")
    store = tmp_path / "p.duckdb"
    summary = run_sweep(spec, store)
    assert summary.failures == [] and summary.evaluated == summary.points == 4
    with ResultStore(store, create=False) as db:
        frame = db.read("points")
    for _, row in frame.iterrows():
        hw = acceldse.load_hardware("edge-8x8")
        from dataclasses import replace

        acc = replace(hw, clock_mhz=float(row["clock_mhz"]))
        want = acceldse.simulate("mobilenet_v1", acc, hw.dataflow, resolution=160,
                                 width=float(row["params.width"])).totals.iloc[0]
        assert [row[c] for c in TOTAL_COLUMNS] == [want[c] for c in TOTAL_COLUMNS]
    assert main(["results", str(store)]) == 0
    out = capsys.readouterr().out
    assert "params.width: 2 values (0.5, 1.0)" in out and "clock_mhz: 2 values (500, 1000)" in out
    assert "latency_us" in out and "energy_pj" in out


def test_layers_table_equals_simulate_layers(tmp_path: Path) -> None:
    spec = write(tmp_path, """version: 1
workload: mobilenet_v1
params: {width: 0.25, resolution: 64}
hardware: scalesim-32x32
dataflow: [os, is]
fidelity: [analytical, event]
layers: true
axes:
  array.rows: [16, 32]
""")
    store = tmp_path / "l.duckdb"
    summary = run_sweep(spec, store)
    assert summary.failures == [] and summary.evaluated == 8
    n_layers = len(acceldse.load_workload("mobilenet_v1", width=0.25, resolution=64).layers)
    with ResultStore(store, create=False) as db:
        points, layers = db.read("points"), db.read("layers")
    assert len(layers) == 8 * n_layers and layers["layer_id"].is_unique
    assert set(layers["point_id"]) == set(points["point_id"])
    columns = ["layer", "op", "dataflow", "macs", "total_cycles", "stall_cycles", "folds", "utilization",
               "compute_utilization", "dram_bytes", "energy_pj", "latency_us"]
    for _, point in points.iterrows():
        hw = acceldse.load_hardware("scalesim-32x32")
        from dataclasses import replace

        acc = replace(hw, array=replace(hw.array, rows=int(point["array.rows"])))
        want = acceldse.simulate("mobilenet_v1", acc, point["dataflow"], fidelity=point["fidelity"], width=0.25,
                                 resolution=64).layers
        got = layers[layers["point_id"] == point["point_id"]].sort_values("layer_index")
        assert got["layer_index"].tolist() == list(range(n_layers))
        for col in columns:
            assert got[col].tolist() == want[col].tolist(), (point["fidelity"], col)


def test_analytical_tasks_take_the_batched_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """An analytical task never falls back to one ``simulate`` call per point."""
    import acceldse.api
    from acceldse.sweep.runner import make_tasks
    from acceldse.sweep.worker import evaluate_task

    def per_point(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulate called per point")

    plan = plan_sweep(load_sweep_spec(SMALL))
    monkeypatch.setattr(acceldse.api, "simulate", per_point)
    for task in make_tasks(plan, np.arange(len(plan.points)), 50):
        result = evaluate_task(task)
        assert result.failures == [] and len(result.rows) == len(task.rows)


def test_multicore_and_slow_sram_axes_equal_simulate(tmp_path: Path) -> None:
    spec = write(tmp_path, """version: 1
workload: resnet18
hardware: scalesim-32x32
axes:
  cores: [1, 2]
  tiers.sram.bw_bytes_per_cycle: [4, 64]
""")
    store = tmp_path / "c.duckdb"
    assert run_sweep(spec, store, batch_size=2).evaluated == 4
    with ResultStore(store, create=False) as db:
        frame = db.read("points")
    for _, row in frame.iterrows():
        hw = acceldse.load_hardware("scalesim-32x32")
        from dataclasses import replace

        bw = float(row["tiers.sram.bw_bytes_per_cycle"])
        sram = replace(hw.tiers[0], read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)
        acc = replace(hw, cores=int(row["cores"]), tiers=(sram, hw.tiers[1]))
        want = acceldse.simulate("resnet18", acc, "os").totals.iloc[0]
        assert [row[c] for c in TOTAL_COLUMNS] == [want[c] for c in TOTAL_COLUMNS], (row["cores"], bw)


def test_summary_rate_of_short_and_empty_runs() -> None:
    """A short run's rate keeps 3 significant digits (never "0 points/s"); a run that evaluated nothing
    (every point already stored) prints no rate."""
    from acceldse.sweep.runner import SweepSummary

    def summary(evaluated: int, seconds: float) -> str:
        return str(SweepSummary(Path("s.duckdb"), "local", 1, 3, 3, 0, 3 - evaluated, evaluated, 3, 0.01, seconds))

    assert "(0.4 points/s," in summary(2, 5.0) and "in 5 s" in summary(2, 5.0)
    assert "(12,346 points/s," in summary(12_346, 1.0)
    assert "(nothing evaluated," in summary(0, 0.02) and "points/s" not in summary(0, 0.02)


def test_the_readme_quotes_the_sweep_rates_of_docs_sweep_table() -> None:
    """README's sweep speeds are docs/sweep.md's table of ``benchmarks/bench_sweep.py`` (one run), as printed there:
    points/s per backend, the plain loop's, and the range of points per CPU-second (not a timed test)."""
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "sweep.md").read_text()
    readme = " ".join((root / "README.md").read_text().split())
    row = r"^\| (plain loop|`acceldse sweep --backend \w+`)[^|]*\| (\d) \| ([\d,]+) \| [^|]+ \| ([~\d,—]+) \|$"
    rows = {(m[1], m[2]): (m[3], m[4]) for m in re.finditer(row, doc, re.M)}
    assert len(rows) == 4, rows
    local1, local2 = rows[("`acceldse sweep --backend local`", "1")], rows[("`acceldse sweep --backend local`", "2")]
    ray, loop = rows[("`acceldse sweep --backend ray`", "2")], rows[("plain loop", "1")]
    assert "`benchmarks/bench_sweep.py`" in readme and "python benchmarks/bench_sweep.py" in doc
    assert (f"ran at {local1[0]} points/s with 1 local worker, {local2[0]} with 2 and {ray[0]} on a local Ray "
            f"instance with 2 workers, against {loop[0]} points/s for a plain loop") in readme
    per_cpu = sorted(int(r[1].replace(",", "")) for r in (local1, local2))
    assert f"evaluates {per_cpu[0]:,}–{per_cpu[1]:,} points, the plain loop {loop[1]}" in readme
