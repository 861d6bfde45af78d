"""Event fidelity for a network: run every layer's fold schedule on the streaming engine.

``event_table(network, acc, dataflows)`` returns the columns of ``systolic_table`` plus the
stall breakdown (``EVENT_COLUMNS``). Layers run one after another (as in the analytical
model); within a layer the folds are dealt out to ``acc.cores`` arrays in contiguous chunks
whose DMA engines share the off-chip link (the arrays share the SRAM, so the layer's DRAM
bytes are not duplicated), or split over a list of different arrays (``simulator.event.arrays``).
With one core every layer's cycles equal the analytical model's. Weights that live beyond the
closest off-chip tier are staged inward layer by layer (``simulator.event.staging``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.event.arrays import check_arrays, split_layer
from acceldse.simulator.event.engine import (
    CoreRun,
    FoldJob,
    Link,
    ceil_cycles,
    run_fold_layers,
    run_vector_layer,
    transfer_cycles_array,
)
from acceldse.simulator.event.staging import StagingRun, resolve_weight_tiers, run_staging, weight_bytes
from acceldse.simulator.result import COLUMNS
from acceldse.simulator.specs.accelerator import Accelerator, SystolicArray
from acceldse.simulator.streaming.trace import Trace
from acceldse.simulator.systolic.batch import lower_layer
from acceldse.simulator.systolic.hardware import HardwareArrays
from acceldse.simulator.systolic.model import (
    add_sparse_columns,
    core_chunks,
    finish_rows,
    fold_schedule,
    operand_bytes,
    vector_layer_row,
)
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network

EVENT_COLUMNS: dict[str, str] = {
    key: COLUMNS[key] for key in ("stall_bandwidth_cycles", "stall_latency_cycles", "stall_capacity_cycles",
                                  "stall_contention_cycles", "cores", "weight_tier", "stall_staging_cycles")
}
"""Columns the event fidelity adds to ``simulator.result.COLUMNS``."""


@dataclass
class EventRun:
    """An event-fidelity run: the per-layer table and, when asked, a Chrome trace."""

    table: pd.DataFrame
    trace: dict[str, Any] | None = None


def _cores(acc: Accelerator, cores: int | None) -> int:
    value = acc.cores if cores is None else cores
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError("must be an integer >= 1", source="event", key="cores", value=value,
                        accepted="an integer >= 1")
    return value


@dataclass
class _MacLayer:
    """A MAC layer ready to run: its counts, its folds on the cores, each core's array cycles per fold."""

    counts: dict[str, float]
    job: FoldJob
    array_cycles: list[int]


def _hetero_layer(layer: Layer, df: Dataflow, acc: Accelerator, arrays: list[SystolicArray]) -> _MacLayer:
    """A layer split over different arrays (each its own sub-layer's fold schedule)."""
    dram = acc.dram
    scheds, loads, writes = [], [], []
    for arr, sub in zip(arrays, split_layer(layer, arrays)):
        if sub is None:
            continue
        sched = fold_schedule(sub, df, dataclasses.replace(acc, array=arr, cores=1))
        scheds.append(sched)
        loads.append(transfer_cycles_array(sched.load_bytes, dram.read_bw_bytes_per_cycle))
        writes.append(transfer_cycles_array(sched.write_bytes, dram.write_bw_bytes_per_cycle))
    per_fold = [s.cycles_per_fold for s in scheds]
    counts = {key: float(sum(s.counts[key] for s in scheds)) for key in scheds[0].counts}
    counts["mapping_efficiency"] = sum(s.counts["mapping_efficiency"] * s.counts["folds"] for s in scheds) \
        / counts["folds"]
    return _MacLayer(counts, FoldJob(loads, writes, per_fold, dram.latency_cycles, dram.name), per_fold)


def mac_layer(layer: Layer, df: Dataflow, acc: Accelerator, cores: int, hw: HardwareArrays | None = None) -> _MacLayer:
    """A layer's folds dealt to ``cores`` arrays in contiguous chunks (``hw``: ``acc``'s hardware columns)."""
    sched = fold_schedule(layer, df, acc, hw)
    dram = acc.dram
    load = transfer_cycles_array(sched.load_bytes, dram.read_bw_bytes_per_cycle)
    write = transfer_cycles_array(sched.write_bytes, dram.write_bw_bytes_per_cycle)
    chunks = [s for s in core_chunks(load.shape[0], cores) if s.stop > s.start]
    # the array's own schedule; cycles the SRAM tier's bandwidth adds to a fold are stalls
    return _MacLayer(dict(sched.counts), FoldJob([load[s] for s in chunks], [write[s] for s in chunks],
                                                 [sched.cycles_per_fold] * len(chunks), dram.latency_cycles,
                                                 dram.name), [sched.array_cycles_per_fold] * len(chunks))


