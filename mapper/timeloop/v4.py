"""timeloopfe's (v4) input files -> the v0.4 tree the rest of ``mapper.timeloop`` reads.

What users write for Timeloop today is timeloopfe's form, and this reads it as timeloopfe does:

* **jinja2 templates.** Every file is rendered with jinja2 first (``top.yaml.jinja``,
  ``{{datawidth_jinja|default(8)}}``), with the values given on the command line
  (``--timeloop-var NAME=VALUE``; timeloopfe's ``jinja2_parse_data``) and timeloopfe's helpers:
  ``cwd()`` (the file's folder), ``add_to_path(dir)``, ``path_exists(path)``,
  ``include(path, 'key.sub')``, ``include_all(glob, 'key')`` and ``include_text(path)``
  (relative paths are looked up in the file's folder, then the added ones).
* **Tags.** ``!Container``, ``!Component``, ``!Hierarchical``, ``!Parallel`` and ``!Nothing``
  mark the ``architecture.nodes`` list; any other tag is a ``SpecError``.
* **``nodes`` -> v0.4 tree.** Nodes are walked outermost first. A container's ``attributes``
  are in scope for every node after it (those Timeloop reads, such as ``datawidth``, are set on
  each component; others are variables for expressions, as in timeloopfe); a container with
  ``spatial: {meshX, meshY}`` multiplies the fan-out and, as timeloopfe does, becomes a
  ``dummy_storage`` level
  ``inter_<name>_spatial`` that keeps nothing and carries the container's spatial constraints.
  A component becomes ``name[1..N]`` with the fan-out above it as ``meshX``/``meshY`` (its own
  ``spatial`` multiplies that fan-out for it and everything below).
* **``variables``** are evaluated in order and every attribute is an expression over them, the
  inherited attributes and the component's own (``datawidth * 3``); a string that is not an
  expression (``LPDDR4``, ``45nm``) stays a string. Expressions are arithmetic, comparisons,
  ``a if c else b`` and ``len min max ceil floor log2 log sqrt round abs int float``; nothing
  else is evaluated.
* **Constraints** of a node (``dataspace: {keep, bypass}``, ``temporal``/``spatial``: factors,
  permutation, split, ...) become ``architecture_constraints`` targets, with the top-level
  ``constraints.targets`` and ``extra_mapping_constraints``; a ``dataspace`` constraint with only
  ``keep`` bypasses the other tensors.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

from acceldse.mapper.timeloop.arch import INHERITED
from acceldse.mapper.timeloop.expressions import evaluate
from acceldse.mapper.timeloop.macros import expand_macros
from acceldse.workloads.errors import SpecError

NODE = "!node"
"""Key holding a tagged mapping's tag (``Container``, ``Component``...) after loading."""
TAGS = ("Container", "Component", "Hierarchical", "Parallel", "Pipelined", "Nothing")
_STORAGE_DEFAULTS = {"width": 1, "depth": 1, "datawidth": 1, "technology": -1}


# ---- loading: jinja2, then YAML with timeloopfe's tags ------------------------------------------

def _loader() -> type:
    import yaml

    from acceldse.workloads.strict_yaml import StrictLoader

    class Loader(StrictLoader):  # a key given twice is an error, as in timeloopfe's YAML reader
        pass

    def tagged(tag: str) -> Any:
        def construct(loader: Any, node: Any) -> dict[str, Any]:
            if isinstance(node, yaml.MappingNode):
                value = loader.construct_mapping(node, deep=True)
            elif isinstance(node, yaml.SequenceNode):
                value = {"nodes": loader.construct_sequence(node, deep=True)}
            else:
                value = {}
            return {NODE: tag, **value}
        return construct

    for tag in TAGS:
        Loader.add_constructor(f"!{tag}", tagged(tag))
    return Loader


