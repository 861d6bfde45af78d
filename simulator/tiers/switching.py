"""Composition-of-experts model switching on a tiered chip: bytes moved / tier bandwidth.

Each expert (``params`` parameters of ``dtype``) is placed by ``simulator.tiers.placement.place`` in
the closest tier with room (SRAM -> HBM -> DDR on an SN40L-like socket). Switching to an
expert streams its weights out of the tier it lives in, so the switch time is
``expert_bytes / (tier read bandwidth x clock)``: 8B bf16 parameters = 16 GB from HBM at
1.6 TB/s = 0.01 s; from DDR at 100 GB/s = 0.16 s. ``sockets`` sockets act as one device
(tensor-parallel): capacities and bandwidths scale by ``sockets``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pandas as pd

from acceldse.simulator.specs.accelerator import Accelerator, MemoryTier
from acceldse.simulator.tiers.placement import Placement, TensorRequest, place, transfer_seconds
from acceldse.workloads.errors import SpecError, require_float, require_int

DTYPE_BYTES: dict[str, float] = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0,
                                 "int4": 0.5}
"""Bytes per parameter of each weight type."""

MAX_SOCKETS = 1024
"""Most sockets acting as one device (``sockets`` is refused past it)."""


@dataclass(frozen=True)
class SwitchStudy:
    """Result of ``expert_switching``.

    Attributes:
        hardware: accelerator name. sockets: sockets acting as one device.
        expert_bytes: bytes of one expert. experts: how many.
        placement: where each expert lives.
        table: one row per tier (``tier``, ``experts``, ``read_gb_per_s``, ``switch_seconds``).
        mean_switch_seconds: switch time averaged over experts picked uniformly.
    """

    hardware: str
    sockets: int
    expert_bytes: int
    experts: int
    placement: Placement
    table: pd.DataFrame
    mean_switch_seconds: float


def dtype_bytes(dtype: str) -> float:
    """Bytes per parameter (``SpecError`` for an unknown type)."""
    key = str(dtype).lower()
    if key not in DTYPE_BYTES:
        raise SpecError("unknown dtype", source="dtype", value=dtype, accepted=" | ".join(DTYPE_BYTES))
    return DTYPE_BYTES[key]


def scale_tiers(acc: Accelerator, sockets: int) -> tuple[MemoryTier, ...]:
    """The tiers of ``sockets`` sockets acting as one: capacities and bandwidths times ``sockets``."""
    return tuple(dataclasses.replace(t, capacity_bytes=t.capacity_bytes * sockets,
                                     read_bw_bytes_per_cycle=t.read_bw_bytes_per_cycle * sockets,
                                     write_bw_bytes_per_cycle=t.write_bw_bytes_per_cycle * sockets)
                 for t in acc.tiers)


def _slots(tiers: tuple[MemoryTier, ...], expert_bytes: int) -> int:
    return sum(t.capacity_bytes // expert_bytes for t in tiers)


def fewest_sockets(acc: Accelerator, expert_bytes: int, experts: int) -> int:
    """The fewest sockets whose tiers hold every expert (``SpecError`` past ``MAX_SOCKETS``)."""
    for s in range(1, MAX_SOCKETS + 1):
        if _slots(scale_tiers(acc, s), expert_bytes) >= experts:
            return s
    raise SpecError("the experts do not fit even on the largest system", source="experts", value=experts,
                    accepted=f"at most {_slots(scale_tiers(acc, MAX_SOCKETS), expert_bytes)} experts")


def expert_switching(acc: Accelerator, params: float, dtype: str = "bf16", experts: int = 150,
                     sockets: int | None = None) -> SwitchStudy:
    """Place ``experts`` experts of ``params`` parameters and time switching to each.

    Args:
        acc: the chip (one socket), e.g. the ``sn40l-like`` preset.
        params: parameters per expert (e.g. ``8e9``).
        dtype: weight type (``bf16`` ...).
        experts: how many experts the composition holds.
        sockets: sockets acting as one device (at most ``MAX_SOCKETS``); ``None`` = the fewest that hold
            every expert.
    """
    p = require_float(params, key="params", strictly_positive=True)
    n = require_int(experts, key="experts")
    expert_bytes = math.ceil(p * dtype_bytes(dtype))
    s = (fewest_sockets(acc, expert_bytes, n) if sockets is None
         else require_int(sockets, key="sockets", maximum=MAX_SOCKETS))
    tiers = scale_tiers(acc, s)
    placement = place([TensorRequest(f"expert_{i}", expert_bytes) for i in range(n)], tiers)
    rows = []
    for t in tiers:
        count = len(placement.tensors_in(t.name))
        rows.append({"tier": t.name, "kind": t.kind, "experts": count, "capacity_bytes": t.capacity_bytes,
                     "read_gb_per_s": t.read_bw_bytes_per_cycle * acc.clock_mhz / 1e3,
                     "switch_seconds": transfer_seconds(expert_bytes, t, acc.clock_mhz)})
    table = pd.DataFrame(rows)
    mean = float((table["experts"] * table["switch_seconds"]).sum() / n)
    return SwitchStudy(hardware=acc.name, sockets=s, expert_bytes=expert_bytes, experts=n, placement=placement,
                       table=table, mean_switch_seconds=mean)


__all__ = ["DTYPE_BYTES", "SwitchStudy", "dtype_bytes", "expert_switching", "fewest_sockets", "scale_tiers"]
