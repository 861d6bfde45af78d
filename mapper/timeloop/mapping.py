"""Timeloop mapping list (``map.yaml``) -> ``Mapping``, read as Timeloop's parser reads it.

Entries: ``{target, type: temporal|spatial, factors, permutation, split}`` and
``{target, type: datatype|bypass|dataspace, keep: [...], bypass: [...]}``. ``factors`` is any form
Timeloop accepts: ``"C1 M8"``, ``"R=3,P=16"`` (timeloopfe's comma form), ``R = 3``, or a list
(``[R=3, P=16]``, as timeloopfe's v4 files write it); a factor of 0
means the whole rank; ranks left out have factor 1; the residual form ``Q8,6`` (8 iterations, the
last global one only 6: an imperfect factorization, ``mapper/residual.py``) is kept as
``LevelMapping.temporal_residual`` / ``spatial_residual``. The factors of each rank must cover its size
as Timeloop requires: outermost loop first, covered = covered x factor + residual - 1, plus 1. The
permutation is listed innermost first (we store outermost first); ranks it leaves out follow in
declaration order. For ``spatial``, ``split: k`` puts the first k ranks of the permutation on X, the
rest on Y (default: all on X). Tensors a level neither keeps nor bypasses are kept (Timeloop's
default). Rank and tensor names are the problem's; the ``Lowering`` maps them onto the kernel's dims
and dataspaces.
"""

from __future__ import annotations

import re
from typing import Any

from acceldse.mapper.constraints import LoopConstraint
from acceldse.mapper.mapping import LevelMapping, Mapping
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.einsum import Einsum, Lowering
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS

_ENTRY_KEYS = {"target", "type", "factors", "permutation", "split", "keep", "bypass"}
_FACTOR = re.compile(r"([A-Za-z]+)\s*=*\s*([0-9]+)(,([0-9]+))?")


def parse_factors(text: Any, einsum: Einsum, *, source: str, key: str,
                  residuals: dict[str, int] | None = None) -> dict[str, int]:
    """rank -> factor of one factors string (every rank; left-out ranks are 1). The residual form ``Q8,6``
    puts 6 (the last iteration's end) into ``residuals``; without ``residuals`` it is refused."""
    body = ",".join(map(str, text)) if isinstance(text, list) else str(text).split("#")[0]
    out: dict[str, int] = {}
    pos = 0
    sizes = einsum.sizes
    for m in _FACTOR.finditer(body):
        gap = body[pos:m.start()].strip(" ,\t")
        if gap:
            raise SpecError("bad factor", source=source, key=f"{key}.factors", value=gap,
                            accepted="<rank><factor>, <rank>=<factor>, comma or space separated")
        pos = m.end()
        rank, end = m.group(1), int(m.group(2))
        if rank not in sizes:
            raise SpecError("factor for a rank the problem does not have", source=source, key=f"{key}.factors",
                            value=rank, accepted=" ".join(sizes))
        if rank in out:  # never the last one silently
            raise SpecError(f"rank {rank} is given twice", source=source, key=f"{key}.factors", value=body.strip(),
                            accepted="each rank once per factors string")
        end = end or sizes[rank]
        if m.group(4) is not None and int(m.group(4)) != end and residuals is not None:
            last = int(m.group(4))
            if not 1 <= last <= end:
                raise SpecError("a residual must be between 1 and its factor", source=source, key=f"{key}.factors",
                                value=m.group(0), accepted=f"{rank}{end},1 .. {rank}{end},{end}")
            residuals[rank] = last
        elif m.group(4) is not None and int(m.group(4)) != end:
            raise SpecError(f"residual factors are not modelled: Timeloop reads {m.group(0)} as {end} iterations "
                            f"of which the last runs only up to {m.group(4)} (an imperfect factorization: the "
                            f"rank covered is ((residual - 1) x inner extent + inner residual - 1) + 1, level by "
                            f"level, with a smaller last tile)", source=source, key=f"{key}.factors",
                            value=m.group(0), accepted=f"{rank}{end} (a perfect factorization: residual = factor)")
        out[rank] = end
    if body[pos:].strip(" ,\t"):
        raise SpecError("bad factor", source=source, key=f"{key}.factors", value=body[pos:].strip(),
                        accepted="<rank><factor>, <rank>=<factor>, comma or space separated")
    return {r: out.get(r, 1) for r in sizes}


