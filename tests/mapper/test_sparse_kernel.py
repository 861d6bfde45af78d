"""The batched Sparseloop kernel (``mapper.sparse.kernel``) gives, mapping by mapping, exactly the per-mapping
analysis's codes, cycles and energy (the same floats), on random mappings of every Sparseloop exercise (in its
mapspace constraints and in the whole space) and of zoo layers on Eyeriss v1 with its sparse features, with
fixed-structured and hypergeometric densities, and leaves none of them to the per-mapping path."""

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


def _hypergeometric(layer, features):
    """``features`` with every density hypergeometric over its whole tensor (and the weights pruned too)."""
    from acceldse.mapper.sparse import Hypergeometric
    from acceldse.workloads.einsum import Einsum

    einsum = Einsum.from_layer(layer)
    size = {t.name: t.footprint(einsum.sizes) for t in einsum.tensors}
    densities = {name: Hypergeometric(model.density, size[name]) for name, model in features["densities"].items()}
    if layer.has_weights:
        densities["Weights"] = Hypergeometric(0.3, size["Weights"])
    return {**features, "densities": densities}


@pytest.mark.parametrize("workload,names", [("resnet18", ("layer1.0.conv1", "layer3.0.conv2")),
                                            ("mobilenet_v2", ("block2.dw", "block2.project")),
                                            ("bert_base", ("encoder.0.attn.q", "encoder.0.mlp.fc2"))])
def test_kernel_equals_the_per_mapping_analysis_with_hypergeometric_densities(workload, names, monkeypatch):
    """Hypergeometric densities (inputs, outputs and weights) stay inside the kernel, with the per-mapping
    analysis's figures: ResNet-18 convolutions, MobileNet-v2 depthwise and pointwise, BERT-base GEMMs on
    Eyeriss v1 with its RLC-compressed DRAM tensors and weight gating."""
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.validation.silicon import eyeriss_sparse_features
    from acceldse.workloads.loader import load_workload

    chip = load_hierarchy("eyeriss-v1")   # levels bypassable, as in the fixed-structured zoo test above
    hierarchy = chip.replace(levels={lv.name: {"always_keeps": []} for lv in chip.levels if lv.always_keeps})
    for layer in (lay for lay in load_workload(workload) if lay.name in names):
        features = _hypergeometric(layer, eyeriss_sparse_features(layer))
        kernel, per_mapping = native(layer, hierarchy, **features), native(layer, hierarchy, **features)
        assert kernel.tables is not None
        space = MappingSpace(layer, kernel.relaxed, "rs")
        assert _same(kernel, per_mapping, space.decode(space.random(200, np.random.default_rng(3))), monkeypatch)


@pytest.mark.parametrize("folder", ("02.2.2-spMspM-tiled", "03.2.3-conv1d+oc-spatial", "04.2.1-eyeriss-like-gating",
                                    "04.2.3-eyeriss-like-onchip-compression"))
def test_kernel_equals_the_per_mapping_analysis_on_hypergeometric_exercises(folder, tmp_path, monkeypatch):
    """Sparseloop exercises with every density made ``hypergeometric`` (their YAML edited): the same figures."""
    import yaml

    data = yaml.safe_load((ROOT / folder / INPUTS[0]).read_text())
    for density in data["problem"]["instance"]["densities"].values():
        density["distribution"] = "hypergeometric"
    edited = tmp_path / INPUTS[0]
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_timeloop([edited, *(ROOT / folder / f for f in INPUTS[1:])])
    kernel, per_mapping = SparseModel(spec), SparseModel(spec)
    assert kernel.batch.tables is not None and kernel.batch.tables.density[:, 3].any()
    space = MappingSpace(spec.layer, kernel.relax(spec.search_hierarchy or spec.hierarchy), None)
    assert _same(kernel.batch, per_mapping.batch, space.decode(space.random(150, np.random.default_rng(5))),
                 monkeypatch)
