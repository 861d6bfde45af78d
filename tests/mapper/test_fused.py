"""Fused mappings of cascades: a one-Einsum cascade is exactly the single-Einsum mapper; the cost
model's invariants (hypothesis); FuseMax's mechanism against FLAT and the unfused baseline (2D / 1D
utilisation, buffer independent of the sequence length, speed-up); the fused-mapping search. The CLI is in
``test_fused_cli.py``, the agreement with the FuseMax artifact in ``test_fused_artifact.py``."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import acceldse
from acceldse.api import resolve_workload
from acceldse.mapper.api import map_layer
from acceldse.mapper.attention_designs import evaluate_design, fusemax_vs_flat
from acceldse.mapper.attention_search import search_fused
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