def load_yaml(path: Path, variables: dict[str, Any] | None = None, search: list[Path] | None = None) -> Any:
    """One Timeloop / timeloopfe file: rendered with jinja2 when it has template syntax, then parsed."""
    import yaml

    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(f"cannot read Timeloop file: {err.strerror}", source=str(path)) from None
    if "{{" in text or "{%" in text or path.suffix in (".jinja", ".jinja2", ".j2"):
        text = _render(text, path, variables or {}, search if search is not None else [])
    try:
        return merge_keys(yaml.load(text, Loader=_loader()))  # noqa: S506 -- a SafeLoader with timeloopfe's tags
    except yaml.constructor.ConstructorError as err:
        if str(err.problem).startswith("duplicate key"):
            line = f" at line {err.problem_mark.line + 1}" if err.problem_mark is not None else ""
            raise SpecError(f"malformed YAML{line}: {err.problem}", source=str(path),
                            accepted="each key once per mapping") from None
        raise SpecError(f"unsupported YAML tag: {err.problem}", source=str(path),
                        accepted=", ".join(f"!{t}" for t in TAGS)) from None
    except yaml.YAMLError as err:
        raise SpecError(f"malformed YAML: {getattr(err, 'problem', None) or err}", source=str(path)) from None


def merge_keys(data: Any) -> Any:
    """timeloopfe's recursive merge key: ``<<<: *base`` fills in every key of ``base`` the mapping
    lacks, nested mappings merged the same way (the mapping's own values win; YAML's ``<<`` is the
    shallow form, done by the YAML loader)."""
    if isinstance(data, list):
        return [merge_keys(v) for v in data]
    if not isinstance(data, dict):
        return data
    out = {k: merge_keys(v) for k, v in data.items() if k != "<<<"}
    if "<<<" in data:
        bases = data["<<<"] if isinstance(data["<<<"], list) else [data["<<<"]]
        for base in bases:
            out = _deep_merge(out, merge_keys(base))
    return out


def _deep_merge(own: dict[str, Any], base: Any) -> dict[str, Any]:
    if not isinstance(base, dict):
        return own
    out = dict(own)
    for key, value in base.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _deep_merge(out[key], value)
    return out


def _render(text: str, path: Path, variables: dict[str, Any], search: list[Path]) -> str:
    try:
        import jinja2
    except ImportError:  # pragma: no cover -- jinja2 comes with the `timeloop` extra
        raise SpecError("a jinja2 template needs jinja2 (pip install 'acceldse[timeloop]')",
                        source=str(path)) from None
    here = path.resolve().parent
    dirs = [here, *search]

    def find(name: str) -> Path:
        p = Path(name)
        for base in ([Path()] if p.is_absolute() else dirs):
            if (base / p).is_file():
                return base / p
        raise SpecError("included file not found", source=str(path), value=name,
                        accepted="a path relative to " + ", ".join(map(str, dirs)))

    def dig(data: Any, key: str, name: str) -> Any:
        for part in [k for k in key.split(".") if k]:
            if not isinstance(data, dict) or part not in data:
                raise SpecError("included file lacks the key", source=name, key=key)
            data = data[part]
        return data

    def include(name: str, key: str = "") -> str:
        found = find(name)
        return json.dumps(dig(load_yaml(found, variables, dirs), key, str(found)))

    def include_all(pattern: str, key: str = "") -> str:
        items: list[Any] = []
        for base in dirs:
            for name in sorted(glob.glob(str(base / pattern))):
                got = dig(load_yaml(Path(name), variables, dirs), key, name)
                items += got if isinstance(got, list) else [got]
            if items:
                break
        return json.dumps(items)

    def add_to_path(name: str) -> str:
        dirs.append(Path(name) if Path(name).is_absolute() else here / name)
        return ""

    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals.update(cwd=lambda: str(here), add_to_path=add_to_path, include=include, include_all=include_all,
                       path_exists=lambda name: Path(name).exists() or any((d / name).exists() for d in dirs),
                       include_text=lambda name: find(name).read_text())
    try:
        return env.from_string(text).render(**variables)
    except jinja2.UndefinedError as err:
        raise SpecError(f"template variable not set: {err.message}", source=str(path),
                        accepted="a value for it in template_vars") from None
    except SpecError:
        raise
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as err:
        raise SpecError(f"bad jinja2 template: {type(err).__name__}: {err}", source=str(path)) from None


