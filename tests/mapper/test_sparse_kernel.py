"""The batched Sparseloop kernel (``mapper.sparse.kernel``) gives, mapping by mapping, exactly the per-mapping
analysis's codes, cycles and energy (the same floats), on random mappings of every Sparseloop exercise (in its
mapspace constraints and in the whole space) and of zoo layers on Eyeriss v1 with its sparse features, and
leaves none of them to the per-mapping path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from acceldse.mapper.space import MappingSpace
from acceldse.mapper.sparse.batched import BatchedSparse, native
from acceldse.mapper.timeloop import load_timeloop
from acceldse.mapper.timeloop.sparse_model import SparseModel

ROOT = Path(__file__).parents[1] / "golden" / "timeloop" / "exercises" / "sparseloop"
FOLDERS = tuple(sorted(p.name for p in ROOT.iterdir() if "DUDU" not in p.name))
INPUTS = ("parsed-processed-input.yaml", "timeloop-mapper.ERT.yaml", "timeloop-mapper.map.yaml")


def _same(kernel: BatchedSparse, per_mapping: BatchedSparse, arrays, monkeypatch: pytest.MonkeyPatch) -> int:
    """Asserts the kernel's and the per-mapping path's results are identical; returns the legal mappings."""
    per_mapping.tables = None
    left: list[int] = []
    with monkeypatch.context() as m:  # the kernel leaves nothing to the per-mapping path
        m.setattr(BatchedSparse, "_score", lambda self, a, k, *args: left.append(k))
        cycles, energy, code = kernel.evaluate_many(arrays)
    assert not left
    ref_cycles, ref_energy, ref_code = per_mapping.evaluate_many(arrays)
    assert (code == ref_code).all()
    assert (cycles == ref_cycles).all()
    assert ((energy == ref_energy) | (np.isinf(energy) & np.isinf(ref_energy))).all()
    return int((code == 0).sum())


@pytest.mark.parametrize("folder", FOLDERS)
def test_kernel_equals_the_per_mapping_analysis_on_every_exercise(folder, monkeypatch):
    spec = load_timeloop([ROOT / folder / f for f in INPUTS])
    kernel, per_mapping = SparseModel(spec), SparseModel(spec)
    assert kernel.batch.tables is not None
    legal = 0
    for constraints in (spec.loop_constraints, ()):
        space = MappingSpace(spec.layer, kernel.relax(spec.search_hierarchy or spec.hierarchy), None,
                             constraints=constraints)
        arrays = space.decode(space.random(150, np.random.default_rng(7)))
        legal += _same(kernel.batch, per_mapping.batch, arrays, monkeypatch)
    assert legal


def test_kernel_equals_the_per_mapping_analysis_on_zoo_layers(monkeypatch):
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.validation.silicon import eyeriss_sparse_features
    from acceldse.workloads.loader import load_workload

    # the chip's levels cannot be bypassed (always_keeps), which leaves few of 300 random mappings legal; relaxed
    # here, the samples hold legal mappings that keep every level and ones that bypass some, both compared
    chip = load_hierarchy("eyeriss-v1")
    hierarchy = chip.replace(levels={lv.name: {"always_keeps": []} for lv in chip.levels if lv.always_keeps})
    layers = [lay for lay in load_workload("resnet18") if lay.name in ("conv1", "layer3.0.conv2", "fc")]
    for layer in layers:
        features = eyeriss_sparse_features(layer)
        kernel, per_mapping = native(layer, hierarchy, **features), native(layer, hierarchy, **features)
        space = MappingSpace(layer, kernel.relaxed, "rs")
        assert _same(kernel, per_mapping, space.decode(space.random(300, np.random.default_rng(1))), monkeypatch)


@pytest.mark.slow
def test_a_design_the_kernel_does_not_model_is_analysed_mapping_by_mapping():
    """A hypergeometric density has no kernel tables: every mapping goes through ``analyse``."""
    from acceldse.mapper.sparse import Hypergeometric
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.workloads.einsum import Einsum
    from acceldse.workloads.loader import load_workload

    layer = next(lay for lay in load_workload("resnet18") if lay.name == "fc")   # 512 inputs: a quick analysis
    einsum = Einsum.from_layer(layer)
    size = next(t for t in einsum.tensors if t.name == "Inputs").footprint(einsum.sizes)
    model = native(layer, load_hierarchy("eyeriss-v1"), densities={"Inputs": Hypergeometric(0.4, size)})
    assert model.tables is None
    space = MappingSpace(layer, model.relaxed, "rs")
    cycles, energy, code = model.evaluate_many(space.decode(space.random(6, np.random.default_rng(0))))
    assert (code == 0).any() and np.isfinite(energy[code == 0]).all()
