"""The fixed-size action encoding of Mapping-v0: layer mappings on a memory hierarchy.

Encoding (one step = one layer's mapping, fixed size for every layer):

* tiling: for every loop dim ``d`` (``N G K C P Q R S``) and every slot the dataflow allows it
  (temporal at a level that keeps data, spatial-X / spatial-Y below a level with fan-out) except
  the outermost temporal one, an index ``i`` in ``[0, D)``; slots are filled innermost first, each
  taking divisor ``divs[i * len(divs) // D]`` of what is left of the dim, and the outermost level
  takes the rest. ``D`` is the largest divisor count of any dim of the network, so every perfect
  factorization -- every legal mapping the mapper can return -- is reachable (``encode``);
* loop order: per level with temporal loops a priority ``0..7`` per dim; loops run in increasing
  priority, outermost first (ties: canonical dim order);
* bypass: one bit per (level, dataspace) the mapper may bypass (1 = keep).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from acceldse.mapper.legality import OK, check_kernel, explain, workload_array
from acceldse.mapper.mapping import MappingArrays
from acceldse.mapper.space import MappingSpace
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS, Layer


@lru_cache(maxsize=4096)
def divisors(n: int) -> tuple[int, ...]:
    """Positive divisors of ``n``, increasing."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(sorted(set(small + [n // d for d in small])))


class MappingEncoding:
    """The fixed-size action encoding of mappings of ``layers`` on ``hierarchy`` (see module docstring)."""

    def __init__(self, layers: list[Layer], hierarchy: Hierarchy, dataflow: Any, *, width: int | None = None,
                 bypass_pairs: list[tuple[int, int]] | None = None) -> None:
        """``width`` (``D``) and ``bypass_pairs`` fix the action space to another encoding's (a workload set's:
        every network then shares one space; a layer with more divisors than ``D`` reaches fewer factors)."""
        self.hierarchy = hierarchy
        self.hw = hierarchy.arrays()
        self.n = hierarchy.num_levels
        spaces = [MappingSpace(layer, hierarchy, dataflow) for layer in layers]
        self.bypassable = [s.bypassable for s in spaces]
        allowed = spaces[0].allowed_by_dim
        # innermost first: temporal levels from the inside out, then spatial slots
        self.slots = [sorted((c for c in codes if c != 0), key=lambda c: (c // self.n, -(c % self.n)))
                      for codes in allowed]
        self.order_levels = [lv for lv in range(self.n) if self.hw.keep[lv].any()]
        union = np.any(np.stack(self.bypassable), axis=0)
        self.bypass_pairs = [(int(lv), int(ds)) for lv, ds in np.argwhere(union)] if bypass_pairs is None \
            else list(bypass_pairs)
        self.D = max(len(divisors(v)) for layer in layers for v in layer.dims.values()) if width is None else width
        self.sizes = [tuple(layer.dims.values()) for layer in layers]
        names: list[str] = []
        values: list[list[int]] = []
        for d, codes in zip(DIMS, self.slots):
            for c in codes:
                kind = ("t", "x", "y")[c // self.n]
                names.append(f"{d}.{kind}.{hierarchy.levels[c % self.n].name}")
                values.append(list(range(self.D)))
        for lv in self.order_levels:
            for d in DIMS:
                names.append(f"order.{hierarchy.levels[lv].name}.{d}")
                values.append(list(range(8)))
        for lv, ds in self.bypass_pairs:
            names.append(f"keep.{hierarchy.levels[lv].name}.{DATASPACES[ds]}")
            values.append([0, 1])
        self.knobs: dict[str, list[int]] = dict(zip(names, values))
        self.nvec = np.array([len(v) for v in values], dtype=np.int64)

    def decode(self, layer_index: int, a: np.ndarray) -> MappingArrays:
        """The mapping an action stands for (unbatched ``MappingArrays``)."""
        n, D = self.n, self.D
        t = np.ones((n, 8), dtype=np.int64)
        sx = np.ones((n, 8), dtype=np.int64)
        sy = np.ones((n, 8), dtype=np.int64)
        k = 0
        for d, size in enumerate(self.sizes[layer_index]):
            rest = size
            for c in self.slots[d]:
                divs = divisors(rest)
                f = divs[int(a[k]) * len(divs) // D]
                (t, sx, sy)[c // n][c % n, d] *= f
                rest //= f
                k += 1
            t[0, d] *= rest
        order = np.tile(np.arange(8, dtype=np.int64), (n, 1))
        for lv in self.order_levels:
            order[lv] = np.argsort(a[k:k + 8], kind="stable")
            k += 8
        keep = self.hw.keep.copy()
        bypassable = self.bypassable[layer_index]
        for lv, ds in self.bypass_pairs:
            if bypassable[lv, ds] and not a[k]:
                keep[lv, ds] = False
            k += 1
        return MappingArrays(t, sx, sy, order, keep, self.hw.double_buffered.copy())

    def encode(self, layer: Layer, arrays: MappingArrays) -> np.ndarray:
        """An action that decodes to ``arrays`` (a perfect factorization using only allowed slots)."""
        n, D = self.n, self.D
        a = np.zeros(len(self.nvec), dtype=np.int64)
        k = 0
        grids = (arrays.temporal, arrays.spatial_x, arrays.spatial_y)
        for d, size in enumerate(layer.dims.values()):
            rest = size
            for c in self.slots[d]:
                f = int(grids[c // n][c % n, d])
                divs = divisors(rest)
                if f not in divs:
                    raise SpecError("mapping factor is not a divisor of what is left of the dim", source="mapping",
                                    key=f"{DIMS[d]} at {self.hierarchy.levels[c % n].name}", value=f,
                                    accepted=f"one of {list(divs)}")
                a[k] = -(-divs.index(f) * D // len(divs))
                rest //= f
                k += 1
            if int(arrays.temporal[0, d]) != rest:
                raise SpecError("mapping is not a perfect factorization of the dim", source="mapping",
                                key=f"{DIMS[d]} at {self.hierarchy.levels[0].name}", value=int(arrays.temporal[0, d]),
                                accepted=str(rest))
            used = {c for c in self.slots[d]} | {0}
            for kind, grid in enumerate(grids):
                for lv in range(n):
                    if grid[lv, d] != 1 and kind * n + lv not in used:
                        raise SpecError("mapping uses a slot the dataflow does not allow", source="mapping",
                                        key=f"{DIMS[d]} {('temporal', 'spatial_x', 'spatial_y')[kind]} at "
                                            f"{self.hierarchy.levels[lv].name}", value=int(grid[lv, d]))
        for lv in self.order_levels:
            a[k:k + 8] = np.argsort(arrays.order[lv], kind="stable")
            k += 8
        for lv, ds in self.bypass_pairs:
            a[k] = int(arrays.keep[lv, ds])
            k += 1
        return a

    def reason(self, layer: Layer, arrays: MappingArrays) -> str:
        """Why a mapping is illegal (the mapper's legality message: level, dataspace, excess), or ``""``."""
        n = self.n
        tile = np.zeros((n + 1, 3), dtype=np.int64)
        inst = np.zeros(n + 1, dtype=np.int64)
        info = np.zeros(3, dtype=np.int64)
        hw = self.hw
        code = check_kernel(arrays.temporal, arrays.spatial_x, arrays.spatial_y, arrays.keep, arrays.double_buffered,
                            workload_array(layer), hw.keep, hw.capacity, hw.fanout, tile, inst, info)
        return "" if code == OK else explain(code, info, self.hierarchy, layer)

