"""The base of every one-design-per-step environment (AcceleratorDesign, CoExploration, FpgaDesign).

A step decodes a ``MultiDiscrete`` action into a design (one value per knob), evaluates it once
(one simulator evaluation) and returns

* observation (Box, float32, in [-1, 1]): ``log2(metric / reference)`` of the evaluated design for
  every metric in ``metric_names`` (scaled by 1/16, clipped), the design's knob indices scaled to
  [0, 1], then per metric a flag (1 if it has a target) and ``log2(target / reference) / 16``, then
  the env's ``workload_obs`` (AcceleratorDesign: the workload features of ``envs.workload_features``);
* reward: ``reward="spec"`` -> ``-sum_k max((x_k - T_k) / T_k, 0)`` over the targets (ArchGym);
  a metric name (``reward="edp"``) -> ``-log2(x / x_ref)`` minus the same spec penalty;
  ``reward="vector"`` -> per ``pareto_metrics`` entry ``-log2(x / x_ref)`` (a float32 array; MO-Gymnasium's
  convention, ``env.unwrapped.reward_space`` its ``Box``; the penalty is left to ``info``);
* ``terminated`` when targets are given and all are met; truncation is left to ``TimeLimit``;
* ``info``: ``design`` (knob -> value), ``metrics`` (all metrics), ``targets_met``, ``penalty``,
  ``evaluations`` (evaluations in this episode, the reset's included; ``env.unwrapped.evaluations``
  counts every evaluation of the env's lifetime).

The reference design is the middle value of every knob; its metrics normalise observations and
rewards. Subclasses set ``metric_names``, build their knobs and implement ``evaluate(design)``.

*Workload-conditioned envs* (``workloads=[...]``, ``envs.workload_set``) hold a set of workloads and pose
one per episode: ``reset`` samples one from the set (``self.np_random``), or takes
``options={"workload": ...}`` (also one outside the set). The reference design's metrics, the default
targets and ``workload_obs`` are then those of the episode's workload (a subclass implements
``_load_workload``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from acceldse.envs.knobs import Knobs, check_targets, log_ratio_feature, log_ratio_features, spec_penalty
from acceldse.envs.workload_set import WorkloadConditioned
from acceldse.workloads.errors import SpecError

VECTOR_CLIP = 64.0
"""Bound of every component of a vector reward (``-log2(x / x_ref)``; a zero or infinite metric hits it)."""


def digest(obj: Any) -> str:
    """A short stable digest of a spec (its ``repr``): what a proxy was trained on, compared later."""
    return hashlib.sha1(repr(obj).encode()).hexdigest()[:16]


class DesignEnv(WorkloadConditioned, gym.Env[np.ndarray, np.ndarray]):
    """One design evaluation per step over ``MultiDiscrete`` knobs (see module docstring)."""

    metadata: dict[str, Any] = {"render_modes": []}
    metric_names: tuple[str, ...] = ()
    """Metrics in the observation, in order; targets may bound any of them."""
    extra_metrics: tuple[str, ...] = ()
    """Further metrics a ``reward=`` objective may name (reported in ``info`` too)."""
    constraints: dict[str, float] = {}
    """Hard upper bounds (e.g. an FPGA's resources): in the penalty and ``targets_met``, but meeting
    them alone does not end the episode; ``info["feasible"]`` says whether a design meets them."""
    pareto_metrics: tuple[str, ...] = ()
    """The metrics a multi-objective agent trades off (``reward="vector"``'s components, the hypervolume's
    axes), all minimised."""

    identity: dict[str, Any] = {}
    """What a proxy trained on this env must have been trained on (env, workload, hardware digest,
    fidelity ...): ``envs.proxy.use_proxy`` refuses a proxy of another."""
    proxy: Any = None
    """The learned cost model in place of the simulator (``proxy=PATH``), or ``None``."""
    pure_evaluate = False
    """Whether ``evaluate`` depends on the design and the workload only (no cache, counter or randomness): a
    reset to the reference design then takes the reference's metrics instead of evaluating it again (it still
    counts as an evaluation)."""
    _masks_by_workload: dict[str, np.ndarray]
    """``action_masks`` per workload key, built when first asked for."""
    _answer: dict[str, Any] | None = None
    """The logged metrics the next step takes instead of an evaluation (``answer_next``)."""

    def _setup(self, knobs: Knobs, targets: Mapping[str, float] | None, reward: str,
               default_targets: Callable[[dict[str, float]], dict[str, float]] | None = None,
               proxy: Any = None) -> None:
        """Build spaces, evaluate the reference design, validate targets and reward.

        ``default_targets(reference_metrics)`` gives the targets when ``targets`` is None; ``proxy`` (a
        file from ``acceldse proxy train --out``) then replaces the simulator for every later evaluation.
        """
        self._knobs = knobs
        self.knobs: dict[str, list[Any]] = knobs.values
        self.evaluations = 0
        self._episode_evaluations = 0
        self.reference_design = knobs.decode(knobs.middle())
        self._given_targets = targets
        self._default_targets = default_targets
        self._bind_reference()
        allowed = (*self.metric_names, *self.extra_metrics)
        kinds = ("spec", "vector") if self.pareto_metrics else ("spec",)
        if reward not in kinds and reward not in allowed:
            raise SpecError("unknown reward", source="reward", value=reward,
                            accepted=" | ".join(kinds) + " | " + " | ".join(allowed))
        if reward == "spec" and not self.targets:
            raise SpecError("reward 'spec' needs at least one target", source="targets", value=targets,
                            accepted="e.g. {'latency_us': 5000}")
        self.reward_kind = reward
        if reward == "vector":
            self.reward_space = gym.spaces.Box(-VECTOR_CLIP, VECTOR_CLIP, shape=(len(self.pareto_metrics),),
                                               dtype=np.float32)
        m = len(self.metric_names)
        size = m + len(knobs) + 2 * m + len(self.workload_obs)
        self.action_space = gym.spaces.MultiDiscrete(knobs.nvec)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32)
        self._index = knobs.middle()
        if proxy is not None:
            from acceldse.envs.proxy import use_proxy

            use_proxy(self, proxy)

    def _bind_reference(self) -> None:
        """Evaluate the reference design on the current workload; set its targets and their observation."""
        self.reference_metrics = self.evaluate(self.reference_design)
        targets = self._given_targets
        if targets is None and self._default_targets is not None:
            targets = self._default_targets(self.reference_metrics)
        self.targets = check_targets(targets, self.metric_names)
        ref = [self.reference_metrics[k] for k in self.metric_names]
        flags = np.array([1.0 if k in self.targets else 0.0 for k in self.metric_names])
        tvals = [self.targets.get(k, r) for k, r in zip(self.metric_names, ref)]
        self._target_obs = np.concatenate([flags, log_ratio_features(tvals, ref) * flags])
        self._metrics = self.reference_metrics

    _WORKLOAD_BOUND = ("reference_metrics", "targets", "_target_obs")

    def _bind_workload(self) -> None:
        self._bind_reference()

    # ---- to implement ------------------------------------------------------------------------
    def evaluate(self, design: dict[str, Any]) -> dict[str, float]:
        """Metrics of one design (every name in ``metric_names`` and ``extra_metrics``)."""
        raise NotImplementedError

    # ---- gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start from the reference design, or ``options={"design": {knob: value}}``; a workload-conditioned
        env first samples the episode's workload from its set, or takes ``options={"workload": ...}``."""
        super().reset(seed=seed)
        options = options or {}
        self._workload_reset(options, {"design"})
        if "design" in options:
            self._index = self._knobs.encode(options["design"], source="options.design")
        else:
            self._index = self._knobs.middle()
        design = self._knobs.decode(self._index)
        reference = "design" not in options and self.pure_evaluate and self.proxy is None \
            and "evaluate" not in self.__dict__
        self._metrics = self.reference_metrics if reference else self.evaluate(design)
        self.evaluations += 1
        self._episode_evaluations = 1
        return self._observe(), self._info(design)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self._index, design = self._knobs.check_decode(action)
        self._metrics = self._evaluate_step(design)
        self.evaluations += 1
        self._episode_evaluations += 1
        info = self._info(design)
        terminated = bool(self.targets) and info["targets_met"]
        return self._observe(), self._reward(self._metrics, info["penalty"]), terminated, False, info

    def answer_next(self, metrics: Mapping[str, Any]) -> None:
        """Answer the next step's evaluation with ``metrics`` instead of the simulator (resuming a logged run:
        the env still steps, so its state, wrappers and episode counters advance as in the run that logged it)."""
        self._answer = dict(metrics)

    def _evaluate_step(self, design: dict[str, Any]) -> dict[str, float]:
        answer, self._answer = self._answer, None
        return self.evaluate(design) if answer is None else answer

    def counterfactual_reward(self, action: Any) -> Any:
        """The reward a design would get, without moving the env (one more evaluation)."""
        metrics = self.evaluate(self._knobs.decode(self._knobs.check_action(action)))
        self.evaluations += 1
        self._episode_evaluations += 1
        return self._reward(metrics, spec_penalty(metrics, {**self.constraints, **self.targets}))

    # ---- helpers -----------------------------------------------------------------------------
    def _reward(self, metrics: dict[str, float], penalty: float) -> Any:
        if self.reward_kind == "vector":
            out = []
            for k in self.pareto_metrics:
                value, ref = metrics[k], self.reference_metrics[k]
                x = -np.log2(value / ref) if value > 0 and ref > 0 and np.isfinite(value) else -VECTOR_CLIP
                out.append(min(max(float(x), -VECTOR_CLIP), VECTOR_CLIP))
            return np.array(out, dtype=np.float32)
        if self.reward_kind == "spec":
            return -penalty
        k = self.reward_kind
        value, ref = metrics[k], self.reference_metrics[k]
        return float(-np.log2(value / ref) - penalty) if value > 0 and np.isfinite(value) else -64.0 - penalty

    _obs_tail: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    """(``_target_obs``, ``workload_obs``, an observation holding them and zeros before): the observation's
    constant part, rebuilt when the workload's arrays are swapped in (``_observe``)."""

    def _observe(self) -> np.ndarray:
        """The observation of ``_metrics`` and ``_index`` (module docstring): each value computed in float64 and
        rounded once to float32, into a copy of the constant part (targets, workload features)."""
        tail = self._obs_tail
        if tail is None or tail[0] is not self._target_obs or tail[1] is not self.workload_obs:
            head = len(self.metric_names) + len(self._knobs)
            const = np.concatenate([np.zeros(head), self._target_obs, self.workload_obs]).astype(np.float32)
            tail = self._obs_tail = (self._target_obs, self.workload_obs, const)
        obs = tail[2].copy()
        m = len(self.metric_names)
        metrics, ref = self._metrics, self.reference_metrics
        obs[:m] = [log_ratio_feature(metrics[k], ref[k]) for k in self.metric_names]
        obs[m:m + len(self._knobs)] = self._knobs.features(self._index)
        return obs

    def _info(self, design: dict[str, Any]) -> dict[str, Any]:
        penalty = spec_penalty(self._metrics, {**self.constraints, **self.targets})
        feasible = not self.constraints or spec_penalty(self._metrics, self.constraints) == 0.0
        return {"design": design, "metrics": dict(self._metrics), "targets_met": penalty == 0.0,
                "feasible": feasible, "predicted": self.proxy is not None, "penalty": penalty,
                "action_mask": self.action_masks().copy(),
                "evaluations": self._episode_evaluations, **self.details()}

    def action_masks(self) -> np.ndarray:
        """Which knob values an agent may pick (``sum(nvec)`` booleans, knob after knob: sb3-contrib's
        ``MaskablePPO`` convention): every combination of allowed values is a feasible design
        (``envs.action_masks``). An env without hard limits allows every value."""
        masks = self.__dict__.get("_masks_by_workload")
        if masks is None:
            masks = self._masks_by_workload = {}
        if self._current not in masks:
            mask = self.legal_mask()
            flat = np.ones(int(self._knobs.nvec.sum()), dtype=bool) if mask is None else mask.flat()
            flat.flags.writeable = False
            masks[self._current] = flat
        return masks[self._current]

    def legal_mask(self) -> Any:
        """The ``envs.action_masks.KnobMask`` of an env with hard limits, ``None`` when every design is legal."""
        return None

    def reference_action(self, context: int = 0) -> np.ndarray:
        """The action of the reference design (the middle value of every knob): where ``from_reference``
        searches start."""
        return self._knobs.middle()

    def pareto_reference(self) -> dict[str, float]:
        """The reference design's metrics (the hypervolume's scale)."""
        return dict(self.reference_metrics)

    def details(self) -> dict[str, Any]:
        """Env-specific ``info`` entries about the last evaluation (e.g. violations)."""
        return {}

    def design_of(self, action: Any) -> dict[str, Any]:
        """The design (knob -> value) an action stands for."""
        return self._knobs.decode(self._knobs.check_action(action))

    def action_of(self, design: Mapping[str, Any]) -> np.ndarray:
        """The action (index array) of a design."""
        return self._knobs.encode(design)
