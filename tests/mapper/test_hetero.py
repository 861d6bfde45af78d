"""Heterogeneous sub-accelerators: layers of two networks on a WS and an OS array sharing bandwidth."""

from __future__ import annotations

import pytest

from acceldse.mapper.hetero import SubAccelerator, assign_layers
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.network import Network


def _nets():
    a = Network("cnn", (conv2d("c1", 16, 32, 18, 3), conv2d("c2", 32, 32, 16, 3), conv2d("c3", 32, 64, 14, 1)))
    b = Network("mlp", (gemm("f1", 16, 64, 128), gemm("f2", 16, 32, 64)))
    return [a, b]


SUBS = [
    SubAccelerator("ws16", "simple_ws_32x32", "ws", 0.5, array=("pe_reg", 16, 16)),
    SubAccelerator("os8", "simple_ws_32x32", "os", 0.5, array=("pe_reg", 8, 8)),
]


def test_schedule_is_consistent():
    res = assign_layers(_nets(), SUBS, total_bandwidth_words_per_cycle=16, budget=3000, seed=0)
    s = res.schedule
    assert len(s) == 5 and set(s.sub_accelerator) <= {"ws16", "os8"}
    for _, net in s.groupby("network"):  # chains: each layer starts after its predecessor ends
        assert (net.start_cycle.values[1:] >= net.end_cycle.values[:-1]).all()
    for _, sub in s.sort_values("start_cycle").groupby("sub_accelerator"):  # one layer at a time
        assert (sub.start_cycle.values[1:] >= sub.end_cycle.values[:-1]).all()
    # the makespan is no worse than running everything on the best single sub-accelerator
    single = res.per_layer.groupby("sub_accelerator").cycles.sum().min()
    assert res.latency_cycles <= single
    assert res.energy_pj == pytest.approx(s.energy_pj.sum())
    base = load_hierarchy("simple_ws_32x32")
    tech = base.technology_nm
    pe_area = base.levels[2].instance_area_mm2(tech) + base.compute.instance_area_mm2(tech)
    assert res.area_mm2 == pytest.approx(2 * base.levels[1].instance_area_mm2(tech) + (256 + 64) * pe_area)


def test_bad_shares_and_placement():
    with pytest.raises(SpecError, match="bandwidth shares"):
        assign_layers(_nets(), [SubAccelerator("a", "simple_ws_32x32", "ws", 0.8),
                                SubAccelerator("b", "simple_ws_32x32", "os", 0.8)], total_bandwidth_words_per_cycle=8)
    with pytest.raises(SpecError, match="placement"):
        assign_layers(_nets(), SUBS, total_bandwidth_words_per_cycle=8, placement="area")
