"""SimPy processes of one layer: per-core DMA engines and compute arrays on a shared link.

Per core (fold granularity, double-buffered SRAM, one DMA engine):

* the DMA engine, for fold f, waits until fold f-2 is done (its buffer half is free:
  bounded buffers, back-pressure), writes fold f-2's outputs back, then loads fold f's
  inputs; the inputs are usable ``latency`` cycles after the transfer (when any bytes
  moved). At the end it drains the last two folds' outputs (plus latency).
* the compute array starts fold f when its inputs are ready and fold f-1 is done, and
  is busy ``cycles_per_fold`` cycles (the dataflow's exact per-fold cycles).

Every DMA engine's transfers go through one ``SharedLink`` (the off-chip tier's port), so
several cores contend for bandwidth. With one core this is exactly the analytical
``double_buffer_cycles`` recurrence, event by event.

Stall cycles of a core (idle array time) are split by cause, per idle gap before a fold:
``latency`` = the part covered by the tier latency after the transfer, ``capacity`` = the
cycles the DMA engine sat waiting for a free buffer half (back-pressure), ``bandwidth`` =
the rest (bytes on the link, including waiting behind other cores' transfers). The final
drain is latency then bandwidth. The three always sum to the stall cycles.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from acceldse.simulator.event.link import SharedLink


@dataclass
class CoreRun:
    """One core's part of a layer (cycles from the layer's start).

    Attributes:
        folds: folds this core ran.
        compute_cycles: folds x cycles per fold.
        end_cycles: when its last write-back landed (its total).
        stall_bandwidth_cycles, stall_latency_cycles, stall_capacity_cycles: idle array
            cycles by cause; they sum to ``end_cycles - compute_cycles``.
        spans: ``(track, label, start, end)`` compute spans when recording.
    """

    folds: int
    compute_cycles: int
    end_cycles: float
    stall_bandwidth_cycles: float = 0.0
    stall_latency_cycles: float = 0.0
    stall_capacity_cycles: float = 0.0
    spans: list[tuple[str, str, float, float]] = field(default_factory=list)


@dataclass
class _CoreState:
    """Per-fold event times recorded while a core runs."""

    n: int
    start: np.ndarray = field(init=False)
    cap_wait: np.ndarray = field(init=False)
    end_cycles: float = 0.0

    def __post_init__(self) -> None:
        self.start = np.zeros(self.n)
        self.cap_wait = np.zeros(self.n)


def _dma(env: simpy.Environment, link: SharedLink, name: str, load: np.ndarray, write: np.ndarray,
         latency: int, ready: list[simpy.Event], done: list[simpy.Event],
         st: _CoreState) -> Generator[simpy.Event, Any, None]:
    n = load.shape[0]
    for f in range(n):
        if f >= 2:
            idle_since = env.now
            yield done[f - 2]  # back-pressure: wait for a free buffer half
            st.cap_wait[f] = env.now - idle_since
            if write[f - 2]:
                yield link.transfer(int(write[f - 2]), name, f"write fold {f - 2}")
        if load[f]:
            yield link.transfer(int(load[f]), name, f"load fold {f}")
            if latency:
                _succeed_later(env, ready[f], latency)
            else:
                ready[f].succeed()
        else:
            ready[f].succeed()
    wrote = False
    for g in (n - 2, n - 1):
        if g >= 0:
            yield done[g]
            if write[g]:
                wrote = True
                yield link.transfer(int(write[g]), name, f"write fold {g}")
    if wrote and latency:
        yield env.timeout(latency)
    st.end_cycles = float(env.now)


def _succeed_later(env: simpy.Environment, event: simpy.Event, delay: int) -> None:
    def fire(_ev: simpy.Event) -> None:
        event.succeed()

    env.timeout(delay).callbacks.append(fire)


def _compute(env: simpy.Environment, per_fold: int, ready: list[simpy.Event], done: list[simpy.Event],
             st: _CoreState) -> Generator[simpy.Event, Any, None]:
    for f in range(st.n):
        yield ready[f]
        st.start[f] = env.now
        yield env.timeout(per_fold)
        done[f].succeed()


def _attribute(st: _CoreState, per_fold: int, load: np.ndarray, write: np.ndarray,
               latency: int, run: CoreRun) -> None:
    """Split the core's idle gaps into latency / capacity / bandwidth (vectorised)."""
    n = st.n
    if n == 0:
        return
    prev_end = np.concatenate(([0.0], st.start[:-1] + per_fold))
    gap = np.maximum(st.start - prev_end, 0.0)
    lat = np.where(load > 0, float(latency), 0.0)
    lat_part = np.minimum(gap, lat)
    cap_part = np.minimum(gap - lat_part, st.cap_wait)
    bw_part = gap - lat_part - cap_part
    drain = max(st.end_cycles - (st.start[-1] + per_fold), 0.0)
    wrote = bool(write[max(n - 2, 0):].sum() > 0)
    drain_lat = min(drain, float(latency)) if wrote else 0.0
    run.stall_latency_cycles = float(lat_part.sum()) + drain_lat
    run.stall_capacity_cycles = float(cap_part.sum())
    run.stall_bandwidth_cycles = float(bw_part.sum()) + drain - drain_lat


