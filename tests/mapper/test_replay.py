"""Agreement: the analytical cost of a mapping matches its event-fidelity replay (exact where nothing contends)."""

from __future__ import annotations

from pathlib import Path

from acceldse.mapper.api import map_layer
from acceldse.mapper.mapping import Mapping
from acceldse.mapper.replay import replay_event
from acceldse.mapper.tiles import tile_schedule
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.layer import conv2d

GOLDEN = Path(__file__).parents[2] / "mapper" / "presets" / "eyeriss_like_golden.yaml"


def test_golden_replay_is_exact():
    layer = conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1))
    res = replay_event(layer, load_hierarchy("eyeriss_like"), Mapping.from_yaml(GOLDEN))
    assert res.cycles == res.analytical_cycles == res.pipelined_cycles == 86_016
    assert res.stall_cycles == 0 and res.steps == 64


def test_best_mapping_replay_brackets_analytical():
    layer = conv2d("l", 64, 64, 28, 3, padding=1)
    hierarchy = load_hierarchy("simple_ws_32x32")
    best = map_layer(layer, hierarchy, search="ga", budget=20_000, seed=0)
    res = replay_event(layer, hierarchy, best.mapping)
    sched = tile_schedule(layer, hierarchy, best.mapping)
    # the event run adds only the pipeline fill (first load) and drain (last write-backs) to the
    # roofline when transfers are spread evenly; it can never beat the analytical bound
    fill = -(-int(sched.dram_read_words[0].sum()) // 16)
    drain = -(-int(sched.dram_update_words[-2:].sum()) // 16)
    assert res.analytical_cycles <= res.cycles
    assert res.cycles == res.pipelined_cycles  # event == closed-form recurrence, exactly
    assert res.cycles <= res.analytical_cycles + fill + drain + res.steps  # + ceil per step


def test_event_equals_pipelined_recurrence_on_many_best_mappings():
    hierarchy = load_hierarchy("simple_ws_32x32")
    for i, (cin, cout, hw, k) in enumerate([(16, 32, 30, 3), (64, 128, 14, 1), (128, 128, 16, 3), (3, 64, 32, 7)]):
        layer = conv2d(f"l{i}", cin, cout, hw, k)
        best = map_layer(layer, hierarchy, objective="latency", budget=5000, seed=i)
        res = replay_event(layer, hierarchy, best.mapping)
        assert res.cycles == res.pipelined_cycles >= res.analytical_cycles
