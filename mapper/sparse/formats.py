"""Sparseloop's per-rank representation formats and the metadata each keeps.

A tensor tile at a storage level is a fibertree; each rank (``rank 0`` the innermost) has a
format. Per rank and tile, a format keeps *metadata units* and *payload units* (counted in words
of ``metadata_word_bits`` / ``payload_word_bits``):

* ``UOP`` (uncompressed offset pair): ``fiber_shape + 1`` payloads (offsets) per non-empty fibre;
  no metadata. Does not compress the rank.
* ``CP`` (coordinate payload): one coordinate per non-zero coordinate of the fibre
  (``ceil(fiber_shape x P(sub-tile non-empty))`` per non-empty fibre), as many payloads.
* ``RLE`` (run-length encoding): as CP without the rounding up (expected run lengths).
* ``B`` (bitmask): one metadata bit-word per coordinate of each non-empty fibre, one payload per
  non-zero coordinate.
* ``UB`` (uncompressed bitmask) is refused by the loader (not modelled).

The innermost non-empty rank's payloads are the data themselves and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FORMATS = ("UOP", "CP", "RLE", "B")
COMPRESSED = {"UOP": False, "CP": True, "RLE": True, "B": True}


@dataclass(frozen=True)
class RankFormat:
    """One rank's format; word bits ``None`` take the level's ``metadata_datawidth``; ``flattened``:
    groups of problem ranks whose loops this rank takes together (Sparseloop's ``flattened_rankIDs``)."""

    name: str
    metadata_word_bits: int | None = None
    payload_word_bits: int | None = None
    flattened: tuple[tuple[str, ...], ...] = ()

    @property
    def compressed(self) -> bool:
        return COMPRESSED[self.name]


@dataclass
class RankOccupancy:
    """Metadata and payload units of one rank (and their word bits); ``empty`` ranks hold nothing."""

    metadata_units: Any = 0.0
    payload_units: Any = 0.0
    metadata_word_bits: int = 0
    payload_word_bits: int = 0
    empty: bool = False


def rank_occupancy(name: str, *, fibers: float, fiber_shape: int, p_empty_fiber: Any,
                   p_empty_coordinate: Any) -> tuple[Any, Any]:
    """(metadata units, payload units) of one rank: ``fibers`` fibres at most, each of
    ``fiber_shape`` coordinates, a fibre empty with ``p_empty_fiber`` and a coordinate's
    sub-tile empty with ``p_empty_coordinate`` (floats, or arrays element-wise)."""
    nonempty = fibers * (1 - p_empty_fiber)
    if name == "UOP":
        return 0.0, nonempty * (fiber_shape + 1)
    if name == "CP":
        units = np.ceil(fiber_shape * (1 - p_empty_coordinate)) * nonempty
        return units, units
    if name == "RLE":
        units = fiber_shape * (1 - p_empty_coordinate) * nonempty
        return units, units
    if name == "B":
        return nonempty * fiber_shape, nonempty * np.ceil(fiber_shape * (1 - p_empty_coordinate))
    raise ValueError(f"unknown rank format {name!r}; accepted: {', '.join(FORMATS)}")
