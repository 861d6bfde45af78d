"""Event-level model of one partition's stage pipeline: streaming-engine contexts linked by bounded FIFOs.

Tokens are feature-map *rows*.  The FIFO on edge a -> b carries the rows a produces (``P_a`` per
sample) with a capacity of ``fifo_rows`` tokens.  Stage ``s`` works row by row: before computing
output row ``p`` it must have read the input rows its window needs
(``min(H, p*stride + R - pad_top)`` of its ``H`` input rows, scaled to the number of tokens the
producer sends); it then computes for ``cycles_per_sample / P`` cycles and puts one token into every
outgoing FIFO (blocking while a FIFO is full -- back-pressure).  Reading is overlapped with compute.

With FIFOs deep enough the steady-state interval between samples equals the analytical
``max(cycles_per_sample)``; too-shallow FIFOs show up as stall cycles (lower throughput) or, on
reconvergent paths (a residual skip), as the engine's ``StreamDeadlockError`` (a ``DeadlockError``)
naming the circular wait and the full and empty FIFOs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acceldse.simulator.fpga.stage import Folding, stage_cost
from acceldse.simulator.streaming.flat import NetRun
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.streaming.result import StreamDeadlockError
from acceldse.simulator.streaming.trace import DEFAULT_CLOCK_MHZ, Trace
from acceldse.workloads.errors import SpecError
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
        trace: the run's Chrome/Perfetto trace when asked (a track per stage, an occupancy counter
            per FIFO; ``json.dump`` it).
    """

    samples: int
    finish_cycles: tuple[float, ...]
    interval_cycles: float
    analytical_interval_cycles: int
    stall_cycles: dict[str, float]
    total_cycles: float
    trace: dict[str, Any] | None = field(default=None, repr=False, compare=False)

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


def _stage_program(layer: Layer, in_tokens: list[int], outs: int, row_cycles: float) -> tuple[list[list[int]],
                                                                                            list[int], list[float]]:
    """One sample of a stage as firings: per output row, a read of each input token its window
    needs, the row's compute, a write to each successor; then the rows left unread; then a mark.

    Returns per input the read pattern, the write firing per successor (its index in the
    period) and the ii pattern (cycles from each firing to the next)."""
    reads: list[list[int]] = [[] for _ in in_tokens]
    ii: list[float] = []
    writes: list[int] = []
    kind: list[tuple[str, int]] = []
    read = [0] * len(in_tokens)
    for p in range(layer.P):
        for i, tokens in enumerate(in_tokens):
            need = _rows_needed(layer, p, tokens)
            kind.extend([("read", i)] * (need - read[i]))
            read[i] = max(read[i], need)
        kind.append(("row", 0))
        kind.extend(("write", j) for j in range(outs))
    for i, tokens in enumerate(in_tokens):
        kind.extend([("read", i)] * (tokens - read[i]))
    kind.append(("done", 0))
    for f, (what, port) in enumerate(kind):
        for i in range(len(in_tokens)):
            reads[i].append(int(what == "read" and port == i))
        ii.append(row_cycles if what == "row" else 0.0)
        if what == "write":
            writes.append(f)
    return reads, writes, ii


