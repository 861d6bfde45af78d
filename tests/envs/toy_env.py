"""Small design envs for agent unit tests: an area/latency trade-off over four knobs (5 of its 756
designs meet the default targets), and a two-agent parallel version of it."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

KNOBS: dict[str, list[Any]] = {"rows": [4, 8, 16, 32, 64, 128], "cols": [4, 8, 16, 32, 64, 128],
                               "sram_kb": [16, 32, 64, 128, 256, 512, 1024], "dataflow": ["os", "ws", "is"]}
EFFICIENCY = {"os": 1.0, "ws": 0.8, "is": 0.6}


class ToyDesignEnv(gym.Env):
    """Latency falls with PEs and SRAM, area grows with them; targets on both."""

    def __init__(self, latency_us: float = 10.0, area_mm2: float = 4.5, max_episode_steps: int = 16) -> None:
        self.knobs = KNOBS
        self.action_space = spaces.MultiDiscrete([len(v) for v in KNOBS.values()])
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(6,), dtype=np.float32)
        self.targets = {"latency_us": latency_us, "area_mm2": area_mm2}
        self.max_steps, self.t = max_episode_steps, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(6, dtype=np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        design = {k: v[int(a)] for (k, v), a in zip(KNOBS.items(), action)}
        pes = design["rows"] * design["cols"]
        latency = 1e5 / (pes * EFFICIENCY[design["dataflow"]]) * (1 + 64 / design["sram_kb"])
        area = pes * 2e-4 + design["sram_kb"] * 2e-3
        metrics = {"latency_us": latency, "area_mm2": area}
        penalty = sum(max((metrics[k] - t) / t, 0.0) for k, t in self.targets.items())
        met = penalty == 0.0
        self.t += 1
        obs = np.array([np.log2(latency), np.log2(area), *np.asarray(action, dtype=np.float32)], dtype=np.float32)
        return obs, -penalty, met, self.t >= self.max_steps, {"design": design, "metrics": metrics, "targets_met": met}


class ToyParallelEnv:
    """PettingZoo-style parallel env: ``array`` owns rows/cols, ``memory`` sram_kb/dataflow; team reward."""

    possible_agents = ["array", "memory"]

    def __init__(self, **kwargs: Any) -> None:
        self.env = ToyDesignEnv(**kwargs)
        self.agents = list(self.possible_agents)
        self.knobs = {"array": {k: KNOBS[k] for k in ("rows", "cols")},
                            "memory": {k: KNOBS[k] for k in ("sram_kb", "dataflow")}}

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return spaces.MultiDiscrete([len(v) for v in self.knobs[agent].values()])

    def observation_space(self, agent: str) -> spaces.Box:
        return self.env.observation_space

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        obs, _ = self.env.reset(seed=seed)
        return {a: obs for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        obs, reward, term, trunc, info = self.env.step(np.concatenate([actions["array"], actions["memory"]]))
        every = self.agents
        return ({a: obs for a in every}, {a: reward for a in every}, {a: term for a in every},
                {a: trunc for a in every}, {a: info for a in every})

    def close(self) -> None:
        pass
