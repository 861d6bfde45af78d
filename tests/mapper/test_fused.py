"""Fused mappings of cascades: a one-Einsum cascade is exactly the single-Einsum mapper; the cost
model's invariants (hypothesis); FuseMax's mechanism against FLAT and the unfused baseline (2D / 1D
utilisation, buffer independent of the sequence length, speed-up); CLI and Python API end to end."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import acceldse
from acceldse.api import resolve_workload
from acceldse.cli import main
from acceldse.mapper.api import map_layer
from acceldse.mapper.attention_designs import evaluate_design, fusemax_vs_flat, search_fused
from acceldse.mapper.cascade_api import einsum_layer, map_cascade
from acceldse.mapper.fused import FusedCost
from acceldse.workloads.attention import attention_cascade, layer_cascade
from acceldse.workloads.cascade import cascade_from_dict
from acceldse.workloads.errors import SpecError


def _one(name: str, ranks: dict[str, int], out: str, ins: list[str]):
    return cascade_from_dict({"name": name, "ranks": ranks,
                              "einsums": [{"name": name, "output": out, "inputs": ins}]})


ZOO_EINSUMS = [
    ("bert_base", "encoder.0.attn.qk", {"B": 1, "H": 12, "E": 64, "M": 128, "P": 128},
     "QK[b,h,m,p]", ["Q[b,h,e,p]", "K[b,h,e,m]"]),
    ("bert_base", "encoder.0.attn.q", {"P": 128, "D": 768, "O": 768}, "Q[p,o]",
     ["X[p,d]", "W[d,o]"]),
    ("gpt2_prefill", "h.0.mlp.fc1", {"P": 1024, "D": 768, "S": 3072}, "FF[p,s]", ["X[p,d]", "W1[d,s]"]),
    ("vit_b16", "encoder.0.attn.av", {"B": 1, "H": 12, "F": 64, "M": 197, "P": 197},
     "AV[b,h,f,p]", ["A[b,h,m,p]", "V[b,h,f,m]"]),
]


@pytest.mark.parametrize(("zoo", "layer", "ranks", "out", "ins"), ZOO_EINSUMS,
                         ids=[f"{z}:{n}" for z, n, *_ in ZOO_EINSUMS])
def test_one_einsum_cascade_is_exactly_the_single_einsum_mapper(zoo, layer, ranks, out, ins) -> None:
    ref = next(lay for lay in resolve_workload(zoo).layers if lay.name == layer)
    c = _one("E", ranks, out, ins)
    mine = einsum_layer(c, c.einsums[0])
    dims = ("N", "G", "K", "C", "P", "Q", "R", "S")
    assert mine.macs == ref.macs and {d: getattr(mine, d) for d in dims} == {d: getattr(ref, d) for d in dims}
    got = acceldse.map(c, "eyeriss_like", search="random", budget=300, seed=3)
    want = map_layer(ref, "eyeriss_like", search="random", budget=300, seed=3)
    assert got.cost.cycles == want.cost.cycles and got.cost.energy_pj == want.cost.energy_pj


def test_a_non_mac_einsum_on_a_hierarchy_is_refused_with_one_line() -> None:
    c = _one("GM", {"M": 8, "P": 8}, "GM[p]", ["QK[m,p]"])
    c = cascade_from_dict({**c.to_dict(), "einsums": [{**c.to_dict()["einsums"][0], "compute": [], "reduce": "max"}]})
    with pytest.raises(SpecError, match="not a multiply-accumulate"):
        map_cascade(c, "eyeriss_like")
    with pytest.raises(SpecError, match="needs a fused accelerator"):
        map_cascade(attention_cascade("3pass", seq_len=64, batch=1), "eyeriss_like")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design=st.sampled_from(["unfused", "flat", "fusemax"]), log_n=st.integers(8, 14),
       heads=st.sampled_from([1, 8, 12]), head_dim=st.sampled_from([32, 64, 128]), batch=st.integers(1, 4),
       e2e=st.booleans())
def test_cost_invariants(design: str, log_n: int, heads: int, head_dim: int, batch: int, e2e: bool) -> None:
    p = evaluate_design(design, model=None, heads=heads, head_dim=head_dim, seq_len=2**log_n, batch=batch,
                        end_to_end=e2e)
    c, hw, cascade = p.cost, p.hardware, p.cascade
    assert math.isclose(sum(c.energy_breakdown.values()), c.energy_pj, rel_tol=1e-9)
    assert math.isclose(sum(e.energy_pj for e in c.einsums) + c.energy_breakdown["leakage"], c.energy_pj,
                        rel_tol=1e-9)
    for u, unit in hw.units.items():
        assert 0.0 <= c.utilisation[u] <= 1.0 + 1e-12
        work = sum(cascade.points(cascade.einsum(e.name)) * unit.point_cycles(cascade.einsum(e.name).point_ops())
                   for e in c.einsums if e.unit == u)
        assert c.cycles >= math.ceil(work / unit.pes)          # no unit beats its peak
    compulsory = sum(cascade.tensor_words(t) for t in (*cascade.inputs, *cascade.outputs)) * hw.word_bytes
    assert c.dram_bytes >= compulsory                          # every input read, every output written
    assert c.cycles >= math.ceil(c.dram_bytes / hw.dram_bytes_per_cycle) - len(c.group_cycles)
    assert 0 < c.buffer_bytes <= hw.buffer_bytes
    assert sum(g[0] for g in c.group_cycles) <= c.cycles or any(m > 0 for _, m in c.group_cycles)


@pytest.mark.parametrize("model", ["bert", "xlm"])
def test_fusemax_mechanism_against_flat_and_unfused(model: str) -> None:
    pts = {d: evaluate_design(d, model=model, seq_len=16384, batch=64) for d in ("unfused", "flat", "fusemax")}
    fm, flat, unf = pts["fusemax"].cost, pts["flat"].cost, pts["unfused"].cost
    # 1 pass over the keys instead of 3
    assert pts["fusemax"].cascade.num_passes("M1") == 1 and pts["flat"].cascade.num_passes("M") == 3
    # FLAT: the 256-PE softmax array is the bottleneck, the 2D array mostly waits (1D x 64K PEs of 2D work)
    assert flat.util_1d > 0.95 and flat.util_2d < 0.3
    # FuseMax: exp on the 2D array and the waterfall keep both arrays busy
    assert fm.util_2d > 0.95 and fm.util_1d > 0.95
    # the speed-up is the 2D utilisation gained; energy and DRAM traffic fall too
    assert fm.cycles < flat.cycles < unf.cycles
    assert flat.cycles / fm.cycles > 3.0
    assert fm.energy_pj < flat.energy_pj < unf.energy_pj and fm.dram_bytes < flat.dram_bytes < unf.dram_bytes


@pytest.mark.parametrize("model", ["bert", "xlm"])
def test_pass_analysis_orders_the_3_2_and_1_pass_cascades_on_fusemax(model: str) -> None:
    """The same accelerator (FuseMax's) and the same sweep over key tiles, one sweep per pass: every
    tensor the pass analysis puts in two passes is written to DRAM once and read back by each later
    pass (the buffer holds one key tile, not a row of N scores), so the 3-pass cascade moves its two
    N x N intermediates (QK, SN) and the 2-pass one its one (QK) on top of the 1-pass traffic, and
    latency and energy fall in the same order."""
    pts = {k: evaluate_design("fusemax", model=model, seq_len=4096, batch=4, cascade=k) for k in
           ("3pass", "2pass", "1pass")}
    word = pts["1pass"].hardware.word_bytes
    extra = {}
    for kind, p in pts.items():
        c = p.cascade
        passes = c.passes("M" if kind == "3pass" else "M1")
        assert c.num_passes("M" if kind == "3pass" else "M1") == int(kind[0])
        assert len(p.mapping.groups) == int(kind[0]) and p.mapping.groups[0].tiles["P"] == 4096
        crossing = 0
        for t, prod in c.producers.items():
            later = {passes[u] for u in c.consumers.get(t, ())} - {passes[prod]}
            crossing += c.tensor_words(t) * (1 + len(later)) if later else 0
        extra[kind] = crossing * word
    assert extra["1pass"] == 0 and extra["2pass"] > 0 and extra["3pass"] > 1.9 * extra["2pass"]
    scores = 4 * pts["1pass"].cascade.ranks["H"] * 4096 * 4096
    assert extra["2pass"] // (2 * word) - scores < scores // 1000          # QK out and back: ~2 x N^2 words
    for kind in ("3pass", "2pass"):
        assert pts[kind].cost.dram_bytes - pts["1pass"].cost.dram_bytes == extra[kind]
    c3, c2, c1 = (pts[k].cost for k in ("3pass", "2pass", "1pass"))
    assert c3.cycles > c2.cycles > c1.cycles and c3.energy_pj > c2.energy_pj > c1.energy_pj
    row_block = 4096 * 4096 * word                     # the scores of the query tile: 32 MiB, over the buffer
    assert max(c3.buffer_bytes, c2.buffer_bytes, c1.buffer_bytes) < row_block // 4     # a key tile of them


def test_fusemax_buffer_is_independent_of_the_sequence_length() -> None:
    sizes = {}
    for n in (1024, 16384, 262144):
        fm = evaluate_design("fusemax", model="bert", seq_len=n, batch=64, query_tile=256).cost
        flat = evaluate_design("flat", model="bert", seq_len=n, batch=64, query_tile=256).cost
        sizes[n] = (fm.buffer_bytes, flat.buffer_bytes, flat.spilled_fraction)
    assert sizes[1024][0] == sizes[16384][0] == sizes[262144][0]          # FuseMax: K/V tile + running stats
    assert sizes[16384][1] > 8 * sizes[1024][1]                           # FLAT: a row block of N scores
    assert sizes[262144][2] > 0 or sizes[262144][1] == 32 * 2**20        # ... until it spills / fills 32 MiB


def test_paper_comparison_reproduces_the_mechanism_not_the_table() -> None:
    got = fusemax_vs_flat(models=("bert",), seq_lens=(1024, 65536))
    assert got["paper"] == {"speedup": 6.7, "energy_ratio": 0.79}
    assert 4.0 < got["speedup"] < 10.0 and got["energy_ratio"] < 1.0
    e2e = fusemax_vs_flat(models=("bert",), seq_lens=(65536,), end_to_end=True)
    assert e2e["paper"] == {"speedup": 5.3, "energy_ratio": 0.83}
    assert 1.0 < e2e["speedup"] <= got["speedup"] * 1.05     # the linear layers dilute the gain


@pytest.mark.parametrize("method", ["anneal", "ga", "random"])
def test_search_finds_the_fusemax_template_or_better(method: str) -> None:
    c = attention_cascade("1pass", heads=12, head_dim=64, seq_len=4096, batch=8)
    template = evaluate_design("fusemax", model="bert", seq_len=4096, batch=8).cost
    res = search_fused(c, "fusemax", search=method, budget=150, seed=1)
    assert res.cost.cycles <= template.cycles and 1 <= res.valid <= res.evaluations == 150
    energy = search_fused(c, "fusemax", search=method, budget=150, seed=1, objective="energy")
    assert energy.cost.energy_pj <= template.energy_pj


def test_layer_cascade_runs_every_design_end_to_end() -> None:
    c = layer_cascade("1pass", seq_len=1024, batch=2)
    default = map_cascade(c, "fusemax")                       # every Einsum alone, through DRAM
    assert isinstance(default, FusedCost)
    fused = evaluate_design("fusemax", model="bert", seq_len=1024, batch=2, end_to_end=True).cost
    assert fused.cycles < default.cycles and fused.dram_bytes < default.dram_bytes
    layer = {k: evaluate_design("fusemax", model="bert", seq_len=1024, batch=2, end_to_end=True, cascade=k).cost
             for k in ("3pass", "2pass")}
    assert layer["3pass"].dram_bytes > layer["2pass"].dram_bytes > fused.dram_bytes


def test_cli_attention_json_and_table(capsys) -> None:
    assert main(["attention", "--design", "all", "--model", "t5", "--seq-len", "4K", "--batch", "8",
                 "--format", "json"]) == 0
    pts = {p["design"]: p for p in json.loads(capsys.readouterr().out)["points"]}
    assert pts["fusemax"]["speedup_vs_flat"] > 1 and pts["flat"]["speedup_vs_flat"] == 1.0
    assert pts["fusemax"]["passes"] == 1 and pts["unfused"]["passes"] == 3
    assert main(["attention", "--design", "fusemax", "--cascade", "2pass", "--model", "t5", "--seq-len", "4K",
                 "--batch", "8", "--format", "json"]) == 0
    two = json.loads(capsys.readouterr().out)
    assert two["passes"] == 2 and two["cascade"] == "2pass" and two["dram_bytes"] > pts["fusemax"]["dram_bytes"]
    assert main(["attention", "--design", "fusemax", "--model", "bert", "--seq-len", "1024", "--stats"]) == 0
    out = capsys.readouterr().out
    assert "=== SLNV ===" in out and "util_2d" in out


@pytest.mark.parametrize(("argv", "words"), [
    (["--seq-len", "abc"], "--seq-len"),
    (["--model", "gpt9"], "unknown model"),
    (["--heads", "4"], "--head-dim"),
    (["--buffer", "lots"], "--buffer"),
    (["--design", "fusemax", "--seq-len", "1000"], "multiple of"),
    (["--design", "search", "--end-to-end"], "attention only"),
    (["--design", "flat", "--query-tile", "3"], "query tile"),
    (["--design", "flat", "--cascade", "1pass"], "--cascade"),
    (["--design", "search", "--cascade", "2pass"], "1-pass"),
])
def test_cli_bad_input_is_one_line_exit_2(argv: list[str], words: str, capsys) -> None:
    assert main(["attention", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_map_cascade_file(tmp_path, capsys) -> None:
    path = tmp_path / "att.yaml"
    path.write_text(json.dumps({**attention_cascade("1pass", seq_len=512, batch=1).to_dict(),
                                "hardware": "fusemax"}))
    assert main(["map", "--cascade", str(path), "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["cycles"] > 0 and {e["einsum"] for e in got["einsums"]} >= {"QK", "RM", "AV"}


def _softmax_file(tmp_path, mapping: dict | None, hardware: object = "fusemax"):
    raw = {"version": 1, "name": "softmax", "hardware": hardware, "ranks": {"P": 4096, "M": 4096}, "einsums": [
        {"name": "GM", "output": "GM[p]", "inputs": ["S[m,p]"], "compute": [], "reduce": "max"},
        {"name": "SN", "output": "SN[m,p]", "inputs": ["S[m,p]", "GM[p]"], "compute": ["sub", "exp"],
         "reduce": "none"}]}
    if mapping is not None:
        raw["mapping"] = mapping
    path = tmp_path / "softmax.yaml"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize(("mapping", "hardware", "words"), [
    # the whole 4096 x 4096 score tensor staged in a 16 MiB buffer: over capacity
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe2d", "SN": "pe2d"}}, "fusemax",
     "mapping.keep.S"),
    # FLAT's 2D array has no subtract or exponential unit
    ({"groups": [{"einsums": ["GM"]}, {"einsums": ["SN"]}], "binding": {"GM": "pe1d", "SN": "pe2d"},
      "keep": {"S": "dram", "GM": "dram", "SN": "dram"}}, "flat_cloud", "cannot run operator 'sub'"),
    ({"groups": [{"einsums": ["GM"]}], "binding": {"GM": "pe1d"}}, "fusemax", "exactly one group"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}, "keep": {"QK": "unit"}},
     "fusemax", "no such tensor"),
    ({"groups": [{"einsums": ["GM", "SN"], "loops": ["Z"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}}, "fusemax",
     "no such rank"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe3d"}}, "fusemax",
     "no such compute unit"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}, "keep": {"GM": "disk"}},
     "fusemax", "unknown level"),
    ({"groups": [{"einsums": ["GM", "SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"}, "keep": {"S": "unit"}},
     "fusemax", "cascade input or output cannot live in PE registers"),
    ({"groups": [{"einsums": ["GM"]}, {"einsums": ["SN"]}], "binding": {"GM": "pe1d", "SN": "pe1d"},
      "keep": {"S": "dram", "GM": "unit"}}, "fusemax", "shared by two groups"),
    ({"groups": [{"einsums": ["GM", "SN"], "stages": [["GM"]]}], "binding": {"GM": "pe1d", "SN": "pe1d"},
      "keep": {"S": "dram", "SN": "dram"}}, "fusemax", "stages must list each Einsum"),
])
def test_cli_bad_fused_mapping_is_one_line_exit_2(tmp_path, capsys, mapping, hardware, words) -> None:
    assert main(["map", "--cascade", str(_softmax_file(tmp_path, mapping, hardware))]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "softmax.yaml" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("zoo", "prefix", "seq_len"), [("bert_base", "encoder.0", 128), ("gpt2_prefill", "h.0", 1024),
                                                        ("vit_b16", "encoder.0", 197)])
def test_zoo_attention_shapes_as_cascades(zoo: str, prefix: str, seq_len: int) -> None:
    layers = {lay.name: lay for lay in resolve_workload(zoo).layers}
    pts = {d: evaluate_design(d, model=None, heads=12, head_dim=64, seq_len=seq_len, batch=1)
           for d in ("unfused", "flat", "fusemax")}
    for d, p in pts.items():                       # the same QK^T and x V work as the zoo's matmul layers
        names = ("QK", "AV") if d != "fusemax" else ("QK", "SLNV")
        got = [p.cascade.points(p.cascade.einsum(n)) for n in names]
        assert got == [layers[f"{prefix}.attn.qk"].macs, layers[f"{prefix}.attn.av"].macs], d
    assert pts["fusemax"].cost.cycles < pts["flat"].cost.cycles < pts["unfused"].cost.cycles


def _flat_golden() -> list[dict]:
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "golden" / "fusemax" / "flat_traffic.csv"
    rows = list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))
    mult = {"K": 2**10, "M": 2**20}
    for r in rows:
        s = r["seq_len"]
        r["n"] = int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)
    # the configurations FLAT's template here takes: Q, K and V streamed from DRAM, the scores on chip, no spill
    return [r for r in rows if (r["Q_loc"], r["K_loc"], r["V_loc"], r["QK_loc"], r["A_loc"]) ==
            ("offchip", "offchip", "offchip", "onchip", "onchip") and float(r["proportion_spilled"]) < 0.01]


@pytest.mark.parametrize("row", _flat_golden(), ids=lambda r: f"{r['models']}-{r['seq_len']}")
def test_flat_dram_traffic_agrees_with_the_fusemax_artifact(row: dict) -> None:
    """FLAT's DRAM bytes against the FuseMax artifact's Timeloop-based FLAT model (a peer's figure)."""
    got = evaluate_design("flat", model=row["models"].lower(), seq_len=row["n"], batch=64).cost.dram_bytes
    assert got == pytest.approx(float(row["mem_traffic"]), rel=0.03)


def _artifact(name: str) -> list[dict]:
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "golden" / "fusemax" / f"{name}.csv"
    mult = {"K": 2**10, "M": 2**20}
    rows = list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))
    for r in rows:
        s = r["seq_len"]
        r["n"] = int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)
    return rows