def _permutation(text: Any, einsum: Einsum, *, source: str, key: str) -> list[str]:
    ranks = list(einsum.sizes)
    perm = [c for c in (text if isinstance(text, list) else list(str(text or ""))) if str(c).strip()]
    perm = [str(c).strip() for c in perm]
    if any(d not in ranks for d in perm) or len(set(perm)) != len(perm):
        raise SpecError("permutation must list distinct ranks, innermost first", source=source,
                        key=f"{key}.permutation", value=text, accepted="e.g. " + "".join(ranks))
    return perm + [d for d in ranks if d not in perm]


def build_mapping(entries: Any, hierarchy: Hierarchy, lowering: Lowering, einsum: Einsum, *,
                  source: str) -> Mapping:
    """A ``Mapping`` for ``hierarchy`` from Timeloop's mapping list over ``einsum``'s ranks and tensors."""
    if not isinstance(entries, list) or not entries:
        raise SpecError("mapping must be a non-empty list", source=source, key="mapping", value=entries)
    tables: dict[str, dict[str, Any]] = {lv.name: {} for lv in hierarchy.levels}
    tensors = lowering.dataspaces
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
        if kind in ("datatype", "bypass", "dataspace"):
            keep = {_tensor(t, tensors, source=source, key=f"{key}.keep") for t in _names(entry, "keep", source, key)}
            bypass = {_tensor(t, tensors, source=source, key=f"{key}.bypass")
                      for t in _names(entry, "bypass", source, key)}
            if keep & bypass:
                raise SpecError("a tensor is both kept and bypassed", source=source, key=key,
                                value=sorted(lowering.tensor_of_dataspace[d] for d in keep & bypass))
            default = next(lv.keeps for lv in hierarchy.levels if lv.name == target)
            kept = set(slot.get("keeps", default)) - bypass | keep
            slot["keeps"] = tuple(ds for ds in DATASPACES if ds in kept)
        elif kind in ("temporal", "spatial"):
            if kind in slot:
                raise SpecError(f"two {kind} entries for one level", source=source, key=key, value=target)
            residual: dict[str, int] = {}
            factors = parse_factors(entry.get("factors", ""), einsum, source=source, key=key, residuals=residual)
            perm = _permutation(entry.get("permutation"), einsum, source=source, key=key)
            slot[kind] = (factors, perm, entry.get("split"))
            slot[f"{kind}_residual"] = residual
        else:
            raise SpecError("unsupported mapping entry type", source=source, key=f"{key}.type", value=kind,
                            accepted="temporal, spatial, datatype, bypass, dataspace")
    for rank, size in einsum.sizes.items():
        # Timeloop's rule, outermost loop first: covered = covered * factor + residual - 1, plus 1 at the end
        product = 0
        for slot in tables.values():
            for k in ("temporal", "spatial"):
                if k in slot:
                    f = slot[k][0][rank]
                    product = product * f + slot[f"{k}_residual"].get(rank, f) - 1
        product += 1
        if product != size:
            raise SpecError(f"the factors of {rank} multiply to {product}, not its size {size}", source=source,
                            key="mapping", value=product, accepted=str(size))
    levels = tuple(_level(name, slot, lowering, source=source) for name, slot in tables.items())
    _check_mac_axes(levels[-1], {d: r for r, d in lowering.dims.items()}, source=source)
    return Mapping(levels)


