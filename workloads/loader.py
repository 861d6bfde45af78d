"""One entry point for every workload source: zoo name, ONNX file, SCALE-Sim CSV, shipped topology."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import check_nm, parse_nm
from acceldse.workloads.network import Network
from acceldse.workloads.scalesim_csv import list_scalesim_topologies, load_scalesim_csv, scalesim_topology_path
from acceldse.workloads.spec_io import path_exists
from acceldse.workloads.zoo import ZOO, build

ACCEPTED = ("a zoo name (" + ", ".join(ZOO) + "), a .onnx file, a SCALE-Sim .csv file, "
            "or scalesim:<name> (" + ", ".join(list_scalesim_topologies()) + ")")
"""What ``load_workload`` accepts, for error messages and ``--help``."""


def _no_params(spec: str, params: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    for key in params:
        if key not in allowed:
            raise SpecError("parameter not accepted for this workload source", source=spec, key=key,
                            value=params[key], accepted=(f"only {', '.join(allowed)} for this source" if allowed
                                                         else "no parameters for this source"))


def load_workload(spec: str | Network, **params: Any) -> Network:
    """Resolve ``spec`` into a ``Network``.

    Args:
        spec: a ``Network`` (returned as is), a zoo name (``resnet50``), a path ending in
            ``.onnx`` or ``.csv``, or ``scalesim:<name>`` for a shipped SCALE-Sim topology.
        params: zoo builder parameters (``batch``, ``resolution``, ``width``, ``seq_len``,
            ``kv_len``, ...); ``batch`` and ``bits`` for ONNX; ``gemm`` (bool) for CSV files.
            Every source also takes ``weight_sparsity`` (``"2:4"`` or ``(2, 4)``): N:M weight
            sparsity on every conv and gemm layer (``Layer.weight_sparsity``).
    Raises:
        SpecError: unknown name, missing file, bad parameters, or a malformed file.
    """
    if "weight_sparsity" in params:
        ratio = params.pop("weight_sparsity")
        return with_weight_sparsity(load_workload(spec, **params), ratio)
    if isinstance(spec, Network):
        _no_params("network", params)
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError("workload must be a name or a path", source="workload", value=spec, accepted=ACCEPTED)
    text = spec.strip()
    if text.lower().startswith("scalesim:"):
        _no_params(text, params, ("gemm",))
        return load_scalesim_csv(scalesim_topology_path(text.split(":", 1)[1].strip()), **params)
    if text.lower() in ZOO:
        return build(text.lower(), **params)
    suffix = Path(text).suffix.lower()
    if suffix in (".onnx", ".csv"):
        if not path_exists(text, file=True):
            found = "a directory, not a file" if path_exists(text) else "file not found"
            raise SpecError(found, source=text, accepted=ACCEPTED)
        if suffix == ".csv":
            _no_params(text, params, ("gemm",))
            return load_scalesim_csv(text, **params)
        from acceldse.workloads.onnx_import import load_onnx

        _no_params(text, params, ("batch", "bits"))
        return load_onnx(text, **params)
    raise SpecError("unknown workload", source="workload", value=spec, accepted=ACCEPTED)


def with_weight_sparsity(network: Network, ratio: str | tuple[int, int]) -> Network:
    """``network`` with N:M weight sparsity ``ratio`` on every conv and gemm layer (those with static
    weights); a layer that already has another ratio (a topology CSV's column) is a ``SpecError``."""
    where = network.source or network.name
    nm = parse_nm(ratio, source=where, key="weight_sparsity") if isinstance(ratio, str) else \
        check_nm(tuple(ratio) if isinstance(ratio, list) else ratio, source=where, key="weight_sparsity")
    layers = []
    for layer in network.layers:
        if layer.op in ("conv", "gemm"):
            if layer.weight_sparsity not in ((1, 1), nm):
                raise SpecError("the layer already has another N:M ratio", source=where,
                                key=f"layer {layer.name!r} weight_sparsity",
                                value="{}:{}".format(*layer.weight_sparsity),
                                accepted="{}:{} (the weight_sparsity asked for), or no ratio in the file".format(*nm))
            layer = replace(layer, weight_sparsity=nm)
        layers.append(layer)
    return replace(network, layers=tuple(layers))
