"""Work limits of the streaming runs: a stream too long for its executor is refused up front, with the
number and the limit, rather than running for minutes (``run_sdpa``, ``min_fifo_depth``, ``run_graph``
and the command line all check here, so they refuse the same runs with the same line).
"""

from __future__ import annotations

from acceldse.workloads.errors import SpecError, require_int

MAX_WORK: dict[str, int] = {"compiled": 1 << 28, "tokens": 1 << 19, "trace": 1 << 22}
"""Most tokens (SDPA scores, or context firings of a graph) accepted without ``max_work``: about 40 s
timing only, about 40 s carrying token values through every firing in Python (70 us a score); a trace records
every token, so it is limited further."""
MAX_SEQ_LEN = 1 << 24
"""Longest SDPA sequence (and window), tokens."""
MAX_HEAD_DIM = 4096
"""Widest SDPA head."""
MAX_WORK_LIMIT = 10**15
"""Largest ``max_work`` accepted."""


def work_limit(kind: str = "compiled", *, trace: bool = False, max_work: int | float | None = None) -> int:
    """The most work a run of ``kind`` (``compiled``: timing; ``tokens``: carrying token values) accepts:
    ``max_work`` when given, else ``MAX_WORK`` (the lower trace limit when every token is recorded)."""
    if max_work is not None:
        return require_int(max_work, key="max_work", maximum=MAX_WORK_LIMIT)
    return min(MAX_WORK["trace"], MAX_WORK[kind]) if trace else MAX_WORK[kind]


def refuse_work(work: int, limit: int, *, source: str, what: str) -> None:
    """``SpecError`` naming ``source`` when ``work`` (counted in ``what``) exceeds ``limit``."""
    if work > limit:
        raise SpecError(f"too much work: {work:,} {what} > the limit {limit:,}", source=source, value=work,
                        accepted=f"at most {limit:,} {what}, or raise the limit with max_work")


def check_sdpa(seq_len: int, head_dim: int, window: int | None, limit: int) -> tuple[int, int]:
    """(N, d) of an SDPA run, range-checked, its scores (N x min(window, N)) within ``limit``."""
    n = require_int(seq_len, key="seq_len", maximum=MAX_SEQ_LEN)
    d = require_int(head_dim, key="head_dim", maximum=MAX_HEAD_DIM)
    if window is not None:
        window = require_int(window, key="window", maximum=MAX_SEQ_LEN)
    refuse_work(n * min(window or n, n), limit, source="seq_len", what="scores")
    return n, d


__all__ = ["MAX_HEAD_DIM", "MAX_SEQ_LEN", "MAX_WORK", "MAX_WORK_LIMIT", "check_sdpa", "refuse_work", "work_limit"]