def _check_mac_axes(last: LevelMapping, rank_of: dict[str, str], *, source: str) -> None:
    """The cost kernel numbers the MACs of a fan-out from the last level with the dims of one axis in
    canonical order (``mapper/mac_fanout.py``); a spatial permutation that orders them otherwise would
    give Timeloop other neighbours, so it is refused rather than counted differently."""
    for axis, table in (("X", last.spatial_x), ("Y", last.spatial_y)):
        dims = list(table)   # innermost first, as the permutation lists them
        canonical = sorted(dims, key=DIMS.index)
        if dims != canonical:
            raise SpecError(f"the fan-out to the MACs puts several ranks on {axis} in an order acceldse does not "
                            "model (it numbers them in canonical order, innermost first)", source=source,
                            key=f"mapping.{last.level}.permutation", value="".join(rank_of.get(d, d) for d in dims),
                            accepted="".join(rank_of.get(d, d) for d in canonical) + " first")


def _names(entry: dict[str, Any], field: str, source: str, key: str) -> list[Any]:
    value = entry.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError("keep / bypass must list tensors", source=source, key=f"{key}.{field}", value=value,
                        accepted="a list of tensor names")
    return value


def _tensor(name: Any, tensors: dict[str, str], *, source: str, key: str) -> str:
    if not isinstance(name, str) or name not in tensors:
        raise SpecError("unknown tensor", source=source, key=key, value=name, accepted=", ".join(tensors))
    return tensors[name]


def _level(name: str, slot: dict[str, Any], lowering: Lowering, *, source: str) -> LevelMapping:
    dim = lowering.dims
    temporal: dict[str, int] = {}
    order: tuple[str, ...] = ()
    if "temporal" in slot:
        factors, perm, _ = slot["temporal"]
        temporal = {dim[r]: f for r, f in factors.items() if f > 1}
        order = tuple(dim[r] for r in reversed(perm) if factors[r] > 1)
    sx: dict[str, int] = {}
    sy: dict[str, int] = {}
    if "spatial" in slot:
        factors, perm, split = slot["spatial"]
        split = len(perm) if split is None else split
        if isinstance(split, bool) or not isinstance(split, int) or split < 0:
            raise SpecError("split must be a non-negative integer", source=source, key=f"mapping.{name}.split",
                            value=split)
        for j, r in enumerate(perm):
            if factors[r] > 1:
                (sx if j < split else sy)[dim[r]] = factors[r]
    return LevelMapping(level=name, temporal=temporal, order=order, spatial_x=sx, spatial_y=sy,
                        keeps=slot.get("keeps"),
                        temporal_residual={dim[r]: e for r, e in slot.get("temporal_residual", {}).items()},
                        spatial_residual={dim[r]: e for r, e in slot.get("spatial_residual", {}).items()})


WORKLOAD_RANKS = {**{d: d for d in DIMS}, "M": "K"}
"""Rank names of constraints read without a problem (for any workload): Timeloop's conv2D ranks
(``M`` is our ``K``) and the kernel's own dims."""
_LOOP_FIELDS = {"target", "type", "factors", "permutation", "split", "default_min_factor", "default_max_factor",
                "remainders", "version"}
_BOUND = re.compile(r"([A-Za-z]+)\s*(<=|>=|<|>)\s*([0-9]+)")
MODEL_CHANGING = ("no_reuse", "no_coalesce", "no_link_transfer", "rmw_first_update", "no_multicast_no_reduction",
                  "no_temporal_reuse")
"""Constraint fields that change Timeloop's counts for a given mapping; not modelled, so refused."""
CONSTRAINT_TYPES = ("temporal", "spatial", "bypass", "bypassing", "datatype", "dataspace", "utilization",
                    "parallelism", "max_overbooked_proportion")
"""Every constraint ``type`` Timeloop's parser reads (any other is a ``SpecError``, as in Timeloop)."""


