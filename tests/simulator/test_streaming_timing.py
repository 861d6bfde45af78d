"""Hand-derived cycle counts for latency, back-pressure, multi-rate and feedback: static contexts, and the same
graphs with generator contexts for the source and sink (one engine runs both)."""

from __future__ import annotations

import numpy as np
import pytest

from acceldse.dataflows.streams import Channel, Context, build_graph
from acceldse.simulator.streaming import StreamDeadlockError, run_compiled, run_graph
from tests.simulator.stream_rule import as_generators


def _run_as_generators(graph, **kw):  # type: ignore[no-untyped-def]
    """The graph with its rate-1 single-port contexts as generator contexts doing the same."""
    return run_compiled(as_generators(graph), **kw)


EXECUTORS = [run_compiled, _run_as_generators]


def _pipe(firings: int, *, src_lat: int = 0, ch_lat: int = 1, cap: int = 1, dst_ii: int = 1,
          dst_rate: int = 1):
    ctxs = [Context("src", outputs=("o",), firings=firings, latency_cycles=src_lat),
            Context("dst", inputs=("i",), firings=firings // dst_rate, ii_cycles=dst_ii,
                    rates={"i": dst_rate})]
    return build_graph(ctxs, [Channel("c", "src.o", "dst.i", capacity=cap, latency_cycles=ch_lat)])


@pytest.mark.parametrize("run", EXECUTORS)
def test_capacity_one_sustains_full_rate(run) -> None:
    # Token k is written at k, visible at k+1, read at k+1 freeing the slot for write k+1.
    res = run(_pipe(10, cap=1), record=True)
    np.testing.assert_array_equal(res.fire_times["src"], np.arange(10))
    np.testing.assert_array_equal(res.fire_times["dst"], np.arange(10) + 1)
    assert res.cycles == 11 and res.max_occupancy["c"] == 1


@pytest.mark.parametrize("run", EXECUTORS)
def test_latency_adds_up(run) -> None:
    # producer latency 5 + channel latency 3: dst fires at k + 8; cycles = (F-1) + 8 + 1.
    res = run(_pipe(10, src_lat=5, ch_lat=3, cap=100), record=True)
    np.testing.assert_array_equal(res.fire_times["dst"], np.arange(10) + 8)
    assert res.cycles == 18


@pytest.mark.parametrize("run", EXECUTORS)
def test_back_pressure_round_trip(run) -> None:
    # cap 4, round trip 8 cycles: write j waits for read j-4 = s[j-4] + 8, so
    # s[j] = 8 * (j // 4) + j % 4 (4 tokens per 8 cycles).
    res = run(_pipe(12, src_lat=5, ch_lat=3, cap=4), record=True)
    j = np.arange(12)
    np.testing.assert_array_equal(res.fire_times["src"], 8 * (j // 4) + j % 4)
    assert res.cycles == 8 * 2 + 3 + 8 + 1
    assert res.max_occupancy["c"] == 4


@pytest.mark.parametrize("run", EXECUTORS)
def test_slow_consumer_throttles_producer(run) -> None:
    # cap 2, consumer II 3: r[j] = 1 + 3j; s = max(s[j-1]+1, r[j-2]) -> 0, 1, 2, 4, 7.
    res = run(_pipe(5, cap=2, dst_ii=3), record=True)
    np.testing.assert_array_equal(res.fire_times["src"], [0, 1, 2, 4, 7])
    np.testing.assert_array_equal(res.fire_times["dst"], [1, 4, 7, 10, 13])
    assert res.cycles == 14


@pytest.mark.parametrize("run", EXECUTORS)
def test_multi_rate_consumer(run) -> None:
    # consumer reads 4 tokens per firing; firing m waits for token 4m+3 (visible 4m+4).
    res = run(_pipe(8, cap=4, dst_rate=4), record=True)
    np.testing.assert_array_equal(res.fire_times["dst"], [4, 8])
    np.testing.assert_array_equal(res.fire_times["src"], np.arange(8))
    assert res.cycles == 9


@pytest.mark.parametrize("run", EXECUTORS)
def test_feedback_loop_with_initial_token(run) -> None:
    # a -> b -> a with one initial token on b->a: each round trip is 2 cycles.
    ctxs = [Context("a", inputs=("fb",), outputs=("o",), firings=5),
            Context("b", inputs=("i",), outputs=("o",), firings=5)]
    graph = build_graph(ctxs, [Channel("a->b", "a.o", "b.i"),
                               Channel("b->a", "b.o", "a.fb", initial_tokens=1)])
    res = run(graph, record=True)
    np.testing.assert_array_equal(res.fire_times["a"], [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(res.fire_times["b"], [1, 3, 5, 7, 9])
    assert res.cycles == 10 and res.tokens["b->a"] == 6 and res.deadlock is None


@pytest.mark.parametrize("run", EXECUTORS)
def test_deadlock_when_a_firing_needs_more_than_capacity(run) -> None:
    res = run(_pipe(8, cap=3, dst_rate=4))
    dl = res.deadlock
    assert dl is not None
    assert [(b.context, b.channel, b.reason, b.occupancy) for b in dl.blocked] == [
        ("src", "c", "full", 3), ("dst", "c", "empty", 3)]
    assert dl.full_channels == ["c"] and dl.cycle == 3
    assert [b.context for b in dl.wait_cycle] == ["src", "dst"]
    with pytest.raises(StreamDeadlockError, match="'src' blocked writing full channel 'c'"):
        res.raise_for_deadlock()


def test_run_graph_raises_on_request() -> None:
    with pytest.raises(StreamDeadlockError):
        run_graph(_pipe(8, cap=3, dst_rate=4), raise_on_deadlock=True)


def test_leftover_tokens_beyond_capacity_deadlock_the_producer() -> None:
    ctxs = [Context("src", outputs=("o",), firings=6), Context("dst", inputs=("i",), firings=2)]
    graph = build_graph(ctxs, [Channel("c", "src.o", "dst.i", capacity=2)])
    for run in EXECUTORS:
        dl = run(graph).deadlock
        assert dl is not None and dl.blocked_contexts == ["src"] and dl.full_channels == ["c"]
        assert dl.wait_cycle == []
