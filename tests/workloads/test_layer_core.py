"""Layer and Network: loop-nest geometry, projections, MAC and byte counts, validation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, conv2d, eltwise, gemm, matmul, pool2d
from acceldse.workloads.network import Network


def test_resnet_stem_geometry() -> None:
    layer = conv2d("conv1", 3, 64, 224, 7, stride=2, padding=3)
    assert (layer.P, layer.Q, layer.H) == (112, 112, 224)
    assert layer.macs == 118_013_952  # torchvision ResNet conv1
    assert layer.gemm == (12544, 64, 147)
    assert layer.weight_elems == 9408


def test_depthwise_and_grouped() -> None:
    dw = conv2d("dw", 32, 32, 112, 3, padding=1, groups=32)
    assert (dw.G, dw.K, dw.C) == (32, 1, 1)
    assert dw.macs == 112 * 112 * 9 * 32
    grouped = conv2d("g", 64, 128, 56, 3, padding=1, groups=4)
    assert (grouped.G, grouped.K, grouped.C) == (4, 32, 16)
    assert grouped.macs == conv2d("full", 64, 128, 56, 3, padding=1).macs // 4
    with pytest.raises(SpecError, match="divisible by groups"):
        conv2d("bad", 30, 64, 8, 3, groups=4)


def test_gemm_matmul_pool_eltwise() -> None:
    fc = gemm("fc", 1, 1000, 2048)
    assert (fc.macs, fc.weight_elems, fc.gemm) == (2_048_000, 2_048_000, (1, 1000, 2048))
    qk = matmul("qk", 197, 197, 64, groups=12)
    assert qk.macs == 12 * 197 * 197 * 64 and qk.weights_are_activations
    pool = pool2d("mp", 64, 112, 3, stride=2, padding=1)
    assert (pool.P, pool.macs, pool.ops) == (56, 0, 64 * 56 * 56 * 9)
    add = eltwise("add", 256, 56)
    assert (add.macs, add.input_elems, add.output_elems) == (0, 2 * 256 * 56 * 56, 256 * 56 * 56)


def test_projections_are_the_conv_einsum() -> None:
    layer = conv2d("c", 8, 16, 20, 3, stride=2, dilation=2)
    proj = layer.projections
    assert proj["inputs"][3] == (("P", 2), ("R", 2))
    assert proj["weights"] == ((("G", 1),), (("K", 1),), (("C", 1),), (("R", 1),), (("S", 1),))
    assert "weights" not in pool2d("p", 4, 8, 2).projections


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 64), st.integers(1, 7), st.integers(1, 4),
       st.integers(0, 3), st.integers(1, 3))
def test_macs_equal_outputs_times_window(c, k, hw, kern, stride, pad, dil) -> None:
    if (kern - 1) * dil + 1 > hw + 2 * pad:
        with pytest.raises(SpecError, match="filter larger"):
            conv2d("c", c, k, hw, kern, stride=stride, padding=pad, dilation=dil)
        return
    layer = conv2d("c", c, k, hw, kern, stride=stride, padding=pad, dilation=dil)
    assert layer.P == (hw + 2 * pad - (kern - 1) * dil - 1) // stride + 1
    assert layer.macs == layer.output_elems * c * kern * kern
    m, n, kk = layer.gemm
    assert m * n * kk * layer.G == layer.macs
    assert layer.input_bytes == math.ceil(layer.input_elems * layer.input_bits / 8)


@pytest.mark.parametrize("field,value", [("K", 0), ("C", -1), ("P", 1.5), ("stride", (0, 1)),
                                         ("padding", (1, 1)), ("op", "fft"), ("input_bits", 0)])
def test_bad_layer_fields_raise_spec_errors(field, value) -> None:
    args = dict(name="x", op="conv", K=4, C=4, P=8, Q=8)
    args[field] = value
    with pytest.raises(SpecError, match=field if field != "op" else "unknown op"):
        Layer(**args)


def test_output_size_must_follow_from_geometry() -> None:
    with pytest.raises(SpecError, match="output size does not follow"):
        Layer(name="x", op="conv", K=4, C=4, P=8, Q=8, R=3, S=3, H=8, W=8)


def test_network_dag_validation() -> None:
    a, b, c = (conv2d(n, 4, 4, 8, 3, padding=1) for n in "abc")
    net = Network("n", (a, b, c), edges=(("a", "b"), ("a", "c"), ("b", "c")))
    assert net.predecessors("c") == ["a", "b"] and net.successors("a") == ["b", "c"]
    assert Network("chain", (a, b)).edges == (("a", "b"),)
    with pytest.raises(SpecError, match="backwards"):
        Network("n", (a, b), edges=(("b", "a"),))
    with pytest.raises(SpecError, match="duplicate"):
        Network("n", (a, a))
    with pytest.raises(SpecError, match="unknown layer"):
        Network("n", (a, b), edges=(("a", "z"),))
    with pytest.raises(SpecError, match="at least one layer"):
        Network("n", ())


def test_compute_layers_bridges_edges_over_free_layers() -> None:
    a = conv2d("a", 4, 4, 8, 3, padding=1)
    relu = eltwise("relu", 4, 8, num_inputs=1)
    b = conv2d("b", 4, 4, 8, 3, padding=1)
    net = Network("n", (a, relu, b)).compute_layers()
    assert [x.name for x in net] == ["a", "b"] and net.edges == (("a", "b"),)
    assert net.macs == a.macs + b.macs


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 30), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2), st.integers(1, 3))
def test_touched_input_equals_brute_force(hw, kern, stride, pad, dil) -> None:
    if (kern - 1) * dil + 1 > hw + 2 * pad:
        return
    layer = conv2d("c", 3, 4, hw, kern, stride=stride, padding=pad, dilation=dil)
    rows = {p * stride + r * dil - pad for p in range(layer.P) for r in range(kern)}
    touched = sum(1 for i in rows if 0 <= i < hw)
    assert layer.touched_extent(0) == touched
    assert layer.input_touched_elems == 3 * touched * touched


def test_strided_pointwise_reads_a_quarter_of_its_input() -> None:
    layer = conv2d("down", 64, 128, 56, 1, stride=2)
    assert layer.input_touched_elems * 4 == layer.input_elems
