"""Properties of the counts (hypothesis, random legal mappings on the toy hierarchy and on a
Timeloop exercise architecture): traffic is never below compulsory, and sliding-window reuse
never increases any count against refetching whole tiles."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mapper_fixtures import tiny_hierarchy
from test_golden_timeloop import timeloop_inputs

from acceldse.mapper.cost import evaluate, evaluate_many
from acceldse.mapper.cost_kernel import tile_changes
from acceldse.mapper.space import MappingSpace
from acceldse.mapper.timeloop import load_timeloop
from acceldse.workloads.layer import Layer, conv2d

TOY = tiny_hierarchy()
SIMBA = load_timeloop(timeloop_inputs("simba_like")).hierarchy


@st.composite
def conv_layers(draw) -> Layer:
    r = draw(st.sampled_from([1, 3, 5]))
    stride = draw(st.sampled_from([1, 2]))
    dilation = draw(st.sampled_from([1, 2]))
    out = draw(st.sampled_from([2, 4, 7, 8]))
    hw = (out - 1) * stride + (r - 1) * dilation + 1
    return conv2d("p", draw(st.sampled_from([1, 3, 4])), draw(st.sampled_from([2, 4, 8])), hw, r, stride=stride,
                  dilation=dilation, batch=draw(st.sampled_from([1, 2])))


def _legal(layer, hierarchy, seed, n=2000):
    space = MappingSpace(layer, hierarchy)
    arrays = space.decode(space.random(n, np.random.default_rng(seed)))
    _, _, code = evaluate_many(layer, hierarchy, arrays)
    return [arrays.take(b) for b in np.flatnonzero(code == 0)[:4]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=conv_layers(), seed=st.integers(0, 2**31 - 1), simba=st.booleans())
def test_counts_never_below_compulsory(layer, seed, simba):
    hierarchy = SIMBA if simba else TOY
    need = {"inputs": layer.input_touched_elems, "weights": layer.weight_elems}
    for one in _legal(layer, hierarchy, seed):
        res = evaluate(layer, hierarchy, one)
        rows = res.counts.set_index(["level", "dataspace"])
        top = hierarchy.levels[0].name
        for ds, words in need.items():
            assert rows.loc[(top, ds)].reads >= words
            for r in res.counts[(res.counts.dataspace == ds) & (res.counts.level != top)].itertuples():
                assert r.fills * r.instances >= words, (r.level, ds)
        assert rows.loc[(top, "outputs")].updates >= layer.output_elems
        assert res.macs >= layer.macs and res.cycles * hierarchy.num_macs >= layer.macs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=conv_layers(), seed=st.integers(0, 2**31 - 1), simba=st.booleans())
def test_sliding_reuse_never_increases_traffic(layer, seed, simba):
    """Input fills (and the parent's reads) with reuse <= refetching the whole tile on every change."""
    hierarchy = SIMBA if simba else TOY
    n = hierarchy.num_levels
    for one in _legal(layer, hierarchy, seed):
        res = evaluate(layer, hierarchy, one)
        changes = np.zeros((n + 1, 3), dtype=np.int64)
        tile_changes(one.temporal, one.order, changes, np.zeros_like(changes))
        inputs = res.counts[res.counts.dataspace == "inputs"].reset_index(drop=True)
        for i, r in enumerate(inputs.itertuples()):
            lvl = hierarchy.level_index(r.level)
            if lvl > 0:
                assert 0 < r.fills <= changes[lvl, 0] * r.tile_words
            if i + 1 < len(inputs):
                child = inputs.iloc[i + 1]
                no_reuse = changes[hierarchy.level_index(child.level), 0] * child.tile_words
                assert r.reads * r.instances <= no_reuse * child.instances
