"""SAMO / fpgaConvNet design files in and out.

Two formats are read:

* fpgaConvNet's partition JSON (what ``samo --backend fpgaconvnet -o out.json`` writes):
  ``{"partition": [{"id", "batch_size", "layers": [{"name", "type", "parameters": {"coarse_in",
  "coarse_out", "fine", ...}, "streams_in", "streams_out"}, ...]}, ...]}``; ``SQUEEZE`` layers are
  adapters between layers whose lanes differ, costed by ``simulator.fpga.modules.squeeze``;
* the per-partition record ``benchmarks/samo_runner.py`` stores (``tests/golden/fpga``):
  ``{"partitions": [{"layers": [{"name", "coarse_in", "coarse_out", "fine"}, ...]}, ...]}``.

Every key is checked: a key neither format holds (fpgaConvNet's protobuf fields, of any 0.1.x
release, ``FCN_KEYS``; the record's fields, ``RECORD_KEYS``) or a key given twice is a ``SpecError``
naming the file, the key path and the keys accepted there.

Layer names are matched to the network's: exactly; else through the ONNX graph (fpgaConvNet names
a layer by its node's first output, trailing ``:0`` / ``_Y`` stripped and ``/ : - space`` made
``_``; our ONNX import names it by the node name); else, when the file lists as many layers as
the network, by position (shapes checked where the file gives them).

``design_to_samo`` writes a ``DesignReport`` in fpgaConvNet's partition JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acceldse.simulator.fpga.design import DesignReport
from acceldse.simulator.fpga.stage import Folding
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network
from acceldse.workloads.spec_io import parse_json

FCN_TYPES = {"conv": "CONVOLUTION", "gemm": "INNER_PRODUCT", "matmul": "INNER_PRODUCT", "pool": "POOLING",
             "eltwise": "RELU"}
"""fpgaConvNet layer type of each of our op kinds."""

FCN_KEYS: dict[str, frozenset[str]] = {
    "file": frozenset({"partition"}),
    "partition": frozenset({"id", "ports", "batch_size", "input_node", "output_node", "input_nodes", "output_nodes",
                            "weights_reloading_factor", "weights_reloading_layer", "layers", "gen_last_width"}),
    "layer": frozenset({"name", "onnx_node", "type", "op_type", "streams_in", "streams_out", "parameters", "node_in",
                        "node_out", "nodes_in", "nodes_out", "weights_path", "bias_path"}),
    "stream": frozenset({"name", "coarse", "buffer_depth", "node"}),
    "parameters": frozenset({
        "buffer_depth", "batch_size", "rows_in", "cols_in", "depth_in", "channels_in", "rows_out", "cols_out",
        "depth_out", "channels_out", "coarse_in", "coarse_out", "coarse", "coarse_group", "groups", "fine",
        "module_fine", "filters", "pad_top", "pad_right", "pad_front", "pad_bottom", "pad_left", "pad_back",
        "kernel_rows", "kernel_cols", "kernel_depth", "kernel_size", "stride_rows", "stride_cols", "stride_depth",
        "stride", "mem_bw_in", "mem_bw_out", "data_t", "weight_t", "acc_t", "input_t", "output_t", "data_width",
        "weight_width", "acc_width", "input_width", "output_width", "has_bias", "biases_width", "ports_in",
        "ports_out", "rows_in_array", "cols_in_array", "depth_in_array", "channels_in_array", "mem_bw_in_array",
        "rows_out_array", "cols_out_array", "depth_out_array", "channels_out_array", "mem_bw_out_array",
        "input_quant", "outnput_quant", "weight_quant", "bias_quant", "block_floating_point", "scale", "shift",
        "scale_t", "shift_t", "sparsity", "window_sparsity", "skipping_windows", "skip_all_zero_window", "threshold",
        "clusters", "use_uram", "weights_ram_style", "on_chip_addr_range", "off_chip_buffer_size",
        "off_chip_interval", "stream_weights", "split", "stream_inputs", "stream_outputs", "input_compression_ratio",
        "output_compression_ratio", "weight_compression_ratio"}),
}
"""Keys of fpgaConvNet's partition JSON at each level: the fields of its protobuf messages
(``partitions``, ``partition``, ``layer``, ``stream``, ``parameter``) in any fpgaconvnet-model 0.1.x
release (``fpgaconvnet/proto/fpgaconvnet.proto``), as ``MessageToJson`` writes them (field names kept)."""

RECORD_KEYS: dict[str, frozenset[str]] = {
    "file": frozenset({"partitions", "batch", "runtime_s", "fpgaconvnet_json", "network", "platform", "latency_us",
                       "throughput_per_s", "layer_names"}),
    "partition": frozenset({"layers", "latency", "resources"}),
    "layer": frozenset({"name", "coarse_in", "coarse_out", "fine", "cycles", "dsp", "resources"}),
}
"""Keys of the record ``benchmarks/samo_runner.py`` stores (with the run's spec) at each level."""


LIST_KEYS = frozenset({"partition", "partitions", "layers", "streams_in", "streams_out"})
"""Keys whose value is a list in both formats."""


def _check_keys(data: Any, keys: Mapping[str, frozenset[str]], level: str, source: str, where: str) -> None:
    if not isinstance(data, dict):
        raise SpecError("must be a JSON object", source=source, key=where or None, value=type(data).__name__,
                        accepted="a JSON object {...}")
    for key, value in data.items():
        if key in LIST_KEYS and not isinstance(value, list):
            raise SpecError("must be a JSON list", source=source, key=f"{where}.{key}" if where else key,
                            value=type(value).__name__, accepted="a JSON list [...]")
    allowed = keys[level]
    for key in data:
        if key not in allowed:
            listed = ", ".join(sorted(allowed)) if len(allowed) <= 20 else (
                f"one of the {len(allowed)} fields of fpgaConvNet's parameter message (coarse_in, coarse_out, fine, "
                "rows_in, cols_in, channels_in, kernel_size, stride, ...)")
            what = "the SAMO record format" if keys is RECORD_KEYS else "fpgaConvNet's partition JSON"
            raise SpecError(f"unknown key (not in {what})",
                            source=source, key=f"{where}.{key}" if where else key, accepted=listed)


@dataclass(frozen=True)
class LoadedDesign:
    """A design read from a file: folding per layer, partitions, batch, and squeeze adapters.

    Attributes:
        foldings: folding per (our) layer name.
        partitions: our layer names per partition.
        batch: the file's batch size (None when it gives none).
        squeezes: per partition, (coarse_in, coarse_out) of each squeeze adapter.
        names: the file's layer name of each of our layers.
    """

    foldings: dict[str, Folding]
    partitions: tuple[tuple[str, ...], ...]
    batch: int | None
    squeezes: tuple[tuple[tuple[int, int], ...], ...]
    names: dict[str, str]


def fpgaconvnet_name(onnx_output: str) -> str:
    """The layer name fpgaConvNet 0.1.4.2 gives the ONNX node whose first output is ``onnx_output``."""
    name = onnx_output.rstrip(":0").rstrip("_Y")
    for ch in "/: -":
        name = name.replace(ch, "_")
    return name


def onnx_name_map(onnx_path: str | Path) -> dict[str, str]:
    """fpgaConvNet layer name -> our layer name (the ONNX node name, as ``load_onnx`` gives it)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    out: dict[str, str] = {}
    for index, node in enumerate(model.graph.node):
        if node.output:
            out[fpgaconvnet_name(node.output[0])] = node.name or f"{node.op_type.lower()}_{index}"
    return out


def _int(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise SpecError("not an integer", source=where, key=key, value=value, accepted="an integer >= 1")
    try:
        number = int(value)  # fpgaConvNet's JSON writes int64 fields as strings
    except (TypeError, ValueError):
        raise SpecError("not an integer", source=where, key=key, value=value, accepted="an integer >= 1") from None
    if number < 1:
        raise SpecError("must be >= 1", source=where, key=key, value=value, accepted="an integer >= 1")
    return number


def _read_records(data: Any, source: str) -> tuple[list[list[dict[str, Any]]], int | None]:
    """Partitions as lists of {name, type, coarse_in, coarse_out, fine, shape...} and the batch."""
    if isinstance(data, dict) and isinstance(data.get("partition"), list):
        _check_keys(data, FCN_KEYS, "file", source, "")
        parts, batch = [], None
        for pi, part in enumerate(data["partition"]):
            _check_keys(part, FCN_KEYS, "partition", source, f"partition[{pi}]")
            where = f"{source}: partition {pi}"
            if "batch_size" in part:
                batch = _int(part["batch_size"], where, "batch_size")
            layers = []
            for li, layer in enumerate(part.get("layers", [])):
                at = f"partition[{pi}].layers[{li}]"
                _check_keys(layer, FCN_KEYS, "layer", source, at)
                for side in ("streams_in", "streams_out"):
                    for si, stream in enumerate(layer.get(side, [])):
                        _check_keys(stream, FCN_KEYS, "stream", source, f"{at}.{side}[{si}]")
                params = layer.get("parameters", {})
                _check_keys(params, FCN_KEYS, "parameters", source, f"{at}.parameters")
                layers.append({"name": layer.get("name", ""), "type": layer.get("type", ""),
                               "coarse_in": params.get("coarse_in", 1), "coarse_out": params.get("coarse_out", 1),
                               "fine": params.get("fine", 1), "channels_in": params.get("channels_in"),
                               "rows_in": params.get("rows_in"), "cols_in": params.get("cols_in")})
            parts.append(layers)
        return parts, batch
    if isinstance(data, dict) and isinstance(data.get("partitions"), list):
        _check_keys(data, RECORD_KEYS, "file", source, "")
        for pi, part in enumerate(data["partitions"]):
            _check_keys(part, RECORD_KEYS, "partition", source, f"partitions[{pi}]")
            for li, layer in enumerate(part.get("layers", [])):
                _check_keys(layer, RECORD_KEYS, "layer", source, f"partitions[{pi}].layers[{li}]")
        parts = [[dict(layer, type="") for layer in part.get("layers", [])] for part in data["partitions"]]
        return parts, None if data.get("batch") is None else _int(data["batch"], source, "batch")
    raise SpecError("not a SAMO / fpgaConvNet design", source=source,
                    accepted='fpgaConvNet partition JSON {"partition": [...]} or a SAMO record {"partitions": [...]}')


def _match(network: Network, file_names: list[str], name_map: Mapping[str, str], source: str) -> list[str]:
    ours = [layer.name for layer in network]
    known = set(ours)
    if all(n in known for n in file_names):
        return file_names
    if name_map and all(name_map.get(n) in known for n in file_names):
        return [name_map[n] for n in file_names]
    if len(file_names) == len(ours):
        return ours
    missing = [n for n in file_names if n not in known and name_map.get(n) not in known]
    raise SpecError("design layers do not match the network", source=source, key="layers",
                    value=missing[:5], accepted=f"the network's layers ({', '.join(ours[:8])}...)")


def load_design(path: str | Path, network: Network, *, onnx_path: str | Path | None = None) -> LoadedDesign:
    """Read a SAMO / fpgaConvNet design file for ``network`` (see the module docstring)."""
    p = Path(path)
    source = str(p)
    if not p.is_file():
        raise SpecError("a directory, not a design file" if p.is_dir() else "design file not found", source="design",
                        value=source, accepted="a JSON file")
    data = parse_json(p.read_text(), source=source)
    parts, batch = _read_records(data, source)
    squeezes = [[(_int(r["coarse_in"], source, "coarse_in"), _int(r["coarse_out"], source, "coarse_out"))
                 for r in part if r["type"] == "SQUEEZE"] for part in parts]
    layers = [[r for r in part if r["type"] != "SQUEEZE"] for part in parts]
    flat = [r for part in layers for r in part]
    name_map = onnx_name_map(onnx_path) if onnx_path else {}
    ours = _match(network, [str(r["name"]) for r in flat], name_map, source)
    if len(set(ours)) != len(ours) or len(ours) != len(network.layers):
        raise SpecError("design must list every layer of the network once", source=source, key="layers",
                        value=len(ours), accepted=f"{len(network.layers)} layers")
    foldings: dict[str, Folding] = {}
    names: dict[str, str] = {}
    for name, rec in zip(ours, flat):
        layer = network[name]
        where = f"{source}: layer {rec['name']!r}"
        for key, ours_value in (("channels_in", layer.G * layer.C), ("rows_in", layer.H), ("cols_in", layer.W)):
            if rec.get(key) is not None and layer.op == "conv" and _int(rec[key], where, key) != ours_value:
                raise SpecError("layer shape differs from the network's", source=where, key=key, value=rec[key],
                                accepted=str(ours_value))
        fine = _int(rec["fine"], where, "fine") if layer.op == "conv" else 1
        foldings[name] = Folding(_int(rec["coarse_in"], where, "coarse_in"),
                                 _int(rec["coarse_out"], where, "coarse_out"), fine)
        names[name] = str(rec["name"])
    bounds, k = [], 0
    for part in layers:
        bounds.append(tuple(ours[k:k + len(part)]))
        k += len(part)
    return LoadedDesign(foldings, tuple(b for b in bounds if b), batch,
                        tuple(tuple(s) for s, b in zip(squeezes, bounds) if b), names)


def design_to_samo(report: DesignReport, network: Network) -> dict[str, Any]:
    """The design in fpgaConvNet's partition JSON (as SAMO exports it)."""
    rows = {r["layer"]: r for r in report.stages.to_dict(orient="records")}
    partitions = []
    for pi, part in enumerate(report.partitions):
        layers = []
        for i, name in enumerate(part.layers):
            layer, row = network[name], rows[name]
            prev = part.layers[i - 1] if i else None
            nxt = part.layers[i + 1] if i + 1 < len(part.layers) else None
            params: dict[str, Any] = {
                "batch_size": report.batch, "data_width": layer.input_bits, "rows_in": layer.H, "cols_in": layer.W,
                "channels_in": layer.G * layer.C, "rows_out": layer.P, "cols_out": layer.Q,
                "channels_out": layer.G * layer.K, "coarse_in": int(row["coarse_in"]),
                "coarse_out": int(row["coarse_out"])}
            if layer.has_weights:
                params.update({"filters": layer.G * layer.K, "fine": int(row["fine"]), "input_width": layer.input_bits,
                               "output_width": layer.output_bits, "weight_width": layer.weight_bits,
                               "acc_width": layer.output_bits})
                if layer.op == "conv":
                    params.update({"groups": layer.G, "kernel_size": [layer.R, layer.S],
                                   "stride": list(layer.stride), "pad_top": layer.padding[0],
                                   "pad_left": layer.padding[1], "pad_bottom": layer.padding[2],
                                   "pad_right": layer.padding[3]})
            elif layer.op == "pool":
                params.update({"kernel_size": [layer.R, layer.S], "stride": list(layer.stride)})
            layers.append({"name": name, "type": FCN_TYPES[layer.op], "node_in": prev or name,
                           "node_out": nxt or name,
                           "streams_in": [{"name": f"{prev}_{name}" if prev else "in", "coarse": params["coarse_in"]}],
                           "streams_out": [{"name": f"{name}_{nxt}" if nxt else "out",
                                            "coarse": params["coarse_out"]}],
                           "parameters": params})
        partitions.append({"id": pi, "ports": 1, "input_node": part.layers[0], "output_node": part.layers[-1],
                           "batch_size": report.batch, "weights_reloading_factor": 1,
                           "weights_reloading_layer": part.layers[-1], "layers": layers})
    return {"partition": partitions}
