"""Sparseloop's reference folders of the Timeloop + Accelergy exercises, from their unchanged files.

Goldens: ``tests/golden/timeloop/exercises/sparseloop/*/timeloop-mapper.stats.txt``, Sparseloop's
own output (copied unchanged from Accelergy-Project/timeloop-accelergy-exercises at commit
``2d55108``). Each of the 12 Sparseloop folders (dot products, spMspM, Conv1D, Eyeriss-like with
gating, mapspace search and on-chip compression) must reproduce, field by field: cycles, actual / gated /
skipped computes, per level and tensor the algorithmic and actual / gated / skipped scalar
reads, fills and updates, actual / gated / skipped metadata (format) accesses per rank, the
largest data and metadata capacity, the energy (to its printed 0.01 pJ) and the total energy (to
its printed 0.01 fJ per algorithmic compute). A Sparseloop feature we do not model is refused with
a ``SpecError`` naming its key (``test_sparseloop_features_not_modelled_are_refused_by_key``).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timeloop_stats import parse_sparse_stats, sparse_gaps

from acceldse.mapper.cost import evaluate
from acceldse.mapper.sparse import FixedStructured, Hypergeometric, analyse
from acceldse.mapper.timeloop import evaluate_sparse, load_timeloop
from acceldse.mapper.timeloop.sparse import build_design
from acceldse.mapper.timeloop.sparse_stats import format_sparse_stats

ROOT = Path(__file__).parents[1] / "golden" / "timeloop" / "exercises" / "sparseloop"
EXACT = tuple(sorted(p.name for p in ROOT.iterdir() if (p / "timeloop-mapper.stats.txt").exists()
                    and "DUDU" not in p.name))
"""All 12 Sparseloop folders (the dense dot product DUDU is checked with the dense ones)."""


def _files(folder: str) -> list[Path]:
    base = ROOT / folder
    return [base / f for f in ("parsed-processed-input.yaml", "timeloop-mapper.ERT.yaml", "timeloop-mapper.ART.yaml",
                               "timeloop-mapper.map.yaml")]


@functools.cache
def _run(folder: str):
    spec = load_timeloop(_files(folder))
    cost = evaluate(spec.layer, spec.hierarchy, spec.mapping)
    return spec, cost, evaluate_sparse(spec, cost)


@pytest.mark.parametrize("folder", EXACT)
def test_sparseloop_exercise_reproduces_every_field(folder):
    _, _, result = _run(folder)
    ref = parse_sparse_stats((ROOT / folder / "timeloop-mapper.stats.txt").read_text())
    assert sparse_gaps(result, ref) == []


@pytest.mark.parametrize("folder", EXACT)
def test_sparse_stats_print_reads_back_as_sparseloops(folder):
    """Our Sparseloop-style print, read by the same reader as Sparseloop's own output, gives the
    reference's figures (the CLI prints it for ``acceldse map --timeloop``)."""
    spec, _, result = _run(folder)
    text = format_sparse_stats(result, spec.hierarchy, [t.name for t in spec.einsum.tensors])
    ours = parse_sparse_stats(text)
    ref = parse_sparse_stats((ROOT / folder / "timeloop-mapper.stats.txt").read_text())
    assert ours["cycles"] == ref["cycles"] and ours["computes"] == ref["computes"]
    assert ours["fj_per_compute_total"] == ref["fj_per_compute_total"]
    for key, fields in ref["tensors"].items():
        for label in ("Actual scalar reads (per-instance)", "Skipped scalar reads (per-instance)",
                      "Gated scalar reads (per-instance)", "Actual scalar fills (per-instance)",
                      "Max utilized data storage capacity", "Actual scalar format reads (per-instance)"):
            assert (ours["tensors"][key].get(label) or 0) == (fields.get(label) or 0), (key, label)


