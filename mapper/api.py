"""Public mapper API: ``map_layer`` and ``map_network`` return mappings plus a DataFrame.

Result columns (one row per layer; ``RESULT_COLUMNS``):

    layer, op, macs, dataflow, method, objective, cycles, latency_us (cycles at the hierarchy's
    ``clock_mhz``), energy_pj, edp_pj_cycles,
    utilized_pes, utilization (useful MACs / (cycles x MACs of the hierarchy)),
    evaluations, valid, area_mm2, reused_from (layer whose identical shape was mapped)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.dataflows.dataflow import DATAFLOWS, Dataflow, get_dataflow
from acceldse.mapper.constraints import LoopConstraint
from acceldse.mapper.cost import CostResult, evaluate
from acceldse.mapper.mapping import Mapping, check_structure
from acceldse.mapper.search import CostModel, SearchResult, run_search
from acceldse.mapper.space import MappingSpace
from acceldse.simulator.specs.hierarchy import Hierarchy
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.workloads.errors import SpecError, require_seed
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network

log = logging.getLogger(__name__)

RESULT_COLUMNS: tuple[str, ...] = ("layer", "op", "macs", "dataflow", "method", "objective", "cycles", "latency_us",
                                   "energy_pj",
                                   "edp_pj_cycles", "utilized_pes", "utilization", "evaluations", "valid", "area_mm2",
                                   "reused_from")


@dataclass(frozen=True)
class LayerMapping:
    """The best mapping found for one layer.

    Attributes:
        layer, hierarchy: what was mapped onto what.
        dataflow: the dataflow constraint used (``any`` when unconstrained).
        mapping: the best legal mapping, or ``None`` when the search found none.
        cost: its cost (``None`` likewise).
        search: the search record (evaluations, Pareto front...).
        reused_from: name of an identical layer whose result this is (``""`` if searched).
    """

    layer: Layer
    hierarchy: Hierarchy
    dataflow: str
    mapping: Mapping | None
    cost: CostResult | None
    search: SearchResult
    reused_from: str = ""

    def _header(self) -> str:
        found = "no legal mapping" if self.cost is None else (
            f"{self.cost.cycles:,} cycles, {self.cost.energy_pj:,.4g} pJ, "
            f"utilization {self.layer.macs / (self.cost.cycles * self.hierarchy.num_macs):.3g}")
        return (f"{self.layer.name} ({self.layer.op}, {self.layer.macs:,} MACs) on {self.hierarchy.name}, "
                f"{self.search.method} search, {self.search.evaluations:,} evaluations: {found}")

    def __repr__(self) -> str:
        return f"LayerMapping: {self._header()}" + (f"\n{self.loop_nest()}" if self.mapping is not None else "")

    def _repr_html_(self) -> str:
        from html import escape

        body = f"<pre>{escape(self.loop_nest())}</pre>" if self.mapping is not None else ""
        return f"<p><b>LayerMapping</b>: {escape(self._header())}</p>{body}"

    def row(self) -> dict[str, Any]:
        c = self.cost
        return {
            "layer": self.layer.name, "op": self.layer.op, "macs": self.layer.macs, "dataflow": self.dataflow,
            "method": self.search.method, "objective": self.search.objective,
            "cycles": c.cycles if c else np.nan,
            "latency_us": self.hierarchy.latency_us(c.cycles) if c else np.nan,
            "energy_pj": c.energy_pj if c else np.nan,
            "edp_pj_cycles": c.edp if c else np.nan, "utilized_pes": c.utilised_pes if c else np.nan,
            "utilization": self.layer.macs / (c.cycles * self.hierarchy.num_macs) if c else np.nan,
            "evaluations": self.search.evaluations, "valid": self.search.valid,
            "area_mm2": self.hierarchy.area_mm2, "reused_from": self.reused_from,
        }

    def loop_nest(self) -> str:
        return self.mapping.loop_nest(self.layer, self.hierarchy) if self.mapping else "(no legal mapping found)"


@dataclass(frozen=True)
class NetworkMapping:
    """Per-layer best mappings of a network and their table (see ``RESULT_COLUMNS``)."""

    network: str
    hierarchy: Hierarchy = field(repr=False)
    layers: list[LayerMapping] = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)
    """The workload's resolved parameters (set by ``acceldse.map``)."""

    def _header(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        found = int(self.table["valid"].astype(bool).sum()) if len(self.table) else 0
        return (f"{self.network}{f' ({params})' if params else ''} on {self.hierarchy.name}: "
                f"{len(self.table)} MAC layers ({found} with a legal mapping)")

    def _totals(self) -> pd.DataFrame:
        t = self.table
        util = float(t["macs"].sum() / (t["cycles"].sum() * self.hierarchy.num_macs)) if len(t) else float("nan")
        return pd.DataFrame({"cycles": [self.cycles], "latency_us": [float(t["latency_us"].sum())],
                             "energy_pj": [self.energy_pj], "utilization": [util]}, index=["total"])

    def __repr__(self) -> str:
        return f"NetworkMapping: {self._header()}\n{self._totals().to_string()}"

    def _repr_html_(self) -> str:
        from html import escape

        return (f"<p><b>NetworkMapping</b>: {escape(self._header())}</p>{self._totals().to_html()}"
                "<p><code>.table</code>: best mapping per layer</p>")

    @property
    def cycles(self) -> int:
        """Total latency when layers run one after another."""
        return int(self.table["cycles"].sum())

    @property
    def energy_pj(self) -> float:
        return float(self.table["energy_pj"].sum())


def _dataflow_choices(spec: str | Dataflow | None, hierarchy: Hierarchy) -> list[Dataflow | None]:
    if isinstance(spec, Dataflow):
        return [spec]
    key = "hardware" if spec is None else str(spec).strip().lower()
    if key == "hardware":
        key = hierarchy.dataflow or "auto"
    if key == "auto":
        return list(DATAFLOWS.values())
    if key == "any":
        return [None]
    return [get_dataflow(key, source="dataflow")]


def map_layer(layer: Layer, hardware: str | Path | Hierarchy = "eyeriss_like", *,
              dataflow: str | Dataflow | None = "hardware", objective: str = "edp", search: str = "ga",
              budget: int = 20_000, seed: int | None = 0, allow_bypass: bool = True,
              pad: bool | dict[str, int] = False, constraints: tuple[LoopConstraint, ...] = (),
              cost_model: CostModel | None = None, **options: Any) -> LayerMapping:
    """Search the best mapping of one layer.

    Args:
        layer: the layer (convolution, GEMM or matmul; layers without MACs raise ``SpecError``).
        hardware: a hierarchy preset name (``eyeriss_like``, ``simple_ws_32x32``), a YAML path or a ``Hierarchy``.
        dataflow: ``hardware`` (the hierarchy's own, else ``auto``), ``auto`` (try every dataflow,
            ``budget`` each, keep the best), ``any`` (no spatial constraint), or a dataflow name.
        objective: ``latency``, ``energy``, ``edp`` or ``pareto`` (front of latency and energy).
        search: ``exhaustive``, ``random``, ``ga``, ``anneal`` or ``hybrid``.
        budget: evaluations per search (exhaustive: 0 = the whole space).
        seed: random seed (same seed, same result).
        allow_bypass: let the search bypass dataspaces at levels that may keep them.
        pad: search imperfect factorizations: ``True`` pads dims with a prime factor above 7 to
            the next 7-smooth size, a dict gives padded sizes (see ``MappingSpace``).
        constraints: loop constraints every candidate satisfies (``mapper.constraints``; e.g.
            Timeloop's factor / permutation / split constraints).
        cost_model: scores candidates instead of the dense cost kernel (``search.evaluator.CostModel``;
            e.g. Sparseloop's, ``mapper.timeloop.sparse_model``); ``cost`` stays the dense cost.
        options: passed to the search method (``population``, ``victory_condition``...).
    """
    hierarchy = load_hierarchy(hardware)
    if seed is not None:
        require_seed(seed)
    if layer.macs == 0:
        raise SpecError("layer has no MACs to map", source=f"layer {layer.name!r}", key="op", value=layer.op,
                        accepted="conv, gemm or matmul")
    best: LayerMapping | None = None
    for df in _dataflow_choices(dataflow, hierarchy):
        space = MappingSpace(layer, hierarchy, df, allow_bypass=allow_bypass, pad=pad, constraints=constraints)
        found = run_search(space, search, objective, budget, seed, cost_model=cost_model, **options)
        mapping = Mapping.from_arrays(found.best, hierarchy) if found.best is not None else None
        cost = evaluate(layer, hierarchy, found.best) if found.best is not None else None
        cand = LayerMapping(layer, hierarchy, df.name if df else "any", mapping, cost, found)
        if best is None or (found.value < best.search.value):
            best = cand
    if best is None:
        raise RuntimeError("no dataflow to search")
    if best.mapping is None:
        log.warning("no legal mapping found for %s on %s (%d evaluations)", layer.name, hierarchy.name,
                    best.search.evaluations)
    return best


def _shape_key(layer: Layer) -> tuple:
    return (tuple(layer.dims.values()), layer.stride, layer.dilation, layer.has_weights)


def map_network(network: Network | str, hardware: str | Path | Hierarchy = "eyeriss_like", *,
                dataflow: str | Dataflow | None = "hardware", objective: str = "edp", search: str = "ga",
                budget: int = 20_000, seed: int | None = 0, layers: list[str] | None = None,
                allow_bypass: bool = True, pad: bool = False,
                progress: Callable[[int, int, str], None] | None = None, **options: Any) -> NetworkMapping:
    """Best mapping of every MAC layer of a network (identical shapes are searched once).

    ``network`` is a ``Network`` or anything ``workloads.loader.load_workload`` accepts;
    ``layers`` restricts to the named layers. Other arguments as ``map_layer``. Layers
    without MACs (pooling, elementwise) are not mapped.
    """
    if not isinstance(network, Network):
        from acceldse.workloads.loader import load_workload

        network = load_workload(network)
    hierarchy = load_hierarchy(hardware)
    chosen = [lay for lay in network if lay.macs > 0]
    if layers:
        layers = [layers] if isinstance(layers, str) else list(layers)  # one name, not its letters
        mac_names = [lay.name for lay in chosen]
        accepted = ", ".join(mac_names[:12]) + (" ..." if len(mac_names) > 12 else "") + " (layers with MACs)"
        by_name = {lay.name: lay for lay in network}
        for name in layers:
            if name not in by_name:
                raise SpecError(f"unknown layer of {network.name}", source="layers", value=name, accepted=accepted)
            if by_name[name].macs == 0:  # pooling, elementwise: nothing to map, never an empty table
                raise SpecError(f"layer of {network.name} has no MACs to map ({by_name[name].op})", source="layers",
                                value=name, accepted=accepted)
        chosen = [lay for lay in chosen if lay.name in layers]
    cache: dict[tuple, LayerMapping] = {}
    results: list[LayerMapping] = []
    for i, lay in enumerate(chosen):
        if progress is not None:
            progress(i, len(chosen), lay.name)
        key = _shape_key(lay)
        if key in cache:
            prev = cache[key]
            cost = evaluate(lay, hierarchy, prev.mapping) if prev.mapping is not None else None
            results.append(LayerMapping(lay, hierarchy, prev.dataflow, prev.mapping, cost, prev.search,
                                        reused_from=prev.layer.name))
            continue
        res = map_layer(lay, hierarchy, dataflow=dataflow, objective=objective, search=search, budget=budget,
                        seed=seed, allow_bypass=allow_bypass, pad=pad, **options)
        cache[key] = res
        results.append(res)
        log.info("mapped %s: %s cycles", lay.name, res.cost.cycles if res.cost else "-")
    if progress is not None:
        progress(len(chosen), len(chosen), "")
    table = pd.DataFrame([r.row() for r in results], columns=list(RESULT_COLUMNS))
    return NetworkMapping(network.name, hierarchy, results, table)


def evaluate_mapping(network: Network | str, hardware: str | Path | Hierarchy, layer: str | None,
                     mapping: str | Path | Mapping) -> tuple[Layer, Hierarchy, CostResult]:
    """Cost of a given mapping (acceldse YAML) for one MAC layer of a workload (``layer``: its
    name; may be omitted when the workload has one MAC layer)."""
    if not isinstance(network, Network):
        from acceldse.workloads.loader import load_workload

        network = load_workload(network)
    hierarchy = load_hierarchy(hardware)
    macs = [lay for lay in network if lay.macs > 0]
    names = [lay.name for lay in macs]
    if layer is None and len(macs) != 1:
        raise SpecError("name the layer the mapping is for", source="layer", value=None,
                        accepted=", ".join(names[:12]) + (" ..." if len(names) > 12 else ""))
    chosen = macs[0] if layer is None else next((lay for lay in macs if lay.name == layer), None)
    if chosen is None:
        raise SpecError("unknown MAC layer", source=network.name, key="layer", value=layer,
                        accepted=", ".join(names[:12]) + (" ..." if len(names) > 12 else ""))
    source = "mapping" if isinstance(mapping, Mapping) else str(mapping)
    m = mapping if isinstance(mapping, Mapping) else Mapping.from_yaml(mapping)
    check_structure(m, chosen, hierarchy, source=source)
    return chosen, hierarchy, evaluate(chosen, hierarchy, m, source=source)


__all__ = ["RESULT_COLUMNS", "LayerMapping", "NetworkMapping", "evaluate_mapping", "map_layer", "map_network"]
