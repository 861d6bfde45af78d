"""The general Einsum problem spec (Timeloop's problem shape), and its lowering onto a ``Layer``.

An ``Einsum`` is a perfectly nested loop over named *ranks* (each with a size) that reads some
tensors and accumulates into one read-write tensor::

    Z[m, n] += A[m, k] * B[k, n]                                  (GEMM)
    Outputs[n, m, p, q] += Inputs[n, c, p*sw + r*dw, q*sh + s*dh] * Weights[m, c, r, s]

Each tensor lists its data-space dimensions (*axes*); an axis is a sum of ``coefficient x rank``
terms, exactly as Timeloop's problem ``projection`` writes it (``[[R, Wdilation], [P, Wstride]]``
is ``R*Wdilation + P*Wstride``: sliding windows, strides and dilation). A tile's footprint along
an axis is its bounding box, ``sum(coefficient x (extent - 1)) + 1`` (Timeloop's AAHR point sets).

Instances: ``conv2d_einsum``, ``gemm_einsum``, ``batched_matmul_einsum``, ``conv1d_einsum``
(optionally with output / input channels: Conv1D+OC of the Timeloop tutorial) and
``dot_product_einsum``. ``Einsum.from_layer`` gives the Einsum of any MAC ``Layer``.

**Lowering.** The mapper's batched cost kernel knows one fixed nest, ``N G K C P Q R S`` over
``inputs [N, G, C, P*sh + R*dh, Q*sw + S*dw]``, ``weights [G, K, C, R, S]`` and
``outputs [N, G, K, P, Q]``. ``Einsum.lower()`` maps every Einsum that fits onto it: two read-only
tensors and one read-write tensor; the tensor with a sliding-window axis (else the one named
``Inputs``, else the first declared) becomes ``inputs``, the other ``weights``; each rank goes to
a slot by the tensors it indexes (all three: G; output + inputs: N, P, Q; output + weights: K;
inputs + weights: C, R, S); a sliding axis ``p*stride + r*dilation`` becomes (P, R) or (Q, S).
Ranks of size 1 fill any free slot. What does not fit (a rank indexing one tensor only, more than
three ranks of a kind, a coefficient on a weight or output axis, three-term axes, ...) is a
``SpecError`` saying why; the counts of a lowered Einsum are exactly the kernel's.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Any

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS, Layer

Term = tuple[str, int]
"""One ``coefficient x rank`` term of an axis: (rank name, coefficient >= 1)."""
Axis = tuple[Term, ...]
"""A data-space dimension: the sum of its terms."""

DENSITY_MODELS = ("hypergeometric", "uniform", "fixed_structured")
"""Sparseloop density distributions a tensor may declare (``uniform`` is Sparseloop's alias of
hypergeometric: random positions at the given density)."""


@dataclass(frozen=True)
class Tensor:
    """One operand of an Einsum.

    Attributes:
        name: the tensor's name (``Inputs``, ``A``, ``Z`` ...).
        axes: its data-space dimensions, each a tuple of ``(rank, coefficient)`` terms.
        read_write: True for the tensor the Einsum accumulates into (exactly one per Einsum).
        bits: precision of one element.
        density: fraction of non-zero elements (``None``: dense).
        density_model: how the non-zeros are distributed (one of ``DENSITY_MODELS``).
    """

    name: str
    axes: tuple[Axis, ...]
    read_write: bool = False
    bits: int = 8
    density: float | None = None
    density_model: str = "hypergeometric"

    @functools.cached_property
    def ranks(self) -> frozenset[str]:
        """The ranks that index this tensor."""
        return frozenset(rank for axis in self.axes for rank, _ in axis)

    def footprint(self, extents: MappingABC[str, int]) -> int:
        """Elements in the bounding box of the points that loops of these extents touch
        (a rank missing from ``extents`` has extent 1)."""
        words = 1
        for axis in self.axes:  # plain loops: a sparse search calls this some 100 times per mapping
            span = 1
            for rank, c in axis:
                span += c * (extents.get(rank, 1) - 1)
            words *= span
        return words


@dataclass(frozen=True)
class Lowering:
    """How an Einsum sits on the kernel's fixed nest: ``dims`` rank -> dim (N..S), ``dataspaces``
    tensor -> ``inputs``/``weights``/``outputs``, and the resulting ``layer``."""

    dims: dict[str, str]
    dataspaces: dict[str, str]
    layer: Layer

    @property
    def rank_of_dim(self) -> dict[str, str]:
        """dim (N..S) -> rank, for the dims an Einsum rank occupies."""
        return {d: r for r, d in self.dims.items()}

    @property
    def tensor_of_dataspace(self) -> dict[str, str]:
        return {ds: t for t, ds in self.dataspaces.items()}


@dataclass(frozen=True)
class Einsum:
    """A loop nest over named ranks reading tensors and accumulating into one (see module docstring).

    Attributes:
        name: the problem's name.
        ranks: ``(rank, size)`` pairs in declaration order (sizes >= 1).
        tensors: the operands; exactly one is ``read_write``.
    """

    name: str
    ranks: tuple[tuple[str, int], ...]
    tensors: tuple[Tensor, ...]
    _sizes: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"einsum {self.name!r}"
        sizes: dict[str, int] = {}
        for rank, size in self.ranks:
            if not isinstance(rank, str) or not rank or rank in sizes:
                raise SpecError("rank names must be distinct non-empty strings", source=where, key="ranks",
                                value=rank)
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise SpecError("rank size must be a positive integer", source=where, key=f"ranks.{rank}",
                                value=size, accepted="an integer >= 1")
            sizes[rank] = size
        object.__setattr__(self, "_sizes", sizes)
        names = [t.name for t in self.tensors]
        if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
            raise SpecError("tensor names must be distinct non-empty strings", source=where, key="tensors",
                            value=names)
        if sum(t.read_write for t in self.tensors) != 1:
            raise SpecError("exactly one tensor must be read_write (the output)", source=where, key="tensors",
                            value=[t.name for t in self.tensors if t.read_write])
        for t in self.tensors:
            key = f"tensors.{t.name}"
            for axis in t.axes:
                if not axis:
                    raise SpecError("an axis needs at least one term", source=where, key=f"{key}.axes")
                for rank, coeff in axis:
                    if rank not in sizes:
                        raise SpecError("axis uses an undeclared rank", source=where, key=f"{key}.axes",
                                        value=rank, accepted=", ".join(sizes))
                    if isinstance(coeff, bool) or not isinstance(coeff, int) or coeff < 1:
                        raise SpecError("coefficient must be a positive integer", source=where,
                                        key=f"{key}.axes.{rank}", value=coeff)
            if isinstance(t.bits, bool) or not isinstance(t.bits, int) or not 1 <= t.bits <= 1024:
                raise SpecError("bits must be an integer in [1, 1024]", source=where, key=f"{key}.bits",
                                value=t.bits)
            if t.density is not None and not (isinstance(t.density, int | float) and 0 < t.density <= 1):
                raise SpecError("density must be in (0, 1]", source=where, key=f"{key}.density", value=t.density)
            if t.density_model not in DENSITY_MODELS:
                raise SpecError("unknown density model", source=where, key=f"{key}.density_model",
                                value=t.density_model, accepted=", ".join(DENSITY_MODELS))

    # ---- queries ----------------------------------------------------------------------------
    @property
    def sizes(self) -> dict[str, int]:
        """rank -> size, in declaration order."""
        return dict(self._sizes)

    @property
    def output(self) -> Tensor:
        """The read-write tensor."""
        return next(t for t in self.tensors if t.read_write)

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The read-only tensors, in declaration order."""
        return tuple(t for t in self.tensors if not t.read_write)

    def tensor(self, name: str) -> Tensor:
        for t in self.tensors:
            if t.name == name:
                return t
        raise SpecError("no such tensor", source=f"einsum {self.name!r}", key="tensor", value=name,
                        accepted=", ".join(t.name for t in self.tensors))

    @property
    def iterations(self) -> int:
        """Points of the iteration space (MACs of a multiply-accumulate Einsum)."""
        return math.prod(self._sizes.values())

    def indexes(self, tensor: str, rank: str) -> bool:
        """Whether a loop over ``rank`` moves through ``tensor``."""
        return rank in self.tensor(tensor).ranks

    def footprint(self, tensor: str, extents: MappingABC[str, int] | None = None) -> int:
        """Elements of ``tensor`` touched by loops of ``extents`` (default: the whole problem)."""
        return self.tensor(tensor).footprint(self._sizes if extents is None else extents)

    # ---- lowering onto the kernel's fixed nest -----------------------------------------------
    def lower(self, *, name: str | None = None) -> Lowering:
        """The ``Layer`` of the kernel's fixed nest that has exactly this Einsum's counts (see module
        docstring); a ``SpecError`` says why an Einsum does not fit."""
        return _lower(self, name or self.name)

    def to_layer(self, *, name: str | None = None) -> Layer:
        return self.lower(name=name).layer

    @classmethod
    def from_layer(cls, layer: Layer) -> Einsum:
        """The Einsum of a MAC layer (``conv``, ``gemm``, ``matmul``), ranks named N G K C P Q R S."""
        if not layer.has_weights:
            raise SpecError("only MAC layers are Einsums here (pool/eltwise have no weights)",
                            source=f"layer {layer.name!r}", key="op", value=layer.op, accepted="conv, gemm, matmul")
        layer.require_dense("the Einsum form")
        bits = {"inputs": layer.input_bits, "weights": layer.weight_bits, "outputs": layer.output_bits}
        tensors = tuple(Tensor(name=ds.capitalize(), axes=tuple(tuple(axis) for axis in proj),
                               read_write=ds == "outputs", bits=bits[ds])
                        for ds, proj in layer.projections.items())
        return cls(name=layer.name, ranks=tuple((d, getattr(layer, d)) for d in DIMS), tensors=tensors)


