"""map_layer / map_network: dataflow choice, shape dedupe, padding, Pareto, reproducibility."""

from __future__ import annotations

import pytest

from acceldse.mapper import RESULT_COLUMNS, evaluate, map_layer, map_network
from acceldse.mapper.space import MappingSpace, smooth_at_least
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, gemm, pool2d
from acceldse.workloads.network import Network

HW = load_hierarchy("simple_ws_32x32")


def test_map_network_dedupes_shapes_and_skips_pooling():
    a = conv2d("a", 32, 32, 16, 3, padding=1)
    net = Network("n", (a, a.with_name("b"), pool2d("p", 32, 16, 2), gemm("fc", 1, 10, 32 * 64)))
    res = map_network(net, HW, budget=4000, seed=0)
    assert list(res.table.columns) == list(RESULT_COLUMNS)
    assert list(res.table.layer) == ["a", "b", "fc"]
    assert list(res.table.reused_from) == ["", "a", ""]
    assert res.table.cycles.iloc[0] == res.table.cycles.iloc[1]
    assert res.cycles == int(res.table.cycles.sum())
    assert (res.table.dataflow == "ws").all()  # the preset fixes ws


def test_dataflow_auto_is_no_worse_than_each_fixed_dataflow():
    layer = conv2d("c", 16, 32, 10, 3)
    auto = map_layer(layer, HW, dataflow="auto", budget=3000, seed=2)
    for df in ("os", "ws", "nvdla"):
        fixed = map_layer(layer, HW, dataflow=df, budget=3000, seed=2)
        assert auto.search.value <= fixed.search.value
    assert auto.dataflow in ("os", "ws", "is", "rs", "nvdla", "shidiannao")


def test_spatial_dims_follow_the_dataflow():
    layer = conv2d("c", 16, 32, 10, 3)
    res = map_layer(layer, HW, dataflow="nvdla", budget=3000, seed=0)
    sram = next(lm for lm in res.mapping.levels if lm.level == "sram")
    assert set(sram.spatial_x) <= {"K"} and set(sram.spatial_y) <= {"C"}


def test_padding_searches_imperfect_factors_and_counts_waste():
    assert smooth_at_least(13) == 14 and smooth_at_least(17) == 18 and smooth_at_least(64) == 64
    layer = conv2d("odd", 13, 26, 15, 3)  # C = 13 and P = Q = 13 are prime
    space = MappingSpace(layer, HW, "ws", pad=True)
    assert space.sizes["C"] == 14 and space.sizes["P"] == 14 and space.sizes["K"] == 27
    res = map_layer(layer, HW, budget=3000, pad=True)
    assert res.cost.macs >= res.cost.useful_macs
    assert evaluate(layer, HW, res.mapping).cycles == res.cost.cycles
    with pytest.raises(SpecError, match="padded size"):
        MappingSpace(layer, HW, "ws", pad={"C": 12})


def test_pareto_and_reproducibility():
    layer = conv2d("c", 16, 32, 10, 3)
    a = map_layer(layer, HW, objective="pareto", search="anneal", budget=6000, seed=4)
    b = map_layer(layer, HW, objective="pareto", search="anneal", budget=6000, seed=4)
    assert [(c, e) for c, e, _ in a.search.front] == [(c, e) for c, e, _ in b.search.front]
    fast = min(a.search.front, key=lambda p: p[0])
    frugal = min(a.search.front, key=lambda p: p[1])
    assert fast[0] <= frugal[0] and frugal[1] <= fast[1]
