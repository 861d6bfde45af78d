"""Illegal mappings and bad arguments are rejected with messages naming level, dataspace and excess."""

from __future__ import annotations

from pathlib import Path

import pytest

from acceldse.mapper.api import map_layer
from acceldse.mapper.cost import evaluate
from acceldse.mapper.mapping import Mapping
from acceldse.mapper.search import run_search
from acceldse.mapper.space import MappingSpace
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, pool2d

GOLDEN = Path(__file__).parents[2] / "mapper" / "presets" / "eyeriss_like_golden.yaml"
LAYER = conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1))
EYERISS = load_hierarchy("eyeriss_like")


def _golden_with(level: str, **changes) -> Mapping:
    text = GOLDEN.read_text()
    mapping = Mapping.from_yaml(text)
    levels = []
    for lm in mapping.levels:
        if lm.level == level:
            lm = type(lm)(**{**lm.__dict__, **changes})
        levels.append(lm)
    return Mapping(tuple(levels))


def test_over_capacity_names_level_dataspace_and_excess():
    # psum_spad holds K=16 outputs x ... : K 8 -> 16 at psum_spad, 4 -> 2 at DRAM keeps K covered.
    bad = _golden_with("psum_spad", temporal={"K": 32})
    bad = Mapping(tuple(lm if lm.level != "DRAM" else type(lm)(**{**lm.__dict__, "temporal": {"P": 8, "Q": 2}})
                        for lm in bad.levels))
    with pytest.raises(SpecError, match=r"level 'psum_spad', dataspace outputs: tiles need 32 words, "
                                        r"capacity 16 \(over by 16\)"):
        evaluate(LAYER, EYERISS, bad)


def test_over_fanout_names_level_and_excess():
    bad = _golden_with("shared_glb", spatial_x={"Q": 28}, temporal={"P": 14, "Q": 2})
    with pytest.raises(SpecError, match=r"level 'shared_glb': spatial-X factors need 28 .* fan-out is 14 "
                                        r"\(over by 14\)"):
        evaluate(LAYER, EYERISS, bad)


def test_factors_not_covering_dims():
    bad = _golden_with("weights_spad", temporal={"R": 1})
    with pytest.raises(SpecError, match=r"factors of R multiply to 1, short of the layer's R=3 by 2"):
        evaluate(LAYER, EYERISS, bad)


def test_shared_capacity_and_keep_rules():
    bad = _golden_with("shared_glb", keeps=["inputs", "outputs", "weights"], temporal={"P": 112, "Q": 8})
    bad = Mapping(tuple(lm if lm.level != "DRAM" else type(lm)(**{**lm.__dict__, "temporal": {"K": 4}})
                        for lm in bad.levels))
    with pytest.raises(SpecError, match=r"level 'shared_glb', dataspaces inputs \+ weights \+ outputs: .* "
                                        r"capacity 131072 "
                                        r"\(over by \d+\)"):
        evaluate(LAYER, EYERISS, bad)
    with pytest.raises(SpecError, match=r"level 'ifmap_spad' cannot keep weights"):
        evaluate(LAYER, EYERISS, _golden_with("ifmap_spad", keeps=["inputs", "weights"]))
    with pytest.raises(SpecError, match=r"outermost\) must keep outputs"):
        evaluate(LAYER, EYERISS, _golden_with("DRAM", keeps=["inputs", "weights"]))


def test_per_dataspace_capacity():
    layer = conv2d("c", 64, 64, 8, 1)
    hierarchy = load_hierarchy("simple_ws_32x32")
    bad = Mapping.from_yaml("version: 1\nmapping:\n- {level: DRAM, temporal: {K: 4, C: 4, P: 8}}\n"
                            "- {level: sram, spatial_x: {K: 16}, spatial_y: {C: 16}}\n"
                            "- {level: pe_reg, temporal: {Q: 8}}\n")
    with pytest.raises(SpecError, match=r"level 'pe_reg', dataspace inputs: tile needs 8 words, capacity 4 "
                                        r"\(over by 4\)"):
        evaluate(layer, hierarchy, bad)


def test_imperfect_factors_pad_and_count_the_waste():
    # Q = 112 covered by 2 x 4 x 15 = 120: legal, the 8 padded columns are wasted MACs
    padded = _golden_with("shared_glb", spatial_x={"Q": 14}, temporal={"P": 14, "Q": 5})
    res = evaluate(LAYER, EYERISS, padded)
    assert res.macs == LAYER.macs // 112 * 140 > res.useful_macs


@pytest.mark.parametrize("text,match", [
    ("version: 1\nmapping: [{level: DRAM, temporal: {M: 4}}]\n", r"mapping\[0\]\.temporal\.M: unknown loop"),
    ("version: 1\nmapping: [{level: DRAM, temporal: {K: 0}}]\n", r"mapping\[0\]\.temporal\.K: must be >= 1"),
    ("version: 1\nmapping: [{level: DRAM, order: [K, K]}]\n", r"order must list distinct dims"),
    ("version: 1\nmapping: [{level: DRAM, keep: [inputs]}]\n", r"unknown key"),
    ("version: 2\nmapping: []\n", r"version"),
])
def test_bad_mapping_yaml(text, match):
    with pytest.raises(SpecError, match=match):
        Mapping.from_yaml(text)


def test_unknown_level_method_objective_and_no_mac_layer():
    with pytest.raises(SpecError, match="unknown level"):
        Mapping.from_yaml("version: 1\nmapping: [{level: L3}]\n").to_arrays(EYERISS)
    space = MappingSpace(LAYER, EYERISS, "rs")
    with pytest.raises(SpecError, match="unknown search method"):
        run_search(space, "tabu")
    with pytest.raises(SpecError, match="unknown objective"):
        run_search(space, "ga", "power")
    with pytest.raises(SpecError, match="budget"):
        run_search(space, "ga", "edp", 0)
    with pytest.raises(SpecError, match="no MACs"):
        map_layer(pool2d("pool", 8, 8, 2), EYERISS)
    with pytest.raises(SpecError, match="unknown dataflow"):
        map_layer(LAYER, EYERISS, dataflow="diagonal")


def test_double_buffering_doubles_the_footprint():
    fits = _golden_with("psum_spad", temporal={"K": 16})
    fits = Mapping(tuple(lm if lm.level != "DRAM" else type(lm)(**{**lm.__dict__, "temporal": {"P": 8, "Q": 2,
                                                                                               "K": 2}})
                         for lm in fits.levels))
    assert evaluate(LAYER, EYERISS, fits).counts.set_index("level").loc["psum_spad"].tile_words == 16
    doubled = Mapping(tuple(lm if lm.level != "psum_spad" else type(lm)(**{**lm.__dict__, "double_buffered": True})
                            for lm in fits.levels))
    with pytest.raises(SpecError, match=r"level 'psum_spad', dataspace outputs: tiles need 32 words, capacity 16"):
        evaluate(LAYER, EYERISS, doubled)