# ---- instances -----------------------------------------------------------------------------------

def _t(name: str, *axes: str | Axis, rw: bool = False, bits: int = 8) -> Tensor:
    return Tensor(name=name, axes=tuple(((a, 1),) if isinstance(a, str) else a for a in axes), read_write=rw,
                  bits=bits)


def conv2d_einsum(name: str, *, N: int = 1, M: int, C: int, P: int, Q: int, R: int = 1, S: int = 1,  # noqa: N803
                  G: int = 1, stride: tuple[int, int] = (1, 1), dilation: tuple[int, int] = (1, 1),
                  bits: int = 8) -> Einsum:
    """Timeloop's conv2D (``M`` output channels): Outputs[N,G,M,P,Q] += Inputs[N,G,C,P*s+R*d,Q*s+S*d] x
    Weights[G,M,C,R,S]."""
    ranks = (("N", N), ("G", G), ("M", M), ("C", C), ("P", P), ("Q", Q), ("R", R), ("S", S))
    return Einsum(name, ranks, (
        _t("Weights", "G", "M", "C", "R", "S", bits=bits),
        _t("Inputs", "N", "G", "C", (("P", stride[0]), ("R", dilation[0])), (("Q", stride[1]), ("S", dilation[1])),
           bits=bits),
        _t("Outputs", "N", "G", "M", "P", "Q", rw=True, bits=bits)))


