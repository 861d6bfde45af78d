"""Memory tiers and tensor placement: the closest tier with room, spilling outward.

A ``Placement`` puts named tensors into the tiers of an ``Accelerator`` (or any ordered
sequence of ``MemoryTier``), closest to the compute first: registers -> SRAM -> HBM -> DDR,
any number of tiers. Each tensor goes to the closest tier (at or beyond the one it may
start from) that still has enough free bytes; otherwise it spills outward. A tensor larger
than every tier it may use, or one that no longer fits anywhere, is a ``SpecError`` naming
the tensor, its size and the tiers tried - never a silent spill to nowhere.

Sizes are bytes; times are cycles of the accelerator clock (``transfer_cycles``) or seconds
(``transfer_seconds``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from acceldse.simulator.specs.accelerator import Accelerator, MemoryTier
from acceldse.workloads.errors import SpecError

SOURCE = "placement"


@dataclass(frozen=True)
class TensorRequest:
    """One tensor to place.

    Attributes:
        name: unique tensor name (``expert_3``, ``h.0.mlp.fc1:out``).
        size_bytes: bytes the tensor occupies (>= 1).
        tier: pin the tensor to this tier (no spill); ``None`` = closest tier with room.
        not_closer_than: never place closer to the compute than this tier (``None`` = any tier).
    """

    name: str
    size_bytes: int
    tier: str | None = None
    not_closer_than: str | None = None


@dataclass(frozen=True)
class Placement:
    """Where each tensor lives and how full each tier is.

    Attributes:
        tiers: the tiers, closest to the compute first.
        where: tensor name -> tier name.
        sizes_bytes: tensor name -> bytes.
        used_bytes: tier name -> bytes placed in it.
    """

    tiers: tuple[MemoryTier, ...]
    where: dict[str, str] = field(default_factory=dict)
    sizes_bytes: dict[str, int] = field(default_factory=dict)
    used_bytes: dict[str, int] = field(default_factory=dict)

    def tier_of(self, tensor: str) -> MemoryTier:
        """The tier holding ``tensor`` (``SpecError`` if it was never placed)."""
        if tensor not in self.where:
            raise SpecError("tensor was not placed", source=SOURCE, key="tensor", value=tensor,
                            accepted=", ".join(self.where) or "a placed tensor")
        name = self.where[tensor]
        return next(t for t in self.tiers if t.name == name)

    def free_bytes(self, tier: str) -> int:
        t = _tier_by_name(self.tiers, tier, key="tier")
        return t.capacity_bytes - self.used_bytes.get(t.name, 0)

    def tensors_in(self, tier: str) -> list[str]:
        _tier_by_name(self.tiers, tier, key="tier")
        return [n for n, t in self.where.items() if t == tier]

    def summary(self) -> list[dict[str, object]]:
        """One row per tier: tensors, used and free bytes."""
        return [{"tier": t.name, "kind": t.kind, "tensors": len(self.tensors_in(t.name)),
                 "used_bytes": self.used_bytes.get(t.name, 0), "capacity_bytes": t.capacity_bytes,
                 "free_bytes": self.free_bytes(t.name)} for t in self.tiers]


def _tiers_of(target: Accelerator | Sequence[MemoryTier]) -> tuple[MemoryTier, ...]:
    tiers = tuple(target.tiers) if isinstance(target, Accelerator) else tuple(target)
    if not tiers or not all(isinstance(t, MemoryTier) for t in tiers):
        raise SpecError("needs at least one memory tier", source=SOURCE, key="tiers", value=tiers,
                        accepted="an Accelerator or a sequence of MemoryTier, closest to the compute first")
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise SpecError("tier names must be unique", source=SOURCE, key="tiers", value=names)
    return tiers


def _tier_by_name(tiers: Sequence[MemoryTier], name: str, *, key: str) -> MemoryTier:
    for t in tiers:
        if t.name == name:
            return t
    raise SpecError("unknown memory tier", source=SOURCE, key=key, value=name,
                    accepted=", ".join(t.name for t in tiers))


def _check_request(req: object, i: int, seen: set[str]) -> TensorRequest:
    key = f"tensors[{i}]"
    if not isinstance(req, TensorRequest):
        raise SpecError("not a TensorRequest", source=SOURCE, key=key, value=type(req).__name__,
                        accepted="TensorRequest(name, size_bytes, tier=None, not_closer_than=None)")
    if not isinstance(req.name, str) or not req.name:
        raise SpecError("tensor name must be a non-empty string", source=SOURCE, key=f"{key}.name", value=req.name)
    if req.name in seen:
        raise SpecError("duplicate tensor name", source=SOURCE, key=f"{key}.name", value=req.name,
                        accepted="unique names")
    size = req.size_bytes
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise SpecError(f"tensor {req.name!r}: size must be a whole number of bytes >= 1", source=SOURCE,
                        key=f"{key}.size_bytes", value=size, accepted="an integer >= 1")
    return req


def place(tensors: Iterable[TensorRequest], target: Accelerator | Sequence[MemoryTier], *,
          reserved_bytes: dict[str, int] | None = None) -> Placement:
    """Place ``tensors`` in order, each in the closest tier with room (spilling outward).

    Args:
        tensors: the requests, placed first come first served.
        target: an ``Accelerator`` or its tiers (closest to the compute first).
        reserved_bytes: tier name -> bytes already taken (working buffers, other tensors).

    Raises:
        SpecError: a malformed request, an unknown tier, a tensor larger than every tier it
            may use, or a tensor that fits no tier's remaining free space.
    """
    tiers = _tiers_of(target)
    used = {t.name: 0 for t in tiers}
    for name, nbytes in (reserved_bytes or {}).items():
        tier = _tier_by_name(tiers, name, key="reserved_bytes")
        if isinstance(nbytes, bool) or not isinstance(nbytes, int) or not 0 <= nbytes <= tier.capacity_bytes:
            raise SpecError("reserved bytes out of range", source=SOURCE, key=f"reserved_bytes.{name}", value=nbytes,
                            accepted=f"an integer in [0, {tier.capacity_bytes}]")
        used[name] = nbytes
    where: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for i, raw in enumerate(tensors):
        req = _check_request(raw, i, set(where))
        candidates = _candidates(tiers, req, i)
        biggest = max(t.capacity_bytes for t in candidates)
        if req.size_bytes > biggest:
            raise SpecError(f"tensor {req.name!r} ({_fmt(req.size_bytes)}) is larger than every tier it may use",
                            source=SOURCE, key=f"tensors[{i}].size_bytes", value=req.size_bytes,
                            accepted="at most " + ", ".join(f"{t.name} {_fmt(t.capacity_bytes)}" for t in candidates))
        chosen = next((t for t in candidates if t.capacity_bytes - used[t.name] >= req.size_bytes), None)
        if chosen is None:
            raise SpecError(f"tensor {req.name!r} ({_fmt(req.size_bytes)}) fits no tier's free space", source=SOURCE,
                            key=f"tensors[{i}].size_bytes", value=req.size_bytes,
                            accepted="free: " + ", ".join(f"{t.name} {_fmt(t.capacity_bytes - used[t.name])}"
                                                          for t in candidates))
        used[chosen.name] += req.size_bytes
        where[req.name] = chosen.name
        sizes[req.name] = req.size_bytes
    return Placement(tiers=tiers, where=where, sizes_bytes=sizes, used_bytes=used)


def _candidates(tiers: tuple[MemoryTier, ...], req: TensorRequest, i: int) -> list[MemoryTier]:
    if req.tier is not None:
        return [_tier_by_name(tiers, req.tier, key=f"tensors[{i}].tier")]
    if req.not_closer_than is not None:
        first = _tier_by_name(tiers, req.not_closer_than, key=f"tensors[{i}].not_closer_than")
        return list(tiers[tiers.index(first):])
    return list(tiers)


def _fmt(nbytes: float) -> str:
    for unit, factor in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if nbytes >= factor:
            return f"{nbytes / factor:.3g} {unit}"
    return f"{int(nbytes)} B"


def transfer_cycles(nbytes: int, tier: MemoryTier, *, write: bool = False, latency: bool = True) -> int:
    """Cycles to move ``nbytes`` through ``tier``'s port: ceil(bytes / bandwidth) (+ latency)."""
    if nbytes <= 0:
        return 0
    bw = tier.write_bw_bytes_per_cycle if write else tier.read_bw_bytes_per_cycle
    return math.ceil(nbytes / bw) + (tier.latency_cycles if latency else 0)


def transfer_seconds(nbytes: float, tier: MemoryTier, clock_mhz: float, *, write: bool = False) -> float:
    """Seconds to stream ``nbytes`` at ``tier``'s bandwidth: bytes / (bytes per cycle x clock)."""
    bw = tier.write_bw_bytes_per_cycle if write else tier.read_bw_bytes_per_cycle
    return nbytes / (bw * clock_mhz * 1e6)


__all__ = ["Placement", "TensorRequest", "place", "transfer_cycles", "transfer_seconds"]
