"""FPGA folding optimisers: feasibility (property test), quality vs SAMO, determinism, errors."""

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acceldse.mapper.fpga import optimise
from acceldse.simulator.fpga import Folding, Platform, evaluate_design, load_platform
from acceldse.simulator.fpga.stage import channels_in, channels_out, kernel_size
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, conv2d, eltwise, gemm, pool2d
from acceldse.workloads.network import Network
from acceldse.workloads.zoo.small import cnv, lenet, mlp, residual_block, vgg_small

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "fpga"


def _check_feasible(result, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    rep = evaluate_design(result.network, result.foldings, platform, batch=result.report.batch,
                          partitions=result.partitions)
    assert rep.feasible, rep.violations
    for part in rep.partitions:
        for res in ("dsp", "bram18", "uram", "lut", "ff"):
            assert part.resources[res] <= getattr(platform, res)
        assert part.bandwidth_gbit_per_s <= platform.bandwidth_gbit_per_s
    for layer in result.network:  # every folding divides its layer
        f = result.foldings[layer.name]
        assert channels_in(layer) % f.coarse_in == 0 and channels_out(layer) % f.coarse_out == 0
        assert kernel_size(layer) % f.fine == 0


def test_lenet_beats_or_equals_samo_rule_on_zc706() -> None:
    plat = load_platform("zc706").with_clock(100)
    res = optimise(lenet(), plat, batch=256, method="greedy")
    _check_feasible(res, plat)
    samo = json.loads((GOLDEN / "samo_lenet_zc706.json").read_text())["throughput_per_s"]
    # SAMO: 10,000 samples/s (2,560,000 cycles per batch); on fpgaConvNet's resource model LUTs
    # bind first, and the optimiser ties SAMO (the 12,500/s of the old, LUT-light model is gone)
    assert res.report.throughput >= samo
    assert res.report.throughput == pytest.approx(10_000.0)


SAMO_FILES = sorted(GOLDEN.glob("samo_*.json"))
BUILDERS = {"lenet": lenet, "mlp": mlp, "vgg_small": lambda: vgg_small(widths=(16, 32, 64)), "cnv": cnv}


@functools.cache
def ours_on_samo(stem: str) -> tuple[dict, Network, Platform, Any]:
    """A stored SAMO run (``GOLDEN/<stem>.json``), its network, its platform at SAMO's fixed 100 MHz, and our
    optimiser's design for the same network, platform and batch: the search is deterministic, so the two tests
    that compare ours with SAMO's share one run."""
    samo = json.loads((GOLDEN / f"{stem}.json").read_text())
    net = BUILDERS[samo["network"]]()
    plat = load_platform(samo["platform"]).with_clock(100)
    return samo, net, plat, optimise(net, plat, batch=samo["batch"])


@pytest.mark.parametrize("path", SAMO_FILES, ids=[p.stem for p in SAMO_FILES])
def test_beats_or_equals_every_stored_samo_design(path: Path) -> None:
    samo, _, plat, res = ours_on_samo(path.stem)
    _check_feasible(res, plat)
    assert res.report.throughput >= samo["throughput_per_s"] * (1 - 1e-9)


def test_coarse_factors_match_across_stream_edges() -> None:
    res = optimise(lenet(), "zc706", batch=256)
    f = res.foldings
    for a, b in res.network.edges:
        if res.stages.set_index("layer").loc[a, "partition"] == res.stages.set_index("layer").loc[b, "partition"]:
            assert f[a].coarse_out == f[b].coarse_in, (a, b)


def test_anneal_never_worse_than_greedy_and_is_seeded() -> None:
    g = optimise(mlp(), "zc706", batch=64, method="greedy")
    a1 = optimise(mlp(), "zc706", batch=64, method="anneal", seed=3, anneal_iterations=800)
    a2 = optimise(mlp(), "zc706", batch=64, method="anneal", seed=3, anneal_iterations=800)
    assert a1.report.throughput >= g.report.throughput
    assert a1.stages.equals(a2.stages)


def test_latency_objective_counts_fill() -> None:
    r = optimise(lenet(), "zcu102", batch=1, objective="latency")
    assert r.report.latency_s > r.report.batch_time_s
    assert r.summary["latency_us"] == pytest.approx(r.report.latency_s * 1e6)


def test_lut_personality_used_when_dsps_are_scarce() -> None:
    base = load_platform("zc706")
    tiny = Platform("tiny", dsp=4, bram18=base.bram18, uram=0, lut=base.lut, ff=base.ff, clock_mhz=100,
                    bandwidth_gbit_per_s=100, reconfiguration_ms=50)
    res = optimise(lenet(), tiny, batch=16)
    _check_feasible(res, tiny)
    assert (res.stages["personality"] == "lut").any()
    no_lut = optimise(lenet(), tiny, batch=16, allow_lut=False)
    assert res.report.throughput > no_lut.report.throughput


def test_partitions_when_network_does_not_fit() -> None:
    base = load_platform("zc706")
    small = Platform("small", dsp=64, bram18=450, uram=0, lut=40000, ff=80000, clock_mhz=100,
                     bandwidth_gbit_per_s=50, reconfiguration_ms=1)
    res = optimise(lenet(), small, batch=256)
    _check_feasible(res, small)
    assert len(res.partitions) >= 2 or not all(res.stages["weights_on_chip"])
    assert base.dsp > small.dsp


def test_network_that_cannot_fit_one_layer_raises() -> None:
    tiny = Platform("tiny", dsp=1, bram18=2, uram=0, lut=500, ff=1000, clock_mhz=100, bandwidth_gbit_per_s=10,
                    reconfiguration_ms=1)
    with pytest.raises(SpecError, match="does not fit the platform even alone"):
        optimise(lenet(), tiny, batch=4)


def test_no_reconf_forces_one_partition_or_error() -> None:
    res = optimise(lenet(), "zc706", batch=64, enable_reconf=False)
    assert len(res.partitions) == 1
    tiny = Platform("t", dsp=8, bram18=3, uram=0, lut=20000, ff=40000, clock_mhz=100, bandwidth_gbit_per_s=1,
                    reconfiguration_ms=1)
    with pytest.raises(SpecError, match="one partition"):
        optimise(lenet(), tiny, batch=64, enable_reconf=False)


@pytest.mark.parametrize("kwargs,key", [({"objective": "energy"}, "objective"), ({"method": "brute"}, "method"),
                                        ({"batch": 0}, "batch")])
def test_bad_arguments(kwargs: dict, key: str) -> None:
    with pytest.raises(SpecError) as err:
        optimise(lenet(), "zc706", **kwargs)
    assert err.value.key == key


def test_large_weights_go_to_uram_on_alveo() -> None:
    net = Network("big_fc", (gemm("fc0", 1, 4096, 4096, bits=16), eltwise("r", 4096, 1, num_inputs=1, bits=16),
                             gemm("fc1", 1, 10, 4096, bits=16)))
    u250 = load_platform("u250")
    res = optimise(net, u250, batch=64)
    _check_feasible(res, u250)
    assert res.foldings["fc0"].weights_in_uram and res.foldings["fc0"].weights_on_chip
    assert res.summary["uram_used"] > 0
    zcu = load_platform("zcu102")  # no URAM: the 4096x4096 weights must stream from off-chip
    res2 = optimise(net, zcu, batch=64)
    _check_feasible(res2, zcu)
    assert not res2.foldings["fc0"].weights_on_chip


def test_residual_dag_optimises() -> None:
    res = optimise(residual_block(), "zcu102", batch=32)
    _check_feasible(res, load_platform("zcu102"))


# ---- property test: random networks on random (scaled) platforms ------------------------------------

@st.composite
def networks(draw: st.DrawFn) -> Network:
    ch = draw(st.sampled_from([1, 3, 4, 6]))
    hw = draw(st.sampled_from([8, 12, 16]))
    layers: list[Layer] = []
    for i in range(draw(st.integers(1, 4))):
        out = draw(st.sampled_from([4, 6, 8, 12, 16]))
        k = draw(st.sampled_from([1, 3]))
        layers.append(conv2d(f"c{i}", ch, out, hw, k, padding=k // 2, bits=draw(st.sampled_from([8, 16]))))
        ch = out
        if draw(st.booleans()):
            layers.append(eltwise(f"r{i}", ch, hw, num_inputs=1, bits=16))
        if hw >= 4 and draw(st.booleans()):
            layers.append(pool2d(f"p{i}", ch, hw, 2, bits=16))
            hw //= 2
    layers.append(gemm("fc", 1, draw(st.sampled_from([10, 20])), ch * hw * hw, bits=16))
    return Network("random", tuple(layers))


@st.composite
def platforms(draw: st.DrawFn) -> Platform:
    base = load_platform(draw(st.sampled_from(["zc706", "zcu102", "u50"])))
    frac = draw(st.sampled_from([0.02, 0.05, 0.2, 1.0]))
    return Platform("rand", dsp=max(1, int(base.dsp * frac)), bram18=max(1, int(base.bram18 * frac)), uram=0,
                    lut=max(1, int(base.lut * frac)), ff=max(1, int(base.ff * frac)), clock_mhz=base.clock_mhz,
                    bandwidth_gbit_per_s=draw(st.sampled_from([0.5, 5.0, base.bandwidth_gbit_per_s])),
                    reconfiguration_ms=draw(st.sampled_from([0.1, 50.0])))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), platforms(), st.sampled_from(["greedy", "anneal"]), st.sampled_from([1, 64]))
def test_never_exceeds_resources_or_bandwidth(net: Network, plat: Platform, method: str, batch: int) -> None:
    try:
        res = optimise(net, plat, batch=batch, method=method, anneal_iterations=150)
    except SpecError as err:  # only allowed: the network cannot fit even one layer per partition
        assert "does not fit" in str(err)
        return
    _check_feasible(res, plat)
    # the optimised folding is never slower than the minimal folding with the same partitions and weights
    minimal = evaluate_design(net, {n: Folding(weights_on_chip=f.weights_on_chip) for n, f in res.foldings.items()},
                              plat, batch=batch, partitions=res.partitions)
    assert minimal.feasible
    assert res.report.batch_cycles <= minimal.batch_cycles


def test_fast_partition_evaluation_matches_evaluate_design() -> None:
    from acceldse.mapper.fpga.space import PartitionSpace

    net = residual_block()
    plat = load_platform("zcu102")
    res = optimise(net, plat, batch=32)
    names = list(res.partitions[0])
    space = PartitionSpace.build(net, names, plat, 32)
    state = space.minimal_state()
    for n in names:  # copy the optimised folding into the space's state
        f = res.foldings[n]
        state.comp[space.in_comp[n]] = f.coarse_in
        state.comp[space.out_comp[n]] = f.coarse_out
        state.fine[n], state.personality[n] = f.fine, f.personality
        state.on_chip[n], state.uram[n] = f.weights_on_chip, f.weights_in_uram
    fast, _ = space.evaluate(state)
    full = res.report.partitions[0]
    assert (fast.interval_cycles, fast.fill_cycles, fast.resources, fast.bottleneck) == (
        full.interval_cycles, full.fill_cycles, full.resources, full.bottleneck)
    assert fast.bandwidth_gbit_per_s == pytest.approx(full.bandwidth_gbit_per_s)


def test_deep_network_uses_coarse_split_search() -> None:
    layers: list[Layer] = []
    for i in range(30):  # 60 layers: above the exhaustive-split limit
        layers += [gemm(f"fc{i}", 1, 64, 64, bits=16), eltwise(f"relu{i}", 64, 1, num_inputs=1, bits=16)]
    net = Network("deep_mlp", tuple(layers))
    plat = Platform("p", dsp=64, bram18=40, uram=0, lut=60000, ff=120000, clock_mhz=100, bandwidth_gbit_per_s=10,
                    reconfiguration_ms=0.01)
    res = optimise(net, plat, batch=64)
    _check_feasible(res, plat)
    assert len(res.partitions) >= 2


@pytest.mark.parametrize("length", range(1, 30))
def test_split_points_leave_two_nonempty_parts(length: int) -> None:
    from acceldse.mapper.fpga.partition import split_points

    for count in (None, 1, 3, 6, 40):
        points = split_points(length, count)
        assert all(1 <= k < length for k in points)
        if count is None:
            assert points == list(range(1, length))
        elif length > 1:
            assert points  # at least one split is offered


# ---- more resources never give a slower design: NOT yet guaranteed ---------------------------------
# A hypothesis search over random per-resource limits (L <= L') found this counterexample: the
# partitioner and the greedy passes take limit-dependent decisions, so doubling the LUTs of a
# quarter-size ZC706 gives a slower LeNet design.  Strict xfail: it fails loudly once fixed.

@pytest.mark.xfail(strict=True, reason="optimiser is not monotone in the resource limits (known, issue 12)")
def test_more_resources_never_slower_counterexample() -> None:
    base = load_platform("zc706").with_clock(100)

    def quarter(lut_factor: float) -> Platform:
        return Platform("limits", dsp=base.dsp // 4, bram18=int(base.bram18 * 0.25), uram=0,
                        lut=int(base.lut * 0.25 * lut_factor), ff=int(base.ff * 0.25), clock_mhz=100,
                        bandwidth_gbit_per_s=base.bandwidth_gbit_per_s, reconfiguration_ms=base.reconfiguration_ms)

    small = optimise(lenet(), quarter(1.0), batch=256)
    large = optimise(lenet(), quarter(2.0), batch=256)
    assert large.report.throughput >= small.report.throughput


# ---- the ours-vs-SAMO table of README.md / docs/fpga.md, on one resource model -------------------------

OURS_VS_SAMO = {  # golden: (ours samples/s, SAMO samples/s, SAMO's design fits our model)
    "samo_lenet_zc706": (10_000.0, 10_000.0, True),
    "samo_lenet_zcu102": (12_500.0, 12_500.0, True),
    "samo_mlp_zc706": (27_901.8, 27_901.8, True),
    "samo_vgg_small_zcu102": (3_051.8, 1_165.0, False),  # SAMO's design: LUT 276,637 > 274,080 in our model
    "samo_cnv_samo-u250-1slr": (662.1, 388.7, True),  # 16-bit CNV on SAMO's one-SLR U250
}


@pytest.mark.parametrize("stem", sorted(OURS_VS_SAMO))
def test_ours_vs_samo_table(stem: str) -> None:
    ours_expected, samo_expected, samo_fits = OURS_VS_SAMO[stem]
    samo, net, plat, res = ours_on_samo(stem)
    _check_feasible(res, plat)
    assert res.report.throughput == pytest.approx(ours_expected, abs=0.1)
    assert samo["throughput_per_s"] == pytest.approx(samo_expected, abs=0.1)
    names = [layer.name for layer in net]
    layers = [layer for p in samo["partitions"] for layer in p["layers"]]
    folds = {n: Folding(d["coarse_in"], d["coarse_out"], d["fine"] if net[n].op == "conv" else 1)
             for n, d in zip(names, layers)}
    bounds, k = [], 0
    for p in samo["partitions"]:
        bounds.append(names[k:k + len(p["layers"])])
        k += len(p["layers"])
    theirs = evaluate_design(net, folds, plat, batch=samo["batch"], partitions=bounds)
    assert theirs.feasible == samo_fits
    no_lut = optimise(net, plat, batch=samo["batch"], allow_lut=False)  # SAMO has no LUT multipliers
    assert no_lut.report.throughput == pytest.approx(res.report.throughput)
