"""The executor against the timing rule transcribed literally (random graphs, generator contexts too); traces;
generator contexts; kernels vs reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acceldse.dataflows.streams import Channel, Context, GeneratorContext, StreamGraph, build_graph
from acceldse.simulator.streaming import build_trace, run_compiled, run_graph
from acceldse.simulator.streaming.trace import occupancy_steps
from tests.simulator.stream_rule import as_generators, timing_rule


@st.composite
def random_graphs(draw: st.DrawFn) -> StreamGraph:
    """A source, a chain of stages (random II, latency, cyclo-static rates), sometimes a
    fork-join diamond, and a sink; channels with random capacity and latency."""
    firings = draw(st.integers(4, 40))
    ctxs = [Context("s0", outputs=("o",), firings=firings, ii_cycles=draw(st.integers(1, 3)),
                    latency_cycles=draw(st.integers(0, 6)))]
    chans: list[Channel] = []
    tokens = firings
    prev = "s0.o"

    def channel(name: str, src: str, dst: str) -> Channel:
        return Channel(name, src, dst, capacity=draw(st.integers(1, 6)), latency_cycles=draw(st.integers(1, 4)))

    for i in range(1, draw(st.integers(1, 4)) + 1):
        cons = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3).filter(lambda p: sum(p) > 0))
        prod = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3).filter(lambda p: sum(p) > 0))
        # as many firings as the input tokens allow
        n, used = 0, 0
        while used + cons[n % len(cons)] <= tokens and n < 200:
            used += cons[n % len(cons)]
            n += 1
        if n == 0:
            break
        if sum(prod[k % len(prod)] for k in range(n)) == 0:
            prod = [1]
        name = f"s{i}"
        if draw(st.booleans()):  # diamond: fork into two rate-1 branches that join
            ctxs.append(Context(name, inputs=("i",), outputs=("a", "b"), firings=n,
                                rates={"i": cons, "a": prod, "b": prod}, latency_cycles=draw(st.integers(0, 4))))
            chans.append(channel(f"c{i}", prev, f"{name}.i"))
            made = ctxs[-1].total_tokens("a")
            for br in ("a", "b"):
                ctxs.append(Context(f"{name}{br}", inputs=("i",), outputs=("o",), firings=made,
                                    latency_cycles=draw(st.integers(0, 8)), ii_cycles=draw(st.integers(1, 2))))
                chans.append(channel(f"c{i}{br}", f"{name}.{br}", f"{name}{br}.i"))
            ctxs.append(Context(f"{name}j", inputs=("a", "b"), outputs=("o",), firings=made))
            chans.append(channel(f"c{i}ja", f"{name}a.o", f"{name}j.a"))
            chans.append(channel(f"c{i}jb", f"{name}b.o", f"{name}j.b"))
            prev, tokens = f"{name}j.o", made
        else:
            ctxs.append(Context(name, inputs=("i",), outputs=("o",), firings=n, rates={"i": cons, "o": prod},
                                ii_cycles=draw(st.integers(1, 3)), latency_cycles=draw(st.integers(0, 6))))
            chans.append(channel(f"c{i}", prev, f"{name}.i"))
            prev, tokens = f"{name}.o", ctxs[-1].total_tokens("o")
    ctxs.append(Context("sink", inputs=("i",), firings=tokens))
    chans.append(channel("csink", prev, "sink.i"))
    return build_graph(ctxs, chans, name="random")


def _same(a, ref: dict) -> None:
    """A run (recorded) against the rule's reference."""
    assert a.cycles == ref["cycles"]
    assert a.firings == ref["firings"]
    assert a.tokens == ref["tokens"]
    assert a.max_occupancy == ref["max_occupancy"]
    blocked = [] if a.deadlock is None else [(b.context, b.channel, b.reason) for b in a.deadlock.blocked]
    assert blocked == ref["blocked"]
    if a.deadlock is not None:
        assert a.deadlock.cycle == ref["cycles"]
    for name in a.fire_times:
        np.testing.assert_array_equal(a.fire_times[name], ref["fire_times"][name])
    for name in a.channel_times:
        for x, y in zip(a.channel_times[name], ref["channel_times"][name]):
            np.testing.assert_array_equal(x, y)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_executor_follows_the_timing_rule_on_random_graphs(graph: StreamGraph) -> None:
    a = run_compiled(graph, record=True)
    ref = timing_rule(graph)
    _same(a, ref)
    _same(run_compiled(as_generators(graph), record=True), ref)
    for ch in graph.channels:
        assert a.max_occupancy[ch.name] <= ch.capacity
    # the ring-buffer run (capacity-sized rings, nothing recorded) gives the same answer
    c = run_compiled(graph)
    assert (c.cycles, c.firings, c.tokens, c.max_occupancy, c.deadlock) == (
        a.cycles, a.firings, a.tokens, a.max_occupancy, a.deadlock)


