"""Sparseloop's analysis on a mapping acceldse's own mapper found (``mapper.sparse.native.design_for``)."""

from __future__ import annotations

import math

import pytest

from acceldse.mapper.api import LayerMapping, map_layer
from acceldse.mapper.sparse import FixedStructured, RankFormat, analyse
from acceldse.mapper.sparse.native import design_for
from acceldse.workloads.layer import conv2d

LAYER = conv2d("c", 16, 32, 15, 3, padding=1, batch=2, bits=16)


@pytest.fixture(scope="module", params=["rs", "any"])
def found(request: pytest.FixtureRequest) -> LayerMapping:
    return map_layer(LAYER, "eyeriss-v1", dataflow=request.param, objective="edp", search="random", budget=300,
                     seed=0)


def test_dense_tensors_give_the_dense_cost(found: LayerMapping) -> None:
    """No density, format or optimisation: Sparseloop's numbers are the dense model's, component by component."""
    cost = found.cost
    result = analyse(design_for(found.layer, found.hierarchy, found.mapping, cost, densities={}))
    assert (result.cycles, result.actual_computes) == (cost.cycles, cost.macs)
    assert result.energy_pj == pytest.approx(cost.energy_pj, rel=1e-12)
    dense = cost.energy_by_component()
    for (level, tensor), stats in result.tensors.items():
        assert stats.energy_pj == pytest.approx(dense[f"{level}.{tensor.lower()}"], rel=1e-12)


def test_compressed_dram_inputs_move_only_their_non_zeros(found: LayerMapping) -> None:
    cost = found.cost
    ranks = tuple("NGKCPQRS")
    formats = {("DRAM", "Inputs"): (RankFormat("RLE", flattened=(ranks,)), RankFormat("UOP", flattened=(ranks,)))}
    result = analyse(design_for(found.layer, found.hierarchy, found.mapping, cost, formats=formats,
                                densities={"Inputs": FixedStructured(0.25)}, metadata_word_bits={"DRAM": 5}))
    dense = cost.counts.set_index(["level", "dataspace"])
    reads = int(dense.loc[("DRAM", "inputs"), "reads"])
    assert result.tensors[("DRAM", "Inputs")].accesses[("random", "read")] == reads - math.floor(reads * 0.75)
    assert result.tensors[("DRAM", "Weights")].accesses[("random", "read")] == dense.loc[("DRAM", "weights"), "reads"]
    assert result.cycles == cost.cycles  # compression alone changes no compute


def test_gating_weights_on_zero_inputs_saves_scratchpad_reads_and_energy(found: LayerMapping) -> None:
    cost = found.cost
    assert "weights_spad" in set(cost.counts.level)  # the mapping keeps the weights there
    result = analyse(design_for(found.layer, found.hierarchy, found.mapping, cost,
                                densities={"Inputs": FixedStructured(0.5)},
                                safs=(("weights_spad", "gate", (("Weights", ("Inputs",)),)),)))
    spad = result.tensors[("weights_spad", "Weights")].accesses
    dense_reads = int(cost.counts.set_index(["level", "dataspace"]).loc[("weights_spad", "weights"), "reads"])
    assert spad[("gated", "read")] == math.floor(dense_reads * 0.5)
    assert spad[("random", "read")] + spad[("gated", "read")] == dense_reads
    assert result.energy_pj < cost.energy_pj


def test_unknown_names_are_refused(found: LayerMapping) -> None:
    with pytest.raises(ValueError, match="unknown level"):
        design_for(found.layer, found.hierarchy, found.mapping, found.cost, densities={},
                   metadata_word_bits={"L9": 5})
    with pytest.raises(ValueError, match="unknown tensor"):
        design_for(found.layer, found.hierarchy, found.mapping, found.cost, densities={"Z": FixedStructured(0.5)})


def test_the_sparse_model_leaves_scipy_stats_unimported() -> None:
    """scipy.stats takes ~1 CPU-s to import: the sparse model never loads it (``mapper.sparse.hypergeom`` computes
    the hypergeometric probabilities)."""
    import subprocess
    import sys

    code = ("import sys, acceldse.mapper.sparse.batched, acceldse.mapper.timeloop.sparse_model; "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
