"""Golden check: the eyeriss_like preset evaluating Timeloop's reference mapping reproduces
every per-level count of Timeloop's output, the cycles exactly, and each energy within 1 %
(figures from ../shared/reference/PUBLISHED.md, "Golden mapping")."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.cost import evaluate
from mapper.mapping import Mapping
from simulator.specs.hierarchy_loader import load_hierarchy
from workloads.layer import conv2d

GOLDEN = Path(__file__).parents[2] / "mapper" / "presets" / "eyeriss_like_golden.yaml"

# (level, dataspace): (utilised capacity, reads, fills, updates) per instance, from Timeloop.
COUNTS = {
    ("psum_spad", "outputs"): (8, 57_344, 0, 86_016),
    ("weights_spad", "weights"): (24, 86_016, 1_536, 0),
    ("ifmap_spad", "inputs"): (3, 86_016, 10_752, 0),
    ("shared_glb", "inputs"): (9_831, 1_354_752, 157_296, 0),
    ("shared_glb", "outputs"): (6_272, 0, 0, 401_408),
    ("DRAM", "weights"): (864, 13_824, 0, 0),
    ("DRAM", "inputs"): (151_875, 157_296, 0, 0),
}
ENERGY_PJ = {
    "mac": 2_250_969, "psum_spad.outputs": 4_190_338, "weights_spad.weights": 10_893_306,
    "ifmap_spad.inputs": 1_216_736, "shared_glb.inputs": 3_357_302, "shared_glb.outputs": 709_385,
    "DRAM.weights": 884_736, "DRAM.inputs": 10_066_944,
}


@pytest.fixture(scope="module")
def result():
    layer = conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1))
    assert layer.dims == {"N": 1, "G": 1, "K": 32, "C": 3, "P": 112, "Q": 112, "R": 3, "S": 3}
    return evaluate(layer, load_hierarchy("eyeriss_like"), Mapping.from_yaml(GOLDEN))


@pytest.mark.parametrize("key", list(COUNTS))
def test_counts_match_timeloop(result, key):
    row = result.counts.set_index(["level", "dataspace"]).loc[key]
    assert (row.tile_words, row.reads, row.fills, row.updates) == COUNTS[key]


def test_cycles_macs_and_pes(result):
    assert result.cycles == 86_016
    assert result.macs == result.useful_macs == 10_838_016
    assert result.utilised_pes == 126


@pytest.mark.parametrize("component", list(ENERGY_PJ))
def test_energy_per_component_within_one_percent(result, component):
    ours = result.energy_by_component()[component]
    assert ours == pytest.approx(ENERGY_PJ[component], rel=0.01)


def test_total_energy_and_dram_outputs(result):
    # Total 59.28 uJ = 5,469.65 fJ/MAC; DRAM 3,380.86 fJ/MAC (outputs are the unlisted remainder).
    assert result.energy_pj == pytest.approx(59.28e6, rel=0.01)
    dram = sum(v for k, v in result.energy_by_component().items() if k.startswith("DRAM."))
    assert dram / 10_838_016 == pytest.approx(3_380.86e-3, rel=0.001)


def test_mapping_yaml_round_trip(tmp_path):
    mapping = Mapping.from_yaml(GOLDEN)
    hierarchy = load_hierarchy("eyeriss_like")
    path = tmp_path / "m.yaml"
    mapping.to_yaml(path)
    again = Mapping.from_yaml(path)
    a, b = mapping.to_arrays(hierarchy), again.to_arrays(hierarchy)
    for x, y in zip((a.temporal, a.spatial_x, a.spatial_y, a.keep), (b.temporal, b.spatial_x, b.spatial_y, b.keep)):
        assert (x == y).all()


def test_loop_nest_prints_timeloop_tiles():
    layer = conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1))
    text = Mapping.from_yaml(GOLDEN).loop_nest(layer, load_hierarchy("eyeriss_like"))
    assert "shared_glb [ Inputs:9831 Outputs:6272 ]" in text
    assert "psum_spad [ Outputs:8 ]" in text and "for Q in [0:14) (Spatial-X)" in text
    assert text.rstrip().endswith("<< Compute >>")
