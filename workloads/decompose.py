"""Per-layer tensor decomposition (Mixed-TD): SVD and CP forms of conv and FC layers.

SVD (rank r) of a conv with weights W[K, C, R, S] (G = 1), viewed as a K x (C*R*S) matrix:

    conv C -> r with the original R x S window, stride, padding and dilation   (r*C*R*S weights)
    conv r -> K, 1 x 1                                                           (K*r weights)

MACs per sample: P*Q*(r*C*R*S + K*r).  An FC layer (C -> K) becomes FC C -> r then FC r -> K.

CP (rank R) of a conv, W ~= sum_t A[k,t] B[c,t] V[i,t] H[j,t] -- our exact form, a sequence of four
layers (as in CP-decomposed CNNs):

    1. pointwise 1x1 conv C -> R at the input resolution H x W                (R*C weights)
    2. vertical depthwise R_k x 1 conv on R channels, stride (s_h, 1),
       padding (top, 0, bottom, 0), dilation (d_h, 1)                         (R*R_k weights)
    3. horizontal depthwise 1 x S_k conv, stride (1, s_w),
       padding (0, left, 0, right), dilation (1, d_w)                          (R*S_k weights)
    4. pointwise 1x1 conv R -> K at the output resolution P x Q              (K*R weights)

MACs per sample: H*W*C*R + P'*W*R*R_k + P*Q*R*S_k + P*Q*K*R, with P' = P the output rows.
For an FC layer CP and SVD coincide (a matrix), so CP of an FC layer is its SVD.

With real weights, ``svd_factors`` / ``cp_factors`` return the factors and
``reconstruction_error`` the relative Frobenius error ||W - W_hat|| / ||W||.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, conv2d, gemm
from acceldse.workloads.network import Network

Method = Literal["svd", "cp"]
METHODS: tuple[str, ...] = ("svd", "cp")


@dataclass(frozen=True)
class Decomposition:
    """How to decompose one layer: ``method`` (svd | cp) and ``rank``."""

    method: Method
    rank: int


def decomposable(layer: Layer) -> bool:
    """Conv and FC (gemm) layers with one group can be decomposed."""
    return layer.op in ("conv", "gemm") and layer.G == 1


def full_rank(layer: Layer) -> int:
    """Rank of the layer's weight matrix K x (C*R*S): the largest useful SVD rank."""
    return min(layer.K, layer.C * layer.R * layer.S)


def _check(layer: Layer, dec: Decomposition) -> None:
    where = f"layer {layer.name!r}"
    if not decomposable(layer):
        raise SpecError("only conv and fully-connected layers with one group can be decomposed", source=where,
                        key="op", value=layer.op, accepted="conv (groups=1) | gemm")
    if dec.method not in METHODS:
        raise SpecError("unknown decomposition", source=where, key="method", value=dec.method,
                        accepted=" | ".join(METHODS))
    if isinstance(dec.rank, bool) or not isinstance(dec.rank, int) or dec.rank < 1:
        raise SpecError("rank must be a positive integer", source=where, key="rank", value=dec.rank,
                        accepted="an integer >= 1")


def decompose_layer(layer: Layer, dec: Decomposition) -> tuple[Layer, ...]:
    """The layers replacing ``layer`` (named ``<name>_svd0`` ... or ``<name>_cp0`` ...)."""
    _check(layer, dec)
    r, bits = dec.rank, layer.weight_bits
    n = layer.name
    if layer.op == "gemm":
        m = layer.P
        tag = "svd" if dec.method == "svd" else "cp"
        first = gemm(f"{n}_{tag}0", m, r, layer.C, batch=layer.N, bits=bits)
        second = gemm(f"{n}_{tag}1", m, layer.K, r, batch=layer.N, bits=bits)
        return (first, second)
    st, dil, pad = layer.stride, layer.dilation, layer.padding
    hw = (layer.H, layer.W)
    if dec.method == "svd":
        first = conv2d(f"{n}_svd0", layer.C, r, hw, (layer.R, layer.S), stride=st, padding=pad, dilation=dil,
                       batch=layer.N, bits=bits)
        second = conv2d(f"{n}_svd1", r, layer.K, (first.P, first.Q), 1, batch=layer.N, bits=bits)
        return (first, second)
    l1 = conv2d(f"{n}_cp0", layer.C, r, hw, 1, batch=layer.N, bits=bits)
    l2 = conv2d(f"{n}_cp1", r, r, hw, (layer.R, 1), stride=(st[0], 1), padding=(pad[0], 0, pad[2], 0),
                dilation=(dil[0], 1), groups=r, batch=layer.N, bits=bits)
    l3 = conv2d(f"{n}_cp2", r, r, (l2.P, l2.Q), (1, layer.S), stride=(1, st[1]), padding=(0, pad[1], 0, pad[3]),
                dilation=(1, dil[1]), groups=r, batch=layer.N, bits=bits)
    l4 = conv2d(f"{n}_cp3", r, layer.K, (l3.P, l3.Q), 1, batch=layer.N, bits=bits)
    return (l1, l2, l3, l4)


