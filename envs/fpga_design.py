"""``acceldse/FpgaDesign-v0``: per-layer folding and partition cuts of a layer-pipelined FPGA design."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from acceldse.envs.design_env import DesignEnv, digest
from acceldse.envs.knobs import Knobs
from acceldse.envs.workload_features import workload_features
from acceldse.envs.workload_set import load_workload_entry
from acceldse.simulator.fpga import Folding, StageCost, load_platform, stage_cost
from acceldse.simulator.fpga.design import (
    RESOURCES,
    PartitionReport,
    batch_times,
    evaluate_partition,
    partition_topology,
    partition_violations,
)
from acceldse.simulator.fpga.stage import channels_in, channels_out, divisors, kernel_size
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

METRICS = ("sample_time_us", "latency_us", "dsp", "bram18", "lut", "ff", "bandwidth_gbit_per_s")
LANES = ("coarse_in", "coarse_out", "fine")
"""A stage's folding knobs, in order (a pooling / element-wise stage uses the first as its ``coarse``)."""


def slot_knobs(networks: list[Network]) -> dict[str, list[int]]:
    """The knobs of a workload-conditioned env: per stage position ``s{i}`` (as many as the longest network
    has layers) ``coarse_in``, ``coarse_out``, ``fine`` as indices ``0..D-1`` (``D``: the most divisors any
    lane of the set has) and a ``cut.s{i}`` bit; ``layer_design`` reads them for one network."""
    stages = max(len(n.layers) for n in networks)
    width = max(len(v) for n in networks for v in folding_knobs(n).values())
    knobs: dict[str, list[int]] = {}
    for i in range(stages):
        for lane in LANES:
            knobs[f"s{i}.{lane}"] = list(range(width))
    for i in range(stages - 1):
        knobs[f"cut.s{i}"] = [0, 1]
    return knobs