def gemm_einsum(name: str, m: int, n: int, k: int, *, bits: int = 8) -> Einsum:
    """Z[m, n] += A[m, k] x B[k, n]."""
    return Einsum(name, (("M", m), ("N", n), ("K", k)),
                  (_t("A", "M", "K", bits=bits), _t("B", "K", "N", bits=bits), _t("Z", "M", "N", rw=True, bits=bits)))


def batched_matmul_einsum(name: str, batch: int, m: int, n: int, k: int, *, bits: int = 8) -> Einsum:
    """Z[b, m, n] += A[b, m, k] x B[b, k, n] (attention's QK^T and AV with b = batch x heads)."""
    return Einsum(name, (("B", batch), ("M", m), ("N", n), ("K", k)),
                  (_t("A", "B", "M", "K", bits=bits), _t("B", "B", "K", "N", bits=bits),
                   _t("Z", "B", "M", "N", rw=True, bits=bits)))


def conv1d_einsum(name: str, *, P: int, R: int, K: int = 0, C: int = 0, bits: int = 8) -> Einsum:  # noqa: N803
    """Timeloop tutorial's Conv1D: Outputs[P] += Inputs[P+R] x Weights[R]; with ``K`` output channels
    (Conv1D+OC: Outputs[K,P], Weights[K,R]) and ``C`` input channels (Inputs[C,P+R], Weights[K,C,R])."""
    ranks = tuple((r, s) for r, s in (("K", K), ("C", C), ("R", R), ("P", P)) if s)
    has = {r for r, _ in ranks}
    w = [a for a in ("K", "C") if a in has] + ["R"]
    i = (["C"] if "C" in has else []) + [(("R", 1), ("P", 1))]
    o = (["K"] if "K" in has else []) + ["P"]
    return Einsum(name, ranks, (_t("Weights", *w, bits=bits), _t("Inputs", *i, bits=bits),
                                _t("Outputs", *o, rw=True, bits=bits)))


