"""Error types shared by every package (the lowest package owns them).

A ``SpecError`` is what a user sees for bad input: it names the source (file or
argument), the key path inside it, the offending value and what would be accepted.
"""

from __future__ import annotations

from typing import Any


class SpecError(ValueError):
    """Bad user input: a spec file, a CLI flag or an API argument.

    Args:
        message: what is wrong, in one sentence.
        source: the file path or argument name the value came from.
        key: the key path inside the source (``"array.rows"``, ``"layers[3].stride"``).
        value: the bad value.
        accepted: what would be accepted (``"an integer >= 1"``).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        key: str | None = None,
        value: Any = None,
        accepted: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.key = key
        self.value = value
        self.accepted = accepted
        parts = []
        if source:
            parts.append(str(source))
        if key:
            parts.append(key)
        where = ": ".join(parts)
        text = f"{where}: {message}" if where else message
        if value is not None:
            text += f" (got {value!r})"
        if accepted:
            text += f"; expected {accepted}"
        super().__init__(text)


    def named(self, source: str) -> SpecError:
        """The same error with its source renamed (the CLI names its flag for a Python argument)."""
        return SpecError(self.message, source=source, key=self.key, value=self.value, accepted=self.accepted)


class DeadlockError(RuntimeError):
    """A simulated graph stopped making progress (names blocked contexts and channels)."""


# Ranges. Every number a user gives is range-checked where it is loaded, so that no later product
# (bytes / bandwidth, latency x folds, MACs x energy) leaves the exact range of int64 / float64.
# The bounds are far beyond any real design and far inside the overflow limits.
MAX_INT = 2**53
"""Default upper bound of ``require_int``: integers beyond it are not exact as floats."""
MAX_FLOAT = 1e18
"""Default upper bound of ``require_float``."""
MAX_BYTES = 2**50
"""Largest memory or tensor size, bytes (1 PiB)."""
MAX_ARRAY_SIDE = 2**16
"""Most PEs along one side of an array, and most cores."""
MIN_BW_BYTES_PER_CYCLE = 1e-3
MAX_BW_BYTES_PER_CYCLE = 1e9
MAX_LATENCY_CYCLES = 2**30
MIN_CLOCK_MHZ = 1e-3
"""Slowest clock, MHz (1 kHz): below it latencies overflow a float."""
MAX_CLOCK_MHZ = 1e6
MAX_ENERGY_PJ = 1e9
"""Largest energy per action or per byte, pJ."""
MAX_AREA_MM2 = 1e7
MAX_SEED = 2**32 - 1
"""Largest random seed: NumPy's legacy, Optuna's and Stable-Baselines3's seeds are 32-bit."""


def require_seed(value: Any, *, key: str = "seed", source: str | None = None) -> int:
    """``value`` as a seed in [0, ``MAX_SEED``], or a ``SpecError`` naming ``key`` (never NumPy's bare ValueError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise SpecError("seed out of range", source=source, key=key, value=value,
                        accepted=f"an integer in [0, {MAX_SEED:,}]")
    return value


def require_int(value: Any, *, key: str, source: str | None = None, minimum: int = 1,
                maximum: int = MAX_INT) -> int:
    """Return ``value`` as an int in [``minimum``, ``maximum``] or raise a ``SpecError`` naming ``key``."""
    accepted = f"an integer in [{minimum:,}, {maximum:,}]"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SpecError("must be an integer", source=source, key=key, value=value, accepted=accepted)
    if isinstance(value, int):
        as_float = float(min(max(value, -MAX_INT * 4), MAX_INT * 4))  # no OverflowError on huge ints
    else:
        try:
            as_float = float(value)
        except (TypeError, ValueError, OverflowError):
            raise SpecError("must be an integer", source=source, key=key, value=value, accepted=accepted) from None
    if as_float != as_float or as_float in (float("inf"), float("-inf")) or as_float != int(as_float):
        raise SpecError("must be a whole number", source=source, key=key, value=value, accepted=accepted)
    result = value if isinstance(value, int) else int(as_float)
    if result < minimum:
        raise SpecError(f"must be >= {minimum:,}", source=source, key=key, value=value, accepted=accepted)
    if result > maximum:
        raise SpecError(f"must be <= {maximum:,}", source=source, key=key, value=value, accepted=accepted)
    return result


def require_float(value: Any, *, key: str, source: str | None = None, minimum: float = 0.0,
                  strictly_positive: bool = False, maximum: float = MAX_FLOAT) -> float:
    """Return ``value`` as a finite float >= ``minimum`` (or > 0) and <= ``maximum`` or raise a ``SpecError``."""
    bound = ("> 0" if strictly_positive else f">= {minimum:g}") + f" and <= {maximum:g}"
    if isinstance(value, bool):
        raise SpecError("must be a number", source=source, key=key, value=value, accepted=f"a number {bound}")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise SpecError("must be a number", source=source, key=key, value=value,
                        accepted=f"a number {bound}") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise SpecError("must be finite", source=source, key=key, value=value, accepted=f"a number {bound}")
    if (strictly_positive and result <= 0) or result < minimum or result > maximum:
        raise SpecError(f"must be {bound}", source=source, key=key, value=value, accepted=f"a number {bound}")
    return result
