"""The mapping space of one layer on one hierarchy, under a dataflow's constraints.

A candidate is a *genome* of three integer arrays (batched on axis 0):

* ``slots[B, P]``: for each prime factor of each dim (P primes in all), where it goes:
  ``code = kind * L + level`` with kind 0 temporal at ``level``, 1 spatial-X below
  ``level``, 2 spatial-Y below ``level``;
* ``order[B, L, 8]``: per level a permutation of the eight dims (outermost first);
* ``keep[B, L, 3]``: which dataspaces each level keeps (bypass where the level may keep
  but the genome says no; level 0 always keeps everything).

The dataflow restricts spatial slots: dims on spatial-Y must be in ``dataflow.rows``,
on spatial-X in ``dataflow.cols`` (no dataflow: any dim), and its stationary operand is
never bypassed at the innermost level that can hold it. Temporal slots exist only at
levels that can keep something. ``decode`` turns genomes into ``MappingArrays`` for the
cost kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from acceldse.dataflows.dataflow import Dataflow, get_dataflow
from acceldse.mapper.constraints import LoopConstraint
from acceldse.mapper.mapping import MappingArrays
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS, Layer


def prime_factors(n: int) -> list[int]:
    """Prime factors of ``n`` with multiplicity, ascending."""
    out = []
    p = 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def smooth_at_least(n: int, largest_prime: int = 7) -> int:
    """Smallest number >= ``n`` whose prime factors are all <= ``largest_prime``."""
    m = n
    while max(prime_factors(m) or [1]) > largest_prime:
        m += 1
    return m


def padded_sizes(layer: Layer, pad: bool | dict[str, int]) -> dict[str, int]:
    """Loop bounds to factorize (see ``MappingSpace``); raises ``SpecError`` on a size below the dim."""
    sizes = dict(layer.dims)
    if pad is True:
        sizes = {d: smooth_at_least(v) for d, v in sizes.items()}
    elif isinstance(pad, dict):
        for d, v in pad.items():
            if d not in sizes or not isinstance(v, int) or v < sizes[d]:
                raise SpecError("padded size must name a dim and be at least its size", source="pad", key=str(d),
                                value=v, accepted=f"a dim of {', '.join(DIMS)} with size >= the layer's")
            sizes[d] = v
    return sizes


@dataclass(frozen=True)
class Genomes:
    """A batch of candidates (see module docstring)."""

    slots: np.ndarray
    order: np.ndarray
    keep: np.ndarray

    def __len__(self) -> int:
        return int(self.slots.shape[0])

    def take(self, index: np.ndarray | slice) -> Genomes:
        return Genomes(self.slots[index], self.order[index], self.keep[index])

    @staticmethod
    def concat(parts: list[Genomes]) -> Genomes:
        return Genomes(np.concatenate([p.slots for p in parts]), np.concatenate([p.order for p in parts]),
                       np.concatenate([p.keep for p in parts]))


@njit(cache=True)
def _decode(slots: np.ndarray, prime_dim: np.ndarray, prime_val: np.ndarray, n_levels: int,
            t: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> None:
    for b in range(slots.shape[0]):
        for lvl in range(n_levels):
            for d in range(8):
                t[b, lvl, d] = 1
                sx[b, lvl, d] = 1
                sy[b, lvl, d] = 1
        for i in range(slots.shape[1]):
            code = slots[b, i]
            kind = code // n_levels
            lvl = code % n_levels
            d = prime_dim[i]
            if kind == 0:
                t[b, lvl, d] *= prime_val[i]
            elif kind == 1:
                sx[b, lvl, d] *= prime_val[i]
            else:
                sy[b, lvl, d] *= prime_val[i]


class MappingSpace:
    """All mappings of ``layer`` on ``hierarchy`` allowed by ``dataflow`` (see module docstring).

    Args:
        layer: the layer.
        hierarchy: the architecture.
        dataflow: a ``Dataflow`` or its name; ``None`` allows any dim on either axis.
        allow_bypass: let the search drop dataspaces from levels that may keep them.
        pad: factorize padded dims instead of the layer's: ``True`` pads every dim with a prime
            factor above 7 up to the next 7-smooth number (13 -> 14, 17 -> 18); a dict gives
            sizes per dim (each >= the layer's). Padded MACs count as waste.
        constraints: ``LoopConstraint`` s (fixed factors, permutations, spatial axes per level;
            ``mapper.constraints``) every candidate satisfies.
    """

    def __init__(self, layer: Layer, hierarchy: Hierarchy, dataflow: Dataflow | str | None = None, *,
                 allow_bypass: bool = True, pad: bool | dict[str, int] = False,
                 constraints: tuple[LoopConstraint, ...] = ()) -> None:
        self.layer = layer
        self.hierarchy = hierarchy
        self.dataflow = get_dataflow(dataflow) if dataflow is not None else None
        self.hw = hierarchy.arrays()
        n = hierarchy.num_levels
        self.n_levels = n
        self.sizes = padded_sizes(layer, pad)
        dims, vals = [], []
        for i, d in enumerate(DIMS):
            for p in prime_factors(self.sizes[d]):
                dims.append(i)
                vals.append(p)
        self.prime_dim = np.array(dims, dtype=np.int64)
        self.prime_val = np.array(vals, dtype=np.int64)
        temporal_levels = [lv for lv in range(n) if self.hw.keep[lv].any()]
        allowed: list[list[int]] = []
        for d in DIMS:
            codes = list(temporal_levels)
            for lvl in range(n):
                if self.hw.fanout[lvl, 0] > 1 and (self.dataflow is None or d in self.dataflow.cols):
                    codes.append(n + lvl)
                if self.hw.fanout[lvl, 1] > 1 and (self.dataflow is None or d in self.dataflow.rows):
                    codes.append(2 * n + lvl)
            allowed.append(codes)
        pins = self._constrain(allowed, constraints, temporal_levels)
        self.allowed_by_dim = allowed
        width = max(len(a) for a in allowed)
        self.allowed = np.full((len(vals), width), -1, dtype=np.int64)
        self.n_allowed = np.zeros(len(vals), dtype=np.int64)
        for i, dim_index in enumerate(dims):
            codes = [pins[i]] if i in pins else allowed[dim_index]
            if not codes:
                raise SpecError("the loop constraints leave no place for a factor", source=f"layer {layer.name!r}",
                                key=DIMS[dim_index], value=int(vals[i]))
            self.allowed[i, : len(codes)] = codes
            self.n_allowed[i] = len(codes)
        self.prime_pinned = np.array([i in pins for i in range(len(vals))], dtype=bool)
        bypassable = self.hw.keep.copy()
        bypassable[0] = False
        for lvl, lv in enumerate(hierarchy.levels):  # Timeloop `keep` constraints: never bypassed
            for name in lv.always_keeps:
                bypassable[lvl, DATASPACES.index(name)] = False
        if not layer.has_weights:
            bypassable[:, 1] = False
        if self.dataflow is not None:
            # the stationary operand stays in the PEs: the innermost level that may keep it keeps it
            ds = ("inputs", "weights", "outputs").index(self.dataflow.stationary)
            holders = np.flatnonzero(self.hw.keep[:, ds])
            bypassable[holders[-1], ds] = False
        self.bypassable = bypassable if allow_bypass else np.zeros_like(bypassable)

    def _constrain(self, allowed: list[list[int]], constraints: tuple[LoopConstraint, ...],
                   temporal_levels: list[int]) -> dict[int, int]:
        """Narrow ``allowed`` (per dim) by ``constraints``; returns the pinned primes (index -> code)
        and records the constrained permutations (``self.permutations``)."""
        n = self.n_levels
        where = f"layer {self.layer.name!r} on {self.hierarchy.name!r}"
        pinned: list[list[tuple[int, int]]] = [[] for _ in DIMS]
        forbidden: list[set[int]] = [set() for _ in DIMS]
        self.permutations: list[tuple[int, list[int], list[int]]] = []
        self.factor_bounds = np.zeros((2, 2, n, 8), dtype=np.int64)   # [min|max, temporal|spatial, level, dim]
        self.factor_bounds[1] = np.iinfo(np.int64).max
        self.min_parallelism = max([c.min_parallelism for c in constraints], default=0.0)
        self.has_bounds = any(c.has_bounds for c in constraints)
        for c in constraints:
            if c.level not in [lv.name for lv in self.hierarchy.levels]:
                raise SpecError("constraint on an unknown level", source=where, key=c.level,
                                accepted=", ".join(lv.name for lv in self.hierarchy.levels))
            lvl = self.hierarchy.level_index(c.level)
            kind = 0 if c.kind == "temporal" else 1
            bounds = self.factor_bounds[:, kind, lvl]
            for d, f in c.min_factors.items():
                bounds[0, DIMS.index(d)] = max(f, bounds[0, DIMS.index(d)])
            for d, f in c.max_factors.items():
                bounds[1, DIMS.index(d)] = min(f, bounds[1, DIMS.index(d)])
                if f == 1:   # no loop over d there: as a fixed factor of 1
                    forbidden[DIMS.index(d)] |= {lvl} if kind == 0 else {n + lvl, 2 * n + lvl}
            if c.kind == "parallelism":
                continue
            if c.kind == "temporal":
                for d, f in c.factors.items():
                    forbidden[DIMS.index(d)].add(lvl)
                    if f > 1:
                        if lvl not in temporal_levels:
                            raise SpecError("a temporal factor on a level that keeps nothing", source=where,
                                            key=f"{c.level}.{d}", value=f)
                        pinned[DIMS.index(d)].append((lvl, f))
                if (c.permutation or c.outer) and lvl < n - 1:   # innermost order: canonical, as in Timeloop
                    self.permutations.append((lvl, [DIMS.index(d) for d in c.permutation],
                                              [DIMS.index(d) for d in c.outer]))
                continue
            x, y = n + lvl, 2 * n + lvl
            for i, d in enumerate(DIMS):
                if c.x_dims is not None and d not in c.x_dims:
                    forbidden[i].add(x)
                if c.y_dims is not None and d not in c.y_dims:
                    forbidden[i].add(y)
            for d, f in c.factors.items():
                forbidden[DIMS.index(d)] |= {x, y}
                if f > 1:
                    if c.x_dims is not None and d in c.x_dims:
                        on_x = True
                    elif c.y_dims is not None and d in c.y_dims:
                        on_x = False
                    else:
                        on_x = bool(self.hw.fanout[lvl, 0] > 1)
                    pinned[DIMS.index(d)].append((x if on_x else y, f))
        pins: dict[int, int] = {}
        for di, d in enumerate(DIMS):
            free = [i for i in range(self.prime_dim.size) if self.prime_dim[i] == di]
            for code, f in pinned[di]:
                if code not in allowed[di]:
                    raise SpecError("a constrained factor has no such slot (fan-out, dataflow)", source=where,
                                    key=d, value=f)
                for p in prime_factors(f):
                    match = next((i for i in free if self.prime_val[i] == p), None)
                    if match is None:
                        raise SpecError(f"constrained factors of {d} do not divide its size {self.sizes[d]} (Timeloop "
                                        "would factor it imperfectly; residual tiles are not modelled)",
                                        source=where, key=d, value=f)
                    free.remove(match)
                    pins[match] = code
            allowed[di] = [code for code in allowed[di] if code not in forbidden[di]]
        return pins

    def fix_orders(self, order: np.ndarray) -> np.ndarray:
        """``order`` [B, L, 8] with each constrained permutation applied (its dims innermost, in order;
        its ``outer`` dims outermost)."""
        if not self.permutations:
            return order
        order = order.copy()
        for lvl, perm, outer in self.permutations:
            priority = np.argsort(order[:, lvl, :], axis=1).astype(np.float64)
            for i, d in enumerate(perm):
                priority[:, d] = 8 + len(perm) - i
            for i, d in enumerate(outer):
                priority[:, d] = -1 - i
            order[:, lvl, :] = np.argsort(priority, axis=1, kind="stable")
        return order

    def admissible(self, a: MappingArrays) -> np.ndarray:
        """bool[B]: which decoded mappings satisfy the constraints' factor bounds and minimum
        parallelism (all, without such constraints)."""
        ok = np.ones(a.batch, dtype=bool)
        if not self.has_bounds:
            return ok
        lo, hi = self.factor_bounds
        spatial = a.spatial_x * a.spatial_y
        for kind, f in ((0, a.temporal), (1, spatial)):
            ok &= ((f >= lo[kind][None]) & (f <= hi[kind][None])).all(axis=(1, 2))
        if self.min_parallelism > 0:
            used = spatial.prod(axis=2).astype(np.float64)             # [B, L]
            avail = (self.hw.fanout[:, 0] * self.hw.fanout[:, 1]).astype(np.float64)
            ok &= (used / avail[None]).prod(axis=1) >= self.min_parallelism - 1e-12
        return ok

    @property
    def n_primes(self) -> int:
        return int(self.prime_val.size)

    # ---- sampling -----------------------------------------------------------------------------
    def random(self, count: int, rng: np.random.Generator) -> Genomes:
        """``count`` uniformly random genomes."""
        pick = (rng.random((count, self.n_primes)) * self.n_allowed).astype(np.int64)
        slots = self.allowed[np.arange(self.n_primes)[None, :], pick] if self.n_primes else \
            np.zeros((count, 0), dtype=np.int64)
        order = np.argsort(rng.random((count, self.n_levels, 8)), axis=2).astype(np.int64)
        keep = np.broadcast_to(self.hw.keep, (count, self.n_levels, 3)).copy()
        flip = (rng.random(keep.shape) < 0.25) & self.bypassable
        keep[flip] = False
        return Genomes(slots, order, keep)

    def mutate(self, g: Genomes, rng: np.random.Generator, rate: float = 1.0) -> Genomes:
        """Each genome changes one prime's slot, swaps two loops of one level, or flips one keep bit."""
        count = len(g)
        slots, order, keep = g.slots.copy(), g.order.copy(), g.keep.copy()
        kind = rng.random(count)
        rows = np.arange(count)
        if self.n_primes:
            sel = rows[kind < 0.6]
            which = rng.integers(0, self.n_primes, sel.size)
            pick = (rng.random(sel.size) * self.n_allowed[which]).astype(np.int64)
            slots[sel, which] = self.allowed[which, pick]
        sel = rows[(kind >= 0.6) & (kind < 0.9)]
        lvl = rng.integers(0, self.n_levels, sel.size)
        i, j = rng.integers(0, 8, sel.size), rng.integers(0, 8, sel.size)
        a, b = order[sel, lvl, i], order[sel, lvl, j]
        order[sel, lvl, i], order[sel, lvl, j] = b, a
        cand = np.argwhere(self.bypassable)
        if cand.size:
            sel = rows[kind >= 0.9]
            k = cand[rng.integers(0, len(cand), sel.size)]
            keep[sel, k[:, 0], k[:, 1]] = ~keep[sel, k[:, 0], k[:, 1]]
        return Genomes(slots, order, keep)

    def crossover(self, a: Genomes, b: Genomes, rng: np.random.Generator) -> Genomes:
        """Uniform crossover of prime slots per dim; whole-level loop orders and keep bits from either parent."""
        count = len(a)
        take_dim = rng.random((count, 8)) < 0.5
        mask = take_dim[:, self.prime_dim] if self.n_primes else np.zeros((count, 0), dtype=bool)
        slots = np.where(mask, a.slots, b.slots)
        lvl_mask = rng.random((count, self.n_levels, 1)) < 0.5
        order = np.where(lvl_mask, a.order, b.order)
        keep = np.where(lvl_mask, a.keep, b.keep)
        return Genomes(slots, order, keep)

    # ---- decoding -----------------------------------------------------------------------------
    def decode(self, g: Genomes) -> MappingArrays:
        count, n = len(g), self.n_levels
        t = np.empty((count, n, 8), dtype=np.int64)
        sx = np.empty_like(t)
        sy = np.empty_like(t)
        _decode(g.slots, self.prime_dim, self.prime_val, n, t, sx, sy)
        dbuf = np.broadcast_to(self.hw.double_buffered, (count, n))
        return MappingArrays(t, sx, sy, self.fix_orders(g.order), g.keep, np.ascontiguousarray(dbuf))
