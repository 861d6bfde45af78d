"""Timeloop v0.4 ``problem`` (shape + instance) -> ``Einsum`` -> the kernel's ``Layer``.

Any problem shape is read as an ``Einsum`` (``workloads.einsum.from_timeloop_problem``: named
ranks, projections with coefficients, read-write output, densities) and lowered onto the cost
kernel's fixed nest (``Einsum.lower``); a shape that does not fit is a ``SpecError`` saying why.
Timeloop's conv2D ``M`` becomes our ``K``; ``P``/``R`` with ``W``-stride/dilation our axis 0.
``H``/``W`` and the pads are ignored, as Timeloop ignores them (its conv2D has no padding: the
P, Q, R, S and the strides fix the input extent).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from acceldse.workloads.einsum import Einsum, Lowering, from_timeloop_problem
from acceldse.workloads.errors import SpecError

_IGNORED = ("H", "W", "Hpad", "Wpad")
"""Instance keys of Timeloop's conv2D examples that no projection uses (Timeloop ignores them)."""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def build_problem(problem: dict[str, Any], *, source: str, name: str, sparse: bool = False
                  ) -> tuple[Einsum, Lowering]:
    """The ``Einsum`` of a Timeloop v0.4 problem and its lowering (``lowering.layer`` is what the kernel
    costs). Densities < 1 need ``sparse`` (the inputs have ``sparse_optimizations``)."""
    if isinstance(problem, dict) and isinstance(problem.get("instance"), dict):
        raw = problem.get("shape")
        shape: dict[str, Any] = raw if isinstance(raw, dict) else {}
        named = [*_list(shape.get("dimensions")), *(c.get("name") for c in _list(shape.get("coefficients"))
                                                   if isinstance(c, dict))]
        known = {n for n in named if isinstance(n, str)}
        inst = {k: v for k, v in problem["instance"].items() if not (k in _IGNORED and k not in known)}
        problem = {**problem, "instance": inst}
    einsum = from_timeloop_problem(problem, source=source, name=name)
    sparse_tensors = [t.name for t in einsum.tensors if t.density is not None and t.density < 1]
    if sparse_tensors and not sparse:
        raise SpecError("sparse tensors (density < 1) are not modelled", source=source,
                        key="problem.instance.densities", value=sparse_tensors,
                        accepted="dense tensors (density 1), or sparse_optimizations (Sparseloop)")
    # the dense nest (Sparseloop's algorithmic counts); mapper.sparse applies the densities
    dense = replace(einsum, tensors=tuple(replace(t, density=None) for t in einsum.tensors))
    try:
        return einsum, dense.lower(name=name)
    except SpecError as err:
        raise SpecError(str(err), source=source, key="problem.shape") from None

