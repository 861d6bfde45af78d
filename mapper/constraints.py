"""Loop constraints on a mapping space: Timeloop's factor, permutation and split constraints.

A ``LoopConstraint`` binds one level's temporal loops or spatial fan-out, in the kernel's dims:

* ``factors``: ``{dim: f}`` -- that level's loop over ``dim`` has exactly factor ``f`` (1: no loop
  there); dims not named are free, as in Timeloop;
* ``permutation`` (temporal): dims innermost first; they sit innermost at that level in that
  order, the other dims above them in any order; ``outer`` (Timeloop's ranks after ``_``): dims
  that sit outermost, innermost first. As in Timeloop's mapper, the innermost level's order is
  not constrained (it does not change any count);
* ``x_dims`` / ``y_dims`` (spatial): the only dims that may be unrolled on each axis of that
  level's fan-out (Timeloop's ``permutation`` + ``split``); ``None`` leaves an axis free;
* ``min_factors`` / ``max_factors``: bounds on that level's factor of a dim (Timeloop's
  ``R>=2`` / ``R<=4``, ``default_min_factor`` / ``default_max_factor``; a spatial level's factor
  is its X times Y unrolling of the dim);
* kind ``parallelism`` (Timeloop's ``utilization``/``parallelism`` constraint, ``min``): the
  fraction of the MACs used, the product over fan-out levels of used / available instances, is
  at least ``min_parallelism``.

``MappingSpace`` applies them (``mapper.space``): fixed factors pin prime factors to their slot and
keep the dim's other primes out of it, the axis sets drop spatial slots, and decoding puts every
candidate's loop order in the constrained permutation; factor bounds and minimum parallelism,
which no slot choice can express, make a candidate outside them illegal
(``MappingSpace.admissible``, checked by the evaluator every search scores through). Every
search (random, GA, annealing, hybrid, exhaustive) therefore only returns mappings that satisfy them.
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
    min_factors: dict[str, int] = field(default_factory=dict)
    max_factors: dict[str, int] = field(default_factory=dict)
    min_parallelism: float = 0.0

    def __post_init__(self) -> None:
        where = f"constraint on {self.level!r}"
        if self.kind not in ("temporal", "spatial", "parallelism"):
            raise SpecError("unknown constraint kind", source=where, key="kind", value=self.kind,
                            accepted="temporal, spatial, parallelism")
        for d in (*self.factors, *self.permutation, *self.outer, *(self.x_dims or ()), *(self.y_dims or ()),
                  *self.min_factors, *self.max_factors):
            if d not in DIMS:
                raise SpecError("unknown dim", source=where, value=d, accepted=", ".join(DIMS))
        for name, table in (("factors", self.factors), ("min_factors", self.min_factors),
                            ("max_factors", self.max_factors)):
            for d, f in table.items():
                if isinstance(f, bool) or not isinstance(f, int) or f < 1:
                    raise SpecError("a factor must be a positive integer", source=where, key=f"{name}.{d}", value=f)
        m = self.min_parallelism
        if isinstance(m, bool) or not isinstance(m, int | float) or not 0 <= m <= 1:
            raise SpecError("min parallelism must be a fraction in [0, 1]", source=where, key="min", value=m)

    @property
    def has_bounds(self) -> bool:
        """Whether it binds what no slot choice expresses (factor bounds, minimum parallelism)."""
        return bool(self.min_factors or self.max_factors or self.min_parallelism > 0)