def _attributes(own: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """``own`` evaluated over ``scope`` and each other (in as many passes as references need)."""
    out = dict(own)
    for _ in range(len(own) + 1):
        changed = False
        for key, value in own.items():
            new = evaluate(value, {**scope, **{k: v for k, v in out.items() if not isinstance(v, str)}})
            if new is not out[key] and new != out[key]:
                out[key], changed = new, True
        if not changed:
            break
    return out


# ---- nodes -> v0.4 ------------------------------------------------------------------------------

def is_v4(architecture: Any) -> bool:
    return isinstance(architecture, dict) and "nodes" in architecture


def to_v04(merged: dict[str, Any], *, source: str) -> dict[str, Any]:
    """``merged`` with a ``nodes:`` architecture replaced by timeloopfe's v0.4 tree and the nodes'
    constraints appended to ``architecture_constraints``."""
    raw_vars = merged.get("variables") or {}
    if not isinstance(raw_vars, dict):
        raise SpecError("variables must be a mapping", source=source, key="variables", value=raw_vars)
    variables: dict[str, Any] = {}
    for key, value in raw_vars.items():
        if key != "version":
            variables[key] = evaluate(value, variables)
    arch = merged["architecture"]
    local: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    problem = merged.get("problem")
    shape = problem.get("shape") if isinstance(problem, dict) else None
    spaces = shape.get("data_spaces") if isinstance(shape, dict) else None
    tensors = [d.get("name") for d in spaces if isinstance(d, dict)] if isinstance(spaces, list) else []
    containers: dict[str, str | None] = {}   # container name -> its fan-out level (None: no fan-out)
    instance = problem.get("instance") if isinstance(problem, dict) else None
    instance = {**instance, "densities": instance.get("densities", {})} if isinstance(instance, dict) else {}
    state = {"inherited": {}, "mesh": (1, 1), "tensors": tensors, "containers": containers,
             "spec": {"problem": {"instance": instance}}}   # timeloopfe's `spec` in expressions
    _walk(arch.get("nodes"), state, local, targets, variables, source=source, key="architecture.nodes")
    tree = {"version": "0.4", "subtree": [{"name": "system_top_level", "attributes": dict(variables),
                                           "local": local}]}
    out = {**merged, "architecture": tree}
    for key in ("mapping", "constraints", "extra_mapping_constraints"):
        if isinstance(out.get(key), dict) and isinstance(out[key].get("targets"), list):
            out[key] = {**out[key], "targets": _retarget(out[key]["targets"], containers, source=source,
                                                         key=f"{key}.targets")}
        elif isinstance(out.get(key), list):
            out[key] = _retarget(out[key], containers, source=source, key=key)
    if isinstance(out.get("mapping"), list) and out["mapping"]:   # timeloopfe: a fan-out level keeps nothing
        typed = {(e.get("target"), e.get("type")) for e in out["mapping"] if isinstance(e, dict)}
        out["mapping"] = [*out["mapping"], *({"target": d, "type": "bypass", "bypass": list(tensors)}
                                             for d in containers.values()
                                             if d is not None and (d, "bypass") not in typed)]
    folded = fold_constraints(out, targets)
    expand_macros(folded["architecture_constraints"]["targets"], problem, source=source)
    _pad_spatial_permutations(folded["architecture_constraints"]["targets"], problem)
    return folded


def _pad_spatial_permutations(targets: list[Any], problem: Any) -> None:
    """timeloopfe's permutation optimiser on spatial constraints: ranks fixed to 1 and ranks of size 1
    that the permutation leaves out are put in front of it (innermost), one at a time -- which moves
    the ``split`` point, so what Timeloop is given (and we read) is the padded permutation."""
    import re

    instance = problem.get("instance") if isinstance(problem, dict) else None
    shape = problem.get("shape") if isinstance(problem, dict) else None
    if not isinstance(instance, dict) or not isinstance(shape, dict):
        return
    dims = [d for d in shape.get("dimensions") or [] if isinstance(d, str)]
    for t in targets:
        if not isinstance(t, dict) or t.get("type") != "spatial":
            continue
        raw = t.get("permutation") or ""
        perm = [str(r) for r in raw] if isinstance(raw, list) else [c for c in str(raw).split("#")[0] if c.strip()]
        factors = t.get("factors") or ""
        text = ",".join(map(str, factors)) if isinstance(factors, list) else str(factors)
        for rank, value in re.findall(r"([A-Za-z]+)\s*(?:<=|>=|=)?\s*([0-9]+)", text.split("#")[0]):
            if int(value) == 1 and rank not in perm:
                perm.insert(0, rank)
        for d in dims:
            if instance.get(d) == 1 and d not in perm:
                perm.insert(0, d)
        t["permutation"] = "".join(perm)


def _retarget(entries: list[Any], containers: dict[str, str | None], *, source: str, key: str) -> list[Any]:
    """Mapping / constraint entries whose ``target`` names a container aimed at its fan-out level
    ``inter_<name>_spatial``, as timeloopfe attaches them; a container without a fan-out has no level
    in Timeloop's tree (timeloopfe would drop the entry): a ``SpecError``."""
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get("target") in containers:
            dummy = containers[entry["target"]]
            if dummy is None:
                raise SpecError("targets a container without a spatial fan-out (no level of its own; timeloopfe "
                                "drops it)", source=source, key=f"{key}[{i}].target", value=entry["target"],
                                accepted="a component, or a container with spatial: {meshX, meshY}")
            entry = {**entry, "target": dummy}
        out.append(entry)
    return out


def fold_constraints(merged: dict[str, Any], targets: list[dict[str, Any]]) -> dict[str, Any]:
    """``architecture_constraints`` extended by ``targets``, the top-level ``constraints`` and the
    example designs' ``extra_mapping_constraints``."""
    def listed(key: str) -> list[Any]:
        value = merged.get(key) or {}
        found = value.get("targets") if isinstance(value, dict) else value
        return found if isinstance(found, list) else []

    out = {k: v for k, v in merged.items() if k not in ("constraints", "extra_mapping_constraints")}
    out["architecture_constraints"] = {"targets": [*listed("architecture_constraints"), *targets,
                                                   *listed("constraints"), *listed("extra_mapping_constraints")]}
    return out


def _walk(nodes: Any, state: dict[str, Any], local: list[dict[str, Any]], targets: list[dict[str, Any]],
          variables: dict[str, Any], *, source: str, key: str) -> None:
    if not isinstance(nodes, list):
        raise SpecError("nodes must be a list", source=source, key=key, value=nodes)
    for i, node in enumerate(nodes):
        where = f"{key}[{i}]"
        if not isinstance(node, dict) or NODE not in node:
            raise SpecError("a node must be tagged", source=source, key=where, value=node,
                            accepted=", ".join(f"!{t}" for t in TAGS))
        tag = node[NODE]
        if tag == "Nothing":
            continue
        if tag in ("Hierarchical", "Parallel", "Pipelined"):
            _walk(node.get("nodes"), state, local, targets, variables, source=source, key=f"{where}.nodes")
            continue
        name = node.get("name")
        if not isinstance(name, str) or not name:
            raise SpecError("a node needs a name", source=source, key=f"{where}.name", value=name)
        scope = {**variables, **state["inherited"], "spec": state["spec"]}
        raw_attrs = node.get("attributes") or {}
        if not isinstance(raw_attrs, dict):
            raise SpecError("attributes must be a mapping", source=source, key=f"{where}.attributes", value=raw_attrs)
        attrs = _attributes(raw_attrs, scope)
        constraints = node.get("constraints") or {}
        if not isinstance(constraints, dict):
            raise SpecError("constraints must be a mapping", source=source, key=f"{where}.constraints")
        mx, my = state["mesh"]
        if tag == "Container":
            state["inherited"] = {**state["inherited"], **attrs}
            spatial = node.get("spatial") or {}
            state["containers"][name] = None
            if spatial:
                sx, sy = _mesh(spatial, scope, source=source, key=f"{where}.spatial")
                dummy = f"inter_{name}_spatial"
                state["containers"][name] = dummy
                local.append({"name": f"{dummy}[1..{mx * my}]", "class": "dummy_storage",
                              "attributes": {**_STORAGE_DEFAULTS, "meshX": mx, "meshY": my}})
                targets += _targets(dummy, constraints, scope, state["tensors"], fanout=sx * sy, source=source,
                                    key=f"{where}.constraints")
                state["mesh"] = (mx * sx, my * sy)
            continue
        unknown = set(node) - {NODE, "name", "class", "subclass", "attributes", "constraints", "required_actions",
                               "enabled", "area_scale", "energy_scale", "spatial"}
        if unknown:
            raise SpecError("unsupported component key", source=source, key=f"{where}.{sorted(unknown)[0]}",
                            accepted="name, class, subclass, attributes, constraints, required_actions, enabled, "
                                     "spatial")
        if node.get("spatial"):  # the component's own fan-out: it (and all below) has meshX x meshY copies
            if "spatial" in constraints:
                raise SpecError("spatial constraints on a component's own fan-out are not read", source=source,
                                key=f"{where}.constraints.spatial", accepted="a !Container with spatial and its "
                                "constraints above the component")
            sx, sy = _mesh(node["spatial"], scope, source=source, key=f"{where}.spatial")
            mx, my = mx * sx, my * sy
            state["mesh"] = (mx, my)
        passed = {k: v for k, v in state["inherited"].items() if k in INHERITED}
        comp = {"name": f"{name}[1..{mx * my}]", "class": node.get("class"),
                "attributes": {**passed, **attrs, "meshX": mx, "meshY": my}}
        for extra in ("subclass", "required_actions", "enabled"):
            if extra in node:
                comp[extra] = node[extra]
        local.append(comp)
        targets += _targets(name, constraints, {**scope, **attrs}, state["tensors"], source=source,
                            key=f"{where}.constraints")


def _mesh(spatial: Any, scope: dict[str, Any], *, source: str, key: str) -> tuple[int, int]:
    """(meshX, meshY) of a ``spatial: {meshX, meshY}`` entry (expressions allowed)."""
    if not isinstance(spatial, dict) or set(spatial) - {"meshX", "meshY"}:
        raise SpecError("spatial must be {meshX: n, meshY: n}", source=source, key=key, value=spatial)
    out = []
    for axis in ("meshX", "meshY"):
        value = evaluate(spatial.get(axis, 1), scope)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError("must be a positive integer", source=source, key=f"{key}.{axis}", value=value)
        out.append(value)
    return out[0], out[1]


def _targets(target: str, constraints: dict[str, Any], scope: dict[str, Any], tensors: list[str], *,
             source: str, key: str, fanout: int = 1) -> list[dict[str, Any]]:
    """Timeloop targets of one node's constraints; a ``dataspace`` constraint that lists only
    ``keep`` bypasses the problem's other tensors (as timeloopfe writes it out); a spatial
    ``maximize_dims`` without a capacity gets the node's fan-out (``expand_macros``)."""
    out: list[dict[str, Any]] = []
    for kind, body in constraints.items():
        if not isinstance(body, dict):
            raise SpecError("a constraint must be a mapping", source=source, key=f"{key}.{kind}", value=body)
        entry: dict[str, Any] = {"target": target, "type": "bypass" if kind == "dataspace" else kind}
        for field, value in body.items():
            if field == "factors" and isinstance(value, list):
                value = ",".join(map(str, value))
            elif field == "permutation" and isinstance(value, list):
                value = "".join(map(str, value))
            elif field == "split":
                value = evaluate(value, scope)
            entry[field] = value
        if kind == "spatial" and entry.get("maximize_dims") and entry.get("maximize_dims_capacity") is None:
            entry["maximize_dims_capacity"] = fanout
        if kind == "dataspace" and "keep" in entry and "bypass" not in entry and isinstance(entry["keep"], list):
            entry["bypass"] = [t for t in tensors if t not in entry["keep"]]
        out.append(entry)
    return out
