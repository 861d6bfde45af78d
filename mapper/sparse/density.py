"""Sparseloop's density models: how many non-zeros a tile of a sparse tensor holds.

* ``FixedStructured(density)`` (Sparseloop's ``fixed_structured``): every tile of ``n`` elements
  holds ``n x density`` non-zeros, rounded down or up with the probabilities that keep that mean
  (a tile with ``n x density < 1`` is empty with probability ``1 - n x density``).
* ``Hypergeometric(density, tensor_size)`` (Sparseloop's ``hypergeometric``): the tensor's
  ``ceil(density x tensor_size)`` non-zeros sit at random positions, so a tile of ``n`` elements
  holds ``k`` of them with the hypergeometric probability; its largest occupancy is
  ``min(n, non-zeros)``.

A tile may carry a *constraint* ``(shape, occupancy)``: the enclosing tile it was cut from and
the non-zeros that tile holds, as Sparseloop conditions a tile on its parent when it sizes
metadata. Occupancies (and constraint occupancies) may be NumPy arrays: the probabilities come
back element-wise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Constraint = tuple[int, Any] | None
"""(enclosing tile shape, its occupancy: an int or an array of them), or None."""


def _out(value: Any) -> Any:
    arr = np.asarray(value, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


@dataclass(frozen=True)
class FixedStructured:
    """Sparseloop's ``fixed_structured`` density model (``density`` in (0, 1])."""

    density: float

    def occupancy_probability(self, shape: int, occupancy: Any, constraint: Constraint = None) -> Any:
        """P(a tile of ``shape`` elements holds ``occupancy`` non-zeros)."""
        if isinstance(occupancy, int) and (constraint is None or isinstance(constraint[1], int)):
            exact = shape * (self.density if constraint is None else constraint[1] / constraint[0])
            low = math.floor(exact)
            return 1 - (exact - low) if low == occupancy else (exact - low if math.ceil(exact) == occupancy else 0.0)
        d = self.density if constraint is None else np.asarray(constraint[1], dtype=float) / constraint[0]
        exact = shape * np.asarray(d, dtype=float)
        low = np.floor(exact)
        ceil_p = exact - low
        occ = np.asarray(occupancy)
        return _out(np.where(low == occ, 1 - ceil_p, np.where(np.ceil(exact) == occ, ceil_p, 0.0)))

    def prob_empty(self, shape: int, constraint: Constraint = None) -> Any:
        """P(a tile of ``shape`` elements holds no non-zero)."""
        return self.occupancy_probability(shape, 0, constraint)

    def max_occupancy(self, shape: int) -> int:
        """The largest occupancy a tile of ``shape`` takes (confidence 1)."""
        exact = shape * self.density
        return math.floor(exact) if exact == math.floor(exact) else math.ceil(exact)

    def min_occupancy(self, shape: int) -> int:
        """The smallest occupancy a tile of ``shape`` takes."""
        return 0 if shape == 0 else math.floor(shape * self.density)

    def expected_occupancy(self, shape: int) -> float:
        """Mean non-zeros in a tile of ``shape`` elements."""
        return shape * self.density


@dataclass(frozen=True)
class Hypergeometric:
    """Sparseloop's ``hypergeometric`` density model: ``ceil(density x tensor_size)`` non-zeros at
    random positions of a tensor of ``tensor_size`` elements."""

    density: float
    tensor_size: int

    @property
    def nonzeros(self) -> int:
        return math.ceil(self.density * self.tensor_size)

    def occupancy_probability(self, shape: int, occupancy: Any, constraint: Constraint = None) -> Any:
        """P(a tile of ``shape`` elements holds ``occupancy`` non-zeros) (``hypergeom.pmf``)."""
        from acceldse.mapper.sparse.hypergeom import pmf_of

        total, nnz = (self.tensor_size, self.nonzeros) if constraint is None else constraint
        return _out(pmf_of(occupancy, total, nnz, shape))

    def prob_empty(self, shape: int, constraint: Constraint = None) -> Any:
        """P(a tile of ``shape`` elements holds no non-zero)."""
        return self.occupancy_probability(shape, 0, constraint)

    def max_occupancy(self, shape: int) -> int:
        """The largest occupancy a tile of ``shape`` takes (confidence 1)."""
        return min(shape, self.nonzeros)

    def min_occupancy(self, shape: int) -> int:
        """The smallest occupancy Sparseloop enumerates: 0 unless the tile cannot miss a non-zero, and
        then, through Sparseloop's integer division, 0 or (every element non-zero) the whole tile."""
        if shape == 0 or shape <= self.tensor_size - self.nonzeros:
            return 0
        return ((shape - self.tensor_size + self.nonzeros) // shape) * shape

    def expected_occupancy(self, shape: int) -> float:
        """Mean non-zeros in a tile of ``shape`` elements."""
        return shape * self.nonzeros / self.tensor_size


DensityModel = FixedStructured | Hypergeometric
