"""Faults injected into the result store (issue 21), 4: a corrupt file, a read-only journal, a full disk, a
failed closing checkpoint and a store held by another process are one line naming the file and the cause,
and committed rows are kept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from acceldse.cli import main
from acceldse.store import ResultStore
from acceldse.sweep import load_sweep_spec, run_sweep
from acceldse.sweep.points import plan_sweep
from acceldse.workloads.errors import SpecError
from tests.acceldse.fault_helpers import LIMIT, ROOT, TINY, spec_text, write


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