def run_fold_layer(loads: list[np.ndarray], writes: list[np.ndarray], per_fold: int | Sequence[int], latency: int, *,
                   record: bool = False, link_name: str = "dram",
                   shared: bool | None = None) -> tuple[list[CoreRun], SharedLink]:
    """Run one layer's folds on ``len(loads)`` cores sharing one link.

    Args:
        loads, writes: per core, full-bandwidth link cycles of each fold's load and write-back.
        per_fold: array cycles of one fold (one value, or one per core for different arrays).
        latency: tier latency in cycles.
        record: keep spans for a trace.
        shared: force the processor-sharing link (``True``) or the exclusive one (``False``);
            default: exclusive for one core.

    Returns:
        one ``CoreRun`` per core, and the link (its stats and spans).
    """
    env = simpy.Environment()
    link = SharedLink(env, link_name, record=record, exclusive=len(loads) == 1 if shared is None else not shared)
    states = []
    if isinstance(per_fold, Sequence):
        folds_cycles = [int(p) for p in per_fold]
    else:
        folds_cycles = [int(per_fold)] * len(loads)
    if len(folds_cycles) != len(loads):
        raise ValueError('"per_fold" needs one value per core.')
    for c, (load, write) in enumerate(zip(loads, writes)):
        n = load.shape[0]
        ready = [env.event() for _ in range(n)]
        done = [env.event() for _ in range(n)]
        st = _CoreState(n)
        states.append(st)
        env.process(_dma(env, link, f"dma{c}", load, write, latency, ready, done, st))
        env.process(_compute(env, folds_cycles[c], ready, done, st))
    env.run()
    runs = []
    for c, (st, load, write, cyc) in enumerate(zip(states, loads, writes, folds_cycles)):
        run = CoreRun(folds=st.n, compute_cycles=st.n * cyc, end_cycles=st.end_cycles)
        _attribute(st, cyc, load, write, latency, run)
        if record:
            run.spans = [(f"core{c}", f"fold {f}", float(s), float(s + cyc)) for f, s in enumerate(st.start)]
        runs.append(run)
    return runs, link


def _vector_dma(env: simpy.Environment, link: SharedLink, load: int, store: int,
                latency: int) -> Generator[simpy.Event, Any, None]:
    yield env.timeout(latency)
    yield link.transfer(load, "dma0", "load")
    yield link.transfer(store, "dma0", "store")
    yield env.timeout(latency)


def _vector_compute(env: simpy.Environment, compute: int, latency: int) -> Generator[simpy.Event, Any, None]:
    yield env.timeout(latency)  # first inputs arrive
    yield env.timeout(compute)
    yield env.timeout(latency)  # last outputs land


def run_vector_layer(compute: int, load: int, store: int, latency: int, *, record: bool = False,
                     link_name: str = "dram") -> tuple[CoreRun, SharedLink]:
    """A layer without MACs streamed through a vector unit while the DMA moves its operands.

    Total = max(compute, load + store) + 2 x latency (the analytical vector-layer rule).
    """
    env = simpy.Environment()
    link = SharedLink(env, link_name, record=record, exclusive=True)
    env.process(_vector_dma(env, link, load, store, latency))
    env.process(_vector_compute(env, compute, latency))
    env.run()
    total = float(env.now)
    stall = total - compute
    lat_part = min(stall, 2.0 * latency)
    run = CoreRun(folds=0, compute_cycles=compute, end_cycles=total, stall_latency_cycles=lat_part,
                  stall_bandwidth_cycles=stall - lat_part)
    if record:
        run.spans = [("core0", "vector", float(latency), float(latency + compute))]
    return run, link


def ceil_cycles(value: float) -> int:
    """Whole cycles (contended runs end at fractional times)."""
    return int(math.ceil(value - 1e-9))