def _run_mac_layers(layers: list[_MacLayer], record: bool) -> list[tuple[list[CoreRun], Link, CoreRun]]:
    """Run every distinct job once (one graph); then each several-core job's critical core alone on the link."""
    index: dict[int, int] = {}
    jobs: list[FoldJob] = []
    for m in layers:
        if id(m.job) not in index:
            index[id(m.job)] = len(jobs)
            jobs.append(m.job)
    results = run_fold_layers(jobs, record=record)
    crit = [max(range(len(runs)), key=lambda i: runs[i].end_cycles) for runs, _ in results]
    multi = [i for i, (runs, _) in enumerate(results) if len(runs) > 1]
    solo_jobs = [FoldJob([jobs[i].loads[crit[i]]], [jobs[i].writes[crit[i]]], [jobs[i].per_fold[crit[i]]],
                         jobs[i].latency, jobs[i].link_name) for i in multi]
    solo = dict(zip(multi, (runs[0] for runs, _ in run_fold_layers(solo_jobs))))
    out = []
    for m in layers:
        i = index[id(m.job)]
        runs, link = results[i]
        critical = solo.get(i, runs[0])
        m.counts["compute_cycles"] = critical.folds * m.array_cycles[crit[i]]
        out.append((runs, link, critical))
    return out


def event_run(network: Network, acc: Accelerator, dataflows: list[Dataflow], *, cores: int | None = None,
              trace: bool = False, weight_tiers: str | Mapping[str, str] | None = None,
              staging_depth: int = 2, arrays: Sequence[SystolicArray] | None = None,
              progress: Callable[[int, int, str], None] | None = None,
              check_folds: Callable[[int], None] | None = None) -> EventRun:
    """Simulate every layer at event fidelity; optionally build a Chrome/Perfetto trace.

    Args:
        network: the workload.
        acc: the accelerator (its closest SRAM and closest off-chip tier are used).
        dataflows: one table block per dataflow, dataflow-major (as ``systolic_table``).
        cores: arrays sharing the link (default ``acc.cores``).
        trace: record spans and return a trace dict (``json.dump`` it for Perfetto).
        weight_tiers: where the weights live: ``None`` (the closest off-chip tier), a tier name,
            ``"auto"`` (placed outward from the closest off-chip tier) or layer -> tier. Weights
            beyond the closest off-chip tier are staged into it by a DMA process per tier link.
        staging_depth: layers a far tier may stage ahead (bounded staging buffer).
        arrays: different compute arrays sharing the tiers (instead of ``cores`` identical ones);
            each MAC layer is split over them in proportion to their PEs.
        progress: ``progress(done, total, layer)`` called after each layer.
        check_folds: called with the folds to simulate (every MAC layer's, every dataflow) once the
            schedules are made, before the engine runs (e.g. to refuse too much work).
    """
    n_cores = _cores(acc, cores)
    if arrays is None:
        acc = dataclasses.replace(acc, cores=n_cores)  # the row's PEs count every core the folds are dealt to
    hetero = None
    if arrays is not None:
        if cores is not None:
            raise SpecError("give cores or arrays, not both", source="event", key="arrays", value=len(arrays))
        hetero = check_arrays(arrays)
    total_pes = sum(a.pes for a in hetero) if hetero else acc.array.pes * n_cores
    homes = resolve_weight_tiers(network, acc, weight_tiers)
    sizes = weight_bytes(network)
    builder = Trace(acc.clock_mhz, "acceldse event") if trace else None
    rows: list[dict[str, Any]] = []
    hw = HardwareArrays.of([acc])
    known: dict[bytes, _MacLayer] = {}  # identical layers (same lowered case) share their schedule and run

    def mac(layer: Layer, df: Dataflow) -> _MacLayer:
        if hetero:
            return _hetero_layer(layer, df, acc, hetero)
        key = lower_layer(layer, df).tobytes()
        if key not in known:
            known[key] = mac_layer(layer, df, acc, n_cores, hw)
        return dataclasses.replace(known[key], counts=dict(known[key].counts))

    macs = [mac(layer, df) for df in dataflows for layer in network.layers if layer.has_weights]
    if check_folds is not None:
        check_folds(int(sum(m.counts["folds"] for m in macs)))
    ran = iter(zip(macs, _run_mac_layers(macs, trace)))
    for df in dataflows:
        counts: list[dict[str, float]] = []
        extra: list[dict[str, Any]] = []
        recorded: list[tuple[list[CoreRun], Link]] = []
        for layer in network.layers:
            if progress is not None:
                progress(len(rows) + len(counts), len(dataflows) * len(network.layers), f"{df.name} {layer.name}")
            c, e, runs, link = _layer_run(layer, acc, hw, trace, next(ran) if layer.has_weights else None)
            counts.append(c)
            extra.append(e)
            recorded.append((runs, link))
        block: list[dict[str, Any]] = finish_rows(network.layers, df.name, counts, acc, hw)
        for row, e in zip(block, extra):
            row.update(e)
        staging = run_staging(sizes, homes, [int(r["total_cycles"]) for r in block], acc, staging_depth,
                              record=trace)
        for i, (layer, row) in enumerate(zip(network.layers, block)):
            _add_staging(row, layer, acc, total_pes, staging, i, homes[i], sizes[i])
        rows.extend(block)
        if builder is not None:
            for i, (layer, (runs, link)) in enumerate(zip(network.layers, recorded)):
                for track in [t for r in runs for t in r.tracks] + link.stats.tracks:
                    builder.add(track, offset_cycles=float(staging.start_cycles[i]),
                                args={"layer": f"{df.name}:{layer.name}"})
            for track in staging.tracks:
                builder.add(track, args={"layer": f"{df.name}:staging"})
    if progress is not None:
        progress(len(rows), len(rows), "done")
    return EventRun(table=add_sparse_columns(pd.DataFrame(rows), network), trace=builder.build() if builder else None)


