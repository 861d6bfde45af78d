"""Streaming scaled-dot-product attention graphs (naive, reordered online softmax, window).

Every graph streams one score per cycle, row by row: query ``i`` meets the keys in
``keys[i]`` (all ``N`` keys, or a window of ``W`` keys), and computes real attention
``softmax(Q K^T / sqrt(d)) V`` on numpy inputs through the context functions.

Reference pipeline latencies (cycles, II = 1) are the published ones: QK^T 11, reduce 2,
divide 8, mat-vec 12. The element-wise ``exp`` stage is not given there; we use 1 cycle.
Channels take 1 cycle. A token written at issue holds its slot until read, so a channel
leaving a stage of latency ``L`` needs ``L + 1`` slots to sustain one token per cycle: the
QK^T output needs 12, the published small-FIFO depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.dataflows.streams.graph import Channel, Context, StreamGraph, build_graph
from acceldse.workloads.errors import SpecError, require_int

QK_LATENCY_CYCLES = 11
REDUCE_LATENCY_CYCLES = 2
DIVIDE_LATENCY_CYCLES = 8
MATVEC_LATENCY_CYCLES = 12
EXP_LATENCY_CYCLES = 1
CHANNEL_LATENCY_CYCLES = 1
SMALL_FIFO_DEPTH = 12
VARIANTS = ("naive", "reordered", "window")


@dataclass(frozen=True, eq=False)
class SdpaGraph:
    """A built attention graph and what the runner needs to read its results.

    Attributes:
        graph: the streaming graph.
        variant: ``"naive"``, ``"reordered"`` or ``"window"``.
        keys: ``(N, L)`` key indices each query row visits, in stream order.
        scores: scores streamed (``N * L``), the work measured in tokens.
        long_fifo: name of the FIFO whose depth grows with the row length (naive/window), or None.
        output_channel: channel carrying the attention output rows (``N`` tokens of ``d`` values).
    """

    graph: StreamGraph
    variant: str
    keys: np.ndarray
    scores: int
    long_fifo: str | None
    output_channel: str


def window_keys(seq_len: int, window: int | None) -> np.ndarray:
    """Key indices per query row: all keys, or ``window`` consecutive keys centred on the query
    (shifted at the edges so every row has exactly ``window`` keys)."""
    if window is None or window >= seq_len:
        return np.broadcast_to(np.arange(seq_len), (seq_len, seq_len))
    start = np.clip(np.arange(seq_len) - window // 2, 0, seq_len - window)
    return start[:, None] + np.arange(window)[None, :]


def reference_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                        keys: np.ndarray | None = None) -> np.ndarray:
    """Exact softmax attention in numpy (float64), over ``keys[i]`` for row ``i`` if given."""
    scale = 1.0 / np.sqrt(q.shape[1])
    if keys is None or keys.shape[1] == k.shape[0]:
        s = (q @ k.T) * scale
        p = np.exp(s - s.max(axis=1, keepdims=True))
        return (p / p.sum(axis=1, keepdims=True)) @ v
    s = np.einsum("nd,nwd->nw", q, k[keys]) * scale
    p = np.exp(s - s.max(axis=1, keepdims=True))
    return np.einsum("nw,nwd->nd", p / p.sum(axis=1, keepdims=True), v[keys])


def _scores_fn(q: np.ndarray, k: np.ndarray, keys: np.ndarray):  # type: ignore[no-untyped-def]
    scale = 1.0 / np.sqrt(q.shape[1])

    def fn() -> np.ndarray:
        if keys.shape[1] == k.shape[0]:
            s = q @ k.T
            s *= scale
            return s.reshape(-1)
        return (np.einsum("nd,nwd->nw", q, k[keys]) * scale).reshape(-1)
    return fn


def _exp_twice(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = np.exp(s)
    return e, e  # the same values on both outputs (read-only downstream)
Tokens = tuple[list[Any], ...]


def _scores_step(q: np.ndarray, k: np.ndarray, keys: np.ndarray):  # type: ignore[no-untyped-def]
    """Per firing: one score q_i . k_j (row i, j the row's next key) -- the dot product done here."""
    length = keys.shape[1]

    def step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        i = f // length
        return ([float(np.dot(q[i], k[keys[i, f % length]]) / np.sqrt(q.shape[1]))],)
    return step


def _matvec_step(v: np.ndarray, keys: np.ndarray, *, scaled: bool):  # type: ignore[no-untyped-def]
    """Per firing: accumulate ``a * v_j`` (or ``o * delta + e * v_j`` for online softmax); emit at row end."""
    length = keys.shape[1]

    def step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        i, pos = divmod(f, length)
        row = v[keys[i, pos]]
        o = st["o"] if pos else np.zeros(v.shape[1])
        if scaled:
            delta, e = ins[0][0]
            o = o * delta + e * row
        else:
            o = o + ins[0][0] * row
        st["o"] = o
        return ([o],) if pos == length - 1 else ([],)
    return step


def _row_end(length: int) -> tuple[int, ...]:
    return (0,) * (length - 1) + (1,)


def _row_start(length: int) -> tuple[int, ...]:
    return (1,) + (0,) * (length - 1)


def _check(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> tuple[int, int]:
    """``(M, N)``: query rows and keys. ``q`` is ``(M, d)``; ``k`` and ``v`` are ``(N, d)``."""
    for name, arr in (("q", q), ("k", k), ("v", v)):
        if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise SpecError("must be a 2-D numpy array (seq_len x head_dim)", key=name,
                            value=getattr(arr, "shape", arr), accepted="an array of shape (N, d), N, d >= 1")
    if not (k.shape == v.shape and q.shape[1] == k.shape[1]):
        raise SpecError("q, k and v must have matching shapes", key="q/k/v",
                        value=(q.shape, k.shape, v.shape), accepted="q (M, d), k and v (N, d)")
    return q.shape[0], k.shape[0]


def naive_graph(q: np.ndarray, k: np.ndarray, v: np.ndarray, *, fifo_depth: int | None = None,
                window: int | None = None, small_depth: int = SMALL_FIFO_DEPTH, first_row: int = 0) -> SdpaGraph:
    """Naive softmax: scores -> exp -> {row-sum, long FIFO} -> divide -> mat-vec with V.

    The divide needs the row sum before the first element of a row, so the long FIFO must
    hold a whole row: depth < row length (``N``, or ``window``) deadlocks.

    Args:
        q, k, v: ``(N, d)`` float arrays (or ``q`` a block of ``M`` query rows, see ``first_row``).
        fifo_depth: depth of the long FIFO (tokens); default row length + ``small_depth``.
        window: keys per query row (``None``: all ``N``, i.e. full attention).
        small_depth: depth of every other FIFO (tokens).
        first_row: index of ``q``'s first row among the ``N`` queries (a block of rows streams the
            same tokens as those rows of the whole graph; rows are independent).
    """
    rows, n = _check(q, k, v)
    if window is not None:
        window = require_int(window, key="window")
        if window > n:
            raise SpecError("window larger than the sequence", key="window", value=window,
                            accepted=f"an integer in 1..{n}")
    keys = window_keys(n, window)[first_row:first_row + rows]
    if keys.shape[0] != rows:
        raise SpecError("query rows beyond the sequence", key="first_row", value=first_row,
                        accepted=f"first_row + rows of q <= {n}")
    length = keys.shape[1]
    depth = require_int(fifo_depth if fifo_depth is not None else length + small_depth, key="fifo_depth")
    small = require_int(small_depth, key="small_depth")
    total = rows * length

    def rowsum(e: np.ndarray) -> np.ndarray:
        return e.reshape(rows, length).sum(axis=1)

    def divide(x: np.ndarray, l: np.ndarray) -> np.ndarray:
        return (x.reshape(rows, length) / l[:, None]).reshape(-1)

    def matvec(a: np.ndarray) -> np.ndarray:
        if length == n:
            return a.reshape(rows, n) @ v
        return np.einsum("nw,nwd->nd", a.reshape(rows, length), v[keys])

    def rowsum_step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        st["l"] = st.get("l", 0.0) + ins[0][0]
        if f % length < length - 1:
            return ([],)
        out, st["l"] = st["l"], 0.0
        return ([out],)

    def divide_step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        if ins[1]:
            st["l"] = ins[1][0]
        return ([ins[0][0] / st["l"]],)

    ctxs = [
        Context("qk", outputs=("s",), firings=total, latency_cycles=QK_LATENCY_CYCLES,
                fn=_scores_fn(q, k, keys), step=_scores_step(q, k, keys)),
        Context("exp", inputs=("s",), outputs=("to_sum", "to_div"), firings=total,
                latency_cycles=EXP_LATENCY_CYCLES, fn=_exp_twice,
                step=lambda st, f, ins: ([np.exp(ins[0][0])], [np.exp(ins[0][0])])),
        Context("rowsum", inputs=("e",), outputs=("l",), firings=total, rates={"l": _row_end(length)},
                latency_cycles=REDUCE_LATENCY_CYCLES, fn=rowsum, step=rowsum_step),
        Context("divide", inputs=("x", "l"), outputs=("a",), firings=total,
                rates={"l": _row_start(length)}, latency_cycles=DIVIDE_LATENCY_CYCLES, fn=divide,
                step=divide_step),
        Context("matvec", inputs=("a",), outputs=("o",), firings=total, rates={"o": _row_end(length)},
                latency_cycles=MATVEC_LATENCY_CYCLES, fn=matvec, step=_matvec_step(v, keys, scaled=False)),
        Context("sink", inputs=("o",), firings=rows, fn=lambda o: (), step=lambda st, f, ins: ()),
    ]
    lat = CHANNEL_LATENCY_CYCLES
    chans = [
        Channel("qk->exp", "qk.s", "exp.s", capacity=small, latency_cycles=lat),
        Channel("exp->rowsum", "exp.to_sum", "rowsum.e", capacity=small, latency_cycles=lat),
        Channel("exp->divide", "exp.to_div", "divide.x", capacity=depth, latency_cycles=lat),
        Channel("rowsum->divide", "rowsum.l", "divide.l", capacity=small, latency_cycles=lat),
        Channel("divide->matvec", "divide.a", "matvec.a", capacity=small, latency_cycles=lat),
        Channel("matvec->sink", "matvec.o", "sink.o", capacity=small, latency_cycles=lat),
    ]
    variant = "naive" if length == n else "window"
    graph = build_graph(ctxs, chans, name=f"sdpa-{variant}-N{n}-L{length}")
    return SdpaGraph(graph=graph, variant=variant, keys=keys, scores=total, long_fifo="exp->divide",
                     output_channel="matvec->sink")


def reordered_graph(q: np.ndarray, k: np.ndarray, v: np.ndarray, *,
                    fifo_depth: int = SMALL_FIFO_DEPTH) -> SdpaGraph:
    """Online softmax: scores -> running max -> exp -> {running sum, running output} -> divide.

    Per element: ``m = max(m_old, s)``, ``delta = exp(m_old - m)``, ``e = exp(s - m)``,
    ``l = l * delta + e``, ``o = o * delta + e * v_j``; one divide ``o / l`` per row. Every
    FIFO has the same small depth ``fifo_depth``, independent of ``N``. ``q`` may be a block of
    ``M`` query rows (rows are independent: the block streams those rows' tokens).
    """
    rows, n = _check(q, k, v)
    depth = require_int(fifo_depth, key="fifo_depth")
    keys = window_keys(n, None)[:rows]
    total = rows * n

    def runmax(s: np.ndarray) -> np.ndarray:
        smm = np.empty((rows, n, 3))
        smm[:, :, 0] = s.reshape(rows, n)
        np.maximum.accumulate(smm[:, :, 0], axis=1, out=smm[:, :, 1])
        smm[:, 0, 2] = -np.inf
        smm[:, 1:, 2] = smm[:, :-1, 1]
        return smm.reshape(total, 3)

    def exp_stage(smm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        de = np.empty((total, 2))
        np.subtract(smm[:, 2], smm[:, 1], out=de[:, 0])
        np.subtract(smm[:, 0], smm[:, 1], out=de[:, 1])
        np.exp(de, out=de)
        return de, de

    def columns(de: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """delta and e as (key j, query row i) contiguous arrays: column j of every row at once."""
        block = de.reshape(rows, n, 2)
        return np.ascontiguousarray(block[:, :, 0].T), np.ascontiguousarray(block[:, :, 1].T)

    def running_sum(de: np.ndarray) -> np.ndarray:
        delta, e = columns(de)
        l = np.zeros(rows)
        for j in range(n):  # l = l * delta + e, element by element along each row
            l *= delta[j]
            l += e[j]
        return l

    def running_out(de: np.ndarray) -> np.ndarray:
        delta, e = columns(de)
        o = np.zeros((rows, v.shape[1]))
        for j in range(n):  # o = o * delta + e * v_j
            o *= delta[j][:, None]
            o += e[j][:, None] * v[j][None, :]
        return o

    def runmax_step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        s_val = ins[0][0]
        m_old = st.get("m", -np.inf) if f % n else -np.inf
        st["m"] = max(m_old, s_val)
        return ([np.array([s_val, st["m"], m_old])],)

    def exp_step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        s_val, m, m_old = ins[0][0]
        de = np.array([np.exp(m_old - m), np.exp(s_val - m)])
        return ([de], [de])

    def running_sum_step(st: dict[str, Any], f: int, ins: Tokens) -> Tokens:
        delta, e = ins[0][0]
        st["l"] = (st.get("l", 0.0) if f % n else 0.0) * delta + e
        return ([st["l"]],) if f % n == n - 1 else ([],)

    ctxs = [
        Context("qk", outputs=("s",), firings=total, latency_cycles=QK_LATENCY_CYCLES,
                fn=_scores_fn(q, k, keys), step=_scores_step(q, k, keys)),
        Context("rowmax", inputs=("s",), outputs=("smm",), firings=total,
                latency_cycles=REDUCE_LATENCY_CYCLES, fn=runmax, step=runmax_step),
        Context("exp", inputs=("smm",), outputs=("to_sum", "to_out"), firings=total,
                latency_cycles=EXP_LATENCY_CYCLES, fn=exp_stage, step=exp_step),
        Context("rowsum", inputs=("de",), outputs=("l",), firings=total, rates={"l": _row_end(n)},
                latency_cycles=REDUCE_LATENCY_CYCLES, fn=running_sum, step=running_sum_step),
        Context("matvec", inputs=("de",), outputs=("o",), firings=total, rates={"o": _row_end(n)},
                latency_cycles=MATVEC_LATENCY_CYCLES, fn=running_out, step=_matvec_step(v, keys, scaled=True)),
        Context("divide", inputs=("l", "o"), outputs=("y",), firings=rows,
                latency_cycles=DIVIDE_LATENCY_CYCLES, fn=lambda l, o: o / l[:, None],
                step=lambda st, f, ins: ([ins[1][0] / ins[0][0]],)),
        Context("sink", inputs=("y",), firings=rows, fn=lambda y: (), step=lambda st, f, ins: ()),
    ]
    lat = CHANNEL_LATENCY_CYCLES
    chans = [
        Channel("qk->rowmax", "qk.s", "rowmax.s", capacity=depth, latency_cycles=lat),
        Channel("rowmax->exp", "rowmax.smm", "exp.smm", capacity=depth, latency_cycles=lat),
        Channel("exp->rowsum", "exp.to_sum", "rowsum.de", capacity=depth, latency_cycles=lat),
        Channel("exp->matvec", "exp.to_out", "matvec.de", capacity=depth, latency_cycles=lat),
        Channel("rowsum->divide", "rowsum.l", "divide.l", capacity=depth, latency_cycles=lat),
        Channel("matvec->divide", "matvec.o", "divide.o", capacity=depth, latency_cycles=lat),
        Channel("divide->sink", "divide.y", "sink.y", capacity=depth, latency_cycles=lat),
    ]
    graph = build_graph(ctxs, chans, name=f"sdpa-reordered-N{n}")
    return SdpaGraph(graph=graph, variant="reordered", keys=keys, scores=total, long_fifo=None,
                     output_channel="divide->sink")
