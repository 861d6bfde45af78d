"""Replay a mapping at event fidelity on the streaming engine (``simulator.event.engine``).

The mapping's tile schedule (``mapper.tiles``) gives one *step* per iteration of the DRAM
loops: the words DRAM reads for the step and the output words written back. The engine's
DMA process loads step i+1 while the array computes step i (double-buffered, with
back-pressure), every transfer occupying the DRAM link for ceil(words / bandwidth) cycles
(a DRAM with unlimited bandwidth moves data in 0 cycles). Each step computes for the
analytical per-step cycles (all temporal loops below DRAM, or the inner levels'
bandwidth bound spread evenly when that is slower).

With unlimited DRAM bandwidth the replay equals the analytical cycles exactly; otherwise it
adds the pipeline fill and drain and any step-level burstiness the analytical roofline
(``max(compute, traffic / bandwidth)``) averages away. ``pipelined_cycles`` is the closed-form
double-buffering recurrence (``simulator.systolic.fold_time.double_buffer_cycles``) over the same
steps; the event replay equals it exactly (one core, nothing contends).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acceldse.mapper.cost import evaluate
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.mapper.tiles import tile_schedule
from acceldse.simulator.event.engine import run_fold_layer
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.simulator.systolic.fold_time import double_buffer_cycles
from acceldse.workloads.layer import Layer


@dataclass(frozen=True)
class ReplayResult:
    """Event-level replay of one mapping.

    Attributes:
        cycles: end of the last write-back (event fidelity).
        analytical_cycles: the cost model's cycles for the same mapping (perfect overlap).
        pipelined_cycles: closed-form double-buffered recurrence over the same steps.
        compute_cycles: steps x cycles per step.
        stall_cycles: idle array cycles (``cycles - compute_cycles``).
        steps: DRAM-loop iterations replayed.
    """

    cycles: int
    analytical_cycles: int
    pipelined_cycles: int
    compute_cycles: int
    stall_cycles: int
    steps: int


def replay_event(layer: Layer, hierarchy: Hierarchy, mapping: Mapping | MappingArrays) -> ReplayResult:
    """Run the mapping's DRAM steps through the event engine (one core, one DRAM link)."""
    arrays = mapping.to_arrays(hierarchy) if isinstance(mapping, Mapping) else mapping
    cost = evaluate(layer, hierarchy, arrays)
    sched = tile_schedule(layer, hierarchy, arrays)
    dram = hierarchy.levels[0]
    per_step = max(sched.compute_cycles_per_step, math.ceil(_inner_bound(hierarchy, cost) / sched.steps))
    reads = sched.dram_read_words.sum(axis=1)
    writes = sched.dram_update_words
    rd_bw = dram.read_bandwidth_words_per_cycle
    wr_bw = dram.write_bandwidth_words_per_cycle
    load = np.array([math.ceil(w / rd_bw) if rd_bw else 0 for w in reads], dtype=np.int64)
    store = np.array([math.ceil(w / wr_bw) if wr_bw else 0 for w in writes], dtype=np.int64)
    runs, _ = run_fold_layer([load], [store], per_step, 0)
    run = runs[0]
    cycles = int(math.ceil(run.end_cycles))
    pipelined = double_buffer_cycles(load.astype(np.float64), store.astype(np.float64), int(per_step), 1.0, 1.0, 0)
    return ReplayResult(cycles=cycles, analytical_cycles=cost.cycles, pipelined_cycles=int(pipelined),
                        compute_cycles=run.compute_cycles, stall_cycles=cycles - run.compute_cycles,
                        steps=sched.steps)


def _inner_bound(hierarchy: Hierarchy, cost: object) -> int:
    """Slowest non-DRAM level's bandwidth bound (cycles), or 0."""
    table = cost.counts  # type: ignore[attr-defined]
    bound = 0
    for lv in hierarchy.levels[1:]:
        rows = table[table.level == lv.name]
        if rows.empty:
            continue
        if lv.read_bandwidth_words_per_cycle:
            bound = max(bound, math.ceil(int(rows.reads.sum()) / lv.read_bandwidth_words_per_cycle))
        if lv.write_bandwidth_words_per_cycle:
            wr = int(rows.fills.sum() + rows.updates.sum())
            bound = max(bound, math.ceil(wr / lv.write_bandwidth_words_per_cycle))
    return bound
