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
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.event.arrays import check_arrays, split_layer
from acceldse.simulator.event.engine import (
    FoldJob,
    Folds,
    collect_folds,
    fold_ends,
    fold_net,
    transfer_cycles_array,
)
from acceldse.simulator.event.staging import resolve_weight_tiers, run_staging, weight_bytes
from acceldse.simulator.result import COLUMNS, Table
from acceldse.simulator.specs.accelerator import Accelerator, SystolicArray
from acceldse.simulator.streaming.flat import run_flat
from acceldse.simulator.streaming.trace import Trace, Track
from acceldse.simulator.systolic.batch import LAYER_COLUMNS, NetworkCases, finish, network_cases, utilization
from acceldse.simulator.systolic.hardware import HardwareArrays
from acceldse.simulator.systolic.kernels import N_OUT, OUT_FIELDS, Out
from acceldse.simulator.systolic.layer_kernels import (
    N_BYTES,
    case_fold_counts,
    evaluate_network,
    fold_schedules,
    layer_energies,
)
from acceldse.simulator.systolic.model import add_sparse_columns, core_chunks, fold_schedule, operand_bytes
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
    """An event-fidelity run: the per-layer table as plain columns (``table``: as a DataFrame) and, when
    asked, a Chrome trace."""

    columns: Table
    trace: dict[str, Any] | None = None

    @cached_property
    def table(self) -> pd.DataFrame:
        return self.columns.frame()


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


@dataclass
class _Jobs:
    """Every MAC layer of a table as jobs of the engine: their folds (``Folds``), each job's counts (``Out``, no
    time), each run's array cycles per fold, and each (dataflow, layer) row's job (-1: a layer without MACs)."""

    folds: Folds
    counts: np.ndarray
    array_cycles: np.ndarray
    row_job: np.ndarray


def _homogeneous_jobs(cases: list[NetworkCases], acc: Accelerator, hw: HardwareArrays, cores: int) -> _Jobs:
    """Every distinct MAC layer's folds (one batch of kernel calls) dealt to ``cores`` arrays in contiguous chunks."""
    mac_cases = np.concatenate([nc.mac_cases for nc in cases])
    h = hw.matrix[0]
    folds = np.zeros(len(mac_cases), np.int64)
    case_fold_counts(mac_cases, h, folds)
    start = np.concatenate(([0], np.cumsum(folds))).astype(np.int64)
    load_bytes, write_bytes = np.empty(int(start[-1])), np.empty(int(start[-1]))
    counts, cycles = np.zeros((len(mac_cases), N_OUT)), np.zeros((len(mac_cases), 2), np.int64)
    fold_schedules(mac_cases, h, start, load_bytes, write_bytes, counts, cycles)
    chunk = folds[:, None] // cores + (np.arange(cores) < folds[:, None] % cores)  # sizes, the larger first
    job, core = np.nonzero(chunk)
    users = np.bincount(job, minlength=len(mac_cases))
    dram = acc.dram
    fs = Folds(transfer_cycles_array(load_bytes, dram.read_bw_bytes_per_cycle),
               transfer_cycles_array(write_bytes, dram.write_bw_bytes_per_cycle), chunk[job, core], job, core,
               cycles[job, 0].astype(np.float64), np.full(len(mac_cases), float(dram.latency_cycles)), users > 1,
               [dram.name] * len(mac_cases), users.tolist())
    first = np.cumsum([0] + [len(nc.mac_cases) for nc in cases[:-1]])
    row_job = np.concatenate([np.where(nc.lowered < len(nc.mac_cases), nc.lowered + f, -1)
                              for nc, f in zip(cases, first)])
    return _Jobs(fs, counts, cycles[job, 1], row_job)


