"""Timeloop v0.4 architecture tree (``subtree`` / ``local``) + Accelergy ERT/ART -> ``Hierarchy``.

Timeloop's rules, as its ``ParseTreeSpecs`` and ``BufferLevel::ParseSpecs`` apply them:

* components are walked outermost first; ``name[1..N]`` gives N copies *per instance of the
  enclosing subtree*; the chip-wide ``meshX x meshY`` arrangement is divided by the parent
  level's to get our per-parent ``mesh_x x mesh_y`` fan-out;
* a class containing ``DRAM``, ``SRAM``, ``regfile``, ``smartbuffer`` or ``storage`` is a
  storage level, one containing ``mac`` or ``compute`` the MAC (it must come last);
  ``dummy_storage`` keeps nothing (a pure fan-out level);
* ``block_size = width / (datawidth * cluster_size)`` words, capacity = ``depth x block_size``
  words; DRAM is unbounded;
* energies come from the ERT only: ``read``, ``write`` (fill; ``fill``/``random_fill`` first
  if present), ``update``, ``leak`` per cluster access; MAC ``compute``. Area from the ART
  (um^2); without an ART, from acceldse's area model (``simulator.specs.area``; dummies: none).

Attributes that change Timeloop's counts or energy but that we do not model raise a
``SpecError`` naming the file, the component and the attribute; attributes that only feed
Accelergy's estimates (technology, n_banks...) are accepted because the ERT/ART carry their effect.
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import Any

from acceldse.simulator.specs.hierarchy import DATASPACES, ComputeUnit, Hierarchy, StorageLevel
from acceldse.workloads.errors import SpecError

_BUFFER = ("DRAM", "SRAM", "regfile", "smartbuffer", "storage")
_COMPUTE = ("mac", "compute")
_ALIASES = {"width": ("width", "memory_width", "data_storage_width"),
            "depth": ("depth", "memory_depth", "data_storage_depth")}
"""Timeloop's buffer parser reads each name in turn (the first one given wins)."""
_USED = {"depth", "width", "memory_width", "data_storage_width", "memory_depth", "data_storage_depth",
         "datawidth", "word_bits", "block_size", "cluster_size", "meshX", "meshY",
         "read_bandwidth", "write_bandwidth", "multiple_buffering"}
# Attributes that only parameterise Accelergy's energy/area estimates (their effect is in the ERT/ART)
# or are Timeloop defaults; any other value than the default listed here is rejected.
_ESTIMATE_ONLY = {"technology", "n_banks", "type", "global_cycle_seconds", "version", "multiplier_width",
                  "adder_width", "n_rw_ports", "n_rdwr_ports", "latency", "action_latency_cycles",
                  "update_fifo_depth", "nports", "num_ports", "n_ports", "num_banks"}
_DEFAULTS: dict[str, Any] = {"has_power_gating": False, "power_gated_at": None, "reduction_supported": True,
                             "min_utilization": 0, "allow_overbooking": False}
INHERITED = _USED | _ESTIMATE_ONLY | set(_DEFAULTS)
"""Container attributes that timeloopfe sets on every component under the container."""
_RANGE = re.compile(r"^(.*)\[(\d+)\.\.(\d+)\]$")
ERT_ACTIONS = {"read": ("random_read", "read"), "fill": ("random_fill", "random_write", "fill", "write"),
               "update": ("random_update", "random_write", "update", "write"), "leak": ("leak",),
               "compute": ("mac_random", "mult_random", "mac", "mult", "compute")}


def split_name(name: str, *, source: str) -> tuple[str, int]:
    """``PE[1..16]`` -> (``PE``, 16), ``PE[0..13]`` -> (``PE``, 14) (Timeloop counts hi - lo + 1);
    a plain name has one copy."""
    m = _RANGE.match(str(name))
    if not m:
        return str(name), 1
    lo, hi = int(m.group(2)), int(m.group(3))
    if hi < lo:
        raise SpecError("component range [lo..hi] needs lo <= hi", source=source, key=str(name), value=name,
                        accepted="e.g. [1..16] or [0..15]")
    return m.group(1), hi - lo + 1


