"""Per-layer tensor decomposition: shapes, MAC/weight formulas, reconstruction errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.workloads.decompose import (
    Decomposition,
    cp_factors,
    cp_reconstruct,
    decompose_layer,
    decompose_network,
    decomposed_macs,
    decomposed_weights,
    full_rank,
    reconstruction_error,
    svd_reconstruct,
)
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, eltwise, gemm, pool2d
from acceldse.workloads.network import Network


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 12), k=st.integers(1, 12), hw=st.integers(5, 14), ker=st.sampled_from([1, 3, 5]),
       stride=st.sampled_from([1, 2]), pad=st.integers(0, 2), rank=st.integers(1, 8),
       method=st.sampled_from(["svd", "cp"]))
def test_macs_and_weights_match_formula(c: int, k: int, hw: int, ker: int, stride: int, pad: int, rank: int,
                                        method: str) -> None:
    layer = conv2d("x", c, k, hw, ker, stride=stride, padding=pad, bits=16)
    dec = Decomposition(method, rank)  # type: ignore[arg-type]
    seq = decompose_layer(layer, dec)
    assert sum(s.macs for s in seq) == decomposed_macs(layer, dec)
    assert sum(s.weight_elems for s in seq) == decomposed_weights(layer, dec)
    assert (seq[-1].K * seq[-1].G, seq[-1].P, seq[-1].Q) == (layer.K, layer.P, layer.Q)
    assert seq[0].G * seq[0].C == layer.C and (seq[0].H, seq[0].W) == (layer.H, layer.W)
    if method == "svd":
        assert decomposed_macs(layer, dec) == layer.P * layer.Q * rank * (c * ker * ker + k)
    else:
        expected = hw * hw * c * rank + layer.P * hw * rank * ker + layer.P * layer.Q * rank * (ker + k)
        assert decomposed_macs(layer, dec) == expected
        assert decomposed_weights(layer, dec) == rank * (c + 2 * ker + k)


def test_fc_svd_is_two_fcs() -> None:
    fc = gemm("fc", 1, 500, 800, bits=16)
    a, b = decompose_layer(fc, Decomposition("svd", 32))
    assert (a.C, a.K, b.C, b.K) == (800, 32, 32, 500)
    assert a.macs + b.macs == 32 * (800 + 500) < fc.macs
    # CP of an FC layer is its SVD (a matrix)
    assert decomposed_macs(fc, Decomposition("cp", 32)) == decomposed_macs(fc, Decomposition("svd", 32))


def test_decomposition_reduces_work_at_low_rank() -> None:
    layer = conv2d("c", 64, 128, 16, 3, padding=1)
    r = full_rank(layer) // 8
    for method in ("svd", "cp"):
        dec = Decomposition(method, r)  # type: ignore[arg-type]
        assert decomposed_macs(layer, dec) < layer.macs and decomposed_weights(layer, dec) < layer.weight_elems


def test_svd_at_rank_r_reconstructs_rank_r_matrix() -> None:
    rng = np.random.default_rng(1)
    w = (rng.standard_normal((24, 6)) @ rng.standard_normal((6, 8 * 9))).reshape(24, 8, 3, 3)
    assert reconstruction_error(w, Decomposition("svd", 6)) < 1e-12
    assert np.allclose(svd_reconstruct(w, 6), w)
    assert reconstruction_error(w, Decomposition("svd", 3)) > 0.05
    # errors fall monotonically with rank (Eckart-Young)
    errs = [reconstruction_error(w, Decomposition("svd", r)) for r in range(1, 7)]
    assert all(a >= b for a, b in zip(errs, errs[1:]))


def test_cp_als_recovers_low_rank_tensor() -> None:
    rng = np.random.default_rng(2)
    factors = [rng.standard_normal((d, 3)) for d in (10, 6, 3, 3)]
    t = cp_reconstruct(factors)
    assert reconstruction_error(t, Decomposition("cp", 3)) < 1e-6
    assert reconstruction_error(t, Decomposition("cp", 1)) > 0.1
    got = cp_factors(t, 3)
    assert [f.shape for f in got] == [(10, 3), (6, 3), (3, 3), (3, 3)]


def test_decompose_network_rewires_edges() -> None:
    net = Network("n", (conv2d("c0", 3, 8, 12, 3), pool2d("p", 8, 10, 2), conv2d("c1", 8, 16, 5, 3),
                        gemm("fc", 1, 10, 16 * 9), eltwise("r", 10, 1, num_inputs=1)))
    plan = {"c1": Decomposition("cp", 4), "fc": Decomposition("svd", 5)}
    out = decompose_network(net, plan)
    assert [layer.name for layer in out] == ["c0", "p", "c1_cp0", "c1_cp1", "c1_cp2", "c1_cp3", "fc_svd0",
                                             "fc_svd1", "r"]
    assert ("p", "c1_cp0") in out.edges and ("c1_cp3", "fc_svd0") in out.edges and ("fc_svd1", "r") in out.edges
    assert out.macs < net.macs
    assert out.macs == net.macs - net["c1"].macs - net["fc"].macs + sum(
        decomposed_macs(net[n], d) for n, d in plan.items())


@pytest.mark.parametrize("layer,dec,key", [
    (pool2d("p", 4, 8, 2), Decomposition("svd", 2), "op"),
    (conv2d("dw", 8, 8, 8, 3, groups=8), Decomposition("svd", 2), "op"),
    (conv2d("c", 4, 8, 8, 3), Decomposition("tucker", 2), "method"),  # type: ignore[arg-type]
    (conv2d("c", 4, 8, 8, 3), Decomposition("svd", 0), "rank"),
])
def test_bad_decompositions(layer, dec, key) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as err:
        decompose_layer(layer, dec)
    assert err.value.key == key


def test_plan_with_unknown_layer() -> None:
    with pytest.raises(SpecError):
        decompose_network(Network("n", (conv2d("c", 3, 4, 8, 3),)), {"nope": Decomposition("svd", 1)})
