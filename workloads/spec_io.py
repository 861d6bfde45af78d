"""Loading versioned YAML specs (and strict JSON files) and parsing sizes with units (shared by every package)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from acceldse.workloads.errors import MAX_BYTES, SpecError, require_float, require_int

SPEC_VERSION = 1

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024, "m": 1000**2, "mb": 1000**2,
            "mi": 1024**2, "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3,
            "t": 1000**4, "tb": 1000**4, "ti": 1024**4, "tib": 1024**4}


def parse_bytes(value: Any, *, key: str, source: str | None = None) -> int:
    """Parse a byte size: an integer, or a string such as ``64KiB``, ``520MB``, ``1.5TB``."""
    if isinstance(value, bool):
        raise SpecError("must be a size in bytes", source=source, key=key, value=value,
                        accepted="an integer or a string like '64KiB' / '520MB'")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = _SIZE.match(str(value))
        if not match or match.group(2).lower() not in _FACTORS:
            raise SpecError("must be a size in bytes", source=source, key=key, value=value,
                            accepted="an integer or a string like '64KiB' / '520MB'")
        number, unit = float(match.group(1)), match.group(2).lower()
    result = number * _FACTORS[unit]
    if result < 1 or result != result or result > MAX_BYTES:
        raise SpecError("size out of range", source=source, key=key, value=value,
                        accepted=f"1 byte to {MAX_BYTES:,} bytes (1 PiB)")
    return int(round(result))


def _not_text(value: Any, key: str, source: str | None) -> None:
    """A number written as a string (``rows: "32"`` in YAML, ``{"rows": "32"}`` from Python) is a wrong type,
    refused rather than read as a number (sizes such as ``64KiB`` are parsed elsewhere)."""
    if isinstance(value, str):
        raise SpecError("must be a number, not a string", source=source, key=key, value=value,
                        accepted="a number without quotes")


def spec_int(value: Any, *, key: str, source: str | None = None, **limits: Any) -> int:
    """``require_int`` of a value read from a spec, refusing a number written as text."""
    _not_text(value, key, source)
    return require_int(value, key=key, source=source, **limits)


def spec_float(value: Any, *, key: str, source: str | None = None, **limits: Any) -> float:
    """``require_float`` of a value read from a spec, refusing a number written as text."""
    _not_text(value, key, source)
    return require_float(value, key=key, source=source, **limits)


def path_exists(path: str | Path, *, file: bool = False) -> bool:
    """``Path.exists()`` (or ``is_file()``) that is False, not an exception, for a name the OS refuses
    (too long, a NUL byte, no permission)."""
    try:
        return Path(path).is_file() if file else Path(path).exists()
    except (OSError, ValueError):
        return False


PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The folder holding ``workloads/`` (the installed ``acceldse`` package, or the repository): YAML files
below it (the shipped presets) keep a parsed copy (``read_yaml``)."""
PARSED_COPIES = Path(__file__).resolve().parent / "__pycache__"
"""Where the parsed copies are kept (one JSON file per YAML file)."""