@pytest.mark.parametrize(("design", "latency_tol", "energy_range"), [
    ("fusemax", 0.002, (1.0, 1.08)),     # latency, traffic and utilisations exact; our energy 6-7 % higher
    ("flat", 0.016, (0.86, 0.97)),       # to 64K within 1.6 %; beyond, the artifact's FLAT sends the scores
    ("unfused", 0.025, (0.94, 0.98)),    # off chip and waits on DRAM (ours spills part: up to 13.5 % faster)
])
def test_attention_agrees_with_the_fusemax_artifact(design: str, latency_tol: float, energy_range) -> None:
    """Latency, DRAM traffic, utilisations and energy of every published point of the FuseMax artifact
    (its Timeloop + Accelergy runs of each design; peer figures, not fitted)."""
    for r in _artifact(f"{design}_attention"):
        c = evaluate_design(design, model=r["model"].lower(), seq_len=r["n"], batch=64).cost
        lat = c.latency_us / (float(r["latency"]) * 1e6)
        where = f"{r['model']} {r['seq_len']}"
        if design == "flat" and r["n"] > 65536:
            assert 0.86 < lat < 1.02, where
        else:
            assert lat == pytest.approx(1.0, abs=latency_tol), where
            assert c.util_2d == pytest.approx(float(r["util_2d"]), rel=0.025), where
        if design == "fusemax":
            assert c.dram_bytes == pytest.approx(float(r["traffic"]), rel=1e-9), where
            assert c.util_1d == pytest.approx(float(r["util_1d"]), rel=1e-6), where
        assert energy_range[0] <= c.energy_pj / float(r["energy"]) <= energy_range[1], where