def test_cli_prints_sparseloop_stats(capsys):
    from acceldse.cli import main

    folder = "02.2.1-spMspM"
    assert main(["map", "--timeloop", *map(str, _files(folder)), "--no-nest"]) == 0
    ours = parse_sparse_stats(capsys.readouterr().out)
    ref = parse_sparse_stats((ROOT / folder / "timeloop-mapper.stats.txt").read_text())
    assert (ours["cycles"], ours["computes"], ours["fj_per_compute_total"]) == \
        (ref["cycles"], ref["computes"], ref["fj_per_compute_total"]) == (64, {"actual": 64, "gated": 0, "skipped": 0},
                                                                          898.79)


def _design(folder: str):
    spec, cost, _ = _run(folder)
    return build_design(spec, cost, spec.inputs, spec.sparse, source=folder), spec, cost


@settings(max_examples=25, deadline=None)
@given(st.floats(0.01, 1.0), st.floats(0.01, 1.0))
def test_sparse_counts_never_exceed_the_dense_ones(da, db):
    """Whatever the densities: actual + gated + skipped accesses never exceed the algorithmic
    ones, actual computes never exceed the algorithmic ones, and cycles never exceed the dense
    run's (spMspM: formats on A and B, skipping at the Buffer)."""
    design, _, cost = _design("02.2.1-spMspM")
    result = analyse(replace(design, densities={"A": FixedStructured(da), "B": FixedStructured(db)}))
    assert 0 <= result.actual_computes <= result.algorithmic_computes == cost.macs
    for t in result.tensors.values():
        for action in ("read", "fill", "update"):
            done = sum(t.accesses[(k, action)] for k in ("random", "gated", "skipped"))
            assert done <= t.algorithmic[action], (t.level, t.tensor, action)
    assert result.cycles <= cost.cycles


@settings(max_examples=25, deadline=None)
@given(st.floats(0.01, 1.0))
def test_skipping_saves_at_least_what_gating_saves(density):
    """The dot product with A at ``density``: skipping B and Z on A costs no more energy or cycles
    than gating them, and gating no more energy than doing nothing (the ERT prices gated actions
    at 0, below actual ones); at density 1 all three are the dense run."""
    design, _, cost = _design("01.2.2-SUDU-dot-product")
    design = replace(design, densities={"A": FixedStructured(density)})
    runs = {kind: analyse(replace(design, safs=tuple(replace(s, kind=kind) for s in design.safs)))
            for kind in ("gate", "skip")}
    none = analyse(replace(design, safs=()))
    assert runs["skip"].energy_pj <= runs["gate"].energy_pj + 1e-9 <= none.energy_pj + 2e-9
    assert runs["skip"].cycles <= runs["gate"].cycles
    if density == 1.0:
        for r in (*runs.values(), none):
            assert r.cycles == cost.cycles and r.energy_pj == pytest.approx(cost.energy_pj, rel=1e-12)


def test_density_one_without_formats_is_the_dense_run():
    """Sparseloop's analysis with every tensor dense and no format is Timeloop's dense model: the
    same counts, cycles and energy as ``mapper.cost.evaluate`` (conv1d+oc)."""
    design, spec, cost = _design("03.2.2-conv1d+oc")
    result = analyse(replace(design, densities={}, formats={}))
    assert result.cycles == cost.cycles and result.actual_computes == cost.macs
    assert result.energy_pj == pytest.approx(cost.energy_pj, rel=1e-12)
    names = spec.tensor_names
    for r in cost.counts.itertuples():
        t = result.tensors[(r.level, names[r.dataspace])]
        assert (t.accesses[("random", "read")], t.accesses[("random", "fill")], t.accesses[("random", "update")]) \
            == (r.reads, r.fills, r.updates)



