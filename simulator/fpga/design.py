"""A layer-pipelined design: stages, partitions, and its throughput / latency / resources.

Semantics (fpgaConvNet / SAMO):

* a partition is a set of consecutive layers (in topological order) configured on the device at
  once; its stages run concurrently, linked by FIFOs, so its batch takes
  ``interval = batch * max(stage cycles per sample)`` cycles;
* partitions run one after the other with a device reconfiguration in between:
  ``batch_time = sum(interval_p) / clock + (partitions - 1) * reconfiguration``;
  ``throughput = batch / batch_time`` (samples/s);
* ``latency`` additionally counts the pipeline fill of each partition (the first sample must pass
  every stage): ``sum((interval_p + sum(c_s) - max(c_s)) / clock) + reconfigurations``;
* off-chip traffic of a partition: its inputs and outputs (feature maps entering or leaving it)
  and the weights of stages whose weights are not on chip; required bandwidth
  ``bits / interval * clock`` must not exceed the platform's;
* every partition's resources (stages plus FIFOs) must fit the platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from acceldse.simulator.fpga.modules import squeeze
from acceldse.simulator.fpga.resources import fifo_cost
from acceldse.simulator.fpga.stage import Folding, StageCost, stage_cost
from acceldse.simulator.specs.platform import Platform, load_platform
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

RESOURCES: tuple[str, ...] = ("dsp", "bram18", "uram", "lut", "ff")
"""Resources a partition is checked against."""

STAGE_COLUMNS: tuple[str, ...] = ("layer", "op", "partition", "coarse_in", "coarse_out", "fine", "personality",
                                  "weights_on_chip", "cycles", "dsp", "bram18", "uram", "lut", "ff")
"""Columns of the per-stage DataFrame. ``cycles`` is for the whole batch."""


@dataclass(frozen=True)
class PartitionReport:
    """Evaluation of one partition.

    Attributes:
        layers: layer names in the partition.
        interval_cycles: cycles for the whole batch (batch x slowest stage).
        fill_cycles: extra cycles for the first sample to pass all stages.
        resources: totals of dsp, bram18, uram, lut, ff (stages + FIFOs).
        bandwidth_gbit_per_s: off-chip bandwidth the partition needs at its interval, Gbit/s.
        bottleneck: name of the slowest stage.
    """

    layers: tuple[str, ...]
    interval_cycles: int
    fill_cycles: int
    resources: dict[str, int]
    bandwidth_gbit_per_s: float
    bottleneck: str


@dataclass(frozen=True)
class DesignReport:
    """Evaluation of a whole design on a platform.

    Attributes:
        stages: per-stage DataFrame (``STAGE_COLUMNS``).
        partitions: per-partition reports.
        batch: samples per batch.
        batch_cycles: sum of partition intervals (cycles, reconfiguration excluded).
        batch_time_s: batch time including reconfigurations, seconds.
        latency_s: batch_time_s plus pipeline fill, seconds.
        throughput: samples per second.
        violations: human-readable resource / bandwidth violations (empty when feasible).
    """

    stages: pd.DataFrame
    partitions: tuple[PartitionReport, ...]
    platform: Platform
    batch: int
    batch_cycles: int
    batch_time_s: float
    latency_s: float
    throughput: float
    violations: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def dsp_used(self) -> int:
        """DSPs of the largest partition (partitions time-share the device)."""
        return max(p.resources["dsp"] for p in self.partitions)

    @property
    def throughput_per_dsp(self) -> float:
        """Samples per second per DSP used (LUT-only designs count as one DSP)."""
        return self.throughput / max(1, self.dsp_used)

    def summary(self, macs_per_sample: int = 0) -> dict[str, float | int | str]:
        """Network-level figures: throughput, latency, resources vs platform, throughput per DSP."""
        out: dict[str, float | int | str] = {
            "platform": self.platform.name, "clock_mhz": self.platform.clock_mhz, "batch": self.batch,
            "partitions": len(self.partitions), "batch_cycles": self.batch_cycles,
            "batch_time_us": self.batch_time_s * 1e6, "latency_us": self.latency_s * 1e6,
            "throughput_per_s": self.throughput, "throughput_per_dsp": self.throughput_per_dsp,
            "bandwidth_gbit_per_s": max(p.bandwidth_gbit_per_s for p in self.partitions),
            "bandwidth_limit_gbit_per_s": self.platform.bandwidth_gbit_per_s,
        }
        if macs_per_sample:
            out["gops"] = 2 * macs_per_sample * self.throughput / 1e9
        for res in RESOURCES:
            out[f"{res}_used"] = max(p.resources[res] for p in self.partitions)
            out[f"{res}_available"] = getattr(self.platform, res)
        return out


@dataclass(frozen=True)
class PartitionTopology:
    """What of a partition does not depend on folding: its off-chip feature-map traffic and FIFO edges.

    Attributes:
        names: layer names of the partition.
        io_bits_per_sample: bits of feature maps entering and leaving the partition per sample.
        fifo_edges: (producer name, bram18, lut, ff) per internal edge, costs per producer lane.
        stream_edges: (producer, consumer, word bits) per internal edge (for squeeze adapters).
    """

    names: tuple[str, ...]
    io_bits_per_sample: int
    fifo_edges: tuple[tuple[str, int, int, int], ...]
    stream_edges: tuple[tuple[str, str, int], ...] = ()


def partition_topology(network: Network, names: Sequence[str], fifo_depth_words: int = 32) -> PartitionTopology:
    """The folding-independent part of a partition (see ``PartitionTopology``)."""
    inside = set(names)
    bits = 0
    fifo_edges = []
    stream_edges = []
    for n in names:
        layer = network[n]
        preds = network.predecessors(n)
        if not preds:
            bits += layer.input_elems // layer.N * layer.input_bits
        for p in preds:
            if p not in inside:
                src = network[p]
                bits += src.output_elems // src.N * src.output_bits
        succs = network.successors(n)
        if not succs or any(s not in inside for s in succs):
            bits += layer.output_elems // layer.N * layer.output_bits
        for s in succs:
            if s in inside:  # FIFO on the edge n -> s, one per producer lane; FFs for pointers
                bram, lut = fifo_cost(fifo_depth_words, layer.output_bits)
                fifo_edges.append((n, bram, lut, 2 * 8))
                stream_edges.append((n, s, layer.output_bits))
    return PartitionTopology(tuple(names), bits, tuple(fifo_edges), tuple(stream_edges))


def evaluate_topology(topo: PartitionTopology, costs: Mapping[str, StageCost], coarse_out: Mapping[str, int],
                      platform: Platform, batch: int, coarse_in: Mapping[str, int] | None = None) -> PartitionReport:
    """Interval, fill, resources and bandwidth of a partition from its topology, stage costs and each
    producer's ``coarse_out`` (FIFO lanes); with each consumer's ``coarse_in``, an edge whose lanes
    differ gets a squeeze adapter (``simulator.fpga.modules.squeeze``)."""
    names = topo.names
    bottleneck = names[0]
    worst = -1
    total_cycles = 0
    dsp = bram = uram = lut = ff = 0
    bits_per_sample = topo.io_bits_per_sample
    for n in names:
        c = costs[n]
        if c.cycles_per_sample > worst:
            worst, bottleneck = c.cycles_per_sample, n
        total_cycles += c.cycles_per_sample
        dsp += c.dsp
        bram += c.bram18
        uram += c.uram
        lut += c.lut
        ff += c.ff
        bits_per_sample += c.offchip_weight_bits_per_sample
    for producer, f_bram, f_lut, f_ff in topo.fifo_edges:
        lanes = coarse_out[producer]
        bram += lanes * f_bram
        lut += lanes * f_lut
        ff += lanes * f_ff
    if coarse_in is not None:
        for producer, consumer, word_bits in topo.stream_edges:
            adapter = squeeze(coarse_out[producer], coarse_in[consumer], word_bits)
            lut += adapter.lut
            ff += adapter.ff
            bram += adapter.bram18
    interval = batch * worst
    totals = {"dsp": dsp, "bram18": bram, "uram": uram, "lut": lut, "ff": ff}
    bandwidth = bits_per_sample * batch / max(1, interval) * platform.clock_hz / 1e9
    return PartitionReport(tuple(names), interval, total_cycles - worst, totals, bandwidth, bottleneck)


def evaluate_partition(topo: PartitionTopology, costs: Mapping[str, StageCost], foldings: Mapping[str, Folding],
                       platform: Platform, batch: int) -> PartitionReport:
    """``evaluate_topology`` with each stage's lanes (FIFO ``coarse_out``, ``coarse_in``) from its folding."""
    return evaluate_topology(topo, costs, {n: foldings[n].coarse_out for n in topo.names}, platform, batch,
                             {n: foldings[n].coarse_in for n in topo.names})


