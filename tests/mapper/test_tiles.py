"""The tile schedule (for event-level replay) sums to the analytical counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mapper_fixtures import tiny_hierarchy

from acceldse.mapper.cost import evaluate
from acceldse.mapper.mapping import Mapping
from acceldse.mapper.space import MappingSpace
from acceldse.mapper.tiles import tile_schedule
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.layer import conv2d

GOLDEN = Path(__file__).parents[2] / "mapper" / "presets" / "eyeriss_like_golden.yaml"


def _check(layer, hierarchy, arrays):
    cost = evaluate(layer, hierarchy, arrays)
    sched = tile_schedule(layer, hierarchy, arrays)
    counts = cost.counts.set_index(["level", "dataspace"])
    dram = hierarchy.levels[0].name
    for i, ds in enumerate(("inputs", "weights", "outputs")):
        if (dram, ds) in counts.index:
            assert sched.dram_read_words[:, i].sum() == counts.loc[(dram, ds)].reads
    assert sched.dram_update_words.sum() == counts.loc[(dram, "outputs")].updates
    assert sched.compute_cycles == cost.macs // cost.utilised_pes
    for row in sched.tiles.itertuples():
        c = counts.loc[(row.level, row.dataspace)]
        if row.level != dram and row.dataspace != "outputs":
            assert row.tiles_per_instance * row.tile_words == c.fills
    return sched


def test_golden_schedule():
    layer = conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1))
    sched = _check(layer, load_hierarchy("eyeriss_like"), Mapping.from_yaml(GOLDEN).to_arrays(
        load_hierarchy("eyeriss_like")))
    assert sched.steps == 64 and sched.compute_cycles_per_step == 1344
    # inputs move only when P or Q changes at DRAM (K innermost): 16 steps of one 9,831-word tile
    assert sorted(set(sched.dram_read_words[:, 0].tolist())) == [0, 9831]
    assert (sched.dram_read_words[:, 0] > 0).sum() == 16
    tiles = sched.tiles.set_index(["level", "dataspace"])
    assert tiles.loc[("ifmap_spad", "inputs")].tiles_per_instance == 3584
    assert tiles.loc[("psum_spad", "outputs")].tile_bytes == 16


def test_random_schedules_sum_to_counts():
    hierarchy = tiny_hierarchy()
    layer = conv2d("c", 4, 8, 6, 3)
    space = MappingSpace(layer, hierarchy)
    arrays = space.decode(space.random(20000, np.random.default_rng(5)))
    from acceldse.mapper.cost import evaluate_many

    _, _, code = evaluate_many(layer, hierarchy, arrays)
    for b in np.flatnonzero(code == 0)[:25]:
        _check(layer, hierarchy, arrays.take(b))