def _hetero_jobs(network: Network, acc: Accelerator, dataflows: list[Dataflow], arrays: list[SystolicArray]) -> _Jobs:
    """Every MAC layer split over different arrays (each its own sub-layer's fold schedule)."""
    macs = [_hetero_layer(layer, df, acc, arrays) for df in dataflows for layer in network.layers
            if layer.has_weights]
    fs = Folds.of([m.job for m in macs])
    index = iter(range(len(macs)))
    return _Jobs(fs, np.array([[m.counts.get(f, 0.0) for f in OUT_FIELDS] for m in macs]).reshape(-1, N_OUT),
                 np.array([c for m in macs for c in m.array_cycles], np.int64),
                 np.array([next(index) if layer.has_weights else -1 for _ in dataflows for layer in network.layers],
                          np.int64))


def _alone(fs: Folds) -> tuple[Folds, np.ndarray]:
    """``fs`` plus every run of a job with several runs as a job of its own, alone on a link; which runs those are."""
    multi = np.nonzero(np.asarray(fs.width)[fs.job] > 1)[0]
    fold0 = np.concatenate(([0], np.cumsum(fs.n)[:-1])).astype(np.int64)
    take = np.repeat(fold0[multi] - np.cumsum(np.concatenate(([0], fs.n[multi][:-1]))), fs.n[multi]) \
        + np.arange(int(fs.n[multi].sum()))
    jobs = len(fs.links) + np.arange(len(multi))
    return Folds(np.concatenate([fs.load, fs.load[take]]), np.concatenate([fs.write, fs.write[take]]),
                 np.concatenate([fs.n, fs.n[multi]]), np.concatenate([fs.job, jobs]),
                 np.concatenate([fs.core, np.zeros(len(multi), np.int64)]),
                 np.concatenate([fs.cycles, fs.cycles[multi]]), np.concatenate([fs.latency, fs.latency[fs.job[multi]]]),
                 np.concatenate([fs.shared, np.zeros(len(multi), bool)]),
                 fs.links + [fs.links[j] for j in fs.job[multi].tolist()], fs.width + [1] * len(multi)), multi


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
    layers = network.layers
    hw = HardwareArrays.of([acc])
    # every (dataflow, layer) row, identical layers lowered, scheduled and run once
    cases = [network_cases(network, df) for df in dataflows]
    jobs = _hetero_jobs(network, acc, dataflows, hetero) if hetero else _homogeneous_jobs(cases, acc, hw, n_cores)
    mac = jobs.row_job >= 0
    counts = np.zeros((len(mac), N_OUT))
    counts[mac] = jobs.counts[jobs.row_job[mac]]
    if check_folds is not None:
        check_folds(int(counts[mac, Out.FOLDS].sum()))
    fs, multi = _alone(jobs.folds)
    fn = fold_net(fs)
    run = run_flat(fn.flat, record=True)
    ends = fold_ends(run, fn)
    # per job: its end (the last run), its critical run (the first that ends last) and that run alone on the link
    n_jobs = len(jobs.folds.links)
    shared = slice(0, len(jobs.folds.job))
    job_end = np.full(n_jobs, -np.inf)
    np.maximum.at(job_end, jobs.folds.job, ends.end[shared])
    is_last = ends.end[shared] == job_end[jobs.folds.job]
    crit = np.full(n_jobs, len(is_last))
    np.minimum.at(crit, jobs.folds.job[is_last], np.nonzero(is_last)[0])
    alone = crit.copy()
    alone_of = np.full(len(is_last), -1)
    alone_of[multi] = len(is_last) + np.arange(len(multi))
    alone[alone_of[crit] >= 0] = alone_of[crit][alone_of[crit] >= 0]
    # every row: MAC layers from their job's run (alone: its critical run alone on the link), layers without
    # MACs on the vector unit (their DMA loads, then stores; the unit computes between the latencies)
    counts[~mac] = _vector_counts(cases, hw)[~mac]
    compute = counts[:, Out.COMPUTE_CYCLES].astype(np.int64)
    end = counts[:, Out.TOTAL_CYCLES].copy()
    crit_end, crit_compute = end.copy(), compute.copy()
    stall = end - compute
    twice = 2.0 * acc.dram.latency_cycles
    lat = np.where(twice < stall, twice, stall)
    cap, bw = np.zeros(len(mac)), stall - lat
    sram_latency = np.where(mac, acc.sram.latency_cycles, 0)
    job = jobs.row_job[mac]
    a = alone[job]
    end[mac], crit_end[mac], lat[mac], cap[mac], bw[mac] = (job_end[job], ends.end[a], ends.latency[a],
                                                           ends.capacity[a], ends.bandwidth[a])
    compute[mac] = fs.n[a] * jobs.array_cycles[crit[job]]
    crit_compute[mac] = (fs.n[a] * fs.cycles[a]).astype(np.int64)
    end = end + sram_latency
    over = end - crit_end - sram_latency
    contention = np.where(over > 0.0, over, 0.0)
    total = np.ceil(end - 1e-9).astype(np.int64)
    counts[:, Out.TOTAL_CYCLES], counts[:, Out.COMPUTE_CYCLES] = total, compute
    cols = _columns(cases, counts, hw, dataflows, layers)
    # rounding up a contended (fractional) end goes to bandwidth; so do the cycles the SRAM
    # tier's bandwidth adds to the array's own fold schedule
    cols["stall_bandwidth_cycles"] = bw + contention + (total - end) + (crit_compute - compute)
    cols["stall_latency_cycles"] = lat + sram_latency
    cols["stall_capacity_cycles"] = cap
    cols["stall_contention_cycles"] = contention
    cols["cores"] = np.ones(len(mac), np.int64)
    cols["cores"][mac] = np.asarray(jobs.folds.width, np.int64)[job]
    builder = Trace(acc.clock_mhz, "acceldse event") if trace else None
    recorded = collect_folds(run, fn, record=True) if trace else []
    n = len(layers)
    tiers = [t.name for t in acc.tiers]
    far = tiers.index(acc.dram.name)
    extra = np.array([b * (acc.tier(h).read_energy_pj_per_byte + acc.dram.write_energy_pj_per_byte)
                      if b and tiers.index(h) > far else 0.0 for b, h in zip(sizes, homes)])
    staging_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("wait", "bw", "lat", "cap")}
    for d, df in enumerate(dataflows):
        block = slice(d * n, (d + 1) * n)
        staging = run_staging(sizes, homes, total[block].tolist(), acc, staging_depth, record=trace)
        for k, x in zip(staging_cols, (staging.wait_cycles, staging.bandwidth_cycles, staging.latency_cycles,
                                        staging.capacity_cycles)):
            staging_cols[k].append(np.asarray(x, dtype=np.float64))
        for i, layer in enumerate(layers):
            if progress is not None:
                progress(d * n + i, len(dataflows) * n, f"{df.name} {layer.name}")
            if builder is not None:
                r = d * n + i
                runs, link = recorded[jobs.row_job[r]] if mac[r] else ([], None)
                tracks = [t for core in runs for t in core.tracks] + link.stats.tracks if link else \
                    _vector_tracks(layer, acc, int(compute[r]))
                for track in tracks:
                    builder.add(track, offset_cycles=float(staging.start_cycles[i]),
                                args={"layer": f"{df.name}:{layer.name}"})
        if builder is not None:
            for track in staging.tracks:
                builder.add(track, args={"layer": f"{df.name}:staging"})
    _add_staging(cols, {k: np.concatenate(v) for k, v in staging_cols.items()}, acc, np.tile(extra, len(dataflows)))
    cols["weight_tier"] = np.tile(np.array([h if b else "" for h, b in zip(homes, sizes)], dtype=str), len(dataflows))
    cols["stall_staging_cycles"] = np.concatenate(staging_cols["wait"])
    macs = np.tile(np.array([x.macs for x in layers], dtype=np.int64), len(dataflows))
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["utilization"] = np.where(cols["total_cycles"] > 0, macs / (cols["total_cycles"] * total_pes), 0.0)
    if progress is not None:
        progress(len(mac), len(mac), "done")
    return EventRun(add_sparse_columns(Table(cols), network), builder.build() if builder else None)