def test_deadlock_iff_a_firing_needs_more_than_capacity() -> None:
    """The executor deadlocks exactly when the consumer's rate exceeds the capacity (as the rule does)."""
    outcomes = set()
    rng = np.random.default_rng(1)
    for _ in range(40):
        cap = int(rng.integers(1, 4))
        rate = int(rng.integers(1, 5))
        ctxs = [Context("a", outputs=("o",), firings=8), Context("b", inputs=("i",), firings=8 // rate,
                                                                 rates={"i": rate})]
        g = build_graph(ctxs, [Channel("c", "a.o", "b.i", capacity=cap)])
        r1 = run_compiled(g)
        assert (r1.deadlock is None) == (rate <= cap) == (timing_rule(g)["blocked"] == [])
        outcomes.add(r1.deadlock is None)
    assert outcomes == {True, False}


def _diamond() -> StreamGraph:
    ctxs = [Context("src", outputs=("o",), firings=20, latency_cycles=3, fn=lambda: np.arange(20.0)),
            Context("fork", inputs=("i",), outputs=("a", "b"), firings=20, fn=lambda x: (x, 2 * x)),
            Context("slow", inputs=("i",), outputs=("o",), firings=20, latency_cycles=7, fn=lambda x: x + 1),
            Context("join", inputs=("a", "b"), outputs=("o",), firings=20, fn=lambda a, b: a * b),
            Context("sink", inputs=("i",), firings=10, rates={"i": 2}, fn=lambda x: ())]
    chans = [Channel("src->fork", "src.o", "fork.i", capacity=4),
             Channel("fork->slow", "fork.a", "slow.i", capacity=2),
             Channel("fork->join", "fork.b", "join.b", capacity=3),
             Channel("slow->join", "slow.o", "join.a", capacity=8),
             Channel("join->sink", "join.o", "sink.i", capacity=2, latency_cycles=2)]
    return build_graph(ctxs, chans, name="diamond")


def test_fork_join_follows_the_rule_and_computes_values() -> None:
    a = run_compiled(_diamond(), record=True, values=True)
    _same(a, timing_rule(_diamond()))
    assert a.context_tokens(_diamond()) == {"src": (0, 20), "fork": (20, 40), "slow": (20, 20),
                                             "join": (40, 20), "sink": (20, 0)}
    x = np.arange(20.0)
    np.testing.assert_array_equal(a.values["join->sink"], (x + 1) * 2 * x)


def test_perfetto_trace_has_one_track_per_context(tmp_path) -> None:
    graph = _diamond()
    path = tmp_path / "trace.json"
    result = run_graph(graph, trace_path=path)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert sorted(names.values()) == sorted(c.name for c in graph.contexts)
    busy_tids = {e["tid"] for e in events if e["ph"] == "X"}
    assert busy_tids == set(names)
    fired = {names[t]: 0 for t in names}
    for e in events:
        if e["ph"] == "X":
            fired[names[e["tid"]]] += e["args"]["firings"]
            assert e["dur"] >= 1
    assert fired == result.firings
    counters = {e["name"] for e in events if e["ph"] == "C"}
    assert counters == {c.name for c in graph.channels}
    peak = {}
    for e in events:
        if e["ph"] == "C":
            peak[e["name"]] = max(peak.get(e["name"], 0), e["args"]["tokens"])
    assert peak == result.max_occupancy


def test_trace_requires_a_recorded_run() -> None:
    with pytest.raises(ValueError, match="record"):
        build_trace(_diamond(), run_compiled(_diamond()))


