"""Compat mode against stored SCALE-Sim goldens, closed forms and input validation.

The golden CSVs (``tests/golden/scalesim/golden_*.csv``) were produced by
``benchmarks/make_scalesim_golden.py`` with the installed SCALE-Sim 3.0.0; this module needs no
peer at test time.
"""

from __future__ import annotations

import csv
from math import ceil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.simulator.scalesim.calc import scalesim_gemm, scalesim_layer
from acceldse.workloads.errors import SpecError

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "scalesim"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("golden_*.csv"))
INT_KEYS = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride",
            "array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")
REPORTED = ("total_cycles_incl_prefetch", "total_cycles", "stall_cycles", "overall_util_pct",
            "mapping_efficiency_pct", "compute_util_pct", "avg_ifmap_sram_bw",
            "avg_filter_sram_bw", "avg_ofmap_sram_bw", "avg_ifmap_dram_bw", "avg_filter_dram_bw",
            "avg_ofmap_dram_bw", "sram_ifmap_start_cycle", "sram_ifmap_stop_cycle",
            "sram_reads_ifmap", "sram_filter_start_cycle", "sram_filter_stop_cycle",
            "sram_reads_filter", "sram_ofmap_start_cycle", "sram_ofmap_stop_cycle",
            "sram_writes_ofmap", "dram_ifmap_start_cycle", "dram_ifmap_stop_cycle",
            "dram_reads_ifmap", "dram_filter_start_cycle", "dram_filter_stop_cycle",
            "dram_reads_filter", "dram_ofmap_start_cycle", "dram_ofmap_stop_cycle",
            "dram_writes_ofmap")
BASE = {"array_rows": 8, "array_cols": 8, "ifmap_sram_kb": 1, "filter_sram_kb": 1,
        "ofmap_sram_kb": 1, "dataflow": "os"}


def _golden_rows() -> list[dict[str, str]]:
    rows = []
    for path in GOLDEN_FILES:
        with path.open() as fh:
            for row in csv.DictReader(fh):
                row["file"] = path.name
                rows.append(row)
    return rows


def test_golden_files_exist() -> None:
    assert len(_golden_rows()) >= 50


@pytest.mark.parametrize("row", _golden_rows(), ids=lambda r: f"{r['file']}:{r['layer']}")
def test_golden_row_matches(row: dict[str, str]) -> None:
    args = {k: int(row[k]) for k in INT_KEYS}
    ours = scalesim_layer(dataflow=row["dataflow"], **args).report()
    for key in REPORTED:
        ref = float(row[key])
        assert ours[key] == pytest.approx(ref, rel=1e-12, abs=0), key


layers = st.builds(
    dict,
    ifmap_h=st.integers(1, 20), ifmap_w=st.integers(1, 20), channels=st.integers(1, 6),
    num_filters=st.integers(1, 40), stride=st.integers(1, 4),
    array_rows=st.sampled_from([2, 4, 8, 16]), array_cols=st.sampled_from([3, 8, 12, 64]),
    ifmap_sram_kb=st.sampled_from([1, 2]), filter_sram_kb=st.sampled_from([1, 2]),
    ofmap_sram_kb=st.sampled_from([1, 4]), dataflow=st.sampled_from(["os", "ws", "is"]),
    fr=st.floats(0, 1), fs=st.floats(0, 1))


def _args(d: dict) -> dict:
    d = dict(d)
    fr, fs = d.pop("fr"), d.pop("fs")
    d["filter_h"] = 1 + int(fr * (d["ifmap_h"] - 1))
    d["filter_w"] = 1 + int(fs * (d["ifmap_w"] - 1))
    return d


@settings(max_examples=150, deadline=None)
@given(layers)
def test_fast_paths_equal_emulation(d: dict) -> None:
    args = _args(d)
    assert scalesim_layer(**args) == scalesim_layer(use_fast_paths=False, **args)


@settings(max_examples=150, deadline=None)
@given(layers)
def test_closed_forms(d: dict) -> None:
    """Cycles and SRAM counts as SCALE-Sim reports them (CALC mode never stalls)."""
    a = _args(d)
    res = scalesim_layer(**a)
    s = a["stride"]
    e = ceil((a["ifmap_h"] - a["filter_h"] + s) / s)
    f = ceil((a["ifmap_w"] - a["filter_w"] + s) / s)
    m, n, k = e * f, a["num_filters"], a["filter_h"] * a["filter_w"] * a["channels"]
    r, c = a["array_rows"], a["array_cols"]
    if a["dataflow"] == "os":
        fr, fc, per_fold = ceil(m / r), ceil(n / c), k + r + c - 2
        sram = (m * k * fc, k * n * fr, m * n + fr * fc * (r + c))
    elif a["dataflow"] == "ws":
        fr, fc, per_fold = ceil(k / r), ceil(n / c), 2 * r + c + m - 2
        sram = (m * k * fc, k * n, m * n * fr)
    else:
        fr, fc, per_fold = ceil(k / r), ceil(m / c), 2 * r + c + n - 2
        sram = (m * k, k * n * fc, m * n * fr)
    assert res.stall_cycles == 0
    assert res.folds == fr * fc
    assert res.total_cycles == fr * fc * per_fold - 1
    assert (res.sram_reads_ifmap, res.sram_reads_filter, res.sram_writes_ofmap) == sram
    assert res.macs == m * n * k
    assert 0 < res.mapping_efficiency <= 1
    assert 0 < res.compute_utilization <= 1
    assert 0 < res.overall_utilization <= 1
    assert res.dram_reads_filter >= k * n  # every filter word is fetched at least once
    assert res.dram_writes_ofmap >= m * n
    assert res.total_cycles_incl_prefetch >= res.total_cycles


