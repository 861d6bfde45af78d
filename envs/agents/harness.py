"""The evaluation budget every agent runs under, the experience log and the result of a run.

``BudgetEnv`` wraps a design env: each ``step`` is one simulator evaluation, counted against
the budget and recorded as an ``Evaluation`` (handed to a ``sink`` callable, e.g. the result
store). Given the evaluations a killed run already logged (``replay``), it answers those steps
from the log instead of the simulator, so a rerun of the same command with the same seed
resumes where the log ends without redoing any logged evaluation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from acceldse.envs.agents.space import DesignSpace
from acceldse.workloads.errors import SpecError


class BudgetExhausted(RuntimeError):
    """An agent asked for an evaluation past its budget (a bug in the agent, not user input)."""


@dataclass(frozen=True)
class Evaluation:
    """One simulator evaluation (one env step).

    Attributes:
        step: 0-based index of the evaluation within the run.
        action: the knob index vector.
        design: knob name -> value (the env's ``info["design"]``).
        metrics: scalar metrics (``info["metrics"]``: ``latency_us``, ``energy_uj`` ...).
        reward: the env's reward.
        targets_met: the design met every target.
        terminated, truncated: the env's episode flags after this step.
        obs: the observation after the step, JSON form (for replay).
        eval_s: wall seconds of the env step (0 for a replayed step).
    """

    step: int
    action: list[int]
    design: dict[str, Any]
    metrics: dict[str, Any]
    reward: float
    targets_met: bool
    terminated: bool
    truncated: bool
    obs: Any
    eval_s: float = 0.0


@dataclass
class ExploreResult:
    """What one agent found within its budget.

    ``best_*`` is the evaluation with the highest reward (the first one on ties);
    ``targets_met`` says whether any evaluated design met every target and ``first_met_at`` the
    1-based evaluation count at which the first one was found (``None`` if never).
    """

    env_id: str
    agent: str
    hparams: dict[str, Any]
    budget: int
    seed: int
    evaluations: int
    replayed: int
    best_reward: float
    best_design: dict[str, Any]
    best_metrics: dict[str, Any]
    targets_met: bool
    first_met_at: int | None
    wall_s: float
    rewards: list[float] = field(repr=False, default_factory=list)

    @property
    def stopped_early(self) -> bool:
        return self.evaluations < self.budget

    def best_so_far(self) -> np.ndarray:
        """Best reward after each evaluation."""
        return np.maximum.accumulate(np.asarray(self.rewards, dtype=np.float64))

    def summary(self) -> dict[str, Any]:
        """The JSON object ``acceldse explore --json`` prints."""
        out = {k: v for k, v in asdict(self).items() if k not in ("rewards", "env_id")}
        return {"env": self.env_id, **out, "stopped_early": self.stopped_early}


def _scalar(value: Any) -> Any:
    """A numpy scalar as a Python one; lists and strings unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def jsonable(value: Any) -> Any:
    """Numpy scalars and arrays as plain Python (for the log and ``--json``)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def obs_to_json(space: gym.spaces.Space, obs: Any) -> Any:
    """One observation in JSON form (a ``Dict`` observation as a dict of its parts)."""
    if isinstance(space, gym.spaces.Dict):
        return {k: obs_to_json(sub, obs[k]) for k, sub in space.spaces.items()}
    if isinstance(space, gym.spaces.Box):
        return np.asarray(obs).tolist()
    return jsonable(space.to_jsonable([obs])[0])


def obs_from_json(space: gym.spaces.Space, data: Any) -> Any:
    """Inverse of ``obs_to_json``."""
    if isinstance(space, gym.spaces.Dict):
        return {k: obs_from_json(sub, data[k]) for k, sub in space.spaces.items()}
    return space.from_jsonable([data])[0]


class BudgetEnv(gym.Wrapper):
    """Counts evaluations against ``budget``, logs each one and replays a logged prefix.

    Args:
        env: a design env with a discrete action space.
        budget: evaluations allowed (``>= 1``).
        sink: called with every new ``Evaluation`` (not with replayed ones).
        replay: evaluations already logged for this run, ``step`` 0..k-1 in order.
    """

    def __init__(self, env: gym.Env, budget: int, *, sink: Callable[[Evaluation], None] | None = None,
                 replay: Sequence[Evaluation] = ()) -> None:
        super().__init__(env)
        if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
            raise SpecError("budget must be a positive number of evaluations", source="--budget", value=budget,
                            accepted="an integer >= 1")
        self.budget = int(budget)
        self.design_space = DesignSpace.of(env)
        self.sink = sink
        self.replay = list(replay)[: self.budget]
        self.log: list[Evaluation] = []
        self.first_met_at: int | None = None
        self._obs_space = env.observation_space

    @property
    def evaluations(self) -> int:
        return len(self.log)

    @property
    def remaining(self) -> int:
        return self.budget - len(self.log)

    @property
    def replayed(self) -> int:
        return min(len(self.replay), len(self.log))

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        i = len(self.log)
        if i >= self.budget:
            raise BudgetExhausted(f"evaluation {i + 1} asked for with a budget of {self.budget}")
        vector = [int(x) for x in self.design_space.vector(action)]
        if i < len(self.replay):
            ev = self.replay[i]
            if list(ev.action) != vector:
                raise SpecError("the logged run diverges from this one (same command and seed, different design)",
                                source="--store", key=f"step {i}", value=vector,
                                accepted=f"the logged design {ev.action}; use a new store")
            obs = obs_from_json(self._obs_space, ev.obs)
            info = {"design": ev.design, "metrics": ev.metrics, "targets_met": ev.targets_met, "replayed": True}
            self._record(ev)
            return obs, ev.reward, ev.terminated, ev.truncated, info
        start = time.perf_counter()
        obs, reward, terminated, truncated, info = self.env.step(action)
        eval_s = time.perf_counter() - start
        design = info.get("design") or dict(zip(self.design_space.names, vector))
        metrics = {k: _scalar(v) for k, v in (info.get("metrics") or {}).items()}
        ev = Evaluation(step=i, action=vector, design={str(k): _scalar(v) for k, v in design.items()},
                        metrics={k: v for k, v in metrics.items() if isinstance(v, int | float | str | bool)},
                        reward=float(reward), targets_met=bool(info.get("targets_met", False)),
                        terminated=bool(terminated), truncated=bool(truncated),
                        obs=obs_to_json(self._obs_space, obs), eval_s=eval_s)
        self._record(ev)
        if self.sink is not None:
            self.sink(ev)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def _record(self, ev: Evaluation) -> None:
        self.log.append(ev)
        if ev.targets_met and self.first_met_at is None:
            self.first_met_at = ev.step + 1

    def result(self, env_id: str, agent: str, hparams: dict[str, Any], seed: int, wall_s: float) -> ExploreResult:
        if not self.log:
            raise RuntimeError(f"agent {agent} made no evaluation")
        rewards = [ev.reward for ev in self.log]
        best = self.log[int(np.argmax(rewards))]  # best_reward + 0.0 below: no -0.0
        return ExploreResult(env_id=env_id, agent=agent, hparams=hparams, budget=self.budget, seed=seed,
                             evaluations=len(self.log), replayed=self.replayed, best_reward=best.reward + 0.0,
                             best_design=best.design, best_metrics=best.metrics,
                             targets_met=self.first_met_at is not None, first_met_at=self.first_met_at,
                             wall_s=wall_s, rewards=rewards)
