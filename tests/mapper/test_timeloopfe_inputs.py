"""timeloopfe (v4) inputs, unchanged: jinja2 templates, ``nodes:`` with tags, variables, constraints.

``tests/golden/timeloop/timeloopfe/`` holds the users' own input files of the exercises (commit
``2d55108``, unchanged): the example designs' ``top.yaml.jinja2`` with ``_components``,
``_include`` and each design's ``arch.yaml`` (the dense dot product's also its ``problem.yaml`` and
``mapping.yaml``, read as ``extra_mapping_constraints``), and the 2024 DSE tutorial's ``top.yaml.jinja`` with
its ``inputs/``. Rendered and converted by ``mapper.timeloop.v4``, each must give exactly what
timeloopfe gave Timeloop (its ``parsed-processed-input.yaml``: the same hierarchy, search
constraints, problem and mapping) and so Timeloop's own figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_golden_timeloop import GOLDEN_DIR
from timeloop_stats import parse_stats

from acceldse.cli import main
from acceldse.mapper.cost import evaluate
from acceldse.mapper.timeloop import load_timeloop
from acceldse.mapper.timeloop.v4 import evaluate as expression
from acceldse.workloads.errors import SpecError

RAW = GOLDEN_DIR / "timeloopfe"
CASES = {  # case -> (timeloopfe top file, template values, reference folder)
    **{d: (RAW / "example_designs" / "top.yaml.jinja2", {"architecture": d}, GOLDEN_DIR / d)
       for d in ("eyeriss_like", "simba_like", "simple_output_stationary", "simple_weight_stationary")},
    "2024_dse": (RAW / "2024_dse" / "top.yaml.jinja", {"reg_enabled": False}, GOLDEN_DIR / "exercises" / "2024_dse"),
    "dot_product": (RAW / "example_designs" / "top.yaml.jinja2", {"architecture": "sparseloop/01.2.1-DUDU-dot-product"},
                    GOLDEN_DIR / "exercises" / "sparseloop" / "01.2.1-DUDU-dot-product"),
}


def _reference(folder: Path) -> list[Path]:
    return [folder / f"timeloop-mapper.{x}.yaml" for x in ("ERT", "ART", "map")]


def binding_constraints(spec) -> list[str]:  # type: ignore[no-untyped-def]
    """The loop constraints that bind a search, as text, sorted. timeloopfe also writes ones that bind
    nothing, which this drops: ranks of size 1 or pinned to factor 1 in a temporal permutation (no
    loop to order; its permutation optimiser adds them) and all-1 temporal factors on a fan-out level
    (it keeps nothing, so the search gives it no temporal loops)."""
    from dataclasses import replace

    hollow = {lv.name for lv in spec.search_hierarchy.levels if not lv.keeps}
    out = []
    for c in spec.loop_constraints:
        loopless = {d for d, n in spec.layer.dims.items() if n == 1} | {d for d, f in c.factors.items() if f == 1}
        c = replace(c, permutation=tuple(d for d in c.permutation if d not in loopless),
                    outer=tuple(d for d in c.outer if d not in loopless))
        if c.kind == "temporal" and c.level in hollow and set(c.factors.values()) <= {1}:
            continue
        if c.factors or c.permutation or c.outer or c.x_dims is not None or c.y_dims is not None or c.has_bounds:
            out.append(repr(c))
    return sorted(out)


@pytest.mark.parametrize("case", sorted(CASES))
def test_raw_inputs_give_what_timeloopfe_gave_timeloop(case):
    top, values, folder = CASES[case]
    raw = load_timeloop([top, *_reference(folder)], template_vars=values, name=case)
    parsed = load_timeloop([folder / "parsed-processed-input.yaml", *_reference(folder)], name=case)
    assert raw.hierarchy == parsed.hierarchy
    assert raw.search_hierarchy == parsed.search_hierarchy
    assert binding_constraints(raw) == binding_constraints(parsed)
    assert raw.einsum == parsed.einsum and raw.mapping == parsed.mapping
    result = evaluate(raw.layer, raw.hierarchy, raw.mapping)
    ref = parse_stats((folder / "timeloop-mapper.stats.txt").read_text())
    assert result.cycles == ref["summary"]["Cycles"]
    assert round(result.energy_pj / 1e6, 2) == ref["summary"]["Energy"]


def test_cli_runs_the_2024_tutorial_template(capsys):
    top, _, folder = CASES["2024_dse"]
    ert, art, mapping = _reference(folder)
    assert main(["map", "--timeloop", str(top), str(ert), str(art), "--mapping", str(mapping),
                 "--timeloop-var", "reg_enabled=false", "--no-nest"]) == 0
    ours = parse_stats(capsys.readouterr().out)
    ref = parse_stats((folder / "timeloop-mapper.stats.txt").read_text())
    assert ours["compute"] == "mac" and ours["summary"]["Energy"] == ref["summary"]["Energy"] == 66981.10
    assert ours["levels"]["buffer"]["dataspaces"]["weights"]["reads"] == 8_589_934_592
    assert main(["map", "--timeloop", str(top), str(ert), "--timeloop-var", "reg_enabled"]) == 2
    assert "--timeloop-var" in capsys.readouterr().err


def test_template_default_adds_the_register_and_its_keep_constraint(tmp_path):
    """``reg_enabled`` defaults to true: a register of one 3-word block (``width: datawidth * 3``)
    that must keep all three tensors appears between the PEs' fan-out and the MACs (its ERT entry:
    the tutorial's zero-energy ``register`` class)."""
    top, _, folder = CASES["2024_dse"]
    ert = yaml.safe_load((folder / "timeloop-mapper.ERT.yaml").read_text())
    ert["ERT"]["tables"].append({"name": "system_top_level.reg[1..8]", "actions": [
        {"name": action, "energy": 0.0} for action in ("read", "write", "update", "leak")]})
    (tmp_path / "ERT.yaml").write_text(yaml.safe_dump(ert))
    spec = load_timeloop([top, tmp_path / "ERT.yaml"], require_mapping=False)
    names = [lv.name for lv in spec.hierarchy.levels]
    assert names == ["DRAM", "buffer", "inter_PE_spatial", "reg"]
    reg = spec.search_hierarchy.levels[3]
    assert reg.always_keeps == ("inputs", "weights", "outputs") and reg.block_size == 3 and reg.instances == 8


