"""A mapping: how one layer's loop nest is laid onto a ``Hierarchy``.

For every storage level (outermost first) a ``LevelMapping`` gives

* ``temporal``: loop factors iterated *at* this level (over its tile), with ``order``
  (outermost first; dims not listed run innermost, factor-1 loops are irrelevant);
* ``spatial_x`` / ``spatial_y``: factors unrolled across the fan-out *below* this level
  (several dims may share one axis, as Eyeriss puts C and S on its PE rows);
* ``keeps``: dataspaces held here (default: what the level may keep; a subset bypasses);
* ``double_buffered``: tiles held here take twice their footprint.

The product of all factors of a dim must be at least the dim (imperfect factors pad the
dim; the padded MACs are counted as waste). Dims are the layer's canonical
``N, G, K, C, P, Q, R, S`` (Timeloop's ``M`` is our ``K``). Mappings load from and save
to YAML (``version: 1``)::

    version: 1
    mapping:
      - level: DRAM
        temporal: {P: 8, Q: 2, K: 4}
        order: [P, Q, K]
      - level: shared_glb
        temporal: {P: 14, Q: 4}
        order: [P, Q]
        spatial_x: {Q: 14}
        keeps: [inputs, outputs]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from acceldse.mapper.legality import tile_words, workload_array
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import DIMS, Layer
from acceldse.workloads.spec_io import load_yaml, parse_yaml, reject_unknown

DIM_INDEX: dict[str, int] = {d: i for i, d in enumerate(DIMS)}
_LEVEL_KEYS = {"level", "temporal", "order", "spatial_x", "spatial_y", "keeps", "double_buffered"}


@dataclass(frozen=True)
class LevelMapping:
    """The loops of one storage level (see module docstring). Factors are dimensionless."""

    level: str
    temporal: dict[str, int] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    spatial_x: dict[str, int] = field(default_factory=dict)
    spatial_y: dict[str, int] = field(default_factory=dict)
    keeps: tuple[str, ...] | None = None
    double_buffered: bool | None = None
    temporal_residual: dict[str, int] = field(default_factory=dict)
    """Timeloop's residual form (``Q8,6``): dim -> the last global iteration's end of a temporal factor
    (``mapper/residual.py``); dims not listed end on their factor."""
    spatial_residual: dict[str, int] = field(default_factory=dict)
    """The same for the spatial factor of a dim (on X or Y)."""

    def full_order(self) -> tuple[str, ...]:
        """All eight dims, outermost first: ``order`` then the rest in canonical order."""
        return tuple(self.order) + tuple(d for d in DIMS if d not in self.order)


@dataclass(frozen=True)
class MappingArrays:
    """Integer-array encoding of one or many mappings (leading batch axis B when batched).

    temporal, spatial_x, spatial_y: int64[..., L, 8] factors; order: int64[..., L, 8] dim
    indices outermost first; keep: bool[..., L, 3]; double_buffered: bool[..., L].
    """

    temporal: np.ndarray
    spatial_x: np.ndarray
    spatial_y: np.ndarray
    order: np.ndarray
    keep: np.ndarray
    double_buffered: np.ndarray

    @property
    def batch(self) -> int:
        return 1 if self.temporal.ndim == 2 else int(self.temporal.shape[0])

    def batched(self) -> MappingArrays:
        """A view with a leading batch axis."""
        if self.temporal.ndim == 3:
            return self
        return MappingArrays(*(a[None] for a in (self.temporal, self.spatial_x, self.spatial_y, self.order,
                                                 self.keep, self.double_buffered)))

    def take(self, index: Any) -> MappingArrays:
        return MappingArrays(*(a[index] for a in (self.temporal, self.spatial_x, self.spatial_y, self.order,
                                                  self.keep, self.double_buffered)))


@dataclass(frozen=True)
class Mapping:
    """A complete mapping: one ``LevelMapping`` per hierarchy level, outermost first."""

    levels: tuple[LevelMapping, ...]

    def residual_array(self, hierarchy: Hierarchy) -> np.ndarray | None:
        """int64[L, 3, 8]: the last iteration's end of each temporal / spatial-X / spatial-Y factor (the
        factor itself when perfect), or ``None`` when no factor has a residual."""
        if not any(lm.temporal_residual or lm.spatial_residual for lm in self.levels):
            return None
        a = self.to_arrays(hierarchy)
        res = np.stack([a.temporal, a.spatial_x, a.spatial_y], axis=1).copy()
        for lm in self.levels:
            i = hierarchy.level_index(lm.level)
            for d, e in lm.temporal_residual.items():
                res[i, 0, DIM_INDEX[d]] = e
            for d, e in lm.spatial_residual.items():
                res[i, 1 if d in lm.spatial_x else 2, DIM_INDEX[d]] = e
        return res

    def to_arrays(self, hierarchy: Hierarchy) -> MappingArrays:
        """Encode for the cost kernel (levels not listed get factor 1 and default keeps)."""
        n = hierarchy.num_levels
        t = np.ones((n, 8), dtype=np.int64)
        sx = np.ones((n, 8), dtype=np.int64)
        sy = np.ones((n, 8), dtype=np.int64)
        order = np.tile(np.arange(8, dtype=np.int64), (n, 1))
        keep = hierarchy.arrays().keep.copy()
        dbuf = np.array([lv.double_buffered for lv in hierarchy.levels], dtype=np.bool_)
        by_name = {lm.level: lm for lm in self.levels}
        for name in by_name:
            hierarchy.level_index(name)
        for i, lv in enumerate(hierarchy.levels):
            lm = by_name.get(lv.name)
            if lm is None:
                continue
            for arr, table in ((t, lm.temporal), (sx, lm.spatial_x), (sy, lm.spatial_y)):
                for d, f in table.items():
                    arr[i, DIM_INDEX[d]] = f
            order[i] = [DIM_INDEX[d] for d in lm.full_order()]
            if lm.keeps is not None:
                keep[i] = [ds in lm.keeps for ds in DATASPACES]
            if lm.double_buffered is not None:
                dbuf[i] = lm.double_buffered
        return MappingArrays(t, sx, sy, order, keep, dbuf)

    @staticmethod
    def from_arrays(arrays: MappingArrays, hierarchy: Hierarchy) -> Mapping:
        """Decode one (unbatched) mapping; keeps/double-buffering are always written out."""
        levels = []
        for i, lv in enumerate(hierarchy.levels):
            temporal = {DIMS[d]: int(arrays.temporal[i, d]) for d in range(8) if arrays.temporal[i, d] != 1}
            order = tuple(DIMS[d] for d in arrays.order[i] if arrays.temporal[i, d] != 1)
            levels.append(LevelMapping(
                level=lv.name, temporal=temporal, order=order,
                spatial_x={DIMS[d]: int(arrays.spatial_x[i, d]) for d in range(8) if arrays.spatial_x[i, d] != 1},
                spatial_y={DIMS[d]: int(arrays.spatial_y[i, d]) for d in range(8) if arrays.spatial_y[i, d] != 1},
                keeps=tuple(ds for j, ds in enumerate(DATASPACES) if arrays.keep[i, j]),
                double_buffered=bool(arrays.double_buffered[i])))
        return Mapping(tuple(levels))

    # ---- YAML ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = []
        for lm in self.levels:
            entry: dict[str, Any] = {"level": lm.level}
            if lm.temporal:
                entry["temporal"] = dict(lm.temporal)
                entry["order"] = [d for d in lm.full_order() if d in lm.temporal]
            if lm.spatial_x:
                entry["spatial_x"] = dict(lm.spatial_x)
            if lm.spatial_y:
                entry["spatial_y"] = dict(lm.spatial_y)
            if lm.keeps is not None:
                entry["keeps"] = list(lm.keeps)
            if lm.double_buffered:
                entry["double_buffered"] = True
            out.append(entry)
        return {"version": 1, "mapping": out}

    def to_yaml(self, path: str | Path | None = None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)
        if path is not None:
            Path(path).write_text(text)
        return text

    @staticmethod
    def from_yaml(path_or_text: str | Path) -> Mapping:
        """Load from a file path, or from YAML text when the argument contains a newline."""
        text = str(path_or_text)
        if "\n" in text:
            return Mapping.from_dict(parse_yaml(text, kind="mapping", source="<mapping>"), source="<mapping>")
        return Mapping.from_dict(load_yaml(text, kind="mapping"), source=text)

    @staticmethod
    def from_dict(data: dict[str, Any], *, source: str = "<mapping>") -> Mapping:
        reject_unknown(data, {"version", "mapping", "layer", "hardware"}, source=source)
        raw = data.get("mapping")
        if not isinstance(raw, list) or not raw:
            raise SpecError("missing list of levels", source=source, key="mapping", value=raw,
                            accepted="a list of {level, temporal, order, spatial_x, spatial_y, keeps}")
        levels = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(raw):
            key = f"mapping[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("level"), str):
                raise SpecError("each entry needs a 'level' name", source=source, key=key, value=entry)
            if entry["level"] in seen:
                raise SpecError(f"level listed twice (first as mapping[{seen[entry['level']]}])", source=source,
                                key=f"{key}.level", value=entry["level"], accepted="each level at most once")
            seen[entry["level"]] = i
            reject_unknown(entry, _LEVEL_KEYS, source=source, prefix=f"{key}.")
            tables = [_factors(entry.get(k, {}), source=source, key=f"{key}.{k}")
                      for k in ("temporal", "spatial_x", "spatial_y")]
            order = entry.get("order", [])
            if not isinstance(order, list) or any(d not in DIMS for d in order) or len(set(order)) != len(order):
                raise SpecError("order must list distinct dims, outermost first", source=source, key=f"{key}.order",
                                value=order, accepted="a list of " + ", ".join(DIMS))
            keeps = entry.get("keeps")
            if keeps is not None and (not isinstance(keeps, list) or any(k not in DATASPACES for k in keeps)):
                raise SpecError("keeps must list dataspaces", source=source, key=f"{key}.keeps", value=keeps,
                                accepted="a list of " + " / ".join(DATASPACES))
            dbuf = entry.get("double_buffered")
            if dbuf is not None and not isinstance(dbuf, bool):
                raise SpecError("must be true or false", source=source, key=f"{key}.double_buffered", value=dbuf)
            levels.append(LevelMapping(level=entry["level"], temporal=tables[0], order=tuple(order),
                                       spatial_x=tables[1], spatial_y=tables[2],
                                       keeps=None if keeps is None else tuple(keeps), double_buffered=dbuf))
        return Mapping(tuple(levels))

    # ---- display ---------------------------------------------------------------------------------
    def loop_nest(self, layer: Layer | None = None, hierarchy: Hierarchy | None = None) -> str:
        """A Timeloop ``map.txt``-style loop nest, outermost first; with ``layer`` and ``hierarchy``
        each level's header lists the tile size (words) of every dataspace it keeps."""
        lines: list[str] = []
        indent = 0
        names = [lv.name for lv in hierarchy.levels] if hierarchy else [lm.level for lm in self.levels]
        by_name = {lm.level: lm for lm in self.levels}
        tiles = self._tile_words(layer, hierarchy) if layer is not None and hierarchy is not None else None
        for i, name in enumerate(names):
            lm = by_name.get(name, LevelMapping(level=name))
            kept = lm.keeps if lm.keeps is not None else (hierarchy.levels[i].keeps if hierarchy else None)
            if not kept:
                header = name
            elif tiles is not None:
                header = f"{name} [ " + " ".join(f"{ds.capitalize()}:{tiles[i][DATASPACES.index(ds)]}"
                                                 for ds in kept) + " ]"
            else:
                header = f"{name} [ " + " ".join(ds.capitalize() for ds in kept) + " ]"
            lines.append(header)
            lines.append("-" * max(len(header), 8))
            for d in lm.full_order():
                if lm.temporal.get(d, 1) > 1:
                    lines.append("| " + " " * indent + f"for {d} in [0:{lm.temporal[d]})")
                    indent += 2
            for axis, table in (("X", lm.spatial_x), ("Y", lm.spatial_y)):
                for d, f in table.items():
                    if f > 1:
                        lines.append("| " + " " * indent + f"for {d} in [0:{f}) (Spatial-{axis})")
                        indent += 2
            lines.append("")
        lines.append("| " + " " * indent + "<< Compute >>")
        return "\n".join(lines)

    def _tile_words(self, layer: Layer, hierarchy: Hierarchy) -> list[list[int]]:
        """Tile words per level and dataspace (``[level][ds]``)."""
        a = self.to_arrays(hierarchy)
        wl = workload_array(layer)
        ext = np.ones(8, dtype=np.int64)
        out: list[list[int]] = []
        for lvl in range(hierarchy.num_levels - 1, -1, -1):
            ext = ext * a.temporal[lvl] * a.spatial_x[lvl] * a.spatial_y[lvl]
            out.append([int(tile_words(ext, wl, ds)) for ds in range(3)])
        return out[::-1]