REFUSED = {
    "banded density": (lambda d: d["problem"]["instance"]["densities"]["A"].update(
        distribution="banded"), "densities.A.distribution"),
    "UB format": (lambda d: d["sparse_optimizations"]["targets"][0]["representation_format"]["data_spaces"][0]
                  ["ranks"][0].update(format="UB"), "ranks[0].format"),
    "rank order": (lambda d: d["sparse_optimizations"]["targets"][0]["representation_format"]["data_spaces"][0]
                   .update(rank_application_order="inner_to_outer"), "rank_application_order"),
    "spatial skipping": (lambda d: d["sparse_optimizations"]["targets"][0]["action_optimization"][0].update(
        type="skipping_spatial"), "action_optimization[0].type"),
    "per-rank word bits": (lambda d: d["sparse_optimizations"]["targets"][0]["representation_format"]
                           ["data_spaces"][0]["ranks"][0].update(metadata_word_bits=2), "metadata_word_bits"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_sparseloop_features_not_modelled_are_refused_by_key(tmp_path, case):
    """A Sparseloop feature outside the model is one SpecError naming the file and key, never
    computed as something else (the SCDU dot product, edited)."""
    import yaml

    from acceldse.mapper.timeloop import run_timeloop
    from acceldse.workloads.errors import SpecError

    files = _files("01.2.3-SCDU-dot-product")
    data = yaml.safe_load(files[0].read_text())
    change, key = REFUSED[case]
    change(data)
    edited = tmp_path / "input.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SpecError) as err:
        run_timeloop([edited, *files[1:]])
    assert key in str(err.value) and str(edited) in str(err.value)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.data())
def test_hypergeometric_tile_occupancy_is_the_counting_formula(total, data):
    """``Hypergeometric``: a tile of n of a tensor of N elements with r = ceil(d N) non-zeros holds k
    of them with C(r, k) C(N - r, n - k) / C(N, n), with or without a constraining parent tile."""
    from math import comb

    density = data.draw(st.floats(0.01, 1.0))
    model = Hypergeometric(density, total)
    r = model.nonzeros
    n = data.draw(st.integers(1, total))
    for k in range(0, n + 1):
        want = comb(r, k) * comb(total - r, n - k) / comb(total, n)
        assert model.occupancy_probability(n, k) == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert model.max_occupancy(n) == min(n, r)
    assert model.expected_occupancy(n) == pytest.approx(sum(k * model.occupancy_probability(n, k)
                                                            for k in range(n + 1)), rel=1e-9)
    occ = data.draw(st.integers(0, n))
    m = data.draw(st.integers(1, n))
    got = model.occupancy_probability(m, np.arange(m + 1), (n, occ))
    assert got == pytest.approx([comb(occ, k) * comb(n - occ, m - k) / comb(n, m) for k in range(m + 1)],
                                rel=1e-9, abs=1e-12)


def test_hypergeometric_on_a_whole_tensor_tile_is_sparseloops_fixed_result(tmp_path):
    """The SCDU dot product with A hypergeometric instead of fixed-structured: its compressed tile is
    the whole tensor (exactly ceil(d N) = 4 non-zeros either way) and a scalar is empty with
    probability 1 - d either way, so Sparseloop's reference figures hold unchanged."""
    import yaml

    from acceldse.mapper.timeloop import run_timeloop

    files = _files("01.2.3-SCDU-dot-product")
    data = yaml.safe_load(files[0].read_text())
    data["problem"]["instance"]["densities"]["A"]["distribution"] = "hypergeometric"
    edited = tmp_path / "input.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    run = run_timeloop([edited, *files[1:]])
    assert isinstance(_design_densities(edited, files), Hypergeometric)
    ref = parse_sparse_stats((ROOT / "01.2.3-SCDU-dot-product" / "timeloop-mapper.stats.txt").read_text())
    assert sparse_gaps(run.sparse, ref) == []


def _design_densities(edited, files):
    spec = load_timeloop([edited, *files[1:]])
    design = build_design(spec, evaluate(spec.layer, spec.hierarchy, spec.mapping), spec.inputs, spec.sparse,
                          source="edited")
    return design.densities["A"]


@settings(max_examples=10, deadline=None)
@given(st.floats(0.05, 1.0))
def test_hypergeometric_counts_never_exceed_the_dense_ones(density):
    """spMspM with A and B hypergeometric: accesses and computes stay within the algorithmic ones."""
    design, _, cost = _design("02.2.1-spMspM")
    result = analyse(replace(design, densities={"A": Hypergeometric(density, 64), "B": Hypergeometric(0.5, 64)}))
    assert 0 <= result.actual_computes <= cost.macs and result.cycles <= cost.cycles
    for t in result.tensors.values():
        for action in ("read", "fill", "update"):
            assert sum(t.accesses[(k, action)] for k in ("random", "gated", "skipped")) <= t.algorithmic[action]


def test_compute_gating_and_skipping_follow_the_operand_states():
    """Sparseloop's compute optimisations (no storage optimisation here): gating idles the MAC on a
    zero operand it still receives; skipping needs metadata to know an operand does not exist. A at
    density 1/4 of 16 MACs: uncompressed A, gating -> 12 gated; skipping alone skips nothing (A's
    zeros exist); compressed A (CP), skipping -> 12 skipped. Gated and skipped computes leave the
    cycles only when skipped."""
    gate_design, _, _ = _design("01.2.2-SUDU-dot-product")
    gate = analyse(replace(gate_design, safs=(), gate_on_zero_operand=True))
    assert (gate.actual_computes, gate.gated_computes, gate.skipped_computes) == (4, 12, 0)
    assert gate.compute_cycles == 16
    none = analyse(replace(gate_design, safs=(), skip_on_not_aligned_operands=True))
    assert (none.actual_computes, none.gated_computes, none.skipped_computes) == (16, 0, 0)
    skip_design, _, _ = _design("01.2.3-SCDU-dot-product")
    skip = analyse(replace(skip_design, safs=(), skip_on_not_aligned_operands=True))
    assert (skip.actual_computes, skip.gated_computes, skip.skipped_computes) == (4, 0, 12)
    assert skip.compute_cycles == 4


_FUZZ_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 70), st.floats(-1, 2), st.text(max_size=4),
                         st.sampled_from(["A", "B", "Z", "K", "M", "Buffer", "CP", "UOP", "RLE", "B", "UB",
                                          "gating", "skipping", "fixed_structured", "hypergeometric"]))
