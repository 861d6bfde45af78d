"""The agent interface: explicit hyper-parameters with defaults, and ``run(env, seed)``.

Every agent runs inside a ``BudgetEnv`` and stops when its budget is spent. Search agents
(random, GA, SA, BO, ACO) are ask/tell: ``ask`` proposes a knob index vector, ``tell`` gives
back the reward of its evaluation and whether the design was feasible. RL agents drive the env
themselves.

*Contexts.* An env whose steps pose different problems in turn (Mapping-v0: step ``i`` maps the
``i``-th distinct layer) names the current one in ``env.unwrapped.search_context`` and their number
in ``search_contexts``; an ask/tell agent then keeps one search per context (its own population,
annealing chain or surrogate model), each with its share of the budget, instead of mixing rewards
of different layers into one model.

*A known-feasible start.* With the hyper-parameter ``from_reference`` (SA, GA, BO, ACO; on by default on
Mapping-v0) each search first evaluates the env's reference design for its context
(``env.unwrapped.reference_action(context)``: Mapping-v0's reference mapping of the layer, every loop at the
outermost level, legal by construction; a design env's middle design) and goes on from there, instead of
waiting for a random design to be feasible. Random search has no such start: it is the uniform baseline.

*Per-env defaults.* ``ENV_DEFAULTS`` maps an env id to the hyper-parameters that differ from
``HPARAMS`` on that env (``defaults_for(env_id)``); explicit hyper-parameters override both.
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
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, *, env_id: str | None = None, **hparams: Any) -> None:
        self.hparams: dict[str, Any] = self.defaults_for(env_id)
        for key, value in hparams.items():
            self.hparams[key] = self._check(key, value)

    @classmethod
    def defaults_for(cls, env_id: str | None) -> dict[str, Any]:
        """``HPARAMS`` with the env's own defaults (``ENV_DEFAULTS``) applied."""
        out = dict(cls.HPARAMS)
        if env_id is not None:
            out.update(cls.ENV_DEFAULTS.get(env_id.removeprefix("acceldse/"), {}))
        return out

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

    initial: np.ndarray | None = None
    """The design (index vector) the search evaluates first (``from_reference``), or ``None``."""

    def start(self, space: DesignSpace, budget: int, seed: int) -> None:
        raise NotImplementedError

    def ask(self) -> np.ndarray:
        raise NotImplementedError

    def tell(self, vector: np.ndarray, reward: float, feasible: bool = True) -> None:
        raise NotImplementedError

    def run(self, env: BudgetEnv, seed: int) -> None:
        space = env.design_space
        base = env.unwrapped
        contexts = int(getattr(base, "search_contexts", 1))
        reference = None
        if self.hparams.get("from_reference"):
            reference = getattr(base, "reference_action", None)
            if reference is None:
                raise SpecError("from_reference needs an env with a reference design", source=f"agent {self.name}",
                                key="from_reference", value=type(base).__name__, accepted="from_reference=False")
        searchers: list[AskTellAgent] = [self]
        if contexts > 1:
            share = -(-env.budget // contexts)
            searchers = [type(self)(**self.hparams) for _ in range(contexts)]
        for i, searcher in enumerate(searchers):
            searcher.initial = None if reference is None else space.vector(reference(i))
            searcher.start(space, share if contexts > 1 else env.budget, seed + i)
        env.reset(seed=seed)
        while env.remaining > 0:
            searcher = searchers[int(getattr(base, "search_context", 0)) % len(searchers)]
            vector = searcher.ask()
            _, reward, terminated, truncated, info = env.step(space.action(vector))
            searcher.tell(vector, float(reward), bool(info.get("feasible", True)))
            if terminated or truncated:
                env.reset()