def test_small_lines_buffer_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the ofmap backlog overflows the bounded lines buffer the run restarts, same result."""
    import acceldse.simulator.scalesim.calc as compat

    for mode in ("CALC", "USER"):
        args = dict(ifmap_h=12, ifmap_w=12, filter_h=3, filter_w=3, channels=8, num_filters=30,
                    stride=1, array_rows=8, array_cols=8, ifmap_sram_kb=1, filter_sram_kb=1,
                    ofmap_sram_kb=1, dataflow="ws", bandwidth_mode=mode, ofmap_dram_bw_words=4)
        expected = scalesim_layer(**args)
        monkeypatch.setattr(compat, "_lines_capacity", lambda *a: 3)
        assert scalesim_layer(**args) == expected
        monkeypatch.undo()


def test_gemm_convention() -> None:
    g = scalesim_gemm(50, 20, 30, **BASE)
    conv = scalesim_layer(ifmap_h=50, ifmap_w=30, filter_h=1, filter_w=30, channels=1,
                          num_filters=20, stride=1, **BASE)
    assert g == conv
    assert (g.m, g.n, g.k) == (50, 20, 30)


@pytest.mark.parametrize("key,value", [("ifmap_h", 0), ("num_filters", -3), ("stride", 1.5),
                                       ("array_rows", "x"), ("ofmap_sram_kb", 0),
                                       ("channels", True)])
def test_bad_numbers_raise_spec_error(key: str, value: object) -> None:
    args = dict(ifmap_h=8, ifmap_w=8, filter_h=3, filter_w=3, channels=2, num_filters=4,
                stride=1, **BASE)
    args[key] = value
    with pytest.raises(SpecError, match=key):
        scalesim_layer(**args)


def test_other_bad_inputs_raise_spec_error() -> None:
    args = dict(ifmap_h=8, ifmap_w=8, filter_h=3, filter_w=3, channels=2, num_filters=4,
                stride=1, **BASE)
    with pytest.raises(SpecError, match="dataflow"):
        scalesim_layer(**{**args, "dataflow": "rs"})
    with pytest.raises(SpecError, match="filter_h"):
        scalesim_layer(**{**args, "filter_h": 9})
    with pytest.raises(SpecError, match="filter_w"):
        scalesim_layer(**{**args, "filter_w": 9})
    with pytest.raises(SpecError, match="bandwidth_mode"):
        scalesim_layer(**{**args, "bandwidth_mode": "FAST"})
    with pytest.raises(SpecError, match="ifmap_dram_bw_words"):
        scalesim_layer(**{**args, "bandwidth_mode": "USER", "ifmap_dram_bw_words": 15})
    with pytest.raises(SpecError, match="ofmap_dram_bw_words"):
        scalesim_layer(**{**args, "bandwidth_mode": "USER", "ofmap_dram_bw_words": 0})
    with pytest.raises(SpecError, match="window"):
        scalesim_layer(**{**args, "array_cols": 600})
    with pytest.raises(SpecError, match="m"):
        scalesim_gemm(0, 4, 4, **BASE)


@pytest.mark.parametrize("dataflow,total", [("os", 1_718_353), ("ws", 2_519_815),
                                            ("is", 2_838_997)])
def test_resnet18_totals_match_published(dataflow: str, total: int) -> None:
    """Whole-network totals on 32x32 / 64 KB (reference/PUBLISHED.md, SCALE-Sim runs)."""
    cycles = 0
    for line in (GOLDEN_DIR / "Resnet18.csv").read_text().splitlines()[1:]:
        f = [x.strip() for x in line.split(",")]
        if len(f) < 8 or not f[1]:
            continue
        h, w, r, s, c, n, st = (int(x) for x in f[1:8])
        cycles += scalesim_layer(ifmap_h=h, ifmap_w=w, filter_h=r, filter_w=s, channels=c,
                                 num_filters=n, stride=st, array_rows=32, array_cols=32,
                                 ifmap_sram_kb=64, filter_sram_kb=64, ofmap_sram_kb=64,
                                 dataflow=dataflow).total_cycles
    assert cycles == total


@settings(max_examples=60, deadline=None)
@given(layers)
def test_ifmap_tables_equal_plain_address_formula(d: dict) -> None:
    """The division-free tables the walk uses give SCALE-Sim's ifmap element addresses."""
    import numpy as np

    from acceldse.simulator.scalesim import calc_kernels as kern

    a = _args(d)
    s = a["stride"]
    e = ceil((a["ifmap_h"] - a["filter_h"] + s) / s)
    f = ceil((a["ifmap_w"] - a["filter_w"] + s) / s)
    k = a["filter_h"] * a["filter_w"] * a["channels"]
    prow, pcol, pbase, wrow, wcol, woff = kern.ifmap_tables(e * f, k, f, a["ifmap_w"],
                                                            a["channels"], a["filter_w"], s)
    for m in range(e * f):
        for kk in range(k):
            ref = kern.ifmap_address(m, kk, f, a["ifmap_h"], a["ifmap_w"], a["channels"],
                                     a["filter_w"], s)
            inside = prow[m] + wrow[kk] < a["ifmap_h"] and pcol[m] + wcol[kk] < a["ifmap_w"]
            assert (pbase[m] + woff[kk] if inside else -1) == ref
    # the plain formula itself: element (0, 0) is the input origin, the last is in range
    assert kern.ifmap_address(0, 0, f, a["ifmap_h"], a["ifmap_w"], a["channels"],
                              a["filter_w"], s) == 0
    assert np.all(pbase >= 0)