def read_yaml(path: str | Path, *, kind: str) -> Any:
    """Read and parse one YAML file (duplicate keys rejected); every problem is a ``SpecError``.

    A file shipped with the package (below ``PACKAGE_ROOT``) keeps its parsed data as JSON in
    ``PARSED_COPIES`` (named after its path, checked against its size and modification time, written
    only when JSON holds the data exactly), so reading a preset again imports no YAML parser."""
    path = Path(path)
    copy, stamp = _parsed_copy(path), None
    if copy is not None:
        try:
            stat = os.stat(path)
            stamp = [stat.st_size, stat.st_mtime_ns]  # before reading: a change while reading is a new stamp
            with open(copy) as file:
                kept = json.load(file)
            if kept["stat"] == stamp:
                return kept["data"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(f"cannot read {kind} file: {err.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise SpecError(f"{kind} file is not UTF-8 text", source=str(path)) from None
    data = safe_load(text, source=str(path))
    if copy is not None and stamp is not None and _json_exact(data):
        _keep(copy, stamp, data)
    return data


def _parsed_copy(path: Path) -> Path | None:
    """Where the parsed copy of a shipped YAML file is kept, else None."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not resolved.is_relative_to(PACKAGE_ROOT):
        return None
    name = resolved.relative_to(PACKAGE_ROOT).as_posix().replace("/", "--")
    return PARSED_COPIES / f"{name}.json"


def _keep(target: Path, stamp: list[int], data: Any) -> None:
    """Write the parsed copy (atomically; nothing when the folder cannot be written)."""
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(exist_ok=True)
        temporary.write_text(json.dumps({"stat": stamp, "data": data}))
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _json_exact(value: Any) -> bool:
    """Whether JSON gives ``value`` back exactly (str keys; None, bool, int, float, str, lists, dicts)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_json_exact(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _json_exact(v) for k, v in value.items())
    return False


def safe_load(text: str, *, source: str) -> Any:
    """``yaml.safe_load`` that rejects duplicate keys and reports errors as a ``SpecError`` with line and column."""
    import yaml

    from acceldse.workloads.strict_yaml import StrictLoader

    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise SpecError(f"malformed YAML{where}: {problem}", source=source) from None
    except RecursionError:
        raise SpecError("YAML nested too deeply", source=source) from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_json(text: str, *, source: str) -> Any:
    """``json.loads`` that rejects a key given twice in one object (``json`` keeps the last one silently)
    and reports every problem as a ``SpecError``."""
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as dup:
        raise SpecError("duplicate key", source=source, key=dup.key, accepted="each key once per object") from None
    except json.JSONDecodeError as err:
        raise SpecError(f"invalid JSON: {err}", source=source) from None
    except RecursionError:
        raise SpecError("JSON nested too deeply", source=source) from None


def load_yaml(path: str | Path, *, kind: str, versions: tuple[int, ...] = (SPEC_VERSION,)) -> dict[str, Any]:
    """Read a YAML mapping with a supported ``version`` (one of ``versions``); every problem is a
    ``SpecError``."""
    return _spec_mapping(read_yaml(path, kind=kind), kind=kind, source=str(path), versions=versions)


def parse_yaml(text: str, *, kind: str, source: str, versions: tuple[int, ...] = (SPEC_VERSION,)) -> dict[str, Any]:
    """Parse YAML text holding a spec mapping with a supported ``version``."""
    return _spec_mapping(safe_load(text, source=source), kind=kind, source=source, versions=versions)


def _spec_mapping(data: Any, *, kind: str, source: str, versions: tuple[int, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SpecError(f"a {kind} spec must be a YAML mapping", source=source, value=type(data).__name__,
                        accepted="a mapping with 'version' and the spec's keys")
    check_version(data, kind=kind, source=source, versions=versions)
    return data


def check_version(data: dict[str, Any], *, kind: str, source: str,
                  versions: tuple[int, ...] = (SPEC_VERSION,)) -> None:
    """Every spec carries ``version``; only ``versions`` (the current one, last, and any older one
    still read) are understood."""
    version = data.get("version")
    if version not in versions:
        raise SpecError(f"unsupported {kind} spec version", source=source, key="version", value=version,
                        accepted=" or ".join(f"version: {v}" for v in reversed(versions)))


def section(data: dict[str, Any], key: str, *, source: str, required: bool = True) -> dict[str, Any]:
    """A nested mapping under ``key`` (empty when optional and absent)."""
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise SpecError("missing or not a mapping", source=source, key=key, value=value,
                        accepted=f"a mapping under '{key}:'")
    return value


def reject_unknown(data: dict[str, Any], allowed: set[str], *, source: str, prefix: str = "") -> None:
    """Raise on keys not in ``allowed`` (typos must not be silently ignored)."""
    for key in data:
        if key not in allowed:
            raise SpecError("unknown key", source=source, key=f"{prefix}{key}", accepted=", ".join(sorted(allowed)))


def to_yaml_text(data: dict[str, Any]) -> str:
    """A spec mapping as YAML text, keys in the order given (what ``to_yaml()`` of a spec returns)."""
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False))


def apply_changes(data: dict[str, Any], changes: dict[str, Any], *, source: str) -> dict[str, Any]:
    """``data`` (a spec mapping, changed in place and returned) with ``changes`` written in: a key may
    be dotted (``array.rows``); a mapping value merges key by key into a mapping; a list entry
    (a memory tier, a storage level) is named by its ``name`` or its index; anything else is
    replaced. The caller validates the result with the spec's own loader."""
    for key, value in changes.items():
        _merge(data, str(key).split("."), value, source=source)
    return data


def _merge(node: Any, path: list[str], value: Any, *, source: str, done: str = "") -> None:
    head, rest = path[0], path[1:]
    where = f"{done}.{head}" if done else head
    key: Any = head
    if isinstance(node, list):
        names = [str(t.get("name") or t.get("kind")) if isinstance(t, dict) else "" for t in node]
        if head in names:
            key = names.index(head)
        elif head.isdigit() and int(head) < len(node):
            key = int(head)
        else:
            raise SpecError("no such entry", source=source, key=where,
                            accepted="a name (" + ", ".join(names) + f") or an index below {len(node)}")
        current = node[key]
    elif isinstance(node, dict):
        current = node.get(key)
    else:
        raise SpecError("not a mapping", source=source, key=done, value=node)
    if rest:
        if current is None:
            node[key] = current = {}
        _merge(current, rest, value, source=source, done=where)
    elif isinstance(value, dict) and isinstance(current, dict | list):
        for sub, sub_value in value.items():
            _merge(current, str(sub).split("."), sub_value, source=source, done=where)
    else:
        node[key] = value
