"""``acceldse.explore``: run one search agent on a design env under an evaluation budget, with
every evaluation logged to the result store (the experience log) and resumption of a killed run.

Example::

    import acceldse
    res = acceldse.explore("AcceleratorDesign-v0", "bo", budget=200, seed=0,
                           env_kwargs={"workload": "resnet18", "targets": {"latency_us": 900}},
                           store="runs.duckdb")
    res.best_design, res.first_met_at

Store tables: ``explore_evaluations`` (one row per evaluation, key ``eval_id``) and
``explore_runs`` (one row per finished run, key ``run_id``). A run is identified by its env id,
env kwargs, agent, hyper-parameters, seed and budget, the content of every file an env argument
names (a hardware YAML, an ONNX or CSV workload, a proxy), the parameters every workload is built
with (``workload_params``: a zoo network's defaults written out), the env's identity (``env_identity``:
workload and hardware with digests of their content) and the acceldse version; every row
carries these values and ``run_id`` is computed from them. Rerunning it with the same store
answers the logged evaluations from the store and evaluates only the rest; when a file, a
workload's parameters or the version changed, the rerun is a new run (a new ``run_id``, said on
stderr), never mixed with the old one. Knob columns (``knob.<name>``) take the type of the knob's whole value list.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from acceldse.envs.agents import AGENTS, Evaluation, ExploreResult, JointEnv, check_budget, make_agent
from acceldse.envs.agents import explore as run_agent
from acceldse.workloads.errors import SpecError, require_int

EVALUATIONS_TABLE = "explore_evaluations"
RUNS_TABLE = "explore_runs"
MULTI_AGENT_IDS = ("MultiAgentDesign", "acceldse/MultiAgentDesign-v0")
FLUSH_EVERY = 256
FLUSH_SECONDS = 2.0
"""Evaluations are written in one store transaction per ``FLUSH_EVERY`` rows or ``FLUSH_SECONDS``,
whichever comes first (a kill loses at most those; a rerun evaluates them again)."""


def env_ids() -> list[str]:
    """Registered acceldse env ids (single-agent) plus the multi-agent one."""
    from acceldse import envs  # noqa: F401 - registers the acceldse namespace

    return sorted(k for k in gym.registry if k.startswith("acceldse/")) + [MULTI_AGENT_IDS[0]]


def resolve_env_id(env_id: str) -> str:
    if env_id in MULTI_AGENT_IDS:
        return MULTI_AGENT_IDS[0]
    known = env_ids()
    for candidate in (env_id, f"acceldse/{env_id}"):
        if candidate in known or candidate in gym.registry:
            return candidate
    raise SpecError("unknown env", source="env", value=env_id, accepted=", ".join(known))


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """The env ``env_id`` built with ``env_kwargs`` (a ``JointEnv`` for ``MultiAgentDesign``).

    ``env_kwargs["proxy"]`` (a file from ``acceldse proxy train --out``) replaces the env's simulator
    with that learned cost model (the design envs take it as a constructor argument).
    """
    env_id = resolve_env_id(env_id)
    kwargs = dict(env_kwargs or {})
    accepted = env_arguments(env_id)
    unknown = sorted(k for k in kwargs if accepted is not None and k not in accepted)
    if unknown:
        raise SpecError(f"unknown argument of {env_id}", source="env_kwargs", value=unknown[0],
                        accepted=", ".join(accepted or ()))
    if "max_episode_steps" in kwargs:  # gym.make's own argument: it raises a bare ValueError on a bad one
        require_int(kwargs["max_episode_steps"], key="max_episode_steps", source="env_kwargs", maximum=MAX_STEPS)
    try:
        if env_id == MULTI_AGENT_IDS[0]:
            from acceldse import envs

            env: gym.Env = JointEnv(envs.multi_agent_env(**kwargs))
        else:
            env = gym.make(env_id, disable_env_checker=True, **kwargs)
    except TypeError as err:  # an argument the env's constructor does not take
        raise SpecError(f"bad env argument: {err}", source="env_kwargs", value=sorted(kwargs),
                        accepted=f"the arguments documented for {env_id} (acceldse list envs)") from None
    return env


MAX_STEPS = 10**9
"""Largest ``max_episode_steps`` accepted."""
GYM_MAKE_ARGUMENTS = ("max_episode_steps",)
"""Env arguments ``gym.make`` takes itself (not passed to the env's constructor)."""


def env_arguments(env_id: str) -> tuple[str, ...] | None:
    """The keyword arguments the env ``env_id`` takes (its constructor's, and ``GYM_MAKE_ARGUMENTS`` for a
    Gymnasium env); ``None`` when its constructor takes any keyword."""
    env_id = resolve_env_id(env_id)
    if env_id == MULTI_AGENT_IDS[0]:
        from acceldse.envs.accelerator_design import AcceleratorDesignEnv
        from acceldse.envs.multi_agent import MultiAgentDesign

        creators: list[Callable[..., Any]] = [MultiAgentDesign.__init__, AcceleratorDesignEnv.__init__]
        names: list[str] = []
    else:
        from gymnasium.envs.registration import load_env_creator

        entry = gym.spec(env_id).entry_point
        creators = [entry if callable(entry) else load_env_creator(entry)]
        names = list(GYM_MAKE_ARGUMENTS)
    for index, creator in enumerate(creators):
        for param in inspect.signature(creator).parameters.values():
            if param.kind is param.VAR_KEYWORD and index == len(creators) - 1:
                return None  # the last constructor takes any keyword
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY) and param.name != "self":
                names.append(param.name)
    return tuple(dict.fromkeys(names))


