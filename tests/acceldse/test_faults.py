"""Faults injected into stores, sweeps, explorations and pools: no silently wrong, duplicated or mixed
row, no orphan, no hang, and one clear line by cause (issue 21)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from acceldse.cli import main
from acceldse.explore import EVALUATIONS_TABLE, explore
from acceldse.simulator.specs.presets import PRESET_DIR
from acceldse.store import ResultStore
from acceldse.sweep import load_sweep_spec, run_sweep
from acceldse.sweep.backends import check_ray_address
from acceldse.sweep.points import plan_sweep
from acceldse.workloads.errors import SpecError
from tests.acceldse.proc_helpers import children, wait_gone

ROOT = Path(__file__).resolve().parents[2]
TINY = str(Path(__file__).with_name("tiny_topology.csv"))


def spec_text(bw: str, *, hardware: str = "scalesim-32x32", name: str = "s", extra: str = "") -> str:
    return (f"version: 1\nname: {name}\nworkload: {TINY}\nhardware: {hardware}\ndataflow: [os, ws]\n"
            f"axes:\n  array.rows: [8, 16]\n  tiers.1.bw_bytes_per_cycle: {bw}\n{extra}sample: grid\n")


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- 1. values never change on the way in ---------------------------------------------------


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


# ---- 2. a resume with other content is never mixed ------------------------------------------


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


# ---- 3. refused up front, nothing left behind ------------------------------------------------


def test_rejected_spec_leaves_no_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, spec_text("[4, -8]"))
    store = tmp_path / "r.duckdb"
    assert main(["sweep", str(spec), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("acceldse: error:")
    assert not store.exists() and not Path(str(store) + ".wal").exists()


def test_dead_ray_address_fails_fast_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(SpecError, match="no Ray head answers"):
        check_ray_address(f"127.0.0.1:{port}", timeout_s=2)
    spec = write(tmp_path, spec_text("[4, 8]"))
    code = main(["sweep", str(spec), "--store", str(tmp_path / "r.duckdb"), "--backend", "ray", "--address",
                 f"127.0.0.1:{port}", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--address" in err
    assert time.perf_counter() - start < 15
    assert not (tmp_path / "r.duckdb").exists()


@pytest.mark.parametrize(("sample", "flag"), [("grid", "--max-memory"), ("{random: 60000000}", "sample.random"),
                                              ("{sobol: 60000000}", "sample.sobol")])
def test_huge_plans_refused_with_the_number_and_the_limit(tmp_path: Path, sample: str, flag: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    axes = "  array.rows: {range: [1, 3001]}\n  array.cols: {range: [1, 3001]}\n"
    text = (f"version: 1\nworkload: {TINY}\nhardware: scalesim-32x32\naxes:\n{axes}"
            f"  tiers.1.bw_bytes_per_cycle: [1, 2, 4, 8]\nsample: {sample}\n")
    spec = write(tmp_path, text)
    start = time.perf_counter()
    assert main(["sweep", str(spec), "--store", str(tmp_path / "r.duckdb"), "--max-memory", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0], err
    assert time.perf_counter() - start < 10 and not (tmp_path / "r.duckdb").exists()


# ---- 4. storage faults: one line naming the file and the cause --------------------------------


def test_corrupt_store_is_one_line_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "r.duckdb"
    run_sweep(write(tmp_path, spec_text("[4, 8]")), store)
    data = bytearray(store.read_bytes())
    for at in range(4096, min(len(data), 4096 * 64), 97):
        data[at] ^= 0xFF
    store.write_bytes(bytes(data))
    code = main(["results", str(store)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(store) in err[0] and "--where" not in err[0], err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_readonly_journal_refused_up_front(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    spec = write(tmp_path, spec_text("[4, 8]"))
    run_sweep(spec, store)
    wal = Path(str(store) + ".wal")
    wal.write_bytes(b"")
    wal.chmod(stat.S_IRUSR)
    try:
        with pytest.raises(SpecError, match="journal"):
            run_sweep(spec, store)
    finally:
        wal.chmod(stat.S_IRUSR | stat.S_IWUSR)
        wal.unlink()


# ---- 5. process lifecycle: workers die with their parent, signals end with one line ----------

LONG = f"""version: 1
workload: {TINY}
hardware: scalesim-32x32
fidelity: event
dataflow: [os, ws, is]
axes:
  array.rows: [4, 8, 12, 16, 24, 32]
  array.cols: [4, 8, 12, 16, 24, 32]
  tiers.1.bw_bytes_per_cycle: [4, 8, 16, 32]