def slot_value(values: list[Any], index: int, width: int) -> Any:
    """The value a slot index ``0..width-1`` stands for among a layer knob's ``values`` (spread evenly, the
    first and last reachable: Mapping-v0's divisor-index rule)."""
    return values[int(index) * len(values) // width]


def folding_knobs(network: Network) -> dict[str, list[Any]]:
    """Per layer ``coarse_in``/``coarse_out``/``fine`` (MAC stages) or ``coarse`` (pool/eltwise) as divisor
    lists, then a ``cut.<layer>`` knob (0/1: start a new partition after it) per layer but the last."""
    knobs: dict[str, list[Any]] = {}
    for layer in network:
        if layer.has_weights:
            knobs[f"{layer.name}.coarse_in"] = divisors(channels_in(layer))
            knobs[f"{layer.name}.coarse_out"] = divisors(channels_out(layer))
            knobs[f"{layer.name}.fine"] = divisors(kernel_size(layer))
        else:
            knobs[f"{layer.name}.coarse"] = divisors(channels_in(layer))
    for layer in network.layers[:-1]:
        knobs[f"cut.{layer.name}"] = [0, 1]
    return knobs


def design_foldings(network: Network, design: Mapping[str, Any]) -> tuple[dict[str, Folding], list[list[str]]]:
    """The ``Folding`` of every layer and the partitions (layer names) of a design."""
    foldings = {}
    parts: list[list[str]] = [[]]
    for layer in network:
        n = layer.name
        if layer.has_weights:
            foldings[n] = Folding(int(design[f"{n}.coarse_in"]), int(design[f"{n}.coarse_out"]),
                                  int(design[f"{n}.fine"]))
        else:
            foldings[n] = Folding(int(design[f"{n}.coarse"]), int(design[f"{n}.coarse"]))
        parts[-1].append(n)
        if int(design.get(f"cut.{n}", 0)):
            parts.append([])
    return foldings, [p for p in parts if p]


class FpgaDesignEnv(DesignEnv):
    """Fold and partition a layer-pipelined streaming design (fpgaConvNet / SAMO) on an FPGA board.

    ## Description
    One stage per layer; each step picks every stage's folding and where to cut the pipeline into
    partitions (reconfigured one after the other). The design is evaluated with the FPGA model of
    ``simulator.fpga`` (the same numbers as ``simulator.fpga.evaluate_design`` and ``acceldse fpga``).

    ## Action Space
    ``MultiDiscrete``: per MAC layer the indices of ``coarse_in``, ``coarse_out`` and ``fine`` among the
    divisors of its input channels, output channels and kernel window; per pooling/elementwise layer one
    ``coarse``; per layer but the last a ``cut`` bit. Names and values in ``env.unwrapped.knobs``.
    ``action_masks()`` (and ``info["action_mask"]``): every combination of the values it allows fits the
    board (``envs.action_masks``; sb3-contrib ``MaskablePPO``).

    With ``workloads=[...]`` (``envs.workload_set``: one network per episode) the knobs are per stage
    *position* so that every network shares one space (``slot_knobs``): ``s{i}.coarse_in``,
    ``s{i}.coarse_out``, ``s{i}.fine`` as indices ``0..D-1`` spread over the ``i``-th layer's divisor lists
    (a pooling stage reads ``coarse_in``; positions past the network's last layer are ignored) and
    ``cut.s{i}``; ``info["layer_design"]`` gives the per-layer design, the mask is the episode network's.

    ## Observation Space
    ``Box(-1, 1)``: ``log2(x / x_ref) / 16`` of sample_time_us, latency_us, dsp, bram18, lut, ff and
    bandwidth_gbit_per_s (reference: the middle value of every knob), knob indices in [0, 1], target flags and
    ``log2(target / x_ref) / 16``, then the network's 18 workload features (``envs.workload_features``).

    ## Rewards
    ``reward="sample_time_us"`` (default: batch time per sample, i.e. 1 / throughput) or ``"latency_us"``:
    ``-log2(x / x_ref)`` minus the spec penalty, where the board's DSP, BRAM18, URAM, LUT, FF and
    bandwidth are hard upper bounds (``(used - available) / available`` per violated resource) and the
    ``targets`` add goals. ``reward="spec"`` uses the penalty only. ``info["violations"]`` names every
    violated resource and partition.

    ## Starting State
    The reference design (middle value of every knob), or ``reset(options={"design": {...}})``.

    ## Episode End
    ``terminated`` when ``targets`` are given and they and every resource bound are met; ``truncated``
    after ``max_episode_steps`` (default 100).

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | ``workload`` | ``"lenet"`` | FPGA study network (lenet, vgg_small, residual_block, mlp), zoo name or file |
    | ``workloads`` | ``None`` | a set of them, one per episode (stage-position knobs, see below) |
    | ``platform`` | ``"zc706"`` | board preset or YAML |
    | ``batch`` | ``256`` | samples per batch |
    | ``clock_mhz`` | board clock | override the clock |
    | ``targets`` | ``None`` | upper bounds on any observed metric |
    | ``reward`` | ``"sample_time_us"`` | ``sample_time_us``, ``latency_us`` or ``spec`` |
    | ``knobs`` | ``None`` | ``{knob: [values]}`` narrowing any divisor list |
    | ``proxy`` | ``None`` | a proxy file (``acceldse proxy train --out``) in place of the FPGA model |

    ## Version History
    * v0: initial version.
    """

    metric_names = METRICS
    extra_metrics = ("throughput_per_s", "uram", "partitions")
    pareto_metrics = ("sample_time_us", "dsp", "lut")

    DEFAULT_WORKLOAD = "lenet"
    network: Network
    inner: Any = None
    """On a conditioned env, the single-network env of the episode's network (it evaluates it)."""
    _slots: dict[str, list[int]] = {}
    _slowest: dict[str, float] | None = None
    _costs: dict[tuple[str, int, int, int], StageCost]
    _topologies: dict[tuple[str, ...], Any]

    def __init__(self, workload: str | None = None, platform: str = "zc706", batch: int = 256,
                 clock_mhz: float | None = None, targets: Mapping[str, float] | None = None,
                 reward: str = "sample_time_us", knobs: Mapping[str, list[Any]] | None = None,
                 proxy: str | None = None, workloads: list[Any] | None = None) -> None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise SpecError("batch must be a positive integer", source="batch", value=batch,
                            accepted="an integer >= 1")
        networks = self._init_workloads(workload, workloads, self.DEFAULT_WORKLOAD)
        if workloads is not None and knobs is not None:
            raise SpecError("knobs= narrows one network's layers; not with workloads=", source="knobs",
                            value=sorted(knobs), accepted="workload=<one network> with knobs=, or no knobs=")
        board = load_platform(platform)
        self.platform = board.with_clock(float(clock_mhz)) if clock_mhz is not None else board
        self.batch = batch
        self._args: dict[str, Any] = {"platform": platform, "batch": batch, "clock_mhz": clock_mhz}
        self.constraints = {r: float(getattr(self.platform, r)) for r in RESOURCES}
        self.constraints["bandwidth_gbit_per_s"] = float(self.platform.bandwidth_gbit_per_s)
        self._violations: list[str] = []
        if workloads is None:
            self._adopt_workload(self._load_workload(self._entries[0], networks[0]))
            defaults = folding_knobs(self.network)
            spec = Knobs(defaults, knobs, check=lambda name, v: self._check_knob(defaults, name, v))
        else:
            spec = Knobs(slot_knobs(networks))
            self._slots = spec.values
            self._adopt_workload(self._load_workload(self._entries[0], networks[0]))
        self._setup(spec, targets, reward, proxy=proxy)
        self._remember_workload()

    def _load_workload(self, entry: Any, network: Any = None) -> dict[str, Any]:
        """The network, its identity and features; on a conditioned env also the single-network env that
        evaluates it (``inner``: its own per-layer knobs, stage caches and mask)."""
        network = load_workload_entry(entry) if network is None else network
        inner = None
        if self.workloads:
            stages = sum(1 for k in self._slots if k.endswith(".fine"))
            if len(network.layers) > stages:
                raise SpecError("the network has more layers than the env's stage positions", source="workload",
                                key=network.name, value=len(network.layers),
                                accepted=f"at most {stages} layers (the longest network of workloads=)")
            inner = FpgaDesignEnv(workload=entry, **self._args)
        return {"network": network, "inner": inner, "_costs": {}, "_topologies": {}, "_slowest": None,
                "identity": {"env": "FpgaDesign-v0", "workload": network.name, "workload_digest": digest(network),
                             "platform": self.platform.name, "platform_digest": digest(self.platform),
                             "batch": self.batch},
                "workload_obs": workload_features(network)}

    @staticmethod
    def _check_knob(defaults: dict[str, list[Any]], name: str, value: Any) -> None:
        if value not in defaults[name]:
            raise SpecError("knob value not allowed for this layer", source="knobs", key=name, value=value,
                            accepted=str(defaults[name]))

    def design_foldings(self, design: Mapping[str, Any]) -> tuple[dict[str, Folding], list[list[str]]]:
        """Foldings per layer and partitions of a design (what ``simulator.fpga.evaluate_design`` takes)."""
        return design_foldings(self.network, design)

    def layer_design(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """The per-layer design (``folding_knobs`` names and values) of a design; on a conditioned env the
        episode network's reading of a stage-position design (``slot_knobs``)."""
        return self._read_slots(design) if self.workloads else dict(design)

    def _read_slots(self, design: Mapping[str, Any]) -> dict[str, Any]:
        width = len(self._slots["s0.coarse_in"])
        out: dict[str, Any] = {}
        layers = self.network.layers
        for i, layer in enumerate(layers):
            lanes = LANES if layer.has_weights else ("coarse",)
            for lane in lanes:
                name = f"{layer.name}.{lane}"
                slot = f"s{i}.{'coarse_in' if lane == 'coarse' else lane}"
                out[name] = slot_value(self.inner.knobs[name], design[slot], width)
            if i < len(layers) - 1:
                out[f"cut.{layer.name}"] = int(design[f"cut.s{i}"])
        return out

    def evaluate(self, design: dict[str, Any]) -> dict[str, float]:
        if self.workloads:
            metrics = self.inner.evaluate(self._read_slots(design))
            self._violations = list(self.inner._violations)
            return metrics
        foldings, parts = design_foldings(self.network, design)
        costs = {layer.name: self.stage(layer, foldings[layer.name]) for layer in self.network}
        reports = [self._partition(p, costs, foldings) for p in parts]
        self._violations = [v for i, rep in enumerate(reports) for v in partition_violations(rep, self.platform, i)]
        _, batch_time, latency = batch_times(reports, self.platform)
        metrics = {"sample_time_us": batch_time / self.batch * 1e6, "latency_us": latency * 1e6,
                   "throughput_per_s": self.batch / batch_time, "partitions": float(len(reports)),
                   "bandwidth_gbit_per_s": max(r.bandwidth_gbit_per_s for r in reports)}
        for res in RESOURCES:
            metrics[res] = float(max(r.resources[res] for r in reports))
        return metrics

    def stage(self, layer: Any, folding: Folding) -> StageCost:
        """The cost of one layer's stage at a folding (cached)."""
        key = (layer.name, folding.coarse_in, folding.coarse_out, folding.fine)
        if key not in self._costs:
            self._costs[key] = stage_cost(layer, folding, check=False)
        return self._costs[key]

    def legal_mask(self) -> Any:
        """Foldings within the board whatever the other knobs are (``envs.action_masks.fpga_mask``); on a
        conditioned env the episode network's mask read per stage position (a slot index is allowed when
        the value it stands for is: each knob apart, so the mask stays sound)."""
        from acceldse.envs.action_masks import KnobMask, cached, fpga_mask

        if not self.workloads:
            return cached(("FpgaDesign-v0", digest(self.identity), repr(self.knobs)), lambda: fpga_mask(self))
        inner = self.inner.legal_mask()
        allowed = dict(zip(self.inner.knobs, inner.allowed))
        values = {name: {v: ok for v, ok in zip(vals, allowed[name])} for name, vals in self.inner.knobs.items()}
        width = len(self._slots["s0.coarse_in"])
        out = []
        layers = self.network.layers
        for name, slot_values in self._slots.items():
            head, lane = name.split(".", 1) if not name.startswith("cut.") else ("cut", name[4:])
            i = int((lane if head == "cut" else head)[1:])
            if i >= len(layers) or (head == "cut" and i >= len(layers) - 1):
                out.append(tuple(True for _ in slot_values))  # past the network: ignored
                continue
            layer = layers[i]
            if head == "cut":
                out.append(tuple(allowed[f"cut.{layer.name}"]))
                continue
            knob = f"{layer.name}.{lane}" if layer.has_weights else f"{layer.name}.coarse"
            if not layer.has_weights and lane != "coarse_in":
                out.append(tuple(True for _ in slot_values))  # a pooling stage reads coarse_in only
                continue
            out.append(tuple(values[knob][slot_value(self.inner.knobs[knob], j, width)] for j in slot_values))
        return KnobMask(tuple(out), sound=inner.sound)

    def _partition(self, names: list[str], costs: dict[str, StageCost], foldings: dict[str, Folding]
                   ) -> PartitionReport:
        key = tuple(names)
        if key not in self._topologies:
            self._topologies[key] = partition_topology(self.network, names)
        return evaluate_partition(self._topologies[key], costs, foldings, self.platform, self.batch)

    def pareto_reference(self) -> dict[str, float]:
        """The hypervolume's scale: half the board's DSPs and LUTs (so its box is the board) and the sample
        time of the least parallel design (every knob at its first value: the slowest folding), whose
        double bounds the box in time."""
        if self._slowest is None:
            self._slowest = self.evaluate(self._knobs.decode(np.zeros(len(self._knobs.nvec), dtype=np.int64)))
        return {"sample_time_us": self._slowest["sample_time_us"], "dsp": 0.5 * self.constraints["dsp"],
                "lut": 0.5 * self.constraints["lut"]}

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"violations": list(self._violations), "workload": self.network.name}
        if self.workloads:
            out["layer_design"] = self._read_slots(self._knobs.decode(self._index))
        return out