RUN_IDENTITY = ("env", "env_kwargs", "agent", "hparams", "seed", "budget", "inputs_sha256", "workload_params",
                "env_identity", "acceldse_version")
"""The stored run columns ``run_id`` is computed from (``inputs_sha256``: JSON, file named by an env
argument -> its SHA-256; ``workload_params``: JSON, ``workload_params()``; ``env_identity``: JSON,
``env_identity()``)."""


def input_files(env_kwargs: dict[str, Any]) -> dict[str, str]:
    """Every env argument that names an existing file -> the SHA-256 of its content (a file in a
    ``workloads`` list is ``workloads.<index>``)."""
    named: list[tuple[str, Any]] = sorted(env_kwargs.items())
    listed = env_kwargs.get("workloads")
    if isinstance(listed, list | tuple):
        named += [(f"workloads.{i}", e.get("name") if isinstance(e, dict) else e) for i, e in enumerate(listed)]
    out = {}
    for key, value in named:
        if isinstance(value, str | Path) and str(value) and Path(value).is_file():
            out[key] = hashlib.sha256(Path(value).read_bytes()).hexdigest()
    return out


def default_workload(env_id: str) -> Any:
    """The workload env ``env_id`` builds when ``env_kwargs`` names none (``None``: it takes no workload)."""
    from gymnasium.envs.registration import load_env_creator

    env_id = resolve_env_id(env_id)
    spec = gym.spec("acceldse/AcceleratorDesign-v0" if env_id == MULTI_AGENT_IDS[0] else env_id)
    creator = spec.entry_point if callable(spec.entry_point) else load_env_creator(spec.entry_point)
    default = getattr(creator, "DEFAULT_WORKLOAD", None)
    if default is None:
        param = inspect.signature(creator).parameters.get("workload")
        default = param.default if param is not None and param.default is not inspect.Parameter.empty else None
    return default


