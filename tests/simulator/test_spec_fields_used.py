"""Every hardware field changes the model or is rejected (issue 11, item 8).

``word_bytes`` widens operands, the SRAM tier's bandwidth and latency time the folds, ``cores``
is modelled by every fidelity (event = analytical where the link is not contended), a
hierarchy's ``clock_mhz`` drives its time outputs, and ``--compat`` refuses a fidelity or a
multi-core chip instead of dropping them.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import acceldse
from acceldse.cli import main
from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.mapper.api import map_layer
from acceldse.simulator.event import event_table
from acceldse.simulator.specs.accelerator import Accelerator, accelerator_from_dict
from acceldse.simulator.specs.hierarchy_loader import PRESET_DIR, build_hierarchy, load_hierarchy
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic.cycle import cycle_table
from acceldse.simulator.systolic.model import systolic_table
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.loader import load_workload
from acceldse.workloads.network import Network
from acceldse.workloads.spec_io import load_yaml


def _tiers(acc: Accelerator, **sram: float) -> Accelerator:
    tiers = tuple(dataclasses.replace(t, **sram) if t is acc.sram else t for t in acc.tiers)
    return dataclasses.replace(acc, tiers=tiers)


def _dram_bw(acc: Accelerator, bw: float) -> Accelerator:
    tiers = tuple(dataclasses.replace(t, read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)
                  if t is acc.dram else t for t in acc.tiers)
    return dataclasses.replace(acc, tiers=tiers)


SMALL = Network("small", [conv2d("c1", 16, 32, 14, 3, padding=1), gemm("fc", 64, 96, 128)])


# ---- word_bytes ---------------------------------------------------------------------------------

def test_word_bytes_widens_every_byte_count() -> None:
    """8-bit layers on a 2-byte-word chip move 2 bytes per operand (all fits: exactly twice)."""
    one = dataclasses.replace(load_hardware("tpu-hbm-like"), word_bytes=1)
    two = load_hardware("tpu-hbm-like")
    assert two.word_bytes == 2
    flows = resolve_dataflows("all")
    a, b = systolic_table(SMALL, one, flows), systolic_table(SMALL, two, flows)
    np.testing.assert_array_equal(b["dram_bytes"], 2 * a["dram_bytes"])
    np.testing.assert_array_equal(b["sram_bytes"], 2 * a["sram_bytes"])
    np.testing.assert_array_equal(b["dram_reads_ifmap"], a["dram_reads_ifmap"])  # words are words


def test_word_bytes_slows_a_bandwidth_bound_layer() -> None:
    acc = _dram_bw(dataclasses.replace(load_hardware("scalesim-32x32"), word_bytes=1), 2.0)
    flows = resolve_dataflows("os")
    slow = systolic_table(SMALL, dataclasses.replace(acc, word_bytes=4), flows)
    fast = systolic_table(SMALL, acc, flows)
    assert (slow["total_cycles"] > fast["total_cycles"]).all()


# ---- SRAM tier bandwidth and latency ------------------------------------------------------------

@pytest.mark.parametrize("fidelity", ["analytical", "event"])
def test_sram_latency_is_paid_once_per_mac_layer(fidelity: str) -> None:
    base = _tiers(load_hardware("scalesim-32x32"), latency_cycles=0)
    late = _tiers(base, latency_cycles=37)
    flows = resolve_dataflows("all")
    run = systolic_table if fidelity == "analytical" else event_table
    a, b = run(SMALL, base, flows), run(SMALL, late, flows)
    np.testing.assert_array_equal(b["total_cycles"] - a["total_cycles"], 37)
    np.testing.assert_array_equal(b["compute_cycles"], a["compute_cycles"])


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_a_narrow_sram_stretches_every_fold(dataflow: str) -> None:
    acc = _tiers(load_hardware("scalesim-32x32"), latency_cycles=0)
    narrow = _tiers(acc, read_bw_bytes_per_cycle=4.0, write_bw_bytes_per_cycle=4.0)
    flows = resolve_dataflows(dataflow)
    wide_t, narrow_t = systolic_table(SMALL, acc, flows), systolic_table(SMALL, narrow, flows)
    # the array's own schedule is unchanged; the SRAM's pace shows up as stall cycles
    np.testing.assert_array_equal(narrow_t["compute_cycles"], wide_t["compute_cycles"])
    assert (narrow_t["total_cycles"] > wide_t["total_cycles"]).all()
    sram_read = narrow_t["sram_bytes"]  # reads + writes; either side at 4 B/cycle bounds the layer
    assert (narrow_t["total_cycles"] >= np.ceil(sram_read / 8.0)).all()
    # and event fidelity runs the same stretched folds
    ev = event_table(SMALL, narrow, flows)
    np.testing.assert_array_equal(ev["total_cycles"], narrow_t["total_cycles"])
    np.testing.assert_array_equal(ev["compute_cycles"], narrow_t["compute_cycles"])


# ---- cores: every fidelity models the same machine ----------------------------------------------

def test_event_adds_only_contention_on_four_cores() -> None:
    """ResNet-18 ws on tpu-hbm-like: event = analytical + at most the contention it measured."""
    acc = load_hardware("tpu-hbm-like")
    assert acc.cores == 4
    net, flows = load_workload("resnet18"), resolve_dataflows("ws")
    a, e = systolic_table(net, acc, flows), event_table(net, acc, flows)
    extra = e["total_cycles"] - a["total_cycles"]
    assert (extra >= 0).all()
    assert (extra <= np.ceil(e["stall_contention_cycles"])).all()


def test_resnet18_on_tpu_hbm_like_fidelities_agree_up_to_contention() -> None:
    """The figures in the README: analytical 176,495 vs event 188,186 cycles; one core: 492,745 at both."""
    a = acceldse.simulate("resnet18", "tpu-hbm-like", "ws")
    e = acceldse.simulate("resnet18", "tpu-hbm-like", "ws", fidelity="event")
    ta, te = a.totals.iloc[0], e.totals.iloc[0]
    assert (int(ta.total_cycles), int(te.total_cycles)) == (176_495, 188_186)
    one = acceldse.load_hardware("tpu-hbm-like").replace(cores=1)
    assert {int(acceldse.simulate("resnet18", one, "ws", fidelity=f).totals.total_cycles.iloc[0])
            for f in ("analytical", "event")} == {492_745}
    la, le = a.layers, e.layers
    assert (le["total_cycles"] >= la["total_cycles"]).all()
    # where the event engine saw no contention, it is the analytical model exactly
    calm = le["stall_contention_cycles"] == 0
    assert calm.any()
    np.testing.assert_array_equal(le.loc[calm, "total_cycles"], la.loc[calm, "total_cycles"])
    np.testing.assert_array_equal(le.loc[calm, "compute_cycles"], la.loc[calm, "compute_cycles"])


@settings(max_examples=12, deadline=None)
@given(c=st.integers(1, 24), k=st.integers(1, 24), hw=st.integers(3, 9), cores=st.integers(2, 5),
       flow=st.sampled_from(["os", "ws", "is"]), bw=st.sampled_from([0.5, 3.0, 64.0]))
def test_cores_event_is_analytical_plus_contention(c: int, k: int, hw: int, cores: int, flow: str,
                                                   bw: float) -> None:
    acc = dataclasses.replace(_dram_bw(load_hardware("edge-8x8"), bw), cores=cores)
    net = Network("one", [conv2d("c", c, k, hw, 3, padding=1)])
    flows = resolve_dataflows(flow)
    a, e = systolic_table(net, acc, flows).iloc[0], event_table(net, acc, flows).iloc[0]
    assert 0 <= int(e["total_cycles"]) - int(a["total_cycles"]) <= math.ceil(e["stall_contention_cycles"])
    if e["stall_contention_cycles"] == 0:  # nothing contended: the same machine, the same numbers
        assert (int(e["total_cycles"]), int(e["compute_cycles"])) == (int(a["total_cycles"]), int(a["compute_cycles"]))


def test_cycle_fidelity_deals_folds_to_cores_like_analytical() -> None:
    acc = dataclasses.replace(load_hardware("edge-8x8"), cores=3)
    flows = resolve_dataflows("all")
    a, c = systolic_table(SMALL, acc, flows), cycle_table(SMALL, acc, flows)
    np.testing.assert_array_equal(c["compute_cycles"], a["compute_cycles"])
    np.testing.assert_array_equal(c["total_cycles"], a["total_cycles"])
    one = systolic_table(SMALL, dataclasses.replace(acc, cores=1), flows)
    assert (a["compute_cycles"] < one["compute_cycles"]).all()
    assert (a["compute_utilization"] <= 1.0).all()


# ---- compat mode refuses what it cannot honour --------------------------------------------------

def test_compat_rejects_a_fidelity() -> None:
    with pytest.raises(SpecError, match="fidelity"):
        acceldse.simulate("resnet18", "scalesim-32x32", "os", fidelity="cycle", compat="scalesim")
    assert main(["simulate", "--compat", "scalesim", "--fidelity", "event"]) == 2


def test_compat_rejects_a_multi_core_chip() -> None:
    with pytest.raises(SpecError, match="cores"):
        acceldse.simulate("alexnet", "tpu-hbm-like", "ws", compat="scalesim")


def test_compat_header_names_the_mode_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--workload", "alexnet", "--compat", "scalesim"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("(compat=scalesim)")


# ---- hierarchy clock_mhz ------------------------------------------------------------------------

def test_hierarchy_clock_drives_latency() -> None:
    layer = conv2d("c", 16, 16, 14, 3, padding=1)
    slow = load_hierarchy("eyeriss_like")
    fast = dataclasses.replace(slow, clock_mhz=2 * slow.clock_mhz)
    assert slow.clock_mhz == 200.0
    a = map_layer(layer, slow, budget=300, seed=3)
    b = map_layer(layer, fast, budget=300, seed=3)
    assert a.cost is not None and b.cost is not None and a.cost.cycles == b.cost.cycles
    assert a.row()["latency_us"] == pytest.approx(a.cost.cycles / 200.0)
    assert b.row()["latency_us"] == pytest.approx(a.row()["latency_us"] / 2)


def test_clock_ghz_is_still_read_with_a_deprecation_warning() -> None:
    data = load_yaml(PRESET_DIR / "eyeriss_like.yaml", kind="hierarchy", versions=(1, 2))
    old = {**{k: v for k, v in data.items() if k != "clock_mhz"}, "version": 1, "clock_ghz": 0.2}
    with pytest.warns(DeprecationWarning, match="clock_mhz"):
        h = build_hierarchy(old, source="old.yaml")
    assert h.clock_mhz == pytest.approx(200.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build_hierarchy(data, source="new.yaml").clock_mhz == 200.0
    with pytest.raises(SpecError, match="not both"):
        build_hierarchy({**data, "clock_ghz": 0.2}, source="both.yaml")
    with pytest.raises(SpecError, match="clock_mhz"):
        build_hierarchy({**data, "clock_mhz": 0}, source="zero.yaml")


def test_unknown_hierarchy_version_is_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (PRESET_DIR / "toy_2x2.yaml").read_text().replace("version: 2", "version: 3")
    path = tmp_path / "h.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match="version"):
        load_hierarchy(path)


def test_mixed_clocks_are_rejected_by_the_hetero_scheduler() -> None:
    from acceldse.mapper.hetero import SubAccelerator, assign_layers

    subs = [SubAccelerator("a", "eyeriss_like", "rs", 0.5), SubAccelerator("b", "simple_ws_32x32", "ws", 0.5)]
    with pytest.raises(SpecError, match="clock"):
        assign_layers([SMALL], subs, total_bandwidth_words_per_cycle=16)


def test_accelerator_word_bytes_is_range_checked() -> None:
    base = {"version": 1, "array": {"rows": 4, "cols": 4},
            "tiers": [{"name": "s", "kind": "sram", "capacity": "64KiB", "bw_bytes_per_cycle": 8},
                      {"name": "d", "kind": "dram", "capacity": "1GiB", "bw_bytes_per_cycle": 8}]}
    with pytest.raises(SpecError, match="word_bytes"):
        accelerator_from_dict({**base, "word_bytes": 0}, source="t.yaml")
    assert math.isclose(accelerator_from_dict({**base, "word_bytes": 2}, source="t.yaml").word_bytes, 2)


def test_cli_map_prints_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "--workload", "alexnet", "--hardware", "eyeriss_like", "--layer", "conv2", "--budget", "200",
                 "--no-nest"]) == 0
    text = capsys.readouterr().out
    assert "MHz" in text and "latency_us" in text


def test_batched_path_models_the_same_fields() -> None:
    """The sweep / env fast path (``simulator.systolic.batch``) gives simulate()'s totals exactly on
    multi-core, 2-byte-word and SRAM-starved hardware."""
    from acceldse.simulator.systolic.batch import TOTAL_COLUMNS, network_totals

    narrow = _tiers(load_hardware("scalesim-32x32"), read_bw_bytes_per_cycle=4.0, write_bw_bytes_per_cycle=4.0,
                    latency_cycles=9)
    accs = [load_hardware("tpu-hbm-like"), narrow, load_hardware("scalesim-32x32")]
    net = load_workload("alexnet")
    for flow in resolve_dataflows("all"):
        got = network_totals(net, accs, flow)
        for i, acc in enumerate(accs):
            want = acceldse.simulate(net, acc, flow.name).totals.iloc[0]
            assert [got.iloc[i][c] for c in TOTAL_COLUMNS] == pytest.approx([want[c] for c in TOTAL_COLUMNS],
                                                                           rel=1e-12), (acc.name, flow.name)
