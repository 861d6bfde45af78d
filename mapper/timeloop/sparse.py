"""Timeloop's ``sparse_optimizations`` (Sparseloop) -> ``mapper.sparse.SparseDesign``.

Read: per storage level (``targets[].name``) a ``representation_format`` (per tensor, ``ranks``
outermost first, each ``format`` UOP / CP / RLE / B with optional ``flattened_rankIDs``), an
``action_optimization`` list (``type`` gating / skipping, ``options`` or a single ``target`` +
``condition_on``) and a ``compute_optimization`` list (gating / ``gate_on_zero_operand``,
skipping / ``skip_on_not_aligned_operands``); per tensor a ``fixed_structured`` or
``hypergeometric`` density (``problem.instance.densities``); per level the metadata storage attributes
(``metadata_datawidth``, ``metadata_storage_width``, ``(de)compression_supported``...).
Everything else Sparseloop reads (``rank_application_order``, per-rank word bits,
``skipping_spatial``, ``compression_rate``, the UB format, banded densities...)
is a ``SpecError`` naming the key: refused, never computed as something else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from acceldse.mapper.sparse import FixedStructured, RankFormat, SparseDesign, StorageSpec
from acceldse.mapper.sparse.density import DensityModel, Hypergeometric
from acceldse.mapper.sparse.design import DenseCounts
from acceldse.mapper.sparse.formats import FORMATS
from acceldse.workloads.errors import SpecError

METADATA_ATTRIBUTES = frozenset({"metadata_storage_depth", "metadata_storage_width", "metadata_datawidth",
                                 "metadata_counter_width", "metadata_depth", "metadata_width",
                                 "metadata_word_bits", "decompression_supported", "compression_supported"})
"""Storage attributes Sparseloop reads (its metadata storage; whether a level can (de)compress a
tile its parent keeps compressed); accepted with ``sparse_optimizations``."""
_TARGET_KEYS = {"name", "representation_format", "action_optimization", "compute_optimization"}
_COMPUTE = {"gating": "gate", "gate_on_zero_operand": "gate", "skipping": "skip",
            "skip_on_not_aligned_operands": "skip"}


@dataclass(frozen=True)
class SparseOptimizations:
    """Parsed ``sparse_optimizations``: formats per (level, tensor) (rank 0 innermost), storage
    action optimisations, compute gating / skipping."""

    formats: dict[tuple[str, str], tuple[RankFormat, ...]]
    safs: tuple[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...]
    gate_on_zero_operand: bool = False
    skip_on_not_aligned_operands: bool = False


def _err(msg: str, source: str, key: str, **kw: Any) -> SpecError:
    return SpecError(msg, source=source, key=key, **kw)


def _dict(value: Any, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _err("must be a mapping", source, key, value=value)
    return value


def _list(value: Any, source: str, key: str) -> list[Any]:
    """A list (``None``: empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err("must be a list", source, key, value=value)
    return value


def _word(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_sparse_optimizations(raw: Any, *, tensors: list[str], levels: list[str], source: str,
                               problem_ranks: frozenset[str] = frozenset()) -> SparseOptimizations:
    """``sparse_optimizations`` -> ``SparseOptimizations`` (SpecError naming any key not modelled)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("targets"), list):
        raise _err("must be {targets: [...]}", source, "sparse_optimizations")
    extra = set(raw) - {"targets", "version"}
    if extra:
        raise _err("unsupported key", source, f"sparse_optimizations.{sorted(extra)[0]}", accepted="targets")
    formats: dict[tuple[str, str], tuple[RankFormat, ...]] = {}
    safs: list[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]]] = []
    gate = skip = False
    for i, target in enumerate(raw["targets"]):
        key = f"sparse_optimizations.targets[{i}]"
        if not isinstance(target, dict):
            raise _err("must be a mapping", source, key)
        bad = set(target) - _TARGET_KEYS
        if bad:
            raise _err("Sparseloop feature not modelled", source, f"{key}.{sorted(bad)[0]}",
                       accepted=", ".join(sorted(_TARGET_KEYS)))
        level = _word(target.get("name"))
        if level not in levels:
            raise _err("unknown storage level", source, f"{key}.name", value=level, accepted=", ".join(levels))
        rep = target.get("representation_format")
        if rep is not None:
            rep = _dict(rep, source, f"{key}.representation_format")
            for j, ds in enumerate(_list(rep.get("data_spaces"), source, f"{key}.representation_format.data_spaces")):
                dkey = f"{key}.representation_format.data_spaces[{j}]"
                ds = _dict(ds, source, dkey)
                bad = set(ds) - {"name", "ranks"}
                if bad:
                    raise _err("Sparseloop feature not modelled", source, f"{dkey}.{sorted(bad)[0]}",
                               accepted="name, ranks")
                if _word(ds.get("name")) not in tensors:
                    raise _err("unknown tensor", source, f"{dkey}.name", value=ds.get("name"),
                               accepted=", ".join(tensors))
                ranks = []
                for r, rank in enumerate(_list(ds.get("ranks"), source, f"{dkey}.ranks")):
                    rkey = f"{dkey}.ranks[{r}]"
                    rank = _dict(rank, source, rkey)
                    bad = set(rank) - {"format", "metadata_word_bits", "payload_word_bits", "flattened_rankIDs"}
                    if bad:
                        raise _err("Sparseloop feature not modelled", source, f"{rkey}.{sorted(bad)[0]}",
                                   accepted="format, metadata_word_bits, payload_word_bits, flattened_rankIDs")
                    name = (_word(rank.get("format")) or "").upper()
                    if name not in FORMATS:
                        raise _err("representation format not modelled", source, f"{rkey}.format",
                                   value=rank.get("format"), accepted=", ".join(FORMATS))
                    groups = rank.get("flattened_rankIDs") or []
                    if not isinstance(groups, list) or any(
                            not isinstance(g, list) or any(_word(r) not in problem_ranks for r in g) for g in groups):
                        raise _err("must list lists of problem ranks", source, f"{rkey}.flattened_rankIDs",
                                   value=groups, accepted=", ".join(sorted(problem_ranks)))
                    for bits in ("metadata_word_bits", "payload_word_bits"):
                        if rank.get(bits) is not None:
                            raise _err("per-rank word bits not modelled (the level's metadata_datawidth is used)",
                                       source, f"{rkey}.{bits}")
                    ranks.append(RankFormat(name, flattened=tuple(tuple(g) for g in groups)))
                if not ranks:
                    raise _err("a representation format needs ranks", source, f"{dkey}.ranks")
                compressed = [f.compressed for f in reversed(ranks)]
                if any(compressed[r + 1] and not compressed[r] for r in range(len(compressed) - 1)):
                    raise _err("an uncompressed rank below a compressed one (Sparseloop refuses it)", source,
                               f"{dkey}.ranks")
                formats[(level, ds["name"])] = tuple(reversed(ranks))
        for j, opt in enumerate(_list(target.get("action_optimization"), source, f"{key}.action_optimization")):
            okey = f"{key}.action_optimization[{j}]"
            opt = _dict(opt, source, okey)
            kind = {"gating": "gate", "skipping": "skip"}.get(_word(opt.get("type")) or "")
            if kind is None:
                raise _err("action optimisation not modelled", source, f"{okey}.type", value=opt.get("type"),
                           accepted="gating, skipping")
            options = _list(opt.get("options"), source, f"{okey}.options") if "options" in opt else [opt]
            group = []
            for k, o in enumerate(options):
                ckey = f"{okey}.options[{k}]" if "options" in opt else okey
                o = _dict(o, source, ckey)
                if _word(o.get("target")) not in tensors:
                    raise _err("unknown tensor", source, f"{ckey}.target", value=o.get("target"),
                               accepted=", ".join(tensors))
                cond = o.get("condition_on")
                if not isinstance(cond, list) or not cond or any(_word(c) not in tensors for c in cond):
                    raise _err("must list the tensors conditioned on", source, f"{ckey}.condition_on", value=cond,
                               accepted=", ".join(tensors))
                group.append((o["target"], tuple(cond)))
            if not group:
                raise _err("an action optimisation needs a target", source, okey)
            safs.append((level, kind, tuple(group)))
        for j, opt in enumerate(_list(target.get("compute_optimization"), source, f"{key}.compute_optimization")):
            opt = _dict(opt, source, f"{key}.compute_optimization[{j}]")
            kind = _COMPUTE.get(_word(opt.get("type")) or "")
            if kind is None:
                raise _err("compute optimisation not modelled", source, f"{key}.compute_optimization[{j}].type",
                           value=opt.get("type"), accepted=", ".join(_COMPUTE))
            gate, skip = gate or kind == "gate", skip or kind == "skip"
    return SparseOptimizations(formats, tuple(safs), gate, skip)


def densities(problem: dict[str, Any], *, source: str, tensor_sizes: dict[str, int]) -> dict[str, DensityModel]:
    """The densities of ``problem.instance.densities``: ``fixed_structured`` (``fixed``; a plain number)
    or ``hypergeometric`` over ``workload_tensor_size`` elements (0: the whole tensor,
    ``tensor_sizes``); other models (banded) are refused."""
    raw = (problem.get("instance") or {}).get("densities") or {}
    out: dict[str, DensityModel] = {}
    for name, spec in raw.items():
        key = f"problem.instance.densities.{name}"
        spec = spec if isinstance(spec, dict) else {"distribution": "fixed_structured", "density": spec}
        kind = spec.get("distribution", "fixed_structured")
        if kind not in ("fixed_structured", "fixed", "hypergeometric"):
            raise _err("density model not modelled", source, f"{key}.distribution", value=kind,
                       accepted="fixed_structured, hypergeometric")
        if spec.get("band_width", 0):
            raise _err("density model parameter not modelled", source, f"{key}.band_width", value=spec["band_width"],
                       accepted="0")
        d = spec.get("density")
        if isinstance(d, bool) or not isinstance(d, int | float) or not 0 < d <= 1:
            raise _err("density must be in (0, 1]", source, f"{key}.density", value=d)
        size = spec.get("workload_tensor_size", 0) or 0
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise _err("must be an integer >= 0", source, f"{key}.workload_tensor_size", value=size)
        if kind == "hypergeometric":
            out[name] = Hypergeometric(float(d), size or tensor_sizes[name])
        else:
            if size:
                raise _err("workload_tensor_size applies to hypergeometric densities only", source,
                           f"{key}.workload_tensor_size", value=size)
            out[name] = FixedStructured(float(d))
    return out


def build_design(spec: Any, cost: Any, merged: dict[str, Any], opts: SparseOptimizations, *, source: str
                 ) -> SparseDesign:
    """The ``SparseDesign`` of a loaded ``TimeloopSpec`` (``spec``; its ``inputs`` and ``sparse``
    are ``merged`` and ``opts``) and the dense ``CostResult`` of its mapping (``cost``):
    ``mapper.timeloop.sparse_model.SparseModel.design``."""
    from acceldse.mapper.timeloop.sparse_model import SparseModel

    if merged is not spec.inputs or opts is not spec.sparse:
        spec = replace(spec, inputs=merged, sparse=opts)
    return SparseModel(spec).design(spec.mapping, cost)


def _check_decompression(levels: list[StorageSpec], dense: dict[tuple[int, str], DenseCounts],
                         formats: dict[tuple[int, str], tuple[RankFormat, ...]], attrs: dict[str, dict[str, Any]],
                         read_write: dict[str, bool], source: str) -> None:
    """Sparseloop's legality rule: a level that keeps uncompressed a tile its parent keeps
    compressed must support decompression (and compression, for the read-write tensor)."""
    for name, rw in read_write.items():
        kept = [lv for lv in range(len(levels)) if (lv, name) in dense and dense[(lv, name)].shape]
        for child, parent in zip(kept, kept[1:], strict=False):
            if not any(f.compressed for f in formats.get((parent, name), ())) or \
                    any(f.compressed for f in formats.get((child, name), ())):
                continue
            a = attrs.get(levels[child].name, {})
            for need in ("decompression_supported", *(("compression_supported",) if rw else ())):
                if not isinstance(a.get(need, False), bool):
                    raise _err("must be true or false", source, f"architecture.{levels[child].name}.{need}",
                               value=a.get(need))
                if not a.get(need, False):
                    raise _err(f"{name} is compressed at {levels[parent].name} and uncompressed here, which needs "
                               f"{need}: true (Sparseloop rejects this mapping)", source,
                               f"architecture.{levels[child].name}.{need}")


def _bits(attrs: dict[str, Any], names: tuple[str, ...], source: str, level: str) -> int:
    """A metadata width attribute (the first of ``names`` given; 0 without): an integer >= 0."""
    for name in names:
        if name in attrs:
            value = attrs[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _err("must be an integer >= 0 (bits)", source, f"architecture.{level}.{name}", value=value)
            return value
    return 0
