"""timeloop-model, built from source, on cases the exercises do not have: exact, field by field.

``tests/golden/timeloop/model_runs/`` (README there) holds, per case, the complete timeloop-model
input and what Timeloop 0fc43fb printed for it (``timeloop-model.stats.txt``), made by
``benchmarks/make_timeloop_model_runs.py``. Timeloop never runs here: acceldse loads the same input
file unchanged (``acceldse.run_timeloop``) and must reproduce

* ``spatial_innermost/``: mappings whose innermost non-unit loop is spatial (ResNet-18, MobileNet
  depthwise and pointwise, BERT-base GEMMs on simple_weight_stationary, simple_output_stationary,
  eyeriss_like, simba_like and the 2024 tutorial's design with 4 PEs x 4 MACs, with fan-out at one,
  two and three levels, operands broadcast from the global buffer): every per-level, per-tensor
  utilised capacity, read, fill and update, the cycles, the computes, every energy component to its
  printed 0.01 pJ and the total energy;
* ``sparse/``: Sparseloop on a ResNet-18 conv layer (hypergeometric densities, compute gating vs
  skipping, a different format per rank, storage gating and skipping): every field Sparseloop
  prints (``timeloop_stats.sparse_gaps``).

* ``mac_fanout/``: the last storage level fans out straight to the MACs (the 2024 tutorial's
  design with 8 MACs in a row, on a 4 x 4 grid, and with 4 PEs x 4 MACs; ResNet-18 with stride 1
  and 2, MobileNet depthwise, BERT-base GEMMs; windows sliding along the MAC row and column,
  operands broadcast along one axis, reduction along the other): Timeloop's multicast by equal
  points and its link transfers between neighbouring MACs (``mapper/mac_fanout.py``), every
  field as above.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from timeloop_stats import assert_counts_equal, parse_sparse_stats, parse_stats, sparse_gaps

from acceldse.mapper.timeloop import run_timeloop
from acceldse.mapper.timeloop.stats import format_stats

ROOT = Path(__file__).parents[1] / "golden" / "timeloop" / "model_runs"
DENSE = sorted(p.parent.name for p in (ROOT / "spatial_innermost").glob("*/timeloop-model.stats.txt"))
FANOUT = sorted(p.parent.name for p in (ROOT / "mac_fanout").glob("*/timeloop-model.stats.txt"))
SPARSE = sorted(p.parent.name for p in (ROOT / "sparse").glob("*/timeloop-model.stats.txt"))
IMPERFECT = sorted(p.parent.name for p in (ROOT / "imperfect").glob("*/timeloop-model.stats.txt"))
_DS = {"Inputs": "inputs", "Weights": "weights", "Outputs": "outputs"}


@functools.cache
def _run(group: str, case: str):
    folder = ROOT / group / case
    run = run_timeloop([folder / "timeloop-model.input.yaml"])
    return run, (folder / "timeloop-model.stats.txt").read_text()


def test_the_cases_cover_designs_layers_and_sparse_features():
    assert len(DENSE) == 13 and len(FANOUT) == 11 and len(SPARSE) == 6 and len(IMPERFECT) == 8
    designs = {c.split("_")[0] for c in DENSE}
    assert designs == {"sws", "sos", "eyeriss", "simba", "dse4x4"}
    assert {c.split("_")[0] for c in FANOUT} == {"dse", "dse4x4", "mac4x4"}


def _tensor(run, ds: str) -> str:
    name = run.tensor_names.get(ds, ds)
    return _DS.get(name, name)


@pytest.mark.parametrize("group, case", [("spatial_innermost", c) for c in DENSE] + [("mac_fanout", c) for c in FANOUT]
                         + [("imperfect", c) for c in IMPERFECT])
def test_dense_case_reproduces_timeloop(group, case):
    run, text = _run(group, case)
    ref = parse_stats(text)
    result = run.cost
    assert_counts_equal(result, ref, lambda ds: _tensor(run, ds))
    assert result.utilised_pes == ref["mac"]["Utilized instances"]
    energy = result.energy_by_component()
    for lv, info in ref["levels"].items():
        for ds, f in info["dataspaces"].items():
            ours_ds = next(d for d in ("inputs", "weights", "outputs") if _tensor(run, d) == ds)
            assert round(energy[f"{lv}.{ours_ds}"], 2) == pytest.approx(f["energy_pj"], abs=0.0100001), (lv, ds)
    assert round(energy["mac"], 2) == ref["mac"]["Energy (total)"]
    assert result.macs == ref["mac"]["Computes (total)"] and result.cycles == ref["summary"]["Cycles"]
    assert round(result.energy_pj / 1e6, 2) == ref["summary"]["Energy"]


@pytest.mark.parametrize("group, case", [("spatial_innermost", c) for c in DENSE] + [("mac_fanout", c) for c in FANOUT])
def test_replay_of_timeloops_nest_analysis_equals_the_kernel_on_perfect_factors(group, case):
    """``mapper/residual.py`` (Timeloop's sampled nest walk with set-difference deltas, used for residual
    factors) and the batched kernel's closed forms are two independent models: on every perfect mapping
    they give the same counts, cycles and energy."""
    from acceldse.mapper.cost import evaluate

    run, _ = _run(group, case)
    replayed = evaluate(run.layer, run.hierarchy, run.mapping, replay=True)
    assert replayed.counts.drop(columns="energy_pj").equals(run.cost.counts.drop(columns="energy_pj"))
    assert (replayed.cycles, replayed.macs) == (run.cost.cycles, run.cost.macs)
    assert replayed.energy_pj == pytest.approx(run.cost.energy_pj, rel=1e-12)


@pytest.mark.parametrize("case", SPARSE)
def test_sparseloop_case_reproduces_every_field(case):
    run, text = _run("sparse", case)
    assert sparse_gaps(run.sparse, parse_sparse_stats(text)) == []


def test_cli_prints_timeloops_stats_for_a_spatial_innermost_case(capsys):
    """``acceldse map --timeloop`` on a stored input prints what timeloop-model printed."""
    from acceldse.cli import main

    case = DENSE[0]
    assert main(["map", "--timeloop", str(ROOT / "spatial_innermost" / case / "timeloop-model.input.yaml"),
                 "--no-nest"]) == 0
    ours = parse_stats(capsys.readouterr().out)
    ref = parse_stats((ROOT / "spatial_innermost" / case / "timeloop-model.stats.txt").read_text())
    for lv, info in ref["levels"].items():
        for ds, f in info["dataspaces"].items():
            got = ours["levels"][lv]["dataspaces"][ds]
            assert [got[k] for k in ("tile_words", "reads", "fills", "updates")] == \
                [f[k] for k in ("tile_words", "reads", "fills", "updates")], (lv, ds)
    assert ours["summary"]["Cycles"] == ref["summary"]["Cycles"]
    assert ours["summary"]["Energy"] == ref["summary"]["Energy"]


def test_stats_print_reads_back_as_timeloops():
    run, text = _run("spatial_innermost", DENSE[-1])
    mine, ref = parse_stats(format_stats(run.cost, run.hierarchy, run.tensor_names)), parse_stats(text)
    assert mine["compute"] == ref["compute"]
    assert set(mine["levels"]) == set(ref["levels"])


def test_compute_optimization_names_the_compute_level_only(tmp_path):
    """Sparseloop asserts that a ``compute_optimization`` target is the arithmetic level (``mac``
    here); on a storage level it is refused, and the compute level takes nothing else."""
    import yaml

    from acceldse.mapper.timeloop import load_timeloop
    from acceldse.workloads.errors import SpecError

    spec = yaml.safe_load((ROOT / "sparse" / "compute_gating" / "timeloop-model.input.yaml").read_text())
    assert load_timeloop([ROOT / "sparse" / "compute_gating" / "timeloop-model.input.yaml"]).sparse.gate_on_zero_operand
    for target, key in (({"name": "shared_glb", "compute_optimization": [{"type": "gating"}]}, "targets[0].name"),
                        ({"name": "mac", "action_optimization": []}, "targets[0].action_optimization")):
        spec["sparse_optimizations"] = {"targets": [target]}
        path = tmp_path / "input.yaml"
        path.write_text(yaml.safe_dump(spec))
        with pytest.raises(SpecError, match=key.replace("[", r"\[").replace("]", r"\]")):
            load_timeloop([path])


def test_residual_runs_compute_the_layer_in_the_cycles_of_the_padded_one():
    """``imperfect/``: Timeloop computes exactly the layer's MACs (the residual tiles run only what is left) in
    the temporal iterations of the full factors (Q = 54 takes the cycles of Q = 56); so does acceldse."""
    run, text = _run("imperfect", "dse_resnet18_q54_residual")
    ref = parse_stats(text)
    assert ref["mac"]["Computes (total)"] == run.cost.macs == 64 * 64 * 3 * 3 * 56 * 54
    assert ref["summary"]["Cycles"] == run.cost.cycles == 64 * 64 * 3 * 3 * 56 * 56 // 8
    # ... and fetches more inputs than Q = 56 does (6,002,688 vs 4,988,928): each residual tile breaks the
    # sliding-window reuse of the next output row (docs/mapper.md)
    padded = parse_stats(_run("mac_fanout", "dse_resnet18_l1_conv3x3_q8")[1])
    fills = [r["levels"]["buffer"]["dataspaces"]["inputs"]["fills"] for r in (ref, padded)]
    assert fills == [6_002_688, 4_988_928]
    assert run.cost.counts.set_index(["level", "dataspace"]).loc[("buffer", "inputs"), "fills"] == fills[0]


@pytest.mark.parametrize("edits, key, why", [
    # Q = 26 over 14 PE columns, the last step on 12: a residual on a fan-out between storage levels
    ((("    Q: 28", "    Q: 26"), ("factors: C1 M1 R1 S1 N1 P1 Q14\n", "factors: C1 M1 R1 S1 N1 P1 Q14,12\n")),
     r"inter_PE_column_spatial\.spatial", "fan-out between storage levels"),
    # C = 126: C4,2 in the weights scratchpad under the C4 split across PE rows
    ((("    C: 128", "    C: 126"), ("factors: C4 M1 R3 S1 N1 P1 Q1", "factors: C4,2 M1 R3 S1 N1 P1 Q1")),
     r"inter_PE_spatial\.spatial", "under a fan-out over the same rank"),
])
def test_residual_forms_not_replayed_are_refused_in_one_line(tmp_path, edits, key, why):
    """Timeloop runs these, but each PE instance then ends on its own tile, which the replay
    (``mapper/residual.py``, one instance per fan-out) does not model: refused naming the level and factor."""
    from acceldse.workloads.errors import SpecError

    text = (ROOT / "imperfect" / "eyeriss_resnet18_l2_glb_residual" / "timeloop-model.input.yaml").read_text()
    for old, new in edits:
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "input.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=f"{key}.*{why}"):
        run_timeloop([path])


def test_mac_axis_order_other_than_canonical_is_refused(tmp_path):
    """Timeloop numbers the MACs by the spatial permutation: ``SQ`` instead of ``QS`` on the MAC row of
    ``dse_resnet18_l1_q2s3_m_inner`` gives other neighbours (1,356.14 instead of 1,338.70 uJ in
    Timeloop); acceldse numbers them in canonical order and refuses the other order in one line."""
    from acceldse.workloads.errors import SpecError

    text = (ROOT / "mac_fanout" / "dse_resnet18_l1_q2s3_m_inner" / "timeloop-model.input.yaml").read_text()
    assert "permutation: QSCMRNP" in text
    path = tmp_path / "input.yaml"
    path.write_text(text.replace("permutation: QSCMRNP", "permutation: SQCMRNP"))
    with pytest.raises(SpecError, match=r"inter_PE_spatial\.permutation.*'SQ'.*QS first"):
        run_timeloop([path])