def _vector_counts(cases: list[NetworkCases], hw: HardwareArrays) -> np.ndarray:
    """The ``Out`` counts of every (dataflow, layer) row's layer without MACs on the vector unit (0 on MAC rows)."""
    blocks = []
    for nc in cases:
        out, energy = np.zeros((1, len(nc.vectors) + 1, N_OUT)), np.zeros((1, len(nc.vectors) + 1, N_BYTES))
        evaluate_network(nc.mac_cases[:0], nc.vectors, hw.matrix, out, energy)
        blocks.append(out[0][np.maximum(nc.lowered - len(nc.mac_cases), -1)])
    return np.concatenate(blocks)


def _columns(cases: list[NetworkCases], counts: np.ndarray, hw: HardwareArrays, dataflows: list[Dataflow],
             layers: Sequence[Layer]) -> dict[str, Any]:
    """``systolic_table``'s columns of the rows' ``counts`` (``Out``; energy from the counts)."""
    n = len(layers)
    energy = np.zeros((len(counts), N_BYTES))
    for d, nc in enumerate(cases):
        block = slice(d * n, (d + 1) * n)
        layer_energies(counts[block], nc.mac_cases, nc.vectors, nc.lowered, hw.matrix[0], energy[block])
    arrays = finish(counts[None], energy[None], np.concatenate([nc.macs for nc in cases]), hw)
    arrays.update(utilization(arrays))
    cols: dict[str, Any] = {"layer": np.tile([x.name for x in layers], len(dataflows)),
                            "op": np.tile([x.op for x in layers], len(dataflows)),
                            "dataflow": np.repeat([df.name for df in dataflows], n)}
    cols.update({c: arrays[c][0] for c in LAYER_COLUMNS})
    return cols