def test_a_body_using_a_port_its_context_lacks_is_refused() -> None:
    def body(io):
        yield from io.read("x")

    graph = build_graph([Context("src", outputs=("o",), firings=1), GeneratorContext("g", inputs=("i",), body=body)],
                        [Channel("c", "src.o", "g.i")])
    with pytest.raises(ValueError, match="port its context does not have"):
        run_compiled(graph)


def _filter_graph(threshold: float) -> StreamGraph:
    """A data-dependent filter: forwards only values above ``threshold`` (2 cycles of work each)."""
    def body(io):
        for _ in range(10):
            x = yield from io.read("i")
            if x > threshold:
                yield from io.work(2)
                yield from io.write("o", x * 10)
        yield from io.write("o", -1.0)  # end-of-stream marker

    def drain(io):
        while True:
            x = yield from io.read("i")
            if x < 0:
                return

    ctxs = [Context("src", outputs=("o",), firings=10, fn=lambda: np.arange(10.0)),
            GeneratorContext("filter", inputs=("i",), outputs=("o",), body=body),
            GeneratorContext("drain", inputs=("i",), body=drain)]
    chans = [Channel("src->filter", "src.o", "filter.i", capacity=2),
             Channel("filter->drain", "filter.o", "drain.i", capacity=2)]
    return build_graph(ctxs, chans, name="filter")


def test_generator_context_moves_real_values() -> None:
    result = run_compiled(_filter_graph(6.5), record=True, values=True)
    assert result.deadlock is None
    np.testing.assert_array_equal(result.values["filter->drain"], [70.0, 80.0, 90.0, -1.0])
    # src writes 0..9 at cycles 0..9 (the filter keeps up until x = 7); x = 7 is read at 8,
    # written at 10; 8 read at 10 -> written 12; 9 read at 12 -> written 14; marker at 14,
    # visible at 15 where drain reads it and stops.
    assert result.cycles == 16
    np.testing.assert_array_equal(result.channel_times["filter->drain"][0], [10, 12, 14, 14])


def test_generator_deadlock_is_reported() -> None:
    def greedy(io):
        for _ in range(3):
            yield from io.read("i")

    graph = build_graph([Context("src", outputs=("o",), firings=2), GeneratorContext("g", inputs=("i",), body=greedy)],
                        [Channel("c", "src.o", "g.i", capacity=4)])
    dl = run_compiled(graph).deadlock
    assert dl is not None and dl.blocked_contexts == ["g"] and dl.empty_channels == ["c"]
    assert dl.cycle == 3 and dl.blocked[0].firing == -1  # tokens 0, 1 read at 1, 2 (progress stops at 3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-2, 20), min_size=1, max_size=20), st.data())
def test_occupancy_steps_kernel_matches_reference(writes: list[int], data: st.DataObject) -> None:
    w = np.sort(np.asarray(writes, np.int64))
    lags = np.asarray(data.draw(st.lists(st.integers(1, 6), min_size=len(w), max_size=len(w))), np.int64)
    r = np.maximum.accumulate(w + lags)[: data.draw(st.integers(0, len(w)))]
    out_t = np.zeros(w.size + r.size, np.int64)
    out_occ = np.zeros(w.size + r.size, np.int64)
    steps = occupancy_steps(w, r, out_t, out_occ)
    times = sorted(set(w.tolist()) | set(r.tolist()))
    occ = [int((w <= t).sum() - (r <= t).sum()) for t in times]
    expected = [(t, o) for i, (t, o) in enumerate(zip(times, occ)) if i == 0 or o != occ[i - 1]]
    assert list(zip(out_t[:steps].tolist(), out_occ[:steps].tolist())) == expected


def test_livelocked_generator_stops_at_max_cycles() -> None:
    def spin(io):
        while True:
            yield from io.work(1)

    graph = build_graph([GeneratorContext("spin", outputs=("o",), body=spin),
                         Context("sink", inputs=("i",), firings=1)], [Channel("c", "spin.o", "sink.i")])
    with pytest.raises(RuntimeError, match=r"max_cycles=50.*\['spin'\]"):
        run_compiled(graph, max_cycles=50)
    assert run_compiled(_diamond(), max_cycles=10_000).cycles == run_compiled(_diamond()).cycles
