"""Speak Timeloop: load Timeloop's own inputs and evaluate a given mapping.

``load_timeloop(paths)`` reads one or more Timeloop YAML files (merged like Timeloop merges
its inputs): ``architecture`` (v0.4 ``subtree``/``local`` tree), ``problem`` (shape +
instance), ``mapping`` (the list in ``timeloop-mapper.map.yaml``), ``ERT`` and optionally
``ART`` -- e.g. an exercise's ``parsed-processed-input.yaml`` plus ``timeloop-mapper.map.yaml``,
``timeloop-mapper.ERT.yaml`` and ``timeloop-mapper.ART.yaml`` -- or timeloopfe's own (v4) files:
jinja2 templates, ``nodes:`` with ``!Container``/``!Component`` tags, ``variables``,
``constraints`` (``mapper.timeloop.v4``). It returns the ``Layer``,
``Hierarchy`` and ``Mapping`` for ``mapper.cost.evaluate``; ``format_stats`` prints the result
the way ``timeloop-model.stats.txt`` does.

Top-level keys that only steer Timeloop's *search* or Accelergy's *estimation*
(``mapper``, ``mapspace``, ``architecture_constraints``, ``mapspace_constraints``,
``compound_components``, ``components``, ``globals``, ``model``, ``dumped_by_timeloop_front_end``) are accepted
and do not change a fixed-mapping evaluation (a search applies every constraint Timeloop's
mapper reads -- keep/bypass, factors, bounds, permutations, splits, minimum parallelism -- and
refuses the rest; ``mapspace`` is read like ``mapspace_constraints``); ``sparse_optimizations`` (Sparseloop: formats,
gating, skipping; ``mapper.timeloop.sparse``) are evaluated with Sparseloop's semantics
(``mapper.sparse``) for a given mapping or searched with them (``sparse_model``), and what of them
is not modelled is refused by key;
any other key is a ``SpecError`` naming it and the file. The
problem may have any shape (``problem.py``); the mapping may use every factor form Timeloop reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from acceldse.mapper.constraints import LoopConstraint
from acceldse.mapper.mapping import Mapping
from acceldse.mapper.timeloop import v4
from acceldse.mapper.timeloop.arch import apply_keep_constraints, build_hierarchy
from acceldse.mapper.timeloop.mapping import WORKLOAD_RANKS, build_mapping, loop_constraints
from acceldse.mapper.timeloop.problem import build_problem
from acceldse.mapper.timeloop.sparse import METADATA_ATTRIBUTES, SparseOptimizations, parse_sparse_optimizations
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.workloads.einsum import Einsum, Lowering
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer

USED_KEYS = {"architecture", "problem", "mapping", "ERT", "ART", "sparse_optimizations"}
SEARCH_ONLY_KEYS = {"mapper", "mapspace", "architecture_constraints", "mapspace_constraints", "compound_components",
                    "globals", "model", "dumped_by_timeloop_front_end", "variables", "components", "constraints",
                    "extra_mapping_constraints"}


@dataclass(frozen=True)
class TimeloopSpec:
    """A Timeloop problem + architecture + mapping, translated (``sources``: the files read).

    ``search_hierarchy`` is ``hierarchy`` with the ``architecture_constraints``' bypass rules
    applied (for searching; a given mapping is evaluated on ``hierarchy``, as timeloop-model
    does); ``loop_constraints`` are the factor/permutation/split constraints the search applies
    and ``unapplied_constraints`` lists those it does not apply. ``einsum`` is the problem as
    Timeloop states it and ``lowering`` how its ranks and tensors sit on the kernel's dims and
    dataspaces (``layer`` is ``lowering.layer``)."""

    layer: Layer
    hierarchy: Hierarchy
    mapping: Mapping | None
    sources: tuple[str, ...]
    search_hierarchy: Hierarchy | None = None
    unapplied_constraints: tuple[str, ...] = ()
    einsum: Einsum | None = None
    lowering: Lowering | None = None
    loop_constraints: tuple[LoopConstraint, ...] = ()
    sparse: SparseOptimizations | None = None
    inputs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def tensor_names(self) -> dict[str, str]:
        """Our dataspace -> the problem's tensor name (``inputs`` -> ``Inputs``, or ``A``), in the
        problem's tensor order (the order Timeloop prints them in)."""
        if self.lowering is None or self.einsum is None:
            return {}
        return {self.lowering.dataspaces[t.name]: t.name for t in self.einsum.tensors}