def simulate_pipeline(network: Network, foldings: Mapping[str, Folding] | None = None, *, samples: int = 16,
                      fifo_rows: int | Mapping[tuple[str, str], int] = 64, trace: bool = False,
                      clock_mhz: float = DEFAULT_CLOCK_MHZ) -> PipelineSimResult:
    """Run ``samples`` samples through the stage pipeline of ``network`` (one partition).

    Each stage is one context of the streaming engine, each edge one channel of ``fifo_rows``
    row tokens (visible as soon as written); see ``_stage_program`` for a stage's firings.

    Args:
        network: the layers of the partition (a DAG; sources read from off-chip without limit,
            sinks write without limit).
        foldings: folding per layer (minimal folding for missing layers).
        samples: number of samples (>= 2).
        fifo_rows: capacity (tokens = rows) of every FIFO, or per edge ``{(producer, consumer): rows}``.
        trace: add the run's Chrome/Perfetto trace to the result (microseconds at ``clock_mhz``;
            the default 1 MHz reads as cycles).

    Raises:
        StreamDeadlockError: a FIFO too shallow for a reconvergent path (the engine's deadlock
            report, naming the circular wait and the full and empty FIFOs).
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise SpecError("need at least two samples to measure an interval", key="samples", value=samples,
                        accepted="an integer >= 2")
    foldings = foldings or {}
    cycles = {layer.name: stage_cost(layer, foldings.get(layer.name, Folding())).cycles_per_sample
              for layer in network}

    def depth(edge: tuple[str, str]) -> int:
        d = fifo_rows.get(edge, 64) if isinstance(fifo_rows, Mapping) else fifo_rows
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise SpecError("FIFO depth must be a positive integer", key=f"fifo_rows[{edge}]", value=d,
                            accepted="an integer >= 1")
        return d

    net = Net(network.name)
    pipe = add_pipeline(net, network, cycles, samples=samples, fifo_rows=depth)
    run = net.run(record=True)
    result = pipeline_result(run, pipe)
    if not trace:
        return result
    drawn = Trace(clock_mhz, f"{network.name} (pipeline)")
    drawn.add_run(run, channels=range(len(run.channels)))
    return dataclasses.replace(result, trace=drawn.build())


@dataclass(frozen=True)
class OffChip:
    """The link a pipeline's sources read their input rows over and its sinks write their output rows over.

    Attributes:
        resource: the link (a resource of the :class:`Net`).
        read_bytes_per_cycle, write_bytes_per_cycle: its bandwidth each way (a row costs
            ``ceil(row bytes / bandwidth)`` full-bandwidth cycles of it).
    """

    resource: int
    read_bytes_per_cycle: float
    write_bytes_per_cycle: float


@dataclass(frozen=True)
class PipelineGraph:
    """A pipeline added to a :class:`Net`: what :func:`pipeline_result` needs to read its run."""

    network: Network
    samples: int
    cycles: dict[str, int]
    programs: dict[str, tuple[int, int, list[int], list[float]]]


def add_pipeline(net: Net, network: Network, cycles: Mapping[str, int], *, samples: int,
                 fifo_rows: Callable[[tuple[str, str]], int], prefix: str = "",
                 offchip: OffChip | None = None) -> PipelineGraph:
    """Add the stage contexts and row FIFOs of ``network`` to ``net`` (names prefixed ``prefix``).

    ``cycles``: cycles per sample of each stage; ``fifo_rows(edge)``: each FIFO's depth. Without
    ``offchip`` sources read and sinks write without limit; with it a loader context moves each
    source's input rows over the link (2-row buffer) and a storer moves each sink's output rows.
    """
    fifo = {edge: net.channel(f"{prefix}{edge[0]}->{edge[1]}", capacity=fifo_rows(edge)) for edge in network.edges}
    programs = {}
    for layer in network:
        preds, succs = network.predecessors(layer.name), network.successors(layer.name)
        ins = [(fifo[(p, layer.name)], network[p].P) for p in preds]
        outs_ch = [fifo[(layer.name, s)] for s in succs]
        if offchip is not None and not preds:
            row = math.ceil(layer.input_bytes / layer.H / offchip.read_bytes_per_cycle)
            ins.append((net.loader(f"{prefix}load {layer.name}", samples * layer.H, row, offchip.resource), layer.H))
        if offchip is not None and not succs:
            row = math.ceil(layer.output_bytes / layer.P / offchip.write_bytes_per_cycle)
            outs_ch.append(net.storer(f"{prefix}store {layer.name}", samples * layer.P, row, offchip.resource))
        reads, writes, ii = _stage_program(layer, [t for _, t in ins], len(outs_ch), cycles[layer.name] / layer.P)
        period = len(ii)
        outs = []
        for j, ch in enumerate(outs_ch):
            mine = set(writes[j::len(outs_ch)])
            outs.append((ch, [int(f in mine) for f in range(period)]))
        index = net.context(f"{prefix}{layer.name}", samples * period, ii=ii,
                            inputs=[(ch, reads[i]) for i, (ch, _) in enumerate(ins)], outputs=outs)
        programs[layer.name] = (index, period, writes, ii)
    return PipelineGraph(network, samples, dict(cycles), programs)


def pipeline_result(run: NetRun, pipe: PipelineGraph) -> PipelineSimResult:
    """Finish times, interval and stalls of a pipeline from its run.

    Raises:
        StreamDeadlockError: the run deadlocked.
    """
    if run.deadlock is not None:
        raise StreamDeadlockError(run.deadlock)
    network, samples = pipe.network, pipe.samples
    stall = {}
    for layer in network:
        index, period, writes, ii = pipe.programs[layer.name]
        starts, _ = run.times(index)
        k = (np.arange(samples)[:, None] * period + np.asarray(writes, np.int64)[None, :]).ravel()
        waited = starts[k] - (starts[k - 1] + np.asarray(ii)[(k - 1) % period])
        stall[layer.name] = float(np.cumsum(np.concatenate(([0.0], waited)))[-1])
    sinks = [pipe.programs[layer.name] for layer in network if not network.successors(layer.name)]
    done = np.max([run.times(index)[0][period - 1::period] for index, period, _, _ in sinks], axis=0)
    finish = [float(t) for t in done]
    half = len(finish) // 2
    interval = (finish[-1] - finish[half - 1]) / (len(finish) - half) if len(finish) > 2 else finish[1] - finish[0]
    return PipelineSimResult(samples, tuple(finish), interval, max(pipe.cycles.values()), stall, finish[-1])


def partition_network(network: Network, names: tuple[str, ...] | list[str]) -> Network:
    """The sub-network of one partition (edges between its layers only)."""
    inside = set(names)
    layers = tuple(network[n] for n in names)
    edges = tuple(e for e in network.edges if e[0] in inside and e[1] in inside)
    if len(layers) > 1 and not edges:
        raise SpecError("partition layers are not connected", source=network.name, key="partition", value=names)
    return Network(f"{network.name}[{names[0]}..{names[-1]}]", layers, edges=edges or (), source=network.source)
