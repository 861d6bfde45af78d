"""Sliding-window (SWAT) vs dense attention designs: linear vs quadratic latency."""

import numpy as np
import pytest

from acceldse.simulator.fpga.attention import compare_attention, dense_attention, swat_attention
from acceldse.workloads.errors import SpecError

NS = (1024, 2048, 4096, 8192, 16384)


DOCS_TABLE = {  # docs/fpga.md "SWAT vs dense attention" (ZCU102, window 512): N -> SWAT ms, dense ms, SWAT uJ, dense uJ
    512: (0.085, 0.085, 300, 300), 1024: (0.167, 0.334, 595, 1105), 2048: (0.331, 1.323, 1183, 4230),
    4096: (0.658, 5.267, 2361, 16536), 8192: (1.314, 21.019, 4715, 65379), 16384: (2.624, 83.981, 9425, 260989)}


@pytest.mark.parametrize("platform", ["zcu102", "u250"])
def test_swat_linear_dense_quadratic(platform: str) -> None:
    table = compare_attention(platform, seq_lens=NS, window=512)
    if platform == "zcu102":  # the figures docs/fpga.md quotes, and N = W = 512
        docs = compare_attention(platform, seq_lens=(512, *NS), window=512)
        got = {int(r.seq_len): (round(r.swat_latency_ms, 3), round(r.dense_latency_ms, 3), round(r.swat_energy_uj),
                                round(r.dense_energy_uj)) for r in docs.itertuples()}
        assert got == DOCS_TABLE
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


@pytest.mark.parametrize("n", [256, 1024, 2048])
def test_window_equal_to_sequence_is_the_dense_design(n: int) -> None:
    """Same pipelining assumptions: at N = W the two designs are one design (time, resources, energy)."""
    s = swat_attention(n, n, "zcu102")
    d = dense_attention(n, "zcu102")
    assert (s.macs, s.latency_cycles, s.offchip_bytes) == (d.macs, d.latency_cycles, d.offchip_bytes)
    assert (s.dsp, s.bram18, s.lut, s.ff) == (d.dsp, d.bram18, d.lut, d.ff)
    assert s.energy_uj == pytest.approx(d.energy_uj)


def test_dense_chunks_kv_when_it_does_not_fit() -> None:
    d = dense_attention(16384, "zcu102")  # 2 x 16384 x 64 x 16 bit K/V = 2 x 1,024 BRAM18 > 1,824
    chunks = 2  # 2,048 K/V blocks over the 1,824 - 2 - 1 left after the Q row and score row
    assert d.offchip_bytes == (4 * 16384 * 64 + 3 * (chunks - 1) * 16384 * 64) * 2
    assert d.bram18 <= 1824


def test_swat_saves_energy_at_long_sequences() -> None:
    table = compare_attention("zcu102", seq_lens=(1024, 16384), window=512)
    assert np.all(table["energy_ratio"].to_numpy() > 1.0)
    assert table["energy_ratio"].iloc[1] > table["energy_ratio"].iloc[0]


def test_bad_inputs() -> None:
    with pytest.raises(SpecError):
        swat_attention(0, 16, "zcu102")
    with pytest.raises(SpecError, match=r"window: .*16,777,216"):
        swat_attention(64, 1 << 25, "zcu102")  # a window longer than the longest sequence
    with pytest.raises(SpecError):
        swat_attention(1 << 20, 1 << 20, "zc706", head_dim=256)  # window buffers exceed BRAM
