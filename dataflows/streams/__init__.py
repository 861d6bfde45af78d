"""Streaming-dataflow graphs as data (contexts, channels) and attention graph builders."""

from acceldse.dataflows.streams.graph import (
    Channel,
    Context,
    GeneratorContext,
    StreamGraph,
    build_graph,
)
from acceldse.dataflows.streams.loader import graph_from_dict, load_graph
from acceldse.dataflows.streams.values import evaluate, topological_order

__all__ = ["Channel", "Context", "GeneratorContext", "StreamGraph", "build_graph", "evaluate",
           "graph_from_dict", "load_graph", "topological_order"]
