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


class DeadlockError(RuntimeError):
    """A simulated graph stopped making progress (names blocked contexts and channels)."""


def require_int(value: Any, *, key: str, source: str | None = None, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise a ``SpecError`` naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SpecError("must be an integer", source=source, key=key, value=value,
                        accepted=f"an integer >= {minimum}")
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise SpecError("must be an integer", source=source, key=key, value=value,
                        accepted=f"an integer >= {minimum}") from None
    if as_float != as_float or as_float in (float("inf"), float("-inf")) or as_float != int(as_float):
        raise SpecError("must be a whole number", source=source, key=key, value=value,
                        accepted=f"an integer >= {minimum}")
    result = int(as_float)
    if result < minimum:
        raise SpecError(f"must be >= {minimum}", source=source, key=key, value=value,
                        accepted=f"an integer >= {minimum}")
    return result


def require_float(value: Any, *, key: str, source: str | None = None, minimum: float = 0.0,
                  strictly_positive: bool = False) -> float:
    """Return ``value`` as a finite float >= ``minimum`` (or > 0) or raise a ``SpecError``."""
    bound = "> 0" if strictly_positive else f">= {minimum}"
    if isinstance(value, bool):
        raise SpecError("must be a number", source=source, key=key, value=value, accepted=f"a number {bound}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise SpecError("must be a number", source=source, key=key, value=value,
                        accepted=f"a number {bound}") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise SpecError("must be finite", source=source, key=key, value=value, accepted=f"a number {bound}")
    if (strictly_positive and result <= 0) or result < minimum:
        raise SpecError(f"must be {bound}", source=source, key=key, value=value, accepted=f"a number {bound}")
    return result
