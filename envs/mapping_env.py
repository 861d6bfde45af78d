"""``acceldse/Mapping-v0``: map every distinct layer of a network onto a memory hierarchy, one per step."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from acceldse.envs.design_env import digest
from acceldse.envs.knobs import LOG2_CLIP, Knobs
from acceldse.envs.mapping_encoding import MappingEncoding
from acceldse.envs.workload_features import FEATURE_NAMES, workload_features
from acceldse.envs.workload_set import WorkloadConditioned, load_workload_entry
from acceldse.mapper.cost import evaluate_many
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.mapper.search.evaluator import OBJECTIVES
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network


def _objective(cycles: float, energy_pj: float, objective: str) -> float:
    if objective == "latency":
        return cycles
    if objective == "energy":
        return energy_pj
    return cycles * energy_pj


def distinct_layers(network: Network) -> tuple[list[Layer], list[int]]:
    """The distinct MAC layer shapes of a network (dims, stride, dilation) and how often each occurs."""
    layers: list[Layer] = []
    counts: list[int] = []
    seen: dict[tuple, int] = {}
    for layer in network:
        if layer.macs == 0:
            continue
        key = (tuple(layer.dims.values()), layer.stride, layer.dilation)
        if key in seen:
            counts[seen[key]] += 1
        else:
            seen[key] = len(layers)
            layers.append(layer)
            counts.append(1)
    return layers, counts


class MappingEnv(WorkloadConditioned, gym.Env[np.ndarray, np.ndarray]):
    """Choose tiling, loop order and bypass of each distinct layer of a network (Timeloop-style mapping).

    ## Description
    An episode is one pass over the network's distinct MAC layer shapes (identical shapes are mapped
    once and weighted by how often they occur). Each step decodes the action into a mapping of the
    current layer on the hierarchy and costs it with the mapper's cost model (``mapper.cost``).

    ## Action Space
    ``MultiDiscrete`` (see ``envs.mapping_encoding``): per loop dim and allowed slot a divisor index
    in ``[0, D)``, per level with temporal loops a priority ``0..7`` per dim (loop order), and a
    keep bit per bypassable (level, dataspace). Every legal perfect-factorization mapping is reachable;
    ``env.unwrapped.encode(layer_index, mapping)`` gives its action. Names in ``env.unwrapped.knobs``.

    ## Observation Space
    ``Box(-1, 1, (13 + 18,), float32)``: ``log2`` of the current layer's eight dims / 16, its strides / 4,
    the fraction of layers done, the previous step's reward / 16 and whether it was legal, then the
    network's 18 workload features (``envs.workload_features``).

    ## Rewards
    Legal mapping: ``log2(ref / x)`` where ``x`` is the objective (``edp`` cycles x pJ, ``latency``
    cycles or ``energy`` pJ) and ``ref`` that of the layer's reference mapping (every loop at the
    outermost level, no spatial unrolling). Illegal mapping: ``illegal_reward`` (default -4), with the
    mapper's reason (level, dataspace, excess) in ``info["reason"]``.

    ``action_masks()`` (and ``info["action_mask"]``) gives the next layer's mask: every combination of the
    knob values it allows maps that layer legally (``envs.action_masks``; sb3-contrib ``MaskablePPO``).

    ``info``: ``layer``, ``count`` (occurrences of the shape), ``design`` (knob -> index; the mapping is
    ``env.unwrapped.mapping(layer_index, action)``), ``metrics`` (cycles, energy_pj, edp), ``legal`` and
    ``feasible`` (the layer's mapping is legal), ``reason``, ``targets_met`` (only at the last step: every
    layer of the network mapped legally) and ``evaluations`` (this episode).

    ## Starting State
    The first distinct layer. With ``workloads=[...]`` (``envs.workload_set``) each episode maps one
    network of the set (sampled, or ``reset(options={"workload": ...})``, also one outside the set); the
    action space is the set's (the most divisors ``D`` and every bypassable pair of any of its layers).

    ## Episode End
    ``terminated`` after the last distinct layer; ``info["network"]`` then describes the network mapping
    the episode built -- what search agents compare (best, targets met): ``feasible`` (every layer legal),
    ``targets_met`` (= feasible), ``metrics`` (``cycles``, ``energy_pj``, ``edp``: layer values weighted by
    their counts; empty when a layer was illegal), ``reward`` (``log2(ref / x)`` of the network objective
    against the reference mappings' totals, ``illegal_reward`` when a layer was illegal) and ``design``
    (layer name -> action).

    ## Arguments
    | argument | default | meaning |
    |---|---|---|
    | ``workload`` | ``"resnet18"`` | zoo name, ``.onnx`` path, SCALE-Sim ``.csv`` or ``scalesim:<name>`` |
    | ``workloads`` | ``None`` | a set of them (or ``{"name": ..., **zoo parameters}``), one per episode |
    | ``hardware`` | ``"eyeriss_like"`` | hierarchy preset or YAML |
    | ``dataflow`` | ``"hardware"`` | the hierarchy's own dataflow constraint, ``any``, or a dataflow name |
    | ``objective`` | ``"edp"`` | ``edp``, ``latency`` or ``energy`` |
    | ``illegal_reward`` | ``-4.0`` | reward of an illegal mapping |

    ## Version History
    * v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": []}
    candidate_per_episode = True
    """A search agent's candidate is a whole episode (one network mapping), not one step."""
    pareto_metrics = ("cycles", "energy_pj")

    DEFAULT_WORKLOAD = "resnet18"
    network: Network
    layers: list[Layer]
    """The episode network's distinct MAC layer shapes."""
    counts: list[int]
    encoding: MappingEncoding
    reference: list[tuple[float, float]]
    """Cycles and energy of each distinct layer's reference mapping."""
    identity: dict[str, Any]
    """What the env evaluates, by content (the experience store keys its rows by it)."""
    _masks: dict[int, Any]
    _mask_key: str

    def __init__(self, workload: str | None = None, hardware: str = "eyeriss_like", dataflow: str = "hardware",
                 objective: str = "edp", illegal_reward: float = -4.0, workloads: list[Any] | None = None) -> None:
        if objective not in OBJECTIVES:
            raise SpecError("unknown objective", source="objective", value=objective, accepted=" | ".join(OBJECTIVES))
        if isinstance(illegal_reward, bool) or not isinstance(illegal_reward, int | float) \
                or not math.isfinite(illegal_reward):
            raise SpecError("must be a finite number", source="illegal_reward", value=illegal_reward)
        if workload is not None and not isinstance(workload, str):
            raise SpecError("workload must be a name or a path", source="workload", value=workload)
        networks = self._init_workloads(workload, workloads, self.DEFAULT_WORKLOAD)
        self.hierarchy = load_hierarchy(hardware)
        self._hardware = str(hardware)
        df = str(dataflow).strip().lower()
        self._df = df
        self._flow = (self.hierarchy.dataflow if df == "hardware" else None if df == "any" else df)
        self.objective = objective
        self.illegal_reward = float(illegal_reward)
        self._space: dict[str, Any] = {}
        union = [layer for n in networks for layer in distinct_layers(n)[0]]
        if workloads is not None and union:  # the set's action space: every network's encoding is pinned to it
            whole = MappingEncoding(union, self.hierarchy, self._flow)
            self._space = {"width": whole.D, "bypass_pairs": whole.bypass_pairs}
        self._adopt_workload(self._load_workload(self._entries[0], networks[0]))
        self._remember_workload()
        self._knobs = Knobs(self.encoding.knobs)
        self.knobs: dict[str, list[int]] = self._knobs.values
        self.action_space = gym.spaces.MultiDiscrete(self._knobs.nvec)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(13 + len(FEATURE_NAMES),), dtype=np.float32)
        self.evaluations = 0
        self._layer = 0
        self._episode_evaluations = 0
        self._last = (0.0, 1.0)
        self._results: list[tuple[float, float] | None] = []
        self._actions: list[list[int]] = []
        self._answer: dict[str, Any] | None = None

    def _load_workload(self, entry: Any, network: Any = None) -> dict[str, Any]:
        """A network's distinct layers, their encoding on the hierarchy (in the set's action space),
        reference mappings, identity and features."""
        network = load_workload_entry(entry) if network is None else network
        layers, counts = distinct_layers(network)
        if not layers:
            raise SpecError("workload has no layer with MACs to map", source="workload", value=network.name)
        encoding = MappingEncoding(layers, self.hierarchy, self._flow, **self._space)
        state = {"network": network, "layers": layers, "counts": counts, "encoding": encoding, "_masks": {},
                 "_mask_key": digest((encoding.sizes, encoding.D, encoding.bypass_pairs, layers, self.hierarchy,
                                      self._flow)),
                 "identity": {"env": "Mapping-v0", "workload": network.name, "workload_digest": digest(network),
                              "hardware": self._hardware, "hardware_digest": digest(self.hierarchy),
                              "dataflow": self._df, "objective": self.objective},
                 "workload_obs": workload_features(network)}
        refs = []
        for layer in layers:
            arrays = self._reference_mapping(layer, encoding)
            cycles, energy, code = evaluate_many(layer, encoding.hw, arrays)
            if code[0] != 0:
                raise SpecError("the reference mapping (every loop at the outermost level) is illegal on this "
                                "hierarchy", source="hardware", key=f"layer {layer.name!r}", value=self._hardware,
                                accepted=encoding.reason(layer, arrays))
            refs.append((float(cycles[0]), float(energy[0])))
        state["reference"] = refs
        return state

    @property
    def search_contexts(self) -> int:
        """Distinct problems the steps pose (one per distinct layer): ask/tell agents search each apart."""
        return len(self.layers)

    @property
    def search_context(self) -> int:
        """The problem of the next step: the index of the layer it maps."""
        return min(self._layer, len(self.layers) - 1)

    def reference_action(self, context: int = 0) -> np.ndarray:
        """The action of distinct layer ``context``'s reference mapping (every loop at the outermost level, no
        spatial unrolling, every dataspace kept): legal by construction, a search's known-feasible start."""
        layer = self.layers[context]
        return self.encoding.encode(layer, self._reference_mapping(layer, self.encoding))

    def pareto_reference(self) -> dict[str, float]:
        """Network totals of the reference mappings (the hypervolume's scale)."""
        cycles = sum(c * r[0] for c, r in zip(self.counts, self.reference))
        energy = sum(c * r[1] for c, r in zip(self.counts, self.reference))
        return {"cycles": cycles, "energy_pj": energy, "edp": cycles * energy}

    @staticmethod
    def _reference_mapping(layer: Layer, encoding: MappingEncoding) -> MappingArrays:
        n = encoding.n
        t = np.ones((n, 8), dtype=np.int64)
        t[0] = list(layer.dims.values())
        hw = encoding.hw
        return MappingArrays(t, np.ones_like(t), np.ones_like(t), np.tile(np.arange(8, dtype=np.int64), (n, 1)),
                             hw.keep.copy(), hw.double_buffered.copy())

    def _cost(self, i: int, arrays: MappingArrays) -> tuple[float, float] | None:
        cycles, energy, code = evaluate_many(self.layers[i], self.encoding.hw, arrays)
        return (float(cycles[0]), float(energy[0])) if code[0] == 0 else None

    def decode(self, layer_index: int, action: Any) -> MappingArrays:
        """The mapping an action stands for on distinct layer ``layer_index``."""
        a = self._knobs.check_action(action)
        return self.encoding.decode(layer_index, a)

    def mapping(self, layer_index: int, action: Any) -> Mapping:
        """The ``mapper.Mapping`` an action stands for on distinct layer ``layer_index`` (YAML-able)."""
        return Mapping.from_arrays(self.decode(layer_index, action), self.hierarchy)

    def encode(self, layer_index: int, mapping: Any) -> np.ndarray:
        """The action of a ``mapper.Mapping`` (or ``MappingArrays``) for distinct layer ``layer_index``."""
        arrays = mapping if isinstance(mapping, MappingArrays) else mapping.to_arrays(self.hierarchy)
        return self.encoding.encode(self.layers[layer_index], arrays)

    def answer_next(self, metrics: dict[str, Any]) -> None:
        """Answer the next step's cost with logged ``metrics`` (``cycles``, ``energy_pj``; empty: illegal)
        instead of the cost model (resuming a logged run: the env still steps through its layers)."""
        self._answer = dict(metrics)

    def legal_mask(self, layer_index: int) -> Any:
        """The ``envs.action_masks.KnobMask`` of distinct layer ``layer_index`` (cached)."""
        if layer_index not in self._masks:
            from acceldse.envs.action_masks import cached, mapping_mask

            key = ("Mapping-v0", self._mask_key, layer_index)
            self._masks[layer_index] = cached(key, lambda: mapping_mask(self.encoding, layer_index,
                                                                        self.layers[layer_index]))
        return self._masks[layer_index]

    def action_masks(self) -> np.ndarray:
        """Which knob values the next step may pick (``sum(nvec)`` booleans, sb3-contrib's ``MaskablePPO``
        convention): every combination of allowed values maps the next layer legally (``envs.action_masks``)."""
        return self.legal_mask(self.search_context).flat()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._workload_reset(options or {}, set())
        self._layer = 0
        self._episode_evaluations = 0
        self._last = (0.0, 1.0)
        self._results = []
        self._actions = []
        return self._observe(), {"layer": self.layers[0].name, "evaluations": 0, "workload": self.network.name,
                                 "action_mask": self.action_masks().copy()}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._layer >= len(self.layers):
            raise RuntimeError("episode is over: call reset()")
        i = self._layer
        layer = self.layers[i]
        index = self._knobs.check_action(action)
        arrays = self.encoding.decode(i, index)
        answer, self._answer = self._answer, None
        cost = self._cost(i, arrays) if answer is None else \
            (float(answer["cycles"]), float(answer["energy_pj"])) if answer else None
        self.evaluations += 1
        self._episode_evaluations += 1
        ref = self.reference[i]
        info: dict[str, Any] = {"layer": layer.name, "count": self.counts[i], "evaluations": self._episode_evaluations,
                                "design": self._knobs.decode(index), "workload": self.network.name}
        if cost is None:
            reward = self.illegal_reward
            info.update(metrics={}, targets_met=False, legal=False, feasible=False,
                        reason=self.encoding.reason(layer, arrays))
        else:
            value = _objective(*cost, self.objective)
            reward = math.log2(_objective(*ref, self.objective) / value) if value > 0 else LOG2_CLIP
            info.update(metrics={"cycles": cost[0], "energy_pj": cost[1], "edp": cost[0] * cost[1]},
                        targets_met=False, legal=True, feasible=True, reason="")
        self._results.append(cost)
        self._actions.append(index.tolist())
        self._last = (reward, 1.0 if cost is not None else 0.0)
        self._layer += 1
        terminated = self._layer == len(self.layers)
        if terminated:
            info["network"] = self._network()
            info["targets_met"] = info["network"]["targets_met"]
        else:
            info["action_mask"] = self.action_masks().copy()
        return self._observe(), float(reward), terminated, False, info

    def _network(self) -> dict[str, Any]:
        """The network mapping of the finished episode (see the class docstring)."""
        design = {layer.name: a for layer, a in zip(self.layers, self._actions)}
        if any(r is None for r in self._results):
            return {"feasible": False, "targets_met": False, "metrics": {}, "reward": self.illegal_reward,
                    "design": design}
        cycles = sum(c * r[0] for c, r in zip(self.counts, self._results) if r is not None)
        energy = sum(c * r[1] for c, r in zip(self.counts, self._results) if r is not None)
        ref = self.pareto_reference()
        value = _objective(cycles, energy, self.objective)
        reward = math.log2(_objective(ref["cycles"], ref["energy_pj"], self.objective) / value) if value > 0 \
            else LOG2_CLIP
        return {"feasible": True, "targets_met": True, "reward": reward, "design": design,
                "metrics": {"cycles": cycles, "energy_pj": energy, "edp": cycles * energy}}

    def _observe(self) -> np.ndarray:
        layer = self.layers[min(self._layer, len(self.layers) - 1)]
        dims = [math.log2(v) / LOG2_CLIP for v in self.encoding.sizes[min(self._layer, len(self.layers) - 1)]]
        obs = [*dims, layer.stride[0] / 4, layer.stride[1] / 4, self._layer / len(self.layers),
               self._last[0] / LOG2_CLIP, self._last[1]]
        return np.concatenate([np.clip(np.array(obs, dtype=np.float32), -1.0, 1.0), self.workload_obs])