def partition_violations(report: PartitionReport, platform: Platform, index: int) -> list[str]:
    """Resource and bandwidth violations of one partition, as messages."""
    out = []
    for res in RESOURCES:
        if report.resources[res] > getattr(platform, res):
            out.append(f"partition {index}: {res} {report.resources[res]} > {getattr(platform, res)}")
    if report.bandwidth_gbit_per_s > platform.bandwidth_gbit_per_s * (1 + 1e-12):
        out.append(f"partition {index}: bandwidth {report.bandwidth_gbit_per_s:.3f} Gb/s "
                   f"> {platform.bandwidth_gbit_per_s} Gb/s")
    return out


def batch_times(reports: Sequence[PartitionReport], platform: Platform) -> tuple[int, float, float]:
    """Batch cycles, batch time and latency (s) of a design's partitions (module docstring)."""
    clock, reconf_s = platform.clock_hz, (len(reports) - 1) * platform.reconfiguration_ms * 1e-3
    cycles = sum(r.interval_cycles for r in reports)
    return cycles, cycles / clock + reconf_s, (cycles + sum(r.fill_cycles for r in reports)) / clock + reconf_s


def evaluate_design(network: Network | str, foldings: Mapping[str, Folding] | None, platform: Platform | str, *,
                    batch: int = 1,
                    partitions: Sequence[Sequence[str]] | None = None, fifo_depth_words: int = 32,
                    check: bool = True, padding_twice: bool = False) -> DesignReport:
    """Evaluate a design (folding per layer, optional partitioning) on ``platform``.

    Args:
        network: the network (or a zoo name, ONNX or topology file); every layer becomes one stage.
        foldings: folding per layer name (missing layers, or all with ``None``, get the minimal folding 1/1/1).
        platform: board and clock (or a board preset name or YAML file).
        batch: samples per batch (>= 1).
        partitions: lists of layer names, consecutive in topological order; default one partition.
        fifo_depth_words: depth of each inter-stage FIFO lane, in words.
        check: validate foldings (SpecError naming layer and factor when they do not divide).
        padding_twice: count a padded conv's cycles as fpgaConvNet 0.1.4.2 does (to reproduce SAMO).
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError("batch must be a positive integer", key="batch", value=batch, accepted="an integer >= 1")
    if not isinstance(network, Network):  # a name or a file, never iterated letter by letter
        from acceldse.workloads.loader import load_workload

        network = load_workload(network)
    if not isinstance(platform, Platform):
        platform = load_platform(platform)
    foldings = {} if foldings is None else foldings
    if not isinstance(foldings, Mapping):
        raise SpecError("foldings must map layer names to Folding", key="foldings", value=foldings,
                        accepted="a mapping {layer name: Folding}, or None for the minimal folding of every layer")
    names = [layer.name for layer in network]
    parts = [list(p) for p in partitions] if partitions else [names]
    if [n for p in parts for n in p] != names:
        raise SpecError("partitions must list every layer once, in network order", key="partitions",
                        value=[list(p) for p in parts], accepted=f"consecutive slices of {names}")
    folds = {n: foldings.get(n, Folding()) for n in names}
    costs = {layer.name: stage_cost(layer, folds[layer.name], check=check, padding_twice=padding_twice)
             for layer in network}
    reports = tuple(evaluate_partition(partition_topology(network, p, fifo_depth_words), costs, folds, platform, batch)
                    for p in parts)
    violations = [v for i, rep in enumerate(reports) for v in partition_violations(rep, platform, i)]
    batch_cycles, batch_time, latency = batch_times(reports, platform)
    rows = []
    for pi, p in enumerate(parts):
        for n in p:
            f, c, layer = folds[n], costs[n], network[n]
            rows.append({"layer": n, "op": layer.op, "partition": pi, "coarse_in": f.coarse_in,
                         "coarse_out": f.coarse_out, "fine": f.fine, "personality": f.personality,
                         "weights_on_chip": f.weights_on_chip if layer.has_weights else True,
                         "cycles": batch * c.cycles_per_sample, "dsp": c.dsp, "bram18": c.bram18,
                         "uram": c.uram, "lut": c.lut, "ff": c.ff})
    frame = pd.DataFrame(rows, columns=list(STAGE_COLUMNS))
    return DesignReport(frame, reports, platform, batch, batch_cycles, batch_time, latency,
                        batch / batch_time, tuple(violations))
