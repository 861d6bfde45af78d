"""Streaming-dataflow graphs as data (contexts, channels) and attention graph builders."""

from dataflows.streams.graph import (
    Channel,
    Context,
    GeneratorContext,
    StreamGraph,
    build_graph,
)
from dataflows.streams.loader import graph_from_dict, load_graph
from dataflows.streams.values import evaluate, topological_order

__all__ = ["Channel", "Context", "GeneratorContext", "StreamGraph", "build_graph", "evaluate",
           "graph_from_dict", "load_graph", "topological_order"]
