"""Goldens beyond the published layers: timeloop-model on new layers and new mappings.

``tests/golden/timeloop/generated/<design>/<case>/`` holds the complete timeloop-model input
(architecture, problem, mapping and ERT/ART of the design's published reference) and the figures
Timeloop printed for it (``stats.json``), made by ``benchmarks/make_timeloop_golden.py`` with
Timeloop 0fc43fb (README there). acceldse loads the same input file unchanged
(``mapper.timeloop.load_timeloop``), evaluates the same mapping and must reproduce every
per-level, per-dataspace count and the cycles exactly and every energy component within 1 %
(on all 20 cases it does: no documented difference is needed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acceldse.mapper.cost import evaluate
from acceldse.mapper.timeloop import load_timeloop

GENERATED = Path(__file__).parents[1] / "golden" / "timeloop" / "generated"
CASES = sorted((p.parent.parent.name, p.parent.name) for p in GENERATED.glob("*/*/stats.json"))

@pytest.fixture(scope="module", params=CASES, ids=["/".join(c) for c in CASES])
def case(request):
    design, name = request.param
    folder = GENERATED / design / name
    spec = load_timeloop([folder / "timeloop-model.input.yaml"])
    ref = json.loads((folder / "stats.json").read_text())
    return design, name, spec, evaluate(spec.layer, spec.hierarchy, spec.mapping), ref


def _rows(ref: dict) -> dict:
    return {(lv, ds): f for lv, info in ref["levels"].items() for ds, f in info["dataspaces"].items()}


def test_generated_goldens_cover_every_design_and_layer_kind() -> None:
    designs = {d for d, _ in CASES}
    assert {"simple_weight_stationary", "simple_output_stationary", "eyeriss_like"} <= designs
    assert len(CASES) == 20 and {n for _, n in CASES} == {"conv3x3_odd13", "pointwise_1x1", "conv3x3_s2_batch4",
                                                          "odd_5x3_batch2", "published_layer_energy_map"}


def test_every_count_exact(case) -> None:
    _, _, _, result, ref = case
    ours = {(r.level, r.dataspace): (r.tile_words, r.reads, r.fills, r.updates) for r in result.counts.itertuples()}
    theirs = {k: (f["tile_words"], f["reads"], f["fills"], f["updates"]) for k, f in _rows(ref).items()}
    assert ours == theirs


def test_cycles_and_computes_exact(case) -> None:
    _, _, spec, result, ref = case
    assert result.cycles == ref["summary"]["cycles"]
    assert result.macs == ref["mac"]["Computes (total)"]
    assert result.utilised_pes == ref["mac"]["Utilized instances"]
    # the slowest level sets the cycles: on eyeriss_like conv3x3_s2_batch4 / odd_5x3_batch2 the
    # shared_glb's bandwidth (2,254 / 2,141) and not the 1,344 / 1,650 compute cycles
    assert max(info["cycles"] for info in ref["levels"].values()) == result.cycles
    assert round(100 * result.macs / (result.cycles * spec.hierarchy.num_macs), 2) == ref["summary"]["utilization"]


def test_every_energy_component_within_one_percent(case) -> None:
    _, _, _, result, ref = case
    ours = result.energy_by_component()
    for (lv, ds), f in _rows(ref).items():
        assert ours[f"{lv}.{ds}"] == pytest.approx(f["energy_pj"], rel=0.01, abs=1e-6), (lv, ds)
    assert ours["mac"] == pytest.approx(ref["mac"]["Energy (total)"], rel=0.01)
    # the summary prints uJ with two decimals
    assert result.energy_pj / 1e6 == pytest.approx(ref["summary"]["energy"], rel=0.01, abs=0.005)


def test_bandwidth_bound_levels_are_reproduced() -> None:
    """Two new eyeriss_like layers are bound by the shared_glb's bandwidth, not by compute."""
    for name, compute, total in (("conv3x3_s2_batch4", 1_344, 2_254), ("odd_5x3_batch2", 1_650, 2_141)):
        folder = GENERATED / "eyeriss_like" / name
        ref = json.loads((folder / "stats.json").read_text())
        assert (ref["mac"]["Cycles"], ref["levels"]["shared_glb"]["cycles"]) == (compute, total)
        spec = load_timeloop([folder / "timeloop-model.input.yaml"])
        assert evaluate(spec.layer, spec.hierarchy, spec.mapping).cycles == total
