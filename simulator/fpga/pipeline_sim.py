"""Event-level model of one partition's stage pipeline: SimPy processes linked by bounded FIFOs.

Tokens are feature-map *rows*.  The FIFO on edge a -> b carries the rows a produces (``P_a`` per
sample) with a capacity of ``fifo_rows`` tokens.  Stage ``s`` works row by row: before computing
output row ``p`` it must have read the input rows its window needs
(``min(H, p*stride + R - pad_top)`` of its ``H`` input rows, scaled to the number of tokens the
producer sends); it then computes for ``cycles_per_sample / P`` cycles and puts one token into every
outgoing FIFO (blocking while a FIFO is full -- back-pressure).  Reading is overlapped with compute.

With FIFOs deep enough the steady-state interval between samples equals the analytical
``max(cycles_per_sample)``; too-shallow FIFOs show up as stall cycles (lower throughput) or, on
reconvergent paths (a residual skip), as a ``DeadlockError`` naming the full and empty FIFOs.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import simpy

from acceldse.simulator.fpga.stage import Folding, stage_cost
from acceldse.workloads.errors import DeadlockError, SpecError
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network


@dataclass(frozen=True)
class PipelineSimResult:
    """Result of an event-level run.

    Attributes:
        samples: samples pushed through.
        finish_cycles: completion time of each sample at the sinks (cycles).
        interval_cycles: steady-state cycles between consecutive samples (last half of the run).
        analytical_interval_cycles: ``max(cycles_per_sample)`` of the stages.
        stall_cycles: per stage, cycles spent blocked on a full output FIFO.
        total_cycles: time the last sample finished.
    """

    samples: int
    finish_cycles: tuple[float, ...]
    interval_cycles: float
    analytical_interval_cycles: int
    stall_cycles: dict[str, float]
    total_cycles: float

    @property
    def relative_error(self) -> float:
        """|event - analytical| / analytical interval."""
        return abs(self.interval_cycles - self.analytical_interval_cycles) / self.analytical_interval_cycles


def _rows_needed(layer: Layer, p: int, tokens_in: int) -> int:
    """Input tokens (of ``tokens_in`` per sample) needed before computing output row ``p``."""
    if layer.op in ("gemm", "matmul"):
        return tokens_in
    rows = min(layer.H, p * layer.stride[0] + (layer.R - 1) * layer.dilation[0] + 1 - layer.padding[0])
    return min(tokens_in, math.ceil(max(rows, 1) * tokens_in / layer.H))


def simulate_pipeline(network: Network, foldings: Mapping[str, Folding] | None = None, *, samples: int = 16,
                      fifo_rows: int | Mapping[tuple[str, str], int] = 64) -> PipelineSimResult:
    """Run ``samples`` samples through the stage pipeline of ``network`` (one partition).

    Args:
        network: the layers of the partition (a DAG; sources read from off-chip without limit,
            sinks write without limit).
        foldings: folding per layer (minimal folding for missing layers).
        samples: number of samples (>= 2).
        fifo_rows: capacity (tokens = rows) of every FIFO, or per edge ``{(producer, consumer): rows}``.
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise SpecError("need at least two samples to measure an interval", key="samples", value=samples,
                        accepted="an integer >= 2")
    foldings = foldings or {}
    env = simpy.Environment()
    cycles = {layer.name: stage_cost(layer, foldings.get(layer.name, Folding())).cycles_per_sample
              for layer in network}

    def depth(edge: tuple[str, str]) -> int:
        d = fifo_rows.get(edge, 64) if isinstance(fifo_rows, Mapping) else fifo_rows
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise SpecError("FIFO depth must be a positive integer", key=f"fifo_rows[{edge}]", value=d,
                            accepted="an integer >= 1")
        return d

    fifos = {edge: simpy.Store(env, capacity=depth(edge)) for edge in network.edges}
    stall = {layer.name: 0.0 for layer in network}
    finish: list[float] = []
    sinks = [layer.name for layer in network if not network.successors(layer.name)]
    done_count: dict[int, int] = {}

    def stage(layer: Layer) -> Generator[Any, Any, None]:
        ins = [fifos[(p, layer.name)] for p in network.predecessors(layer.name)]
        in_tokens = [network[p].P for p in network.predecessors(layer.name)]
        outs = [fifos[(layer.name, s)] for s in network.successors(layer.name)]
        rows = layer.P
        row_time = cycles[layer.name] / rows
        for sample in range(samples):
            read = [0] * len(ins)
            for p in range(rows):
                for i, fifo in enumerate(ins):
                    need = _rows_needed(layer, p, in_tokens[i])
                    while read[i] < need:
                        yield fifo.get()
                        read[i] += 1
                yield env.timeout(row_time)
                for fifo in outs:
                    t0 = env.now
                    yield fifo.put(sample)
                    stall[layer.name] += env.now - t0
            for i, fifo in enumerate(ins):
                while read[i] < in_tokens[i]:
                    yield fifo.get()
                    read[i] += 1
            if layer.name in sinks:
                done_count[sample] = done_count.get(sample, 0) + 1
                if done_count[sample] == len(sinks):
                    finish.append(env.now)

    for layer in network:
        env.process(stage(layer))
    env.run()
    if len(finish) < samples:
        full = [f"{a}->{b}" for (a, b), s in fifos.items() if len(s.items) >= s.capacity]
        empty = [f"{a}->{b}" for (a, b), s in fifos.items() if not s.items]
        raise DeadlockError(f"pipeline of {network.name!r} deadlocked after {len(finish)}/{samples} samples at "
                            f"cycle {env.now:.0f}; full FIFOs: {full or 'none'}; empty FIFOs: {empty or 'none'}")
    half = len(finish) // 2
    interval = (finish[-1] - finish[half - 1]) / (len(finish) - half) if len(finish) > 2 else finish[1] - finish[0]
    return PipelineSimResult(samples, tuple(finish), interval, max(cycles.values()), stall, finish[-1])


def partition_network(network: Network, names: tuple[str, ...] | list[str]) -> Network:
    """The sub-network of one partition (edges between its layers only)."""
    inside = set(names)
    layers = tuple(network[n] for n in names)
    edges = tuple(e for e in network.edges if e[0] in inside and e[1] in inside)
    if len(layers) > 1 and not edges:
        raise SpecError("partition layers are not connected", source=network.name, key="partition", value=names)
    return Network(f"{network.name}[{names[0]}..{names[-1]}]", layers, edges=edges or (), source=network.source)
