"""Transformer encoders/decoders: ViT-B/16, a BERT-base encoder layer, GPT-2 small prefill and decode.

Each attention block has separate Q, K and V projections (``gemm``, tokens x hidden x hidden),
``QK^T`` and ``.V`` as batched ``matmul`` layers with G = batch * heads, a softmax over the
score matrices, the output projection and a residual add. The MLP is hidden -> ffn -> hidden with
GELU between. Layer norms, softmax and GELU are ``eltwise`` layers (zero MACs, real traffic);
residual adds have two inputs and DAG edges from both branches. Attention is dense: a causal
mask does not remove the masked half of ``QK^T`` from the hardware's work.
"""

from __future__ import annotations

from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.network import Network
from acceldse.workloads.zoo._builder import (
    MAX_CLASSES,
    MAX_LAYERS,
    GraphBuilder,
    Tensor,
    check_common,
    check_resolution,
)

MAX_TOKENS = 1 << 20
"""Upper bound accepted for sequence and KV-cache lengths (tokens)."""

GPT2_VOCAB = 50257


def _tokens(source: str, key: str, value: int) -> int:
    result = require_int(value, key=key, source=source)
    if result > MAX_TOKENS:
        raise SpecError("too many tokens", source=source, key=key, value=value,
                        accepted=f"an integer in [1, {MAX_TOKENS}]")
    return result


def _attention(b: GraphBuilder, p: str, x: Tensor, heads: int, kv_len: int | None = None) -> Tensor:
    """Multi-head self-attention on ``x`` (hidden x tokens); ``kv_len`` keys when decoding with a cache."""
    hidden, tokens = x.channels, x.rows
    head_dim = hidden // heads
    keys = tokens if kv_len is None else kv_len
    q = b.linear(f"{p}.q", x, hidden)
    k = b.linear(f"{p}.k", x, hidden)
    v = b.linear(f"{p}.v", x, hidden)
    s = b.matmul(f"{p}.qk", q, k, tokens, keys, head_dim, heads)
    s = b.scores_eltwise(f"{p}.softmax", s, heads, tokens, keys)
    o = b.matmul(f"{p}.av", s, v, tokens, head_dim, keys, heads)
    o = Tensor(o.producer, hidden, tokens)
    return b.linear(f"{p}.proj", o, hidden)


def _mlp(b: GraphBuilder, p: str, x: Tensor, ffn: int) -> Tensor:
    y = b.linear(f"{p}.fc1", x, ffn)
    y = b.eltwise(f"{p}.gelu", y)
    return b.linear(f"{p}.fc2", y, x.channels)


def _pre_ln_block(b: GraphBuilder, p: str, x: Tensor, heads: int, ffn: int, kv_len: int | None = None) -> Tensor:
    """x + attn(ln1(x)); then + mlp(ln2(.)) (ViT, GPT-2)."""
    y = _attention(b, f"{p}.attn", b.eltwise(f"{p}.ln1", x), heads, kv_len)
    x = b.eltwise(f"{p}.add1", y, x)
    y = _mlp(b, f"{p}.mlp", b.eltwise(f"{p}.ln2", x), ffn)
    return b.eltwise(f"{p}.add2", y, x)


def _post_ln_block(b: GraphBuilder, p: str, x: Tensor, heads: int, ffn: int) -> Tensor:
    """ln1(x + attn(x)); then ln2(. + mlp(.)) (BERT)."""
    y = _attention(b, f"{p}.attn", x, heads)
    x = b.eltwise(f"{p}.ln1", b.eltwise(f"{p}.add1", y, x))
    y = _mlp(b, f"{p}.mlp", x, ffn)
    return b.eltwise(f"{p}.ln2", b.eltwise(f"{p}.add2", y, x))


def vit_b16(*, batch: int = 1, resolution: int = 224, num_classes: int = 1000, bits: int = 8) -> Network:
    """ViT-B/16: 16x16/16 patch-embedding conv, 12 pre-LN layers (768 hidden, 12 heads, MLP 3072), head.

    At 224 x 224 there are 196 patches + 1 class token = 197 tokens; 17.56 GMACs.
    The class-token concat and position-embedding add are folded into the first layer norm.
    """
    source = "zoo:vit_b16"
    batch, bits = check_common(source, batch, bits)
    res = check_resolution(source, resolution, 16)
    classes = require_int(num_classes, key="num_classes", source=source, maximum=MAX_CLASSES)
    b = GraphBuilder("vit_b16", batch, bits)
    x = b.conv("patch_embed", b.input(3, res, res), 768, 16, stride=16, padding=0)
    x = Tensor(x.producer, 768, x.rows * x.cols + 1)
    for i in range(12):
        x = _pre_ln_block(b, f"encoder.{i}", x, 12, 3072)
    x = b.eltwise("ln_final", x)
    b.fc("head", Tensor(x.producer, 768, 1), classes)
    return b.build()


def bert_base(*, batch: int = 1, seq_len: int = 128, num_layers: int = 1, bits: int = 8) -> Network:
    """BERT-base encoder layer(s): 768 hidden, 12 heads, FFN 3072, post-LN.

    MACs per layer = L * (4 * 768^2 + 2 * 768 * 3072) + 2 * L^2 * 768 for L = ``seq_len`` tokens.
    """
    source = "zoo:bert_base"
    batch, bits = check_common(source, batch, bits)
    tokens = _tokens(source, "seq_len", seq_len)
    layers = require_int(num_layers, key="num_layers", source=source, maximum=MAX_LAYERS)
    b = GraphBuilder("bert_base", batch, bits)
    x = b.input(768, tokens)
    for i in range(layers):
        x = _post_ln_block(b, f"encoder.{i}", x, 12, 3072)
    return b.build()


def _gpt2(name: str, tokens: int, kv_len: int | None, batch: int, bits: int) -> Network:
    b = GraphBuilder(name, batch, bits)
    x = b.input(768, tokens)
    for i in range(12):
        x = _pre_ln_block(b, f"h.{i}", x, 12, 3072, kv_len)
    x = b.eltwise("ln_f", x)
    b.linear("lm_head", Tensor(x.producer, 768, 1), GPT2_VOCAB)
    return b.build()


def gpt2_prefill(*, batch: int = 1, seq_len: int = 1024, bits: int = 8) -> Network:
    """GPT-2 small prefill of ``seq_len`` tokens: 12 pre-LN layers (768 hidden, 12 heads, MLP 3072).

    Ends with the final layer norm and the LM head (768 x 50257) on the last position only,
    the logits that generation needs. Attention is dense ``seq_len x seq_len`` per head.
    """
    source = "zoo:gpt2_prefill"
    batch, bits = check_common(source, batch, bits)
    return _gpt2("gpt2_prefill", _tokens(source, "seq_len", seq_len), None, batch, bits)


def gpt2_decode(*, batch: int = 1, kv_len: int = 1024, bits: int = 8) -> Network:
    """One GPT-2 small decode step: one query token against ``kv_len`` cached keys/values.

    Every projection is a 1-row GEMM; ``QK^T`` is 1 x kv_len and ``.V`` is 1 x 64 (K = kv_len)
    per head; ``kv_len`` counts the cache including the new token. Ends with the LM head.
    """
    source = "zoo:gpt2_decode"
    batch, bits = check_common(source, batch, bits)
    return _gpt2("gpt2_decode", 1, _tokens(source, "kv_len", kv_len), batch, bits)
