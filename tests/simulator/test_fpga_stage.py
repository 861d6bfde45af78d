"""Per-stage model: the SAMO/fpgaConvNet LeNet golden check and resource formulas."""

import pytest

from acceldse.simulator.fpga import Folding, evaluate_design, load_platform, stage_cost
from acceldse.simulator.fpga.resources import bram18_for, bram18_stream, dsp_per_mac, uram_for
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.zoo.small import lenet

# PUBLISHED.md: SAMO rule optimiser, LeNet, ZC706 at 100 MHz, batch 256, 16-bit
SAMO_LENET = {  # layer: (coarse_in, coarse_out, fine, cycles, dsp)
    "conv0": (1, 4, 25, 737_280, 100),
    "pool1": (4, 4, 1, 737_280, 0),
    "conv2": (4, 2, 25, 2_048_000, 200),
    "pool3": (2, 2, 1, 409_600, 0),
    "fc5": (2, 20, 1, 2_560_000, 40),
    "relu6": (20, 20, 1, 6_400, 0),
    "fc7": (20, 1, 1, 64_000, 20),
}


def samo_design():  # type: ignore[no-untyped-def]
    folds = {n: Folding(ci, co, f) for n, (ci, co, f, _, _) in SAMO_LENET.items()}
    return evaluate_design(lenet(), folds, load_platform("zc706").with_clock(100), batch=256)


def test_lenet_golden_cycles_and_dsp_exact() -> None:
    rep = samo_design()
    got = {r.layer: (r.cycles, r.dsp) for r in rep.stages.itertuples()}
    assert got == {n: (c, d) for n, (_, _, _, c, d) in SAMO_LENET.items()}


def test_lenet_golden_network_figures() -> None:
    rep = samo_design()
    assert rep.feasible
    assert rep.batch_cycles == 2_560_000
    assert rep.batch_time_s * 1e6 == pytest.approx(25_600.0)
    assert rep.dsp_used == 360
    assert len(rep.partitions) == 1 and rep.partitions[0].bottleneck == "fc5"
    # fpgaConvNet's BRAM model: SAMO printed 908 BRAM18 for this design
    assert rep.partitions[0].resources["bram18"] == 908


# fpgaConvNet-model 0.1.4.2's dsp_multiplier_resource_model: ceil((w + d) / 48)
@pytest.mark.parametrize("w,d,expected", [(16, 16, 1), (8, 8, 1), (24, 24, 1), (25, 24, 2), (32, 32, 2),
                                          (48, 48, 2), (49, 48, 3)])
def test_dsp_per_mac(w: int, d: int, expected: int) -> None:
    assert dsp_per_mac(w, d) == expected


def test_dsp_scales_with_operand_width() -> None:
    layer = conv2d("c", 4, 8, 10, 3, bits=32)
    assert stage_cost(layer, Folding(2, 2, 3)).dsp == 12 * 2


# fpgaConvNet's memory model: the narrowest of 1/2/4/9/18/36-bit widths holding the word, at
# 16000/8000/4000/2000/1000/512 words; wider than 36 bits takes several columns (our extension)
@pytest.mark.parametrize("depth,width,expected", [(0, 16, 0), (1, 16, 1), (1000, 18, 1), (1001, 18, 2),
                                                  (512, 36, 1), (2000, 9, 1), (2001, 9, 2), (4000, 16, 4),
                                                  (16000, 1, 1), (16001, 1, 2), (512, 72, 2)])
def test_bram18_memory_shapes(depth: int, width: int, expected: int) -> None:
    assert bram18_for(depth, width) == expected


# fpgaConvNet's stream model: the shallowest configuration at least as deep (strictly deeper
# unless equal), ceil(width / its width); beyond 16000 words one column per 16000 (our extension)
@pytest.mark.parametrize("depth,width,expected", [(0, 16, 0), (1, 16, 1), (512, 36, 1), (513, 16, 1),
                                                  (1000, 16, 1), (1001, 16, 2), (8000, 16, 8), (8001, 16, 16),
                                                  (16000, 16, 16), (32000, 16, 32)])
def test_bram18_stream_shapes(depth: int, width: int, expected: int) -> None:
    assert bram18_stream(depth, width) == expected


