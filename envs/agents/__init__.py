"""Search agents for the design envs, all under one interface and one evaluation budget.

Example::

    import gymnasium as gym
    from acceldse.envs.agents import explore
    env = gym.make("acceldse/AcceleratorDesign-v0", workload="resnet18")
    result = explore(env, "bo", budget=200, seed=0)
    result.best_design, result.best_metrics, result.first_met_at

Agents (``AGENTS``): ``random``, ``ga`` (NSGA-II), ``sa`` (simulated annealing), ``bo`` (TPE),
``bo-gp`` (Gaussian process), ``aco`` (ant colony), ``ppo``, ``maskable-ppo`` (PPO over the env's action
masks) and ``mappo`` (multi-agent PPO on
``MultiAgentDesign``). Each has explicit hyper-parameters with defaults (``Agent.HPARAMS``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from acceldse.envs.agents.base import Agent, AskTellAgent
from acceldse.envs.agents.harness import MAX_BUDGET, BudgetEnv, Evaluation, ExploreResult, check_budget, check_seed
from acceldse.envs.agents.joint import JointEnv
from acceldse.envs.agents.optuna_agents import GeneticAgent, GpAgent, TpeAgent
from acceldse.envs.agents.rl import MaskablePpoAgent, MultiAgentPpo, PpoAgent
from acceldse.envs.agents.search import AntColony, RandomSearch, SimulatedAnnealing
from acceldse.envs.agents.space import DesignSpace
from acceldse.workloads.errors import SpecError

AGENTS: dict[str, type[Agent]] = {cls.name: cls for cls in (
    RandomSearch, GeneticAgent, SimulatedAnnealing, TpeAgent, GpAgent, AntColony, PpoAgent, MaskablePpoAgent,
    MultiAgentPpo)}


def make_agent(name: str, env_id: str | None = None, **hparams: Any) -> Agent:
    """An agent by name with hyper-parameters (unknown name or hyper-parameter: ``SpecError``); ``env_id``
    applies the agent's defaults for that env (``Agent.ENV_DEFAULTS``)."""
    if name not in AGENTS:
        raise SpecError("unknown agent", source="agent", value=name, accepted=", ".join(AGENTS))
    return AGENTS[name](env_id=env_id, **hparams)


def explore(env: gym.Env, agent: str | Agent, budget: int, seed: int = 0, *, env_id: str | None = None,
            sink: Callable[[Evaluation], None] | None = None, replay: Sequence[Evaluation] = (),
            max_budget: int | None = None, **hparams: Any) -> ExploreResult:
    """Run ``agent`` on ``env`` for exactly ``budget`` evaluations (fewer only if it stops early).

    Args:
        env: a design env (discrete action space); ``JointEnv`` for a multi-agent env.
        agent: an agent name (``AGENTS``) or instance.
        budget: simulator evaluations (env steps), the same for every agent.
        seed: seeds the agent and the env's first reset.
        env_id: name reported in the result (default: the env spec's id).
        sink: receives every new evaluation (the experience log).
        replay: evaluations a killed run of the same command logged; answered from the log.
        max_budget: the largest budget accepted (default ``MAX_BUDGET``).
        hparams: the agent's hyper-parameters (with a name; the agent's defaults for this env otherwise).
    """
    name = env_id or (env.spec.id if env.spec is not None else type(env.unwrapped).__name__)
    if isinstance(agent, str):
        agent = make_agent(agent, env_id=name, **hparams)
    elif hparams:
        raise SpecError("hyper-parameters go to the agent's constructor when passing an instance", source="hparams",
                        value=sorted(hparams))
    check_seed(seed)
    wrapped = BudgetEnv(env, budget, sink=sink, replay=replay, max_budget=max_budget)
    start = time.perf_counter()
    agent.run(wrapped, seed)
    wall_s = time.perf_counter() - start
    return wrapped.result(name, agent.name, dict(agent.hparams), seed, wall_s)


__all__ = ["AGENTS", "MAX_BUDGET", "Agent", "AskTellAgent", "BudgetEnv", "DesignSpace", "Evaluation", "ExploreResult",
           "JointEnv", "check_budget", "check_seed", "explore", "make_agent"]
