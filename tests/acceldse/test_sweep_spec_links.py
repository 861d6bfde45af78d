"""Sweep specs a study needs: per-workload parameters (stored with each row), linked (zip) axes and
constraints comparing expressions of axes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import acceldse
from acceldse.sweep import load_sweep_spec
from acceldse.sweep.points import plan_sweep
from acceldse.workloads.errors import SpecError

STUDY = """version: 1
workload: [resnet50, bert_base]
params: {batch: 1, bert_base: {seq_len: 512}}
hardware: tpu-v1-like
dataflow: ws
axes:
  zip: {array.rows: [32, 64, 128], array.cols: [32, 64, 128]}
  tiers.ddr.bw_bytes_per_cycle: [16, 32]
"""


def test_per_workload_params_and_zip_axes_are_stored_and_simulated(tmp_path: Path) -> None:
    summary = acceldse.run_sweep(STUDY, tmp_path / "s.duckdb", workers=1, progress=False)
    assert summary.failures == [] and summary.points == 2 * 3 * 2  # zip: 3 shapes, not 3 x 3
    points = acceldse.load_results(tmp_path / "s.duckdb")
    assert (points["array.rows"] == points["array.cols"]).all()
    params = {w: [json.loads(p) for p in set(part.workload_params)] for w, part in points.groupby("workload")}
    assert params == {"bert_base": [acceldse.workload_parameters("bert_base") | {"seq_len": 512}],
                      "resnet50": [acceldse.workload_parameters("resnet50")]}  # defaults written out
    row = points[(points.workload == "bert_base") & (points["array.rows"] == 64)].iloc[0]
    acc = acceldse.load_hardware("tpu-v1-like").replace(
        {"array.rows": 64, "array.cols": 64, "tiers.ddr.read_bw_bytes_per_cycle": row["tiers.ddr.bw_bytes_per_cycle"],
         "tiers.ddr.write_bw_bytes_per_cycle": row["tiers.ddr.bw_bytes_per_cycle"]})
    want = acceldse.simulate("bert_base", acc, "ws", seq_len=512).totals.iloc[0]
    assert row["total_cycles"] == want["total_cycles"] and row["macs"] == want["macs"]


def test_constraints_compare_expressions_of_axes() -> None:
    spec = load_sweep_spec("""version: 1
workload: alexnet
axes:
  array.rows: [8, 16, 32, 64]
  array.cols: [8, 16, 32, 64]
constraints: ["array.rows == array.cols or array.rows * array.cols <= 8 * 16", "pes // 8 >= 8"]
""")
    plan = plan_sweep(spec)
    shapes = sorted(zip(plan.points["array.rows"], plan.points["array.cols"]))
    assert shapes == [(8, 8), (8, 16), (16, 8), (16, 16), (32, 32), (64, 64)]
    assert plan.skipped == 16 - 6


@pytest.mark.parametrize("text,match", [
    ("axes: {zip: {array.rows: [8, 16], array.cols: [8]}}", "one length.*array.rows: 2 values"),
    ("axes: {zip: {array.rows: [8, 16]}}", "two or more axes"),
    ("axes: {zip: {array.rows: [8], array.cols: [8]}, array.rows: [4]}", "both linked"),
    ("params: {bert_large: {seq_len: 512}}", "params.bert_large.*does not run"),
    ("params: {resnet18: {seq_len: 512}}", "workload rejected.*seq_len"),
    ("axes: {array.rows: [8], array.cols: [8]}\nconstraints: ['array.rows == array.colz']", "did you mean array.cols"),
    ("axes: {array.rows: [8]}\nconstraints: ['array.rows + 3']", "cannot parse constraint"),
    ("axes: {array.rows: [8]}\nconstraints: ['__import__(1) < 2']", "unknown constraint quantity"),
    ("axes: {array.rows: [8]}\nconstraints: ['array.rows.real < 2']", "unknown constraint quantity"),
])
def test_bad_links_params_and_constraints(text: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        plan_sweep(load_sweep_spec("version: 1\nworkload: resnet18\n" + text + "\n"))
