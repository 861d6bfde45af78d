"""``acceldse map --timeloop/--mapping``: Timeloop's inputs run unchanged, the stats read like
Timeloop's, and every unsupported Timeloop feature is a SpecError naming it and the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_golden_timeloop import GOLDEN_DIR, reference
from timeloop_stats import parse_stats

from acceldse.cli import main
from acceldse.mapper.api import evaluate_mapping
from acceldse.mapper.timeloop import load_timeloop
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import conv2d
from acceldse.workloads.network import Network

DESIGN = GOLDEN_DIR / "simple_output_stationary"
SPEC = DESIGN / "parsed-processed-input.yaml"
ERT = DESIGN / "timeloop-mapper.ERT.yaml"
MAP = DESIGN / "timeloop-mapper.map.yaml"


def test_cli_prints_timeloop_stats(capsys):
    assert main(["map", "--timeloop", str(SPEC), str(ERT), "--mapping", str(MAP)]) == 0
    text = capsys.readouterr().out
    ours, ref = parse_stats(text), reference("simple_output_stationary")
    assert ours["summary"] == {k: v for k, v in ref["summary"].items() if k in ours["summary"]}
    for level, info in ref["levels"].items():
        for ds, fields in info["dataspaces"].items():
            got = ours["levels"][level]["dataspaces"][ds]
            assert {k: got[k] for k in ("tile_words", "instances", "reads", "fills", "updates")} == \
                {k: fields[k] for k in ("tile_words", "instances", "reads", "fills", "updates")}
            assert got["energy_pj"] == pytest.approx(fields["energy_pj"], rel=1e-6)
    assert "pe_spad [ Outputs:56 ]" in text


def test_cli_searches_a_timeloop_spec(capsys):
    """Without a mapping, the mapper searches Timeloop's architecture and problem under its
    constraints (1-word registers that must keep a tensor, with the factors that make it fit)."""
    assert main(["map", "--timeloop", str(SPEC), str(ERT), "--budget", "400", "--no-nest"]) == 0
    stats = parse_stats(capsys.readouterr().out)
    assert stats["mac"]["Computes (total)"] == 10_838_016 and stats["summary"]["Cycles"] >= 10_838_016 / 256


def test_acceldse_mapping_on_a_workload_layer(capsys):
    """``evaluate_mapping`` (API of ``--mapping`` with --workload) on the eyeriss_like preset."""
    preset_mapping = Path(__file__).parents[2] / "mapper" / "presets" / "eyeriss_like_golden.yaml"
    net = Network("one", (conv2d("golden", 3, 32, 224, 3, stride=2, padding=(0, 0, 1, 1)),))
    layer, hierarchy, cost = evaluate_mapping(net, "eyeriss_like", None, preset_mapping)
    assert cost.cycles == reference("eyeriss_like")["summary"]["Cycles"]
    assert main(["map", "--workload", "resnet18", "--layer", "layer1.0.conv1", "--hardware", "eyeriss_like",
                 "--mapping", str(preset_mapping)]) == 2
    assert "illegal mapping" in capsys.readouterr().err
    assert main(["map", "--workload", "resnet18", "--mapping", str(preset_mapping)]) == 2
    assert "name the layer" in capsys.readouterr().err


def _edit(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SPEC.read_text())
    change(data)
    out = tmp_path / "spec.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def _locals(data):
    return data["architecture"]["subtree"][0]["local"]


BAD = {
    "sparse_optimizations": (lambda d: d.update(sparse_optimizations={"targets": [
        {"name": _locals(d)[1]["name"].split("[")[0],
         "action_optimization": [{"type": "skipping_spatial", "target": "Inputs", "condition_on": ["Weights"]}]}]}),
        "skipping_spatial"),
    "shared_bandwidth": (lambda d: _locals(d)[1]["attributes"].update(shared_bandwidth=8), "shared_bandwidth"),
    "power gating": (lambda d: _locals(d)[1]["attributes"].update(has_power_gating=True), "has_power_gating"),
    "network": (lambda d: _locals(d).insert(2, {"name": "noc", "class": "XY_NoC", "attributes": {}}), "XY_NoC"),
    "two subtrees": (lambda d: d["architecture"].update(subtree=d["architecture"]["subtree"] * 2), "subtree"),
    "densities": (lambda d: d["problem"]["instance"].update(
        densities={"Inputs": {"distribution": "banded", "density": 0.5}}), "densities"),
    "shape": (lambda d: d["problem"]["shape"].update(dimensions=["C", "M", "P"]), "dimensions"),
    "multiple_buffering": (lambda d: _locals(d)[1]["attributes"].update(multiple_buffering=3), "multiple_buffering"),
    "unknown attribute": (lambda d: _locals(d)[3]["attributes"].update(metadata_storage_width=8), "metadata"),
    "bad instance": (lambda d: d["problem"]["instance"].update(P=0), "positive integer"),
    "NaN depth": (lambda d: _locals(d)[1]["attributes"].update(depth=float("nan")), "depth: must be a positive"),
    "one-tensor rank": (lambda d: d["problem"]["shape"]["data_spaces"][0]["projection"].append([["P"]]),
                        "does not fit"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_unsupported_features_are_named(tmp_path, case):
    change, word = BAD[case]
    path = _edit(tmp_path, change)
    with pytest.raises(SpecError) as err:
        load_timeloop([path, ERT, MAP])
    assert word in str(err.value) and str(path) in str(err.value)


def test_a_key_given_twice_is_refused(tmp_path):
    """PyYAML keeps the last of two equal keys silently; the Timeloop reader names the line of each."""
    lines = SPEC.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("depth:"))
    path = tmp_path / "spec.yaml"
    path.write_text("".join(lines[:at + 1] + [lines[at].replace(lines[at].strip(), "depth: 8")] + lines[at + 1:]))
    with pytest.raises(SpecError, match=rf"malformed YAML at line {at + 2}: duplicate key 'depth' "
                                        rf"\(first at line {at + 1}\)"):
        load_timeloop([path, ERT, MAP])


def test_bad_mapping_entries(tmp_path):
    entries = yaml.safe_load(MAP.read_text())["mapping"]
    for change, word in ((lambda e: e[0].update(target="nowhere"), "nowhere"),
                         (lambda e: e[-1].update(factors="C1 M1"), "multiply to"),
                         (lambda e: e[-1].update(factors="C1,0 M1"), "residual"),
                         (lambda e: e[-1].update(factors="C0 C1"), "rank C is given twice"),
                         (lambda e: e[-1].update(permutation="XYZ"), "permutation"),
                         (lambda e: e[-1].update(type="pipeline"), "pipeline")):
        copy = yaml.safe_load(MAP.read_text())["mapping"]
        change(copy)
        path = tmp_path / "map.yaml"
        path.write_text(yaml.safe_dump({"mapping": copy}))
        with pytest.raises(SpecError) as err:
            load_timeloop([SPEC, ERT, path])
        assert word in str(err.value) and "map.yaml" in str(err.value)
    assert entries


def test_missing_ert_entry_and_missing_file(tmp_path, capsys):
    ert = yaml.safe_load(ERT.read_text())
    ert["ERT"]["tables"] = [t for t in ert["ERT"]["tables"] if "pe_spad" not in t["name"]]
    path = tmp_path / "ert.yaml"
    path.write_text(yaml.safe_dump(ert))
    with pytest.raises(SpecError, match="pe_spad: no ERT entry"):
        load_timeloop([SPEC, path, MAP])
    assert main(["map", "--timeloop", str(tmp_path / "none.yaml"), "--mapping", str(MAP)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_maps_a_workload_on_a_timeloop_architecture(tmp_path, capsys):
    """Timeloop files without a problem are hardware: ResNet-18 layers are searched on simba_like
    under its constraints (all of them hold for any layer: factor 1, permutations, splits); a
    fixed factor > 1 (the 2024 tutorial's M=8 across the PEs) needs the problem and is noted."""
    from acceldse.mapper.timeloop import timeloop_hardware

    data = yaml.safe_load((GOLDEN_DIR / "simba_like" / "parsed-processed-input.yaml").read_text())
    del data["problem"]
    arch = tmp_path / "arch.yaml"
    arch.write_text(yaml.safe_dump(data))
    ert = GOLDEN_DIR / "simba_like" / "timeloop-mapper.ERT.yaml"
    out = tmp_path / "r.csv"
    assert main(["map", "--timeloop", str(arch), str(ert), "--workload", "resnet18", "--layer", "layer1.0.conv1",
                 "--dataflow", "any", "--budget", "1500", "--no-nest", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "without these Timeloop constraints" not in captured.err
    _, loops, unapplied = timeloop_hardware([arch, ert])
    assert loops and not unapplied
    dse = GOLDEN_DIR / "exercises" / "2024_dse"
    _, loops, unapplied = timeloop_hardware([dse / "parsed-processed-input.yaml", dse / "timeloop-mapper.ERT.yaml"])
    assert "factor K=8 on inter_PE_spatial" in unapplied and all(f == 1 for c in loops for f in c.factors.values())
    table = pd.read_csv(out)
    assert table.macs.tolist() == [115_605_504] and (table.cycles >= 115_605_504 / 256).all()
    assert main(["map", "--timeloop", str(arch), str(ert), "--mapping", str(MAP)]) == 2
    assert "needs the Timeloop problem" in capsys.readouterr().err


def test_keep_constraints_bind_the_search():
    """fpmac's constraints keep only Inputs in ifmap_spad (and bypass the rest); the search
    space never bypasses a kept tensor, whereas without the constraint random genomes do."""
    import numpy as np

    from acceldse.mapper.space import MappingSpace

    folder = GOLDEN_DIR / "exercises" / "2020" / "accelergy" / "fpmac"
    spec = load_timeloop([folder / "parsed-processed-input.yaml", folder / "timeloop-mapper.ERT.yaml"],
                         require_mapping=False)
    searched = spec.search_hierarchy
    assert searched is not None
    lvl = searched.level_index("ifmap_spad")
    assert searched.levels[lvl].keeps == searched.levels[lvl].always_keeps == ("inputs",)
    assert searched.levels[searched.level_index("psum_spad")].always_keeps == ("outputs",)
    rng = np.random.default_rng(0)
    keep = MappingSpace(spec.layer, searched).random(500, rng).keep
    assert keep[:, lvl, 0].all() and not keep[:, lvl, 1:].any()
    free = MappingSpace(spec.layer, spec.hierarchy).random(500, rng).keep
    assert not free[:, lvl, 0].all()


def test_keep_constraint_on_a_tensor_the_level_cannot_hold(tmp_path):
    doc = yaml.safe_load(SPEC.read_text())
    doc["architecture_constraints"] = {"targets": [{"target": "pe_spad", "type": "bypass", "keep": ["Inputs"],
                                                    "bypass": ["Outputs", "Weights"]},
                                                   {"target": "DRAM", "type": "bypass", "keep": ["Nope"]}]}
    bad = tmp_path / "in.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match="Nope"):
        load_timeloop([bad, ERT], require_mapping=False)


def _obeys(constraint, arrays, hierarchy) -> bool:
    """Whether decoded mapping arrays (batch of 1) satisfy one LoopConstraint."""
    from acceldse.workloads.layer import DIMS

    lvl = hierarchy.level_index(constraint.level)
    t, sx, sy, order = arrays.temporal[lvl], arrays.spatial_x[lvl], arrays.spatial_y[lvl], arrays.order[lvl]
    if constraint.kind == "temporal":
        if any(t[DIMS.index(d)] != f for d, f in constraint.factors.items()):
            return False
        if lvl == hierarchy.num_levels - 1:   # the innermost order is free (it changes no count)
            return True
        active = [DIMS[d] for d in order if t[d] > 1]          # outermost first
        wanted = [d for d in reversed(constraint.permutation) if t[DIMS.index(d)] > 1]
        top = [d for d in reversed(constraint.outer) if t[DIMS.index(d)] > 1]
        return active[len(active) - len(wanted):] == wanted and active[:len(top)] == top
    if any(sx[DIMS.index(d)] * sy[DIMS.index(d)] != f for d, f in constraint.factors.items()):
        return False
    return all((sx[i] == 1 or constraint.x_dims is None or d in constraint.x_dims)
               and (sy[i] == 1 or constraint.y_dims is None or d in constraint.y_dims) for i, d in enumerate(DIMS))


@pytest.mark.parametrize("design", ["eyeriss_like", "simple_weight_stationary"])
def test_search_obeys_timeloop_factor_permutation_and_split_constraints(design):
    """Without a mapping, the search honours every temporal/spatial constraint of the design
    (factors, permutations, split) and its keep/bypass rules; none is left unapplied."""
    from acceldse.mapper.timeloop import run_timeloop

    folder = GOLDEN_DIR / design
    files = [folder / "parsed-processed-input.yaml", folder / "timeloop-mapper.ERT.yaml"]
    spec = load_timeloop(files, require_mapping=False)
    assert spec.loop_constraints and not spec.unapplied_constraints
    run = run_timeloop(files, search="ga", budget=1500, seed=0)
    arrays = run.mapping.to_arrays(run.hierarchy)
    for c in spec.loop_constraints:
        assert _obeys(c, arrays, run.hierarchy), c
    for lvl, lv in enumerate(run.hierarchy.levels):
        for ds in lv.always_keeps:
            assert arrays.keep[lvl, ("inputs", "weights", "outputs").index(ds)], (lv.name, ds)


def test_mapping_space_pins_and_forbids_factors():
    """A fixed factor is in every candidate of every search (random, exhaustive); a factor that
    does not divide the dim is refused."""
    import numpy as np

    from acceldse.mapper.constraints import LoopConstraint
    from acceldse.mapper.search.exhaustive import enumerate_space
    from acceldse.mapper.space import MappingSpace
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy

    hierarchy = load_hierarchy("eyeriss_like")
    layer = conv2d("c", 4, 8, 6, 3)
    rules = (LoopConstraint("shared_glb", "temporal", {"K": 4, "C": 1}, permutation=("P", "K")),
             LoopConstraint("pe_column", "spatial", {"R": 1}, x_dims=frozenset({"Q"}), y_dims=frozenset({"S"})))
    space = MappingSpace(layer, hierarchy, None, constraints=rules)
    arrays = space.decode(space.random(400, np.random.default_rng(1)))
    glb, col = hierarchy.level_index("shared_glb"), hierarchy.level_index("pe_column")
    assert (arrays.temporal[:, glb, 2] == 4).all() and (arrays.temporal[:, glb, 3] == 1).all()
    assert (arrays.spatial_x[:, col, [0, 1, 2, 3, 4, 6, 7]] == 1).all()
    assert (arrays.spatial_y[:, col, :7] == 1).all()
    assert (arrays.order[:, glb, -2:] == [2, 4]).all()       # permutation "PK": P innermost, K above it
    assert not (space.decode(MappingSpace(layer, hierarchy, None).random(400, np.random.default_rng(1)))
                .temporal[:, glb, 2] == 4).all()
    small = conv2d("s", 2, 4, 2, 1)
    tiny = MappingSpace(small, hierarchy, None, constraints=(LoopConstraint("shared_glb", "temporal", {"K": 2}),))
    batch = next(enumerate_space(tiny))
    assert len(batch.temporal) and (batch.temporal[:, glb, 2] == 2).all()
    with pytest.raises(SpecError, match="do not divide"):
        MappingSpace(layer, hierarchy, None, constraints=(LoopConstraint("shared_glb", "temporal", {"K": 3}),))


@pytest.mark.parametrize(("design", "ours", "timeloop"), [("eyeriss_like", (64_512, 55.93), (86_016, 59.28)),
                                                          ("simba_like", (112_896, 221.61), (225_792, 239.15))])
def test_search_under_timeloop_constraints_beats_timeloops_choice(capsys, design, ours, timeloop):
    """The figures docs/mapper.md quotes: a design searched under its Timeloop constraints
    (``--budget 5000 --objective edp``) against the mapping Timeloop's mapper chose (its stats.txt)."""
    folder = GOLDEN_DIR / design
    assert main(["map", "--timeloop", str(folder / "parsed-processed-input.yaml"),
                 str(folder / "timeloop-mapper.ERT.yaml"), "--budget", "5000", "--objective", "edp",
                 "--no-nest"]) == 0
    got, ref = parse_stats(capsys.readouterr().out), reference(design)
    assert (got["summary"]["Cycles"], got["summary"]["Energy"]) == ours
    assert (ref["summary"]["Cycles"], ref["summary"]["Energy"]) == timeloop


def test_constraint_forms_from_the_cheatsheet(tmp_path):
    """timeloopfe's constraint forms: ``keep_only`` bypasses the other tensors, ``P>=2`` bounds the
    factor (the cheatsheet's strict ``P>2`` is refused, as timeloopfe's ``splitfactor`` and
    Timeloop's parser do not read it), and the fields that change the counts of a given mapping
    (``no_reuse``, ``no_coalesce``, ``no_link_transfer``, ``rmw_first_update``) are refused; a
    malformed factor is one line."""
    def spec_with(targets):
        doc = yaml.safe_load(SPEC.read_text())
        doc["architecture_constraints"] = {"targets": targets}
        path = tmp_path / "in.yaml"
        path.write_text(yaml.safe_dump(doc))
        return load_timeloop([path, ERT], require_mapping=False)

    spec = spec_with([{"target": "shared_glb", "type": "bypass", "keep_only": ["Inputs"]},
                      {"target": "pe_spad", "type": "temporal", "factors": "P>=2 Q=1"}])
    glb = spec.search_hierarchy.levels[spec.search_hierarchy.level_index("shared_glb")]
    assert glb.keeps == glb.always_keeps == ("inputs",)
    assert spec.unapplied_constraints == ()
    assert spec.loop_constraints[0].factors == {"Q": 1} and spec.loop_constraints[0].min_factors == {"P": 2}
    with pytest.raises(SpecError, match="only <= and >="):
        spec_with([{"target": "pe_spad", "type": "temporal", "factors": "P>2 Q=1"}])
    for field in ("no_reuse", "no_coalesce", "no_link_transfer", "rmw_first_update"):
        for kind in ("temporal", "bypass"):
            with pytest.raises(SpecError, match=field):
                spec_with([{"target": "pe_spad", "type": kind, field: ["Inputs"]}])
    with pytest.raises(SpecError, match="bad factor constraint"):
        spec_with([{"target": "pe_spad", "type": "temporal", "factors": "P=two"}])


def test_stats_print_a_level_that_keeps_nothing():
    """A storage level the mapping bypasses entirely is still printed (as Timeloop does), without
    tensors; the dummy fan-out level keeps its number (5) but is not printed."""
    import re
    from dataclasses import replace

    from acceldse.mapper.cost import evaluate
    from acceldse.mapper.timeloop.stats import format_stats

    spec = load_timeloop([SPEC, ERT, MAP])
    levels = tuple(replace(lv, keeps=()) if lv.level == "pe_spad" else lv for lv in spec.mapping.levels)
    result = evaluate(spec.layer, spec.hierarchy, replace(spec.mapping, levels=levels))
    text = format_stats(result, spec.hierarchy, spec.tensor_names).split("Summary Stats")[0]
    heads = re.findall(r"^Level \d+|^=== \S+ ===|^    \w+:$", text, re.M)
    assert heads[heads.index("=== pe_spad ===") - 1:heads.index("=== pe_spad ===") + 3] == \
        ["Level 4", "=== pe_spad ===", "Level 6", "=== shared_glb ==="]


def test_every_factor_string_form_reads_the_same(tmp_path):
    """``C1 M8`` (Timeloop's), ``C1,M8``, ``C=1,M=8`` (timeloopfe's), a YAML list, units left out, ``M 8``,
    a trailing comment and the residual form with residual = factor: one and the same mapping."""
    import re

    base = load_timeloop([SPEC, ERT, MAP]).mapping
    rewrites = (lambda f: ",".join(f.split()),
                lambda f: re.sub(r"([A-Z])(\d+)", r"\1=\2", f).replace(" ", ","),
                lambda f: re.sub(r"([A-Z])(\d+)", r"\1=\2", f).split(),
                lambda f: " ".join(t for t in f.split() if not re.fullmatch(r"[A-Z]1", t)),
                lambda f: re.sub(r"([A-Z])(\d+)", r"\1 \2", f) + "  # comment",
                lambda f: re.sub(r"([A-Z])(\d+)", r"\1\2,\2", f))
    for rewrite in rewrites:
        entries = yaml.safe_load(MAP.read_text())["mapping"]
        for e in entries:
            if "factors" in e:
                e["factors"] = rewrite(e["factors"])
        path = tmp_path / "map.yaml"
        path.write_text(yaml.safe_dump({"mapping": entries}))
        assert load_timeloop([SPEC, ERT, path]).mapping == base, entries[0]["factors"]


def test_zero_based_ranges_and_legacy_size_names_read_as_timeloop_reads_them(tmp_path):
    """Timeloop counts ``name[lo..hi]`` as hi - lo + 1 copies (the 2020 tutorial's v0.3 files write
    ``DummyBuffer[0..13]``) and reads ``memory_depth`` / ``memory_width`` where ``depth`` / ``width``
    are absent (its buffer parser tries them in turn): the same hierarchy as the plain spelling."""
    text = SPEC.read_text()
    text = text.replace("[1..256]", "[0..255]")
    text = text.replace("                depth: 192\n                width: 16\n",
                        "                memory_depth: 192\n                memory_width: 16\n", 1)
    assert "memory_depth: 192" in text and "[0..255]" in text
    (tmp_path / "in.yaml").write_text(text)
    assert load_timeloop([tmp_path / "in.yaml", ERT, MAP], name="d").hierarchy == \
        load_timeloop([SPEC, ERT, MAP], name="d").hierarchy
    (tmp_path / "bad.yaml").write_text(SPEC.read_text().replace("pe_spad[1..256]", "pe_spad[256..1]"))
    with pytest.raises(SpecError, match="lo <= hi"):
        load_timeloop([tmp_path / "bad.yaml", ERT, MAP])
