"""Streaming-dataflow graphs as data (contexts, channels) and attention graph builders."""

from dataflows.streams.graph import (
    Channel,
    Context,
    GeneratorContext,
    StreamGraph,
    build_graph,
)
from dataflows.streams.values import evaluate, topological_order

__all__ = ["Channel", "Context", "GeneratorContext", "StreamGraph", "build_graph", "evaluate",
           "topological_order"]
