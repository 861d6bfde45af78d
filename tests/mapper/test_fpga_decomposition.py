"""The optimiser with per-layer decomposition (Mixed-TD) on a VGG-style network."""

import numpy as np
import pytest

from acceldse.mapper.fpga import optimise
from acceldse.mapper.fpga.decomposition import plan_for_fraction, rank_fractions
from acceldse.validation.papers import mixed_td_study
from acceldse.workloads.errors import SpecError
from acceldse.workloads.zoo.small import lenet, vgg_small


def test_vgg_on_zcu102_decomposition_raises_throughput_per_dsp() -> None:
    net = vgg_small()
    # optimise(net, "zcu102", batch=256, decompose=True, max_error=None): no accuracy bound; computed once per
    # session and shared with the Mixed-TD validation row and the fpga_folding notebook
    mixed = mixed_td_study()
    plain = mixed.candidates[0]  # the undecomposed network, folded by optimise(net, "zcu102", batch=256)
    assert plain["rank_fraction"] == 1.0 and plain["macs"] == net.macs and plain["decomposed_layers"] == 0
    assert mixed.decomposition  # some layers were decomposed
    assert mixed.network.macs < net.macs
    assert mixed.report.throughput_per_dsp > plain["throughput_per_dsp"]
    assert mixed.report.throughput >= plain["throughput_per_s"]
    assert mixed.report.feasible


def test_rank_fractions() -> None:
    assert rank_fractions(0.25) == [0.5, 0.25]
    assert rank_fractions(0.1) == [0.5, 0.25, 0.125]
    with pytest.raises(SpecError):
        rank_fractions(0.0)


def test_max_error_blocks_lossy_layers() -> None:
    net = lenet()
    rng = np.random.default_rng(0)
    low_rank = (rng.standard_normal((50, 4)) @ rng.standard_normal((4, 500))).reshape(50, 20, 5, 5)
    full = rng.standard_normal((500, 800))
    weights = {"conv2": low_rank, "fc5": full}
    plan = plan_for_fraction(net, 0.25, weights, max_error=0.01)
    assert "fc5" not in plan  # a random full-rank matrix loses too much at rank 125
    # conv2 is rank 4: SVD at rank round(0.25 * 50) = 12 reconstructs it
    assert plan.get("conv2") is not None and plan["conv2"].method == "svd"
    loose = plan_for_fraction(net, 0.25)
    assert "fc5" in loose


def test_error_bound_is_the_default_and_needs_weights() -> None:
    with pytest.raises(SpecError, match="needs the layers' weights") as err:
        optimise(lenet(), "zc706", batch=16, decompose=True)
    assert err.value.key == "max_error"
    with pytest.raises(SpecError, match="> 0"):
        optimise(lenet(), "zc706", batch=16, decompose=True, weights={}, max_error=-1.0)


def test_layers_without_weights_stay_whole_under_a_bound() -> None:
    rng = np.random.default_rng(0)
    low_rank = (rng.standard_normal((50, 4)) @ rng.standard_normal((4, 500))).reshape(50, 20, 5, 5)
    plan = plan_for_fraction(lenet(), 0.25, {"conv2": low_rank}, max_error=0.01)
    assert set(plan) == {"conv2"}  # fc5, fc7, conv0 have no weights given: not decomposed
