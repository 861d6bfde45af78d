"""Shared helpers: the toy 3-level hierarchy (``toy_2x2`` preset) for exhaustive / reference checks."""

from __future__ import annotations

from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy


def tiny_hierarchy() -> Hierarchy:
    """DRAM -> 96-word buffer -> 2x2 PEs (per-dataspace registers) -> 2 MACs each."""
    return load_hierarchy("toy_2x2")