def read_timeloop_yaml(paths: list[str | Path], template_vars: dict[str, Any] | None = None,
                       ) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge the top-level keys of several Timeloop / timeloopfe files (jinja2 templates rendered
    with ``template_vars``; a ``nodes:`` architecture turned into the v0.4 tree, ``mapper.timeloop.v4``);
    returns (merged, key -> file)."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path in paths:
        src = str(path)
        data = v4.load_yaml(Path(path), template_vars)
        if not isinstance(data, dict):
            raise SpecError("a Timeloop input must be a YAML mapping", source=src, value=type(data).__name__)
        for key, value in data.items():
            if "ignore" in str(key):  # timeloopfe drops top-level keys named *ignore* (anchors' holders)
                continue
            if key not in USED_KEYS | SEARCH_ONLY_KEYS:
                raise SpecError("unsupported Timeloop input key", source=src, key=str(key),
                                accepted=", ".join(sorted(USED_KEYS | SEARCH_ONLY_KEYS)))
            if key == "variables" and isinstance(value, dict) and isinstance(merged.get(key), dict):
                value = {**merged[key], **value}
            if merged.get(key) and value and key in USED_KEYS:
                raise SpecError(f"'{key}' is given twice (also in {origin[key]})", source=src, key=str(key))
            if value or key not in merged:
                merged[key], origin[key] = value, src
    if v4.is_v4(merged.get("architecture")):
        merged = v4.to_v04(merged, source=origin["architecture"])
        origin.setdefault("architecture_constraints", origin["architecture"])
    elif merged.get("constraints") or merged.get("extra_mapping_constraints"):
        merged = v4.fold_constraints(merged, [])
        origin.setdefault("architecture_constraints", origin.get("constraints") or origin["extra_mapping_constraints"])
    return merged, origin


def load_timeloop(paths: list[str | Path] | str | Path, *, name: str | None = None,
                  require_mapping: bool = True, template_vars: dict[str, Any] | None = None) -> TimeloopSpec:
    """Load Timeloop inputs (see module docstring) into a ``TimeloopSpec``."""
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    if not files:
        raise SpecError("no Timeloop input files given", source="paths")
    merged, origin = read_timeloop_yaml(files, template_vars)
    # Sparseloop inputs: densities and metadata storage are read; without sparse_optimizations no
    # optimisation applies and Sparseloop's numbers are the dense ones (it skips its analysis too)
    problem = merged.get("problem")
    instance = problem.get("instance") if isinstance(problem, dict) else None
    sparse = bool(merged.get("sparse_optimizations")) or bool(isinstance(instance, dict) and instance.get("densities"))
    hierarchy, label = _hierarchy(merged, origin, files, name, required=("architecture", "problem", "ERT"),
                                  accepted="architecture, problem, mapping and ERT (e.g. timeloop-mapper.ERT.yaml)",
                                  sparse=sparse)
    einsum, lowering = build_problem(merged["problem"], source=origin["problem"], name=label, sparse=sparse)
    opts = None
    if merged.get("sparse_optimizations"):
        opts = parse_sparse_optimizations(merged["sparse_optimizations"], tensors=[t.name for t in einsum.tensors],
                                          levels=[lv.name for lv in hierarchy.levels],
                                          source=origin["sparse_optimizations"],
                                          problem_ranks=frozenset(r for t in einsum.tensors for r in t.ranks))
    mapping = None
    if merged.get("mapping"):
        mapping = build_mapping(merged["mapping"], hierarchy, lowering, einsum, source=origin["mapping"])
    elif require_mapping:
        raise SpecError("missing 'mapping' (a list, e.g. timeloop-mapper.map.yaml)", source=", ".join(map(str, files)),
                        key="mapping")
    searchable, loops, skipped = _constrain(hierarchy, merged, origin, lowering)
    return TimeloopSpec(layer=lowering.layer, hierarchy=hierarchy, mapping=mapping, sources=tuple(map(str, files)),
                        search_hierarchy=searchable, unapplied_constraints=tuple(skipped),
                        loop_constraints=tuple(loops), einsum=einsum,
                        lowering=lowering, sparse=opts,
                        inputs={k: merged[k] for k in ("architecture", "ERT", "problem")} if opts else {})


