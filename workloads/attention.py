"""Attention as cascades of extended Einsums (FuseMax's taxonomy) and a whole transformer layer.

Ranks: ``B`` batch, ``H`` heads, ``E`` query/key embedding per head, ``F`` value embedding per head,
``P`` queries, ``M`` keys (``M = P`` for self-attention), ``D`` model width, ``S`` FFN width. The
1- and 2-pass cascades split the keys into ``M1`` tiles of ``M0`` keys (``key_tile``, the 2D array's
side in FuseMax).

* ``3pass`` - numerically stable softmax as written: global max over all keys, then exp and sum,
  then divide and x V (three sweeps over ``M``; FLAT and the unfused baseline);
* ``2pass`` - per-tile local max, global max over tiles (sweep 1), then exp, sum and x V with the
  global max (sweep 2);
* ``1pass`` - online softmax: running max ``RM``, correction ``PRM = exp(RM[m1] - RM[m1+1])``,
  running denominator ``RD`` and numerator ``RNV``, divided once at the end (FuseMax).

``MODELS`` holds the shapes FuseMax evaluates (BERT-base, Transformer-XL, T5, XLM).
"""

from __future__ import annotations

from dataclasses import dataclass

from acceldse.workloads.cascade import Cascade, cascade_from_dict
from acceldse.workloads.errors import SpecError, require_int


@dataclass(frozen=True)
class ModelShape:
    """A transformer layer's shape: heads, per-head embeddings, model and FFN widths."""

    name: str
    heads: int
    head_dim: int
    embed: int
    ffn: int


MODELS: dict[str, ModelShape] = {
    "bert": ModelShape("BERT", 12, 64, 768, 3072),
    "trxl": ModelShape("TrXL", 16, 64, 1024, 4096),
    "t5": ModelShape("T5", 8, 64, 512, 2048),
    "xlm": ModelShape("XLM", 16, 128, 2048, 8192),
}
"""FuseMax's four workloads (the shapes of its artifact's Transformer table)."""

KINDS: tuple[str, ...] = ("3pass", "2pass", "1pass")
STREAMED_RANK: dict[str, str] = {"3pass": "M", "2pass": "M1", "1pass": "M1"}
"""The key rank each cascade sweeps (what ``Cascade.passes`` counts)."""


def model_shape(name: str, *, source: str = "model") -> ModelShape:
    key = str(name).strip().lower()
    if key not in MODELS:
        raise SpecError("unknown model", source=source, value=name, accepted=", ".join(MODELS))
    return MODELS[key]


def _e(name: str, out: str, ins: list[str], compute: list[str], reduce: str = "none") -> dict:
    return {"name": name, "output": out, "inputs": ins, "compute": compute, "reduce": reduce}


def _attention_einsums(kind: str) -> list[dict]:
    if kind == "3pass":
        return [
            _e("QK", "QK[b,h,m,p]", ["Q[b,h,e,p]", "K[b,h,e,m]"], ["mul"], "sum"),
            _e("GM", "GM[b,h,p]", ["QK[b,h,m,p]"], [], "max"),
            _e("SN", "SN[b,h,m,p]", ["QK[b,h,m,p]", "GM[b,h,p]"], ["sub", "exp"]),
            _e("SD", "SD[b,h,p]", ["SN[b,h,m,p]"], [], "sum"),
            _e("A", "A[b,h,m,p]", ["SN[b,h,m,p]", "SD[b,h,p]"], ["div"]),
            _e("AV", "AV[b,h,f,p]", ["A[b,h,m,p]", "V[b,h,f,m]"], ["mul"], "sum"),
        ]
    if kind == "2pass":
        return [
            _e("QK", "QK[b,h,m1,m0,p]", ["Q[b,h,e,p]", "K[b,h,e,m1,m0]"], ["mul"], "sum"),
            _e("LM", "LM[b,h,m1,p]", ["QK[b,h,m1,m0,p]"], [], "max"),
            _e("GM", "GM[b,h,p]", ["LM[b,h,m1,p]"], [], "max"),
            _e("SLN", "SLN[b,h,m1,m0,p]", ["QK[b,h,m1,m0,p]", "GM[b,h,p]"], ["sub", "exp"]),
            _e("SD", "SD[b,h,p]", ["SLN[b,h,m1,m0,p]"], [], "sum"),
            _e("SNV", "SNV[b,h,f,p]", ["SLN[b,h,m1,m0,p]", "V[b,h,f,m1,m0]"], ["mul"], "sum"),
            _e("AV", "AV[b,h,f,p]", ["SNV[b,h,f,p]", "SD[b,h,p]"], ["div"]),
        ]
    if kind == "1pass":
        return [
            _e("QK", "QK[b,h,m1,m0,p]", ["Q[b,h,e,p]", "K[b,h,e,m1,m0]"], ["mul"], "sum"),
            _e("LM", "LM[b,h,m1,p]", ["QK[b,h,m1,m0,p]"], [], "max"),
            _e("RM", "RM[b,h,m1+1,p]", ["RM[b,h,m1,p]", "LM[b,h,m1,p]"], ["max"]),
            _e("SLN", "SLN[b,h,m1,m0,p]", ["QK[b,h,m1,m0,p]", "RM[b,h,m1+1,p]"], ["sub", "exp"]),
            _e("SLD", "SLD[b,h,m1,p]", ["SLN[b,h,m1,m0,p]"], [], "sum"),
            _e("SLNV", "SLNV[b,h,m1,f,p]", ["SLN[b,h,m1,m0,p]", "V[b,h,f,m1,m0]"], ["mul"], "sum"),
            _e("PRM", "PRM[b,h,m1,p]", ["RM[b,h,m1,p]", "RM[b,h,m1+1,p]"], ["sub", "exp"]),
            _e("SPD", "SPD[b,h,m1,p]", ["RD[b,h,m1,p]", "PRM[b,h,m1,p]"], ["mul"]),
            _e("SPNV", "SPNV[b,h,m1,f,p]", ["RNV[b,h,m1,f,p]", "PRM[b,h,m1,p]"], ["mul"]),
            _e("RD", "RD[b,h,m1+1,p]", ["SLD[b,h,m1,p]", "SPD[b,h,m1,p]"], ["add"]),
            _e("RNV", "RNV[b,h,m1+1,f,p]", ["SLNV[b,h,m1,f,p]", "SPNV[b,h,m1,f,p]"], ["add"]),
            _e("AV", "AV[b,h,f,p]", ["RNV[b,h,M1,f,p]", "RD[b,h,M1,p]"], ["div"]),
        ]
    raise SpecError("unknown attention cascade", source="kind", value=kind, accepted=", ".join(KINDS))


