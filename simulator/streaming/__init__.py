"""Streaming-dataflow engine (DAM-style): one compiled executor over one graph description.

* :func:`run_graph` — run any graph (static-rate contexts as they are; data-dependent generator
  contexts as the programs their values dictate, ``generators``) on the compiled kernel;
* :func:`run_compiled` — the same with the run's options; :func:`run_sdpa` — the attention case study.

May import: ``dataflows`` (graph descriptions), ``workloads``; no other ``simulator`` sub-package.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acceldse.simulator.streaming.limits import MAX_WORK, refuse_work, work_limit
from acceldse.simulator.streaming.trace import DEFAULT_CLOCK_MHZ, build_trace, write_trace

if TYPE_CHECKING:
    from acceldse.dataflows.streams.graph import StreamGraph
    from acceldse.simulator.streaming.compiled import run_compiled
    from acceldse.simulator.streaming.result import BlockedContext, Deadlock, StreamDeadlockError, StreamResult
    from acceldse.simulator.streaming.sdpa import SdpaResult, min_fifo_depth, run_sdpa

_EXPORTS = {"run_compiled": "compiled", "BlockedContext": "result", "Deadlock": "result",
            "StreamDeadlockError": "result", "StreamResult": "result", "SdpaResult": "sdpa",
            "min_fifo_depth": "sdpa", "run_sdpa": "sdpa"}
"""Names imported on first use (PEP 562): a model that only runs nets (``streaming.net``) loads
neither the graph lowering nor the SDPA study."""


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def run_graph(graph: StreamGraph, *, values: bool = False, trace_path: str | Path | None = None,
              raise_on_deadlock: bool = False, max_cycles: int | None = None,
              clock_mhz: float = DEFAULT_CLOCK_MHZ, max_work: int | None = None) -> StreamResult:
    """Run ``graph`` on the compiled engine.

    Args:
        graph: a built graph.
        values: evaluate the value stream of every channel.
        trace_path: if given, record the run and write a Chrome/Perfetto trace JSON there.
        clock_mhz: clock the trace's microsecond timestamps are at (default 1: one cycle per us).
        raise_on_deadlock: raise :class:`StreamDeadlockError` instead of returning a result
            whose ``deadlock`` is set.
        max_cycles: stop a generator context whose work passes this many cycles (a livelock),
            and refuse a longer run (RuntimeError).
        max_work: the most static context firings accepted, refused up front (default
            ``limits.MAX_WORK["compiled"]``, or the trace limit).
    """
    refuse_work(sum(getattr(ctx, "firings", 0) for ctx in graph.contexts),
                work_limit(trace=trace_path is not None, max_work=max_work),
                source=f"graph {graph.name!r}", what="context firings")
    from acceldse.simulator.streaming.compiled import run_compiled

    result = run_compiled(graph, record=trace_path is not None, values=values, max_cycles=max_cycles)
    if trace_path is not None:
        write_trace(graph, result, trace_path, clock_mhz)
    if raise_on_deadlock:
        result.raise_for_deadlock()
    return result


__all__ = ["MAX_WORK", "BlockedContext", "Deadlock", "SdpaResult", "StreamDeadlockError", "StreamResult",
           "build_trace", "run_compiled", "run_graph", "min_fifo_depth", "run_sdpa", "write_trace"]