def timeloop_hardware(paths: list[str | Path], *, name: str | None = None,
                      template_vars: dict[str, Any] | None = None,
                      ) -> tuple[Hierarchy, tuple[LoopConstraint, ...], tuple[str, ...]]:
    """The architecture of Timeloop files (architecture + ERT, optional ART and constraints; no problem
    needed) as a ``Hierarchy`` for searching any workload, with the constraints' bypass rules
    applied; returns it, the loop constraints that hold for any layer (conv2D rank names; factor 1,
    permutations, split) and the constraints not applied (fixed factors > 1 need the problem)."""
    files = list(paths)
    merged, origin = read_timeloop_yaml(files, template_vars)
    hierarchy, _ = _hierarchy(merged, origin, files, name, required=("architecture", "ERT"),
                              accepted="an architecture and its ERT (e.g. timeloop-mapper.ERT.yaml)")
    searchable, loops, skipped = _constrain(hierarchy, merged, origin, None)
    general = []
    for c in loops:
        fixed = {d: f for d, f in c.factors.items() if f > 1}
        skipped += [f"factor {d}={f} on {c.level}" for d, f in fixed.items()]
        general.append(replace(c, factors={d: f for d, f in c.factors.items() if f == 1}))
    return searchable, tuple(general), tuple(skipped)


def _constrain(hierarchy: Hierarchy, merged: dict[str, Any], origin: dict[str, str],
               lowering: Lowering | None) -> tuple[Hierarchy, list[LoopConstraint], list[str]]:
    """The search hierarchy under the keep/bypass rules of ``architecture_constraints`` and
    ``mapspace_constraints`` (Timeloop applies both), their loop constraints (over the problem's
    ranks, or ``WORKLOAD_RANKS`` without one) and the constraints not applied."""
    skipped: list[str] = []
    loops: list[LoopConstraint] = []
    names = [lv.name for lv in hierarchy.levels]
    if merged.get("mapspace") and merged.get("mapspace_constraints"):
        raise SpecError("both 'mapspace' and 'mapspace_constraints' are given (Timeloop refuses that too)",
                        source=origin.get("mapspace", ""), key="mapspace")
    space_key = "mapspace" if merged.get("mapspace") else "mapspace_constraints"
    _check_template(merged.get(space_key), source=f"{origin.get(space_key, '')}: {space_key}")
    sizes = {r: lowering.layer.dims[d] for r, d in lowering.dims.items()} if lowering else None
    for key in ("architecture_constraints", space_key):
        source = f"{origin.get(key, '')}: {key}"
        raw = merged.get(key)
        if isinstance(raw, dict) and isinstance(raw.get("constraints"), list):   # Timeloop's other spelling
            raw = {**raw, "targets": [*(raw.get("targets") or []), *raw["constraints"]]}
        hierarchy, more = apply_keep_constraints(hierarchy, raw, source=source,
                                                 tensors=lowering.dataspaces if lowering else None)
        targets = raw.get("targets") if isinstance(raw, dict) else raw
        got, extra = loop_constraints(targets, lowering.dims if lowering else WORKLOAD_RANKS, names, source=source,
                                      sizes=sizes)
        skipped += more + extra
        loops += got
    return hierarchy, loops, skipped


def _check_template(mapspace: Any, *, source: str) -> None:
    """Timeloop's mapspace ``template``: ``uber`` (perfect factorizations: what the search does) is
    read; ``ruby`` (imperfect factorizations, residual tiles) is refused; anything else Timeloop
    refuses too."""
    template = mapspace.get("template", "uber") if isinstance(mapspace, dict) else "uber"
    if template == "ruby":
        raise SpecError("the ruby mapspace searches imperfect factorizations (residual tiles), which are not "
                        "modelled", source=source, key="template", value=template, accepted="uber")
    if template != "uber":
        raise SpecError("unsupported mapspace template", source=source, key="template", value=template,
                        accepted="uber")


def _hierarchy(merged: dict[str, Any], origin: dict[str, str], files: list[str | Path], name: str | None, *,
               required: tuple[str, ...], accepted: str, sparse: bool = False) -> tuple[Hierarchy, str]:
    """The ``Hierarchy`` of merged Timeloop inputs (architecture + ERT, optional ART) and its label,
    after checking that every ``required`` top-level key is there."""
    for key in required:
        if not merged.get(key):
            raise SpecError(f"missing '{key}'", source=", ".join(map(str, files)), key=key, accepted=accepted)
    label = name or Path(str(files[0])).parent.name or "timeloop"
    hierarchy = build_hierarchy(merged["architecture"], merged["ERT"], merged.get("ART"),
                                source=f"{origin['architecture']} (ERT {origin['ERT']})", name=label,
                                extra_attributes=METADATA_ATTRIBUTES if sparse else frozenset())
    return hierarchy, label


