"""Several different compute arrays on one layer: split its outputs in proportion to PEs.

A MAC layer is split along its output channels ``K`` (or its groups ``G`` when there are
more groups than channels per group, e.g. depthwise convolutions or attention heads) into
one sub-layer per array, sized by largest remainder in proportion to the arrays' PEs. Each
array runs its sub-layer's own fold schedule; each fetches the inputs it needs, weights and
outputs are split. MACs are conserved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from acceldse.simulator.specs.accelerator import SystolicArray
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer


def proportional_shares(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, ties to the first)."""
    wsum = sum(weights)
    exact = [total * w / wsum for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def split_layer(layer: Layer, arrays: Sequence[SystolicArray]) -> list[Layer | None]:
    """One sub-layer per array (``None`` for an array with no share)."""
    by_k = layer.K >= layer.G
    shares = proportional_shares(layer.K if by_k else layer.G, [a.pes for a in arrays])
    return [None if not s else dataclasses.replace(layer, name=f"{layer.name}@{i}", K=s) if by_k
            else dataclasses.replace(layer, name=f"{layer.name}@{i}", G=s) for i, s in enumerate(shares)]


def check_arrays(arrays: object) -> list[SystolicArray]:
    """Validate a user-given list of arrays."""
    if not isinstance(arrays, list | tuple) or not arrays or not all(isinstance(a, SystolicArray) for a in arrays):
        raise SpecError("needs a non-empty list of SystolicArray", source="event", key="arrays", value=arrays,
                        accepted="[SystolicArray(rows, cols), ...]")
    return list(arrays)