def dot_product_einsum(name: str, k: int, *, bits: int = 8) -> Einsum:
    """Z[] += A[k] x B[k] (Sparseloop's dot-product examples, with a unit M rank for Z)."""
    return Einsum(name, (("K", k), ("M", 1)), (_t("A", "K", bits=bits), _t("B", "K", bits=bits),
                                              _t("Z", "M", rw=True, bits=bits)))


# ---- lowering --------------------------------------------------------------------------------

def _lower(e: Einsum, name: str) -> Lowering:
    where = f"einsum {e.name!r}"

    def refuse(why: str, value: Any = None) -> SpecError:
        return SpecError(f"does not fit the cost kernel's N G K C P Q R S nest: {why}", source=where, value=value)

    sparse = [t for t in e.tensors if t.density is not None and t.density < 1]
    if sparse:  # the kernel's nest is dense: lowering would cost a sparse Einsum as dense
        raise SpecError("the kernel's nest models dense tensors only", source=where,
                        key=f"{sparse[0].name}.density", value=sparse[0].density,
                        accepted="density 1 or None (sparse tensors are not modelled by the mapper's cost model)")
    ins = e.inputs
    if len(ins) != 2:
        raise refuse("it needs exactly two read-only tensors", [t.name for t in ins])
    out = e.output
    for t in (out, *ins):
        seen: set[str] = set()
        for axis in t.axes:
            for rank, _ in axis:
                if rank in seen:
                    raise refuse(f"rank {rank} indexes two axes of {t.name}")
                seen.add(rank)
    sliding = [t for t in ins if any(len(axis) > 1 for axis in t.axes)]
    if len(sliding) == 2:
        raise refuse("both read-only tensors have sliding-window axes")
    if sliding:
        a = sliding[0]
    else:
        a = next((t for t in ins if t.name == "Inputs"), ins[0])
    b = ins[1] if a is ins[0] else ins[0]
    for t in (b, out):
        for axis in t.axes:
            if len(axis) > 1 or axis[0][1] != 1:
                raise refuse(f"{t.name} has an axis other than a single rank with coefficient 1", axis)
    ra, rb, ro = a.ranks, b.ranks, out.ranks
    kind: dict[str, str] = {}
    for rank in e.sizes:
        key = (rank in ra, rank in rb, rank in ro)
        kind[rank] = {(True, True, True): "G", (True, False, True): "NPQ", (False, True, True): "K",
                      (True, True, False): "CRS"}.get(key, "")
    dims: dict[str, str] = {}
    stride = [1, 1]
    dilation = [1, 1]
    pair_free = [True, True]                                     # (P, R) and (Q, S)
    for axis in a.axes:                                          # sliding axes first: p*stride + r*dilation
        if len(axis) == 1:
            continue
        if len(axis) > 2:
            raise refuse(f"{a.name} has an axis of more than two terms", axis)
        (r0, c0), (r1, c1) = axis
        if kind[r0] == "CRS" and kind[r1] == "NPQ":
            (r0, c0), (r1, c1) = (r1, c1), (r0, c0)
        if kind[r0] != "NPQ" or kind[r1] != "CRS":
            raise refuse(f"sliding axis of {a.name} must add an output rank and a reduction rank", axis)
        if not any(pair_free):
            raise refuse(f"{a.name} has more than two sliding axes")
        j = pair_free.index(True)
        pair_free[j] = False
        dims[r0], dims[r1] = "PQ"[j], "RS"[j]
        stride[j], dilation[j] = c0, c1
    for axis in a.axes:                                          # single strided / dilated terms
        (rank, coeff), = axis[:1]
        if len(axis) > 1 or coeff == 1:
            continue
        if not any(pair_free):
            raise refuse(f"{a.name} has too many strided axes", axis)
        j = pair_free.index(True)
        pair_free[j] = False
        if kind[rank] == "NPQ":
            dims[rank], stride[j] = "PQ"[j], coeff
        elif kind[rank] == "CRS":
            dims[rank], dilation[j] = "RS"[j], coeff
        else:
            raise refuse(f"coefficient on rank {rank}, which is not an output or reduction rank of {a.name}")
    free = {"G": ["G"], "K": ["K"], "NPQ": ["N"], "CRS": ["C"]}
    later: list[str] = []
    for rank, size in sorted(e.sizes.items(), key=lambda kv: kv[1] == 1):   # plain ranks: G, K, N / C, a pair
        if rank in dims:
            continue
        k = kind[rank]
        if free.get(k):
            dims[rank] = free[k].pop(0)
        elif k in ("NPQ", "CRS") and any(pair_free):
            j = pair_free.index(True)
            pair_free[j] = False
            dims[rank] = ("PQ" if k == "NPQ" else "RS")[j]
        elif size == 1:
            later.append(rank)
        elif not k:
            holders = [t.name for t in e.tensors if rank in t.ranks]
            raise refuse(f"rank {rank} indexes only {', '.join(holders) or 'no tensor'}", rank)
        else:
            raise refuse(f"too many ranks that index the same tensors as {rank}", rank)
    for rank in later:
        spare = [d for d in DIMS if d not in dims.values()]
        if not spare:
            raise refuse("more than eight ranks", rank)
        dims[rank] = spare[0]
    bound = {d: 1 for d in DIMS}
    for rank, d in dims.items():
        bound[d] = e.sizes[rank]
    windowed = bound["R"] > 1 or bound["S"] > 1 or stride != [1, 1] or dilation != [1, 1]
    try:
        layer = Layer(name=name, op="conv" if windowed else "gemm", N=bound["N"], G=bound["G"], K=bound["K"],
                      C=bound["C"], P=bound["P"], Q=bound["Q"], R=bound["R"], S=bound["S"],
                      stride=(stride[0], stride[1]), dilation=(dilation[0], dilation[1]),
                      input_bits=a.bits, weight_bits=b.bits, output_bits=out.bits)
    except SpecError as err:
        raise refuse(str(err)) from None
    return Lowering(dims=dims, dataspaces={a.name: "inputs", b.name: "weights", out.name: "outputs"}, layer=layer)


