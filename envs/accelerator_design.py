"""``acceldse/AcceleratorDesign-v0``: design a systolic accelerator for a workload (or one per episode from a set)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from acceldse.dataflows.dataflow import DATAFLOWS
from acceldse.envs.design_env import DesignEnv, digest
from acceldse.envs.knobs import Knobs
from acceldse.envs.systolic_design import (
    OPTIONAL_KNOBS,
    SYSTOLIC_KNOBS,
    SystolicDesignModel,
    design_accelerator,
    metrics_of,
)
from acceldse.envs.workload_features import workload_features
from acceldse.envs.workload_set import load_workload_entry
from acceldse.simulator.fidelities import FIDELITIES as MODES_BY_NAME
from acceldse.simulator.specs.presets import load_hardware
from acceldse.workloads.errors import SpecError

FIDELITIES = tuple(name for name, f in MODES_BY_NAME.items() if f.per_step)
"""The fidelities fast enough to evaluate a design per step (``simulator.fidelities``)."""
METRICS = ("latency_us", "energy_uj", "area_mm2", "power_w")


def _check_knob(name: str, value: Any) -> None:
    if name == "dataflow":
        if value not in ("os", "ws", "is"):
            raise SpecError("unknown dataflow", source="knobs", key=name, value=value, accepted="os | ws | is")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SpecError("knob value must be a positive number", source="knobs", key=name, value=value,
                        accepted="a number > 0")
    if name in ("rows", "cols", "ifmap_kib", "filter_kib", "ofmap_kib", "cores") and int(value) != value:
        raise SpecError("knob value must be an integer", source="knobs", key=name, value=value,
                        accepted="an integer >= 1")


class AcceleratorDesignEnv(DesignEnv):
    """Design a systolic accelerator (array, SRAM, DRAM bandwidth, dataflow, clock) for a workload.

    ## Description
    ArchGym-style design-space exploration over the analytical systolic model (or the event engine):
    every step proposes a whole design and evaluates the workload on it once.

    ## Action Space
    ``MultiDiscrete`` with one index per knob, in order ``rows``, ``cols`` (PE array), ``ifmap_kib``,
    ``filter_kib``, ``ofmap_kib`` (SRAM partitions), ``dram_gbyte_per_s``, ``dataflow`` (os/ws/is),
    ``clock_mhz``; values in ``env.unwrapped.knobs`` (defaults ``envs.systolic_design.SYSTOLIC_KNOBS``). With
    ``knobs={"cores": [1, 2, 4]}`` a last knob ``cores``: identical arrays sharing the SRAM and the DRAM link,
    whose contention only the event fidelity models.

    ## Observation Space
    ``Box(-1, 1, (4 + 8 + 8 + 18,), float32)``: ``log2(x / x_ref) / 16`` of latency_us, energy_uj, area_mm2
    and power_w of the last design (reference = middle value of every knob), the knob indices scaled to
    [0, 1], per metric a target flag and ``log2(target / x_ref) / 16``, then the episode workload's 18
    features (``envs.workload_features.FEATURE_NAMES``: MACs, weights, layer kinds, operational
    intensity histogram ...).

    ## Rewards
    ``reward="spec"`` (default): ``-sum_k max((x_k - T_k) / T_k, 0)`` over the targets (0 when all are
    met). ``reward=<metric>`` (``edp_uj_us``, ``latency_us``, ``energy_uj``, ``area_mm2``, ``power_w``):
    ``-log2(x / x_ref)`` minus the spec penalty of any targets.

    ## Starting State
    The reference design (middle value of every knob), or ``reset(options={"design": {...}})``. With
    ``workloads=[...]`` each episode's workload is sampled from the set, or
    ``reset(options={"workload": ...})`` names one (in the set or not); reference, default targets and
    features are that workload's.

    ## Episode End
    ``terminated`` when every target is met; ``truncated`` after ``max_episode_steps`` (default 100).

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | ``workload`` | ``"resnet18"`` | zoo name, ``.onnx`` path, SCALE-Sim ``.csv`` or ``scalesim:<name>`` |
    | ``workloads`` | ``None`` | a set of them (or ``{"name": ..., **zoo parameters}``), one per episode |
    | ``hardware`` | ``"scalesim-32x32"`` | base preset or YAML: energies, latencies, PE and SRAM area |
    | ``targets`` | half the reference latency and energy | upper bounds on latency_us, energy_uj, area_mm2, power_w |
    | ``reward`` | ``"spec"`` | ``spec`` or a metric name (scalar objective, lower is better) |
    | ``fidelity`` | ``"analytical"`` | ``analytical`` (fast path) or ``event`` (streaming engine) |
    | ``knobs`` | ``None`` | ``{knob: [values]}`` overriding any default value list; ``cores`` adds that knob |
    | ``proxy`` | ``None`` | a proxy file (``acceldse proxy train --out``) in place of the simulator |

    ## Version History
    * v0: initial version.
    """

    metric_names = METRICS
    pure_evaluate = True
    extra_metrics = ("edp_uj_us", "total_cycles", "utilization")
    pareto_metrics = ("latency_us", "energy_uj", "area_mm2")
    DEFAULT_WORKLOAD = "resnet18"
    """The workload without ``workload=`` or ``workloads=``."""

    def __init__(self, workload: str | None = None, hardware: str = "scalesim-32x32",
                 targets: Mapping[str, float] | None = None, reward: str = "spec", fidelity: str = "analytical",
                 knobs: Mapping[str, Sequence[Any]] | None = None, proxy: str | None = None,
                 workloads: Sequence[Any] | None = None) -> None:
        if fidelity not in FIDELITIES:
            raise SpecError("unknown fidelity", source="fidelity", value=fidelity, accepted=" | ".join(FIDELITIES))
        if isinstance(workload, Path):
            workload = str(workload)
        networks = self._init_workloads(workload, workloads, self.DEFAULT_WORKLOAD)
        self.base = load_hardware(hardware)
        self.fidelity = fidelity
        self._adopt_workload(self._load_workload(self._entries[0], networks[0]))
        optional = {k: v for k, v in OPTIONAL_KNOBS.items() if isinstance(knobs, Mapping) and k in knobs}
        spec = Knobs({**SYSTOLIC_KNOBS, **optional}, knobs, check=_check_knob)
        smallest = min(min(spec.values[k]) for k in ("ifmap_kib", "filter_kib", "ofmap_kib")) * 1024
        largest = max(max(spec.values["rows"]), max(spec.values["cols"]))
        if smallest < 2 * largest * self.base.word_bytes:
            raise SpecError("the smallest SRAM knob cannot feed the largest array", source="knobs",
                            key="ifmap_kib/filter_kib/ofmap_kib", value=smallest // 1024,
                            accepted=f"at least {-(-2 * largest * self.base.word_bytes // 1024)} KiB "
                                     f"for {largest} rows/cols")
        self._setup(spec, targets, reward, default_targets=lambda ref: {"latency_us": 0.5 * ref["latency_us"],
                                                                        "energy_uj": 0.5 * ref["energy_uj"]},
                    proxy=proxy)
        self._remember_workload()

    def _load_workload(self, entry: Any, network: Any = None) -> dict[str, Any]:
        """A workload entry's network, cost model, identity and features."""
        network = load_workload_entry(entry) if network is None else network
        return {"network": network, "model": SystolicDesignModel(network, self.base),
                "identity": {"env": "AcceleratorDesign-v0", "workload": network.name,
                             "workload_digest": digest(network), "hardware": self.base.name,
                             "hardware_digest": digest(self.base), "fidelity": self.fidelity},
                "workload_obs": workload_features(network)}

    def details(self) -> dict[str, Any]:
        return {"workload": self.network.name}

    def accelerator(self, design: Mapping[str, Any]) -> Any:
        """The ``Accelerator`` spec of a design (what ``acceldse.simulate`` would run)."""
        return design_accelerator(self.base, dict(design))

    def evaluate(self, design: dict[str, Any]) -> dict[str, float]:
        if self.fidelity == "analytical":
            return self.model.evaluate(design)
        from acceldse.simulator.event import event_table

        acc = self.accelerator(design)
        table = event_table(self.network, acc, [DATAFLOWS[str(design["dataflow"])]])
        return metrics_of(int(table["total_cycles"].sum()), float(table["energy_pj"].sum()), acc.clock_mhz,
                          acc.array.pes * acc.cores, acc.area_mm2, self.model.macs)
