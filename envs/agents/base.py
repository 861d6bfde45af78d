"""The agent interface: explicit hyper-parameters with defaults, and ``run(env, seed)``.

Every agent runs inside a ``BudgetEnv`` and stops when its budget is spent. Search agents
(random, GA, SA, BO, ACO) are ask/tell: ``ask`` proposes a knob index vector, ``tell`` gives
back the reward of its evaluation. RL agents drive the env themselves.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from acceldse.envs.agents.harness import BudgetEnv
from acceldse.envs.agents.space import DesignSpace
from acceldse.workloads.errors import SpecError


class Agent:
    """Base class: ``HPARAMS`` holds every hyper-parameter and its default; ``LOTTERY`` a small
    grid of values for the hyper-parameter-lottery comparison."""

    name: ClassVar[str] = "agent"
    HPARAMS: ClassVar[dict[str, Any]] = {}
    LOTTERY: ClassVar[dict[str, list[Any]]] = {}
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {}

    def __init__(self, **hparams: Any) -> None:
        self.hparams: dict[str, Any] = dict(self.HPARAMS)
        for key, value in hparams.items():
            self.hparams[key] = self._check(key, value)

    @classmethod
    def _check(cls, key: str, value: Any) -> Any:
        source = f"agent {cls.name}"
        if key not in cls.HPARAMS:
            raise SpecError("unknown hyper-parameter", source=source, key=key, value=value,
                            accepted=", ".join(f"{k} (default {v})" for k, v in cls.HPARAMS.items()) or "none")
        default = cls.HPARAMS[key]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise SpecError("wrong type of hyper-parameter", source=source, key=key, value=value,
                            accepted=f"a {type(default).__name__} like the default {default!r}")
        lo, hi = cls.RANGES.get(key, (-np.inf, np.inf))
        if not lo <= value <= hi:
            raise SpecError("hyper-parameter out of range", source=source, key=key, value=value,
                            accepted=f"a value in [{lo}, {hi}]")
        return float(value) if isinstance(default, float) else value

    def run(self, env: BudgetEnv, seed: int) -> None:
        raise NotImplementedError


class AskTellAgent(Agent):
    """A search agent that proposes designs one at a time and learns from their rewards."""

    def start(self, space: DesignSpace, budget: int, seed: int) -> None:
        raise NotImplementedError

    def ask(self) -> np.ndarray:
        raise NotImplementedError

    def tell(self, vector: np.ndarray, reward: float) -> None:
        raise NotImplementedError

    def run(self, env: BudgetEnv, seed: int) -> None:
        space = env.design_space
        self.start(space, env.budget, seed)
        env.reset(seed=seed)
        while env.remaining > 0:
            vector = self.ask()
            _, reward, terminated, truncated, _ = env.step(space.action(vector))
            self.tell(vector, float(reward))
            if terminated or truncated:
                env.reset()