def loop_constraints(targets: Any, dims: dict[str, str], level_names: list[str], *, source: str,
                     sizes: dict[str, int] | None = None) -> tuple[list[LoopConstraint], list[str]]:
    """Timeloop's ``temporal`` / ``spatial`` / ``utilization`` constraint targets -> ``LoopConstraint`` s
    over the kernel's dims (``dims``: the problem's rank -> dim, ``sizes`` its rank -> size when there
    is a problem; ``level_names`` outermost first), as
    Timeloop's constraint parser reads them. ``factors``: ``R=3`` fixes the factor (0: the whole rank;
    the residual form ``C4,3`` fixes 4, as Timeloop reads it), ``R<=4`` / ``R>=2`` bound it (with
    ``default_max_factor`` / ``default_min_factor`` for the ranks not bounded); ``permutation`` is
    innermost first (ranks after a ``_`` outermost); a spatial ``permutation`` + ``split`` puts its
    first ``split`` ranks on X, the rest on Y (ranks it leaves out: either; without ``split``
    Timeloop's mapper picks it: either axis); ``utilization`` / ``parallelism`` (on the innermost
    storage level, as Timeloop requires) sets the minimum fraction of MACs used. ``remainders`` only
    steers the ``ruby`` mapspace (refused elsewhere), ``max_overbooked_proportion`` only levels that
    allow overbooking (refused by the architecture loader): both change nothing here. Anything else
    -- an unknown type, target or field, a strict ``<``/``>`` bound (Timeloop's parser skips it), a
    ``split`` that is not a number -- is a ``SpecError``. A fixed factor above its rank's size is
    dropped with a note, as Timeloop drops it with a warning. Returns the constraints and, as text,
    the notes (what Timeloop ignores too)."""
    out: list[LoopConstraint] = []
    skipped: list[str] = []
    for i, c in enumerate(targets if isinstance(targets, list) else []):
        key = f"targets[{i}]"
        if not isinstance(c, dict):
            raise SpecError("a constraint must be a mapping", source=source, key=key, value=c)
        kind = c.get("type")
        if kind not in CONSTRAINT_TYPES:
            raise SpecError("unknown constraint type", source=source, key=f"{key}.type", value=kind,
                            accepted=", ".join(CONSTRAINT_TYPES))
        level = c.get("target", c.get("name"))
        if not isinstance(level, str) or level not in level_names:
            raise SpecError("constraint target is not a level of the architecture", source=source,
                            key=f"{key}.target", value=level, accepted=", ".join(level_names))
        refuse_model_changing(c, source=source, key=key)
        if kind in ("utilization", "parallelism"):
            out.append(_parallelism(c, level, level_names, source=source, key=key))
            continue
        if kind not in ("temporal", "spatial"):
            continue
        unknown = sorted(set(c) - _LOOP_FIELDS)
        if unknown:
            raise SpecError("unsupported constraint field", source=source, key=f"{key}.{unknown[0]}",
                            accepted=", ".join(sorted(_LOOP_FIELDS | set(MODEL_CHANGING))))
        factors, low, high = _factor_constraints(c, dims, sizes or {}, skipped, source=source, key=key)
        raw = c.get("permutation") or ""
        ranks = [str(r).strip() for r in (raw if isinstance(raw, list) else list(str(raw).split("#")[0]))
                 if str(r).strip()]
        for rank in ranks:
            if rank not in dims and rank != "_":
                raise SpecError("constraint on a rank the problem does not have", source=source,
                                key=f"{key}.permutation", value=rank, accepted=", ".join(dims))
        cut = ranks.index("_") if "_" in ranks else len(ranks)   # Timeloop: prefix (innermost) _ suffix (outermost)
        perm = tuple(dims[r] for r in ranks[:cut])
        outer = tuple(dims[r] for r in ranks[cut + 1:])
        if kind == "temporal":
            out.append(LoopConstraint(level, kind, factors, permutation=perm, outer=outer, min_factors=low,
                                      max_factors=high))
            continue
        split = c.get("split")
        if split is not None and (isinstance(split, bool) or not isinstance(split, int) or split < 0):
            raise SpecError("split must be a non-negative integer", source=source, key=f"{key}.split", value=split)
        spatial = perm + outer
        if split is None or not spatial:   # no split: Timeloop's mapper chooses it (either axis)
            out.append(LoopConstraint(level, kind, factors, min_factors=low, max_factors=high))
            continue
        rest = frozenset(d for d in dims.values() if d not in spatial)
        out.append(LoopConstraint(level, kind, factors, x_dims=frozenset(spatial[:split]) | rest,
                                  y_dims=frozenset(spatial[split:]) | rest, min_factors=low, max_factors=high))
    return out, skipped


