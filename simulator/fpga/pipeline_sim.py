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
from numba import njit

from acceldse.simulator.fpga.stage import Folding, check_folding, stage_cycles
from acceldse.simulator.streaming.flat import NetRun
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.streaming.result import StreamDeadlockError
from acceldse.simulator.streaming.trace import DEFAULT_CLOCK_MHZ, Trace
from acceldse.workloads.errors import SpecError
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


@njit(cache=True)
def _stage_programs(rows: np.ndarray, in_start: np.ndarray, tokens: np.ndarray, outs: np.ndarray,
                    start: np.ndarray, kind: np.ndarray) -> None:
    """One sample of every stage ``s`` as firings, into ``kind[start[s]: start[s + 1]]``: per output row ``p``, a
    read of each input token its window needs (input by input), the row's compute, a write to each successor;
    then the input tokens left unread; then a mark. A firing's code: ``i`` < n (its inputs) a read of input
    ``i``; n the row's compute; n + 1 + ``j`` a write to successor ``j``; n + 1 + outs the mark.

    ``rows[s]``: (P, H, stride, last input row of output row 0 plus one, gemm): output row ``p`` needs the
    first ``min(H, p * stride + that)`` of the H input rows, scaled to the tokens its producer sends
    (all of them for a gemm)."""
    for s in range(outs.shape[0]):
        pos, n = start[s], in_start[s + 1] - in_start[s]
        big_p, h, stride, first, gemm = rows[s]
        read = np.zeros(n, np.int64)
        for p in range(big_p):
            for i in range(n):
                t = tokens[in_start[s] + i]
                need = t if gemm else min(t, -(-max(min(h, p * stride + first), 1) * t // h))
                while read[i] < need:
                    kind[pos] = i
                    pos += 1
                    read[i] += 1
            for j in range(outs[s] + 1):
                kind[pos] = n + j
                pos += 1
        for i in range(n):
            for _ in range(tokens[in_start[s] + i] - read[i]):
                kind[pos] = i
                pos += 1
        kind[pos] = n + 1 + outs[s]


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
    for layer in network:
        if layer.name in foldings:
            check_folding(layer, foldings[layer.name])
    cycles = {layer.name: stage_cycles(layer, foldings.get(layer.name, Folding())) for layer in network}

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
    """A pipeline added to a :class:`Net`: what :func:`pipeline_result` needs to read its run. Per stage (the
    network's layers in order): its context, its inputs and successors, its row's compute cycles; every stage's
    one-sample program (``_stage_programs``) in ``kinds[start[s]: start[s + 1]]``."""

    network: Network
    samples: int
    cycles: dict[str, int]
    context: np.ndarray
    n_in: np.ndarray
    n_out: np.ndarray
    row_cycles: np.ndarray
    kinds: np.ndarray
    start: np.ndarray


def add_pipeline(net: Net, network: Network, cycles: Mapping[str, int], *, samples: int,
                 fifo_rows: Callable[[tuple[str, str]], int], prefix: str = "",
                 offchip: OffChip | None = None) -> PipelineGraph:
    """Add the stage contexts and row FIFOs of ``network`` to ``net`` (names prefixed ``prefix``).

    ``cycles``: cycles per sample of each stage; ``fifo_rows(edge)``: each FIFO's depth. Without
    ``offchip`` sources read and sinks write without limit; with it a loader context moves each
    source's input rows over the link (2-row buffer) and a storer moves each sink's output rows.
    """
    fifo = {edge: net.channel(f"{prefix}{edge[0]}->{edge[1]}", capacity=fifo_rows(edge)) for edge in network.edges}
    stages = []
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
        stages.append((layer, ins, outs_ch))
    tokens = [t for _, ins, _ in stages for _, t in ins]
    period = np.array([ly.P * (1 + len(o)) + sum(t for _, t in i) + 1 for ly, i, o in stages], np.int64)
    start = np.concatenate(([0], np.cumsum(period))).astype(np.int64)
    kinds = np.empty(int(start[-1]), np.int64)
    _stage_programs(np.array([(ly.P, ly.H, ly.stride[0], (ly.R - 1) * ly.dilation[0] + 1 - ly.padding[0],
                               ly.op in ("gemm", "matmul")) for ly, _, _ in stages], np.int64).reshape(-1, 5),
                    np.concatenate(([0], np.cumsum([len(i) for _, i, _ in stages]))).astype(np.int64),
                    np.array(tokens, np.int64), np.array([len(o) for _, _, o in stages], np.int64), start, kinds)
    contexts, row_cycles = [], [cycles[ly.name] / ly.P for ly, _, _ in stages]
    for s, (layer, ins, outs_ch) in enumerate(stages):
        kind, n = kinds[start[s]: start[s + 1]], len(ins)
        contexts.append(net.context(f"{prefix}{layer.name}", samples * kind.size,
                                    ii=np.where(kind == n, row_cycles[s], 0.0),
                                    inputs=[(ch, kind == i) for i, (ch, _) in enumerate(ins)],
                                    outputs=[(ch, kind == n + 1 + j) for j, ch in enumerate(outs_ch)]))
    return PipelineGraph(network, samples, dict(cycles), np.array(contexts, np.int64),
                         np.array([len(i) for _, i, _ in stages], np.int64),
                         np.array([len(o) for _, _, o in stages], np.int64), np.array(row_cycles, np.float64), kinds,
                         start)


@njit(cache=True)
def _stalls(fire: np.ndarray, offsets: np.ndarray, pipe_context: np.ndarray, kinds: np.ndarray, start: np.ndarray,
            n_in: np.ndarray, n_out: np.ndarray, row_cycles: np.ndarray, samples: int) -> np.ndarray:
    """Per stage, the cycles its writes waited (for a free FIFO slot) after the firing before them was done,
    summed in firing order (``fire[offsets[c]:]``: the starts of context ``c``'s firings)."""
    out = np.zeros(pipe_context.shape[0])
    for s in range(pipe_context.shape[0]):
        period, base, total = start[s + 1] - start[s], offsets[pipe_context[s]], 0.0
        for m in range(samples):
            for f in range(period):
                if n_in[s] < kinds[start[s] + f] <= n_in[s] + n_out[s]:
                    k = m * period + f
                    ii = row_cycles[s] if kinds[start[s] + (k - 1) % period] == n_in[s] else 0.0
                    total += fire[base + k] - (fire[base + k - 1] + ii)
        out[s] = total
    return out


def pipeline_result(run: NetRun, pipe: PipelineGraph) -> PipelineSimResult:
    """Finish times, interval and stalls of a pipeline from its run.

    Raises:
        StreamDeadlockError: the run deadlocked.
    """
    if run.deadlock is not None:
        raise StreamDeadlockError(run.deadlock)
    network, samples = pipe.network, pipe.samples
    assert run.starts is not None
    stalls = _stalls(run.starts, run.offsets, pipe.context, pipe.kinds, pipe.start, pipe.n_in, pipe.n_out,
                     pipe.row_cycles, samples)
    stall = dict(zip([ly.name for ly in network], stalls.tolist()))
    period = np.diff(pipe.start)
    done = np.max([run.times(int(pipe.context[s]))[0][period[s] - 1::period[s]]
                   for s, ly in enumerate(network) if not network.successors(ly.name)], axis=0)
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