def _artifact_charges(design: str, r: dict) -> tuple[float, int, int]:
    """What the actions the FuseMax artifact's code counts for ``design`` come to at its own ERT values
    (our presets copy them): every MAC, the per-score and per-key-tile operators of its cascade, its
    published DRAM bytes; its register files are charged one PE's Timeloop per-instance counts (~0) and
    no leakage. Returns (pJ, scores, MACs)."""
    from acceldse.simulator.specs.fused import load_fused_hardware
    from acceldse.workloads.attention import model_shape

    shape = model_shape(r["model"])
    hw = load_fused_hardware("fusemax" if design == "fusemax" else "flat_cloud")
    op = {name: cost.pj for name, cost in hw.units["pe1d"].ops.items()}
    scores = 64 * shape.heads * r["n"] * r["n"]
    macs = 2 * scores * shape.head_dim
    if design == "fusemax":     # LM, SLN (exp as 6 MACs + sub), SLD per score; RM, PRM, SPD, SPNV, RD, RNV per tile
        per_score = op["max"] + op["exp"] + op["sub"] + op["add"]
        per_tile = op["max"] + op["exp"] + op["sub"] + op["mul"] + shape.head_dim * (op["mul"] + 2 * op["add"])
        ops = scores * per_score + scores // 256 * per_tile + 64 * shape.heads * r["n"] * shape.head_dim * op["div"]
    else:                       # GM, SN (sub, exp), SD, A (divide) per score, on the 1D array
        ops = scores * (op["max"] + op["sub"] + op["exp"] + op["add"] + op["div"])
    return macs * op["mac"] + ops + float(r["traffic"]) * hw.dram_pj_per_byte, scores, macs


