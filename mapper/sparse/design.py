"""The inputs and outputs of Sparseloop's analysis (``analysis.analyse``), and the ERT action names
Sparseloop prices each of its actions with.

Levels are indexed innermost first (Timeloop's storage order); counts are per instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from acceldse.mapper.sparse.density import DensityModel, FixedStructured
from acceldse.mapper.sparse.formats import RankFormat
from acceldse.workloads.einsum import Tensor

ACCESSES = ("read", "fill", "update")
KINDS = ("random", "gated", "skipped")
ERT_FALLBACKS = {
    "random_read": ("random_read", "read"), "gated_read": ("gated_read",),
    "skipped_read": ("skipped_read", "gated_read"),
    "random_fill": ("random_fill", "random_write", "fill", "write"), "gated_fill": ("gated_fill", "gated_write"),
    "skipped_fill": ("skipped_fill", "skipped_write", "gated_fill", "gated_write"),
    "random_update": ("random_update", "random_write", "update", "write"),
    "gated_update": ("gated_update", "gated_write"),
    "skipped_update": ("skipped_update", "skipped_write", "gated_update", "gated_write"),
    "random_metadata_read": ("random_metadata_read", "metadata_read"),
    "gated_metadata_read": ("gated_metadata_read",),
    "skipped_metadata_read": ("skipped_metadata_read", "gated_metadata_read"),
    "random_metadata_fill": ("random_metadata_fill", "random_metadata_write", "metadata_fill", "metadata_write"),
    "gated_metadata_fill": ("gated_metadata_fill", "gated_metadata_write"),
    "skipped_metadata_fill": ("skipped_metadata_fill", "skipped_metadata_write", "gated_metadata_fill",
                              "gated_metadata_write"),
    "random_metadata_update": ("random_metadata_update", "random_metadata_write", "metadata_update",
                               "metadata_write"),
    "gated_metadata_update": ("gated_metadata_update", "gated_metadata_write"),
    "skipped_metadata_update": ("skipped_metadata_update", "skipped_metadata_write", "gated_metadata_update",
                                "gated_metadata_write"),
    "decompression_count": ("decompression_count",), "compression_count": ("compression_count",),
    "leak": ("leak",),
}
"""Sparseloop action -> the ERT action names it takes its energy from, first found wins."""
COMPUTE_FALLBACKS = {
    "random_compute": ("mac_random", "mult_random", "mac", "mult", "compute"),
    "gated_compute": ("mac_gated", "mult_gated", "compute_gated", "mac", "mult", "compute"),
    "skipped_compute": ("mac_skipped", "mult_skipped", "compute_skipped", "mac_gated", "mult_gated",
                        "compute_gated", "mac", "mult", "compute"),
}


def action_energies(ert: dict[str, float]) -> dict[str, float]:
    """Energy (pJ per vector access) of every Sparseloop storage action from one component's ERT
    actions: a missing data read / fill / update costs the largest of them (Timeloop's vector
    access energy), any other missing action 0."""
    data = [ert[a] for a in ("read", "write", "update", "random_read", "random_fill", "random_update",
                             "fill", "random_write") if a in ert]
    out = {}
    for op, names in ERT_FALLBACKS.items():
        found = next((ert[n] for n in names if n in ert), None)
        if found is None:
            found = max(data, default=0.0) if op in ("random_read", "random_fill", "random_update") else 0.0
        out[op] = found
    return out


def compute_energies(ert: dict[str, float]) -> dict[str, float]:
    """Energy (pJ) of an actual / gated / skipped compute from the MAC's ERT actions."""
    return {op: next((ert[n] for n in names if n in ert), 0.0) for op, names in COMPUTE_FALLBACKS.items()}


class Loop(NamedTuple):
    """One loop of the mapping: a problem rank, its bound and whether it is a spatial fan-out (a tuple:
    the analysis keys its caches on loop nests, and tuples hash fast)."""

    rank: str
    bound: int
    spatial: bool = False


