"""Extended Einsums and cascades: the attention cascades compute softmax(QK^T)V (checked point by point
against NumPy), pass analysis, and every malformed cascade is one SpecError line naming the key."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from acceldse.workloads.attention import KINDS, STREAMED_RANK, attention_cascade, layer_cascade
from acceldse.workloads.cascade import Cascade, cascade_from_dict, load_cascade
from acceldse.workloads.errors import SpecError

IDENTITY = {"max": -math.inf, "add": 0.0, "sum": 0.0, "mul": 1.0}


def _apply(ops: tuple[str, ...], vals: list[float]) -> float:
    acc = vals[0]
    rest = list(vals[1:])
    for op in ops:
        if op == "exp":
            acc = math.exp(acc) if acc > -math.inf else 0.0
        elif op == "copy":
            continue
        else:
            b = rest.pop(0)
            fns = {"mul": lambda x, y: x * y, "add": lambda x, y: x + y, "div": lambda x, y: x / y,
                   "sub": lambda x, y: -math.inf if x == y == -math.inf else x - y, "max": max}
            acc = fns[op](acc, b)
    return acc


def interpret(c: Cascade, inputs: dict[str, np.ndarray]) -> dict[str, dict]:
    """A point-by-point interpreter of the cascade semantics (the test's own reference)."""
    store: dict[str, dict] = {t: {idx: float(v) for idx, v in np.ndenumerate(a)} for t, a in inputs.items()}
    init: dict[str, float] = {}
    for e in c:
        store.setdefault(e.output.tensor, {})
        if e.recurrent_rank:
            init[e.output.tensor] = IDENTITY[e.compute[0]]
    rec = next((e.recurrent_rank for e in c if e.recurrent_rank), None)

    def run(e, fixed: dict[str, int]) -> None:
        ranks = [r for r in e.iteration_ranks if r not in fixed]
        out = store[e.output.tensor]
        for pt in itertools.product(*(range(c.ranks[r]) for r in ranks)):
            env = {**dict(zip(ranks, pt, strict=True)), **fixed}
            vals = []
            for ref in e.inputs:
                key = tuple(c.ranks[i.rank] if i.take else env[i.rank] + i.shift for i in ref.indices)
                vals.append(store[ref.tensor].get(key, init.get(ref.tensor, math.nan)))
            v = _apply(e.compute, vals)
            okey = tuple(env[i.rank] + i.shift for i in e.output.indices)
            if e.reduced_ranks and e.reduce != "none":
                prev = out.get(okey, IDENTITY[e.reduce])
                out[okey] = prev + v if e.reduce == "sum" else max(prev, v)
            else:
                out[okey] = v

    order = c.order()
    inner = [e for e in order if rec and rec in e.iteration_ranks]
    before = [e for e in order if e not in inner and not any(
        i.take for ref in e.inputs for i in ref.indices)]
    after = [e for e in order if e not in inner and e not in before]
    for e in before:
        run(e, {})
    if rec:
        for k in range(c.ranks[rec]):
            for e in inner:
                run(e, {rec: k})
    for e in after:
        run(e, {})
    return store


@pytest.mark.parametrize("kind", KINDS)
def test_attention_cascades_compute_softmax_attention(kind: str) -> None:
    rng = np.random.default_rng(3)
    b, h, e, n, tile = 1, 2, 3, 6, 2
    c = attention_cascade(kind, heads=h, head_dim=e, seq_len=n, batch=b, key_tile=tile)
    q = rng.normal(size=(b, h, e, n))
    k = rng.normal(size=(b, h, e, n))
    v = rng.normal(size=(b, h, e, n))
    if kind == "3pass":
        inputs = {"Q": q, "K": k, "V": v}
    else:
        inputs = {"Q": q, "K": k.reshape(b, h, e, n // tile, tile), "V": v.reshape(b, h, e, n // tile, tile)}
    store = interpret(c, inputs)
    s = np.einsum("bhep,bhem->bhpm", q, k)
    att = np.exp(s - s.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    want = np.einsum("bhpm,bhfm->bhfp", att, v)
    got = np.zeros_like(want)
    for idx, val in store["AV"].items():
        got[idx] = val
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_pass_analysis_follows_fusemax_taxonomy() -> None:
    assert {k: attention_cascade(k).num_passes(STREAMED_RANK[k]) for k in KINDS} == \
        {"3pass": 3, "2pass": 2, "1pass": 1}
    passes = attention_cascade("3pass").passes("M")
    assert passes == {"QK": 0, "GM": 0, "SN": 1, "SD": 1, "A": 2, "AV": 2}


def test_layer_cascade_inputs_outputs_and_points() -> None:
    c = layer_cascade("1pass", heads=12, head_dim=64, embed=768, ffn=3072, seq_len=1024, batch=2)
    assert c.outputs == ("Y",)
    assert set(c.inputs) == {"X", "XM", "WQ", "WK", "WV", "WZ", "W1", "W2"}
    assert c.points(c.einsum("FFN1")) == 2 * 3072 * 768 * 1024
    assert c.points(c.einsum("Qp")) == 2 * 12 * 64 * 768 * 1024


def _spec(**changes: object) -> dict:
    spec = attention_cascade("3pass", seq_len=256, batch=1).to_dict()
    spec.update(changes)
    return spec


@pytest.mark.parametrize(("mutate", "words"), [
    (lambda s: s["einsums"][1].update(inputs=["A[b,h,m,p]"]), "cycle"),
    (lambda s: s["einsums"][3].update(output="GM[b,h,p]"), "two producers"),
    (lambda s: s["einsums"][0].update(ranks={"M": 128}), "disagrees in size"),
    (lambda s: s["einsums"][1].update(inputs=["QK[b,h,p]"]), "different ranks"),
    (lambda s: s["einsums"][1].update(compute=["tanh"]), "unknown operator"),
    (lambda s: s["einsums"][1].update(reduce="min"), "unknown reduction"),
    (lambda s: s["einsums"][0].update(output="QK[b,h,x,p]"), "rank has no size"),
    (lambda s: s["einsums"][0].update(bogus=1), "unknown key"),
    (lambda s: s["einsums"][0].update(output="QK[b,h,m"), "not a tensor reference"),
])
def test_bad_cascades_are_one_line_spec_errors(mutate, words: str) -> None:
    spec = _spec()
    mutate(spec)
    with pytest.raises(SpecError, match=words) as err:
        cascade_from_dict(spec, source="bad.yaml")
    assert str(err.value).startswith("bad.yaml") and "\n" not in str(err.value)


def test_self_read_without_recurrence_is_a_cycle() -> None:
    spec = _spec()
    spec["einsums"][1]["inputs"] = ["QK[b,h,m,p]", "GM[b,h,p]"]
    with pytest.raises(SpecError, match="own output"):
        cascade_from_dict(spec, source="x.yaml")


def test_yaml_round_trip(tmp_path: Path) -> None:
    import yaml

    c = attention_cascade("1pass", seq_len=512, batch=2)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(c.to_dict()))
    back = load_cascade(path)
    assert back.to_dict() == c.to_dict() and back.num_passes("M1") == 1


def test_cli_exit_2_on_cycle(tmp_path: Path) -> None:
    import yaml

    spec = _spec()
    spec["einsums"][1]["inputs"] = ["A[b,h,m,p]"]
    path = tmp_path / "cyc.yaml"
    path.write_text(yaml.safe_dump(spec))
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "acceldse", "map", "--cascade", str(path)], capture_output=True,
                         text=True, cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "cyc.yaml" in out.stderr and "cycle" in out.stderr
