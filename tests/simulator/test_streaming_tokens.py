"""Token values carried through the streaming engine (Context.step), for naive, reordered, window SDPA.

The executors fire every context on the token values it consumes, so the attention output is
the graph's own per-token arithmetic -- checked against numpy's exact softmax attention to 1e-6,
with every whole-stream ``fn`` removed from the graph so nothing is computed outside the engine.
"""

from dataclasses import replace

import numpy as np
import pytest

from acceldse.dataflows.streams.graph import build_graph
from acceldse.dataflows.streams.sdpa import reference_attention
from acceldse.dataflows.streams.tokens import replay
from acceldse.dataflows.streams.values import evaluate
from acceldse.simulator.streaming.compiled import run_compiled
from acceldse.simulator.streaming.sdpa import build_sdpa, run_sdpa
from acceldse.workloads.errors import SpecError

CASES = [("naive", None), ("reordered", None), ("window", 7)]


def _qkv(n: int, d: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    return q, k, v


def _without_fn(graph):  # type: ignore[no-untyped-def]
    return build_graph([replace(c, fn=None) for c in graph.contexts], graph.channels, name=graph.name)


@pytest.mark.parametrize("variant,window", CASES)
def test_engine_values_equal_numpy_attention(variant: str, window: int | None) -> None:
    q, k, v = _qkv(24, 8)
    sg = build_sdpa(variant, q, k, v, window=window)
    result = run_compiled(_without_fn(sg.graph), tokens=True)
    assert result.deadlock is None and result.values is not None
    out = np.asarray(result.values[sg.output_channel], dtype=float)
    assert out.shape == (24, 8)
    assert np.max(np.abs(out - reference_attention(q, k, v, sg.keys))) < 1e-6


@pytest.mark.parametrize("variant,window", CASES)
def test_every_channel_carries_what_the_stream_functions_compute(variant: str, window: int | None) -> None:
    q, k, v = _qkv(12, 4)
    sg = build_sdpa(variant, q, k, v, window=window)
    carried = run_compiled(sg.graph, tokens=True).values
    whole = evaluate(sg.graph)
    assert carried is not None
    for name, stream in whole.items():
        if stream is not None and len(stream):
            assert np.allclose(np.asarray(carried[name], dtype=float), stream, atol=1e-9), name


def test_run_sdpa_carries_tokens_on_request() -> None:
    r = run_sdpa("reordered", 16, 4, carry_tokens=True)
    assert r.max_abs_error < 1e-6
    c = run_sdpa("window", 16, 4, window=4, carry_tokens=True)
    assert c.max_abs_error < 1e-6


def test_a_wrong_step_is_caught_and_changes_the_output() -> None:
    q, k, v = _qkv(8, 4)
    sg = build_sdpa("naive", q, k, v)
    ctxs = [replace(c, step=lambda st, f, ins: ([np.exp(ins[0][0]) * 2], [np.exp(ins[0][0])]))
            if c.name == "exp" else c for c in sg.graph.contexts]
    bent = build_graph(ctxs, sg.graph.channels, name="bent")
    out = np.asarray(run_compiled(bent, tokens=True).values[sg.output_channel], dtype=float)
    assert np.max(np.abs(out - reference_attention(q, k, v, sg.keys))) > 0.1  # the engine's arithmetic is checked
    short = [replace(c, step=lambda st, f, ins: ([],)) if c.name == "qk" else c for c in sg.graph.contexts]
    with pytest.raises(SpecError, match="wrote 0 tokens"):
        run_compiled(build_graph(short, sg.graph.channels, name="short"), tokens=True)


def test_replay_rejects_an_order_before_the_inputs() -> None:
    q, k, v = _qkv(4, 2)
    sg = build_sdpa("naive", q, k, v)
    with pytest.raises(SpecError, match="before its input tokens"):
        replay(sg.graph, [("exp", 0)])


def test_deadlocked_run_has_no_values() -> None:
    r = run_sdpa("naive", 16, 4, fifo_depth=4, carry_tokens=True)
    assert r.deadlock is not None and r.max_abs_error != r.max_abs_error  # NaN
