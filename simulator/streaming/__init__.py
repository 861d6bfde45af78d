"""Streaming-dataflow engine (DAM-style): two executors over one graph description.

* :func:`run_compiled` — numba recurrence for static-rate graphs (exact, fast).
* :func:`run_simpy` — SimPy processes; also runs data-dependent generator contexts.
* :func:`run_graph` — pick one by name; :func:`run_sdpa` — the attention case study.

May import: ``dataflows`` (graph descriptions), ``workloads``; no other ``simulator`` sub-package.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acceldse.simulator.streaming.limits import MAX_WORK, refuse_work, work_limit
from acceldse.simulator.streaming.trace import DEFAULT_CLOCK_MHZ, build_trace, write_trace
from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from acceldse.dataflows.streams.graph import StreamGraph
    from acceldse.simulator.streaming.compiled import run_compiled
    from acceldse.simulator.streaming.result import BlockedContext, Deadlock, StreamDeadlockError, StreamResult
    from acceldse.simulator.streaming.sdpa import SdpaResult, min_fifo_depth, run_sdpa
    from acceldse.simulator.streaming.simpy_executor import run_simpy

_EXPORTS = {"run_compiled": "compiled", "BlockedContext": "result", "Deadlock": "result",
            "StreamDeadlockError": "result", "StreamResult": "result", "SdpaResult": "sdpa",
            "min_fifo_depth": "sdpa", "run_sdpa": "sdpa", "run_simpy": "simpy_executor"}
"""Names imported on first use (PEP 562): a model that only runs nets (``streaming.net``) loads
neither SimPy nor the SDPA study."""


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


EXECUTORS = ("compiled", "simpy")


def run_graph(graph: StreamGraph, *, executor: str = "compiled", values: bool = False,
              trace_path: str | Path | None = None, raise_on_deadlock: bool = False,
              max_cycles: int | None = None, clock_mhz: float = DEFAULT_CLOCK_MHZ,
              max_work: int | None = None) -> StreamResult:
    """Run ``graph`` with the named executor.

    Args:
        graph: a built graph.
        executor: ``"compiled"`` (static-rate graphs) or ``"simpy"``.
        values: evaluate the value stream of every channel.
        trace_path: if given, record the run and write a Chrome/Perfetto trace JSON there.
        clock_mhz: clock the trace's microsecond timestamps are at (default 1: one cycle per us).
        raise_on_deadlock: raise :class:`StreamDeadlockError` instead of returning a result
            whose ``deadlock`` is set.
        max_cycles: SimPy only: stop a livelocked generator context after this many cycles.
        max_work: the most context firings accepted, refused up front (default ``limits.MAX_WORK`` of
            the executor, or of a trace).
    """
    if executor not in EXECUTORS:
        raise SpecError("unknown executor", key="executor", value=executor, accepted=" or ".join(EXECUTORS))
    refuse_work(sum(getattr(ctx, "firings", 0) for ctx in graph.contexts),
                work_limit(executor, trace=trace_path is not None, max_work=max_work),
                source=f"graph {graph.name!r}", what="context firings")
    from acceldse.simulator.streaming.compiled import run_compiled
    from acceldse.simulator.streaming.simpy_executor import run_simpy

    if executor == "compiled":
        result = run_compiled(graph, record=trace_path is not None, values=values)
    else:
        result = run_simpy(graph, record=trace_path is not None, values=values, max_cycles=max_cycles)
    if trace_path is not None:
        write_trace(graph, result, trace_path, clock_mhz)
    if raise_on_deadlock:
        result.raise_for_deadlock()
    return result


__all__ = ["EXECUTORS", "MAX_WORK", "BlockedContext", "Deadlock", "SdpaResult", "StreamDeadlockError", "StreamResult",
           "build_trace", "run_compiled", "run_graph", "min_fifo_depth", "run_sdpa", "run_simpy",
           "write_trace"]
