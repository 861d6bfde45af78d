"""Timeloop mapping list (``map.yaml``) -> ``Mapping``.

Entries: ``{target, type: temporal|spatial, factors: "C1 M8 ...", permutation: MCRSNPQ}`` and
``{target, type: datatype|bypass, keep: [...], bypass: [...]}``. The permutation is listed
innermost first (we store outermost first); for ``spatial``, ``split: k`` puts the first k dims
of the permutation on X and the rest on Y. Every dim must appear in every factors string.
"""

from __future__ import annotations

import re
from typing import Any

from acceldse.mapper.mapping import LevelMapping, Mapping
from acceldse.mapper.timeloop.problem import OUR_DIM, TIMELOOP_DIMS
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.workloads.errors import SpecError

_TENSOR = {"Inputs": "inputs", "Weights": "weights", "Outputs": "outputs"}
_ENTRY_KEYS = {"target", "type", "factors", "permutation", "split", "keep", "bypass"}
_FACTOR = re.compile(r"^([A-Z])(\d+)$")


def _factors(text: Any, *, source: str, key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for tok in str(text).split():
        m = _FACTOR.match(tok.replace("=", ""))
        if not m or m.group(1) not in TIMELOOP_DIMS or int(m.group(2)) < 1:
            raise SpecError("bad factor", source=source, key=f"{key}.factors", value=tok,
                            accepted="<dim><factor> with dims " + " ".join(TIMELOOP_DIMS))
        out[m.group(1)] = int(m.group(2))
    if set(out) != set(TIMELOOP_DIMS):
        raise SpecError("every dim must have a factor", source=source, key=f"{key}.factors", value=text,
                        accepted=" ".join(TIMELOOP_DIMS))
    return out


def _permutation(text: Any, *, source: str, key: str) -> list[str]:
    perm = list(str(text or ""))
    if any(d not in TIMELOOP_DIMS for d in perm) or len(set(perm)) != len(perm):
        raise SpecError("permutation must list distinct dims, innermost first", source=source,
                        key=f"{key}.permutation", value=text, accepted="e.g. CMRSNPQ")
    return perm + [d for d in TIMELOOP_DIMS if d not in perm]


def build_mapping(entries: Any, hierarchy: Hierarchy, *, source: str) -> Mapping:
    """A ``Mapping`` for ``hierarchy`` from Timeloop's mapping list."""
    if not isinstance(entries, list) or not entries:
        raise SpecError("mapping must be a non-empty list", source=source, key="mapping", value=entries)
    tables: dict[str, dict[str, Any]] = {lv.name: {} for lv in hierarchy.levels}
    for i, entry in enumerate(entries):
        key = f"mapping[{i}]"
        if not isinstance(entry, dict):
            raise SpecError("entry must be a mapping", source=source, key=key, value=entry)
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise SpecError("unsupported mapping key", source=source, key=f"{key}.{sorted(unknown)[0]}",
                            accepted=", ".join(sorted(_ENTRY_KEYS)))
        target, kind = entry.get("target"), entry.get("type")
        if not isinstance(target, str) or target not in tables:
            raise SpecError("unknown target level", source=source, key=f"{key}.target", value=target,
                            accepted=", ".join(tables))
        slot = tables[target]
        if kind in ("datatype", "bypass"):
            keep = [_tensor(t, source=source, key=f"{key}.keep") for t in _names(entry.get("keep"), source, key)]
            bypass = [_tensor(t, source=source, key=f"{key}.bypass") for t in _names(entry.get("bypass"), source, key)]
            if set(keep) & set(bypass) or len(keep) + len(bypass) != 3:
                raise SpecError("keep and bypass must split Inputs, Weights, Outputs", source=source, key=key,
                                value={"keep": entry.get("keep"), "bypass": entry.get("bypass")})
            slot["keeps"] = tuple(ds for ds in ("inputs", "weights", "outputs") if ds in keep)
        elif kind in ("temporal", "spatial"):
            if kind in slot:
                raise SpecError(f"two {kind} entries for one level", source=source, key=key, value=target)
            factors = _factors(entry.get("factors"), source=source, key=key)
            perm = _permutation(entry.get("permutation"), source=source, key=key)
            slot[kind] = (factors, perm, entry.get("split"))
        else:
            raise SpecError("unsupported mapping entry type", source=source, key=f"{key}.type", value=kind,
                            accepted="temporal, spatial, datatype, bypass")
    return Mapping(tuple(_level(name, slot, source=source) for name, slot in tables.items()))


def _names(value: Any, source: str, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError("keep / bypass must list tensors", source=source, key=key, value=value,
                        accepted="a list of Inputs, Weights, Outputs")
    return value


def _tensor(name: Any, *, source: str, key: str) -> str:
    if not isinstance(name, str) or name not in _TENSOR:
        raise SpecError("unknown tensor", source=source, key=key, value=name, accepted="Inputs, Weights, Outputs")
    return _TENSOR[name]


def _level(name: str, slot: dict[str, Any], *, source: str) -> LevelMapping:
    temporal: dict[str, int] = {}
    order: tuple[str, ...] = ()
    if "temporal" in slot:
        factors, perm, _ = slot["temporal"]
        temporal = {OUR_DIM[d]: f for d, f in factors.items() if f > 1}
        order = tuple(OUR_DIM[d] for d in reversed(perm) if factors[d] > 1)
    sx: dict[str, int] = {}
    sy: dict[str, int] = {}
    if "spatial" in slot:
        factors, perm, split = slot["spatial"]
        split = len(perm) if split is None else split
        if isinstance(split, bool) or not isinstance(split, int) or split < 0:
            raise SpecError("split must be a non-negative integer", source=source, key=f"mapping.{name}.split",
                            value=split)
        for j, d in enumerate(perm):
            if factors[d] > 1:
                (sx if j < split else sy)[OUR_DIM[d]] = factors[d]
    return LevelMapping(level=name, temporal=temporal, order=order, spatial_x=sx, spatial_y=sy,
                        keeps=slot.get("keeps"))