sample: grid
"""


def _ctrl_c_default() -> None:
    """Ctrl-C as at a terminal: a shell's background job (`pytest ... &`) inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, set[int]]:
    """A 2-worker sweep, stopped once it has committed rows; returns it, its store and its workers."""
    spec, store = write(tmp_path, LONG), tmp_path / "long.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "acceldse", "-v", "sweep", str(spec), "--store", str(store),
                             "--workers", "2", "--batch-size", "1", "--no-progress"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_ctrl_c_default)
    assert proc.stderr is not None
    for line in proc.stderr:
        if re.search(rb"committed \d+ points", line):
            break
    workers = children(proc.pid)
    assert len(workers) >= 2
    return proc, store, workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_flush_and_print_one_line(tmp_path: Path, sig: int, code: int) -> None:
    proc, store, workers = _start_sweep(tmp_path)
    if sig == signal.SIGINT:  # Ctrl-C reaches the whole foreground group, workers included
        os.killpg(proc.pid, sig)
    else:  # `kill PID`
        os.kill(proc.pid, sig)
    try:
        assert proc.wait(timeout=60) == code
        assert proc.stderr is not None
        rest = [ln for ln in proc.stderr.read().decode().splitlines() if not re.match(r"^(INFO|DEBUG) ", ln)]
        assert rest[-1:] and "interrupted" in rest[-1] and "Traceback" not in "\n".join(rest), rest
        assert len([ln for ln in rest if "acceldse:" in ln]) == 1, rest
        assert wait_gone(workers) == set()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with ResultStore(store, create=False) as db:
        points = db.read("points")
    assert len(points) > 0 and points["point_id"].is_unique


