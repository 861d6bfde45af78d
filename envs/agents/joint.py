"""A PettingZoo ``ParallelEnv`` seen as one Gymnasium env (the joint design of every agent).

Each agent owns some knobs; one joint step (every agent acts) is one design evaluation. The
joint action is the agents' actions concatenated in ``possible_agents`` order, the
observation a ``Dict`` of the agents' observations, the reward the team reward (the mean of
the agents' rewards, equal to each of them when the reward is shared). Every search agent can
therefore run on a multi-agent env under the same budget; multi-agent PPO splits the joint
action back into one policy per agent.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from acceldse.workloads.errors import SpecError


class JointEnv(gym.Env):
    """Joint view of a parallel multi-agent design env.

    Args:
        parallel: a PettingZoo ``ParallelEnv`` whose agents have ``MultiDiscrete`` or
            ``Discrete`` action spaces.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    @property
    def identity(self) -> dict[str, Any]:
        """The parallel env's identity (what it evaluates, by content), if it has one."""
        identity = getattr(self.parallel, "identity", None)
        return dict(identity) if isinstance(identity, dict) else {}

    def __init__(self, parallel: Any) -> None:
        self.parallel = parallel
        self.agents: list[str] = list(parallel.possible_agents)
        self.act_spaces = {a: parallel.action_space(a) for a in self.agents}
        self.obs_spaces = {a: parallel.observation_space(a) for a in self.agents}
        sizes: list[int] = []
        for agent, space in self.act_spaces.items():
            if isinstance(space, spaces.Discrete):
                sizes.append(int(space.n))
            elif isinstance(space, spaces.MultiDiscrete):
                sizes.extend(int(n) for n in space.nvec.reshape(-1))
            else:
                raise SpecError("joint search needs discrete agent actions", source="env", key=agent,
                                value=type(space).__name__, accepted="MultiDiscrete or Discrete")
        self.widths = [1 if isinstance(s, spaces.Discrete) else int(s.nvec.size) for s in self.act_spaces.values()]
        self.action_space = spaces.MultiDiscrete(np.array(sizes, dtype=np.int64))
        self.observation_space = spaces.Dict(self.obs_spaces)
        self.knobs = self._knobs()

    def _knobs(self) -> dict[str, list[Any]] | None:
        """Knob names and values in joint-action order, when the env publishes them per agent."""
        base = getattr(self.parallel, "unwrapped", self.parallel)
        per_agent = getattr(base, "knobs", None)  # MultiAgentDesign: agent -> {knob: values}
        if not (isinstance(per_agent, dict) and set(self.agents) <= set(per_agent)):
            return None
        out: dict[str, list[Any]] = {}
        for agent in self.agents:
            knobs = per_agent.get(agent)
            values = knobs if isinstance(knobs, dict) else getattr(knobs, "values", None)
            if not isinstance(values, dict):
                return None
            out.update({str(k): list(v) for k, v in values.items()})
        return out if len(out) == int(self.action_space.nvec.size) else None

    def split(self, action: np.ndarray) -> dict[str, Any]:
        """The per-agent actions of a joint action."""
        out, i = {}, 0
        for agent, width in zip(self.agents, self.widths):
            part = np.asarray(action[i:i + width], dtype=np.int64)
            out[agent] = int(part[0]) if isinstance(self.act_spaces[agent], spaces.Discrete) else part
            i += width
        return out

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        obs, infos = self.parallel.reset(seed=seed, options=options)
        return dict(obs), _merged(infos)

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        obs, rewards, terms, truncs, infos = self.parallel.step(self.split(np.asarray(action)))
        reward = float(np.mean([rewards[a] for a in self.agents if a in rewards])) if rewards else 0.0
        terminated = bool(terms) and any(terms.values())
        truncated = bool(truncs) and any(truncs.values())
        return {a: obs[a] for a in self.agents}, reward, terminated, truncated, _merged(infos)

    @property
    def pareto_metrics(self) -> tuple[str, ...]:
        """The parallel env's trade-off metrics (the hypervolume's axes), if it names any."""
        return tuple(getattr(self.parallel, "pareto_metrics", ()))

    def pareto_reference(self) -> dict[str, float] | None:
        """The parallel env's reference metrics (the hypervolume's scale), if it has them."""
        reference = getattr(self.parallel, "pareto_reference", None)
        return reference() if callable(reference) else None

    def answer_next(self, metrics: dict[str, Any]) -> None:
        """Forward a logged answer to the parallel env (``MultiAgentDesign``), when it takes one."""
        getattr(self.parallel, "answer_next", lambda m: None)(metrics)

    def close(self) -> None:
        self.parallel.close()


def _merged(infos: dict[str, Any]) -> dict[str, Any]:
    """The first agent's info (the design, metrics and targets are the team's)."""
    for info in infos.values():
        if isinstance(info, dict) and info:
            return dict(info)
    return {}
