"""Hierarchy spec: presets load, derived arrays are right, bad YAML names file and key path."""

from __future__ import annotations

import pytest

from acceldse.simulator.specs.hierarchy_loader import hierarchy_presets, load_hierarchy
from acceldse.workloads.errors import SpecError


def test_presets_load():
    assert {"eyeriss_like", "simple_ws_32x32"} <= set(hierarchy_presets())
    eyeriss = load_hierarchy("eyeriss_like")
    assert eyeriss.num_macs == 14 * 12
    assert [lv.name for lv in eyeriss.levels] == ["DRAM", "shared_glb", "pe_column", "ifmap_spad",
                                                  "weights_spad", "psum_spad"]
    hw = eyeriss.arrays()
    assert hw.fanout[1].tolist() == [14, 1] and hw.fanout[2].tolist() == [1, 12]
    assert hw.energy[0, 0, 0] == 512.0 and hw.energy[1, 0, 0] == 18.183829 and hw.energy[1, 2, 2] == 14.137929
    assert hw.clusters.tolist() == [1, 1, 14, 168, 168, 168]
    assert hw.block.tolist() == [8, 8, 1, 2, 2, 1]
    assert load_hierarchy("simple_ws_32x32").num_macs == 1024


def _write(tmp_path, text):
    path = tmp_path / "h.yaml"
    path.write_text(text)
    return path


BASE = """version: 1
name: t
levels:
  - name: DRAM
  - name: buf
    capacity_words: {cap}
    instances: {inst}
    mesh_x: {mx}
compute: {{energy_pj: 0.2}}
"""


@pytest.mark.parametrize("fields,key", [
    ({"cap": "-3", "inst": 1, "mx": 1}, "levels[1].capacity_words"),
    ({"cap": "{inputs: 0}", "inst": 1, "mx": 1}, "levels[1].capacity_words.inputs"),
    ({"cap": "{bogus: 4}", "inst": 1, "mx": 1}, "levels[1].capacity_words.bogus"),
    ({"cap": "10", "inst": 4, "mx": 3}, "levels[1].mesh_x"),
    ({"cap": "ten", "inst": 1, "mx": 1}, "levels[1].capacity_words"),
])
def test_bad_yaml_names_file_and_key(tmp_path, fields, key):
    path = _write(tmp_path, BASE.format(**fields))
    with pytest.raises(SpecError) as err:
        load_hierarchy(path)
    assert err.value.key == key
    assert str(path) in str(err.value)


def test_unknown_key_version_and_preset(tmp_path):
    with pytest.raises(SpecError, match="unknown key"):
        load_hierarchy(_write(tmp_path, "version: 1\nlevels: [{name: DRAM, capcity_words: 3}]\n"))
    with pytest.raises(SpecError, match="version"):
        load_hierarchy(_write(tmp_path, "version: 7\nlevels: [{name: DRAM}]\n"))
    with pytest.raises(SpecError, match="outermost level must keep"):
        load_hierarchy(_write(tmp_path, "version: 1\nlevels: [{name: DRAM, keeps: [inputs]}]\n"))
    with pytest.raises(SpecError, match="unknown hierarchy preset"):
        load_hierarchy("no_such_preset")
    with pytest.raises(SpecError, match="energy_pj.inputs.wrote"):
        load_hierarchy(_write(tmp_path, "version: 1\nlevels: [{name: DRAM, energy_pj: {inputs: {wrote: 1}}}]\n"))


def test_always_keeps_round_trips_and_binds_the_search():
    """``always_keeps`` (Timeloop's ``keep`` constraints): saved and read back, checked against
    ``keeps``, and the mapping space never bypasses it."""
    import numpy as np

    from acceldse.mapper.space import MappingSpace
    from acceldse.simulator.specs.hierarchy_loader import build_hierarchy
    from acceldse.workloads.layer import conv2d

    data = load_hierarchy("eyeriss_like").to_dict()
    glb = next(lv for lv in data["levels"] if lv["name"] == "shared_glb")
    glb["always_keeps"] = ["inputs"]
    hierarchy = build_hierarchy(data, source="test")
    assert hierarchy.to_dict() == data
    lvl = hierarchy.level_index("shared_glb")
    layer = conv2d("c", 16, 16, 14, 3)
    keep = MappingSpace(layer, hierarchy).random(300, np.random.default_rng(0)).keep
    assert keep[:, lvl, 0].all()
    next(lv for lv in data["levels"] if lv["name"] == "ifmap_spad")["always_keeps"] = ["weights"]
    with pytest.raises(SpecError, match="always_keeps"):
        build_hierarchy(data, source="test")