def _vector_tracks(layer: Layer, acc: Accelerator, compute: int) -> list[Track]:
    """A layer without MACs on the vector unit as trace tracks: the DMA loads then stores after the first
    latency, the unit computes from the first inputs' latency on."""
    dram, lat = acc.dram, acc.dram.latency_cycles
    load = math.ceil(layer.input_elems * operand_bytes(layer.input_bits, acc) / dram.read_bw_bytes_per_cycle)
    store = math.ceil(layer.output_elems * operand_bytes(layer.output_bits, acc) / dram.write_bw_bytes_per_cycle)
    return [Track("core0", np.array([lat]), np.array([lat + compute]), "vector", "compute"),
            Track(f"dma0 ({dram.name})", np.array([lat, lat + load]), np.array([lat + load, lat + load + store]),
                  ["load", "store"], "dma")]


def _add_staging(cols: dict[str, Any], staging: dict[str, np.ndarray], acc: Accelerator, extra: np.ndarray) -> None:
    """Add the wait for staged weights to the rows (cycles, stalls by cause) and far tiers' copies to their energy."""
    wait = staging["wait"]
    w = wait != 0
    old = cols["total_cycles"]
    total = np.where(w, np.ceil(old + wait - 1e-9), old).astype(np.int64)
    for key, part in (("stall_bandwidth_cycles", staging["bw"] + (total - old - wait)),
                      ("stall_latency_cycles", staging["lat"]), ("stall_capacity_cycles", staging["cap"])):
        cols[key] = np.where(w, cols[key] + part, cols[key])
    cols["total_cycles"] = total
    cols["stall_cycles"] = total - cols["compute_cycles"]
    cols["latency_us"] = np.where(w, total / acc.clock_mhz, cols["latency_us"])
    for key in ("energy_dram_pj", "energy_pj"):
        cols[key] = np.where(extra != 0, cols[key] + extra, cols[key])


def event_table(network: Network, acc: Accelerator, dataflows: list[Dataflow], *,
                cores: int | None = None, progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """Per-layer event-fidelity results: ``systolic_table``'s columns plus ``EVENT_COLUMNS``."""
    return event_run(network, acc, dataflows, cores=cores, progress=progress).table
