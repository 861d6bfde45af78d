"""A network: a DAG of layers in topological order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer


@dataclass(frozen=True)
class Network:
    """Layers in a valid execution (topological) order and the data edges between them.

    Attributes:
        name: network name.
        layers: the layers, each name unique, in an order where every edge goes forward.
        edges: (producer, consumer) layer-name pairs. When omitted, a chain is assumed.
        source: where the network came from (zoo name, file path), for error messages.
    """

    name: str
    layers: tuple[Layer, ...]
    edges: tuple[tuple[str, str], ...] = field(default=())
    source: str = ""

    def __post_init__(self) -> None:
        if not self.layers:
            raise SpecError("a network needs at least one layer", source=self.source or self.name, key="layers")
        object.__setattr__(self, "layers", tuple(self.layers))
        position: dict[str, int] = {}
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise SpecError("not a Layer", source=self.source or self.name, key=f"layers[{i}]",
                                value=type(layer).__name__)
            if layer.name in position:
                raise SpecError("duplicate layer name", source=self.source or self.name, key=f"layers[{i}].name",
                                value=layer.name, accepted="unique names")
            position[layer.name] = i
        edges = tuple(self.edges) if self.edges else tuple(
            (a.name, b.name) for a, b in zip(self.layers, self.layers[1:]))
        for src, dst in edges:
            for end in (src, dst):
                if end not in position:
                    raise SpecError("edge names an unknown layer", source=self.source or self.name, key="edges",
                                    value=(src, dst))
            if position[src] >= position[dst]:
                raise SpecError("edge goes backwards: layers must be in topological order (no cycles)",
                                source=self.source or self.name, key="edges", value=(src, dst))
        object.__setattr__(self, "edges", edges)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def predecessors(self, name: str) -> list[str]:
        return [a for a, b in self.edges if b == name]

    def successors(self, name: str) -> list[str]:
        return [b for a, b in self.edges if a == name]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_bytes(self) -> int:
        return sum(layer.weight_bytes for layer in self.layers)

    def compute_layers(self) -> Network:
        """The sub-network of layers with MACs (conv, gemm, matmul), edges bridged over the rest."""
        keep = [layer for layer in self.layers if layer.has_weights]
        kept = {layer.name for layer in keep}
        reach: dict[str, set[str]] = {}
        for layer in self.layers:
            preds: set[str] = set()
            for p in self.predecessors(layer.name):
                preds |= {p} if p in kept else reach.get(p, set())
            reach[layer.name] = preds
        edges = tuple(sorted({(p, layer.name) for layer in keep for p in reach[layer.name]},
                             key=lambda e: ([x.name for x in keep].index(e[1]), e[0])))
        return Network(name=self.name, layers=tuple(keep), edges=edges or (), source=self.source)

