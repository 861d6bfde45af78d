"""Loop constraints on a mapping space: Timeloop's factor, permutation and split constraints.

A ``LoopConstraint`` binds one level's temporal loops or spatial fan-out, in the kernel's dims:

* ``factors``: ``{dim: f}`` -- that level's loop over ``dim`` has exactly factor ``f`` (1: no loop
  there); dims not named are free, as in Timeloop;
* ``permutation`` (temporal): dims innermost first; they sit innermost at that level in that
  order, the other dims above them in any order; ``outer`` (Timeloop's ranks after ``_``): dims
  that sit outermost, innermost first. As in Timeloop's mapper, the innermost level's order is
  not constrained (it does not change any count);
* ``x_dims`` / ``y_dims`` (spatial): the only dims that may be unrolled on each axis of that
  level's fan-out (Timeloop's ``permutation`` + ``split``); ``None`` leaves an axis free.

``MappingSpace`` applies them (``mapper.space``): fixed factors pin prime factors to their slot and
keep the dim's other primes out of it, the axis sets drop spatial slots, and decoding puts every
candidate's loop order in the constrained permutation. Every search (random, GA, annealing,
hybrid, exhaustive) therefore only visits mappings that satisfy them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS


@dataclass(frozen=True)
class LoopConstraint:
    """Factor / permutation / axis constraints on one level (see module docstring)."""

    level: str
    kind: str
    factors: dict[str, int] = field(default_factory=dict)
    permutation: tuple[str, ...] = ()
    outer: tuple[str, ...] = ()
    x_dims: frozenset[str] | None = None
    y_dims: frozenset[str] | None = None

    def __post_init__(self) -> None:
        where = f"constraint on {self.level!r}"
        if self.kind not in ("temporal", "spatial"):
            raise SpecError("unknown constraint kind", source=where, key="kind", value=self.kind,
                            accepted="temporal, spatial")
        for d in (*self.factors, *self.permutation, *self.outer, *(self.x_dims or ()), *(self.y_dims or ())):
            if d not in DIMS:
                raise SpecError("unknown dim", source=where, value=d, accepted=", ".join(DIMS))
        for d, f in self.factors.items():
            if isinstance(f, bool) or not isinstance(f, int) or f < 1:
                raise SpecError("a factor must be a positive integer", source=where, key=f"factors.{d}", value=f)
