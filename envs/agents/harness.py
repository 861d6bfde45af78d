"""The evaluation budget every agent runs under, the experience log and the result of a run.

``BudgetEnv`` wraps a design env: each ``step`` is one simulator evaluation, counted against
the budget and recorded as an ``Evaluation`` (handed to a ``sink`` callable, e.g. the result
store).

*Candidates.* What a run offers as its answer is a *candidate*: on a design env every step's
design; on an env that builds one answer over an episode (Mapping-v0: one mapping per distinct
layer, ``info["network"]`` at the last step) the whole episode. ``best`` is the candidate with the
highest reward among the *feasible* ones (``info["feasible"]``: within an FPGA's resources, every
layer's mapping legal), so an infeasible design never counts as best; ``targets_met`` and
``first_met_at`` are about candidates too (Mapping-v0: a whole network mapped legally).

Given the evaluations a killed run already logged (``replay``), it answers those steps from the
log instead of the simulator, so a rerun of the same command with the same seed resumes where
the log ends without redoing any logged evaluation. The env still steps through the logged designs
(``answer_next`` hands it the logged metrics), so its state -- the layer a Mapping-v0 episode is at,
the time limit's count, the action mask -- is the logged run's when the new evaluations start.
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
from acceldse.workloads.errors import SpecError, require_seed


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
        feasible: the step's design is feasible (``info["feasible"]``; Mapping-v0: the layer's mapping is legal).
        network: on an episode-candidate env, at the episode's last step, the candidate
            (``info["network"]``: ``reward``, ``feasible``, ``targets_met``, ``metrics``); else ``None``.
        prev_obs: the observation the step was taken from (after the last step or reset), JSON form: with
            ``obs`` the (s, a, r, s') transition an offline-RL dataset needs (``None`` in logs from before it).
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
    feasible: bool = True
    network: dict[str, Any] | None = None
    prev_obs: Any = None


@dataclass
class ExploreResult:
    """What one agent found within its budget.

    ``best_*`` is the feasible candidate (module docstring) with the highest reward (the first one on
    ties; ``None`` / empty when no candidate was feasible); ``targets_met`` says whether any candidate
    met every target and ``first_met_at`` the 1-based evaluation count at which the first one was found
    (``None`` if never). ``feasible_rate`` is the share of evaluations whose design was feasible (a legal
    mapping, within the board); ``hypervolume`` the volume the feasible candidates dominate in
    ``log2(metric / reference)`` space of the env's ``pareto_metrics``, bounded by twice the reference
    design's value on each (``envs.agents.pareto.hypervolume``; ``None`` when the env names none).
    ``rewards`` are the evaluations' rewards, ``candidate_rewards`` per evaluation the feasible candidate's
    reward it completed (``-inf`` otherwise).
    """

    env_id: str
    agent: str
    hparams: dict[str, Any]
    budget: int
    seed: int
    evaluations: int
    replayed: int
    best_reward: float | None
    best_design: dict[str, Any]
    best_metrics: dict[str, Any]
    targets_met: bool
    first_met_at: int | None
    wall_s: float
    feasible_rate: float = 1.0
    candidates: int = 0
    feasible_candidates: int = 0
    hypervolume: float | None = None
    rewards: list[float] = field(repr=False, default_factory=list)
    candidate_rewards: list[float] = field(repr=False, default_factory=list)

    @property
    def stopped_early(self) -> bool:
        return self.evaluations < self.budget

    def best_so_far(self) -> np.ndarray:
        """Reward of the best feasible candidate after each evaluation (``nan`` before the first one)."""
        curve = np.maximum.accumulate(np.asarray(self.candidate_rewards or self.rewards, dtype=np.float64))
        return np.where(np.isneginf(curve), np.nan, curve)

    def summary(self) -> dict[str, Any]:
        """The JSON object ``acceldse explore --json`` prints."""
        out = {k: v for k, v in asdict(self).items() if k not in ("rewards", "candidate_rewards", "env_id")}
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


MAX_BUDGET = 250_000
"""Largest budget accepted without ``max_budget``: every evaluation stays in the run's
log (a few KiB each), so a run of this budget holds about a GiB."""


def check_budget(budget: Any, max_budget: int | None = None) -> int:
    """``budget`` as an int, or a ``SpecError`` naming it, the limit and the argument that raises it."""
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
        raise SpecError("budget must be a positive number of evaluations", source="budget", value=budget,
                        accepted="an integer >= 1")
    limit = MAX_BUDGET if max_budget is None else max_budget
    if budget > limit:
        raise SpecError(f"budget of {int(budget):,} evaluations is over the limit of {int(limit):,} (each evaluation "
                        "is kept in the run's log)", source="budget", value=int(budget),
                        accepted=f"at most {int(limit):,}, or raise the limit with max_budget")
    return int(budget)


def check_seed(seed: Any) -> int:
    """``seed`` as an int, or a ``SpecError`` naming it and the range every agent takes."""
    return require_seed(int(seed) if isinstance(seed, np.integer) else seed, key="", source="seed")


def scalar_reward(reward: Any) -> float:
    """An env reward as one number: a vector reward (``reward="vector"``) is the mean of its components."""
    arr = np.asarray(reward, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else float(arr.mean())


class BudgetEnv(gym.Wrapper):
    """Counts evaluations against ``budget``, logs each one, tracks candidates and replays a logged prefix.

    Args:
        env: a design env with a discrete action space.
        budget: evaluations allowed (``1 .. max_budget``).
        sink: called with every new ``Evaluation`` (not with replayed ones).
        replay: evaluations already logged for this run, ``step`` 0..k-1 in order.
        max_budget: the budget limit (default ``MAX_BUDGET``).
    """

    def __init__(self, env: gym.Env, budget: int, *, sink: Callable[[Evaluation], None] | None = None,
                 replay: Sequence[Evaluation] = (), max_budget: int | None = None) -> None:
        super().__init__(env)
        self.budget = check_budget(budget, max_budget)
        self.design_space = DesignSpace.of(env)
        self.sink = sink
        self.replay = list(replay)[: self.budget]
        self.log: list[Evaluation] = []
        self.first_met_at: int | None = None
        self._obs_space = env.observation_space
        base = env.unwrapped
        self.per_episode = bool(getattr(base, "candidate_per_episode", False))
        self.pareto_metrics: tuple[str, ...] = tuple(getattr(base, "pareto_metrics", ()))
        self._candidates: list[tuple[int, float, bool, dict[str, Any], dict[str, Any]]] = []
        self._last_obs: Any = None

    @property
    def evaluations(self) -> int:
        return len(self.log)

    @property
    def remaining(self) -> int:
        return self.budget - len(self.log)

    @property
    def replayed(self) -> int:
        return min(len(self.replay), len(self.log))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._last_obs = obs
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        i = len(self.log)
        if i >= self.budget:
            raise BudgetExhausted(f"evaluation {i + 1} asked for with a budget of {self.budget}")
        vector = [int(x) for x in self.design_space.vector(action)]
        if i < len(self.replay):
            ev = self.replay[i]
            if list(ev.action) != vector:
                raise SpecError("the logged run diverges from this one (same command and seed, different design)",
                                source="replay", key=f"step {i}", value=vector,
                                accepted=f"the logged design {ev.action}; use a new store")
            obs, reward, terminated, truncated, stepped = self._step_answered(action, ev)
            if (scalar_reward(reward), bool(terminated), bool(truncated)) != (ev.reward, ev.terminated, ev.truncated):
                raise SpecError("the logged run diverges from this one (same design, other outcome)",
                                source="replay", key=f"step {i}",
                                value=[scalar_reward(reward), bool(terminated), bool(truncated)],
                                accepted=f"the logged {[ev.reward, ev.terminated, ev.truncated]}; use a new store")
            info = {"design": ev.design, "metrics": ev.metrics, "targets_met": ev.targets_met,
                    "feasible": ev.feasible, "replayed": True}
            if "action_mask" in stepped:
                info["action_mask"] = stepped["action_mask"]
            if ev.network is not None:
                info["network"] = ev.network
            self._record(ev)
            self._last_obs = obs
            return obs, reward, bool(terminated), bool(truncated), info
        start = time.perf_counter()
        obs, reward, terminated, truncated, info = self.env.step(action)
        eval_s = time.perf_counter() - start
        design = info.get("design") or dict(zip(self.design_space.names, vector))
        metrics = {k: _scalar(v) for k, v in (info.get("metrics") or {}).items()}
        network = info.get("network") if self.per_episode and terminated else None
        ev = Evaluation(step=i, action=vector, design={str(k): _scalar(v) for k, v in design.items()},
                        metrics={k: v for k, v in metrics.items() if isinstance(v, int | float | str | bool)},
                        reward=scalar_reward(reward), targets_met=bool(info.get("targets_met", False)),
                        terminated=bool(terminated), truncated=bool(truncated),
                        obs=obs_to_json(self._obs_space, obs), eval_s=eval_s,
                        feasible=bool(info.get("feasible", True)),
                        network=jsonable(network) if isinstance(network, dict) else None,
                        prev_obs=None if self._last_obs is None else obs_to_json(self._obs_space, self._last_obs))
        self._last_obs = obs
        self._record(ev)
        if self.sink is not None:
            self.sink(ev)
        return obs, ev.reward, bool(terminated), bool(truncated), info

    def _step_answered(self, action: Any, ev: Evaluation) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env on a logged evaluation: an env that takes ``answer_next`` gets the logged metrics in
        place of the simulator; any other is simulated again. Either way the env and its wrappers (episode
        position, time limit, the next search context and action mask) advance exactly as in the logged run."""
        answer = getattr(self.env.unwrapped, "answer_next", None)
        if callable(answer):
            answer(ev.metrics)
        return self.env.step(action)

    def _record(self, ev: Evaluation) -> None:
        self.log.append(ev)
        if self.per_episode:
            if ev.network is not None:
                net = ev.network
                self._candidates.append((ev.step, float(net["reward"]), bool(net["feasible"]),
                                         dict(net.get("design") or {}), dict(net.get("metrics") or {})))
        else:
            self._candidates.append((ev.step, ev.reward, ev.feasible, ev.design, ev.metrics))
        if ev.targets_met and self.first_met_at is None:
            self.first_met_at = ev.step + 1

    def result(self, env_id: str, agent: str, hparams: dict[str, Any], seed: int, wall_s: float) -> ExploreResult:
        if not self.log:
            raise RuntimeError(f"agent {agent} made no evaluation")
        from acceldse.envs.agents.pareto import hypervolume_of

        rewards = [ev.reward for ev in self.log]
        per_eval = [-np.inf] * len(self.log)
        feasible = [c for c in self._candidates if c[2]]
        for step, reward, _, _, _ in feasible:
            per_eval[step] = reward
        best = max(feasible, key=lambda c: c[1]) if feasible else None  # max(): the first on ties
        hv = None
        if self.pareto_metrics:
            reference = getattr(self.env.unwrapped, "pareto_reference", None)
            hv = hypervolume_of([c[4] for c in feasible], self.pareto_metrics,
                                reference() if callable(reference) else None)
        return ExploreResult(env_id=env_id, agent=agent, hparams=hparams, budget=self.budget, seed=seed,
                             evaluations=len(self.log), replayed=self.replayed,
                             best_reward=None if best is None else best[1] + 0.0,  # + 0.0: no -0.0
                             best_design={} if best is None else best[3], best_metrics={} if best is None else best[4],
                             targets_met=self.first_met_at is not None, first_met_at=self.first_met_at,
                             wall_s=wall_s, feasible_rate=float(np.mean([ev.feasible for ev in self.log])),
                             candidates=len(self._candidates), feasible_candidates=len(feasible), hypervolume=hv,
                             rewards=rewards, candidate_rewards=per_eval)
