"""Run the streaming attention case study: cycles, throughput, FIFO depth and accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.dataflows.streams.sdpa import VARIANTS, SdpaGraph, naive_graph, reference_attention, reordered_graph
from acceldse.dataflows.streams.values import evaluate
from acceldse.simulator.streaming.compiled import run_compiled
from acceldse.simulator.streaming.limits import check_sdpa, work_limit
from acceldse.simulator.streaming.result import StreamResult
from acceldse.simulator.streaming.trace import write_trace
from acceldse.workloads.errors import SpecError


@dataclass(frozen=True)
class SdpaResult:
    """One streaming-attention run.

    Attributes:
        variant: ``naive``, ``reordered`` or ``window``.
        executor: ``compiled`` (the engine that ran it).
        seq_len, head_dim: N and d.
        window: keys per row for ``window`` (else None).
        fifo_depth: depth of the long FIFO (naive/window) or of every FIFO (reordered), tokens.
        cycles: total cycles (at deadlock: cycle at which progress stopped).
        tokens: scores streamed (``N * L``, L keys per row).
        tokens_per_cycle: ``tokens / cycles`` (1.0 is one element per cycle).
        fill_cycles: ``cycles - tokens`` (pipeline fill and stalls; constant at full rate).
        deadlock: None, or a description naming the blocked contexts and channels.
        deadlock_full_channels: channels full at deadlock (producer blocked writing).
        deadlock_empty_channels: channels a blocked consumer waits on for tokens.
        max_fifo_occupancy: channel -> most tokens it held.
        max_abs_error: max |streamed - exact softmax attention| (NaN on deadlock or when
            values were not computed).
    """

    variant: str
    executor: str
    seq_len: int
    head_dim: int
    window: int | None
    fifo_depth: int
    cycles: int
    tokens: int
    tokens_per_cycle: float
    fill_cycles: int
    deadlock: str | None
    deadlock_full_channels: list[str]
    deadlock_empty_channels: list[str]
    max_fifo_occupancy: dict[str, int]
    max_abs_error: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes None)."""
        out = asdict(self)
        if out["max_abs_error"] != out["max_abs_error"]:
            out["max_abs_error"] = None
        return out


VALUE_BLOCK_TOKENS = 1 << 21
"""Scores whose values are evaluated at once: rows are independent, so the output is computed
block of query rows by block (a few hundred MB at most, whatever N)."""


def build_sdpa(variant: str, q: np.ndarray, k: np.ndarray, v: np.ndarray, *, window: int | None = None,
               fifo_depth: int | None = None, first_row: int = 0) -> SdpaGraph:
    """Build the attention graph of ``variant`` on the given inputs (``q`` may be a block of rows
    starting at query ``first_row``)."""
    if variant not in VARIANTS:
        raise SpecError("unknown SDPA variant", key="variant", value=variant, accepted=" | ".join(VARIANTS))
    if variant == "reordered":
        if window is not None:
            raise SpecError("window applies to the window variant only", key="window", value=window,
                            accepted="no window with variant reordered")
        return reordered_graph(q, k, v, **({} if fifo_depth is None else {"fifo_depth": fifo_depth}))
    if variant == "naive" and window is not None:
        raise SpecError("window applies to the window variant only", key="window", value=window,
                        accepted="no window with variant naive (or variant window)")
    if variant == "window" and window is None:
        raise SpecError("the window variant needs a window", key="window", value=None,
                        accepted="an integer in 1..seq_len")
    return naive_graph(q, k, v, fifo_depth=fifo_depth, window=window, first_row=first_row)


