"""The design space an agent searches, read from an env's action space.

Every design env's action is one index per knob (``MultiDiscrete``; a ``Discrete`` or a ``Dict``
of those is flattened in key order). Search agents work on the index vector; ``DesignSpace``
turns it back into the env's action. A knob whose values are all numbers is *ordinal* (its
indices are ordered, so a neighbour is one step away and BO models it as an integer); any
other knob (a dataflow name) is *categorical*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from acceldse.workloads.errors import SpecError


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


@dataclass(frozen=True)
class DesignSpace:
    """Knob names, cardinalities and kinds of a discrete action space.

    Attributes:
        names: one name per index of the flat vector.
        nvec: number of values of each knob.
        ordinal: whether each knob's values are ordered numbers.
        space: the env's action space (``MultiDiscrete``, ``Discrete`` or ``Dict`` of them).
    """

    names: tuple[str, ...]
    nvec: np.ndarray
    ordinal: tuple[bool, ...]
    space: spaces.Space

    @classmethod
    def of(cls, env: Any) -> DesignSpace:
        """The design space of ``env`` (its ``unwrapped.knobs`` name the knobs when it has them)."""
        space = env.action_space
        parts: list[tuple[str, int]] = []
        if isinstance(space, spaces.Dict):
            for key, sub in space.spaces.items():
                parts += [(f"{key}.{n}", c) for n, c in _flat(sub, str(key))]
        else:
            parts = _flat(space, "knob")
        names = [n for n, _ in parts]
        nvec = np.array([c for _, c in parts], dtype=np.int64)
        knobs = getattr(env.unwrapped, "knobs", None)
        values = knobs if isinstance(knobs, dict) else getattr(knobs, "values", None)  # dict or Knobs
        ordinal = [True] * len(names)
        if isinstance(values, dict) and len(values) == len(names) and \
                all(len(v) == c for v, c in zip(values.values(), nvec)):
            names = [str(k) for k in values]
            ordinal = [all(_is_number(x) for x in v) for v in values.values()]
        return cls(tuple(names), nvec, tuple(ordinal), space)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def size(self) -> float:
        """Number of distinct designs."""
        return float(np.prod(self.nvec.astype(np.float64)))

    def action(self, vector: np.ndarray) -> Any:
        """The env action for an index vector."""
        vec = np.asarray(vector, dtype=np.int64)
        if isinstance(self.space, spaces.Discrete):
            return int(vec[0]) + int(self.space.start)
        if isinstance(self.space, spaces.MultiDiscrete):
            return (vec.reshape(self.space.nvec.shape) + self.space.start).astype(self.space.dtype)
        out, i = {}, 0
        for key, sub in self.space.spaces.items():
            n = 1 if isinstance(sub, spaces.Discrete) else int(np.prod(sub.nvec.shape))
            out[key] = DesignSpace((), np.zeros(0), (), sub).action(vec[i:i + n])
            i += n
        return out

    def vector(self, action: Any) -> np.ndarray:
        """The index vector of an env action (inverse of ``action``)."""
        if isinstance(self.space, spaces.Discrete):
            return np.array([int(action) - int(self.space.start)], dtype=np.int64)
        if isinstance(self.space, spaces.MultiDiscrete):
            return (np.asarray(action) - self.space.start).reshape(-1).astype(np.int64)
        return np.concatenate([DesignSpace((), np.zeros(0), (), sub).vector(action[key])
                               for key, sub in self.space.spaces.items()])


def _flat(space: spaces.Space, prefix: str) -> list[tuple[str, int]]:
    if isinstance(space, spaces.Discrete):
        return [(prefix, int(space.n))]
    if isinstance(space, spaces.MultiDiscrete):
        return [(f"{prefix}{i}", int(n)) for i, n in enumerate(space.nvec.reshape(-1))]
    raise SpecError("search agents need a discrete action space", source="env", value=type(space).__name__,
                    accepted="MultiDiscrete, Discrete, or a Dict of those")
