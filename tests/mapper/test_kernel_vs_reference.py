"""The numba cost kernel equals the plain-Python loop-walking reference on random legal mappings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mapper_fixtures import tiny_hierarchy
from mapper_reference import reference_cost

from acceldse.mapper.cost import evaluate, evaluate_many
from acceldse.mapper.space import MappingSpace
from acceldse.workloads.layer import Layer, conv2d

HIER = tiny_hierarchy()
# the same with the 4 registers accessed as clusters of 2 (Timeloop's cluster_size)
CLUSTERED = replace(HIER, levels=(*HIER.levels[:2], replace(HIER.levels[2], cluster_size=2)))


@st.composite
def small_layers(draw) -> Layer:
    k = draw(st.sampled_from([1, 2, 3, 4]))
    c = draw(st.sampled_from([1, 2, 4]))
    r = draw(st.sampled_from([1, 2, 3]))
    stride = draw(st.sampled_from([1, 2]))
    dilation = draw(st.sampled_from([1, 1, 2]))
    out = draw(st.sampled_from([1, 2, 4]))
    hw = (out - 1) * stride + (r - 1) * dilation + 1
    return conv2d("t", c, k, hw, r, stride=stride, dilation=dilation, batch=draw(st.sampled_from([1, 2])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=small_layers(), seed=st.integers(0, 2**31 - 1), clustered=st.booleans())
def test_kernel_matches_reference(layer, seed, clustered):
    hier = CLUSTERED if clustered else HIER
    space = MappingSpace(layer, hier)
    rng = np.random.default_rng(seed)
    genomes = space.random(256, rng)
    arrays = space.decode(genomes)
    cycles, energy, code = evaluate_many(layer, hier, arrays)
    legal = np.flatnonzero(code == 0)
    if legal.size == 0:
        return
    for b in legal[:2]:
        one = arrays.take(b)
        ref = reference_cost(layer, hier, one)
        got = evaluate(layer, hier, one)
        assert got.cycles == ref["cycles"] == cycles[b]
        assert got.macs == ref["macs"] >= layer.macs
        assert np.isclose(got.energy_pj, ref["energy_pj"]) and np.isclose(energy[b], ref["energy_pj"])
        for row in got.counts.itertuples():
            assert (row.reads, row.fills, row.updates) == ref["counts"][row.level, row.dataspace]


def test_invariants_on_random_mappings():
    """Properties: MACs conserved, cycles >= MACs / PEs, every operand read from DRAM at least once."""
    layer = conv2d("c", 4, 8, 5, 3)
    space = MappingSpace(layer, HIER)
    arrays = space.decode(space.random(20000, np.random.default_rng(1)))
    cycles, energy, code = evaluate_many(layer, HIER, arrays)
    legal = np.flatnonzero(code == 0)
    assert legal.size > 30
    for b in legal[:60]:
        res = evaluate(layer, HIER, arrays.take(b))
        assert res.macs == layer.macs
        assert res.cycles >= layer.macs / HIER.num_macs
        dram = res.counts.set_index(["level", "dataspace"])
        assert dram.loc[("DRAM", "weights")].reads >= layer.weight_elems
        assert dram.loc[("DRAM", "inputs")].reads >= layer.input_elems
        assert dram.loc[("DRAM", "outputs")].updates >= layer.output_elems
        assert 0 < res.utilised_pes <= HIER.num_macs
