"""Streaming graphs from versioned YAML (timing only: context functions stay in Python).

Example::

    version: 1
    name: pipe
    contexts:
      - {name: src, outputs: [o], firings: 12, latency_cycles: 5}
      - {name: acc, inputs: [i], outputs: [o], firings: 12, rates: {o: [0, 0, 0, 1]}}
      - {name: sink, inputs: [i], firings: 3, ii_cycles: 2}
    channels:
      - {name: src->acc, src: src.o, dst: acc.i, capacity: 4, latency_cycles: 3}
      - {name: acc->sink, src: acc.o, dst: sink.i, capacity: 1}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acceldse.dataflows.streams.graph import Channel, Context, StreamGraph, build_graph
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import check_version, load_yaml, reject_unknown

_CONTEXT_KEYS = {"name", "inputs", "outputs", "firings", "rates", "ii_cycles", "latency_cycles"}
_CHANNEL_KEYS = {"name", "src", "dst", "capacity", "latency_cycles", "initial_tokens"}


def _items(data: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise SpecError("missing or not a list of mappings", source=source, key=key, value=items,
                        accepted=f"a non-empty list of mappings under '{key}:'")
    return items


def _names(value: Any, *, source: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError("must be a list of port names", source=source, key=key, value=value,
                        accepted="a list of non-empty strings")
    return tuple(value)


def graph_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> StreamGraph:
    """Build a graph from a parsed spec (``version``, ``name``, ``contexts``, ``channels``).

    Raises:
        SpecError: naming ``source`` and the key path of the first problem.
    """
    check_version(data, kind="stream graph", source=source)
    reject_unknown(data, {"version", "name", "contexts", "channels"}, source=source)
    contexts = []
    for i, item in enumerate(_items(data, "contexts", source)):
        prefix = f"contexts[{i}]."
        reject_unknown(item, _CONTEXT_KEYS, source=source, prefix=prefix)
        rates = item.get("rates", {})
        if not isinstance(rates, dict):
            raise SpecError("must be a mapping port -> rate", source=source, key=prefix + "rates", value=rates,
                            accepted="a mapping like {o: [0, 0, 1]}")
        try:
            contexts.append(Context(
                name=item.get("name", ""), inputs=_names(item.get("inputs"), source=source, key=prefix + "inputs"),
                outputs=_names(item.get("outputs"), source=source, key=prefix + "outputs"),
                firings=item.get("firings", 1), rates=rates, ii_cycles=item.get("ii_cycles", 1),
                latency_cycles=item.get("latency_cycles", 0)))
        except SpecError as err:
            raise SpecError(f"{prefix[:-1]}: {err}", source=source) from None
    channels = []
    for i, item in enumerate(_items(data, "channels", source)):
        prefix = f"channels[{i}]."
        reject_unknown(item, _CHANNEL_KEYS, source=source, prefix=prefix)
        try:
            channels.append(Channel(name=item.get("name", f"{item.get('src')}->{item.get('dst')}"),
                                    src=item.get("src", ""), dst=item.get("dst", ""),
                                    capacity=item.get("capacity", 1), latency_cycles=item.get("latency_cycles", 1),
                                    initial_tokens=item.get("initial_tokens", 0)))
        except SpecError as err:
            raise SpecError(f"{prefix[:-1]}: {err}", source=source) from None
    try:
        return build_graph(contexts, channels, name=str(data.get("name", Path(source).stem)))
    except SpecError as err:
        raise SpecError(str(err), source=source) from None


def load_graph(path: str | Path) -> StreamGraph:
    """Read a stream-graph YAML file (see the module docstring for the format)."""
    return graph_from_dict(load_yaml(path, kind="stream graph"), source=str(path))
