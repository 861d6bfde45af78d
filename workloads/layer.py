"""A layer as a loop nest (the Einsum view).

Every layer is a nest over the canonical dimensions

    N  batch                      G  groups (depthwise: G = channels; batched matmul: heads)
    K  output channels per group  C  input channels per group
    P  output rows                Q  output columns
    R  filter rows                S  filter columns

with operand projections (which dims index which operand):

    inputs [N, G, C, P*stride_h + R*dilation_h, Q*stride_w + S*dilation_w]
    weights[G, K, C, R, S]
    outputs[N, G, K, P, Q]

A convolution, a grouped or depthwise convolution, a fully-connected layer / GEMM
(M x K times K x N is N=1, P=M, Q=1, C=K, K=N, R=S=1) and a batched matmul (attention
QK^T and .V: G = batch*heads, the "weights" operand being a second activation) are all
this one type. Pooling and elementwise layers have no weights and zero MACs but real
traffic. Sizes are checked once, in ``__post_init__``; bad values raise ``SpecError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from acceldse.workloads.errors import SpecError

DIMS: tuple[str, ...] = ("N", "G", "K", "C", "P", "Q", "R", "S")
"""Canonical loop dimensions, outermost-first display order."""

MAX_LAYER_ITERATIONS = 2**50
"""Most loop iterations (MACs of a MAC layer) per layer: every count derived from a layer stays exact
in int64 and float64 arithmetic."""

OpKind = Literal["conv", "gemm", "matmul", "pool", "eltwise"]
OP_KINDS: tuple[str, ...] = ("conv", "gemm", "matmul", "pool", "eltwise")

# A projection: for each tensor axis, a tuple of (dim, coefficient) terms.
Projection = tuple[tuple[tuple[str, int], ...], ...]


@dataclass(frozen=True)
class Layer:
    """One layer of a network as a loop nest.

    Attributes:
        name: unique name within its network.
        op: ``conv`` (incl. grouped/depthwise), ``gemm`` (fully connected, static weights),
            ``matmul`` (both operands are activations), ``pool`` or ``eltwise``.
        N, G, K, C, P, Q, R, S: loop bounds (see module docstring).
        H, W: unpadded input rows/columns (for conv/pool; equal to P, Q for 1x1 stride-1 cases).
        stride: (rows, cols). dilation: (rows, cols). padding: (top, left, bottom, right).
        input_bits, weight_bits, output_bits: precision of each operand in bits.
        num_inputs: number of input tensors of an ``eltwise`` layer (2 for a residual add).
        pool_kind: ``max`` or ``avg`` for pooling layers.
        weight_sparsity: N:M structured weight sparsity ``(n, m)``: at most ``n`` nonzero weights in
            every ``m`` consecutive weights along the reduction axis (C*R*S, in SCALE-Sim's
            window order); ``(1, 1)`` is dense. Only layers with static weights (conv, gemm).
    """

    name: str
    op: OpKind
    K: int
    C: int
    P: int
    Q: int
    R: int = 1
    S: int = 1
    N: int = 1
    G: int = 1
    H: int = 0
    W: int = 0
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    input_bits: int = 8
    weight_bits: int = 8
    output_bits: int = 8
    num_inputs: int = 1
    pool_kind: str = ""
    weight_sparsity: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        where = f"layer {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise SpecError("layer name must be a non-empty string", key="name", value=self.name)
        if self.op not in OP_KINDS:
            raise SpecError("unknown op", source=where, key="op", value=self.op, accepted=" | ".join(OP_KINDS))
        for dim in DIMS:
            value = getattr(self, dim)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError("dimension must be a positive integer", source=where, key=dim, value=value,
                                accepted="an integer >= 1")
        for key, pair in (("stride", self.stride), ("dilation", self.dilation)):
            if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in pair):
                raise SpecError(f"{key} must be two positive integers", source=where, key=key, value=pair,
                                accepted="(rows, cols) with each >= 1")
        if len(self.padding) != 4 or any(not isinstance(v, int) or v < 0 for v in self.padding):
            raise SpecError("padding must be four non-negative integers", source=where, key="padding",
                            value=self.padding, accepted="(top, left, bottom, right) each >= 0")
        for key in ("input_bits", "weight_bits", "output_bits", "num_inputs"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024:
                raise SpecError("must be a positive integer", source=where, key=key, value=value,
                                accepted="an integer in [1, 1024]")
        iterations = math.prod(getattr(self, dim) for dim in DIMS)
        if iterations > MAX_LAYER_ITERATIONS:
            raise SpecError(f"layer too large ({iterations:,} loop iterations)", source=where, key="N*G*K*C*P*Q*R*S",
                            value=iterations, accepted=f"at most {MAX_LAYER_ITERATIONS:,} (2**50) per layer")
        if self.H == 0 or self.W == 0:
            object.__setattr__(self, "H", self.H or self._natural_extent(0))
            object.__setattr__(self, "W", self.W or self._natural_extent(1))
        for axis, (size, out) in enumerate(((self.H, self.P), (self.W, self.Q))):
            expected = self.output_extent(size, axis)
            if expected < 1:
                raise SpecError("filter larger than its (padded) input", source=where,
                                key="R" if axis == 0 else "S", value=self.R if axis == 0 else self.S,
                                accepted=f"a filter no larger than the padded input ({self.padded_input[axis]})")
            if expected != out:
                raise SpecError("output size does not follow from input, filter, stride and padding",
                                source=where, key="P" if axis == 0 else "Q", value=out,
                                accepted=f"{expected} for input {size}")
        if self.op in ("gemm", "matmul", "eltwise") and (self.R, self.S) != (1, 1):
            raise SpecError(f"a {self.op} layer has no filter window", source=where, key="R,S",
                            value=(self.R, self.S), accepted="R = S = 1")
        check_nm(self.weight_sparsity, source=where, key="weight_sparsity")
        if self.weight_sparsity != (1, 1) and self.op not in ("conv", "gemm"):
            raise SpecError(f"a {self.op} layer has no static weights to prune", source=where,
                            key="weight_sparsity", value=self.weight_sparsity,
                            accepted="(1, 1), or N:M sparsity on a conv or gemm layer")
        if self.op in ("pool", "eltwise") and (self.K, self.C) != (1, 1):
            raise SpecError(f"a {self.op} layer keeps channels in G", source=where, key="K,C",
                            value=(self.K, self.C), accepted="K = C = 1 with G = channels")

    # ---- geometry -------------------------------------------------------------------------
    def _natural_extent(self, axis: int) -> int:
        """Smallest input extent that produces the output extent with this filter and stride."""
        out = self.P if axis == 0 else self.Q
        kernel = self.R if axis == 0 else self.S
        stride, dil = self.stride[axis], self.dilation[axis]
        pad = self.padding[0] + self.padding[2] if axis == 0 else self.padding[1] + self.padding[3]
        return max(1, (out - 1) * stride + (kernel - 1) * dil + 1 - pad)

    @property
    def padded_input(self) -> tuple[int, int]:
        """Input rows and columns including padding."""
        return (self.H + self.padding[0] + self.padding[2], self.W + self.padding[1] + self.padding[3])

    def output_extent(self, size: int, axis: int) -> int:
        """Output extent along ``axis`` (0 rows, 1 cols) for an unpadded input extent ``size``."""
        kernel = self.R if axis == 0 else self.S
        pad = self.padding[0] + self.padding[2] if axis == 0 else self.padding[1] + self.padding[3]
        return output_extent(size, kernel, self.stride[axis], self.dilation[axis], pad)

    # ---- the loop nest ---------------------------------------------------------------------
    @property
    def dims(self) -> dict[str, int]:
        """Loop bounds in canonical order."""
        return {d: getattr(self, d) for d in DIMS}

    @property
    def has_weights(self) -> bool:
        return self.op in ("conv", "gemm", "matmul")

    @property
    def weights_are_activations(self) -> bool:
        """True for a matmul whose second operand is produced at run time (attention)."""
        return self.op == "matmul"

    @property
    def projections(self) -> dict[str, Projection]:
        """Operand projections: for each operand, the dims (with coefficients) of each axis."""
        sh, sw = self.stride
        dh, dw = self.dilation
        inputs: Projection = ((("N", 1),), (("G", 1),), (("C", 1),), (("P", sh), ("R", dh)), (("Q", sw), ("S", dw)))
        outputs: Projection = ((("N", 1),), (("G", 1),), (("K", 1),), (("P", 1),), (("Q", 1),))
        result = {"inputs": inputs, "outputs": outputs}
        if self.has_weights:
            result["weights"] = ((("G", 1),), (("K", 1),), (("C", 1),), (("R", 1),), (("S", 1),))
        return result

    @cached_property
    def macs(self) -> int:
        """Multiply-accumulates (0 for pooling and elementwise layers)."""
        if not self.has_weights:
            return 0
        return math.prod(self.dims.values())

    @property
    def ops(self) -> int:
        """Scalar operations: MACs, or comparisons/adds for pooling and elementwise layers."""
        if self.has_weights:
            return self.macs
        if self.op == "pool":
            return self.N * self.G * self.P * self.Q * self.R * self.S
        return self.N * self.G * self.P * self.Q * max(1, self.num_inputs - 1)

    # ---- operand sizes (unique elements) -----------------------------------------------------
    @property
    def input_elems(self) -> int:
        """Elements of the (unpadded) input tensor(s)."""
        return self.N * self.G * self.C * self.H * self.W * self.num_inputs

    def touched_extent(self, axis: int) -> int:
        """Input rows (axis 0) or columns (axis 1) read by at least one window position."""
        out, kernel = (self.P, self.R) if axis == 0 else (self.Q, self.S)
        size = self.H if axis == 0 else self.W
        stride, dil = self.stride[axis], self.dilation[axis]
        pad = self.padding[0] if axis == 0 else self.padding[1]
        if stride <= dil * (kernel - 1) + 1 and dil == 1:
            first, last = -pad, (out - 1) * stride + kernel - 1 - pad
            return max(0, min(size - 1, last) - max(0, first) + 1)
        taps = {p * stride + r * dil - pad for p in range(out) for r in range(kernel)}
        return sum(1 for i in taps if 0 <= i < size)

    @cached_property
    def input_touched_elems(self) -> int:
        """Input elements read by at least one MAC (all groups): what must cross DRAM once."""
        if not self.has_weights:
            return self.input_elems
        return self.N * self.G * self.C * self.touched_extent(0) * self.touched_extent(1)

    @property
    def weight_elems(self) -> int:
        return self.G * self.K * self.C * self.R * self.S if self.has_weights else 0

    @property
    def output_elems(self) -> int:
        return self.N * self.G * self.K * self.P * self.Q

    @property
    def input_bytes(self) -> int:
        return math.ceil(self.input_elems * self.input_bits / 8)

    @property
    def weight_bytes(self) -> int:
        return math.ceil(self.weight_elems * self.weight_bits / 8)

    @property
    def output_bytes(self) -> int:
        return math.ceil(self.output_elems * self.output_bits / 8)

    # ---- GEMM view (what a systolic array sees) ----------------------------------------------
    @property
    def gemm(self) -> tuple[int, int, int]:
        """(M, N, K) of one group: M = N*P*Q output pixels, N = K filters, K = C*R*S window."""
        return (self.N * self.P * self.Q, self.K, self.C * self.R * self.S)

    @property
    def is_weight_sparse(self) -> bool:
        """True when an N:M ratio prunes weights (N < M; ``(n, n)`` keeps every weight)."""
        return self.weight_sparsity[0] < self.weight_sparsity[1]

    @property
    def reduction_kept(self) -> int:
        """Window positions (of C*R*S, per filter and group) an N:M ratio keeps: N of every M, and
        at most N of a last partial block. C*R*S when dense."""
        k = self.C * self.R * self.S
        n, m = self.weight_sparsity
        return (k // m) * n + min(k % m, n)

    @cached_property
    def macs_performed(self) -> int:
        """MACs on kept (nonzero) weights: ``macs`` when dense."""
        return self.macs // (self.C * self.R * self.S) * self.reduction_kept if self.has_weights else 0

    @property
    def weight_metadata_bits(self) -> int:
        """Bits of position metadata per kept weight: ceil(log2 M) of an N:M ratio, 0 when dense."""
        return math.ceil(math.log2(self.weight_sparsity[1])) if self.is_weight_sparse else 0

    def require_dense(self, model: str) -> Layer:
        """``self`` if dense; a ``SpecError`` when ``model`` (which computes dense layers only) would
        otherwise silently cost an N:M-sparse layer as dense."""
        if self.is_weight_sparse:
            raise SpecError(f"{model} costs dense layers only; it would count this N:M-sparse layer as dense",
                            source=f"layer {self.name!r}", key="weight_sparsity",
                            value="{}:{}".format(*self.weight_sparsity),
                            accepted="a dense layer (1:1); N:M layers run in acceldse.simulate (os/ws, every "
                                     "fidelity, or compat='scalesim' with SparsitySupport true)")
        return self

    def with_name(self, name: str) -> Layer:
        return replace(self, name=name)

    def summary(self) -> str:
        m, n, k = self.gemm
        g = f" x{self.G} groups" if self.G > 1 else ""
        return f"{self.name}: {self.op} GEMM {m}x{n}x{k}{g}, {self.macs:,} MACs"


# ---- constructors ---------------------------------------------------------------------------

MAX_NM_BLOCK = 1024
"""Largest M of an N:M sparsity ratio."""


def check_nm(ratio: tuple[int, int], *, source: str, key: str) -> tuple[int, int]:
    """``ratio`` as a validated ``(n, m)`` with 1 <= n <= m <= ``MAX_NM_BLOCK`` (``SpecError`` else)."""
    ok = (isinstance(ratio, tuple) and len(ratio) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in ratio)
          and 1 <= ratio[0] <= ratio[1] <= MAX_NM_BLOCK)
    if not ok:
        raise SpecError("not an N:M sparsity ratio", source=source, key=key, value=ratio,
                        accepted=f"(n, m) integers with 1 <= n <= m <= {MAX_NM_BLOCK}, e.g. (2, 4); (1, 1) is dense")
    return ratio


def parse_nm(text: str, *, source: str, key: str) -> tuple[int, int]:
    """``"2:4"`` -> ``(2, 4)`` (``SpecError`` naming ``source``/``key`` for anything else)."""
    n, sep, m = str(text).strip().partition(":")
    if not sep or not n.strip().isdigit() or not m.strip().isdigit():
        raise SpecError("not an N:M sparsity ratio", source=source, key=key, value=text,
                        accepted=f"N:M with 1 <= N <= M <= {MAX_NM_BLOCK}, e.g. 2:4 (1:1 is dense)")
    return check_nm((int(n), int(m)), source=source, key=key)


def output_extent(size: int, kernel: int, stride: int, dilation: int = 1, pad_total: int = 0) -> int:
    """Output extent of a sliding window (0 when the filter does not fit the padded input)."""
    span = (kernel - 1) * dilation + 1
    if size + pad_total < span:
        return 0
    return (size + pad_total - span) // stride + 1


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pad4(value: int | tuple[int, int] | tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if isinstance(value, int):
        return (value, value, value, value)
    if len(value) == 2:
        return (value[0], value[1], value[0], value[1])
    return (value[0], value[1], value[2], value[3])  # type: ignore[misc]


def conv2d(name: str, in_channels: int, out_channels: int, in_hw: int | tuple[int, int],
           kernel: int | tuple[int, int], *, stride: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] | tuple[int, int, int, int] = 0,
           dilation: int | tuple[int, int] = 1, groups: int = 1, batch: int = 1, bits: int = 8) -> Layer:
    """A 2-D convolution (grouped when ``groups > 1``, depthwise when groups == channels)."""
    where = f"layer {name!r}"
    if not isinstance(groups, int) or groups < 1:
        raise SpecError("groups must be a positive integer", source=where, key="groups", value=groups)
    if in_channels % groups or out_channels % groups:
        raise SpecError("channels must be divisible by groups", source=where, key="groups", value=groups,
                        accepted=f"a divisor of both {in_channels} and {out_channels}")
    h, w = _pair(in_hw)
    r, s = _pair(kernel)
    st, dil, pad = _pair(stride), _pair(dilation), _pad4(padding)
    for key, value in (("in_hw", h), ("in_hw", w), ("kernel", r), ("kernel", s), ("stride", st[0]),
                       ("stride", st[1]), ("dilation", dil[0]), ("dilation", dil[1])):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError("must be a positive integer", source=where, key=key, value=value,
                            accepted="an integer >= 1")
    p = output_extent(h, r, st[0], dil[0], pad[0] + pad[2])
    q = output_extent(w, s, st[1], dil[1], pad[1] + pad[3])
    if p < 1 or q < 1:
        raise SpecError("filter larger than its (padded) input", source=where, key="kernel", value=(r, s),
                        accepted=f"a kernel that fits the padded input {h}x{w}")
    return Layer(name=name, op="conv", N=batch, G=groups, K=out_channels // groups, C=in_channels // groups,
                 P=p, Q=q, R=r, S=s, H=h, W=w, stride=st, dilation=dil, padding=pad,
                 input_bits=bits, weight_bits=bits, output_bits=bits)


def gemm(name: str, m: int, n: int, k: int, *, batch: int = 1, bits: int = 8) -> Layer:
    """A fully-connected layer / GEMM: (M x K) @ (K x N) with static weights, ``batch`` times."""
    return Layer(name=name, op="gemm", N=batch, K=n, C=k, P=m, Q=1, H=m, W=1,
                 input_bits=bits, weight_bits=bits, output_bits=bits)


def matmul(name: str, m: int, n: int, k: int, *, groups: int = 1, bits: int = 8) -> Layer:
    """A batched matmul of two activations: ``groups`` independent (M x K) @ (K x N)."""
    return Layer(name=name, op="matmul", G=groups, K=n, C=k, P=m, Q=1, H=m, W=1,
                 input_bits=bits, weight_bits=bits, output_bits=bits)


def pool2d(name: str, channels: int, in_hw: int | tuple[int, int], kernel: int | tuple[int, int], *,
           stride: int | tuple[int, int] | None = None,
           padding: int | tuple[int, int] | tuple[int, int, int, int] = 0, kind: str = "max",
           batch: int = 1, bits: int = 8) -> Layer:
    """A max/avg pooling layer (zero MACs; traffic and comparisons are real)."""
    h, w = _pair(in_hw)
    r, s = _pair(kernel)
    st = _pair(stride) if stride is not None else (r, s)
    probe = conv2d(name, 1, 1, (h, w), (r, s), stride=st, padding=padding)
    return Layer(name=name, op="pool", N=batch, G=channels, K=1, C=1, P=probe.P, Q=probe.Q, R=r, S=s,
                 H=h, W=w, stride=st, padding=probe.padding, pool_kind=kind,
                 input_bits=bits, weight_bits=bits, output_bits=bits)


def eltwise(name: str, channels: int, hw: int | tuple[int, int], *, num_inputs: int = 2, batch: int = 1,
            bits: int = 8) -> Layer:
    """An elementwise layer (residual add, activation, ...) over ``num_inputs`` tensors."""
    h, w = _pair(hw)
    return Layer(name=name, op="eltwise", N=batch, G=channels, K=1, C=1, P=h, Q=w, H=h, W=w,
                 num_inputs=num_inputs, input_bits=bits, weight_bits=bits, output_bits=bits)