# ---- Timeloop's problem format ---------------------------------------------------------------

def from_timeloop_problem(problem: Any, *, source: str, name: str = "problem") -> Einsum:
    """The Einsum of a Timeloop v0.4 ``problem`` (``shape``: dimensions, data_spaces with projections
    ``[[rank, coefficient-name], ...]`` per axis, coefficients with defaults; ``instance``: rank
    sizes, coefficient values, ``densities``). Unknown keys are a ``SpecError``."""
    if not isinstance(problem, dict) or not isinstance(problem.get("shape"), dict):
        raise SpecError("problem needs 'shape' and 'instance'", source=source, key="problem")
    shape, inst = problem["shape"], problem.get("instance") or {}
    if not isinstance(inst, dict):
        raise SpecError("must be a mapping", source=source, key="problem.instance", value=inst)
    unknown = set(problem) - {"shape", "instance", "version"}
    if unknown:
        raise SpecError("unknown problem key", source=source, key=f"problem.{sorted(unknown)[0]}",
                        accepted="shape, instance, version")
    unknown = set(shape) - {"name", "dimensions", "data_spaces", "data-spaces", "coefficients"}
    if unknown:
        raise SpecError("unknown problem.shape key", source=source, key=f"problem.shape.{sorted(unknown)[0]}",
                        accepted="name, dimensions, data_spaces, coefficients")
    dims = shape.get("dimensions")
    if not isinstance(dims, list) or not dims or not all(isinstance(d, str) for d in dims):
        raise SpecError("must list the rank names", source=source, key="problem.shape.dimensions", value=dims)
    coeffs: dict[str, int] = {}
    for i, c in enumerate(shape.get("coefficients") or []):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise SpecError("coefficient needs a name", source=source, key=f"problem.shape.coefficients[{i}]", value=c)
        coeffs[c["name"]] = c.get("default", 1)
    densities = inst.get("densities") or {}
    if not isinstance(densities, dict):
        raise SpecError("must map tensor names to densities", source=source, key="problem.instance.densities",
                        value=densities)
    for key, value in inst.items():
        if key == "densities":
            continue
        if key in coeffs:
            coeffs[key] = value
        elif key not in dims:
            raise SpecError("instance key is neither a rank of problem.shape.dimensions nor a coefficient",
                            source=source,
                            key=f"problem.instance.{key}", accepted=", ".join([*dims, *coeffs]))
    for key, value in coeffs.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SpecError("coefficient must be a non-negative integer", source=source,
                            key=f"problem.instance.{key}", value=value)
    ranks = []
    for d in dims:
        size = inst.get(d, 1)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise SpecError("rank size must be a positive integer", source=source, key=f"problem.instance.{d}",
                            value=size)
        ranks.append((d, size))
    spaces = shape.get("data_spaces", shape.get("data-spaces"))
    if not isinstance(spaces, list) or not spaces:
        raise SpecError("must list the tensors", source=source, key="problem.shape.data_spaces", value=spaces)
    tensors = []
    for i, ds in enumerate(spaces):
        key = f"problem.shape.data_spaces[{i}]"
        if not isinstance(ds, dict) or not isinstance(ds.get("name"), str):
            raise SpecError("data space needs a name", source=source, key=key, value=ds)
        unknown = set(ds) - {"name", "projection", "read_write", "read-write"}
        if unknown:
            raise SpecError("unknown data-space key", source=source, key=f"{key}.{sorted(unknown)[0]}",
                            accepted="name, projection, read_write")
        axes = [_axis(ax, coeffs, source=source, key=f"{key}.projection") for ax in _projection(ds, source, key)]
        rw = ds.get("read_write", ds.get("read-write", False))
        tensors.append(Tensor(name=ds["name"], axes=tuple(a for a in axes if a), read_write=bool(rw),
                              **_density(densities.get(ds["name"]), source=source,
                                         key=f"problem.instance.densities.{ds['name']}")))
    extra = set(densities) - {t.name for t in tensors}
    if extra:
        raise SpecError("density for an unknown tensor", source=source, key="problem.instance.densities",
                        value=sorted(extra), accepted=", ".join(t.name for t in tensors))
    try:
        return Einsum(name=str(shape.get("name") or name), ranks=tuple(ranks), tensors=tuple(tensors))
    except SpecError as err:
        raise SpecError(str(err), source=source) from None


