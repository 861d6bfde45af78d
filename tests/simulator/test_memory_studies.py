"""Case studies on the three-tier chip: expert switching and fused vs unfused decoder layers."""

from __future__ import annotations

import dataclasses

import pytest

from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.tiers.fusion import default_block, fusion_study
from acceldse.simulator.tiers.switching import dtype_bytes, expert_switching, fewest_sockets
from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload


def test_presets_match_published_figures() -> None:
    sn = load_hardware("sn40l-like")
    tflops = 2 * sn.array.pes * sn.cores * sn.clock_mhz * 1e6 / 1e12
    assert tflops == pytest.approx(638, rel=0.002)
    sram, hbm, ddr = sn.tiers
    assert (sram.capacity_bytes, hbm.capacity_bytes, ddr.capacity_bytes) == (520e6, 64e9, 1.5e12)
    assert hbm.read_bw_bytes_per_cycle * sn.clock_mhz * 1e6 == pytest.approx(1.6e12)
    assert ddr.read_bw_bytes_per_cycle * sn.clock_mhz * 1e6 == pytest.approx(100e9)
    tpu = load_hardware("tpu-hbm-like")
    assert tpu.dram.kind == "hbm" and tpu.cores == 4 and (tpu.array.rows, tpu.array.cols) == (128, 128)
    assert tpu.dram.read_bw_bytes_per_cycle * tpu.clock_mhz * 1e6 == pytest.approx(614e9, rel=1e-4)
    assert [t.kind for t in tpu.tiers] == ["sram", "sram", "hbm"]


def test_switching_8b_bf16_from_hbm_is_16gb_over_1_6tbs() -> None:
    r = expert_switching(load_hardware("sn40l-like"), 8e9, "bf16", experts=1, sockets=1)
    assert r.expert_bytes == 16_000_000_000
    t = r.table.set_index("tier")
    assert t.loc["hbm", "experts"] == 1
    assert t.loc["hbm", "switch_seconds"] == pytest.approx(16e9 / 1.6e12, rel=1e-12)  # 0.01 s
    assert t.loc["ddr", "switch_seconds"] == pytest.approx(16e9 / 100e9, rel=1e-12)  # 0.16 s
    assert r.mean_switch_seconds == pytest.approx(0.01)


def test_switching_150_experts_spill_to_ddr() -> None:
    acc = load_hardware("sn40l-like")
    r = expert_switching(acc, 7e9, "bf16", experts=150, sockets=2)
    t = r.table.set_index("tier")
    assert t["experts"].to_dict() == {"sram": 0, "hbm": 9, "ddr": 141}  # 128 GB HBM holds 9 x 14 GB
    expected = (9 * 14e9 / 3.2e12 + 141 * 14e9 / 200e9) / 150
    assert r.mean_switch_seconds == pytest.approx(expected)
    assert fewest_sockets(acc, 14_000_000_000, 150) == 2
    assert expert_switching(acc, 7e9, "bf16", 150).sockets == 2
    # 16 sockets: DDR alone streams at 1.6 TB/s, so a DDR-resident 8B expert also switches in 0.01 s
    r16 = expert_switching(acc, 8e9, "bf16", experts=150, sockets=16).table.set_index("tier")
    assert r16.loc["ddr", "switch_seconds"] == pytest.approx(0.01)


def test_switching_errors() -> None:
    acc = load_hardware("sn40l-like")
    with pytest.raises(SpecError, match="fits no tier's free space"):
        expert_switching(acc, 8e9, "bf16", experts=150, sockets=1)
    with pytest.raises(SpecError, match="larger than every tier"):
        expert_switching(acc, 1e13, "bf16", experts=1, sockets=1)
    with pytest.raises(SpecError, match="dtype"):
        dtype_bytes("bf17")
    with pytest.raises(SpecError, match="params"):
        expert_switching(acc, -1, "bf16")


def _intermediate_traffic(net, prefix: str) -> int:  # type: ignore[no-untyped-def]
    """Bytes the intermediates of a block cost when they go through HBM: one write (unless a
    consumer outside the block needs it anyway) plus one read per consumer inside the block."""
    inside = {ly.name: ly for ly in net.layers if ly.name.startswith(prefix + ".")}
    total = 0
    for name, ly in inside.items():
        cons = [d for s, d in net.edges if s == name]
        inner = [c for c in cons if c in inside]
        if inner:
            total += ly.output_bytes * len(inner) + (ly.output_bytes if len(inner) == len(cons) else 0)
    return total


@pytest.mark.parametrize("workload, params", [("gpt2_decode", {"bits": 16}), ("gpt2_prefill", {"seq_len": 256}),
                                              ("bert_base", {})])
def test_fused_beats_unfused_by_the_intermediates(workload: str, params: dict[str, int]) -> None:
    acc = load_hardware("sn40l-like")
    net = load_workload(workload, **params)
    r = fusion_study(acc, net)
    assert r.block == default_block(net) and r.block in ("h.0", "encoder.0")
    assert r.fused_cycles < r.unfused_cycles and r.speedup > 1
    assert r.unfused_bytes - r.fused_bytes == _intermediate_traffic(net, r.block) > 0
    assert set(r.layers["intermediate_tier"]) <= {"sram", ""}
    weights = sum(ly.weight_bytes for ly in net.layers if ly.name.startswith(r.block + ".") and ly.op == "gemm")
    assert r.fused_bytes >= weights  # weights are still streamed once from HBM


def test_fusion_with_a_tiny_sram_spills_intermediates() -> None:
    acc = load_hardware("sn40l-like")
    sram = dataclasses.replace(acc.tiers[0], capacity_bytes=200_000, partitions={})
    small = dataclasses.replace(acc, tiers=(sram, *acc.tiers[1:]))
    net = load_workload("bert_base")
    big, tiny = fusion_study(acc, net), fusion_study(small, net)
    assert "hbm" in set(tiny.layers["intermediate_tier"])
    assert tiny.fused_bytes > big.fused_bytes and tiny.intermediate_bytes < big.intermediate_bytes
    assert tiny.unfused_bytes == big.unfused_bytes


def test_fusion_bad_block() -> None:
    with pytest.raises(SpecError, match="block: no layer of .* in this block"):
        fusion_study(load_hardware("sn40l-like"), load_workload("gpt2_decode"), "decoder.7")