def test_expressions_are_evaluated_as_timeloopfe_does():
    scope = {"DATAWIDTH": 8, "datawidth": 8, "depth": 300}
    assert expression("datawidth * 3", scope) == 24
    assert expression("DATAWIDTH * 2", scope) == 16
    assert expression("max(1, ceil(log2(depth))) if depth >= 1 else 1", scope) == 9
    assert expression("1e-9", scope) == 1e-9
    for text in ("LPDDR4", "45nm", "__import__('os')", "spec.problem.instance", "2 ** 10 ** 10", "'a' * 9",
                 "1 / 0"):
        assert expression(text, scope) == text


def _copy_2024_dse(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The 2024 DSE tutorial's template and inputs copied to edit: (folder, its arch.yaml, reference folder)."""
    top, _, folder = CASES["2024_dse"]
    work = tmp_path / "t"
    (work / "inputs").mkdir(parents=True)
    for f in (top.parent / "inputs").iterdir():
        (work / "inputs" / f.name).write_text(f.read_text())
    (work / "top.yaml.jinja").write_text(top.read_text())
    return work, work / "inputs" / "arch.yaml", folder


@pytest.mark.parametrize(("edit", "word"), [
    (lambda t: t.replace("!Container # Top-level system", "!Network"), "!Network"),
    (lambda t: t.replace("datawidth: DATAWIDTH", "datawidth: {{undefined_value}}", 1), "undefined_value"),
    (lambda t: t.replace("name: system", "name: 7", 1), "name"),
    (lambda t: t.replace("datawidth: DATAWIDTH", "datawidth: {{ 1 / 0 }}", 1), "ZeroDivisionError"),
    (lambda t: t.replace("datawidth: DATAWIDTH", "datawidth: {{ ''.__class__.__mro__ }}", 1), "unsafe|template"),
])
def test_bad_timeloopfe_input_is_one_line(tmp_path, edit, word):
    work, arch, folder = _copy_2024_dse(tmp_path)
    arch.write_text(edit(arch.read_text()))
    with pytest.raises(SpecError, match=word):
        load_timeloop([work / "top.yaml.jinja", folder / "timeloop-mapper.ERT.yaml"], require_mapping=False)


def test_parsed_and_plain_yaml_still_load_without_jinja():
    doc = yaml.safe_load((GOLDEN_DIR / "eyeriss_like" / "parsed-processed-input.yaml").read_text())
    assert "nodes" not in doc["architecture"]


def test_component_spatial_multiplies_the_fan_out(tmp_path):
    """A component's own ``spatial`` (the cheatsheet's form) replicates it and everything below."""
    work, arch, folder = _copy_2024_dse(tmp_path)
    text = arch.read_text().replace("    spatial: {meshX: 8}\n", "", 1)
    text = text.replace("    class: intmac\n", "    class: intmac\n    spatial: {meshX: 8}\n", 1)
    arch.write_text(text)
    spec = load_timeloop([work / "top.yaml.jinja", folder / "timeloop-mapper.ERT.yaml"], require_mapping=False,
                         template_vars={"reg_enabled": False})
    assert spec.hierarchy.compute.instances == 8
    assert [lv.name for lv in spec.hierarchy.levels] == ["DRAM", "buffer"]   # no container fan-out level


SHAPES = RAW / "layer_shapes"
"""Layer shapes of the exercises' ``example_designs/layer_shapes`` (commit ``2d55108``, unchanged):
each includes ``problem_base.yaml`` as text and fills it in with timeloopfe's recursive merge key
``<<<: *problem_base``; the base sits under a top-level ``problem_base_ignore`` (timeloopfe drops
top-level keys named ``*ignore*``)."""


@pytest.mark.parametrize(("shape", "sizes"), [
    ("gpt2/000.yaml", {"C": 1024, "M": 3072, "P": 256}),
    ("vision_transformer/01.yaml", {"C": 768, "M": 768, "P": 197}),
    ("mobilenet_v3/01.yaml", {"G": 16, "P": 112, "Q": 112, "R": 3, "S": 3}),
])
def test_layer_shapes_merge_into_the_problem_base(shape, sizes):
    top, values, folder = CASES["simple_weight_stationary"]
    spec = load_timeloop([top, folder / "timeloop-mapper.ERT.yaml"], require_mapping=False,
                         template_vars={**values, "problem": str(SHAPES / shape)})
    assert spec.einsum.sizes == {**dict.fromkeys(("C", "M", "R", "S", "N", "P", "Q", "G"), 1), **sizes}
    assert [t.name for t in spec.einsum.tensors] == ["Weights", "Inputs", "Outputs"]


def test_layer_shape_with_a_key_timeloop_would_ignore_is_refused():
    """resnet18/00.yaml writes ``HStride``/``WStride``; the problem's coefficients are ``Hstride``/``Wstride``, so
    Timeloop would silently run the 7x7 stride-2 stem at stride 1: refused, naming the key."""
    top, values, folder = CASES["simple_weight_stationary"]
    with pytest.raises(SpecError, match="HStride"):
        load_timeloop([top, folder / "timeloop-mapper.ERT.yaml"], require_mapping=False,
                      template_vars={**values, "problem": str(SHAPES / "resnet18" / "00.yaml")})
