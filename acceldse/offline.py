"""Offline-RL datasets from the experience log: ``acceldse explore export``.

Every evaluation ``acceldse explore --store`` logged is one transition: the observation it was taken
from (``prev_obs``), the action, the reward, the observation after it and the episode flags. The export
writes those of one env and one env setting (constructor arguments) as the arrays D4RL's
``get_dataset`` returns, in one ``.npz`` (``numpy.load`` reads it): ``observations``, ``actions``,
``rewards``, ``next_observations``, ``terminals``, ``timeouts``, plus ``run_ids`` and ``steps`` (where each
transition comes from) and ``episode_starts``. Runs are in store order of ``run_id``, steps in order, so
episodes are contiguous; a run's last episode may be cut by its budget (neither terminal nor timeout).
A vector reward is logged (and exported) as the mean of its components.

``--dataset-format minari`` writes the same transitions as a Minari dataset (Farama's offline-RL format,
written and read by the ``minari`` package, ``pip install 'acceldse[offline]'``): one episode per logged
episode, with the env's id and constructor arguments in its spec, so ``dataset.recover_environment()``
builds the env the data came from.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.env_catalog import resolve_env_id
from acceldse.experience_log import read_log
from acceldse.workloads.errors import SpecError

FORMATS = ("d4rl", "minari")
"""Dataset formats ``--dataset-format`` accepts."""


def export_dataset(store: str | Path, out: str | Path, *, env: str | None = None, where: str | None = None,
                   fmt: str = "d4rl", dataset_id: str | None = None) -> dict[str, Any]:
    """Write the transitions of one env's logged evaluations in ``store`` to ``out`` (module docstring).

    ``fmt="d4rl"``: ``out`` is one ``.npz``. ``fmt="minari"``: ``out`` is a Minari datasets folder (made if
    missing) that receives the dataset ``dataset_id`` (default ``acceldse/<env name>/explore-v0``).

    Returns a summary: ``env``, ``transitions``, ``episodes``, ``runs``, ``observation_size``, ``path`` (and
    ``dataset_id`` for Minari).
    """
    if fmt not in FORMATS:
        raise SpecError("unknown dataset format", source="fmt", value=fmt, accepted=" | ".join(FORMATS))
    path = Path(out)
    if fmt == "d4rl" and path.suffix != ".npz":
        raise SpecError("the dataset is one .npz file", source="out", value=str(out),
                        accepted="a path ending in .npz")
    if fmt == "minari" and path.exists() and not path.is_dir():
        raise SpecError("a Minari dataset goes into a folder", source="out", value=str(out),
                        accepted="a folder (made if missing)")
    if not path.parent.is_dir():
        raise SpecError(f"folder {str(path.parent)!r} does not exist", source="out", value=str(out))
    data = transitions(store, env, where)
    summary = {"env": data["env"], "transitions": len(data["rewards"]), "episodes": int(data["episode_starts"].sum()),
               "runs": int(len(set(data["run_ids"]))), "observation_size": int(data["observations"].shape[1]),
               "path": str(path)}
    if fmt == "d4rl":
        np.savez_compressed(path, **{k: data[k] for k in ARRAYS})
    else:
        summary["dataset_id"] = write_minari(path, data, dataset_id)
    return summary


ARRAYS = ("observations", "actions", "rewards", "next_observations", "terminals", "timeouts", "run_ids", "steps",
          "episode_starts")
"""The arrays of a D4RL-style export."""


def transitions(store: str | Path, env: str | None = None, where: str | None = None) -> dict[str, Any]:
    """The ``ARRAYS`` of one env setting's logged evaluations, plus ``env``, ``env_kwargs`` and ``agents``."""
    frame = read_log(store, where)
    logged = sorted(frame.env.unique())
    if env is not None:
        env = resolve_env_id(env)
        frame = frame[frame.env == env]
    elif len(logged) > 1:
        raise SpecError("the log holds several envs; a dataset is one env's", source="env",
                        accepted=", ".join(logged))
    if frame.empty:
        raise SpecError("no logged evaluation matches", source="env" if env else "where", value=env or where,
                        accepted=", ".join(logged) or "(the log is empty)")
    if "prev_obs" not in frame or (frame.prev_obs.fillna("") == "").any():
        raise SpecError("the log has evaluations without the observation they were taken from (logged by an "
                        "older acceldse)", source="store", value=str(store), accepted="a log of this version")
    settings = sorted(frame.env_kwargs.unique())
    if len(settings) > 1:
        raise SpecError("the log holds runs of several env settings; a dataset is one env's", source="where",
                        value=settings, accepted="a filter that keeps one, e.g. \"env_kwargs LIKE '%resnet18%'\"")
    frame = frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    try:
        obs = np.array([json.loads(x) for x in frame.prev_obs], dtype=np.float32)
        next_obs = np.array([json.loads(x) for x in frame.obs], dtype=np.float32)
        actions = np.array([json.loads(x) for x in frame.action], dtype=np.int64)
    except ValueError:
        raise SpecError("the runs' observations or actions differ in size", source="store", value=str(store),
                        accepted="a log of one env setting") from None
    if obs.ndim != 2:
        raise SpecError("only flat Box observations export as arrays", source="env", value=frame.env.iloc[0])
    run_ids = frame.run_id.to_numpy(dtype=str)
    terminals = frame.terminated.to_numpy(dtype=bool)
    timeouts = frame.truncated.to_numpy(dtype=bool)
    ended = terminals | timeouts
    starts = np.ones(len(frame), dtype=bool)
    starts[1:] = (run_ids[1:] != run_ids[:-1]) | ended[:-1]
    return {"observations": obs, "actions": actions, "rewards": frame.reward.to_numpy(dtype=np.float32),
            "next_observations": next_obs, "terminals": terminals, "timeouts": timeouts, "run_ids": run_ids,
            "steps": frame.step.to_numpy(dtype=np.int64), "episode_starts": starts, "env": str(frame.env.iloc[0]),
            "env_kwargs": json.loads(settings[0]), "agents": sorted(frame.agent.unique())}


