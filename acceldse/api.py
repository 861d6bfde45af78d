"""The public API: ``simulate`` a workload on an accelerator at a chosen fidelity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from acceldse.dataflows.dataflow import Dataflow, resolve_dataflows
from acceldse.simulator.fidelities import COMPAT_MODES, DEFAULT_MAX_WORK, FIDELITIES, MODES, WORK_UNITS, FidelityRun
from acceldse.simulator.result import SimResult, Table, register_accessor
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.specs.scalesim_cfg import load_scalesim_cfg, refuse_cfg_sparsity
from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network


def _plots(result: SimResult) -> Any:
    from acceldse.plots import ResultPlots  # matplotlib only when a figure is asked for

    return ResultPlots(result)


register_accessor("plot", _plots)

__all__ = ["COMPAT_MODES", "DEFAULT_MAX_WORK", "FIDELITIES", "WORK_UNITS", "map_workload", "resolve_workload",
           "resolved_params", "simulate", "workload_param_names"]


def resolve_workload(workload: str | Path | Network, **params: Any) -> Network:
    """A ``Network``, a zoo name, an ONNX file or a SCALE-Sim topology CSV."""
    if isinstance(workload, Network):
        return workload
    from acceldse.workloads.loader import load_workload

    return load_workload(str(workload), **params)


def simulate(workload: str | Path | Network = "resnet18",
             hardware: str | Path | Accelerator | dict[str, Any] = "scalesim-32x32",
             dataflow: str | Dataflow | list[str] | None = None, *, fidelity: str = "analytical",
             compat: str | None = None, max_work: int | None = None, trace: bool = False,
             progress: Callable[[int, int, str], None] | None = None, **workload_params: Any) -> SimResult:
    """Simulate every layer of ``workload`` on ``hardware``.

    Args:
        workload: a ``Network``, a zoo name (``resnet50``), an ``.onnx`` file or a SCALE-Sim ``.csv``.
        hardware: a preset name, a YAML spec, a SCALE-Sim ``.cfg``, a spec mapping
            (``load_hardware("tpu-v1-like").to_dict()``, edited) or an ``Accelerator``
            (``load_hardware(name).replace(array={"rows": 64})``); a mapping or an ``Accelerator`` is
            checked exactly like a YAML file (``SpecError`` naming ``hardware`` and the key).
        dataflow: ``os`` | ``ws`` | ``is`` | ``all`` | a list; default: the hardware's own, else ``os``.
        fidelity: ``analytical`` (closed forms per fold, numba) or ``cycle`` (real operands moved through
            the array cycle by cycle; compute cycles measured, traffic analytical; small layers only)
            or ``event`` (DMA engines and arrays on a shared tier link, fold by fold; adds the stall
            breakdown and multi-core contention). Every fidelity deals a layer's folds to the
            hardware's ``cores`` arrays; ``event`` equals ``analytical`` where the link is not contended.
        max_work: the most work accepted, refused up front with the number and the limit (units in
            ``WORK_UNITS``: PE-cycles of the largest layer at cycle fidelity, folds at event fidelity,
            MACs in compat mode; defaults ``DEFAULT_MAX_WORK``). The analytical model is not limited.
        trace: at event fidelity, record every compute and DMA span: ``result.extra["trace"]`` is a
            Chrome/Perfetto trace and ``result.plot.timeline()`` draws it.
        progress: ``progress(done, total, layer)`` called after each layer at event and cycle fidelity.
        compat: ``scalesim`` to report SCALE-Sim 3.0.0's numbers instead of the model's (CALC mode, or
            the cfg's ``InterfaceBandwidth`` when ``hardware`` is a SCALE-Sim ``.cfg``). Needs one-core
            hardware and no other ``fidelity`` (``SpecError`` otherwise).
        workload_params: zoo parameters (``batch``, ``seq_len``, ``width``, ``resolution`` ...).

    Returns:
        a ``SimResult`` whose ``layers`` DataFrame has the columns in ``simulator.result.COLUMNS``; it
        keeps its context (workload and resolved parameters, hardware spec, fidelity) for ``save``.
    """
    if fidelity not in FIDELITIES:
        raise SpecError("unknown fidelity", source="fidelity", value=fidelity, accepted=" | ".join(FIDELITIES))
    if compat is not None and compat not in COMPAT_MODES:
        raise SpecError("unknown compatibility mode", source="compat", value=compat, accepted=" | ".join(COMPAT_MODES))
    if compat is not None and fidelity != "analytical":
        raise SpecError("compat mode reports the peer tool's own numbers and has no fidelity levels",
                        source="fidelity", value=fidelity, accepted=f"no fidelity with compat={compat!r}")
    mode = MODES[compat or fidelity]
    if max_work is not None and mode.work_unit is None:
        raise SpecError(f"the {mode.name} model is never limited", source="max_work", value=max_work,
                        accepted=f"no limit, or a limited fidelity or compat mode ({', '.join(WORK_UNITS)})")
    limit = mode.default_limit if max_work is None else require_int(max_work, key="max_work")
    if not isinstance(trace, bool):
        raise SpecError("must be True or False", source="trace", value=trace, accepted="True or False")
    if trace and not mode.traces:
        raise SpecError("a trace is recorded at event fidelity only", source="trace", value=trace,
                        accepted="trace=True with fidelity='event'")
    settings = None
    if isinstance(hardware, str | Path) and str(hardware).lower().endswith(".cfg"):
        acc, settings = load_scalesim_cfg(hardware)  # the cfg's bandwidth mode matters to compat mode
        if compat is None:
            refuse_cfg_sparsity(settings, str(hardware))
    else:
        acc = load_hardware(hardware, source="hardware")
    network = resolve_workload(workload, **workload_params)
    check_capacity(network, acc)
    flows = resolve_dataflows(dataflow if dataflow is not None else (acc.dataflow or "os"))
    table, extra = mode.table(network, acc, flows, FidelityRun(limit=limit, progress=progress, trace=trace,
                                                               settings=settings))
    # every fidelity deals a layer's folds to all cores (compat mode runs on one-core hardware only)
    pes = acc.array.pes * acc.cores
    return SimResult(table=Table.of(table), workload=network.name, hardware=acc.name, fidelity=fidelity,
                     pes=pes, area_mm2=acc.area_mm2, compat=compat, params=resolved_params(workload, workload_params),
                     extra={"accelerator": acc, **extra})


def layer_footprint_bytes(network: Network) -> tuple[int, str]:
    """The largest (input + weights + output) bytes of one layer of ``network``, and that layer's name."""
    best = max(network.layers, key=lambda x: x.input_bytes + x.weight_bytes + x.output_bytes)
    return best.input_bytes + best.weight_bytes + best.output_bytes, best.name


def check_capacity(network: Network, acc: Accelerator, *, source: str = "hardware") -> None:
    """The outermost memory tier must hold one layer's operands (a 1-byte DRAM is refused, not simulated)."""
    need, name = layer_footprint_bytes(network)
    outer = acc.tiers[-1]
    if outer.capacity_bytes < need:
        raise SpecError(f"the outermost tier {outer.name!r} holds {outer.capacity_bytes:,} bytes, less than the "
                        f"{need:,} bytes of layer {name!r}'s inputs, weights and outputs", source=source,
                        key=f"tiers.{outer.name}.capacity_bytes", value=outer.capacity_bytes,
                        accepted=f"at least {need:,} bytes for workload {network.name!r}")


def resolved_params(workload: str | Path | Network | Layer, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a workload was built with: a zoo network's defaults overridden by ``params``
    (what a result or a stored row records), else ``params`` as given."""
    from acceldse.workloads.zoo import ZOO, parameters

    if isinstance(workload, str | Path) and str(workload).lower() in ZOO:
        return {**parameters(str(workload).lower()), **params}
    return dict(params)


def map_workload(workload: str | Path | Network | Layer | Any,
                 hardware: str | Path | dict[str, Any] | Any = "eyeriss_like", *, layer: str | None = None,
                 params: dict[str, Any] | None = None, max_budget: int | None = None, **options: Any) -> Any:
    """Search the best mapping of every MAC layer (or of one ``Layer`` / ``layer=`` name).

    Args:
        workload: a ``Layer``, a ``Network``, a zoo name, an ONNX file or a SCALE-Sim CSV, or a
            ``Cascade`` of Einsums (``mapper.cascade_api.map_cascade``: a ``FusedCost`` on a fused
            accelerator such as ``fusemax`` with ``mapping=``, or a one-Einsum cascade on a hierarchy).
        hardware: a hierarchy preset (``acceldse map --help`` lists them), a YAML spec, a ``Hierarchy`` or
            a spec mapping (``load_hierarchy(name).to_dict()``, edited; checked like a YAML file); for a
            cascade, a fused-accelerator preset (``fusemax``, ``flat_cloud``) or spec.
        layer: map only this layer of the network.
        params: zoo parameters of ``workload`` (``{"seq_len": 512}``); a zoo network's own parameter
            names are also taken as keywords (``acceldse.map("bert_base", seq_len=512)``).
        max_budget: the largest ``budget`` accepted, refused up front above it (default
            ``acceldse map``'s ``--max-budget``, 100,000,000 evaluations per layer: about a minute each).
        options: ``dataflow``, ``objective`` (latency | energy | edp | pareto), ``search``
            (exhaustive | random | ga | anneal | hybrid), ``budget``, ``seed`` ... (``mapper.map_network``).

    Returns:
        ``mapper.LayerMapping`` for a single layer, else ``mapper.NetworkMapping`` (``.table`` DataFrame;
        ``.params``: the workload's resolved parameters).
    """
    from acceldse.commands.map import MAX_BUDGET

    limit = MAX_BUDGET if max_budget is None else require_int(max_budget, key="max_budget")
    budget = options.get("budget")
    if isinstance(budget, int) and not isinstance(budget, bool) and budget > limit:  # other types: the search says
        raise SpecError(f"budget too large: {budget:,} > the limit {limit:,} evaluations per layer", source="budget",
                        value=budget, accepted=f"at most {limit:,}, or raise the limit with max_budget")
    from acceldse.mapper.api import map_layer, map_network
    from acceldse.workloads.cascade import Cascade

    if isinstance(workload, Cascade):
        from acceldse.mapper.cascade_api import map_cascade

        return map_cascade(workload, hardware, **options)
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy

    hierarchy = load_hierarchy(hardware, source="hardware") if isinstance(hardware, dict) else hardware
    if isinstance(workload, Layer):
        return map_layer(workload, hierarchy, **options)
    wl_params = dict(params or {})
    for key in workload_param_names(workload) & set(options):
        wl_params[key] = options.pop(key)
    network = resolve_workload(workload, **wl_params)
    if layer is not None:
        return map_layer(network[layer] if layer in {x.name for x in network} else _unknown_layer(network, layer),
                         hierarchy, **options)
    import dataclasses

    return dataclasses.replace(map_network(network, hierarchy, **options), params=resolved_params(workload, wl_params))


def workload_param_names(workload: str | Path | Network) -> set[str]:
    """The parameters a workload takes: a zoo network's builder arguments, ``batch``/``bits`` for files."""
    from acceldse.workloads.zoo import ZOO, parameters

    if isinstance(workload, Network):
        return set()
    text = str(workload).lower()
    return set(parameters(text)) if text in ZOO else {"batch", "bits"}


def _unknown_layer(network: Network, name: str) -> Layer:
    raise SpecError(f"unknown layer of {network.source or network.name}", source="layer", value=name,
                    accepted=", ".join(x.name for x in network if x.has_weights))
