"""Offline-RL datasets from the experience log: ``acceldse explore export``.

Every evaluation ``acceldse explore --store`` logged is one transition: the observation it was taken
from (``prev_obs``), the action, the reward, the observation after it and the episode flags. The export
writes those of one env and one env setting (constructor arguments) as the arrays D4RL's
``get_dataset`` returns, in one ``.npz`` (``numpy.load`` reads it): ``observations``, ``actions``,
``rewards``, ``next_observations``, ``terminals``, ``timeouts``, plus ``run_ids`` and ``steps`` (where each
transition comes from) and ``episode_starts``. Runs are in store order of ``run_id``, steps in order, so
episodes are contiguous; a run's last episode may be cut by its budget (neither terminal nor timeout).
A vector reward is logged (and exported) as the mean of its components.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.explore import read_log, resolve_env_id
from acceldse.workloads.errors import SpecError

FORMATS = ("d4rl",)
"""Dataset formats ``--format`` accepts."""


def export_dataset(store: str | Path, out: str | Path, *, env: str | None = None, where: str | None = None,
                   fmt: str = "d4rl") -> dict[str, Any]:
    """Write the transitions of one env's logged evaluations in ``store`` to ``out`` (module docstring).

    Returns a summary: ``env``, ``transitions``, ``episodes``, ``runs``, ``observation_size``, ``path``.
    """
    if fmt not in FORMATS:
        raise SpecError("unknown dataset format", source="--format", value=fmt, accepted=" | ".join(FORMATS))
    path = Path(out)
    if path.suffix != ".npz":
        raise SpecError("the dataset is one .npz file", source="--out", value=str(out),
                        accepted="a path ending in .npz")
    if not path.parent.is_dir():
        raise SpecError(f"folder {str(path.parent)!r} does not exist", source="--out", value=str(out))
    frame = read_log(store, where)
    logged = sorted(frame.env.unique())
    if env is not None:
        env = resolve_env_id(env)
        frame = frame[frame.env == env]
    elif len(logged) > 1:
        raise SpecError("the log holds several envs; a dataset is one env's", source="--env",
                        accepted=", ".join(logged))
    if frame.empty:
        raise SpecError("no logged evaluation matches", source="--env" if env else "--where", value=env or where,
                        accepted=", ".join(logged) or "(the log is empty)")
    if "prev_obs" not in frame or (frame.prev_obs.fillna("") == "").any():
        raise SpecError("the log has evaluations without the observation they were taken from (logged by an "
                        "older acceldse)", source="--store", value=str(store), accepted="a log of this version")
    settings = sorted(frame.env_kwargs.unique())
    if len(settings) > 1:
        raise SpecError("the log holds runs of several env settings; a dataset is one env's", source="--where",
                        value=settings, accepted="a filter that keeps one, e.g. \"env_kwargs LIKE '%resnet18%'\"")
    frame = frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    try:
        obs = np.array([json.loads(x) for x in frame.prev_obs], dtype=np.float32)
        next_obs = np.array([json.loads(x) for x in frame.obs], dtype=np.float32)
        actions = np.array([json.loads(x) for x in frame.action], dtype=np.int64)
    except ValueError:
        raise SpecError("the runs' observations or actions differ in size", source="--store", value=str(store),
                        accepted="a log of one env setting") from None
    if obs.ndim != 2:
        raise SpecError("only flat Box observations export as arrays", source="--env", value=frame.env.iloc[0])
    run_ids = frame.run_id.to_numpy(dtype=str)
    terminals = frame.terminated.to_numpy(dtype=bool)
    timeouts = frame.truncated.to_numpy(dtype=bool)
    ended = terminals | timeouts
    starts = np.ones(len(frame), dtype=bool)
    starts[1:] = (run_ids[1:] != run_ids[:-1]) | ended[:-1]
    np.savez_compressed(path, observations=obs, actions=actions, rewards=frame.reward.to_numpy(dtype=np.float32),
                        next_observations=next_obs, terminals=terminals, timeouts=timeouts, run_ids=run_ids,
                        steps=frame.step.to_numpy(dtype=np.int64), episode_starts=starts)
    return {"env": str(frame.env.iloc[0]), "transitions": len(frame), "episodes": int(starts.sum()),
            "runs": int(len(set(run_ids))), "observation_size": int(obs.shape[1]), "path": str(path)}


__all__ = ["FORMATS", "export_dataset"]
