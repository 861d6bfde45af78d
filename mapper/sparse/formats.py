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

import math
from dataclasses import dataclass

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

    metadata_units: float = 0.0
    payload_units: float = 0.0
    metadata_word_bits: int = 0
    payload_word_bits: int = 0
    empty: bool = False

    def scaled(self, p: float) -> RankOccupancy:
        return RankOccupancy(self.metadata_units * p, self.payload_units * p, self.metadata_word_bits,
                             self.payload_word_bits, self.empty)

    def add(self, other: RankOccupancy) -> None:
        self.metadata_units += other.metadata_units
        self.payload_units += other.payload_units


def rank_occupancy(name: str, *, fibers: float, fiber_shape: int, p_empty_fiber: float,
                   p_empty_coordinate: float) -> tuple[float, float]:
    """(metadata units, payload units) of one rank: ``fibers`` fibres at most, each of
    ``fiber_shape`` coordinates, a fibre empty with ``p_empty_fiber`` and a coordinate's
    sub-tile empty with ``p_empty_coordinate``."""
    nonempty = fibers * (1 - p_empty_fiber)
    if name == "UOP":
        return 0.0, nonempty * (fiber_shape + 1)
    if name == "CP":
        units = math.ceil(fiber_shape * (1 - p_empty_coordinate)) * nonempty
        return units, units
    if name == "RLE":
        units = fiber_shape * (1 - p_empty_coordinate) * nonempty
        return units, units
    if name == "B":
        return nonempty * fiber_shape, nonempty * math.ceil(fiber_shape * (1 - p_empty_coordinate))
    raise ValueError(f"unknown rank format {name!r}; accepted: {', '.join(FORMATS)}")
