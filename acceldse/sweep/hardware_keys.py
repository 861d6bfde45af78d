"""Hardware axes: the dotted keys a sweep axis may set in the hardware YAML (``array.rows``,
``tiers.0.partition_bytes.ifmap``, a tier by name), writing a value at one, and the value the store
keeps for it."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from acceldse.simulator.specs.accelerator import _ARRAY_KEYS, _TOP_KEYS
from acceldse.simulator.specs.memory_tier import OPERAND_BUFFERS, TIER_KEYS
from acceldse.simulator.specs.renames import TIER_RENAMES
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import parse_bytes

SPECIAL_AXES = ("workload", "dataflow", "fidelity")
"""Axes that are not hardware keys (besides ``params.NAME``)."""


def hardware_keys(hardware: dict[str, Any]) -> list[str]:
    """Every dotted key a hardware axis may set on this base (tiers by index)."""
    keys = [k for k in sorted(_TOP_KEYS) if k not in ("version", "array", "tiers", "name", "description")]
    keys += [f"array.{k}" for k in sorted(_ARRAY_KEYS)]
    for i, _tier in enumerate(hardware.get("tiers") or []):
        keys += [f"tiers.{i}.{k}" for k in sorted(TIER_KEYS - {"name", "partition_bytes"})]
        keys += [f"tiers.{i}.partition_bytes.{op}" for op in OPERAND_BUFFERS]
    return keys


def resolve_key(hardware: dict[str, Any], key: str, *, valid: list[str] | None = None,
                source: str = "sweep spec") -> str:
    """The canonical dotted key (tier names replaced by indexes); unknown keys name the closest valid ones."""
    parts = key.split(".")
    if len(parts) > 2 and parts[0] == "tiers" and not parts[1].isdigit():
        names = [str(t.get("name") or t.get("kind")) for t in hardware.get("tiers") or []]
        if parts[1] in names:
            parts[1] = str(names.index(parts[1]))
    if len(parts) > 2 and parts[0] == "tiers" and parts[2] in TIER_RENAMES:  # version-1 names of tier keys
        parts[2] = TIER_RENAMES[parts[2]]
    canonical = ".".join(parts)
    valid = valid if valid is not None else hardware_keys(hardware)
    if canonical not in valid:
        close = difflib.get_close_matches(canonical, valid, n=3, cutoff=0.5)
        raise SpecError("unknown hardware key", source=source, key=f"axes.{key}",
                        accepted=("did you mean " + " or ".join(close) + "? " if close else "")
                        + "a dotted key such as array.rows, clock_mhz, tiers.0.partition_bytes.ifmap")
    return canonical


def set_key(hardware: dict[str, Any], key: str, value: Any) -> None:
    """Write ``value`` at dotted ``key`` (canonical form) into a hardware mapping.

    Containers along the path are copied before they are changed, so a shallow copy of the base
    mapping is enough to leave the base untouched (no deep copy per variant).
    """
    node: Any = hardware
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            child = node[int(part)]
            node[int(part)] = child = copy.copy(child)
        else:
            child = node.get(part)
            node[part] = child = copy.copy(child) if child is not None else {}
        node = child
    node[parts[-1]] = value


def axis_column_value(key: str, value: Any) -> Any:
    """What the store keeps for an axis value: byte sizes as integers, a hardware number written as
    text (``"10"``, ``"1e3"``) as the number the loader reads, the rest as given."""
    last = key.rsplit(".", 1)[-1]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if (last == "capacity_bytes" or last in OPERAND_BUFFERS) and not number:
        return parse_bytes(value, key=key, source="axes")
    if isinstance(value, str) and key not in SPECIAL_AXES and not key.startswith("params."):
        for kind in (int, float):
            try:
                return kind(value.strip())
            except ValueError:
                continue
    return value


__all__ = ["SPECIAL_AXES", "axis_column_value", "hardware_keys", "resolve_key", "set_key"]