def workload_params(env_id: str, env_kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Each workload of a run with the parameters it is built with: ``{"name": ..., **params}``, a zoo
    network's defaults written out (``[{"name": "bert_base", "batch": 1, "layers": 1, "seq_len": 512,
    ...}]``; ``[]`` for an env without workloads). What the run's rows were computed from, so a
    changed default is a new run."""
    from acceldse.api import resolved_params

    listed = env_kwargs.get("workloads")
    if listed is not None:
        entries = list(listed) if isinstance(listed, list | tuple) else [listed]
    else:
        one = env_kwargs.get("workload", default_workload(env_id))
        entries = [] if one is None else [one]
    out = []
    for entry in entries:
        name, given = (entry.get("name"), {k: v for k, v in entry.items() if k != "name"}) \
            if isinstance(entry, dict) else (entry, {})
        name = str(name) if isinstance(name, Path) else name
        params = resolved_params(name, given) if isinstance(name, str) else given
        out.append({"name": name, **params})
    return out


def env_identity(env: gym.Env) -> dict[str, Any]:
    """What a built env evaluates, by content: its ``identity`` (workload and hardware names with digests of
    their content, fidelity ...; ``{}`` for an env without one)."""
    identity = getattr(getattr(env, "unwrapped", env), "identity", None)
    return dict(identity) if isinstance(identity, dict) else {}


def run_id(env_id: str, env_kwargs: dict[str, Any], agent: str, hparams: dict[str, Any], seed: int,
           budget: int) -> str:
    """A stable id of one run: everything that determines its evaluations (``RUN_IDENTITY``)."""
    return run_key(run_columns(env_id, env_kwargs, agent, hparams, seed, budget))


def run_columns(env_id: str, env_kwargs: dict[str, Any], agent: str, hparams: dict[str, Any], seed: int,
                budget: int, env: gym.Env | None = None) -> dict[str, Any]:
    """The ``RUN_IDENTITY`` values of a run, as stored in each of its rows (``env``: the env built from
    ``env_id`` and ``env_kwargs``, else built here)."""
    from acceldse.store import acceldse_version

    if env is None:
        built = make_env(env_id, env_kwargs)
        try:
            identity = env_identity(built)
        finally:
            built.close()
    else:
        identity = env_identity(env)
    return {"env": env_id, "env_kwargs": json.dumps(env_kwargs, sort_keys=True, default=str), "agent": agent,
            "hparams": json.dumps(hparams, sort_keys=True, default=str), "seed": seed, "budget": budget,
            "inputs_sha256": json.dumps(input_files(env_kwargs), sort_keys=True),
            "workload_params": json.dumps(workload_params(env_id, env_kwargs), sort_keys=True, default=str),
            "env_identity": json.dumps(identity, sort_keys=True, default=str),
            "acceldse_version": acceldse_version()}


def run_key(columns: dict[str, Any]) -> str:
    """``run_id`` from the stored ``RUN_IDENTITY`` values."""
    return hashlib.sha1(json.dumps([str(columns[k]) for k in RUN_IDENTITY]).encode()).hexdigest()[:16]


def knob_schema(env: gym.Env) -> dict[str, str]:
    """``knob.<name>`` -> the SQL type of the knob's whole value list (never guessed from one batch)."""
    from acceldse.store import sql_type

    knobs = getattr(env.unwrapped, "knobs", None) or getattr(env, "knobs", None)
    if not isinstance(knobs, dict):
        return {}
    return {f"knob.{k}": sql_type(v) for k, v in knobs.items() if isinstance(v, list | tuple)}


def evaluation_rows(evals: list[Evaluation], run: dict[str, Any]) -> list[dict[str, Any]]:
    """Store rows: run columns, the evaluation, ``knob.<name>`` and ``metric.<name>`` columns."""
    rows = []
    for ev in evals:
        row = {"eval_id": f"{run['run_id']}:{ev.step:07d}", **run, "step": ev.step, "reward": ev.reward,
               "targets_met": ev.targets_met, "terminated": ev.terminated, "truncated": ev.truncated,
               "action": json.dumps(ev.action), "design": json.dumps(ev.design, sort_keys=True),
               "metrics": json.dumps(ev.metrics, sort_keys=True), "obs": json.dumps(ev.obs), "eval_s": ev.eval_s,
               "feasible": ev.feasible, "network": json.dumps(ev.network, sort_keys=True) if ev.network else "",
               "prev_obs": json.dumps(ev.prev_obs) if ev.prev_obs is not None else ""}
        row.update({f"knob.{k}": v for k, v in ev.design.items() if isinstance(v, int | float | str | bool)})
        row.update({f"metric.{k}": v for k, v in ev.metrics.items()})
        rows.append(row)
    return rows


def read_log(store: str | Path, where: str | None = None) -> Any:
    """The experience log of the store file ``store`` (rows matching ``where``) as a DataFrame."""
    from acceldse.store import ResultStore

    with ResultStore(store, create=False) as db:
        if EVALUATIONS_TABLE not in db.tables():
            raise SpecError("no experience log in this store", source="store", value=str(store),
                            accepted="a store written by 'acceldse explore --store'")
        return db.read(EVALUATIONS_TABLE, where)