def _ranks(kind: str, heads: int, head_dim: int, seq_len: int, batch: int, key_tile: int) -> dict[str, int]:
    ranks = {"B": batch, "H": heads, "E": head_dim, "F": head_dim, "P": seq_len}
    if kind == "3pass":
        ranks["M"] = seq_len
    else:
        if seq_len % key_tile:
            raise SpecError(f"the sequence length is not a multiple of the key tile ({key_tile})",
                            source="seq_len", value=seq_len, accepted=f"a multiple of {key_tile}")
        ranks["M1"] = seq_len // key_tile
        ranks["M0"] = key_tile
    return ranks


def attention_cascade(kind: str = "1pass", *, heads: int = 12, head_dim: int = 64, seq_len: int = 1024,
                      batch: int = 64, key_tile: int = 256) -> Cascade:
    """Self-attention ``softmax(Q K^T) V`` of one layer as a cascade (module docstring)."""
    heads = require_int(heads, key="heads")
    head_dim = require_int(head_dim, key="head_dim")
    seq_len = require_int(seq_len, key="seq_len")
    batch = require_int(batch, key="batch")
    key_tile = require_int(key_tile, key="key_tile")
    ranks = _ranks(kind, heads, head_dim, seq_len, batch, key_tile if seq_len >= key_tile else seq_len)
    return cascade_from_dict({"version": 1, "name": f"attention-{kind}", "ranks": ranks,
                              "einsums": _attention_einsums(kind)}, source=f"attention-{kind}")


def layer_cascade(kind: str = "1pass", *, heads: int = 12, head_dim: int = 64, embed: int = 768, ffn: int = 3072,
                  seq_len: int = 1024, batch: int = 64, key_tile: int = 256) -> Cascade:
    """A whole encoder layer: Q/K/V projections, attention (``kind``), output projection and FFN.

    ``X`` is the layer input by query position, ``XM`` the same activations by key position (the
    key/value source; a decoder's cross-attention reads the encoder output there).
    """
    att = attention_cascade(kind, heads=heads, head_dim=head_dim, seq_len=seq_len, batch=batch, key_tile=key_tile)
    keys = "m" if kind == "3pass" else "m1,m0"
    proj = [
        _e("Qp", "Q[b,h,e,p]", ["X[b,d,p]", "WQ[h,e,d]"], ["mul"], "sum"),
        _e("Kp", f"K[b,h,e,{keys}]", [f"XM[b,d,{keys}]", "WK[h,e,d]"], ["mul"], "sum"),
        _e("Vp", f"V[b,h,f,{keys}]", [f"XM[b,d,{keys}]", "WV[h,f,d]"], ["mul"], "sum"),
    ]
    tail = [
        _e("Z", "Z[b,d,p]", ["AV[b,h,f,p]", "WZ[h,f,d]"], ["mul"], "sum"),
        _e("FFN1", "FF[b,s,p]", ["Z[b,d,p]", "W1[s,d]"], ["mul"], "sum"),
        _e("FFN2", "Y[b,d,p]", ["FF[b,s,p]", "W2[d,s]"], ["mul"], "sum"),
    ]
    ranks = {**att.ranks, "D": require_int(embed, key="embed"),
             "S": require_int(ffn, key="ffn")}
    return cascade_from_dict({"version": 1, "name": f"layer-{kind}", "ranks": ranks,
                              "einsums": proj + _attention_einsums(kind) + tail}, source=f"layer-{kind}")
