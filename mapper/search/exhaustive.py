"""Exhaustive enumeration of a ``MappingSpace`` with symmetry and legality pruning.

* identical prime factors of one dim are interchangeable: their slots are enumerated as
  multisets (non-decreasing codes), not sequences;
* factorizations whose spatial factors exceed a fan-out are dropped before orders are built;
* loop order matters only at levels above the innermost one, and only through, for each
  dataspace, which loops sit inside the innermost loop that indexes it: one permutation
  per distinct signature is kept;
* only dims with a factor > 1 are permuted.

When the last level fans out to the MACs (a spatial factor > 1 there), what the MACs receive
depends on the whole order of the loops (which loop steps next to which, ``mapper/mac_fanout.py``):
then every permutation of every level's nontrivial dims is kept, the innermost level's included.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from acceldse.mapper.legality import RELEVANT
from acceldse.mapper.mapping import MappingArrays
from acceldse.mapper.search.evaluator import Evaluator
from acceldse.mapper.space import MappingSpace
from acceldse.workloads.errors import SpecError


def _groups(space: MappingSpace) -> dict[tuple[int, int], int]:
    """(dim, prime) -> how many of the dim's free (not constraint-pinned) primes have that value."""
    groups: dict[tuple[int, int], int] = {}
    for d, p, pinned in zip(space.prime_dim.tolist(), space.prime_val.tolist(), space.prime_pinned.tolist()):
        if not pinned:
            groups[d, p] = groups.get((d, p), 0) + 1
    return groups


def _factorizations(space: MappingSpace) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    n = space.n_levels
    fixed = np.ones((3, n, 8), dtype=np.int64)
    for i in np.flatnonzero(space.prime_pinned):
        code = int(space.allowed[i, 0])
        fixed[code // n, code % n, space.prime_dim[i]] *= space.prime_val[i]
    groups = _groups(space)
    choices = [list(itertools.combinations_with_replacement(space.allowed_by_dim[d], k))
               for (d, _), k in groups.items()]
    keys = list(groups)
    for combo in itertools.product(*choices):
        t = fixed.copy()
        for (d, p), codes in zip(keys, combo):
            for code in codes:
                t[code // n, code % n, d] *= p
        if (t[1].prod(axis=1) > space.hw.fanout[:, 0]).any() or (t[2].prod(axis=1) > space.hw.fanout[:, 1]).any():
            continue
        yield t[0], t[1], t[2]


def _orders(temporal_row: np.ndarray) -> list[list[int]]:
    """Distinct-signature permutations of one level's nontrivial dims (then the others)."""
    active = [d for d in range(8) if temporal_row[d] > 1]
    rest = [d for d in range(8) if temporal_row[d] == 1]
    seen: set = set()
    out = []
    for perm in itertools.permutations(active):
        sig = []
        for ds in range(3):
            inner = []
            for d in reversed(perm):
                if RELEVANT[ds, d]:
                    break
                inner.append(d)
            sig.append(frozenset(inner) if len(inner) < len(perm) else None)
        key = tuple(sig)
        if key not in seen:
            seen.add(key)
            out.append(list(perm) + rest)
    return out


def _level_orders(t: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> list[list[list[int]]]:
    """The loop orders enumerated at each level of one factorization (module doc)."""
    n = t.shape[0]
    if (sx[n - 1] * sy[n - 1]).prod() > 1:
        return [[[*perm, *(d for d in range(8) if t[lvl, d] == 1)]
                 for perm in itertools.permutations([d for d in range(8) if t[lvl, d] > 1])] for lvl in range(n)]
    return [_orders(t[lvl]) for lvl in range(n - 1)] + [[list(range(8))]]


MAX_WHOLE_SPACE_TILINGS = 1_000_000
"""Most tilings (prime-factor placements, before pruning) an exhaustive search without a budget
enumerates: about a minute at ~20,000 tilings per second."""


def tilings_bound(space: MappingSpace) -> int:
    """Number of prime-factor placements ``_factorizations`` walks (an upper bound of the tilings)."""
    groups = _groups(space)
    return math.prod(math.comb(len(space.allowed_by_dim[d]) + k - 1, k) for (d, _), k in groups.items())


def count(space: MappingSpace) -> int:
    """Number of candidates ``enumerate_space`` yields (after pruning)."""
    total = 0
    keeps = 2 ** int(space.bypassable.sum())
    for t, sx, sy in _factorizations(space):
        total += keeps * math.prod(len(o) for o in _level_orders(t, sx, sy))
    return total


def enumerate_space(space: MappingSpace, *, chunk: int = 65536) -> Iterator[MappingArrays]:
    """Every pruned candidate, in batches of about ``chunk``."""
    n = space.n_levels
    default_keep = space.hw.keep
    flips = np.argwhere(space.bypassable)
    keep_options = []
    for bits in itertools.product((True, False), repeat=len(flips)):
        k = default_keep.copy()
        for (lvl, ds), bit in zip(flips, bits):
            k[lvl, ds] = bit
        keep_options.append(k)
    keeps = np.array(keep_options)
    dbuf = space.hw.double_buffered
    buf: dict[str, list[np.ndarray]] = {"t": [], "sx": [], "sy": [], "o": [], "k": []}
    size = 0
    for t, sx, sy in _factorizations(space):
        per_level = _level_orders(t, sx, sy)
        orders = space.fix_orders(np.array([list(c) for c in itertools.product(*per_level)],
                                           dtype=np.int64))  # [O, n, 8]
        m = len(orders) * len(keeps)
        buf["t"].append(np.broadcast_to(t, (m, n, 8)))
        buf["sx"].append(np.broadcast_to(sx, (m, n, 8)))
        buf["sy"].append(np.broadcast_to(sy, (m, n, 8)))
        buf["o"].append(np.repeat(orders, len(keeps), axis=0))
        buf["k"].append(np.tile(keeps, (len(orders), 1, 1)))
        size += m
        if size >= chunk:
            yield _flush(buf, dbuf)
            size = 0
    if size:
        yield _flush(buf, dbuf)


def _flush(buf: dict[str, list[np.ndarray]], dbuf: np.ndarray) -> MappingArrays:
    arrays = {k: np.ascontiguousarray(np.concatenate(v)) for k, v in buf.items()}
    for v in buf.values():
        v.clear()
    b = arrays["t"].shape[0]
    return MappingArrays(arrays["t"], arrays["sx"], arrays["sy"], arrays["o"], arrays["k"],
                         np.ascontiguousarray(np.broadcast_to(dbuf, (b, dbuf.size))))


def exhaustive(ev: Evaluator, budget: int | None = None, rng: object = None) -> None:
    """Evaluate every candidate (``budget`` caps the count; ``rng`` is unused).

    Raises:
        SpecError: no budget and a space of more than ``MAX_WHOLE_SPACE_TILINGS`` tilings.
    """
    if budget is None and (size := tilings_bound(ev.space)) > MAX_WHOLE_SPACE_TILINGS:
        raise SpecError(f"mapping space too large to enumerate whole ({size:,} tilings > the limit "
                        f"{MAX_WHOLE_SPACE_TILINGS:,})", source="search", key="budget", value=0,
                        accepted="a budget of evaluations (budget=N), another search, or a smaller layer")
    for arrays in enumerate_space(ev.space):
        if budget is not None and ev.evaluations >= budget:
            return
        if budget is not None and ev.evaluations + arrays.batch > budget:
            arrays = arrays.take(slice(0, budget - ev.evaluations))
        ev.arrays(arrays)
