"""Sparseloop's model inside the batched search: a batch scored by ``SparseModel.evaluate_many`` gives,
mapping by mapping, exactly what the per-mapping model gives (the one exact on the 12 Sparseloop
exercises, ``test_sparseloop_exercises.py``), and ``acceldse map --timeloop`` searches a Sparseloop
exercise whose mapping is left out."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.mapper.cost import evaluate
from acceldse.mapper.legality import OK
from acceldse.mapper.mapping import Mapping
from acceldse.mapper.space import MappingSpace
from acceldse.mapper.sparse.batched import OVER_CAPACITY, REJECTED
from acceldse.mapper.timeloop import evaluate_sparse, load_timeloop, run_timeloop
from acceldse.mapper.timeloop.sparse_model import SparseModel
from acceldse.workloads.errors import SpecError

ROOT = Path(__file__).parents[1] / "golden" / "timeloop" / "exercises" / "sparseloop"
FOLDERS = tuple(sorted(p.name for p in ROOT.iterdir() if "DUDU" not in p.name))
INPUTS = ("parsed-processed-input.yaml", "timeloop-mapper.ERT.yaml", "timeloop-mapper.ART.yaml")


@functools.cache
def _model(folder: str, constrained: bool) -> tuple[SparseModel, MappingSpace]:
    spec = load_timeloop([ROOT / folder / f for f in (*INPUTS, "timeloop-mapper.map.yaml")])
    model = SparseModel(spec)
    return model, MappingSpace(spec.layer, model.relax(spec.search_hierarchy or spec.hierarchy), None,
                               constraints=spec.loop_constraints if constrained else ())


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(st.sampled_from(FOLDERS), st.booleans(), st.integers(0, 2**31))
def test_batched_sparse_cost_equals_the_per_mapping_model(folder, constrained, seed):
    """Random mappings of a Sparseloop exercise (in the exercise's mapspace constraints or in the
    whole space): every legal one's batched (cycles, energy) is the per-mapping model's; every one
    the batch rejects (formats that do not fit its tiles, compressed tiles over capacity), the
    per-mapping model refuses."""
    model, space = _model(folder, constrained)
    arrays = space.decode(space.random(10, np.random.default_rng(seed)))
    cycles, energy, code = model.evaluate_many(arrays)
    spec = model.spec
    for k in range(arrays.batch):
        if code[k] not in (OK, REJECTED, OVER_CAPACITY):
            continue
        mapping = Mapping.from_arrays(arrays.take(k), spec.hierarchy)
        dense = evaluate(spec.layer, model.relaxed, mapping)
        if code[k] == OK:
            result = evaluate_sparse(replace(spec, mapping=mapping), dense)
            assert (result.cycles, result.energy_pj) == (cycles[k], energy[k])
            assert model.evaluate(mapping)[1].energy_pj == energy[k]
        else:
            with pytest.raises(SpecError):
                model.evaluate(mapping)


@pytest.mark.slow
def test_map_searches_a_sparseloop_exercise_without_its_mapping(capsys, tmp_path):
    """``acceldse map --timeloop`` on spMspM without its map.yaml searches on Sparseloop's cycles and
    energy: the mapping found is at least as good as the one Sparseloop's mapper chose."""
    from acceldse.cli import main

    folder = ROOT / "02.2.1-spMspM"
    given_run = run_timeloop([folder / f for f in (*INPUTS, "timeloop-mapper.map.yaml")])
    assert main(["map", "--timeloop", *(str(folder / f) for f in INPUTS), "--search", "random", "--budget", "150",
                 "--objective", "edp", "--no-nest", "--save-mappings", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Actual Computes (total)" in out
    run = run_timeloop([folder / f for f in INPUTS], search="random", budget=150, objective="edp")
    assert run.searched and run.sparse is not None
    assert run.sparse.cycles * run.sparse.energy_pj <= given_run.sparse.cycles * given_run.sparse.energy_pj
    assert f"Cycles: {run.sparse.cycles}" in out
    saved = list(tmp_path.glob("*.yaml"))      # the mapping found, as a YAML acceldse reads back
    assert len(saved) == 1
    back, found = Mapping.from_yaml(saved[0]).to_arrays(run.hierarchy), run.mapping.to_arrays(run.hierarchy)
    assert (back.temporal == found.temporal).all() and (back.keep == found.keep).all()


def test_native_sparse_search_on_a_zoo_layer():
    """Eyeriss v1 (acceldse's preset) with its RLC-compressed DRAM activations and weight reads gated on
    zero inputs: the batch equals the per-mapping analysis (``design_for``), and a random search on
    Sparseloop's EDP, over the same candidates as the dense search, finds a mapping whose sparse EDP
    is no worse than that of the dense search's choice."""
    from acceldse.mapper.api import map_layer
    from acceldse.mapper.sparse import analyse
    from acceldse.mapper.sparse.batched import native
    from acceldse.mapper.sparse.native import design_for
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.validation.silicon import eyeriss_sparse_features
    from acceldse.workloads.loader import load_workload

    layer = next(lay for lay in load_workload("alexnet") if lay.macs and lay.name != "conv1")
    chip = load_hierarchy("eyeriss-v1")  # its always_keeps relaxed: few of 64 random mappings would be legal
    hierarchy = chip.replace(levels={lv.name: {"always_keeps": []} for lv in chip.levels if lv.always_keeps})
    features = eyeriss_sparse_features(layer)
    model = native(layer, hierarchy, **features)
    space = MappingSpace(layer, model.relaxed, "rs")
    arrays = space.decode(space.random(64, np.random.default_rng(0)))
    cycles, energy, code = model.evaluate_many(arrays)
    legal = np.flatnonzero(code == OK)
    assert legal.size
    for k in legal[:6]:
        mapping = Mapping.from_arrays(arrays.take(k), hierarchy)
        result = analyse(design_for(layer, hierarchy, mapping, evaluate(layer, model.relaxed, mapping), **features))
        assert (result.cycles, result.energy_pj) == (cycles[k], energy[k])
    kw = {"dataflow": "rs", "search": "random", "budget": 256, "seed": 3, "objective": "edp"}
    sparse = map_layer(layer, model.relaxed, cost_model=model.evaluate_many, **kw)
    dense = map_layer(layer, hierarchy, **kw)
    found, of_dense = model.evaluate(sparse.mapping)[1], model.evaluate(dense.mapping)[1]
    assert found.cycles * found.energy_pj <= of_dense.cycles * of_dense.energy_pj
    assert found.energy_pj < sparse.cost.energy_pj      # compression and gating save energy


@pytest.mark.slow
def test_sparse_search_beats_sparseloops_mapper_on_the_mapspace_exercise():
    """Eyeriss-like with weight gating, the exercise Sparseloop's own mapper searched: under the same
    mapspace constraints, a hybrid search on Sparseloop's EDP finds a better mapping than the one it
    chose (3,534.03 uJ at 4,672,512 cycles): 1,969.86 uJ at the same cycles (docs/mapper.md)."""
    folder = ROOT / "04.2.2-eyeriss-like-gating-mapspace-search"
    run = run_timeloop([folder / f for f in INPUTS], search="hybrid", budget=3000, objective="edp", seed=0)
    assert (run.sparse.cycles, round(run.sparse.energy_pj / 1e6, 2)) == (4_672_512, 1_969.86)
    chosen = run_timeloop([folder / f for f in (*INPUTS, "timeloop-mapper.map.yaml")]).sparse
    assert (chosen.cycles, round(chosen.energy_pj / 1e6, 2)) == (4_672_512, 3_534.03)


@pytest.mark.slow
def test_bench_mapper_times_sparsity_on_and_off(capsys):
    """``benchmarks/bench_mapper.py --sparse-only`` (the sparse on / off rates docs/mapper.md quotes) runs end to
    end at a tiny size: a row per Sparseloop exercise and zoo layer, every rate measured."""
    import importlib.util

    path = Path(__file__).parents[2] / "benchmarks" / "bench_mapper.py"
    spec = importlib.util.spec_from_file_location("bench_mapper", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--sparse-only", "--sparse-mappings", "4", "--repeats", "1", "--sparse-budget", "40"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith(tuple(name for name, _ in bench.SPARSE_EXERCISES)) or line.startswith("resnet18")]
    assert len(rows) == len(bench.SPARSE_EXERCISES) + len(bench.SPARSE_ZOO)
    for row in rows:
        rates = [float(x.replace(",", "")) for x in row if x.replace(",", "").replace(".", "").isdigit()]
        assert len(rates) >= 5 and all(r > 0 for r in rates[1:]), row
