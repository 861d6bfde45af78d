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
from acceldse.simulator.event.arrays import check_arrays
from acceldse.simulator.event.engine import run_fold_layers, run_folds
from acceldse.simulator.event.jobs import layer_times, mac_jobs
from acceldse.simulator.event.staging import SOURCE as STAGING
from acceldse.simulator.event.staging import resolve_weight_tiers, run_staging, weight_bytes
from acceldse.simulator.result import COLUMNS, Table
from acceldse.simulator.specs.accelerator import Accelerator, SystolicArray
from acceldse.simulator.streaming.trace import Trace, Track
from acceldse.simulator.systolic.batch import (
    LAYER_COLUMNS,
    finish,
    network_cases,
    utilization,
)
from acceldse.simulator.systolic.hardware import HardwareArrays
from acceldse.simulator.systolic.kernels import N_OUT, Out
from acceldse.simulator.systolic.layer_kernels import (
    N_BYTES,
    evaluate_network,
    layer_energies,
)
from acceldse.simulator.systolic.model import add_sparse_columns, operand_bytes
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
    n_cores = acc.cores if cores is None else cores
    for source, key, value in (("event", "cores", n_cores), (STAGING, "staging_depth", staging_depth)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError("must be an integer >= 1", source=source, key=key, value=value, accepted="an integer >= 1")
    if arrays is None and acc.cores != n_cores:
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
    hw = HardwareArrays.of([acc], area=False)  # the table has no area column
    nc = network_cases(layers, dataflows)  # every (dataflow, layer) row; identical layers lowered, run once
    jobs = mac_jobs(layers, dataflows, acc, cores=n_cores, arrays=hetero, cases=nc, hw=hw, alone=True)
    m, mac = len(nc.mac_cases), jobs.row_job >= 0
    if check_folds is not None:
        check_folds(int(jobs.counts[jobs.row_job[mac], Out.FOLDS].sum()))
    # every lowered layer: a MAC layer from its job's run (alone: its critical run alone on the link), a layer
    # without MACs on the vector unit (its DMA loads, then stores; the unit computes between the latencies)
    h, n_vec = hw.matrix[0], len(nc.vectors)
    vec, vec_energy = np.zeros((1, n_vec, N_OUT)), np.zeros((1, n_vec, N_BYTES))
    evaluate_network(nc.mac_cases[:0], nc.vectors, hw.matrix, vec, vec_energy)
    mac_energy = np.zeros((m, N_BYTES))
    layer_energies(jobs.counts, nc.mac_cases, nc.vectors, np.arange(m), h, mac_energy)
    fs = jobs.folds
    total, compute, stalls = layer_times(*dataclasses.astuple(run_folds(fs)), fs.job, fs.n, fs.cycles, m, jobs.alone,
                                         jobs.array_cycles, vec[0, :, Out.TOTAL_CYCLES],
                                         vec[0, :, Out.COMPUTE_CYCLES].astype(np.int64), acc.dram.latency_cycles,
                                         acc.sram.latency_cycles, nc.lowered)
    counts = np.concatenate([jobs.counts, vec[0]])
    counts[:, Out.TOTAL_CYCLES], counts[:, Out.COMPUTE_CYCLES] = total, compute
    arr = finish(counts[None, nc.lowered], np.concatenate([mac_energy, vec_energy[0]])[None, nc.lowered], nc.macs, hw)
    arr.update(utilization(arr))
    n, flows = len(layers), len(dataflows)
    cols: dict[str, Any] = {"layer": np.array([x.name for x in layers] * flows),
                            "op": np.array([x.op for x in layers] * flows),
                            "dataflow": np.repeat([df.name for df in dataflows], n)}
    cols.update({c: arr[c][0] for c in LAYER_COLUMNS})
    cols.update(zip(("stall_bandwidth_cycles", "stall_latency_cycles", "stall_capacity_cycles",
                     "stall_contention_cycles"), stalls))
    cols["cores"] = np.concatenate([np.asarray(fs.width[:m], np.int64), np.ones(n_vec, np.int64)])[nc.lowered]
    tiers = [t.name for t in acc.tiers]
    far = tiers.index(acc.dram.name)
    staged = [bool(b) and tiers.index(h) > far for b, h in zip(sizes, homes)]
    extra = np.array([b * (acc.tier(h).read_energy_pj_per_byte + acc.dram.write_energy_pj_per_byte) if s else 0.0
                      for b, h, s in zip(sizes, homes, staged)])
    wait = np.zeros((4, flows * n))  # waits for staged weights, then their bandwidth, latency, capacity parts
    builder = Trace(acc.clock_mhz, "acceldse event") if trace else None
    if any(staged) or builder is not None:
        recorded = run_fold_layers(fs, record=True) if trace else []
        for d, df in enumerate(dataflows):
            block = slice(d * n, (d + 1) * n)
            staging = run_staging(sizes, homes, cols["total_cycles"][block].tolist(), acc, staging_depth,
                                  record=trace)
            wait[:, block] = (staging.wait_cycles, staging.bandwidth_cycles, staging.latency_cycles,
                              staging.capacity_cycles)
            if builder is None:
                continue
            for i, layer in enumerate(layers):
                r = d * n + i
                runs, link = recorded[jobs.row_job[r]] if mac[r] else ([], None)
                tracks = [t for core in runs for t in core.tracks] + link.stats.tracks if link else \
                    _vector_tracks(layer, acc, int(cols["compute_cycles"][r]))
                for track in tracks:
                    builder.add(track, offset_cycles=float(staging.start_cycles[i]),
                                args={"layer": f"{df.name}:{layer.name}"})
            for track in staging.tracks:
                builder.add(track, args={"layer": f"{df.name}:staging"})
    if any(staged):
        _add_staging(cols, wait, acc, np.tile(extra, flows))
    cols["weight_tier"] = np.array([h if b else "" for h, b in zip(homes, sizes)] * flows, dtype=str)
    cols["stall_staging_cycles"] = wait[0]
    macs, cycles = np.array([x.macs for x in layers] * flows, dtype=np.int64), cols["total_cycles"]
    cols["utilization"] = np.divide(macs, cycles * total_pes, out=np.zeros(len(cycles)), where=cycles > 0)
    if progress is not None:
        for r in range(flows * n):
            progress(r, flows * n, f"{dataflows[r // n].name} {layers[r % n].name}")
        progress(flows * n, flows * n, "done")
    return EventRun(add_sparse_columns(Table(cols), network), builder.build() if builder else None)


def _vector_tracks(layer: Layer, acc: Accelerator, compute: int) -> list[Track]:
    """A layer without MACs on the vector unit as trace tracks: the DMA loads then stores after the first
    latency, the unit computes from the first inputs' latency on."""
    dram, lat = acc.dram, acc.dram.latency_cycles
    load = math.ceil(layer.input_elems * operand_bytes(layer.input_bits, acc) / dram.read_bw_bytes_per_cycle)
    store = math.ceil(layer.output_elems * operand_bytes(layer.output_bits, acc) / dram.write_bw_bytes_per_cycle)
    return [Track("core0", np.array([lat]), np.array([lat + compute]), "vector", "compute"),
            Track(f"dma0 ({dram.name})", np.array([lat, lat + load]), np.array([lat + load, lat + load + store]),
                  ["load", "store"], "dma")]


def _add_staging(cols: dict[str, Any], staging: np.ndarray, acc: Accelerator, extra: np.ndarray) -> None:
    """Add the wait for staged weights (``staging``: wait, bandwidth, latency and capacity parts) to the rows
    (cycles, stalls by cause) and far tiers' copies to their energy."""
    wait, bw, lat, cap = staging
    w = wait != 0
    old = cols["total_cycles"]
    total = np.where(w, np.ceil(old + wait - 1e-9), old).astype(np.int64)
    for key, part in (("stall_bandwidth_cycles", bw + (total - old - wait)), ("stall_latency_cycles", lat),
                      ("stall_capacity_cycles", cap)):
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
