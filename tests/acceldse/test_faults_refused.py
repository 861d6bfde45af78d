"""Faults injected into sweeps and inputs (issue 21), 3: bad input and plans too big for the machine are
refused up front with one line (exit 2), and nothing is left behind."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from acceldse.cli import main
from acceldse.store import ResultStore
from acceldse.sweep import load_sweep_spec, run_sweep
from acceldse.workloads.errors import SpecError
from tests.acceldse.fault_helpers import ROOT, TINY, spec_text, write


def test_rejected_spec_leaves_no_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path, spec_text("[4, -8]"))
    store = tmp_path / "r.duckdb"
    assert main(["sweep", str(spec), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("acceldse: error:")
    assert not store.exists() and not Path(str(store) + ".wal").exists()


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


def test_layer_rows_bounded_by_the_free_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    spec = write(tmp_path, spec_text("[4, 8]") + "layers: true\n")
    with pytest.raises(SpecError, match="layer rows, about .* GiB, more than the"):
        run_sweep(spec, tmp_path / "r.duckdb")
    assert not (tmp_path / "r.duckdb").exists()


def test_writable_store_in_a_read_only_folder_refused_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    store = tmp_path / "r.duckdb"
    ResultStore(store).close()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    with pytest.raises(SpecError, match=r"is not writable \(DuckDB writes its journal r.duckdb.wal"):
        run_sweep(write(tmp_path, spec_text("[4, 8]")), store)  # before planning, not at the first commit


@pytest.mark.parametrize(("axis", "match"), [("{range: [1, 10, 0]}", "a range step must not be 0"),
                                             ("{range: [1, 1000000000000]}", "a range of 999,999,999,999 values")])
def test_bad_ranges_are_refused_before_any_work(axis: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        load_sweep_spec(f"version: 1\nworkload: {TINY}\naxes:\n  array.rows: {axis}\n")


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
