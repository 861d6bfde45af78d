"""Wrappers: log every evaluation to a sink, and the SB3-facing form of an env.

Flattening a ``Dict`` observation to a ``Box`` and normalising observations are Gymnasium's own
``FlattenObservation`` and ``NormalizeObservation``; ``sb3_env`` applies them where needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from acceldse.workloads.errors import SpecError

RECORD_KEYS = ("env_id", "episode", "step", "seed", "design", "metrics", "reward", "terminated", "truncated",
               "targets_met")
"""Keys of every logged record."""


class EvaluationLogger(gym.Wrapper):
    """Log every evaluation (reset and step) as a record with ``RECORD_KEYS`` to ``sink``.

    Args:
        env: the env (its ``info`` must carry ``design`` and ``metrics``, as every acceldse env's does).
        sink: a list (records are appended), any object with ``append(record)``, or a callable
            ``sink(record)`` -- e.g. a result store's insert method. ``None`` keeps them in ``self.records``.

    ``frame()`` returns the records so far as a pandas DataFrame (``design`` and ``metrics`` as JSON text
    columns prefixed ``design.`` / ``metrics.`` flattened).
    """

    def __init__(self, env: gym.Env, sink: list[dict[str, Any]] | Callable[[dict[str, Any]], Any] | Any = None
                 ) -> None:
        super().__init__(env)
        if sink is not None and not callable(sink) and not hasattr(sink, "append"):
            raise SpecError("sink must be a list, an object with append() or a callable", source="sink",
                            value=type(sink).__name__)
        self.records: list[dict[str, Any]] = []
        self._emit: Callable[[dict[str, Any]], Any] = self.records.append if sink is None else \
            (sink.append if hasattr(sink, "append") else sink)
        self._episode = -1
        self._step = 0
        self._seed: int | None = None
        spec = env.spec
        self.env_id = spec.id if spec is not None else type(env.unwrapped).__name__

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._episode += 1
        self._step = 0
        self._seed = seed
        if "metrics" in info:
            self._log(info, None, False, False)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._step += 1
        self._log(info, float(reward), bool(terminated), bool(truncated))
        return obs, reward, terminated, truncated, info

    def _log(self, info: dict[str, Any], reward: float | None, terminated: bool, truncated: bool) -> None:
        self._emit({"env_id": self.env_id, "episode": self._episode, "step": self._step, "seed": self._seed,
                    "design": dict(info.get("design", {})), "metrics": dict(info.get("metrics", {})),
                    "reward": reward, "terminated": terminated, "truncated": truncated,
                    "targets_met": bool(info.get("targets_met", False))})

    def frame(self) -> Any:
        """The records logged to ``self.records`` as a DataFrame (one column per design knob and metric)."""
        import pandas as pd

        rows = []
        for r in self.records:
            row = {k: r[k] for k in RECORD_KEYS if k not in ("design", "metrics")}
            row.update({f"design.{k}": (v if isinstance(v, int | float | str) else json.dumps(v))
                        for k, v in r["design"].items()})
            row.update({f"metrics.{k}": v for k, v in r["metrics"].items()})
            rows.append(row)
        return pd.DataFrame(rows)


def sb3_env(env_id: str, *, normalize: bool = False, **kwargs: Any) -> gym.Env:
    """``gymnasium.make(env_id, **kwargs)`` in the form Stable-Baselines3 expects: a ``Dict`` observation is
    flattened to a ``Box`` (``FlattenObservation``), and ``normalize=True`` adds ``NormalizeObservation``."""
    env = gym.make(env_id, **kwargs)
    if isinstance(env.observation_space, gym.spaces.Dict):
        env = gym.wrappers.FlattenObservation(env)
    if normalize:
        env = gym.wrappers.NormalizeObservation(env)
    return env