@dataclass(frozen=True)
class StorageSpec:
    """One storage level as Sparseloop sees it (``loops``: its subnest, innermost first)."""

    name: str
    loops: tuple[Loop, ...]
    word_bits: int
    block_size: int = 1
    metadata_word_bits: int = 0
    metadata_storage_width: int = 0
    read_bandwidth: float | None = None
    write_bandwidth: float | None = None
    shared_bandwidth: float | None = None
    energy_pj: dict[str, float] = field(default_factory=dict)


def with_loops(spec: StorageSpec, loops: tuple[Loop, ...]) -> StorageSpec:
    """``spec`` with ``loops`` (``dataclasses.replace`` without its per-call introspection: a search builds
    one per level and mapping)."""
    new = object.__new__(StorageSpec)
    new.__dict__.update(spec.__dict__)
    new.__dict__["loops"] = loops
    return new


@dataclass(frozen=True)
class SafSpec:
    """A storage action optimisation: ``kind`` (``gate``/``skip``) reads of ``target`` at level
    ``level`` when every one of ``condition_on``'s tiles is empty; one group may offer several
    (target, condition_on) options, of which the one saving most energy is taken."""

    level: int
    kind: str
    options: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class DenseCounts:
    """A tensor's dense (algorithmic) tile size and per-instance accesses at one level."""

    shape: int
    reads: int
    fills: int
    updates: int
    instances: int = 1


@dataclass(frozen=True)
class SparseDesign:
    """Everything ``analyse`` needs. Levels are indexed innermost first (Timeloop's storage order)."""

    tensors: tuple[Tensor, ...]
    densities: dict[str, DensityModel]
    levels: tuple[StorageSpec, ...]
    dense: dict[tuple[int, str], DenseCounts]
    formats: dict[tuple[int, str], tuple[RankFormat, ...]]
    safs: tuple[SafSpec, ...]
    algorithmic_computes: int
    compute_energy_pj: dict[str, float]
    compute_instances: int = 1
    gate_on_zero_operand: bool = False
    skip_on_not_aligned_operands: bool = False
    leakage_pj_per_cycle: dict[int, float] = field(default_factory=dict)
    cache: dict[Any, Any] | None = field(default=None, compare=False, repr=False)
    """Where ``analyse`` keeps what it derives from a tile's loops alone (one dict per problem, shared by
    the designs of many mappings: ``mapper.timeloop.sparse_model``); ``None``: nothing kept."""


@dataclass
class TensorStats:
    """Sparseloop's statistics of one tensor at one level (counts per instance; ``energy_pj`` total).

    ``accesses[(kind, action)]`` with kind in random (actual) / gated / skipped and action in
    read / fill / update; ``format_accesses[(kind, action)]`` per rank (rank 0 innermost) a
    (metadata, payload) pair; ``metadata_capacity`` the same pairs for the largest tile
    (``metadata_capacity_bits`` its bits, as Timeloop checks them against the metadata storage)."""

    level: str
    tensor: str
    shape: int
    algorithmic: dict[str, int]
    accesses: dict[tuple[str, str], int]
    format_accesses: dict[tuple[str, str], list[tuple[int, int]]]
    data_capacity: int
    metadata_capacity: list[tuple[int, int]]
    formats: tuple[str, ...]
    energy_pj: float = 0.0
    metadata_capacity_bits: int = 0


@dataclass(frozen=True)
class SparseResult:
    """The outcome of ``analyse``: per (level, tensor) statistics, computes, cycles and energy (pJ)."""

    tensors: dict[tuple[str, str], TensorStats]
    algorithmic_computes: int
    actual_computes: int
    gated_computes: int
    skipped_computes: int
    compute_cycles: int
    level_cycles: dict[str, int]
    cycles: int
    mac_energy_pj: float
    leakage_pj_by_level: dict[str, float]

    @property
    def energy_pj(self) -> float:
        return self.mac_energy_pj + sum(t.energy_pj for t in self.tensors.values()) + \
            sum(self.leakage_pj_by_level.values())


def density_of(design: SparseDesign, name: str) -> DensityModel:
    """The density model of tensor ``name`` (dense: fixed 1.0)."""
    return design.densities.get(name, FixedStructured(1.0))