def _max_abs_error(variant: str, q: np.ndarray, k: np.ndarray, v: np.ndarray, *, window: int | None,
                   fifo_depth: int | None, scores_per_row: int,
                   progress: Callable[[int, int, str], None] | None = None) -> float:
    """Largest |streamed - exact| attention output, the graph's context functions evaluated on
    blocks of query rows (each block streams exactly those rows' tokens of the whole graph)."""
    rows = max(1, VALUE_BLOCK_TOKENS // scores_per_row)
    error = 0.0
    blocks = -(-q.shape[0] // rows)
    for first in range(0, q.shape[0], rows):
        if progress is not None:
            progress(1 + first // rows, 1 + blocks, f"values rows {first}..")
        block = build_sdpa(variant, q[first:first + rows], k, v, window=window, fifo_depth=fifo_depth,
                           first_row=first)
        out = evaluate(block.graph)[block.output_channel]
        if out is None:
            raise RuntimeError(f"the {variant} graph computes no output values")
        exact = reference_attention(q[first:first + rows], k, v, block.keys)
        error = max(error, float(np.max(np.abs(out - exact))))
    return error


def run_sdpa(variant: str, seq_len: int, head_dim: int, *, window: int | None = None,
             fifo_depth: int | None = None, seed: int = 0,
             values: bool = True, trace_path: str | Path | None = None,
             carry_tokens: bool = False,
             progress: Callable[[int, int, str], None] | None = None, max_work: int | None = None) -> SdpaResult:
    """Stream scaled-dot-product attention on random Q, K, V (standard normal, ``seed``).

    Args:
        variant: ``naive`` (long FIFO before the divide), ``reordered`` (online softmax) or
            ``window`` (naive softmax over ``window`` keys per query).
        seq_len: N (>= 1). head_dim: d (>= 1).
        window: keys per query row for ``window``.
        fifo_depth: long-FIFO depth (naive/window; default row length + 12) or the depth of
            every FIFO (reordered; default 12), in tokens.
        values: compute the attention output and ``max_abs_error`` against numpy's exact softmax
            attention.
        trace_path: write a Chrome/Perfetto trace JSON there.
        carry_tokens: carry real token values through every context in the order the engine fired
            them (``Context.step``: scores, exponentials, sums, divides and mat-vec accumulations one
            token at a time), so the output compared is the graph's own arithmetic.  Default off:
            the graph's whole-stream ``fn`` are evaluated block of query rows by block, so memory
            stays bounded for long sequences.
        progress: ``progress(done, total, stage)``: the timing run, then each block of rows of values.
        max_work: the most scores streamed (N x min(window, N)) accepted, refused up front (default
            ``limits.MAX_WORK``: of a timing run, of a run carrying tokens, or of a trace).
    """
    carry = bool(carry_tokens) and values
    n, d = check_sdpa(seq_len, head_dim, window if variant == "window" else None,
                      work_limit("tokens" if carry else "compiled", trace=trace_path is not None, max_work=max_work))
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    sg = build_sdpa(variant, q, k, v, window=window, fifo_depth=fifo_depth)
    if progress is not None:
        progress(0, 1, "timing")
    result: StreamResult = run_compiled(sg.graph, record=trace_path is not None, tokens=carry)
    if trace_path is not None:
        write_trace(sg.graph, result, trace_path)
    error = float("nan")
    if values and result.deadlock is None:
        if carry and result.values:
            out = result.values[sg.output_channel]
            error = float(np.max(np.abs(np.asarray(out, dtype=float) - reference_attention(q, k, v, sg.keys))))
        else:
            error = _max_abs_error(variant, q, k, v, window=window, fifo_depth=fifo_depth,
                                   scores_per_row=sg.keys.shape[1], progress=progress)
    if progress is not None:
        progress(1, 1, "done")
    depth_channel = sg.long_fifo or sg.graph.channels[0].name
    dl = result.deadlock
    return SdpaResult(
        variant=variant, executor=result.executor, seq_len=n, head_dim=d,
        window=window if variant == "window" else None,
        fifo_depth=next(ch.capacity for ch in sg.graph.channels if ch.name == depth_channel),
        cycles=result.cycles, tokens=sg.scores if dl is None else result.firings["qk"],
        tokens_per_cycle=(sg.scores / result.cycles) if dl is None and result.cycles else 0.0,
        fill_cycles=result.cycles - sg.scores if dl is None else 0,
        deadlock=None if dl is None else dl.describe(),
        deadlock_full_channels=[] if dl is None else dl.full_channels,
        deadlock_empty_channels=[] if dl is None else dl.empty_channels,
        max_fifo_occupancy=result.max_occupancy, max_abs_error=error)


CRITERIA = ("no-deadlock", "full-rate")


def min_fifo_depth(variant: str, seq_len: int, *, head_dim: int = 8, window: int | None = None,
                   criterion: str = "no-deadlock", seed: int = 0, max_work: int | None = None) -> int:
    """Smallest FIFO depth (tokens) meeting ``criterion``, by bisection on the compiled executor.

    The depth searched is the long FIFO's for ``naive``/``window`` and every FIFO's for
    ``reordered``. ``no-deadlock``: the run finishes. ``full-rate``: it finishes in as few
    cycles as with unbounded depth (depth = scores streamed). Both properties are monotone in
    the depth (more buffering never delays a firing), so the search (galloping up, then bisection; for
    ``full-rate`` from the ``no-deadlock`` minimum, each depth run once) is exact. ``max_work``: the most scores
    of one run accepted (default ``limits.MAX_WORK["compiled"]``).
    """
    if criterion not in CRITERIA:
        raise SpecError("unknown criterion", key="criterion", value=criterion, accepted=" | ".join(CRITERIA))
    n, d = check_sdpa(seq_len, head_dim, window if variant == "window" else None,
                      work_limit("compiled", max_work=max_work))
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    unbounded = n * (window if variant == "window" and window is not None else n)
    runs: dict[int, int | None] = {}

    def cycles(depth: int) -> int | None:
        if depth not in runs:
            result = run_compiled(build_sdpa(variant, q, k, v, window=window, fifo_depth=depth).graph)
            runs[depth] = None if result.deadlock is not None else result.cycles
        return runs[depth]

    def smallest(ok: Callable[[int], bool], start: int) -> int:
        """The smallest depth >= ``start`` that is ``ok`` (monotone): gallop up from ``start``, then bisect."""
        if ok(start):
            return start
        lo, step = start, 1
        hi = min(start + step, unbounded)
        while hi < unbounded and not ok(hi):
            lo, step = hi, 2 * step
            hi = min(start + step, unbounded)
        if not ok(hi):
            raise RuntimeError(f"{variant} deadlocks even with FIFO depth {unbounded}")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid
        return hi

    runs_through = smallest(lambda depth: cycles(depth) is not None, 1)
    if criterion == "no-deadlock":
        return runs_through
    best = cycles(unbounded)
    return smallest(lambda depth: cycles(depth) == best, runs_through)  # full rate needs no deadlock first
