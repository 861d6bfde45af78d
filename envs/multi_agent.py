"""``MultiAgentDesign``: the AcceleratorDesign problem split among cooperating agents (PettingZoo ParallelEnv)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.workloads.errors import SpecError

AGENT_KNOBS: dict[str, tuple[str, ...]] = {
    "compute": ("rows", "cols"),
    "memory": ("ifmap_kib", "filter_kib", "ofmap_kib"),
    "interface": ("dram_gbyte_per_s", "dataflow", "clock_mhz"),
}
"""Agent -> the AcceleratorDesign knobs it owns (compute array, on-chip memory, off-chip interface / dataflow)."""
REWARD_MODES = ("shared", "difference")


class MultiAgentDesign(ParallelEnv):
    """One agent per sub-system of a systolic accelerator, all acting at once (MARL-DSE setting).

    ## Description
    The design of ``acceldse/AcceleratorDesign-v0`` split by sub-system: ``compute`` (array rows, cols),
    ``memory`` (ifmap/filter/ofmap SRAM) and ``interface`` (DRAM bandwidth, dataflow, clock). Each step
    every agent picks its knobs; the joint design is evaluated once (analytical fast path).

    ## Action Space
    Per agent ``MultiDiscrete`` over its knobs (``env.knobs[agent]``: knob -> values).

    ## Observation Space
    Per agent the AcceleratorDesign observation of the joint design (``Box(-1, 1)``), shared by all.

    ## Rewards
    ``reward_mode="shared"`` (default): every agent gets the team reward of AcceleratorDesign-v0
    (spec distance, or a scalar objective). ``"difference"``: agent ``i`` gets the team reward minus the
    reward of the joint design with its own knobs at their reference values (one more evaluation per agent).

    ## Starting State
    The reference design (middle value of every knob).

    ## Episode End
    All agents terminate when every target is met, and truncate after ``max_cycles`` steps.

    ## Arguments
    ``max_cycles`` (default 100), ``reward_mode``, and every argument of AcceleratorDesign-v0
    (``workload``, ``hardware``, ``targets``, ``reward``, ``fidelity``, ``knobs``).

    ## Version History
    * v0: initial version.
    """

    metadata: dict[str, Any] = {"name": "acceldse_multi_agent_design_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, max_cycles: int = 100, reward_mode: str = "shared", **design_kwargs: Any) -> None:
        if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
            raise SpecError("must be a positive integer", source="max_cycles", value=max_cycles,
                            accepted="an integer >= 1")
        if reward_mode not in REWARD_MODES:
            raise SpecError("unknown reward mode", source="reward_mode", value=reward_mode,
                            accepted=" | ".join(REWARD_MODES))
        if design_kwargs.get("reward") == "vector":
            raise SpecError("a PettingZoo reward is one number per agent", source="reward", value="vector",
                            accepted="spec or a metric name")
        self.design = AcceleratorDesignEnv(**design_kwargs)
        self.max_cycles = max_cycles
        self.reward_mode = reward_mode
        self.possible_agents = list(AGENT_KNOBS)
        self.agents: list[str] = []
        self.knobs = {a: {k: self.design.knobs[k] for k in ks} for a, ks in AGENT_KNOBS.items()}
        self._names = list(self.design.knobs)
        self._cols = {a: [self._names.index(k) for k in ks] for a, ks in AGENT_KNOBS.items()}
        self._steps = 0
        self._reference = self.design.action_of(self.design.reference_design)

    @property
    def identity(self) -> dict[str, Any]:
        """What the env evaluates, by content: the design env's identity under this env's name."""
        return {**self.design.identity, "env": "MultiAgentDesign-v0", "reward_mode": self.reward_mode}

    @property
    def pareto_metrics(self) -> tuple[str, ...]:
        """The joint design's trade-off metrics (AcceleratorDesign-v0's: the hypervolume's axes)."""
        return self.design.pareto_metrics

    def pareto_reference(self) -> dict[str, float]:
        """The reference design's metrics (the hypervolume's scale)."""
        return self.design.pareto_reference()

    @functools.cache  # noqa: B019 - one space per agent, as PettingZoo recommends
    def observation_space(self, agent: str) -> gym.spaces.Space:
        return self.design.observation_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gym.spaces.Space:
        return gym.spaces.MultiDiscrete(self.design.action_space.nvec[self._cols[agent]])

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        design = {"design": options["design"]} if options and "design" in options else None
        obs, info = self.design.reset(seed=seed, options=design)  # other options are ignored, as PettingZoo expects
        self.agents = list(self.possible_agents)
        self._steps = 0
        return {a: obs for a in self.agents}, {a: self._agent_info(info, a) for a in self.agents}

    def joint_action(self, actions: Mapping[str, Sequence[int]]) -> np.ndarray:
        """The AcceleratorDesign action of the agents' actions (a ``SpecError`` names a missing agent)."""
        joint = np.zeros(len(self._names), dtype=np.int64)
        for agent in self.possible_agents:
            if agent not in actions:
                raise SpecError("every agent must act", source="actions", key=agent, accepted=", ".join(self.agents))
            a = np.asarray(actions[agent])
            if a.shape != (len(self._cols[agent]),):
                raise SpecError("wrong action length", source="actions", key=agent, value=a.tolist(),
                                accepted=f"{len(self._cols[agent])} indices ({', '.join(AGENT_KNOBS[agent])})")
            joint[self._cols[agent]] = a
        return joint

    def step(self, actions: Mapping[str, Sequence[int]]) -> tuple[dict[str, np.ndarray], dict[str, float],
                                                                   dict[str, bool], dict[str, bool],
                                                                   dict[str, dict[str, Any]]]:
        if not self.agents:
            raise RuntimeError("episode is over: call reset()")
        joint = self.joint_action(actions)
        obs, reward, terminated, _, info = self.design.step(joint)
        self._steps += 1
        rewards = {a: float(reward) for a in self.agents}
        if self.reward_mode == "difference":
            for a in self.agents:
                counter = joint.copy()
                counter[self._cols[a]] = self._reference[self._cols[a]]
                rewards[a] = float(reward - self.design.counterfactual_reward(counter))
        truncated = self._steps >= self.max_cycles
        agents = list(self.agents)
        if terminated or truncated:
            self.agents = []
        return ({a: obs for a in agents}, rewards, {a: bool(terminated) for a in agents},
                {a: bool(truncated and not terminated) for a in agents}, {a: self._agent_info(info, a) for a in agents})

    def _agent_info(self, info: dict[str, Any], agent: str) -> dict[str, Any]:
        """The design env's ``info`` for one agent: ``action_mask`` covers that agent's knobs only."""
        out = dict(info)
        if "action_mask" in info:
            starts = np.concatenate([[0], np.cumsum(self.design.action_space.nvec)])
            out["action_mask"] = np.concatenate([info["action_mask"][starts[c]:starts[c + 1]]
                                                 for c in self._cols[agent]])
        return out

    def answer_next(self, metrics: dict[str, Any]) -> None:
        """Answer the next joint design's evaluation from a log (``DesignEnv.answer_next``)."""
        self.design.answer_next(metrics)

    def state(self) -> np.ndarray:
        return self.design._observe()


def multi_agent_env(**kwargs: Any) -> MultiAgentDesign:
    """A ``MultiAgentDesign`` (PettingZoo ``ParallelEnv``); kwargs as its constructor."""
    return MultiAgentDesign(**kwargs)