def logged_evaluations(store: Any, rid: str) -> list[Evaluation]:
    """The evaluations a previous (possibly killed) run ``rid`` logged, in step order, gap-free."""
    if EVALUATIONS_TABLE not in store.tables():
        return []
    frame = store.read(EVALUATIONS_TABLE, where=f"run_id = '{rid}'").sort_values("step")
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        if int(row.step) != i:
            break
        network = getattr(row, "network", "")
        prev = getattr(row, "prev_obs", "")
        out.append(Evaluation(step=i, action=json.loads(row.action), design=json.loads(row.design),
                              metrics=json.loads(row.metrics), reward=float(row.reward),
                              targets_met=bool(row.targets_met), terminated=bool(row.terminated),
                              truncated=bool(row.truncated), obs=json.loads(row.obs), eval_s=0.0,
                              feasible=bool(getattr(row, "feasible", True)),
                              network=json.loads(network) if isinstance(network, str) and network else None,
                              prev_obs=json.loads(prev) if isinstance(prev, str) and prev else None))
    return out


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
        _say_if_inputs_changed(db, run)
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
        _log_run(db, run, result)
    return result


def _say_if_inputs_changed(db: Any, run: dict[str, Any]) -> None:
    """A run with the same arguments but other file contents, workload parameters or version is a new
    run: say so on stderr (not when the store holds this very run: that is a resume)."""
    import logging

    if EVALUATIONS_TABLE not in db.tables():
        return
    if db.query(f"SELECT count(*) AS n FROM {EVALUATIONS_TABLE} WHERE run_id = ?", [run["run_id"]])["n"].iloc[0]:
        return
    same = ("env", "env_kwargs", "agent", "hparams", "seed", "budget")
    have = set(db.columns(EVALUATIONS_TABLE))
    if not {"inputs_sha256", "acceldse_version", *same} <= have:
        return
    where = " AND ".join(f"{k} = ?" for k in same)
    params = "".join(f", {k}" for k in ("workload_params", "env_identity") if k in have)
    before = db.query(f"SELECT DISTINCT run_id, inputs_sha256, acceldse_version{params} FROM {EVALUATIONS_TABLE} "
                      f"WHERE {where} AND run_id <> ?", [run[k] for k in same] + [run["run_id"]])
    for row in before.itertuples(index=False):
        changed = [k for k, v in json.loads(run["inputs_sha256"]).items()
                   if json.loads(row.inputs_sha256).get(k) != v]
        if getattr(row, "workload_params", run["workload_params"]) != run["workload_params"]:
            changed.append(f"workload parameters {row.workload_params} -> {run['workload_params']}")
        if getattr(row, "env_identity", run["env_identity"]) != run["env_identity"]:
            before, now = json.loads(row.env_identity), json.loads(run["env_identity"])
            changed.append("the env's " + ", ".join(k for k in sorted({*before, *now}) if before.get(k) != now.get(k)))
        if row.acceldse_version != run["acceldse_version"]:
            changed.append(f"acceldse version {row.acceldse_version} -> {run['acceldse_version']}")
        logging.getLogger("acceldse.explore").warning(
            "the store holds run %s with the same arguments but other inputs (%s changed): this is a new run %s, "
            "not a resume", row.run_id, ", ".join(changed) or "inputs", run["run_id"])


def _log_run(db: Any, run: dict[str, Any], result: ExploreResult) -> None:
    import pandas as pd

    summary = result.summary()
    best = result.best_reward if result.best_reward is not None else float("nan")
    row = {**run, "evaluations": result.evaluations, "replayed": result.replayed, "best_reward": best,
           "feasible_rate": result.feasible_rate,
           "hypervolume": result.hypervolume if result.hypervolume is not None else float("nan"),
           "best_design": json.dumps(summary["best_design"], sort_keys=True),
           "best_metrics": json.dumps(summary["best_metrics"], sort_keys=True), "targets_met": result.targets_met,
           "first_met_at": result.first_met_at if result.first_met_at is not None else -1, "wall_s": result.wall_s}
    db.insert(RUNS_TABLE, pd.DataFrame([row]), key="run_id")


__all__ = ["AGENTS", "EVALUATIONS_TABLE", "RUNS_TABLE", "RUN_IDENTITY", "default_workload", "env_identity", "env_ids",
           "explore", "input_files", "knob_schema", "make_env", "read_log", "run_columns", "run_id", "run_key",
           "workload_params"]
