"""The experience log: every evaluation of an ``acceldse.explore`` run as a row of the result store, keyed
by what determines it, read back to resume a killed run.

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
import json
import logging
from pathlib import Path
from typing import Any

import gymnasium as gym

from acceldse.env_catalog import env_identity, make_env, workload_params
from acceldse.envs.agents import Evaluation, ExploreResult
from acceldse.workloads.errors import SpecError

EVALUATIONS_TABLE = "explore_evaluations"
RUNS_TABLE = "explore_runs"


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


def say_if_inputs_changed(db: Any, run: dict[str, Any]) -> None:
    """A run with the same arguments but other file contents, workload parameters or version is a new
    run: say so on stderr (not when the store holds this very run: that is a resume)."""
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


def log_run(db: Any, run: dict[str, Any], result: ExploreResult) -> None:
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