def write_minari(root: Path, data: dict[str, Any], dataset_id: str | None = None) -> str:
    """Write ``transitions(...)`` as the Minari dataset ``dataset_id`` into the Minari datasets folder ``root``
    (Minari's own writer, ``minari.create_dataset_from_buffers``, in its Arrow storage). Each episode's
    observations are the one its first step was taken from and the one after every step; an episode a
    run's budget cut short is marked truncated at its last step. Returns the dataset id."""
    try:
        import minari
        from minari.data_collector import EpisodeBuffer
    except ImportError:
        raise SpecError("the minari format needs the minari package", source="fmt", value="minari",
                        accepted="pip install 'acceldse[offline]' (or pip install minari)") from None
    from acceldse.env_catalog import make_env

    env_id = data["env"]
    name = env_id.split("/")[-1].rsplit("-v", 1)[0]
    dataset_id = dataset_id or f"acceldse/{name}/explore-v0"
    env = make_env(env_id, data["env_kwargs"])
    if env.spec is None:
        raise SpecError("Minari datasets are of registered Gymnasium envs", source="env", value=env_id,
                        accepted="AcceleratorDesign-v0, FpgaDesign-v0, Mapping-v0, CoExploration-v0")
    starts = np.flatnonzero(data["episode_starts"])
    ends = [*starts[1:], len(data["rewards"])]
    buffers = []
    for k, (a, z) in enumerate(zip(starts, ends)):
        truncations = data["timeouts"][a:z].copy()
        truncations[-1] |= not data["terminals"][z - 1]  # cut by the budget: the episode did not end in the MDP
        buffers.append(EpisodeBuffer(id=k, observations=np.concatenate([data["observations"][a:a + 1],
                                                                        data["next_observations"][a:z]]),
                                     actions=data["actions"][a:z], rewards=list(data["rewards"][a:z]),
                                     terminations=list(data["terminals"][a:z]), truncations=list(truncations)))
    previous = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root.resolve())
    try:
        with warnings.catch_warnings():  # Minari's advice to name an author, e-mail and code permalink
            warnings.filterwarnings("ignore", category=UserWarning, module="minari")
            minari.create_dataset_from_buffers(
                dataset_id, buffers, env=env, algorithm_name=", ".join(data["agents"]), data_format="arrow",
                description=f"acceldse explore log of {env_id} ({json.dumps(data['env_kwargs'])}): "
                            f"{len(set(data['run_ids']))} runs, one transition per simulator evaluation")
    except ValueError as err:  # an existing dataset, a bad id
        raise SpecError(str(err), source="dataset_id", value=dataset_id) from None
    finally:
        if previous is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous
    return dataset_id


__all__ = ["ARRAYS", "FORMATS", "export_dataset", "transitions", "write_minari"]