def test_cycles_formula_conv_and_fc() -> None:
    c = conv2d("c", 6, 12, 16, 3, padding=1, bits=16)
    for f in (Folding(1, 1, 1), Folding(2, 3, 9), Folding(6, 12, 3)):
        assert stage_cost(c, f).cycles_per_sample * f.lanes == c.macs
    fc = gemm("fc", 1, 30, 40, bits=16)
    assert stage_cost(fc, Folding(4, 5, 1)).cycles_per_sample == 1200 // 20


def test_weights_offchip_saves_bram_and_costs_bandwidth() -> None:
    fc = gemm("fc", 1, 500, 800, bits=16)
    on = stage_cost(fc, Folding(2, 4, 1))
    off = stage_cost(fc, Folding(2, 4, 1, weights_on_chip=False))
    assert off.bram18 < on.bram18
    assert off.offchip_weight_bits_per_sample == 500 * 800 * 16 and on.offchip_weight_bits_per_sample == 0


def test_lut_personality_uses_no_dsp() -> None:
    c = conv2d("c", 4, 8, 10, 3, bits=16)
    dsp = stage_cost(c, Folding(2, 2, 3))
    lut = stage_cost(c, Folding(2, 2, 3, personality="lut"))
    assert lut.dsp == 0 and dsp.dsp == 12
    assert lut.lut > dsp.lut + 12 * 16 * 16 - 1
    assert lut.cycles_per_sample == dsp.cycles_per_sample


@pytest.mark.parametrize("fold,key", [(Folding(3, 1, 1), "coarse_in"), (Folding(1, 7, 1), "coarse_out"),
                                      (Folding(1, 1, 2), "fine")])
def test_folding_must_divide(fold: Folding, key: str) -> None:
    with pytest.raises(SpecError) as err:
        evaluate_design(lenet(), {"conv2": fold}, load_platform("zc706"))
    assert err.value.key == key and "conv2" in str(err.value)


def test_names_are_loaded_and_bad_foldings_refused() -> None:
    """The facade (``acceldse.evaluate_fpga_design``) takes names like the other entry points; a name
    is never iterated letter by letter (that was an AttributeError)."""
    named = evaluate_design("lenet", None, "zc706")
    assert named.summary() == evaluate_design(lenet(), {}, load_platform("zc706")).summary()
    with pytest.raises(SpecError, match="foldings"):
        evaluate_design("lenet", "conv1", "zc706")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="unknown FPGA platform"):
        evaluate_design("lenet", None, "zc999")


def test_pool_coarse_in_must_equal_out() -> None:
    with pytest.raises(SpecError, match="pool1"):
        evaluate_design(lenet(), {"pool1": Folding(2, 4, 1)}, load_platform("zc706"))


def test_violations_reported_when_over_budget() -> None:
    folds = {"conv2": Folding(20, 50, 25)}  # 25,000 lanes
    rep = evaluate_design(lenet(), folds, load_platform("zc706"), batch=4)
    assert not rep.feasible and any("dsp" in v for v in rep.violations)


def test_partitions_add_reconfiguration() -> None:
    plat = load_platform("zc706")
    net = lenet()
    names = [layer.name for layer in net]
    one = evaluate_design(net, {}, plat, batch=8)
    two = evaluate_design(net, {}, plat, batch=8, partitions=[names[:3], names[3:]])
    assert two.batch_cycles > one.batch_cycles  # each partition pays its own bottleneck
    assert two.batch_time_s == pytest.approx(two.batch_cycles / plat.clock_hz + plat.reconfiguration_ms * 1e-3)
    with pytest.raises(SpecError):
        evaluate_design(net, {}, plat, partitions=[names[3:], names[:3]])


@pytest.mark.parametrize("depth,width,expected", [(0, 16, 0), (1, 16, 1), (4096 * 4, 16, 1), (4096 * 4 + 1, 16, 2),
                                                  (4096, 72, 1), (4096, 73, 2), (8192 * 2, 32, 2)])
def test_uram_packing(depth: int, width: int, expected: int) -> None:
    assert uram_for(depth, width) == expected


def test_weights_in_uram_use_no_weight_bram() -> None:
    fc = gemm("fc", 1, 512, 1024, bits=16)
    bram = stage_cost(fc, Folding(4, 4, 1))
    uram = stage_cost(fc, Folding(4, 4, 1, weights_in_uram=True))
    assert bram.bram18 - uram.bram18 == 16 * bram18_for(512 * 1024 // 16, 16)  # the weight banks moved out
    assert uram.uram == 16 * uram_for(512 * 1024 // 16, 16)