def _factor_constraints(c: dict[str, Any], dims: dict[str, str], sizes: dict[str, int], ignored: list[str], *,
                        source: str, key: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """(fixed factors, minimum factors, maximum factors) over the kernel's dims of one constraint; a
    fixed factor above its rank's size is dropped, as Timeloop drops it, and listed in ``ignored``."""
    factors: dict[str, int] = {}
    bounds: dict[str, dict[str, int]] = {">=": {}, "<=": {}}
    raw = c.get("factors") or ""
    for token in (raw if isinstance(raw, list) else re.split(r"[,\s]+", str(raw).split("#")[0])):
        token = str(token).strip()
        if not token:
            continue
        bound = _BOUND.fullmatch(token)
        m = _FACTOR.fullmatch(token)
        if bound is None and m is None:
            raise SpecError("bad factor constraint", source=source, key=f"{key}.factors", value=token,
                            accepted="<rank>=<n>, <rank><n>, <rank> <= n, <rank> >= n")
        rank = (bound or m).group(1)  # type: ignore[union-attr]
        if rank not in dims:
            raise SpecError("constraint on a rank the problem does not have", source=source,
                            key=f"{key}.factors", value=rank, accepted=", ".join(dims))
        if bound is not None:
            if bound.group(2) not in bounds:
                raise SpecError("Timeloop reads only <= and >= bounds (its parser would skip this one)",
                                source=source, key=f"{key}.factors", value=token, accepted=f"{rank}<=n, {rank}>=n")
            if int(bound.group(3)) < 1:
                raise SpecError("a factor bound must be positive", source=source, key=f"{key}.factors", value=token)
            bounds[bound.group(2)][dims[rank]] = int(bound.group(3))
            continue
        value = int(m.group(2))  # type: ignore[union-attr]
        size = sizes.get(rank)
        if value == 0:
            if size is None:
                continue   # the whole rank, for any workload: no constraint
            value = size
        if size is not None and value > size:   # Timeloop warns and drops it; so do we (noted)
            ignored.append(f"factor {token} on {c.get('target')} (above the size {size} of {rank}; Timeloop "
                           "ignores it too)")
            continue
        factors[dims[rank]] = value
    for field_name, op in (("default_min_factor", ">="), ("default_max_factor", "<=")):
        if c.get(field_name) is None:
            continue
        value = c[field_name]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError("must be a positive integer", source=source, key=f"{key}.{field_name}", value=value)
        for dim in set(dims.values()):
            bounds[op].setdefault(dim, value)
    return factors, bounds[">="], bounds["<="]


def _parallelism(c: dict[str, Any], level: str, level_names: list[str], *, source: str, key: str) -> LoopConstraint:
    """Timeloop's ``utilization`` / ``parallelism`` constraint: ``min`` (directly or under ``attributes``)."""
    innermost = level_names[-1]
    if level != innermost:
        raise SpecError("Timeloop constrains parallelism only at the innermost storage level", source=source,
                        key=f"{key}.target", value=level, accepted=innermost)
    attributes = c.get("attributes")
    value = (attributes if isinstance(attributes, dict) else c).get("min")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SpecError("needs min: a fraction in [0, 1]", source=source, key=f"{key}.min", value=value)
    return LoopConstraint(level, "parallelism", min_parallelism=float(value))


def refuse_model_changing(target: dict[str, Any], *, source: str, key: str) -> None:
    """A ``SpecError`` for a constraint field that would change Timeloop's counts (``no_reuse``...)."""
    for name in MODEL_CHANGING:
        if target.get(name):
            raise SpecError("unsupported Timeloop constraint (it changes the counts; not modelled)", source=source,
                            key=f"{key}.{name}", value=target[name])
