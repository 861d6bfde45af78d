"""Streaming attention: the published depth/throughput behaviour, exact values, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.cli import main
from acceldse.dataflows.streams.sdpa import SMALL_FIFO_DEPTH, naive_graph, reference_attention, reordered_graph
from acceldse.simulator.streaming import run_compiled, run_sdpa
from acceldse.simulator.streaming.sdpa import min_fifo_depth
from acceldse.workloads.errors import SpecError
from tests.simulator.stream_rule import timing_rule

# Cycles beyond one per score, derived by hand (stage latency + 1-cycle channel each hop):
# reordered: the last score leaves qk at N^2 - 1; rowmax +12, exp +3, matvec +2, divide +13,
#   sink +9 -> the sink fires at N^2 - 1 + 39, so cycles = N^2 + 39.
# naive: the last row's sum reaches the divide 12 + 2 + 3 = 17 cycles after the last score
#   (qk -> exp, exp -> rowsum, rowsum -> divide); the divide then streams that row's N
#   elements, matvec +9, sink +13 -> cycles = (N^2 - 1) + 17 + (N - 1) + 9 + 13 + 1
#   = N^2 + N + 38.
REORDERED_FILL = 39
NAIVE_FILL = 38


@pytest.mark.parametrize("n", [16, 48, 64, 100])
def test_naive_deadlocks_below_n_and_runs_at_n(n: int) -> None:
    stuck = run_sdpa("naive", n, 4, fifo_depth=n - 1)
    assert stuck.deadlock is not None and "exp->divide" in stuck.deadlock
    assert "exp->divide" in stuck.deadlock_full_channels
    assert np.isnan(stuck.max_abs_error)
    ok = run_sdpa("naive", n, 4, fifo_depth=n)
    assert ok.deadlock is None and ok.max_abs_error < 1e-12
    assert ok.max_fifo_occupancy["exp->divide"] == n


@pytest.mark.parametrize("n", [16, 64, 128, 256])
def test_naive_one_element_per_cycle_with_a_row_of_buffering(n: int) -> None:
    res = run_sdpa("naive", n, 4, fifo_depth=n + 4)
    # one score per cycle: cycles = N^2 + one row (waiting for the row sum) + a constant fill
    assert res.cycles == n * n + n + NAIVE_FILL
    assert res.tokens_per_cycle > n * n / (n * n + n + 40)
    # At depth exactly N, exp's first write of row r+1 needs the slot freed by divide's first
    # read of row r, which waits for the row sum: exp (1) + channel (1) + rowsum (2) +
    # channel (1) = 5 cycles after exp's last firing of row r instead of 1 -> 4 stall
    # cycles at every row boundary but the last.
    assert run_sdpa("naive", n, 4, fifo_depth=n, values=False).cycles == res.cycles + 4 * (n - 1)


@pytest.mark.parametrize("n", [64, 256, 1024])
def test_reordered_full_rate_with_constant_depth(n: int) -> None:
    res = run_sdpa("reordered", n, 8, values=n <= 256)
    assert res.deadlock is None
    assert res.fifo_depth == SMALL_FIFO_DEPTH
    assert res.cycles == n * n + REORDERED_FILL
    assert max(res.max_fifo_occupancy.values()) <= SMALL_FIFO_DEPTH
    if n <= 256:
        assert res.max_abs_error < 1e-12


@pytest.mark.slow
def test_reordered_4096_full_rate_and_exact() -> None:
    res = run_sdpa("reordered", 4096, 16)
    assert res.cycles == 4096 * 4096 + REORDERED_FILL
    assert res.max_abs_error < 1e-12


def test_reordered_depth_twelve_is_the_full_rate_minimum() -> None:
    for n in (32, 128):
        assert min_fifo_depth("reordered", n, criterion="full-rate") == SMALL_FIFO_DEPTH
        slower = run_sdpa("reordered", n, 4, fifo_depth=SMALL_FIFO_DEPTH - 1, values=False)
        assert slower.deadlock is None and slower.cycles > n * n + REORDERED_FILL


@pytest.mark.slow
def test_readme_naive_depths_at_1024(capsys) -> None:
    """The README stream table's naive row at N = 1,024 (1,024 / 1,028), by the command that finds it."""
    depths = []
    for criterion in ("no-deadlock", "full-rate"):
        assert main(["stream", "min-depth", "--variant", "naive", "--seq-len", "1024", "--criterion", criterion,
                     "--json"]) == 0
        depths.append(json.loads(capsys.readouterr().out)["min_fifo_depth"])
    assert depths == [1024, 1028]


@pytest.mark.parametrize("window", [4, 16, 40])
def test_window_depth_grows_with_window_not_n(window: int) -> None:
    depths = {n: min_fifo_depth("window", n, window=window) for n in (64, 160)}
    assert depths == {64: window, 160: window}
    full = {n: min_fifo_depth("window", n, window=window, criterion="full-rate") for n in (64, 160)}
    assert full == {64: window + 4, 160: window + 4}