def need(value: Any, kind: type, *, source: str, key: str) -> Any:
    """``value`` if it is a ``kind`` (dict / list / str), else a ``SpecError`` naming ``key``."""
    if not isinstance(value, kind):
        raise SpecError(f"must be a {'mapping' if kind is dict else kind.__name__}", source=source, key=key,
                        value=value)
    return value


def number(value: Any, *, source: str, key: str) -> float:
    """A finite number >= 0 (energies, areas). A numeric string counts: YAML 1.1 (PyYAML) reads
    ``1e-9`` as a string where Timeloop's YAML 1.2 parser reads a number."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise SpecError("must be a number >= 0", source=source, key=key, value=value)
    return float(value)


def flatten_tree(arch: Any, *, source: str) -> list[tuple[dict[str, Any], int, dict[str, Any]]]:
    """(component, chip-wide copies, inherited attributes) outermost first, walking single-child subtrees."""
    if not isinstance(arch, dict) or "subtree" not in arch:
        raise SpecError("architecture must be a v0.4 tree with 'subtree'", source=source, key="architecture",
                        accepted="{version: 0.4, subtree: [{name, local: [...], subtree: [...]}]}")
    if str(arch.get("version")) not in ("0.4", "0.3"):
        raise SpecError("unsupported architecture version", source=source, key="architecture.version",
                        value=arch.get("version"), accepted="0.4")
    out: list[tuple[dict[str, Any], int, dict[str, Any]]] = []
    node, copies, key = arch, 1, "architecture"
    inherited: dict[str, Any] = {}
    while node.get("subtree"):
        subs = node["subtree"]
        if not isinstance(subs, list) or len(subs) != 1:
            raise SpecError("only one subtree per level is supported (as in Timeloop)", source=source,
                            key=f"{key}.subtree", value=len(subs) if isinstance(subs, list) else subs)
        node = need(subs[0], dict, source=source, key=f"{key}.subtree[0]")
        key = f"{key}.subtree[{node.get('name')}]"
        unknown = set(node) - {"name", "attributes", "local", "subtree", "description"}
        if unknown:
            raise SpecError("unknown key", source=source, key=f"{key}.{sorted(unknown)[0]}",
                            accepted="name, attributes, local, subtree")
        copies *= split_name(node.get("name", ""), source=source)[1]
        attrs = need(node.get("attributes") or {}, dict, source=source, key=f"{key}.attributes")
        inherited = {**inherited, **attrs}
        for i, comp in enumerate(need(node.get("local") or [], list, source=source, key=f"{key}.local")):
            need(comp, dict, source=source, key=f"{key}.local[{i}]")
            need(comp.get("name"), str, source=source, key=f"{key}.local[{i}].name")
            need(comp.get("attributes") or {}, dict, source=source, key=f"{key}.local[{i}].attributes")
            out.append((comp, copies * split_name(comp["name"], source=source)[1], inherited))
    return out


def _ert_table(ert: Any, *, source: str, kind: str = "ERT") -> dict[str, dict[str, float]]:
    """{short component name: {ERT action: pJ}} (``kind="ART"``: {name: {"area": um^2}})."""
    tables: dict[str, dict[str, float]] = {}
    raw = need(need(ert or {}, dict, source=source, key=kind).get("tables") or [], list, source=source,
               key=f"{kind}.tables")
    for i, table in enumerate(raw):
        key = f"{kind}.tables[{i}]"
        need(table, dict, source=source, key=key)
        short = _short(need(table.get("name"), str, source=source, key=f"{key}.name"))
        if kind == "ART":
            tables[short] = {"area": number(table.get("area", 0.0), source=source, key=f"{key}.area")}
            continue
        actions: dict[str, float] = {}
        for j, act in enumerate(need(table.get("actions") or [], list, source=source, key=f"{key}.actions")):
            need(act, dict, source=source, key=f"{key}.actions[{j}]")
            name = str(act.get("name"))
            energy = number(act.get("energy", 0.0), source=source, key=f"{key}.{name}.energy")
            if name in actions and actions[name] != energy:
                raise SpecError("ERT action listed twice with different energies", source=source,
                                key=f"{key}.{name}", value=energy)
            actions[name] = energy
        tables[short] = actions
    return tables


def _short(name: Any) -> str:
    """``system_top_level.PE[1..16]`` -> ``PE`` (ERT/ART table names are dotted paths)."""
    return str(name).split("[")[0].split(".")[-1]


def _pick(actions: dict[str, float], kind: str) -> float:
    for name in ERT_ACTIONS[kind]:
        if name in actions:
            return actions[name]
    return 0.0


def _check_attributes(attrs: dict[str, Any], own: set[str], *, source: str, key: str,
                      extra: frozenset[str] = frozenset()) -> None:
    """Refuse an attribute that would change Timeloop's numbers and is not modelled. Attributes a
    container (subtree) sets and the component does not use are variables for expressions
    (``PSUM_DATAWIDTH``); Timeloop ignores them, and so do we."""
    for name, value in attrs.items():
        if name in _USED or name in _ESTIMATE_ONLY or name in extra:
            continue
        if name not in own and name not in _DEFAULTS:
            continue
        if name in _DEFAULTS:
            if value != _DEFAULTS[name]:
                raise SpecError("unsupported Timeloop feature", source=source, key=f"{key}.{name}", value=value,
                                accepted=f"{_DEFAULTS[name]!r} (the only value acceldse models)")
            continue
        raise SpecError("unsupported or unknown Timeloop attribute", source=source, key=f"{key}.{name}",
                        value=value, accepted=", ".join(sorted(_USED | _ESTIMATE_ONLY | set(_DEFAULTS))))


def _int_attr(attrs: dict[str, Any], name: str, default: int | None, *, source: str, key: str) -> int | None:
    value = attrs.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value != int(value) or value < 1:  # NaN and inf are refused here, not by int()
        raise SpecError("must be a positive integer", source=source, key=f"{key}.{name}", value=value)
    return int(value)


def _mesh(attrs: dict[str, Any], copies: int, *, source: str, key: str) -> tuple[int, int]:
    mx = _int_attr(attrs, "meshX", None, source=source, key=key)
    my = _int_attr(attrs, "meshY", None, source=source, key=key)
    if mx is None:
        mx = copies // my if my else copies
    if my is None:
        my = copies // mx
    if mx * my != copies:
        raise SpecError("meshX * meshY must equal the number of copies", source=source, key=f"{key}.meshX",
                        value=(mx, my), accepted=f"a product of {copies}")
    return mx, my


def _per_parent(child: tuple[int, int, int], parent: tuple[int, int, int], *, source: str, key: str
                ) -> tuple[int, int, int]:
    """(copies, meshX, meshY) chip-wide -> per parent instance; each must divide exactly."""
    if any(c % p for c, p in zip(child, parent, strict=True)):
        raise SpecError("copies and mesh must be multiples of the enclosing level's", source=source, key=key,
                        value=child, accepted=f"multiples of {parent}")
    return child[0] // parent[0], child[1] // parent[1], child[2] // parent[2]


def _storage(comp: dict[str, Any], attrs: dict[str, Any], fan: tuple[int, int, int], ert: dict[str, float],
             area_um2: float | None, *, source: str, key: str) -> StorageLevel:
    cls = str(comp.get("class", ""))
    name = split_name(comp["name"], source=source)[0]
    word_bits = _int_attr(attrs, "datawidth", _int_attr(attrs, "word_bits", None, source=source, key=key),
                          source=source, key=key)
    if word_bits is None:
        raise SpecError("storage needs 'datawidth' (bits per word)", source=source, key=f"{key}.datawidth")
    cluster = _int_attr(attrs, "cluster_size", 1, source=source, key=key) or 1
    width = _int_attr(attrs, next((a for a in _ALIASES["width"] if a in attrs), "width"), None, source=source,
                      key=key)
    block = _int_attr(attrs, "block_size", None, source=source, key=key)
    if block is None:
        block = 1 if width is None else width // (word_bits * cluster)
        if width is not None and (block < 1 or width % (word_bits * cluster)):
            raise SpecError("width must be a multiple of datawidth x cluster_size", source=source,
                            key=f"{key}.width", value=width, accepted=f"a multiple of {word_bits * cluster}")
    depth = _int_attr(attrs, next((a for a in _ALIASES["depth"] if a in attrs), "depth"), None, source=source,
                      key=key)
    dummy = "dummy" in cls
    capacity = None if ("DRAM" in cls or depth is None) else depth * block
    mb = _int_attr(attrs, "multiple_buffering", 1, source=source, key=key)
    if mb not in (1, 2):
        raise SpecError("unsupported multiple_buffering", source=source, key=f"{key}.multiple_buffering", value=mb,
                        accepted="1 or 2")
    bws = [attrs.get(k) for k in ("read_bandwidth", "write_bandwidth")]
    for k, v in zip(("read_bandwidth", "write_bandwidth"), bws, strict=True):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            raise SpecError("must be a positive number (words per cycle)", source=source, key=f"{key}.{k}", value=v)
    table = (_pick(ert, "read"), _pick(ert, "fill"), _pick(ert, "update"))
    area_mm2 = (0.0 if dummy else None) if area_um2 is None else area_um2 * 1e-6   # None: the area model
    return StorageLevel(
        name=name, instances=fan[0], mesh_x=fan[1], mesh_y=fan[2], keeps=() if dummy else DATASPACES,
        capacity_words=capacity, word_bits=word_bits, block_size=block,
        read_bandwidth_words_per_cycle=None if bws[0] is None else float(bws[0]),
        write_bandwidth_words_per_cycle=None if bws[1] is None else float(bws[1]),
        energy_pj={} if dummy else {ds: table for ds in DATASPACES},
        leakage_pj_per_cycle=0.0 if dummy else _pick(ert, "leak"), area_mm2=area_mm2,
        double_buffered=mb == 2, cluster_size=cluster)


def build_hierarchy(arch: dict[str, Any], ert: dict[str, Any] | None, art: dict[str, Any] | None, *,
                    source: str, name: str, extra_attributes: frozenset[str] = frozenset()) -> Hierarchy:
    """The ``Hierarchy`` of a Timeloop v0.4 architecture tree with its ERT (and optional ART);
    ``extra_attributes`` are accepted too (the caller models them: Sparseloop's metadata storage)."""
    energies = _ert_table(ert, source=source)
    areas = {name: t["area"] for name, t in _ert_table(art, source=source, kind="ART").items()}
    levels: list[StorageLevel] = []
    compute: ComputeUnit | None = None
    parent = (1, 1, 1)
    cycle_s = 1e-9
    for comp, copies, inherited in flatten_tree(arch, source=source):
        short, _ = split_name(comp.get("name", ""), source=source)
        key = f"architecture.{short}"
        unknown = set(comp) - {"name", "class", "subclass", "attributes", "required_actions", "enabled",
                               "description"}
        if unknown:
            raise SpecError("unknown key", source=source, key=f"{key}.{sorted(unknown)[0]}",
                            accepted="name, class, subclass, attributes, required_actions, enabled")
        if comp.get("enabled", True) is not True:
            raise SpecError("disabled components are not supported", source=source, key=f"{key}.enabled",
                            value=comp.get("enabled"), accepted="true")
        attrs = {**inherited, **(comp.get("attributes") or {})}
        _check_attributes(attrs, set(comp.get("attributes") or {}), source=source, key=key, extra=extra_attributes)
        cycle_s = number(attrs.get("global_cycle_seconds", cycle_s), source=source, key=f"{key}.global_cycle_seconds")
        if cycle_s <= 0:
            raise SpecError("must be > 0", source=source, key=f"{key}.global_cycle_seconds", value=cycle_s)
        cls = str(comp.get("class", ""))
        if compute is not None:
            raise SpecError("the compute unit must be the innermost component", source=source, key=key)
        mesh = _mesh(attrs, copies, source=source, key=key)
        fan = _per_parent((copies, *mesh), parent, source=source, key=key)
        if not any(s in cls for s in _BUFFER + _COMPUTE):
            raise SpecError("unsupported component class (networks and custom classes are not modelled)",
                            source=source, key=f"{key}.class", value=cls,
                            accepted="a storage class (DRAM, SRAM, regfile, smartbuffer*, storage) or a MAC")
        if short not in energies and "dummy" not in cls:
            raise SpecError("no ERT entry for this component", source=source, key=key,
                            accepted="an ERT (timeloop-mapper.ERT.yaml or an 'ERT:' key) listing it")
        if any(s in cls for s in _BUFFER):
            levels.append(_storage(comp, attrs, fan, energies.get(short, {}), areas.get(short),
                                   source=source, key=key))
        else:
            compute = ComputeUnit(name=short, instances=fan[0], mesh_x=fan[1], mesh_y=fan[2],
                                  energy_pj=_pick(energies[short], "compute"),
                                  area_mm2=None if short not in areas else areas[short] * 1e-6)
        parent = (copies, *mesh)
    if compute is None:
        raise SpecError("no compute unit (class intmac/mac/compute)", source=source, key="architecture")
    try:
        return Hierarchy(name=name, levels=tuple(levels), compute=compute, clock_mhz=1e-6 / cycle_s)
    except SpecError as err:
        raise SpecError(str(err), source=source) from None


def apply_keep_constraints(hierarchy: Hierarchy, constraints: Any, *, source: str,
                           tensors: dict[str, str] | None = None) -> tuple[Hierarchy, list[str]]:
    """Apply Timeloop's ``bypass``/``datatype``/``dataspace`` constraints (``{targets: [...]}`` or a
    list) for searching: a ``bypass`` tensor leaves the level's ``keeps``, a ``keep`` tensor joins
    its ``always_keeps`` (the search never bypasses it). ``tensors`` maps the problem's tensor names
    to our dataspaces (conv2D's by default). A target that is no level is a ``SpecError``; other
    constraint types are read by ``mapping.loop_constraints``. Returns the hierarchy and the
    constraints not applied (none)."""
    from dataclasses import replace

    from acceldse.mapper.timeloop.mapping import refuse_model_changing

    tensors = tensors or {"Inputs": "inputs", "Weights": "weights", "Outputs": "outputs"}
    keeps = {lv.name: set(lv.keeps) for lv in hierarchy.levels}
    always = {lv.name: set(lv.always_keeps) for lv in hierarchy.levels}
    skipped: list[str] = []
    targets = constraints.get("targets") or [] if isinstance(constraints, dict) else constraints or []
    if not isinstance(targets, list):
        raise SpecError("constraints must list targets", source=source, key="targets", value=targets)
    for i, c in enumerate(targets):
        if not isinstance(c, dict) or c.get("type") not in ("bypass", "bypassing", "datatype", "dataspace"):
            continue   # loop constraints (and unknown types: refused there, mapping.loop_constraints)
        level = c.get("target", c.get("name"))
        if not isinstance(level, str) or level not in keeps:
            raise SpecError("constraint target is not a level of the architecture", source=source,
                            key=f"targets[{i}].target", value=level, accepted=", ".join(keeps))
        refuse_model_changing(c, source=source, key=f"targets[{i}]")
        if isinstance(c.get("keep_only"), list) or isinstance(c.get("bypass_only"), list):
            only = "keep_only" if isinstance(c.get("keep_only"), list) else "bypass_only"
            other = [t for t in tensors if t not in c[only]]
            c = {**c, "keep": c[only], "bypass": other} if only == "keep_only" else \
                {**c, "bypass": c[only], "keep": other}
        for field_name in ("bypass", "keep"):
            names = c.get(field_name) or []
            if not isinstance(names, list):
                raise SpecError("must list tensors", source=source, key=f"targets[{i}].{field_name}", value=names,
                                accepted=", ".join(tensors))
            for t in names:
                if not isinstance(t, str) or t not in tensors:
                    raise SpecError("unknown tensor", source=source, key=f"targets[{i}].{field_name}", value=t,
                                    accepted=", ".join(tensors))
                ds = tensors[t]
                if field_name == "bypass":
                    keeps[level].discard(ds)
                    always[level].discard(ds)
                elif ds in keeps[level]:
                    always[level].add(ds)
                else:
                    raise SpecError(f"level {level!r} cannot keep {t}", source=source,
                                    key=f"targets[{i}].keep", value=t,
                                    accepted=", ".join(n for n, d in tensors.items() if d in keeps[level])
                                    or "nothing (a pure fan-out level)")
    levels = tuple(replace(lv, keeps=tuple(ds for ds in DATASPACES if ds in keeps[lv.name]),
                           always_keeps=tuple(ds for ds in DATASPACES if ds in always[lv.name])) if i else lv
                   for i, lv in enumerate(hierarchy.levels))
    return replace(hierarchy, levels=levels), skipped