def has_problem(paths: list[str | Path], template_vars: dict[str, Any] | None = None) -> bool:
    """Whether the Timeloop files define a ``problem`` (else a workload is mapped on their architecture)."""
    return bool(read_timeloop_yaml(list(paths), template_vars)[0].get("problem"))


@dataclass(frozen=True)
class TimeloopRun:
    """A mapping evaluated (or found) on Timeloop inputs; ``cost`` is a ``mapper.cost.CostResult``."""

    layer: Layer
    hierarchy: Hierarchy
    mapping: Mapping
    cost: Any
    searched: bool
    unapplied_constraints: tuple[str, ...] = ()
    tensor_names: dict[str, str] = field(default_factory=dict)
    sparse: Any = None
    """Sparseloop's statistics (``mapper.sparse.SparseResult``) when the inputs have ``sparse_optimizations``."""


def run_timeloop(paths: list[str | Path], mapping: str | Path | None = None, *,
                 template_vars: dict[str, Any] | None = None, **search: Any) -> TimeloopRun:
    """Evaluate the mapping in ``paths`` (or the separate ``mapping`` file) like timeloop-model;
    without any mapping, search one with ``mapper.api.map_layer(**search)`` like timeloop-mapper
    (under ``sparse_optimizations``, on Sparseloop's cycles and energy).

    The Python side of ``acceldse map --timeloop``: ``paths`` are Timeloop's (or timeloopfe's)
    unchanged input files (architecture, problem, Accelergy's ERT/ART, mapping; ``template_vars``
    fill jinja2 templates). The run's ``cost`` holds Timeloop's dense figures; with
    ``sparse_optimizations`` in the inputs, ``run.sparse`` holds Sparseloop's (``cycles``,
    ``energy_pj``, actual / gated / skipped computes and accesses per level and tensor), else None.

    ``mapper.timeloop.stats.format_stats(run.cost, run.hierarchy, run.tensor_names)`` prints
    Timeloop-style stats.
    """
    from acceldse.mapper.api import map_layer
    from acceldse.mapper.cost import evaluate

    files = [*paths, *([mapping] if mapping is not None else [])]
    for path in files:
        if not Path(path).is_file():
            raise SpecError("no such file", source="mapping" if path == mapping else "paths", value=str(path))
    spec = load_timeloop(files, require_mapping=False, template_vars=template_vars)
    model = None
    if spec.sparse is not None:
        from acceldse.mapper.timeloop.sparse_model import SparseModel

        model = SparseModel(spec)
    if spec.mapping is not None:
        if model is not None:
            cost, result = model.evaluate(spec.mapping)
            return TimeloopRun(spec.layer, spec.hierarchy, spec.mapping, cost, searched=False,
                               tensor_names=spec.tensor_names, sparse=result)
        cost = evaluate(spec.layer, spec.hierarchy, spec.mapping, source=str(mapping or spec.sources[0]))
        return TimeloopRun(spec.layer, spec.hierarchy, spec.mapping, cost, searched=False,
                           tensor_names=spec.tensor_names)
    hierarchy = spec.search_hierarchy or spec.hierarchy
    best = map_layer(spec.layer, hierarchy if model is None else model.relax(hierarchy), dataflow="any",
                     constraints=spec.loop_constraints, cost_model=None if model is None else model.evaluate_many,
                     **search)
    if best.mapping is None or best.cost is None:
        raise SpecError("the search found no legal mapping", source=", ".join(map(str, files)))
    found: tuple[Any, Any] = (best.cost, None) if model is None else model.evaluate(best.mapping)
    return TimeloopRun(spec.layer, hierarchy, best.mapping, found[0], searched=True,
                       unapplied_constraints=spec.unapplied_constraints, tensor_names=spec.tensor_names,
                       sparse=found[1])


def evaluate_sparse(spec: TimeloopSpec, cost: Any) -> Any:
    """Sparseloop's statistics (``mapper.sparse.SparseResult``) of ``spec``'s mapping, whose dense
    ``CostResult`` is ``cost``; ``None`` without ``sparse_optimizations``."""
    if spec.sparse is None:
        return None
    from acceldse.mapper.sparse import analyse
    from acceldse.mapper.timeloop.sparse import build_design

    design = build_design(spec, cost, spec.inputs, spec.sparse, source=", ".join(spec.sources))
    try:
        return analyse(design)
    except ValueError as err:
        raise SpecError(str(err), source=", ".join(spec.sources), key="sparse_optimizations") from None


__all__ = ["TimeloopRun", "TimeloopSpec", "evaluate_sparse", "has_problem", "load_timeloop", "read_timeloop_yaml",
           "run_timeloop", "timeloop_hardware"]
