"""A heterogeneous system on one off-chip link: a systolic core, an FPGA layer pipeline and a streaming SDPA unit.

Each part is the graph its own model builds, added to one :class:`~acceldse.simulator.streaming.net.Net`:

* systolic: one MAC layer's folds on ``cores`` arrays (the event fidelity's DMA engines, double
  buffers, arrays and write-back; ``simulator.event.engine``);
* FPGA: a layer pipeline's stage contexts and row FIFOs (``simulator.fpga.pipeline_sim``), a
  loader moving each source's input rows over the link and a storer each sink's output rows;
* SDPA: a streaming attention graph (``dataflows.streams.sdpa``); a loader streams one key row
  and one value row per score over the link, a storer writes each output row.

All their off-chip traffic is work on the accelerator's closest off-chip tier's link (full-bandwidth
cycles: ``ceil(bytes / bandwidth)`` per transfer), processor-shared among the transfers in flight.
The system runs twice: every part on a link of its own (alone) and all parts on one link (shared);
the difference is what contention costs each part. All parts run at the accelerator's clock; the
shared run's trace has a process per part (a track per context, an occupancy counter per channel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from acceldse.dataflows.dataflow import Dataflow
from acceldse.dataflows.streams.sdpa import SdpaGraph
from acceldse.simulator.event.engine import FoldNet, Folds, collect_folds, fold_net
from acceldse.simulator.event.jobs import mac_jobs
from acceldse.simulator.fpga.pipeline_sim import OffChip, add_pipeline
from acceldse.simulator.fpga.stage import Folding, stage_cycles
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.streaming.compiled import lower
from acceldse.simulator.streaming.flat import NetRun
from acceldse.simulator.streaming.limits import refuse_work, work_limit
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.streaming.result import StreamDeadlockError
from acceldse.simulator.streaming.trace import Trace
from acceldse.simulator.systolic.kernels import case_folds
from acceldse.simulator.systolic.model import build_case
from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network


@dataclass(frozen=True)
class SystemRun:
    """Per part: cycles alone on the link and sharing it, and its link work; the shared link's use.

    Attributes:
        table: one row per part: ``part``, ``alone_cycles``, ``shared_cycles``,
            ``contention_cycles`` (shared - alone), ``slowdown`` (shared / alone),
            ``link_work_cycles`` (its transfers at full bandwidth).
        cycles: when the last part finished (shared).
        link: the link's name.
        link_busy_cycles: cycles the shared link had at least one transfer.
        link_peak_transfers: most transfers in flight at once.
        trace: the shared run's Chrome/Perfetto trace when asked (``json.dump`` it).
    """

    table: pd.DataFrame
    cycles: float
    link: str
    link_busy_cycles: float
    link_peak_transfers: int
    trace: dict[str, Any] | None = None


def _build(acc: Accelerator, job: Folds | None, pipeline: Network | None, samples: int, fifo_rows: int,
           sdpa: SdpaGraph | None, head_dim: int, bytes_per_element: int,
           shared: bool) -> tuple[Net, dict[str, tuple[range, range]], dict[str, tuple[FoldNet, int, int]]]:
    """The system's net; per part its context and channel ids, and what reads its end."""
    net = Net("system")
    dram = acc.dram
    one = net.resource(dram.name) if shared else -1
    contexts: dict[str, tuple[range, range]] = {}
    handles: dict[str, tuple[FoldNet, int, int]] = {}

    def link(part: str) -> int:
        return one if shared else net.resource(f"{dram.name} ({part})")

    def mark(part: str, first: tuple[int, int]) -> None:
        contexts[part] = (range(first[0], net.n_contexts), range(first[1], net.n_channels))

    if job is not None:
        first = net.n_contexts, net.n_channels
        folds = fold_net(job)
        res = link("systolic")
        handles["systolic"] = (folds, net.extend(folds.flat, prefix="systolic:", resources=[res])[0], res)
        mark("systolic", first)
    if pipeline is not None:
        first = net.n_contexts, net.n_channels
        cycles = {ly.name: stage_cycles(ly, Folding()) for ly in pipeline}
        offchip = OffChip(link("fpga"), dram.read_bw_bytes_per_cycle, dram.write_bw_bytes_per_cycle)
        add_pipeline(net, pipeline, cycles, samples=samples, fifo_rows=lambda _e: fifo_rows, prefix="fpga:",
                     offchip=offchip)
        mark("fpga", first)
    if sdpa is not None:
        first = net.n_contexts, net.n_channels
        res = link("sdpa")
        scores, rows = sdpa.scores, sdpa.keys.shape[0]  # the firings of "qk" and of "sink"
        kv = net.loader("sdpa:load k,v", scores,
                        math.ceil(2 * head_dim * bytes_per_element / dram.read_bw_bytes_per_cycle), res)
        out = net.storer("sdpa:store out", rows,
                         math.ceil(head_dim * bytes_per_element / dram.write_bw_bytes_per_cycle), res)
        lower(sdpa.graph, net, prefix="sdpa:", inputs={"qk": [(kv, 1)]}, outputs={"sink": [(out, 1)]})
        mark("sdpa", first)
    return net, contexts, handles


