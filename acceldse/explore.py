"""``acceldse.explore``: run one search agent on a design env under an evaluation budget, with
every evaluation logged to the result store (the experience log, ``acceldse.experience_log``: its tables
and how a run is keyed) and resumption of a killed run. The envs a run can name and how one is built:
``acceldse.env_catalog``.

Example::

    import acceldse
    res = acceldse.explore("AcceleratorDesign-v0", "bo", budget=200, seed=0,
                           env_kwargs={"workload": "resnet18", "targets": {"latency_us": 900}},
                           store="runs.duckdb")
    res.best_design, res.first_met_at
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from acceldse.env_catalog import default_workload, env_identity, env_ids, make_env, resolve_env_id, workload_params
from acceldse.envs.agents import AGENTS, Evaluation, ExploreResult, check_budget, check_seed, make_agent
from acceldse.envs.agents import explore as run_agent
from acceldse.experience_log import (
    EVALUATIONS_TABLE,
    RUN_IDENTITY,
    RUNS_TABLE,
    evaluation_rows,
    input_files,
    knob_schema,
    log_run,
    logged_evaluations,
    read_log,
    run_columns,
    run_id,
    run_key,
    say_if_inputs_changed,
)
from acceldse.workloads.errors import SpecError

FLUSH_EVERY = 256
FLUSH_SECONDS = 2.0
"""Evaluations are written in one store transaction per ``FLUSH_EVERY`` rows or ``FLUSH_SECONDS``,
whichever comes first (a kill loses at most those; a rerun evaluates them again)."""


def explore(env: str | gym.Env, agent: str = "random", budget: int = 100, seed: int = 0, *,
            env_kwargs: dict[str, Any] | None = None, hparams: dict[str, Any] | None = None,
            store: str | Path | None = None, on_evaluation: Callable[[Evaluation], None] | None = None,
            max_budget: int | None = None) -> ExploreResult:
    """Run ``agent`` on env ``env`` for ``budget`` evaluations; log them to ``store``.

    Args:
        env: a registered env id (``AcceleratorDesign-v0`` or ``acceldse/AcceleratorDesign-v0``) or
            ``MultiAgentDesign``; or an env you built (``gym.make(...)``, a ``JointEnv``), run as it is
            (no ``env_kwargs``, no ``store``: a logged row is keyed by the id and arguments that build its env).
        agent: one of ``envs.agents.AGENTS``.
        budget: simulator evaluations (env steps); the same for every agent.
        seed: seeds the agent and the env.
        env_kwargs: the env's constructor arguments (JSON values).
        hparams: the agent's hyper-parameters (``AGENTS[agent].HPARAMS`` lists them and their defaults).
        store: a DuckDB result store; the run resumes from the evaluations it already holds.
        on_evaluation: called after each new evaluation is buffered (progress bars, tests).
        max_budget: the largest budget accepted (default ``envs.agents.MAX_BUDGET``; ``--max-budget``).
    """
    if not isinstance(env, str):
        for name, value in (("env_kwargs", env_kwargs), ("store", store)):
            if value:
                raise SpecError(f"{name} needs an env id: an env object is run as it was built", source=name,
                                value=str(value), accepted="explore(env_id, ..., env_kwargs=..., store=...)")
        return run_agent(env, agent, budget, seed, sink=on_evaluation, max_budget=max_budget, **(hparams or {}))
    env_kwargs = dict(env_kwargs or {})
    env_id = resolve_env_id(env)
    the_agent = make_agent(agent, env_id=env_id, **(hparams or {}))  # bad agent / hyper-parameter before any work
    check_budget(budget, max_budget)
    check_seed(seed)
    if store is not None:
        from acceldse.store import check_store_path

        check_store_path(store, create=True)  # before any work
    gym_env = make_env(env_id, env_kwargs)
    columns = run_columns(env_id, env_kwargs, agent, the_agent.hparams, seed, budget, env=gym_env)
    rid = run_key(columns)
    run = {"run_id": rid, **columns}
    schema = knob_schema(gym_env)
    if store is None:
        try:
            return run_agent(gym_env, the_agent, budget, seed, env_id=env_id, sink=on_evaluation,
                             max_budget=max_budget)
        finally:
            gym_env.close()
    from acceldse.store import ResultStore

    with ResultStore(store) as db:
        say_if_inputs_changed(db, run)
        buffer: list[Evaluation] = []
        last = [time.monotonic()]

        def flush() -> None:
            if buffer:
                import pandas as pd

                db.insert(EVALUATIONS_TABLE, pd.DataFrame(evaluation_rows(buffer, run)), key="eval_id", schema=schema)
                buffer.clear()
            last[0] = time.monotonic()

        def sink(ev: Evaluation) -> None:
            buffer.append(ev)
            if len(buffer) >= FLUSH_EVERY or time.monotonic() - last[0] > FLUSH_SECONDS:
                flush()
            if on_evaluation is not None:
                on_evaluation(ev)

        try:
            result = run_agent(gym_env, the_agent, budget, seed, env_id=env_id, sink=sink,
                               replay=logged_evaluations(db, rid), max_budget=max_budget)
        finally:
            flush()
            gym_env.close()
        log_run(db, run, result)
    return result


__all__ = ["AGENTS", "EVALUATIONS_TABLE", "RUNS_TABLE", "RUN_IDENTITY", "default_workload", "env_identity", "env_ids",
           "explore", "input_files", "knob_schema", "make_env", "read_log", "resolve_env_id", "run_columns", "run_id",
           "run_key", "workload_params"]