@pytest.mark.parametrize("design", ["flat", "unfused", "fusemax"])
def test_the_artifacts_flat_energy_has_600_pj_per_score_its_actions_do_not_charge(design: str) -> None:
    """Why our FuseMax/FLAT energy ratio (93 %) is not the paper's (79 %): the artifact's published energy
    of both 3-pass designs exceeds what the actions its code counts come to, at its own ERT values, by
    ~550-850 pJ per score (E-independent: BERT, TrXL, T5 at E = 64 and XLM at E = 128 agree per score,
    not per MAC), while FuseMax's exceeds them by ~0.5 pJ per MAC only. No action of the artifact's
    FLAT model (MACs, max, exp, add, divide, buffer per 256-word access, DRAM per 64-bit access)
    costs that per score, so our model, which counts actions, does not reproduce it (docs/attention.md)."""
    for r in _artifact(f"{design}_attention"):
        charged, scores, macs = _artifact_charges(design, r)
        extra = float(r["energy"]) - charged
        where = (r["model"], r["seq_len"])
        if design == "fusemax":
            assert 0.45 < extra / macs < 0.65 and extra / float(r["energy"]) < 0.035, where
        else:
            assert 550 < extra / scores < 850 and extra / float(r["energy"]) > 0.13, where     # 13-25 %


