"""``acceldse/CoExploration-v0``: networks for several tasks and a heterogeneous ASIC, co-explored (NASAIC)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from acceldse.envs.design_env import DesignEnv, digest
from acceldse.envs.knobs import Knobs
from acceldse.envs.nas import NAS_KNOBS, TASKS, accuracy_evaluator, arch_key, architecture, build_network
from acceldse.mapper.hetero import SubAccelerator, assign_layers
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

SUB_KNOBS: dict[str, list[Any]] = {
    "dataflow": ["shidiannao", "nvdla", "rs"],
    "pes": [64, 144, 256, 576, 1024],
    "bw": [1, 2, 3, 4],
}
"""Per sub-accelerator: dataflow template, PE count (a square array) and bandwidth weight (share = w / sum w)."""
METRICS = ("latency_us", "energy_uj", "area_mm2", "error")
PE_LEVEL = "pe_reg"


class CoExplorationEnv(DesignEnv):
    """Co-explore a CNN per task and a heterogeneous accelerator of K sub-accelerators (NASAIC).

    ## Description
    Each step picks, for every task, a network from the family of ``envs.nas`` (depth, per-stage channels
    and kernel sizes) and, for each of ``sub_accelerators`` sub-accelerators, a dataflow template
    (ShiDianNao-like, NVDLA-like, row-stationary), a PE count and a share of the total DRAM bandwidth.
    The layers of all networks are mapped (best mapping per layer shape and sub-accelerator, cached across
    steps) and list-scheduled with ``mapper.hetero.assign_layers``; the accuracy of each network comes from
    the ``accuracy`` evaluator.

    ## Action Space
    ``MultiDiscrete``: per task ``<task>.depth``, ``<task>.ch1..3``, ``<task>.k1..3`` (``envs.nas.NAS_KNOBS``),
    then per sub-accelerator ``sub<i>.dataflow``, ``sub<i>.pes``, ``sub<i>.bw`` (``SUB_KNOBS``).

    ## Observation Space
    ``Box(-1, 1)``: ``log2(x / x_ref) / 16`` of latency_us, energy_uj, area_mm2 and error (1 - the lowest task
    accuracy), the knob indices in [0, 1], target flags and ``log2(target / x_ref) / 16``.

    ## Rewards
    ``reward="accuracy"`` (default, NASAIC): mean task accuracy minus the spec penalty
    ``sum_k max((x_k - T_k) / T_k, 0)`` over the targets (the accuracy target bounds the error).
    ``reward="spec"``: the penalty only; a metric name: ``-log2(x / x_ref)`` minus the penalty.

    ## Starting State
    The reference design (middle value of every knob), or ``reset(options={"design": {...}})``.

    ## Episode End
    ``terminated`` when every target is met; ``truncated`` after ``max_episode_steps`` (default 100).

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | ``tasks`` | ``["digits"]`` | tasks from ``envs.nas.TASKS`` (``digits`` 8x8, ``digits16`` 16x16) |
    | ``sub_accelerators`` | ``2`` | K sub-accelerators (1-4) |
    | ``hierarchy`` | ``"simple_ws_32x32"`` | template hierarchy of every sub-accelerator (PE level ``pe_reg``) |
    | ``total_bandwidth_words_per_cycle`` | ``16`` | DRAM bandwidth shared by the sub-accelerators |
    | ``targets`` | see below | bounds on latency_us, energy_uj, area_mm2 and a minimum ``accuracy`` |
    | ``reward`` | ``"accuracy"`` | ``accuracy``, ``spec`` or a metric name |
    | ``accuracy`` | ``"surrogate"`` | ``surrogate`` (fit to real runs), ``train`` (CPU torch, cached) or a callable |
    | ``mapper_search``, ``mapper_budget`` | ``"random"``, ``300`` | mapping search per (layer shape, sub-accelerator) |
    | ``knobs`` | ``None`` | ``{knob: [values]}`` overriding any value list |
    | ``proxy`` | ``None`` | a proxy file (``acceldse proxy train --out``) in place of the cost models |

    Default targets: accuracy 0.95, half the reference latency and energy, the reference area.

    ## Version History
    * v0: initial version.
    """

    metric_names = METRICS
    extra_metrics = ("accuracy", "min_accuracy", "latency_cycles")
    pareto_metrics = ("latency_us", "energy_uj", "error")

    def __init__(self, tasks: Sequence[str] = ("digits",), sub_accelerators: int = 2,
                 hierarchy: str = "simple_ws_32x32", total_bandwidth_words_per_cycle: float = 16.0,
                 targets: Mapping[str, float] | None = None, reward: str = "accuracy",
                 accuracy: str | Callable[[dict[str, Any]], float] = "surrogate", mapper_search: str = "random",
                 mapper_budget: int = 300, knobs: Mapping[str, Sequence[Any]] | None = None,
                 proxy: str | None = None) -> None:
        if isinstance(tasks, str) or not tasks or any(t not in TASKS for t in tasks) or len(set(tasks)) != len(tasks):
            raise SpecError("tasks must be a list of distinct task names", source="tasks", value=tasks,
                            accepted=", ".join(TASKS))
        if isinstance(sub_accelerators, bool) or sub_accelerators not in (1, 2, 3, 4):
            raise SpecError("number of sub-accelerators out of range", source="sub_accelerators",
                            value=sub_accelerators, accepted="1, 2, 3 or 4")
        if isinstance(total_bandwidth_words_per_cycle, bool) or not isinstance(total_bandwidth_words_per_cycle,
                                                                              int | float) \
                or not total_bandwidth_words_per_cycle > 0:
            raise SpecError("must be a positive number", source="total_bandwidth_words_per_cycle",
                            value=total_bandwidth_words_per_cycle, accepted="a number > 0")
        self.tasks = list(tasks)
        self.template = load_hierarchy(hierarchy)
        self.template.level_index(PE_LEVEL)
        self.total_bw = float(total_bandwidth_words_per_cycle)
        self.accuracy = accuracy_evaluator(accuracy)
        self.mapper_search, self.mapper_budget = mapper_search, int(mapper_budget)
        self.map_cache: dict[tuple, tuple[int, float]] = {}
        self._networks: dict[str, Network] = {}
        self._last_detail: dict[str, Any] = {}
        defaults: dict[str, list[Any]] = {}
        for t in self.tasks:
            defaults.update({f"{t}.{k}": v for k, v in NAS_KNOBS.items()})
        for i in range(sub_accelerators):
            defaults.update({f"sub{i}.{k}": v for k, v in SUB_KNOBS.items()})
        goal = dict(targets) if targets is not None else None
        if goal is not None and "accuracy" in goal:
            acc = goal.pop("accuracy")
            if isinstance(acc, bool) or not isinstance(acc, int | float) or not 0 < acc < 1:
                raise SpecError("accuracy target must be in (0, 1)", source="targets", key="accuracy", value=acc)
            goal["error"] = 1.0 - acc
        self.identity = {"env": "CoExploration-v0", "tasks": list(self.tasks), "hierarchy": digest(self.template),
                         "total_bandwidth_words_per_cycle": self.total_bw,
                         "accuracy": accuracy if isinstance(accuracy, str) else "callable"}
        self._setup(Knobs(defaults, knobs, check=self._check_knob), goal, reward,
                    default_targets=lambda ref: {"latency_us": 0.5 * ref["latency_us"],
                                                 "energy_uj": 0.5 * ref["energy_uj"], "area_mm2": ref["area_mm2"],
                                                 "error": 0.05}, proxy=proxy)

    @staticmethod
    def _check_knob(name: str, value: Any) -> None:
        key = name.split(".", 1)[1]
        if key == "dataflow":
            if value not in SUB_KNOBS["dataflow"]:
                raise SpecError("unknown dataflow template", source="knobs", key=name, value=value,
                                accepted=" | ".join(SUB_KNOBS["dataflow"]))
        elif key == "pes":
            root = int(round(float(value) ** 0.5)) if isinstance(value, int) and value > 0 else 0
            if root * root != value:
                raise SpecError("PE count must be a square (the array is m x m)", source="knobs", key=name,
                                value=value, accepted="64, 256, 1024 ...")
        elif key == "depth" and value not in (1, 2, 3):
            raise SpecError("depth out of range", source="knobs", key=name, value=value, accepted="1, 2 or 3")
        elif key != "depth" and (isinstance(value, bool) or not isinstance(value, int) or value < 1
                                 or (key.startswith("k") and value % 2 == 0)):
            raise SpecError("knob value must be a positive integer (odd for kernel sizes)", source="knobs", key=name,
                            value=value)

    def subs(self, design: Mapping[str, Any]) -> list[SubAccelerator]:
        """The ``SubAccelerator`` list of a design (what ``mapper.hetero.assign_layers`` takes)."""
        n = sum(1 for k in design if k.endswith(".bw"))
        weights = [float(design[f"sub{i}.bw"]) for i in range(n)]
        out = []
        for i in range(n):
            m = int(round(float(design[f"sub{i}.pes"]) ** 0.5))
            out.append(SubAccelerator(f"sub{i}", self.template, str(design[f"sub{i}.dataflow"]),
                                      weights[i] / sum(weights), array=(PE_LEVEL, m, m)))
        return out

    def architectures(self, design: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The architecture dict of every task."""
        return [architecture(t, dict(design), prefix=f"{t}.") for t in self.tasks]

    def evaluate(self, design: dict[str, Any]) -> dict[str, float]:
        archs = self.architectures(design)
        networks: list[Network | str] = []
        for a in archs:
            key = arch_key(a)
            if key not in self._networks:
                self._networks[key] = build_network(a)
            networks.append(self._networks[key])
        res = assign_layers(networks, self.subs(design), total_bandwidth_words_per_cycle=self.total_bw,
                            objective="edp", search=self.mapper_search, budget=self.mapper_budget, seed=0,
                            cache=self.map_cache)
        accs = [float(self.accuracy(a)) for a in archs]
        if any(not 0.0 <= a <= 1.0 for a in accs):
            raise SpecError("accuracy evaluator returned a value outside [0, 1]", source="accuracy", value=accs)
        self._last_detail = {"task_accuracy": dict(zip(self.tasks, accs)),
                             "layers_per_sub": dict(Counter(res.schedule["sub_accelerator"].tolist()))}
        latency_us = res.latency_us
        return {"latency_us": latency_us, "energy_uj": res.energy_pj * 1e-6, "area_mm2": res.area_mm2,
                "error": 1.0 - min(accs), "accuracy": sum(accs) / len(accs), "min_accuracy": min(accs),
                "latency_cycles": float(res.latency_cycles)}

    def _reward(self, metrics: dict[str, float], penalty: float) -> float:
        if self.reward_kind == "accuracy":
            return float(metrics["accuracy"] - penalty)
        return super()._reward(metrics, penalty)

    def details(self) -> dict[str, Any]:
        return dict(self._last_detail)