def _projection(ds: dict[str, Any], source: str, key: str) -> list[Any]:
    proj = ds.get("projection")
    if not isinstance(proj, list):
        raise SpecError("projection must be a list of axes", source=source, key=f"{key}.projection", value=proj)
    return proj


def _axis(axis: Any, coeffs: dict[str, int], *, source: str, key: str) -> Axis:
    """``[[R, Wdilation], [P, Wstride]]`` -> ((R, dilation), (P, stride)); a zero coefficient drops its term."""
    if not isinstance(axis, list):
        raise SpecError("an axis is a list of [rank] or [rank, coefficient] terms", source=source, key=key,
                        value=axis)
    terms: list[Term] = []
    for term in axis:
        if not isinstance(term, list) or not 1 <= len(term) <= 2:
            raise SpecError("a term is [rank] or [rank, coefficient]", source=source, key=key, value=term)
        coeff: Any = 1
        if len(term) == 2:
            coeff = term[1] if isinstance(term[1], int) else coeffs.get(str(term[1]))
            if coeff is None:
                raise SpecError("unknown coefficient", source=source, key=key, value=term[1],
                                accepted=", ".join(coeffs) or "an integer")
        if coeff:
            terms.append((str(term[0]), int(coeff)))
    return tuple(terms)


def _density(spec: Any, *, source: str, key: str) -> dict[str, Any]:
    """Sparseloop's per-tensor density: a number, or {distribution, density, ...}."""
    if spec is None:
        return {}
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return {"density": float(spec)}
    if not isinstance(spec, dict):
        raise SpecError("density must be a number or {distribution, density}", source=source, key=key, value=spec)
    unknown = set(spec) - {"distribution", "density", "band_width", "workload_tensor_size"}
    if unknown:
        raise SpecError("unsupported density key", source=source, key=f"{key}.{sorted(unknown)[0]}",
                        accepted="distribution, density")
    model = spec.get("distribution", "hypergeometric")
    if model not in DENSITY_MODELS:
        raise SpecError("unsupported density distribution", source=source, key=f"{key}.distribution", value=model,
                        accepted=", ".join(DENSITY_MODELS))
    density = spec.get("density", 1.0)
    if isinstance(density, bool) or not isinstance(density, int | float) or not 0 < density <= 1:
        raise SpecError("density must be in (0, 1]", source=source, key=f"{key}.density", value=density)
    return {"density": float(density), "density_model": model}


__all__ = ["DENSITY_MODELS", "Axis", "Einsum", "Lowering", "Tensor", "Term", "batched_matmul_einsum",
           "conv1d_einsum", "conv2d_einsum", "dot_product_einsum", "from_timeloop_problem", "gemm_einsum"]