LIMIT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))  # a full disk, without a tmpfs
from acceldse.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX rlimits")
@pytest.mark.slow
def test_full_disk_is_one_line_and_keeps_committed_rows(tmp_path: Path) -> None:
    text = (f"version: 1\nworkload: {TINY}\nhardware: scalesim-32x32\ndataflow: [os, ws, is]\naxes:\n"
            "  array.rows: {range: [4, 34, 1]}\n  array.cols: {range: [4, 34, 1]}\nsample: grid\nlayers: true\n")
    spec, store = write(tmp_path, text), tmp_path / "full.duckdb"
    argv = ["sweep", str(spec), "--store", str(store), "--no-progress"]
    proc = subprocess.run([sys.executable, "-c", LIMIT.format(limit=1_000_000), *argv], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert "file size limit" in err[0] and "full.duckdb" in err[0] and "internal error" not in err[0]
    with ResultStore(store, create=False) as db:
        kept = db.read("points")
    assert kept["point_id"].is_unique
    resumed = run_sweep(spec, store)  # room again: the rest is added, nothing twice
    assert resumed.stored_before == len(kept)
    with ResultStore(store, create=False) as db:
        assert db.count("points") == resumed.points and db.read("points")["point_id"].is_unique
        assert db.read("layers")["layer_id"].is_unique


def test_second_writer_is_told_who_holds_the_store(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom acceldse.store import ResultStore\n"
                               "db = ResultStore(sys.argv[1])\nprint('open', flush=True)\ntime.sleep(60)\n",
                               str(store)], env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(SpecError, match=rf"process {holder.pid} has it open"):
            run_sweep(write(tmp_path, spec_text("[4, 8]")), store)
    finally:
        holder.kill()
        holder.wait()


# ---- 6. size limits that protect the machine ---------------------------------------------------


def test_huge_gemm_at_analytical_fidelity_needs_no_per_fold_memory() -> None:
    import resource

    import acceldse
    from acceldse.workloads.layer import gemm
    from acceldse.workloads.network import Network

    multi = acceldse.load_hardware("tpu-hbm-like").replace(array={"rows": 8, "cols": 8})  # 4 cores
    acceldse.simulate(Network("warm", [gemm("g", 64, 64, 1)]), multi, "os")  # compile outside the measure
    edge = acceldse.load_hardware("edge-8x8").replace(tiers={"dram": {"capacity_bytes": "32GiB"}})  # holds 19.6 GB
    for hardware, n in ((edge, 140_000), (multi, 40_000)):  # 3.1e8 folds (4.9 GB when stored), 2.5e7 on 4 cores
        net = Network("huge", [gemm("g", n, n, 1)])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        totals = acceldse.simulate(net, hardware, "os").totals.iloc[0]
        grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert totals["folds"] == (n // 8) ** 2 and grown_mib < 100, (n, grown_mib)


# ---- 7. the last bad-input classes: one line, exit 2 ------------------------------------------


@pytest.mark.parametrize(("argv", "csv", "match"), [
    (["tiers", "switch", "--params", "0.5"], None, "--params: not a whole number"),
    (["fpga", "--min-rank-fraction", "0.5"], None, "--min-rank-fraction: needs --decompose"),
    (["simulate", "--workload", "{csv}"], "Conv1,10,10,3,3,4,8,1,\nConv2,10,10,3,3,8,8,1,\n",
     "the first line is a layer, not a header"),
    (["simulate", "--workload", "{csv}"], "Layer;M;N;K\nG;64;64;64\n", "separated by ';'"),
])
def test_bad_input_leftovers_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          csv: str | None, match: str) -> None:
    if csv is not None:
        (tmp_path / "t.csv").write_text(csv)
        argv = [a.replace("{csv}", str(tmp_path / "t.csv")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err


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


def test_layer_rows_bounded_by_the_free_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    spec = write(tmp_path, spec_text("[4, 8]") + "layers: true\n")
    with pytest.raises(SpecError, match="layer rows, about .* GiB, more than the"):
        run_sweep(spec, tmp_path / "r.duckdb")
    assert not (tmp_path / "r.duckdb").exists()


def test_ray_output_never_reaches_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    from acceldse.sweep.backends import stdout_to_stderr

    with stdout_to_stderr():
        os.write(1, b"raylet says hello\n")  # what Ray's processes print, at the descriptor level
    print("result")
    out, err = capfd.readouterr()
    assert out == "result\n" and "raylet says hello" in err


GOLDEN_MAPPING = ROOT / "mapper" / "presets" / "eyeriss_like_golden.yaml"


@pytest.mark.parametrize(("edit", "match"), [
    (("DRAM\n    temporal: {P: 8, Q: 2, K: 4}", "DRAM\n    temporal: {P: 8, Q: 20, K: 4}"),
     r"over-cover the layer's Q=112: they multiply to 1120, and DRAM.temporal.Q = 20 could be 2"),
    (("  - level: psum_spad\n    temporal: {K: 8}\n", ""),
     r"factors of K multiply to 4, short of the layer's K=32; the mapping has no entry for level\(s\) psum_spad"),
    (("  - level: ifmap_spad\n", "  - level: ifmap_spad\n  - level: ifmap_spad\n"),
     r"level listed twice \(first as mapping\[3\]\)"),
])
def test_mapping_structure_errors_are_named(tmp_path: Path, edit: tuple[str, str], match: str) -> None:
    from acceldse.mapper.api import evaluate_mapping
    from acceldse.workloads.layer import conv2d
    from acceldse.workloads.network import Network

    text = GOLDEN_MAPPING.read_text()
    assert edit[0] in text
    path = tmp_path / "m.yaml"
    path.write_text(text.replace(edit[0], edit[1]))
    net = Network("one", (conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1)),))
    evaluate_mapping(net, "eyeriss_like", None, GOLDEN_MAPPING)  # the published mapping itself is legal
    with pytest.raises(SpecError, match=match):
        evaluate_mapping(net, "eyeriss_like", None, path)


def test_outermost_tier_smaller_than_a_layer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import acceldse

    tiny = acceldse.load_hardware("scalesim-32x32").replace(tiers={"dram": {"capacity_bytes": 1}})
    with pytest.raises(SpecError, match="outermost tier 'dram' holds 1 bytes, less than"):
        acceldse.simulate("resnet18", tiny)
    spec = write(tmp_path, spec_text("[4, 8]").replace("axes:\n", "axes:\n  tiers.1.capacity_bytes: [1, 8GiB]\n"))
    assert main(["sweep", str(spec), "--store", str(tmp_path / "r.duckdb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tiers.dram.capacity_bytes" in err[0], err


def test_ctrl_c_during_a_commit_arrives_after_it(tmp_path: Path) -> None:
    from acceldse.store import signals_deferred

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # also when pytest runs as a background job
    with ResultStore(tmp_path / "s.duckdb") as db:
        with pytest.raises(KeyboardInterrupt), signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)  # arrives mid-transaction: held until it has committed
            db.insert("t", pd.DataFrame({"k": ["a", "b"], "x": [1, 2]}), key="k")
        assert db.count("t") == 2
    signal.signal(signal.SIGINT, previous)


def test_exhausted_ray_retries_are_one_line() -> None:
    from types import SimpleNamespace

    from acceldse.sweep.backends import _ray_get

    class RayError(Exception):
        pass

    def get(refs: list[object]) -> list[object]:
        raise RayError("Task failed after 3 retries: worker died\n  (long Ray traceback)")

    fake = SimpleNamespace(exceptions=SimpleNamespace(RayError=RayError), get=get)
    with pytest.raises(SpecError, match=r"Ray could not run a task \(RayError: Task failed after 3 retries: "
                                        r"worker died\); committed rows are kept") as err:
        _ray_get(fake, [object()])
    assert "\n" not in str(err.value)


def test_writable_store_in_a_read_only_folder_refused_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    store = tmp_path / "r.duckdb"
    ResultStore(store).close()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    with pytest.raises(SpecError, match=r"is not writable \(DuckDB writes its journal r.duckdb.wal"):
        run_sweep(write(tmp_path, spec_text("[4, 8]")), store)  # before planning, not at the first commit


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX rlimits")
@pytest.mark.slow
def test_failed_closing_checkpoint_is_reported_and_recovered(tmp_path: Path) -> None:
    spec, store = write(tmp_path, spec_text("[4, 8]")), tmp_path / "c.duckdb"
    argv = ["sweep", str(spec), "--store", str(store), "--no-progress"]
    # the rows fit the journal; the checkpoint that copies them into the store file does not
    proc = subprocess.run([sys.executable, "-c", LIMIT.format(limit=200_000), *argv], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert "cannot checkpoint the result store" in err[0] and "c.duckdb" in err[0]
    with ResultStore(store, create=False) as db:  # replayed from the journal
        assert db.count("points") == len(plan_sweep(load_sweep_spec(spec)).points) == 8


@pytest.mark.parametrize(("axis", "match"), [("{range: [1, 10, 0]}", "a range step must not be 0"),
                                             ("{range: [1, 1000000000000]}", "a range of 999,999,999,999 values")])
def test_bad_ranges_are_refused_before_any_work(axis: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        load_sweep_spec(f"version: 1\nworkload: {TINY}\naxes:\n  array.rows: {axis}\n")


def test_numbers_written_as_text_are_stored_as_numbers(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    run_sweep(write(tmp_path, spec_text('["10", 20]')), store)
    with ResultStore(store, create=False) as db:
        assert db.column_types("points")["tiers.1.bw_bytes_per_cycle"] == "BIGINT"
        assert sorted(set(db.read("points")["tiers.1.bw_bytes_per_cycle"])) == [10, 20]
