"""A fixed-size feature vector of a workload, so a policy can be conditioned on the network it designs for.

``workload_features(network)`` returns ``len(FEATURE_NAMES)`` numbers in ``[-1, 1]`` from the layer
shapes alone (no simulation); shares are MAC-weighted over the layers with MACs:

=====================  =====================================================================
``log10_macs``         ``log10(total MACs) / 12``
``log10_weight_bytes`` ``log10(total weight bytes + 1) / 10``
``log2_layers``        ``log2(layers) / 10``
``depthwise``          share of MACs in depthwise convolutions (one input channel per group)
``pointwise``          share of MACs in 1x1 convolutions
``spatial``            share of MACs in convolutions with a window larger than 1x1
``gemm``               share of MACs in fully connected layers (static weights)
``matmul``             share of MACs in activation x activation products (attention)
``vector_ops``         share of the operations outside MAC layers (pooling, element-wise)
``oi_lt4`` ...         operational-intensity histogram: share of MACs in layers whose MACs per byte
``oi_ge1024``          touched (inputs + weights + outputs, once) fall in ``[0,4) [4,16) [16,64)
                       [64,256) [256,1024) [1024,inf)``
``log2_oi``            MAC-weighted mean ``log2`` operational intensity / 16
``log2_out_channels``  MAC-weighted mean ``log2(K)`` / 16
``log2_out_pixels``    MAC-weighted mean ``log2(P * Q)`` / 16
=====================  =====================================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from acceldse.workloads.layer import Layer

OI_EDGES = (4.0, 16.0, 64.0, 256.0, 1024.0)
"""Operational-intensity histogram bin edges (MACs per byte)."""
FEATURE_NAMES: tuple[str, ...] = (
    "log10_macs", "log10_weight_bytes", "log2_layers", "depthwise", "pointwise", "spatial", "gemm", "matmul",
    "vector_ops", "oi_lt4", "oi_4_16", "oi_16_64", "oi_64_256", "oi_256_1024", "oi_ge1024", "log2_oi",
    "log2_out_channels", "log2_out_pixels")
"""The features, in order (see the module docstring)."""


def operational_intensity(layer: Layer) -> float:
    """MACs per byte touched once (inputs, weights, outputs) of a layer."""
    moved = layer.input_bytes + layer.weight_bytes + layer.output_bytes
    return layer.macs / moved if moved else 0.0


def workload_features(layers: Iterable[Layer]) -> np.ndarray:
    """The ``FEATURE_NAMES`` vector of a network (or any iterable of layers), float32 in ``[-1, 1]``."""
    layers = list(layers)
    mac = [x for x in layers if x.macs > 0]
    macs = np.array([x.macs for x in mac], dtype=np.float64)
    total = float(macs.sum())
    ops = float(sum(x.ops for x in layers))
    w = macs / total if total > 0 else np.zeros(len(mac))

    def share(pred: list[bool]) -> float:
        return float(w[np.array(pred, dtype=bool)].sum()) if mac else 0.0

    conv = [x.op == "conv" for x in mac]
    depthwise = [c and x.C == 1 and x.G > 1 for c, x in zip(conv, mac)]
    window = [x.R * x.S > 1 for x in mac]
    oi = np.array([operational_intensity(x) for x in mac], dtype=np.float64)
    bins = np.digitize(oi, OI_EDGES) if mac else np.zeros(0, dtype=np.int64)
    hist = [float(w[bins == b].sum()) for b in range(len(OI_EDGES) + 1)]

    def mean_log2(values: list[float]) -> float:
        return float(np.dot(w, np.log2(np.maximum(values, 1.0)))) / 16 if mac else 0.0

    out = [math.log10(total) / 12 if total > 0 else 0.0,
           math.log10(sum(x.weight_bytes for x in layers if x.has_weights) + 1) / 10,
           math.log2(max(len(layers), 1)) / 10,
           share(depthwise),
           share([c and not d and not win for c, d, win in zip(conv, depthwise, window)]),
           share([c and not d and win for c, d, win in zip(conv, depthwise, window)]),
           share([x.op == "gemm" for x in mac]),
           share([x.op == "matmul" for x in mac]),
           1.0 - total / ops if ops > 0 else 0.0,
           *hist,
           mean_log2(list(oi)),
           mean_log2([float(x.K) for x in mac]),
           mean_log2([float(x.P * x.Q) for x in mac])]
    return np.clip(np.array(out, dtype=np.float32), -1.0, 1.0)


__all__ = ["FEATURE_NAMES", "OI_EDGES", "operational_intensity", "workload_features"]