def check_structure(mapping: Mapping, layer: Layer, hierarchy: Hierarchy, *, source: str = "mapping") -> None:
    """A given mapping's structure, before its cost: every dim covered (naming the levels the mapping
    leaves out, whose factors count as 1) and no factor larger than covering the dim needs (a loop that
    iterates over padding only: ``Q: 70`` and ``Q: 2`` for Q = 14)."""
    listed = {lm.level for lm in mapping.levels}
    missing = [lv.name for lv in hierarchy.levels if lv.name not in listed]
    for d, size in layer.dims.items():
        factors = [(lm.level, kind, table[d]) for lm in mapping.levels
                   for kind, table in (("temporal", lm.temporal), ("spatial_x", lm.spatial_x),
                                       ("spatial_y", lm.spatial_y)) if table.get(d, 1) > 1]
        product = int(np.prod([f for _, _, f in factors])) if factors else 1
        if product < size:
            hint = f"; the mapping has no entry for level(s) {', '.join(missing)} (their factors are 1)" \
                if missing else ""
            raise SpecError(f"illegal mapping: factors of {d} multiply to {product}, short of the layer's "
                            f"{d}={size}{hint}",
                            source=source, key=f"layer {layer.name!r}",
                            accepted=f"factors of {d} over the levels whose product is at least {size}")
        for level, kind, f in factors:
            need = -(-size // (product // f))
            if need < f:
                raise SpecError(f"illegal mapping: factors of {d} over-cover the layer's {d}={size}: they multiply to "
                                f"{product}, "
                                f"and {level}.{kind}.{d} = {f} could be {need} (the rest iterates over padding)",
                                source=source, key=f"{level}.{kind}.{d}", value=f,
                                accepted=f"factors whose product is the smallest that covers {d}={size}")


def _factors(raw: Any, *, source: str, key: str) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise SpecError("must be a mapping of dim: factor", source=source, key=key, value=raw,
                        accepted="e.g. {P: 8, Q: 2}")
    out: dict[str, int] = {}
    for d, f in raw.items():
        if d not in DIMS:
            raise SpecError("unknown loop dimension", source=source, key=f"{key}.{d}", value=d,
                            accepted=", ".join(DIMS) + " (Timeloop's M is K)")
        out[d] = require_int(f, key=f"{key}.{d}", source=source)
    return out
