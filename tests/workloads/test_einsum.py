"""The general Einsum problem spec and its lowering onto the cost kernel's fixed nest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.mapper.legality import tile_words, workload_array
from acceldse.workloads.einsum import (
    Einsum,
    Tensor,
    batched_matmul_einsum,
    conv1d_einsum,
    conv2d_einsum,
    dot_product_einsum,
    from_timeloop_problem,
    gemm_einsum,
)
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS
from acceldse.workloads.loader import load_workload

INSTANCES = [
    conv2d_einsum("conv", N=2, M=8, C=3, P=7, Q=5, R=3, S=2, stride=(2, 1), dilation=(1, 2)),
    gemm_einsum("gemm", 12, 10, 9),
    batched_matmul_einsum("bmm", 4, 6, 5, 8),
    conv1d_einsum("conv1d", P=16, R=3),
    conv1d_einsum("conv1d_oc", P=16, R=3, K=4),
    conv1d_einsum("conv1d_oc_ic", P=16, R=3, K=4, C=2),
    dot_product_einsum("dot", 16),
]


def _kernel_footprints(einsum: Einsum, extents: dict[str, int]) -> dict[str, int]:
    lo = einsum.lower()
    wl = workload_array(lo.layer)
    f = np.ones(8, dtype=np.int64)
    for rank, dim in lo.dims.items():
        f[DIMS.index(dim)] = extents[rank]
    return {t: int(tile_words(f, wl, ("inputs", "weights", "outputs").index(ds))) for t, ds in lo.dataspaces.items()}


@pytest.mark.parametrize("einsum", INSTANCES, ids=lambda e: e.name)
def test_instances_lower_with_their_iterations_and_footprints(einsum):
    lo = einsum.lower()
    assert lo.layer.macs == einsum.iterations
    assert set(lo.dataspaces.values()) == {"inputs", "weights", "outputs"}
    assert lo.dataspaces[einsum.output.name] == "outputs"
    assert _kernel_footprints(einsum, einsum.sizes) == {t.name: einsum.footprint(t.name) for t in einsum.tensors}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(INSTANCES), st.data())
def test_kernel_tile_equals_einsum_bounding_box(einsum, data):
    """Any sub-extents of the ranks: the kernel's tile of each lowered dataspace is the Einsum's footprint."""
    extents = {r: data.draw(st.integers(1, s)) for r, s in einsum.sizes.items()}
    assert _kernel_footprints(einsum, extents) == {t.name: t.footprint(extents) for t in einsum.tensors}


@pytest.mark.parametrize("net", ["resnet18", "mobilenet_v2", "bert_base"])
def test_every_mac_layer_of_real_networks_round_trips(net):
    """Einsum.from_layer(layer).lower() costs exactly like the layer (same kernel workload array)."""
    layers = [layer for layer in load_workload(net).layers if layer.has_weights]
    assert layers
    for layer in layers:
        lowered = Einsum.from_layer(layer).lower().layer
        assert (workload_array(lowered) == workload_array(layer)).all(), layer.name


def test_timeloop_conv2d_problem_matches_the_instance():
    shape = {"name": "CNN_Layer", "dimensions": list("CMRSNPQ"),
             "coefficients": [{"name": n, "default": 1} for n in ("Wstride", "Hstride", "Wdilation", "Hdilation")],
             "data_spaces": [
                 {"name": "Weights", "projection": [[["C"]], [["M"]], [["R"]], [["S"]]]},
                 {"name": "Inputs", "projection": [[["N"]], [["C"]], [["R", "Wdilation"], ["P", "Wstride"]],
                                                   [["S", "Hdilation"], ["Q", "Hstride"]]]},
                 {"name": "Outputs", "projection": [[["N"]], [["M"]], [["Q"]], [["P"]]], "read_write": True}]}
    inst = {"C": 3, "M": 32, "R": 3, "S": 3, "N": 1, "P": 112, "Q": 112, "Wstride": 2, "Hstride": 2,
            "densities": {"Inputs": {"distribution": "fixed_structured", "density": 0.5}}}
    e = from_timeloop_problem({"shape": shape, "instance": inst}, source="t.yaml")
    with pytest.raises(SpecError, match="dense tensors only"):  # never costed as dense
        e.lower()
    dense = {k: v for k, v in inst.items() if k != "densities"}
    lo = from_timeloop_problem({"shape": shape, "instance": dense}, source="t.yaml").lower()
    assert lo.layer.stride == (2, 2) and lo.dims["M"] == "K" and e.iterations == 10_838_016
    assert e.tensor("Inputs").density == 0.5 and e.tensor("Inputs").density_model == "fixed_structured"
    assert e.footprint("Inputs") == 3 * 225 * 225


@pytest.mark.parametrize(("einsum", "why"), [
    (Einsum("onlyA", (("M", 4), ("K", 3), ("J", 2)),
            (Tensor("A", ((("M", 1),), (("K", 1),), (("J", 1),))), Tensor("B", ((("K", 1),),)),
             Tensor("Z", ((("M", 1),),), read_write=True))), "rank J indexes only A"),
    (Einsum("three", (("P", 4), ("R", 3), ("S", 2)),
            (Tensor("I", ((("P", 1), ("R", 1), ("S", 1)),)), Tensor("W", ((("R", 1),), (("S", 1),))),
             Tensor("O", ((("P", 1),),), read_write=True))), "more than two terms"),
    (Einsum("coef", (("M", 4), ("K", 3)),
            (Tensor("A", ((("M", 1),), (("K", 1),))), Tensor("B", ((("K", 2),),)),
             Tensor("Z", ((("M", 1),),), read_write=True))), "coefficient 1"),
    (Einsum("one", (("M", 4),), (Tensor("A", ((("M", 1),),)), Tensor("Z", ((("M", 1),),), read_write=True))),
     "two read-only"),
])
def test_what_does_not_fit_is_refused_with_the_reason(einsum, why):
    with pytest.raises(SpecError, match=why):
        einsum.lower()


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"ranks": (("M", 0),)}, "positive integer"),
    ({"tensors": (Tensor("A", ((("M", 1),),)),)}, "exactly one tensor must be read_write"),
    ({"tensors": (Tensor("Z", ((("X", 1),),), read_write=True),)}, "undeclared rank"),
    ({"tensors": (Tensor("Z", ((("M", 1),),), read_write=True, density=1.5),)}, "density"),
])
def test_bad_einsums_are_spec_errors(kwargs, why):
    args = {"name": "bad", "ranks": (("M", 4),), "tensors": (Tensor("Z", ((("M", 1),),), read_write=True),)}
    with pytest.raises(SpecError, match=why):
        Einsum(**{**args, **kwargs})
