"""timeloopfe's iteration-constraint macros (``factors_only``, ``no_iteration_over_dataspaces``,
``must_iterate_over_dataspaces``, ``maximize_dims``, ``maximize_dims_capacity``), expanded into plain
``factors`` as timeloopfe's ``ConstraintMacroProcessor`` does (``mapper.timeloop.v4`` calls it)."""

from __future__ import annotations

from typing import Any

from acceldse.workloads.errors import SpecError

MACROS = ("factors_only", "no_iteration_over_dataspaces", "must_iterate_over_dataspaces", "maximize_dims",
          "maximize_dims_capacity")


def expand_macros(targets: list[dict[str, Any]], problem: Any, *, source: str) -> None:
    """Expand timeloopfe's iteration-constraint macros in place into plain ``factors``, as its
    ``ConstraintMacroProcessor`` does: ``factors_only`` (the listed factors, every other rank 1),
    ``no_iteration_over_dataspaces`` (the ranks those tensors project on: 1),
    ``must_iterate_over_dataspaces`` (ranks none of them projects on: 1), and ``maximize_dims``:
    per group of ranks, in order (spatial constraints bottom-up, then temporal ones), the greedy
    largest use of the capacity (a spatial level's fan-out, else ``maximize_dims_capacity``) left by
    the constraint's fixed and minimum factors, over what of each rank no fixed factor already takes."""
    if not any(isinstance(t, dict) and any(m in t for m in MACROS) for t in targets):
        return
    shape = problem.get("shape") if isinstance(problem, dict) else None
    instance = problem.get("instance") if isinstance(problem, dict) else None
    if not isinstance(shape, dict) or not isinstance(instance, dict):
        raise SpecError("timeloopfe's constraint macros need the problem", source=source, key="constraints",
                        accepted="a problem with shape and instance")
    dims = [d for d in shape.get("dimensions") or [] if isinstance(d, str)]
    raw_spaces = shape.get("data_spaces")
    spaces: list[Any] = raw_spaces if isinstance(raw_spaces, list) else []
    ranks_of = {ds["name"]: set(_strings(ds.get("projection"))) & set(dims)
                for ds in spaces if isinstance(ds, dict) and isinstance(ds.get("name"), str)}
    iterations = [t for t in targets if isinstance(t, dict) and t.get("type") in ("temporal", "spatial")]
    for t in iterations:
        factors = _factor_list(t, source=source)
        if "factors_only" in t:
            only = _factor_list({"factors": t.pop("factors_only")}, source=source)
            factors += only
            factors += [(d, "=", 1) for d in dims if d not in {f[0] for f in factors}]
        for macro in ("no_iteration_over_dataspaces", "must_iterate_over_dataspaces"):
            if macro not in t:
                continue
            names = t.pop(macro) or []
            if not isinstance(names, list) or any(not isinstance(n, str) or n not in ranks_of for n in names):
                raise SpecError("must list tensors of the problem", source=source, key=f"{t.get('target')}.{macro}",
                                value=names, accepted=", ".join(map(str, ranks_of)))
            union = set().union(*(ranks_of[n] for n in names)) if names else set()
            ones = union if macro.startswith("no_") else set(dims) - union
            factors += [(d, "=", 1) for d in dims if d in ones and d not in {f[0] for f in factors}]
        t["factors"] = factors
    size = {d: instance.get(d, 1) for d in dims}
    for d, n in size.items():
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 2**40:
            raise SpecError("rank size must be a positive integer (at most 2^40)", source=source,
                            key=f"problem.instance.{d}", value=n)
    left = dict(size)
    for t in iterations:
        for d, op, v in t["factors"]:
            if op == "=" and d in left and (v or size[d]) > 0:
                left[d] = -(-left[d] // (v or size[d]))
    order = [t for t in reversed(iterations) if t["type"] == "spatial"] + \
            [t for t in reversed(iterations) if t["type"] == "temporal"]
    for t in order:
        groups = t.pop("maximize_dims", None)
        capacity0 = t.pop("maximize_dims_capacity", None)
        if not groups:
            continue
        where = f"{t.get('target')}.maximize_dims"
        if isinstance(capacity0, bool) or not isinstance(capacity0, int) or capacity0 < 1:
            raise SpecError("maximize_dims needs maximize_dims_capacity (a positive integer) on a temporal "
                            "constraint", source=source, key=where, value=capacity0)
        groups = [groups] if isinstance(groups, list) and all(isinstance(g, str) for g in groups) else groups
        if not isinstance(groups, list) or not all(isinstance(g, list) and all(isinstance(d, str) for d in g)
                                                   for g in groups):
            raise SpecError("must be a list of ranks or a list of lists of ranks", source=source, key=where,
                            value=groups)
        for group in groups:
            capacity = capacity0
            for d, op, v in t["factors"]:
                if op in ("=", ">=") and (v or size.get(d, 0)) > 0:
                    capacity //= v or size[d]
            named = {f[0] for f in t["factors"]}
            for d in group:
                if d in named or d not in dims:
                    raise SpecError("cannot maximize a rank that is constrained already or not in the problem",
                                    source=source, key=where, value=d, accepted=", ".join(x for x in dims
                                                                                      if x not in named))
            chosen: dict[str, int] = {}
            for d, _, hi in _greedy({d: left[d] for d in group}, capacity)[0]:
                chosen[d] = chosen.get(d, 1) * hi
            for d in group:
                t["factors"].append((d, "=", chosen.get(d, 1)))
                left[d] = -(-left[d] // chosen.get(d, 1))
    for t in iterations:
        t["factors"] = ",".join(f"{d}{op}{v}" for d, op, v in t["factors"])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _factor_list(t: dict[str, Any], *, source: str) -> list[tuple[str, str, int]]:
    """A constraint's ``factors`` as (rank, operator, value), timeloopfe's ``splitfactor`` forms."""
    raw = t.get("factors") or []
    items = raw if isinstance(raw, list) else [x for x in str(raw).replace(" ", ",").split(",") if x]
    out = []
    for item in items:
        text = str(item).replace(" ", "")
        for op in ("<=", ">=", "="):
            if op in text:
                rank, _, value = text.partition(op)
                if value.isdigit() and rank:
                    out.append((rank, op, int(value)))
                    break
        else:
            raise SpecError("a factor is written X=n, X<=n or X>=n (timeloopfe)", source=source,
                            key=f"{t.get('target')}.factors", value=item)
    return out


def _greedy(sizes: dict[str, int], capacity: int) -> tuple[list[tuple[str, int, int]], float]:
    """timeloopfe's greedy allocation of ``capacity`` over ``sizes``: the (rank, low, high) steps of
    the best utilisation found (whole prime factors, or one imperfect split of a rank above the
    capacity), earlier ranks and smaller primes first on ties."""
    best: list[tuple[str, int, int]] = []
    best_util = 1.0
    if capacity <= 1:
        return best, best_util
    for rank, size in sizes.items():
        if size > capacity:
            rounds = -(-size // capacity)
            alloc = -(-size // rounds)
            util = (alloc * (rounds - 1) + size % alloc) / rounds
            if util > best_util:
                best, best_util = [(rank, size % alloc, alloc)], util
        for p in sorted(set(_primes(size))):
            if p > capacity:
                continue
            sub, util = _greedy({**sizes, rank: size // p}, capacity // p)
            if util * p > best_util:
                best, best_util = [(rank, p, p), *sub], util * p
    return best, best_util


def _primes(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return [*out, n] if n > 1 else out
