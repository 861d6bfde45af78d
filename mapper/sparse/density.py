"""Sparseloop's density models: how many non-zeros a tile of a sparse tensor holds.

``FixedStructured(density)`` is Sparseloop's ``fixed_structured`` distribution: every tile of
``n`` elements holds ``n x density`` non-zeros, rounded down or up with the probabilities that
keep that mean (so a tile of ``n`` with ``n x density < 1`` is empty with probability
``1 - n x density``). A tile may carry a *constraint*: the density of the enclosing tile it was
cut from (``density`` argument of the methods), as Sparseloop conditions a tile on the occupancy
of its parent when it sizes metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FixedStructured:
    """Sparseloop's ``fixed_structured`` density model (``density`` in (0, 1])."""

    density: float

    def _nnz(self, shape: int, density: float | None) -> float:
        return shape * (self.density if density is None else density)

    def occupancy_probability(self, shape: int, occupancy: int, density: float | None = None) -> float:
        """P(a tile of ``shape`` elements holds ``occupancy`` non-zeros)."""
        exact = self._nnz(shape, density)
        ceil_p = exact - math.floor(exact)
        if math.floor(exact) == occupancy:
            return 1 - ceil_p
        if math.ceil(exact) == occupancy:
            return ceil_p
        return 0.0

    def prob_empty(self, shape: int, density: float | None = None) -> float:
        """P(a tile of ``shape`` elements holds no non-zero)."""
        return self.occupancy_probability(shape, 0, density)

    def max_occupancy(self, shape: int) -> int:
        """The largest occupancy a tile of ``shape`` takes (confidence 1)."""
        exact = self._nnz(shape, None)
        return math.floor(exact) if exact == math.floor(exact) else math.ceil(exact)

    def min_occupancy(self, shape: int) -> int:
        """The smallest occupancy a tile of ``shape`` takes."""
        return 0 if shape == 0 else math.floor(shape * self.density)

    def expected_occupancy(self, shape: int) -> float:
        """Mean non-zeros in a tile of ``shape`` elements."""
        return shape * self.density
