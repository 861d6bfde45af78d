"""N:M weight sparsity in the native systolic model (analytical and event fidelity).

The model: on os (reduction in time), ws and is (reduction on the rows) the array runs the layer
over its kept reduction rows only, every moved weight carries ceil(log2 M) bits of position
metadata, MACs on pruned weights are skipped. On ws each kept row needs its M-block of inputs
(ifmap SRAM reads x M/N, SCALE-Sim's rule); on os and is the inputs of the kept rows are read
once: SCALE-Sim 3.0.0's os and is (stored runs) equal the dense run over the kept rows.
"""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.api import simulate
from acceldse.dataflows.dataflow import DATAFLOWS
from acceldse.simulator.event import event_table
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic.model import systolic_table
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.loader import load_workload, with_weight_sparsity
from acceldse.workloads.network import Network

ACC = load_hardware("scalesim-32x32")
BIG = ACC.replace(tiers={"sram": {"capacity_bytes": 3 * 2**22,
                                  "partition_bytes": {"ifmap": 2**22, "filter": 2**22, "ofmap": 2**22}}})
SPARSE_GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "scalesim" / "sparse" / "golden_sparse.csv"


def _row(layer, df: str, acc=ACC) -> pd.Series:  # type: ignore[no-untyped-def]
    return systolic_table(Network("n", (layer,)), acc, [DATAFLOWS[df]]).iloc[0]


