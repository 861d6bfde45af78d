"""The mapper: mapping space, legality, batched cost model, search and network-level assignment.

Public API (imported lazily so ``mapper.fpga`` stays light)::

    from mapper import map_layer, map_network, evaluate, Mapping, assign_layers, tile_schedule
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "map_layer": "mapper.api", "map_network": "mapper.api", "LayerMapping": "mapper.api",
    "NetworkMapping": "mapper.api", "RESULT_COLUMNS": "mapper.api",
    "evaluate": "mapper.cost", "evaluate_many": "mapper.cost", "CostResult": "mapper.cost",
    "Mapping": "mapper.mapping", "LevelMapping": "mapper.mapping", "MappingArrays": "mapper.mapping",
    "MappingSpace": "mapper.space", "run_search": "mapper.search", "SearchResult": "mapper.search",
    "assign_layers": "mapper.hetero", "SubAccelerator": "mapper.hetero", "HeteroResult": "mapper.hetero",
    "tile_schedule": "mapper.tiles", "TileSchedule": "mapper.tiles",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mapper' has no attribute {name!r}")