def test_naive_min_depth_is_n() -> None:
    assert [min_fifo_depth("naive", n) for n in (8, 33, 96)] == [8, 33, 96]


def test_window_attention_is_exact_and_at_full_rate() -> None:
    res = run_sdpa("window", 96, 8, window=24, fifo_depth=28)
    assert res.deadlock is None and res.max_abs_error < 1e-12
    assert res.cycles == 96 * 24 + 24 + NAIVE_FILL


@pytest.mark.parametrize("builder, kw", [(naive_graph, {"fifo_depth": 20}), (naive_graph, {"fifo_depth": 15}),
                                         (naive_graph, {"fifo_depth": 8, "window": 8}),
                                         (reordered_graph, {"fifo_depth": 3}), (reordered_graph, {})])
def test_sdpa_graphs_follow_the_timing_rule(builder, kw) -> None:
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((16, 4)) for _ in range(3))
    graph = builder(q, k, v, **kw).graph
    a, ref = run_compiled(graph), timing_rule(graph)
    blocked = [] if a.deadlock is None else [(b.context, b.channel, b.reason) for b in a.deadlock.blocked]
    assert (a.cycles, a.firings, a.max_occupancy, blocked) == (ref["cycles"], ref["firings"], ref["max_occupancy"],
                                                               ref["blocked"])


def test_streamed_values_equal_softmax_attention_including_large_scores() -> None:
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((32, 8)) * 4 for _ in range(3))
    sg = reordered_graph(q, k, v)
    out = run_compiled(sg.graph, values=True).values[sg.output_channel]
    s = q @ k.T / np.sqrt(8)
    p = np.exp(s - s.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, (p / p.sum(axis=1, keepdims=True)) @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reference_attention(q, k, v), out, rtol=1e-12, atol=1e-12)


def test_bad_sdpa_requests() -> None:
    with pytest.raises(SpecError, match="variant"):
        run_sdpa("fast", 8, 2)
    with pytest.raises(SpecError, match="window"):
        run_sdpa("window", 8, 2)
    with pytest.raises(SpecError, match="window"):
        run_sdpa("window", 8, 2, window=9)
    with pytest.raises(SpecError, match="seq_len"):
        run_sdpa("naive", 0, 2)


def test_cli_json(capsys) -> None:
    assert main(["stream", "sdpa", "--variant", "naive", "--seq-len", "32", "--head-dim", "4",
                 "--fifo-depth", "31", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("cycles", "tokens", "tokens_per_cycle", "deadlock", "max_fifo_occupancy", "max_abs_error"):
        assert key in out
    assert "exp->divide" in out["deadlock"] and out["max_abs_error"] is None
    assert main(["stream", "sdpa", "--variant", "reordered", "--seq-len", "32", "--head-dim", "4",
                 "--carry-tokens", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["deadlock"] is None and out["cycles"] == 32 * 32 + REORDERED_FILL and out["max_abs_error"] < 1e-12


def test_cli_text_and_trace(capsys, tmp_path) -> None:
    path = tmp_path / "t.json"
    assert main(["stream", "sdpa", "--variant", "window", "--seq-len", "32", "--head-dim", "4", "--window", "8",
                 "--trace", str(path)]) == 0
    text = capsys.readouterr().out
    assert "tokens per cycle" in text and "trace written" in text
    tids = {e["tid"] for e in json.loads(path.read_text())["traceEvents"] if e["ph"] == "X"}
    assert len(tids) == 6
    assert main(["stream", "sdpa", "--variant", "window", "--seq-len", "32", "--head-dim", "4"]) == 2


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), d=st.integers(1, 6), w=st.integers(2, 40), seed=st.integers(0, 2**16))
def test_every_variant_is_exact_and_full_rate_at_default_depth(n: int, d: int, w: int, seed: int) -> None:
    """Default depths stream one score per cycle after a constant fill, for any N, d, W >= 2."""
    re = run_sdpa("reordered", n, d, seed=seed)
    assert re.cycles == n * n + REORDERED_FILL and re.max_abs_error < 1e-12
    nv = run_sdpa("naive", n, d, seed=seed)
    assert nv.cycles == n * n + n + NAIVE_FILL and nv.max_abs_error < 1e-12
    if w <= n:
        wi = run_sdpa("window", n, d, window=w, seed=seed)
        assert wi.cycles == n * w + w + NAIVE_FILL and wi.max_abs_error < 1e-12


@pytest.mark.parametrize("argv", [["stream", "--help"], ["stream", "sdpa", "--help"], ["stream", "run", "--help"],
                                  ["stream", "min-depth", "--help"]])
def test_cli_help_has_examples(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "acceldse stream sdpa --variant" in capsys.readouterr().out
