"""Knobs, targets and rewards shared by the design environments.

A *knob* is a named design parameter with an ordered list of values; a design is one value per
knob. The action space of a design env is ``MultiDiscrete([len(values) ...])``: action ``a[i]`` is
the index of knob ``i``'s value. ``Knobs`` validates user overrides, decodes and encodes actions,
and turns a design into the normalised ``[0, 1]`` part of an observation.

Targets are upper bounds on metrics (``latency_us``, ``energy_uj`` ...). The spec-distance
penalty is ArchGym's ``sum_k max((x_k - T_k) / T_k, 0)``: 0 exactly when every target is met.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from acceldse.simulator.systolic.jit import kernel
from acceldse.workloads.errors import SpecError

_INT64 = np.dtype(np.int64)

LOG2_CLIP = 16.0
"""Observation features ``log2(x / ref)`` are clipped to +-16 (a factor 65,536) then divided by 16."""


class Knobs:
    """Ordered knobs with value lists (JSON-serialisable values: numbers or strings).

    Args:
        defaults: knob name -> default value list (defines the order and the accepted names).
        overrides: user value lists for some knobs (``knobs=`` argument of an env).
        check: optional ``check(name, value)`` raising ``SpecError`` for a value the env cannot use.
        source: argument name for error messages.
    """

    def __init__(self, defaults: Mapping[str, Sequence[Any]], overrides: Mapping[str, Sequence[Any]] | None = None,
                 *, check: Any = None, source: str = "knobs") -> None:
        values = {k: list(v) for k, v in defaults.items()}
        if overrides is not None and not isinstance(overrides, Mapping):
            raise SpecError("must be a mapping of knob name to a list of values", source=source,
                            value=overrides, accepted="e.g. {'rows': [16, 32, 64]}")
        for name, vals in (overrides or {}).items():
            if name not in values:
                raise SpecError("unknown knob", source=source, key=str(name), value=name,
                                accepted=", ".join(values))
            if isinstance(vals, str | bytes) or not isinstance(vals, Sequence) or not vals:
                raise SpecError("a knob needs a non-empty list of values", source=source, key=str(name),
                                value=vals, accepted="a list such as [16, 32, 64]")
            if len(set(map(str, vals))) != len(vals):
                raise SpecError("knob values must be distinct", source=source, key=str(name), value=list(vals))
            for v in vals:
                if check is not None:
                    check(name, v)
            values[name] = list(vals)
        self.values: dict[str, list[Any]] = values
        self.names: tuple[str, ...] = tuple(values)
        self.nvec = np.array([len(v) for v in values.values()], dtype=np.int64)
        self._feature_denominator = np.maximum(self.nvec - 1, 1)
        self._value_lists = tuple(values[name] for name in self.names)
        self._sizes: list[int] = self.nvec.tolist()

    def check_decode(self, action: Any, *, source: str = "action") -> tuple[np.ndarray, dict[str, Any]]:
        """``check_action`` and ``decode`` in one pass: (the int64 index array, the design).

        The common case (an int64 array of the right shape, every index in range, as ``MultiDiscrete.sample``
        gives) is checked on the Python list of its indices; anything else goes through ``check_action``."""
        if type(action) is np.ndarray and action.dtype is _INT64 and action.shape == self.nvec.shape:
            picks = action.tolist()
            if picks and min(picks) >= 0 and all(map(int.__lt__, picks, self._sizes)):
                return action.copy(), dict(zip(self.names, map(list.__getitem__, self._value_lists, picks)))
        index = self.check_action(action, source=source)
        return index, self.decode(index)

    def __len__(self) -> int:
        return len(self.names)

    def check_action(self, action: Any, *, source: str = "action") -> np.ndarray:
        """The action as an int64 index array, or a ``SpecError`` naming the knob that is out of range."""
        a = np.asarray(action)
        if a.shape != (len(self),) or a.dtype.kind not in "iu":
            if a.shape == (len(self),) and a.dtype.kind == "f" and np.all(a == np.round(a)):
                a = a.astype(np.int64)
            else:
                raise SpecError("action must be one integer index per knob", source=source,
                                value=a.tolist() if a.size < 64 else a.shape,
                                accepted=f"{len(self)} integers ({', '.join(self.names)})")
        if ((a < 0) | (a >= self.nvec)).any():
            i = int(np.flatnonzero((a < 0) | (a >= self.nvec))[0])
            raise SpecError("action index out of range", source=source, key=self.names[i], value=int(a[i]),
                            accepted=f"0..{self.nvec[i] - 1} (values {self.values[self.names[i]]})")
        return a.astype(np.int64)

    def decode(self, index: np.ndarray) -> dict[str, Any]:
        """Knob name -> value for an index array."""
        return {name: vals[i] for name, vals, i in zip(self.names, self._value_lists, index.tolist())}

    def encode(self, design: Mapping[str, Any], *, source: str = "design") -> np.ndarray:
        """The index array of a design (every knob given, each value in its list)."""
        out = np.zeros(len(self), dtype=np.int64)
        for i, name in enumerate(self.names):
            if name not in design:
                raise SpecError("design misses a knob", source=source, key=name, accepted=", ".join(self.names))
            vals = self.values[name]
            hits = [j for j, v in enumerate(vals) if v == design[name] or str(v) == str(design[name])]
            if not hits:
                raise SpecError("value not among the knob's values", source=source, key=name, value=design[name],
                                accepted=str(vals))
            out[i] = hits[0]
        extra = set(design) - set(self.names)
        if extra:
            raise SpecError("unknown knob", source=source, key=sorted(extra)[0], accepted=", ".join(self.names))
        return out

    def middle(self) -> np.ndarray:
        """Index of the middle value of every knob (the default starting design)."""
        return (self.nvec - 1) // 2

    def features(self, index: np.ndarray) -> np.ndarray:
        """Indices scaled to [0, 1] (0 for a knob with one value)."""
        return index / self._feature_denominator


def check_targets(targets: Mapping[str, float] | None, metrics: Sequence[str], *, source: str = "targets"
                  ) -> dict[str, float]:
    """Validate upper bounds: known metric names, finite positive numbers."""
    if targets is None:
        return {}
    if not isinstance(targets, Mapping):
        raise SpecError("must be a mapping of metric to upper bound", source=source, value=targets,
                        accepted="e.g. {'latency_us': 5000}")
    out = {}
    for key, value in targets.items():
        if key not in metrics:
            raise SpecError("unknown target", source=source, key=str(key), value=key, accepted=", ".join(metrics))
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise SpecError("target must be a positive number", source=source, key=str(key), value=value,
                            accepted="a finite number > 0")
        out[str(key)] = float(value)
    return out


def spec_penalty(metrics: Mapping[str, float], targets: Mapping[str, float]) -> float:
    """ArchGym's spec distance: ``sum_k max((x_k - T_k) / T_k, 0)`` (0 when every target is met; a bound
    of 0, such as a board without URAM, divides by 1)."""
    total = 0.0
    for k, t in targets.items():
        total += max((metrics[k] - t) / (t if t > 0 else 1.0), 0.0)
    return float(total)


def log_ratio_features(values: Sequence[float], refs: Sequence[float]) -> np.ndarray:
    """``log2(value / ref)`` clipped to +-``LOG2_CLIP`` and scaled to [-1, 1] (0 or less -> -1, inf or nan -> 1)."""
    return np.array([log_ratio_feature(v, r) for v, r in zip(values, refs)], dtype=np.float64)


@kernel
def log_ratio(value: float, ref: float) -> float:
    """One ``log_ratio_features`` value, a numba kernel: the vector env's compiled step (``envs.vector_step``)
    runs it; the single env runs its Python source, ``log_ratio_feature`` (numba is never loaded for it)."""
    if not value < math.inf:
        x = LOG2_CLIP
    elif ref <= 0:
        x = 0.0 if value <= 0 else LOG2_CLIP
    elif value <= 0:
        x = -LOG2_CLIP
    else:
        x = min(max(math.log2(value / ref), -LOG2_CLIP), LOG2_CLIP)
    return x / LOG2_CLIP


log_ratio_feature = log_ratio.py_func
"""``log_ratio`` as plain Python (the same source: the single and the vector env agree to the bit)."""
