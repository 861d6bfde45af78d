"""Shared fixtures: a tiny 3-level hierarchy and small layers for exhaustive / reference checks."""

from __future__ import annotations

import pytest

from simulator.hierarchy import Hierarchy
from simulator.hierarchy_loader import build_hierarchy

TINY_YAML = {
    "version": 1, "name": "tiny",
    "levels": [
        {"name": "DRAM", "block_size": 4, "energy_pj": {"read": 100.0, "fill": 100.0, "update": 120.0},
         "read_bandwidth_words_per_cycle": 2, "write_bandwidth_words_per_cycle": 2},
        {"name": "buf", "capacity_words": 96, "block_size": 2, "energy_pj": {"read": 6.0, "fill": 5.0, "update": 5.0},
         "read_bandwidth_words_per_cycle": 8, "write_bandwidth_words_per_cycle": 4, "leakage_pj_per_cycle": 0.5},
        {"name": "reg", "instances": 4, "mesh_x": 2, "mesh_y": 2,
         "capacity_words": {"inputs": 6, "weights": 8, "outputs": 4},
         "energy_pj": {"inputs": {"read": 0.3, "fill": 0.2}, "weights": {"read": 0.5, "fill": 0.4},
                       "outputs": {"read": 0.25, "update": 0.3}}},
    ],
    "compute": {"energy_pj": 0.2, "instances": 2, "mesh_x": 2},
}


def tiny_hierarchy() -> Hierarchy:
    return build_hierarchy(TINY_YAML, source="<tiny>")


@pytest.fixture(scope="session")
def tiny() -> Hierarchy:
    return tiny_hierarchy()
