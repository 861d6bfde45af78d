"""Fuzzed spec loaders: any YAML-like input to the hierarchy and mapping loaders either loads or
raises SpecError (never another exception)."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.mapper.cost import evaluate
from acceldse.mapper.mapping import Mapping
from acceldse.mapper.timeloop import load_timeloop
from acceldse.simulator.specs.hierarchy_loader import build_hierarchy, load_hierarchy
from acceldse.workloads.errors import SpecError

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=6),
                    st.sampled_from(["inputs", "weights", "outputs", "DRAM", "K", "P", "read"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
LEVEL_KEYS = st.sampled_from(["name", "instances", "mesh_x", "mesh_y", "keeps", "capacity_words", "block_size",
                              "energy_pj", "read_bandwidth_words_per_cycle", "double_buffered", "area_mm2", "bogus"])
LEVEL = st.dictionaries(LEVEL_KEYS, VALUES, max_size=6)


@settings(max_examples=150, deadline=None)
@given(levels=st.lists(LEVEL, min_size=0, max_size=3), compute=st.one_of(VALUES, st.dictionaries(
    st.sampled_from(["energy_pj", "instances", "mesh_x", "area_mm2"]), VALUES)))
def test_hierarchy_loader_only_raises_spec_error(levels, compute):
    data = {"version": 1, "name": "fuzz", "levels": levels, "compute": compute}
    with contextlib.suppress(SpecError):
        build_hierarchy(data, source="<fuzz>")


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(st.dictionaries(st.sampled_from(["level", "temporal", "order", "spatial_x", "spatial_y",
                                                         "keeps", "double_buffered"]), VALUES, max_size=5),
                        max_size=4))
def test_mapping_loader_only_raises_spec_error(entries):
    text = yaml.safe_dump({"version": 1, "mapping": entries})
    hierarchy = load_hierarchy("eyeriss_like")
    with contextlib.suppress(SpecError):
        Mapping.from_yaml(text).to_arrays(hierarchy)


def _paths(node, prefix=()):
    """Every key path of a parsed YAML tree."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


_TIMELOOP = Path(__file__).parents[1] / "golden" / "timeloop" / "simple_output_stationary"
_TL_DOC = {**yaml.safe_load((_TIMELOOP / "parsed-processed-input.yaml").read_text()),
           **yaml.safe_load((_TIMELOOP / "timeloop-mapper.map.yaml").read_text()),
           **yaml.safe_load((_TIMELOOP / "timeloop-mapper.ERT.yaml").read_text())}
_TL_DOC.pop("compound_components")
_TL_PATHS = [p for p in _paths(_TL_DOC) if p[0] in ("architecture", "problem", "mapping", "ERT")]


@settings(max_examples=60, deadline=None)
@given(where=st.integers(0, len(_TL_PATHS) - 1), value=VALUES)
def test_timeloop_loader_only_raises_spec_error(tmp_path_factory, where, value):
    """Any one node of Timeloop's input replaced by junk: loads (and evaluates) or raises SpecError."""
    doc = copy.deepcopy(_TL_DOC)
    node = doc
    path = _TL_PATHS[where]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    out = tmp_path_factory.mktemp("tl") / "in.yaml"
    out.write_text(yaml.safe_dump(doc))
    with contextlib.suppress(SpecError):
        spec = load_timeloop([out])
        evaluate(spec.layer, spec.hierarchy, spec.mapping)


_V4 = Path(__file__).parents[1] / "golden" / "timeloop" / "timeloopfe" / "2024_dse" / "inputs"
_V4_REF = Path(__file__).parents[1] / "golden" / "timeloop" / "exercises" / "2024_dse"


def _v4_doc() -> dict:
    from acceldse.mapper.timeloop.v4 import load_yaml

    doc: dict = {}
    for name in ("arch.yaml", "variables.yaml", "problem.yaml"):
        doc.update(load_yaml(_V4 / name, {"reg_enabled": False}))
    return doc


_V4_DOC = _v4_doc()
_V4_PATHS = [p for p in _paths(_V4_DOC) if p[0] in ("architecture", "variables")]


@settings(max_examples=40, deadline=None)
@given(where=st.integers(0, len(_V4_PATHS) - 1), value=VALUES)
def test_timeloopfe_loader_only_raises_spec_error(tmp_path_factory, where, value):
    """Any one node of a timeloopfe (v4) architecture or its variables replaced by junk (tags kept
    as the loader's ``!node`` key): loads and evaluates, or raises SpecError."""
    doc = copy.deepcopy(_V4_DOC)
    node = doc
    path = _V4_PATHS[where]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    out = tmp_path_factory.mktemp("v4") / "in.yaml"
    out.write_text(yaml.safe_dump(doc))
    with contextlib.suppress(SpecError):
        spec = load_timeloop([out, _V4_REF / "timeloop-mapper.ERT.yaml", _V4_REF / "timeloop-mapper.map.yaml"])
        evaluate(spec.layer, spec.hierarchy, spec.mapping)


_TL_SEARCH_DOC = {k: v for k, v in _TL_DOC.items() if k != "mapping"}
_TL_CONSTRAINT_PATHS = [p for p in _paths(_TL_SEARCH_DOC) if p[0] == "architecture_constraints"]


@settings(max_examples=40, deadline=None)
@given(where=st.integers(0, len(_TL_CONSTRAINT_PATHS) - 1), value=VALUES)
def test_timeloop_constraints_only_raise_spec_error(tmp_path_factory, where, value):
    """Any one node of Timeloop's constraints replaced by junk: the constrained search runs (found
    or not) or raises SpecError."""
    from acceldse.mapper.timeloop import run_timeloop

    doc = copy.deepcopy(_TL_SEARCH_DOC)
    node = doc
    path = _TL_CONSTRAINT_PATHS[where]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    out = tmp_path_factory.mktemp("tlc") / "in.yaml"
    out.write_text(yaml.safe_dump(doc))
    with contextlib.suppress(SpecError):
        run_timeloop([out], search="random", budget=50)
