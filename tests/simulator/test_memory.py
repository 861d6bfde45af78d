"""Tensor placement over memory tiers: closest tier with room, spill outward, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.simulator.specs.accelerator import MemoryTier
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.tiers.placement import TensorRequest, place, transfer_cycles, transfer_seconds
from acceldse.workloads.errors import SpecError


def _tiers() -> tuple[MemoryTier, ...]:
    return (
        MemoryTier("regs", "register", 64, 256.0, 256.0),
        MemoryTier("sram", "sram", 1_000, 64.0, 64.0, latency_cycles=2),
        MemoryTier("hbm", "hbm", 10_000, 16.0, 8.0, latency_cycles=100),
        MemoryTier("ddr", "ddr", 100_000, 4.0, 4.0, latency_cycles=300),
    )


def test_closest_tier_then_spill_outward() -> None:
    p = place([TensorRequest("a", 60), TensorRequest("b", 900), TensorRequest("c", 200),
               TensorRequest("d", 9_500), TensorRequest("e", 5_000), TensorRequest("f", 4)], _tiers())
    assert p.where == {"a": "regs", "b": "sram", "c": "hbm", "d": "hbm", "e": "ddr", "f": "regs"}
    assert p.used_bytes == {"regs": 64, "sram": 900, "hbm": 9_700, "ddr": 5_000}
    assert p.free_bytes("hbm") == 300
    assert p.tier_of("c").name == "hbm"
    assert [r["tensors"] for r in p.summary()] == [2, 1, 2, 1]


def test_pinned_and_not_closer_than() -> None:
    p = place([TensorRequest("w", 10, not_closer_than="hbm"), TensorRequest("x", 10, tier="ddr"),
               TensorRequest("y", 10)], _tiers())
    assert p.where == {"w": "hbm", "x": "ddr", "y": "regs"}


def test_tensor_larger_than_every_tier_is_an_error() -> None:
    with pytest.raises(SpecError, match=r"'huge'.*larger than every tier") as err:
        place([TensorRequest("huge", 100_001)], _tiers())
    assert "ddr" in str(err.value) and "100001" in str(err.value)


def test_pinned_tensor_too_big_for_its_tier() -> None:
    with pytest.raises(SpecError, match="larger than every tier"):
        place([TensorRequest("w", 2_000, tier="sram")], _tiers())


def test_out_of_free_space_is_an_error_not_a_silent_spill() -> None:
    reqs = [TensorRequest(f"t{i}", 60_000) for i in range(2)]
    with pytest.raises(SpecError, match=r"'t1'.*fits no tier's free space") as err:
        place(reqs, _tiers())
    assert "ddr" in str(err.value)


@pytest.mark.parametrize("req, match", [
    (TensorRequest("", 5), "non-empty"),
    (TensorRequest("a", 0), "size must be"),
    (TensorRequest("a", -3), "size must be"),
    (TensorRequest("a", 2.5), "size must be"),  # type: ignore[arg-type]
    (TensorRequest("a", 5, tier="l3"), "unknown memory tier"),
    (TensorRequest("a", 5, not_closer_than="nvme"), "unknown memory tier"),
])
def test_bad_requests(req: TensorRequest, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        place([req], _tiers())


def test_duplicate_names_and_non_requests() -> None:
    with pytest.raises(SpecError, match="duplicate"):
        place([TensorRequest("a", 1), TensorRequest("a", 1)], _tiers())
    with pytest.raises(SpecError, match="not a TensorRequest"):
        place([("a", 1)], _tiers())  # type: ignore[list-item]
    with pytest.raises(SpecError, match="at least one memory tier"):
        place([TensorRequest("a", 1)], ())


def test_reserved_bytes() -> None:
    p = place([TensorRequest("a", 600)], _tiers(), reserved_bytes={"regs": 64, "sram": 500})
    assert p.where["a"] == "hbm"
    with pytest.raises(SpecError, match="reserved bytes"):
        place([], _tiers(), reserved_bytes={"sram": 5_000})


def test_three_tier_preset_places_experts() -> None:
    acc = load_hardware("sn40l-like")
    assert [t.name for t in acc.tiers] == ["sram", "hbm", "ddr"]
    expert = 16 * 10**9  # 8B parameters in bf16
    p = place([TensorRequest(f"e{i}", expert) for i in range(10)], acc)
    assert [p.where[f"e{i}"] for i in range(10)] == ["hbm"] * 4 + ["ddr"] * 6


def test_transfer_time_formulas() -> None:
    t = _tiers()[2]
    assert transfer_cycles(0, t) == 0
    assert transfer_cycles(17, t) == 2 + 100
    assert transfer_cycles(17, t, write=True, latency=False) == 3
    assert transfer_seconds(16e9, t, 1000.0) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=120_000), min_size=1, max_size=30))
def test_placement_invariants(sizes: list[int]) -> None:
    tiers = _tiers()
    reqs = [TensorRequest(f"t{i}", s) for i, s in enumerate(sizes)]
    try:
        p = place(reqs, tiers)
    except SpecError:
        # an error only when some tensor really fits nowhere given the earlier ones
        free = {t.name: t.capacity_bytes for t in tiers}
        for s in sizes:
            tier = next((n for n in free if free[n] >= s), None)
            if tier is None:
                return
            free[tier] -= s
        raise
    for t in tiers:
        assert p.used_bytes[t.name] <= t.capacity_bytes
        assert p.used_bytes[t.name] == sum(s for n, s in p.sizes_bytes.items() if p.where[n] == t.name)
    free = {t.name: t.capacity_bytes for t in tiers}
    for r in reqs:  # every closer tier lacked room when it was placed (replayed in order)
        k = [t.name for t in tiers].index(p.where[r.name])
        assert all(free[t.name] < r.size_bytes for t in tiers[:k])
        assert free[p.where[r.name]] >= r.size_bytes
        free[p.where[r.name]] -= r.size_bytes