def _ends(run: NetRun, contexts: dict[str, tuple[range, range]],
          handles: dict[str, tuple[FoldNet, int, int]]) -> dict[str, float]:
    if run.deadlock is not None:
        raise StreamDeadlockError(run.deadlock)
    ends = {}
    for part, (ids, _) in contexts.items():
        if part == "systolic":
            folds, first, res = handles["systolic"]
            cores, _ = collect_folds(run, folds, first=first, links=[res])[0]
            ends[part] = max(c.end_cycles for c in cores)
        else:
            ends[part] = max(float(run.times(i)[1][-1]) for i in ids if run.firings[i])
    return ends


def simulate_system(acc: Accelerator, *, layer: Layer | None = None, dataflow: Dataflow | None = None,
                    pipeline: Network | None = None, samples: int = 4, fifo_rows: int = 64,
                    sdpa: SdpaGraph | None = None, head_dim: int = 0, bytes_per_element: int = 2,
                    trace: bool = False, max_work: int | None = None) -> SystemRun:
    """Run a systolic layer, an FPGA pipeline and a streaming SDPA graph alone and sharing ``acc``'s off-chip link.

    Args:
        acc: the accelerator: its array(s) (``acc.cores``) run ``layer``; its closest off-chip
            tier is the link.
        layer, dataflow: the systolic part (a MAC layer and its dataflow), or None.
        pipeline: the FPGA part (a layer-pipelined network, minimal folding), or None.
        samples, fifo_rows: samples through the pipeline and its FIFO depth (rows).
        sdpa: the SDPA part (a built attention graph), or None; ``head_dim`` its d.
        bytes_per_element: bytes of a K, V or output element of the SDPA unit.
        trace: record the shared run's Chrome/Perfetto trace (``SystemRun.trace``; microseconds at
            ``acc.clock_mhz``).
        max_work: the most context firings accepted (default ``limits.MAX_WORK["trace"]``: every
            firing is recorded), refused up front: the systolic part's folds before they are
            scheduled, the whole system before it runs.
    """
    if layer is not None and (dataflow is None or not layer.has_weights):
        raise SpecError("the systolic part needs a MAC layer and a dataflow", source="system", key="layer",
                        value=getattr(layer, "name", layer), accepted="a layer with weights and a Dataflow")
    if sdpa is not None and (isinstance(head_dim, bool) or not isinstance(head_dim, int) or head_dim < 1):
        raise SpecError("the SDPA part needs its head dimension", source="system", key="head_dim", value=head_dim,
                        accepted="an integer >= 1")
    samples, fifo_rows = require_int(samples, key="samples"), require_int(fifo_rows, key="fifo_rows")
    bytes_per_element = require_int(bytes_per_element, key="bytes_per_element")
    limit = work_limit("compiled", trace=True, max_work=max_work)  # every firing is recorded
    job = None
    if layer is not None and dataflow is not None:  # a DMA engine fires 3 times a fold, its array once
        refuse_work(4 * int(case_folds(build_case(layer, dataflow, acc))), limit, source="system",
                    what="context firings")
        job = mac_jobs([layer], [dataflow], acc, cores=acc.cores).folds
    ends = {}
    for shared in (False, True):
        net, contexts, handles = _build(acc, job, pipeline, samples, fifo_rows, sdpa, head_dim, bytes_per_element,
                                        shared)
        if not contexts:
            raise SpecError("the system has no part", source="system", key="parts", value=[],
                            accepted="layer, pipeline and/or sdpa")
        refuse_work(net.firings, limit, source="system", what="context firings")
        run = net.run(record=True)
        ends[shared] = _ends(run, contexts, handles)
        if shared:
            busy, peak = float(run.resource_busy[0]), int(run.resource_peak[0])
            drawn = _trace(run, contexts, acc.clock_mhz) if trace else None
        else:
            work = dict(zip(contexts, run.resource_work.tolist()))
    parts = list(ends[True])
    table = pd.DataFrame({
        "part": parts,
        "alone_cycles": [ends[False][p] for p in parts],
        "shared_cycles": [ends[True][p] for p in parts],
        "link_work_cycles": [work[p] for p in parts],
    })
    table["contention_cycles"] = table["shared_cycles"] - table["alone_cycles"]
    table["slowdown"] = table["shared_cycles"] / table["alone_cycles"]
    return SystemRun(table=table, cycles=float(np.max(table["shared_cycles"])), link=acc.dram.name,
                     link_busy_cycles=busy, link_peak_transfers=peak, trace=drawn)


def _trace(run: NetRun, parts: dict[str, tuple[range, range]], clock_mhz: float) -> dict[str, Any]:
    """A process per part: each context's busy firings, each channel's occupancy (names without the part)."""
    out = Trace(clock_mhz, "system")
    for part, (ids, chans) in parts.items():
        cut = len(part) + 1
        out.add_run(run, ids, names=[run.names[i][cut:] for i in ids], channels=chans,
                    channel_names=[run.channels[i][cut:] for i in chans], process=part)
    return out.build()