def decomposed_macs(layer: Layer, dec: Decomposition) -> int:
    """MACs per sample of the decomposed form (closed formula, see module docstring)."""
    _check(layer, dec)
    r = dec.rank
    c, k, kr, ks, p, q = layer.C, layer.K, layer.R, layer.S, layer.P, layer.Q
    if layer.op == "gemm" or dec.method == "svd":
        return p * q * (r * c * kr * ks + k * r)
    return layer.H * layer.W * c * r + p * layer.W * r * kr + p * q * r * ks + p * q * k * r


def decomposed_weights(layer: Layer, dec: Decomposition) -> int:
    """Weight elements of the decomposed form."""
    _check(layer, dec)
    r = dec.rank
    c, k, kr, ks = layer.C, layer.K, layer.R, layer.S
    if layer.op == "gemm" or dec.method == "svd":
        return r * c * kr * ks + k * r
    return r * c + r * kr + r * ks + k * r


def decompose_network(network: Network, plan: Mapping[str, Decomposition]) -> Network:
    """A new network where each layer named in ``plan`` is replaced by its decomposed sequence."""
    for name in plan:
        try:
            network[name]
        except KeyError:
            raise SpecError("decomposition plan names an unknown layer", source=network.name, key=name,
                            accepted=", ".join(layer.name for layer in network)) from None
    layers: list[Layer] = []
    first_of: dict[str, str] = {}
    last_of: dict[str, str] = {}
    inner: list[tuple[str, str]] = []
    for layer in network:
        if layer.name in plan:
            seq = decompose_layer(layer, plan[layer.name])
            layers.extend(seq)
            inner += [(a.name, b.name) for a, b in zip(seq, seq[1:])]
            first_of[layer.name], last_of[layer.name] = seq[0].name, seq[-1].name
        else:
            layers.append(layer)
            first_of[layer.name] = last_of[layer.name] = layer.name
    edges = [(last_of[a], first_of[b]) for a, b in network.edges] + inner
    order = {layer.name: i for i, layer in enumerate(layers)}
    edges.sort(key=lambda e: (order[e[1]], order[e[0]]))
    return Network(name=f"{network.name}_td", layers=tuple(layers), edges=tuple(edges),
                   source=network.source)


# ---- real weights ------------------------------------------------------------------------------

def _matrix(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w.reshape(w.shape[0], -1)


def svd_factors(weights: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank-``rank`` factors (U_r * s_r of shape K x r, V_r of shape r x C*R*S) of W[K, ...]."""
    u, s, vt = np.linalg.svd(_matrix(weights), full_matrices=False)
    r = min(rank, s.size)
    return u[:, :r] * s[:r], vt[:r]


def svd_reconstruct(weights: np.ndarray, rank: int) -> np.ndarray:
    """The rank-``rank`` SVD approximation of ``weights`` in their original shape."""
    a, b = svd_factors(weights, rank)
    return (a @ b).reshape(np.shape(weights))


def _khatri_rao(mats: list[np.ndarray]) -> np.ndarray:
    out = mats[0]
    for m in mats[1:]:
        out = np.einsum("ir,jr->ijr", out, m).reshape(-1, m.shape[1])
    return out


def cp_factors(weights: np.ndarray, rank: int, *, iterations: int = 60, seed: int = 0) -> list[np.ndarray]:
    """CP factors of a 4-way W[K, C, R, S] (or 2-way W[K, C]) by alternating least squares (HOSVD start)."""
    w = np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    factors = []
    for mode, dim in enumerate(w.shape):  # HOSVD start: leading left singular vectors of each unfolding
        u = np.linalg.svd(np.moveaxis(w, mode, 0).reshape(dim, -1), full_matrices=False)[0]
        init = rng.standard_normal((dim, rank))
        take = min(rank, u.shape[1])
        init[:, :take] = u[:, :take]
        factors.append(init)
    for _ in range(iterations):
        for mode in range(w.ndim):
            others = [factors[m] for m in range(w.ndim) if m != mode]
            kr = _khatri_rao(others)
            unfolded = np.moveaxis(w, mode, 0).reshape(w.shape[mode], -1)
            gram = np.ones((rank, rank))
            for f in others:
                gram *= f.T @ f
            factors[mode] = unfolded @ kr @ np.linalg.pinv(gram)
    return factors


def cp_reconstruct(factors: list[np.ndarray]) -> np.ndarray:
    """The tensor sum_t prod_m factors[m][:, t]."""
    shape = tuple(f.shape[0] for f in factors)
    return _khatri_rao(factors).sum(axis=1).reshape(shape)


def reconstruction_error(weights: np.ndarray, dec: Decomposition, *, iterations: int = 60, seed: int = 0) -> float:
    """Relative Frobenius error ||W - W_hat|| / ||W|| of decomposing ``weights`` with ``dec``."""
    w = np.asarray(weights, dtype=np.float64)
    norm = float(np.linalg.norm(w))
    if norm == 0:
        return 0.0
    if dec.method == "svd" or w.ndim == 2:
        approx = svd_reconstruct(w, dec.rank)
    else:
        approx = cp_reconstruct(cp_factors(w, dec.rank, iterations=iterations, seed=seed))
    return float(np.linalg.norm(w - approx) / norm)
