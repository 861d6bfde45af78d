"""The mapper: mapping space, legality, batched cost model, search and network-level assignment.

Public API (imported lazily so ``mapper.fpga`` stays light)::

    from acceldse.mapper import map_layer, map_network, evaluate, Mapping, assign_layers, tile_schedule
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {name: f"acceldse.mapper.{module}" for module, names in {
    "api": ("map_layer", "map_network", "LayerMapping", "NetworkMapping", "RESULT_COLUMNS"),
    "cost": ("evaluate", "evaluate_many", "CostResult"),
    "mapping": ("Mapping", "LevelMapping", "MappingArrays"),
    "space": ("MappingSpace",),
    "search": ("run_search", "SearchResult"),
    "hetero": ("assign_layers", "SubAccelerator", "HeteroResult"),
    "tiles": ("tile_schedule", "TileSchedule"),
}.items() for name in names}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mapper' has no attribute {name!r}")