def _layer_run(layer: Layer, acc: Accelerator, hw: HardwareArrays, trace: bool,
               mac: tuple[_MacLayer, tuple[list[CoreRun], Link, CoreRun]] | None,
               ) -> tuple[dict[str, float], dict[str, Any], list[CoreRun], Link]:
    """One layer's counts for ``finish_rows`` and the event columns its row gets on top (without weight
    staging), from its MAC run, or a vector layer's run."""
    if mac is not None:
        counts = mac[0].counts
        runs, link, critical = mac[1]
        # the SRAM tier's latency: once per layer, for the first operands' read (as the analytical model)
        sram_latency = acc.sram.latency_cycles
        end = max(r.end_cycles for r in runs) + sram_latency
        total = ceil_cycles(end)
        # the critical core alone on the link gives latency / capacity / bandwidth;
        # everything the other cores add on top of it is bandwidth contention
        contention = max(0.0, end - critical.end_cycles - sram_latency)
        counts["total_cycles"] = total
        compute = int(counts["compute_cycles"])
    else:
        vr = vector_layer_row(layer, acc, hw)
        dram = acc.dram
        critical, link = run_vector_layer(
            int(vr["compute_cycles"]),
            math.ceil(layer.input_elems * operand_bytes(layer.input_bits, acc) / dram.read_bw_bytes_per_cycle),
            math.ceil(layer.output_elems * operand_bytes(layer.output_bits, acc) / dram.write_bw_bytes_per_cycle),
            dram.latency_cycles,
            record=trace, link_name=dram.name)
        runs, contention, end = [critical], 0.0, critical.end_cycles
        total = ceil_cycles(end)
        counts = dict(vr, total_cycles=total)
        compute, sram_latency = critical.compute_cycles, 0
    # rounding up a contended (fractional) end goes to bandwidth; so do the cycles the SRAM
    # tier's bandwidth adds to the array's own fold schedule
    sram_bound = critical.compute_cycles - compute
    extra = {"compute_cycles": compute, "stall_cycles": total - compute,
             "stall_bandwidth_cycles": critical.stall_bandwidth_cycles + contention + (total - end) + sram_bound,
             "stall_latency_cycles": critical.stall_latency_cycles + sram_latency,
             "stall_capacity_cycles": critical.stall_capacity_cycles, "stall_contention_cycles": contention,
             "cores": len(runs)}
    return counts, extra, runs, link


def _add_staging(row: dict[str, Any], layer: Layer, acc: Accelerator, total_pes: int, staging: StagingRun, i: int,
                 home: str, nbytes: int) -> None:
    """Add the wait for staged weights to a row (cycles, stalls by cause, energy)."""
    wait = float(staging.wait_cycles[i])
    row["weight_tier"] = home if nbytes else ""
    row["stall_staging_cycles"] = wait
    if wait:
        total = ceil_cycles(row["total_cycles"] + wait)
        row["stall_bandwidth_cycles"] += float(staging.bandwidth_cycles[i]) + (total - row["total_cycles"] - wait)
        row["stall_latency_cycles"] += float(staging.latency_cycles[i])
        row["stall_capacity_cycles"] += float(staging.capacity_cycles[i])
        row["total_cycles"] = total
        row["stall_cycles"] = total - row["compute_cycles"]
        row["latency_us"] = total / acc.clock_mhz
    far = [t.name for t in acc.tiers].index(acc.dram.name)
    if nbytes and [t.name for t in acc.tiers].index(home) > far:
        extra = nbytes * (acc.tier(home).read_energy_pj_per_byte + acc.dram.write_energy_pj_per_byte)
        row["energy_dram_pj"] += extra
        row["energy_pj"] += extra
    total_cycles = row["total_cycles"]
    row["utilization"] = layer.macs / (total_cycles * total_pes) if total_cycles else 0.0


def event_table(network: Network, acc: Accelerator, dataflows: list[Dataflow], *,
                cores: int | None = None, progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """Per-layer event-fidelity results: ``systolic_table``'s columns plus ``EVENT_COLUMNS``."""
    return event_run(network, acc, dataflows, cores=cores, progress=progress).table