def _kept(k: int, n: int, m: int) -> int:
    return (k // m) * n + min(k % m, n)


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(m_dim=st.integers(1, 90), n_dim=st.integers(1, 80), k_dim=st.integers(1, 200),
       nm=st.sampled_from([(1, 2), (2, 4), (1, 4), (3, 8), (2, 3), (5, 8)]), df=st.sampled_from(["os", "ws", "is"]))
def test_sparse_gemm_runs_as_the_dense_gemm_of_its_kept_rows(m_dim: int, n_dim: int, k_dim: int,
                                                             nm: tuple[int, int], df: str) -> None:
    """Array-side numbers of an N:M GEMM equal the dense GEMM over its kept reduction rows; ifmap
    reads are M/N of those on ws; MACs performed + skipped = the dense MACs."""
    kept = _kept(k_dim, *nm)
    sp = _row(replace(gemm("g", m_dim, n_dim, k_dim), weight_sparsity=nm), df, BIG)
    de = _row(gemm("g", m_dim, n_dim, kept), df, BIG)
    for col in ("compute_cycles", "folds", "mapping_efficiency", "sram_reads_filter", "sram_writes_ofmap",
                "sram_reads_ofmap", "dram_reads_filter", "dram_writes_ofmap", "macs"):
        assert sp[col] == de[col], col
    scale = nm[1] / nm[0] if df == "ws" else 1   # ws: each kept row reads its M-block; os, is: each input once
    assert sp["sram_reads_ifmap"] == round(de["sram_reads_ifmap"] * scale)
    assert sp["macs"] + sp["macs_skipped"] == m_dim * n_dim * k_dim
    assert sp["weight_metadata_bytes"] == math.ceil(n_dim * kept * math.ceil(math.log2(nm[1])) / 8)
    assert sp["dram_reads_ifmap"] == m_dim * k_dim  # all inputs are still needed
    meta = math.ceil(math.log2(nm[1])) / 8
    assert sp["dram_bytes"] == int(sp["dram_reads_ifmap"] + sp["dram_reads_filter"] * (1 + meta)
                                   + sp["dram_writes_ofmap"] + sp["dram_reads_ofmap"])


def test_ws_ifmap_reads_equal_scalesim_sparse_goldens() -> None:
    """ws, OptimizedMapping false: SCALE-Sim's ifmap SRAM reads (M/N per kept row, stored runs of the
    installed package) equal the native model's on every GEMM golden layer."""
    rows = [r for r in csv.DictReader(SPARSE_GOLDEN.open()) if r["dataflow"] == "ws" and r["form"] == "gemm"
            and r["sparsity_support"] == "True" and r["optimized_mapping"] == "False" and not r["crash"]
            and r["ratio"] and r["ratio"] not in ("1:1", "4:4")]
    assert len(rows) >= 20
    for r in rows:
        n, m = (int(x) for x in r["ratio"].split(":"))
        acc = ACC.replace(array={"rows": int(r["array_rows"]), "cols": int(r["array_cols"])})
        # golden conv form of a GEMM: ifmap_h = M, ifmap_w = K (filter 1 x K), num_filters = N
        layer = replace(gemm("g", int(r["ifmap_h"]), int(r["num_filters"]), int(r["ifmap_w"])), weight_sparsity=(n, m))
        ours = _row(layer, "ws", acc)
        assert ours["sram_reads_ifmap"] == round(float(r["sram_reads_ifmap"])), r["run"]


def test_is_equals_scalesim_sparse_goldens() -> None:
    """is, OptimizedMapping false: on every GEMM golden layer of the installed SCALE-Sim (stored runs) the
    native model's ifmap and filter SRAM reads, ofmap writes and compute cycles equal SCALE-Sim's (its
    cycles are the index of the last cycle: one less)."""
    rows = [r for r in csv.DictReader(SPARSE_GOLDEN.open()) if r["dataflow"] == "is" and r["form"] == "gemm"
            and r["sparsity_support"] == "True" and r["optimized_mapping"] == "False" and not r["crash"]
            and r["ratio"] and r["ratio"] not in ("1:1", "4:4")]
    assert len(rows) >= 40
    for r in rows:
        n, m = (int(x) for x in r["ratio"].split(":"))
        acc = ACC.replace(array={"rows": int(r["array_rows"]), "cols": int(r["array_cols"])})
        layer = replace(gemm("g", int(r["ifmap_h"]), int(r["num_filters"]), int(r["ifmap_w"])), weight_sparsity=(n, m))
        ours = _row(layer, "is", acc)
        for col in ("sram_reads_ifmap", "sram_reads_filter", "sram_writes_ofmap"):
            assert ours[col] == round(float(r[col])), (r["run"], col)
        assert ours["compute_cycles"] == round(float(r["total_cycles"])) + 1, r["run"]


def test_os_equals_scalesim_sparse_goldens() -> None:
    """os, OptimizedMapping false: on every GEMM golden layer of the installed SCALE-Sim (stored runs) its
    numbers are the dense run over the kept rows, and so are the native model's: ifmap and filter SRAM reads
    equal; ofmap writes and compute cycles differ only by the dense os differences of
    docs/scalesim_differences.md (#1: the index of the last cycle; #2: no output drain, R cycles per fold;
    #3: folds x (R + C) extra ofmap writes)."""
    rows = [r for r in csv.DictReader(SPARSE_GOLDEN.open()) if r["dataflow"] == "os" and r["form"] == "gemm"
            and r["sparsity_support"] == "True" and r["optimized_mapping"] == "False" and not r["crash"]
            and r["ratio"] and r["ratio"] not in ("1:1", "4:4")]
    assert len(rows) >= 40
    for r in rows:
        n, m = (int(x) for x in r["ratio"].split(":"))
        R, C = int(r["array_rows"]), int(r["array_cols"])
        acc = ACC.replace(array={"rows": R, "cols": C})
        layer = replace(gemm("g", int(r["ifmap_h"]), int(r["num_filters"]), int(r["ifmap_w"])), weight_sparsity=(n, m))
        ours = _row(layer, "os", acc)
        for col in ("sram_reads_ifmap", "sram_reads_filter"):
            assert ours[col] == round(float(r[col])), (r["run"], col)
        folds = int(ours["folds"])
        assert ours["sram_writes_ofmap"] + folds * (R + C) == round(float(r["sram_writes_ofmap"])), r["run"]
        assert ours["compute_cycles"] - folds * R == round(float(r["total_cycles"])) + 1, r["run"]


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_sparser_is_never_slower_on_resnet18(df: str) -> None:
    dense = simulate("resnet18", "scalesim-32x32", df).totals.iloc[0]
    half = simulate("resnet18", "scalesim-32x32", df, weight_sparsity="2:4").totals.iloc[0]
    quarter = simulate("resnet18", "scalesim-32x32", df, weight_sparsity="1:4").totals.iloc[0]
    assert dense["compute_cycles"] > half["compute_cycles"] > quarter["compute_cycles"]
    assert dense["total_cycles"] > half["total_cycles"] > quarter["total_cycles"]
    assert half["macs"] + half["macs_skipped"] == dense["macs"]
    assert dense["dram_bytes"] > half["dram_bytes"] > quarter["dram_bytes"]
    if df == "ws":  # the README's figures (and the sparsity notebook's speed-ups 1.93x / 3.54x, 1.70x / 2.54x)
        totals = [int(t["total_cycles"]) for t in (dense, half, quarter)]
        assert totals == [6_809_972, 4_001_931, 2_677_038]
        assert [round(dense[c] / t[c], 2) for c in ("compute_cycles", "total_cycles") for t in (half, quarter)] == \
            [1.93, 3.54, 1.70, 2.54]


def test_event_fidelity_equals_analytical_on_sparse_layers() -> None:
    net = load_workload("mobilenet_v1", weight_sparsity="2:4")
    acc = ACC.replace(cores=1)
    flows = [DATAFLOWS["os"], DATAFLOWS["ws"], DATAFLOWS["is"]]
    a = systolic_table(net, acc, flows)
    e = event_table(net, acc, flows)
    np.testing.assert_array_equal(e["total_cycles"].to_numpy(), a["total_cycles"].to_numpy())
    for col in ("macs", "macs_skipped", "weight_metadata_bytes", "sram_reads_ifmap", "dram_bytes"):
        np.testing.assert_array_equal(e[col].to_numpy(), a[col].to_numpy())
    assert (a["macs_skipped"] > 0).any() and (a.loc[a["op"] == "pool", "macs_skipped"] == 0).all()


def test_mixed_network_and_conv_reduction_axis() -> None:
    """A conv's reduction is C*R*S in window order; a dense layer in the same table gets zeros."""
    conv = replace(conv2d("c", 5, 8, 10, 3), weight_sparsity=(2, 4))  # C*R*S = 45 -> 11 * 2 + min(1, 2) = 23
    dense = gemm("d", 16, 8, 12)
    t = systolic_table(Network("n", (conv, dense)), ACC, [DATAFLOWS["os"]])
    assert t["macs"].tolist() == [8 * 8 * 8 * 23, 16 * 8 * 12]
    assert t["macs_skipped"].tolist() == [8 * 8 * 8 * 22, 0]
    assert t["weight_metadata_bytes"].tolist() == [math.ceil(8 * 23 * 2 / 8), 0]
    assert "macs_skipped" not in systolic_table(Network("d", (dense,)), ACC, [DATAFLOWS["os"]]).columns


def test_cli_param_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    assert main(["simulate", "--workload", "resnet18", "--dataflow", "ws", "--param", "weight_sparsity=2:4",
                 "--format", "csv", "--all-columns"]) == 0
    out = capsys.readouterr().out
    assert "macs_skipped" in out and "weight_metadata_bytes" in out
    with pytest.raises(SpecError, match="N:M"):
        load_workload("resnet18", weight_sparsity="4:2")
    with pytest.raises(SpecError, match="another N:M ratio"):
        with_weight_sparsity(load_workload("resnet18", weight_sparsity="2:4"), (1, 4))


def test_batched_sweep_equals_simulate_on_sparse_layers() -> None:
    """The sweep driver (many designs at once) gives the same totals as simulate, sparse layers included;
    the design environment, which offers is too, refuses them."""
    from acceldse.envs.systolic_design import SystolicDesignModel
    from acceldse.simulator.systolic.batch import network_totals

    net = load_workload("resnet18", weight_sparsity="2:4")
    accs = [ACC, ACC.replace(array={"rows": 16, "cols": 64})]
    sweep = network_totals(net, accs, DATAFLOWS["ws"])
    for acc, (_, row) in zip(accs, sweep.iterrows(), strict=True):
        one = simulate(net, acc, "ws").totals.iloc[0]
        for col in ("total_cycles", "compute_cycles", "macs", "sram_reads_ifmap", "dram_bytes", "energy_pj"):
            assert row[col] == one[col], col
    SystolicDesignModel(net, ACC)   # it offers is too: N:M layers run on every dataflow


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_cycle_fidelity_runs_the_kept_rows_and_checks_outputs(df: str) -> None:
    """Cycle by cycle on real integers: the array runs only the kept reduction rows, its outputs equal
    NumPy's dense product with the pruned weights (cycle_table raises otherwise), and the measured
    compute cycles equal the analytical model's."""
    from acceldse.simulator.systolic.cycle import run_layer_cycle

    acc = ACC.replace(array={"rows": 8, "cols": 8})
    layers = (replace(conv2d("c", 5, 7, 9, 3, stride=2, padding=1), weight_sparsity=(2, 4)),
              replace(gemm("g", 13, 11, 30), weight_sparsity=(1, 3)),
              replace(conv2d("d", 6, 6, 8, 3, padding=1, groups=6), weight_sparsity=(3, 8)))
    net = Network("n", layers)
    cyc = simulate(net, acc, df, fidelity="cycle").layers
    ana = simulate(net, acc, df).layers
    np.testing.assert_array_equal(cyc["compute_cycles"].to_numpy(), ana["compute_cycles"].to_numpy())
    for col in ("macs", "macs_skipped", "weight_metadata_bytes"):
        np.testing.assert_array_equal(cyc[col].to_numpy(), ana[col].to_numpy())
    res = run_layer_cycle(layers[0], acc, df, np.random.default_rng(1))
    assert res.exact and np.count_nonzero(res.reference) > 0


def test_sparsity_is_a_sweep_axis(tmp_path: Path) -> None:
    """``params.weight_sparsity`` under a sweep's axes: one point per ratio, each equal to simulate's."""
    import acceldse

    spec = ("version: 1\nname: nm\nworkload: resnet18\nhardware: scalesim-32x32\ndataflow: ws\n"
            "axes:\n  params.weight_sparsity: ['1:1', '2:4', '1:4']\n")
    summary = acceldse.run_sweep(spec, tmp_path / "s.duckdb", workers=1, progress=False)
    points = acceldse.load_results(tmp_path / "s.duckdb")
    assert summary.failures == [] and len(points) == 3
    for _, row in points.iterrows():
        one = simulate("resnet18", "scalesim-32x32", "ws", weight_sparsity=row["params.weight_sparsity"])
        assert row["total_cycles"] == one.totals.iloc[0]["total_cycles"]
    assert points.sort_values("macs")["params.weight_sparsity"].tolist() == ["1:4", "2:4", "1:1"]
