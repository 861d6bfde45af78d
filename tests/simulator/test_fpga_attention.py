"""Sliding-window (SWAT) vs dense attention designs: linear vs quadratic latency."""

import numpy as np
import pytest

from simulator.fpga.attention import compare_attention, dense_attention, swat_attention
from workloads.errors import SpecError

NS = (1024, 2048, 4096, 8192, 16384)


@pytest.mark.parametrize("platform", ["zcu102", "u250"])
def test_swat_linear_dense_quadratic(platform: str) -> None:
    table = compare_attention(platform, seq_lens=NS, window=512)
    swat = table["swat_latency_ms"].to_numpy()
    dense = table["dense_latency_ms"].to_numpy()
    # doubling N doubles SWAT latency (within the constant fill) and ~quadruples dense latency
    assert np.allclose(swat[1:] / swat[:-1], 2.0, rtol=0.02)
    assert np.all(dense[1:] / dense[:-1] > 3.5)
    # log-log slope
    assert np.polyfit(np.log(NS), np.log(swat), 1)[0] == pytest.approx(1.0, abs=0.03)
    assert np.polyfit(np.log(NS), np.log(dense), 1)[0] == pytest.approx(2.0, abs=0.1)
    assert np.all(table["speedup"].to_numpy()[1:] > table["speedup"].to_numpy()[:-1])


def test_swat_macs_are_n_times_w() -> None:
    r = swat_attention(4096, 256, "zcu102", head_dim=64, heads=2)
    assert r.macs == 2 * 2 * 4096 * 256 * 64
    assert r.offchip_bytes == 2 * 4 * 4096 * 64 * 2  # Q, K, V, O once, 16-bit
    assert r.latency_cycles >= r.compute_cycles


def test_window_equal_to_sequence_matches_dense_work() -> None:
    s = swat_attention(1024, 1024, "zcu102")
    d = dense_attention(1024, "zcu102")
    assert s.macs == d.macs
    assert s.latency_cycles <= d.latency_cycles  # fused row pipeline is never slower


def test_bad_inputs() -> None:
    with pytest.raises(SpecError):
        swat_attention(0, 16, "zcu102")
    with pytest.raises(SpecError):
        swat_attention(1 << 20, 1 << 20, "zc706", head_dim=256)  # window buffers exceed BRAM
