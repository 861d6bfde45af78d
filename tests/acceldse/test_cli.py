"""The CLI end to end: simulate, list, outputs, compat mode and errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import acceldse
from acceldse.cli import build_parser, main
from acceldse.simulator.result import COLUMNS

REQUIRED = ["layer", "dataflow", "macs", "total_cycles", "compute_cycles", "stall_cycles", "folds",
            "mapping_efficiency", "compute_utilization", "sram_reads_ifmap", "sram_reads_filter",
            "sram_writes_ofmap", "dram_reads_ifmap", "dram_reads_filter", "dram_writes_ofmap", "energy_pj"]


def test_required_columns_are_documented_and_produced() -> None:
    result = acceldse.simulate("resnet18", "edge-8x8", "all")
    df = result.layers
    assert set(REQUIRED) <= set(df.columns) <= set(COLUMNS)
    assert set(df.dataflow) == {"os", "ws", "is"}
    assert len(df) == 3 * len(acceldse.api.resolve_workload("resnet18"))
    for col in ("mapping_efficiency", "compute_utilization", "utilization"):
        assert df[col].between(0, 1).all()
    assert (df.total_cycles == df.compute_cycles + df.stall_cycles).all()


def test_simulate_writes_csv_and_parquet_with_the_same_columns(tmp_path: Path, capsys) -> None:
    csv, pq = tmp_path / "r.csv", tmp_path / "r.parquet"
    assert main(["simulate", "--workload", "alexnet", "--hardware", "scalesim-32x32", "--dataflow", "all",
                 "--out", str(csv)]) == 0
    assert main(["simulate", "--workload", "alexnet", "--dataflow", "all", "--out", str(pq)]) == 0
    a, b = pd.read_csv(csv), pd.read_parquet(pq)
    assert list(a.columns) == list(b.columns)
    assert (a.total_cycles.values == b.total_cycles.values).all()
    out = capsys.readouterr().out
    assert "totals" in out and "alexnet" in out


def test_no_arguments_runs_the_built_in_example(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "resnet18 on scalesim-32x32" in out and "totals" in out


def test_list_shows_workloads_hardware_and_dataflows(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("resnet50", "mobilenet_v1", "tpu-v1-like", "edge-8x8", "ws", "rs"):
        assert name in out


def test_every_command_help_has_an_example() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"simulate", "list"} <= set(commands)
    for name, sub in commands.items():
        assert "example" in (sub.epilog or ""), name


@pytest.mark.parametrize("args,fragment", [
    (["simulate", "--workload", "resnet9000"], "resnet9000"),
    (["simulate", "--hardware", "tpu-v99"], "tpu-v99"),
    (["simulate", "--dataflow", "xs"], "xs"),
    (["simulate", "--out", "result.xlsx", "--workload", "alexnet"], "result.xlsx"),
])
def test_bad_input_is_one_clear_error(args, fragment, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("acceldse: error:") and fragment in err and "Traceback" not in err


def test_compat_scalesim_from_the_cli(capsys) -> None:
    assert main(["simulate", "--workload", "scalesim:alexnet", "--dataflow", "ws", "--compat", "scalesim"]) == 0
    assert "compat=scalesim" in capsys.readouterr().out


def test_console_script_runs_in_a_fresh_process() -> None:
    proc = subprocess.run([sys.executable, "-m", "acceldse.cli", "simulate", "--workload", "alexnet", "--dataflow",
                           "os"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Conv1" in proc.stdout or "conv" in proc.stdout.lower()


def test_map_facade_returns_best_mappings() -> None:
    from acceldse.workloads.layer import conv2d

    single = acceldse.map(conv2d("c", 16, 16, 14, 3, padding=1), "eyeriss_like", budget=500, seed=1)
    assert single.cost.cycles > 0 and single.cost.energy_pj > 0
    again = acceldse.map(conv2d("c", 16, 16, 14, 3, padding=1), "eyeriss_like", budget=500, seed=1)
    assert again.cost.cycles == single.cost.cycles  # seeded search is reproducible
    net = acceldse.map("alexnet", "simple_ws_32x32", budget=300, layer="conv2")
    assert net.cost.cycles >= conv2d("conv2", 96, 256, 27, 5, padding=2).macs / (32 * 32)


@pytest.mark.parametrize("fidelity", ["analytical", "event"])
def test_totals_utilization_counts_the_pes_the_fidelity_models(fidelity) -> None:
    """Every fidelity deals a layer's folds to every core of a multi-core chip."""
    acc = acceldse.load_hardware("tpu-hbm-like")
    assert acc.cores == 4
    result = acceldse.simulate("alexnet", acc, "ws", fidelity=fidelity)
    tot = result.totals.iloc[0]
    pes = acc.array.pes * acc.cores
    assert tot.utilization == pytest.approx(tot.macs / (tot.total_cycles * pes))
    assert result.layers.utilization.max() <= 1.0
    assert tot.utilization <= result.layers.utilization.max()