@pytest.mark.slow
def test_end_to_end_agrees_with_the_fusemax_artifact() -> None:
    """The whole layer = the artifact's attention + its linear layers (FLAT to 64K, FuseMax everywhere)."""
    for design in ("flat", "fusemax"):
        linear = {(r["model"], r["seq_len"]): r for r in _artifact(f"{design}_linear")}
        for r in _artifact(f"{design}_attention"):
            if r["n"] > 65536 and design == "flat":
                continue
            lin = linear[(r["model"], r["seq_len"])]
            c = evaluate_design(design, model=r["model"].lower(), seq_len=r["n"], batch=64, end_to_end=True).cost
            want_us = (float(r["latency"]) + float(lin["latency"])) * 1e6
            assert c.latency_us == pytest.approx(want_us, rel=0.017), (design, r["model"], r["seq_len"])


def test_docs_energy_table_is_what_our_model_gives() -> None:
    """docs/attention.md's per-MAC energy breakdown at BERT 64K (our columns) is this model's output, to the
    digits it prints."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "attention.md").read_text()
    table = text[text.index("| pJ per MAC, BERT 64K"):].split("\n\n")[0].splitlines()[2:]
    keys = {"operators": "compute", "register files": "regfile", "global buffer": "buffer", "DRAM": "dram",
            "leakage": "leakage", "total": "total"}
    macs = 2 * 64 * 12 * 65536 ** 2 * 64  # 2·B·H·N²·E
    checked = 0
    for column, design in ((1, "flat"), (3, "fusemax")):
        cost = evaluate_design(design, model="bert", seq_len=65536).cost
        per_mac = {**{k: v / macs for k, v in cost.energy_breakdown.items()}, "total": cost.energy_pj / macs}
        for line in table:
            cells = [c.strip() for c in line.strip("|").split("|")]
            key = next((v for k, v in keys.items() if cells[0].startswith(k)), None)
            if key is None:
                continue
            printed = cells[column]
            digits = len(printed.split(".")[1]) if "." in printed else 0
            assert f"{per_mac[key]:.{digits}f}" == printed, (design, cells[0], per_mac[key], printed)
            checked += 1
    assert checked == 12
