"""Graph description checks: structure errors at build, rates, stream values."""

from __future__ import annotations

import numpy as np
import pytest

from acceldse.dataflows.streams import Channel, Context, GeneratorContext, build_graph, evaluate, topological_order
from acceldse.workloads.errors import SpecError


def _chain(**channel_kw: object) -> tuple[list[Context], list[Channel]]:
    ctxs = [Context("src", outputs=("o",), firings=4, fn=lambda: np.arange(4.0)),
            Context("dst", inputs=("i",), firings=4, fn=lambda x: ())]
    chans = [Channel("src->dst", "src.o", "dst.i", **channel_kw)]  # type: ignore[arg-type]
    return ctxs, chans


def test_zero_latency_channel_rejected_naming_it() -> None:
    with pytest.raises(SpecError, match="src->dst.*zero latency"):
        Channel("src->dst", "src.o", "dst.i", capacity=2, latency_cycles=0)


@pytest.mark.parametrize("kw, match", [({"capacity": 0}, "capacity"), ({"latency_cycles": -1}, "latency"),
                                       ({"capacity": 1, "initial_tokens": 2}, "initial tokens")])
def test_bad_channel_numbers(kw: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        Channel("c", "a.o", "b.i", **kw)


def test_bad_endpoint_format() -> None:
    with pytest.raises(SpecError, match="context.port"):
        Channel("c", "a", "b.i")


def test_unknown_context_and_port_rejected() -> None:
    ctxs, _ = _chain()
    with pytest.raises(SpecError, match="unknown context.*'nosuch'"):
        build_graph(ctxs, [Channel("c", "nosuch.o", "dst.i")])
    with pytest.raises(SpecError, match="unknown output port.*'src'"):
        build_graph(ctxs, [Channel("c", "src.zz", "dst.i")])


def test_dangling_port_rejected_naming_context_and_port() -> None:
    ctxs = [Context("src", outputs=("o", "extra"), firings=4), Context("dst", inputs=("i",), firings=4)]
    with pytest.raises(SpecError, match="'src' has a dangling port 'extra'"):
        build_graph(ctxs, [Channel("c", "src.o", "dst.i")])


def test_port_with_two_channels_rejected() -> None:
    ctxs = [Context("src", outputs=("o",), firings=4), Context("a", inputs=("i",), firings=4),
            Context("b", inputs=("i",), firings=4)]
    with pytest.raises(SpecError, match="two channels"):
        build_graph(ctxs, [Channel("c1", "src.o", "a.i"), Channel("c2", "src.o", "b.i")])


def test_unbuffered_cycle_rejected_and_buffered_cycle_accepted() -> None:
    ctxs = [Context("a", inputs=("fb",), outputs=("o",), firings=3),
            Context("b", inputs=("i",), outputs=("o",), firings=3)]
    with pytest.raises(SpecError, match=r"cycle without buffering.*'a->b'.*'b->a'"):
        build_graph(ctxs, [Channel("a->b", "a.o", "b.i"), Channel("b->a", "b.o", "a.fb")])
    graph = build_graph(ctxs, [Channel("a->b", "a.o", "b.i"),
                               Channel("b->a", "b.o", "a.fb", initial_tokens=1)])
    assert topological_order(graph) is None


def test_consumer_reading_more_than_written_rejected() -> None:
    ctxs = [Context("src", outputs=("o",), firings=4), Context("dst", inputs=("i",), firings=3, rates={"i": 2})]
    with pytest.raises(SpecError, match="reads 6 tokens but only 4"):
        build_graph(ctxs, [Channel("c", "src.o", "dst.i")])


def test_rate_patterns_and_totals() -> None:
    ctx = Context("r", inputs=("x",), outputs=("y",), firings=10, rates={"y": [0, 0, 1]})
    assert [ctx.rate("y", k) for k in range(6)] == [0, 0, 1, 0, 0, 1]
    assert ctx.total_tokens("y") == 3 and ctx.total_tokens("x") == 10
    with pytest.raises(SpecError, match="rates"):
        Context("r", inputs=("x",), firings=2, rates={"nope": 1})
    with pytest.raises(SpecError, match="empty"):
        Context("r", inputs=("x",), firings=2, rates={"x": []})
    with pytest.raises(SpecError, match="ii_cycles"):
        Context("r", firings=2, ii_cycles=0)
    assert Context("r", inputs=("x",), firings=2, rates={"x": "12"}).rates["x"] == (12,)
    for bad in ({"x": [1, -1]}, {"x": 1.5}, {"x": {"a": 1}}, {"x": [True]}):
        with pytest.raises(SpecError, match="rates.x"):
            Context("r", inputs=("x",), firings=2, rates=bad)


def test_duplicate_names_rejected() -> None:
    ctxs, chans = _chain()
    with pytest.raises(SpecError, match="duplicate context"):
        build_graph(ctxs + [Context("src", firings=1)], chans)


def test_values_flow_through_functions() -> None:
    ctxs = [Context("src", outputs=("o",), firings=6, fn=lambda: np.arange(6.0)),
            Context("sq", inputs=("i",), outputs=("o",), firings=6, fn=lambda x: x * x),
            Context("sum3", inputs=("i",), outputs=("o",), firings=6, rates={"o": [0, 0, 1]},
                    fn=lambda x: x.reshape(2, 3).sum(axis=1)),
            Context("sink", inputs=("i",), firings=2, fn=lambda x: ())]
    chans = [Channel("a", "src.o", "sq.i"), Channel("b", "sq.o", "sum3.i"), Channel("c", "sum3.o", "sink.i")]
    streams = evaluate(build_graph(ctxs, chans))
    np.testing.assert_array_equal(streams["c"], [0 + 1 + 4, 9 + 16 + 25])


def test_wrong_length_fn_output_is_an_error() -> None:
    ctxs = [Context("src", outputs=("o",), firings=4, fn=lambda: np.arange(3.0)),
            Context("dst", inputs=("i",), firings=4)]
    with pytest.raises(SpecError, match="wrong-length"):
        evaluate(build_graph(ctxs, [Channel("c", "src.o", "dst.i")]))


def test_generator_context_needs_body() -> None:
    with pytest.raises(SpecError, match="body"):
        GeneratorContext("g", inputs=("i",))