_FUZZ_TREE = st.recursive(_FUZZ_VALUES, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "ranks", "format", "target", "condition_on", "type", "options",
                                     "data_spaces", "flattened_rankIDs", "density", "distribution",
                                     "workload_tensor_size", "representation_format", "action_optimization",
                                     "compute_optimization", "targets"]), inner, max_size=4)), max_leaves=10)


_EDGES = [None, True, 0, 1, 2, 3, -1, 0.5, 1.5, 1e-9, 0.999, 64, "A", "B", "Z", "K", "Buffer", "CP", "UOP", "RLE", "UB",
          "gating", "skipping", "hypergeometric", "x", [], {}, ["A"], ["A", "B"], [["M", "K"]], {"format": "CP"}]
"""Values that reach deep into the loader and the analysis (names, formats, densities, widths)."""


def _paths(node, prefix=()):
    """Every (path, value) of a nested dict / list."""
    yield prefix, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_fuzzed_sparse_inputs_only_raise_spec_error(tmp_path_factory, data):
    """The spMspM inputs with one to three of their sparse settings (``sparse_optimizations``,
    densities, metadata attributes) replaced by arbitrary values either evaluate or raise one
    SpecError, never another exception."""
    import contextlib
    import copy

    import yaml

    from acceldse.mapper.timeloop import run_timeloop
    from acceldse.workloads.errors import SpecError

    files = _files("02.2.1-spMspM")
    base = yaml.safe_load(files[0].read_text())
    doc = copy.deepcopy(base)
    roots = [doc["sparse_optimizations"], doc["problem"]["instance"]["densities"],
             doc["architecture"]["subtree"][0]["local"][1]["attributes"]]
    for _ in range(data.draw(st.integers(1, 3))):
        root = data.draw(st.sampled_from(roots))
        path, _ = data.draw(st.sampled_from([p for p in _paths(root) if p[0]]))
        parent = root
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = copy.deepcopy(data.draw(st.one_of(st.sampled_from(_EDGES), _FUZZ_TREE)))
    out = tmp_path_factory.mktemp("fuzz") / "input.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    with contextlib.suppress(SpecError):
        run_timeloop([out, *files[1:]])
