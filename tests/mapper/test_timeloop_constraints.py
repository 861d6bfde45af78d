"""Timeloop's mapspace constraints beyond fixed factors, honoured by every search -- or refused.

Factor bounds (``K<=4``, ``P>=2``, ``default_max_factor``, ``default_min_factor``) and the minimum
parallelism of a ``utilization`` / ``parallelism`` constraint cannot be expressed by where prime
factors may go, so ``MappingSpace.admissible`` makes a candidate outside them illegal. The check
here is independent of that code: exhaustive enumeration of a 2020-tutorial exercise with the
constraints must find the same best mapping as exhaustive enumeration without them, filtered by the
constraints as Timeloop states them (read off the decoded loop factors in this file). Everything
Timeloop's parser reads that is not modelled is one ``SpecError`` line.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from test_golden_timeloop import GOLDEN_DIR

from acceldse.mapper.search import Evaluator, enumerate_space
from acceldse.mapper.space import MappingSpace
from acceldse.mapper.timeloop import load_timeloop
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS

EX = GOLDEN_DIR / "exercises" / "2020"
TEMPORAL = EX / "05-mapper-conv1d+oc-3level" / "null"     # MainMemory > GlobalBuffer > RegisterFile, K32 P16 R3
SPATIAL = EX / "04-model-conv1d+oc-3levelspatial" / "cp"   # ... GlobalBuffer x16 > RegisterFile


def _spec(folder: Path, tmp_path: Path, targets: list[dict], **top: object):  # type: ignore[no-untyped-def]
    doc = yaml.safe_load((folder / "parsed-processed-input.yaml").read_text())
    doc.pop("mapping", None)
    doc["architecture_constraints"] = {"targets": targets}
    doc.update(top)
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(doc))
    prefix = "timeloop-mapper" if (folder / "timeloop-mapper.ERT.yaml").exists() else "timeloop-model"
    return load_timeloop([path, folder / f"{prefix}.ERT.yaml"], require_mapping=False)


def _exhaustive_best(spec, constraints, keep=None) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """(best EDP, candidates scored legal) over the whole space under ``constraints``; ``keep`` filters
    the candidates first (mask over a decoded batch)."""
    space = MappingSpace(spec.layer, spec.search_hierarchy, None, constraints=constraints)
    ev = Evaluator(space, "edp")
    for batch in enumerate_space(space):
        if keep is not None:
            batch = batch.take(np.flatnonzero(keep(batch, spec)))
        if batch.batch:
            ev.arrays(batch)
    return ev.best_value, ev.valid


@pytest.mark.slow
def test_factor_bounds_bind_the_search_exactly(tmp_path):
    small = {"target": "MainMemory", "type": "temporal", "factors": "R=1 P=1"}   # a smaller space to enumerate
    spec = _spec(TEMPORAL, tmp_path, [
        small, {"target": "GlobalBuffer", "type": "temporal", "factors": "K<=4 P>=2"},
        {"target": "RegisterFile", "type": "temporal", "factors": "P<=4", "default_min_factor": 2},
    ])
    assert {c.level: (c.min_factors, c.max_factors) for c in spec.loop_constraints[1:]} == {
        "GlobalBuffer": ({"P": 2}, {"K": 4}),
        "RegisterFile": ({"K": 2, "P": 2, "R": 2}, {"P": 4})}   # the default: every rank of the problem
    glb, rf = (spec.hierarchy.level_index(n) for n in ("GlobalBuffer", "RegisterFile"))
    k, p, r = (DIMS.index(d) for d in "KPR")

    def within(a, _spec):  # type: ignore[no-untyped-def]
        t = a.temporal
        return (t[:, glb, k] <= 4) & (t[:, glb, p] >= 2) & (t[:, rf, p] <= 4) & (t[:, rf, [k, p, r]] >= 2).all(axis=1)

    assert _exhaustive_best(spec, spec.loop_constraints) == _exhaustive_best(spec, spec.loop_constraints[:1],
                                                                            keep=within)

    bounded = _spec(TEMPORAL, tmp_path, [
        small, {"target": "GlobalBuffer", "type": "temporal", "factors": "K<=4 P>=2"},
        {"target": "RegisterFile", "type": "temporal", "factors": "P<=4 R>=3 K>=2"},
    ])

    def obeys(a, _spec):  # type: ignore[no-untyped-def]
        t = a.temporal
        return (t[:, glb, k] <= 4) & (t[:, glb, p] >= 2) & (t[:, rf, p] <= 4) & (t[:, rf, r] >= 3) \
            & (t[:, rf, k] >= 2)

    best, legal = _exhaustive_best(bounded, bounded.loop_constraints)
    assert 0 < legal < _exhaustive_best(bounded, bounded.loop_constraints[:1])[1]
    assert (best, legal) == _exhaustive_best(bounded, bounded.loop_constraints[:1], keep=obeys)


def test_min_parallelism_binds_the_search_exactly(tmp_path):
    """``utilization`` at the innermost storage level (Timeloop's rule): used PEs / all PEs >= min."""
    fixed = [{"target": "MainMemory", "type": "temporal", "factors": "K=1 C=1 P=1 R=1"},   # a small space
             {"target": "RegisterFile", "type": "temporal", "factors": "P=16 R=3"}]
    spec = _spec(SPATIAL, tmp_path, [*fixed, {"target": "RegisterFile", "type": "utilization", "min": 0.5}])
    assert [c.min_parallelism for c in spec.loop_constraints if c.kind == "parallelism"] == [0.5]
    free = spec.loop_constraints[:2]

    def busy(a, _spec):  # type: ignore[no-untyped-def]
        return (a.spatial_x * a.spatial_y).prod(axis=(1, 2)) >= 8   # of 16 PEs

    constrained = _exhaustive_best(spec, spec.loop_constraints)
    assert 0 < constrained[1] < _exhaustive_best(spec, free)[1]
    assert constrained == _exhaustive_best(spec, free, keep=busy)
    with pytest.raises(SpecError, match="innermost storage level"):
        _spec(SPATIAL, tmp_path, [{"target": "GlobalBuffer", "type": "parallelism", "min": 0.5}])


def test_run_timeloop_finds_a_mapping_inside_the_bounds(tmp_path):
    from acceldse.mapper.timeloop import run_timeloop

    doc = yaml.safe_load((SPATIAL / "parsed-processed-input.yaml").read_text())
    doc.pop("mapping")
    doc["mapspace"] = {"template": "uber", "targets": [
        {"target": "RegisterFile", "type": "utilization", "min": 1.0},
        {"target": "GlobalBuffer", "type": "temporal", "factors": "K<=8"}]}
    (tmp_path / "in.yaml").write_text(yaml.safe_dump(doc))
    run = run_timeloop([tmp_path / "in.yaml", SPATIAL / "timeloop-model.ERT.yaml"], search="ga", budget=2000, seed=0)
    glb = run.mapping.levels[[lv.name for lv in run.hierarchy.levels].index("GlobalBuffer")]
    assert glb.temporal.get("K", 1) <= 8
    used = 1
    for lv in run.mapping.levels:
        for f in (*lv.spatial_x.values(), *lv.spatial_y.values()):
            used *= f
    assert used == 16 and not run.unapplied_constraints


@pytest.mark.parametrize(("edit", "words"), [
    ({"mapspace": {"template": "ruby"}}, "imperfect factorizations"),
    ({"mapspace": {"template": "hyper"}}, "unsupported mapspace template"),
    ({"mapspace": {"template": "uber"}, "mapspace_constraints": {"targets": []}}, "both 'mapspace'"),
])
def test_mapspace_templates(tmp_path, edit, words):
    with pytest.raises(SpecError, match=words):
        _spec(TEMPORAL, tmp_path, [], **copy.deepcopy(edit))


@pytest.mark.parametrize(("target", "words"), [
    ({"target": "Nowhere", "type": "temporal", "factors": "K=2"}, "not a level"),
    ({"target": "Nowhere", "type": "bypass", "bypass": ["Inputs"]}, "not a level"),
    ({"target": "GlobalBuffer", "type": "tiling", "factors": "K=2"}, "unknown constraint type"),
    ({"target": "GlobalBuffer", "type": "temporal", "factors": "K<2"}, "only <= and >="),
    ({"target": "GlobalBuffer", "type": "temporal", "factors": "K=2", "maximize_dims": [["P"]]},
     "unsupported constraint field"),
    ({"target": "GlobalBuffer", "type": "temporal", "no_temporal_reuse": ["Inputs"]}, "no_temporal_reuse"),
    ({"target": "RegisterFile", "type": "utilization", "min": 2}, "fraction"),
])
def test_constraints_timeloop_reads_but_we_do_not_model_are_refused(tmp_path, target, words):
    with pytest.raises(SpecError, match=words):
        _spec(TEMPORAL, tmp_path, [target])


def test_a_factor_above_the_rank_size_is_dropped_as_timeloop_drops_it(tmp_path):
    """Timeloop warns and ignores ``K=64`` of a K of 32 (the sparse tensor core example relies on it)."""
    spec = _spec(TEMPORAL, tmp_path, [{"target": "GlobalBuffer", "type": "temporal", "factors": "K=64 P=2"}])
    assert spec.loop_constraints[0].factors == {"P": 2}
    assert spec.unapplied_constraints == ("factor K=64 on GlobalBuffer (above the size 32 of K; Timeloop ignores "
                                          "it too)",)


def test_a_fixed_factor_that_does_not_divide_is_refused_as_imperfect(tmp_path):
    """Timeloop's uber mapspace would factor K=5 of 32 imperfectly (residual tiles): refused."""
    spec = _spec(TEMPORAL, tmp_path, [{"target": "GlobalBuffer", "type": "temporal", "factors": "K=5"}])
    with pytest.raises(SpecError, match="imperfectly"):
        MappingSpace(spec.layer, spec.search_hierarchy, None, constraints=spec.loop_constraints)


def test_timeloopfe_macros_expand_as_timeloopfe_documents_them():
    """``factors_only`` (others 1), ``no_iteration_over_dataspaces`` (their ranks 1),
    ``must_iterate_over_dataspaces`` (other ranks 1) and ``maximize_dims`` (greedy, whole prime
    factors first; 96 over a capacity of 8 -> 8, then P=7 gets the 1 left; the 2024 tutorial's
    M, C over 8 PEs -> M=8, C=1 is checked against its parsed input in test_timeloopfe_inputs)."""
    from acceldse.mapper.timeloop.macros import expand_macros

    problem = {"shape": {"dimensions": ["C", "M", "P"],
                         "data_spaces": [{"name": "W", "projection": [[["C"]], [["M"]]]},
                                         {"name": "O", "projection": [[["M"]], [["P"]]]}]},
               "instance": {"C": 64, "M": 96, "P": 7}}
    targets = [{"target": "a", "type": "temporal", "factors_only": ["C=4"]},
               {"target": "b", "type": "temporal", "no_iteration_over_dataspaces": ["W"]},
               {"target": "c", "type": "temporal", "must_iterate_over_dataspaces": ["O"]},
               {"target": "d", "type": "spatial", "maximize_dims": [["M"], ["P"]], "maximize_dims_capacity": 8}]
    expand_macros(targets, problem, source="t")
    assert [t["factors"] for t in targets] == ["C=4,M=1,P=1", "C=1,M=1", "C=1", "M=8,P=1"]
    with pytest.raises(SpecError, match="maximize_dims_capacity"):
        expand_macros([{"target": "e", "type": "temporal", "maximize_dims": [["M"]]}], problem, source="t")
