"""Compatibility mode: report SCALE-Sim 3.0.0's numbers (CALC or USER mode) in acceldse's columns.

Each layer with MACs becomes the SCALE-Sim topology rows SCALE-Sim would run (a conv row per
group, SCALE-Sim's per-channel rows for depthwise layers, its GEMM-as-conv convention for
gemm/matmul layers), each row goes through ``simulator.scalesim.calc.scalesim_layer`` and
the rows of a layer are summed. Layers without MACs are not modelled by SCALE-Sim and are
left out. The default (first-principles) model differs on purpose: docs/scalesim_differences.md.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import pandas as pd

from acceldse.dataflows.dataflow import Dataflow
from acceldse.simulator.scalesim.calc import OPERAND_TRAFFIC, ScaleSimLayerResult, scalesim_gemm, scalesim_layer
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.scalesim_cfg import ScaleSimSettings
from acceldse.simulator.systolic.model import finish_rows
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network


def _sram_kb(acc: Accelerator) -> dict[str, int]:
    sizes = {}
    for operand in ("ifmap", "filter", "ofmap"):
        size = acc.sram.partition_bytes(operand)
        if size % 1024:
            raise SpecError("SCALE-Sim sizes SRAMs in whole KiB", source=acc.source or acc.name,
                            key=f"{acc.sram.name}.partitions.{operand}", value=size,
                            accepted="a multiple of 1024 bytes")
        sizes[operand] = size // 1024
    return sizes


def scalesim_extent(size: int, padded: int, kernel: int, stride: int, out: int) -> int | None:
    """An input extent for which SCALE-Sim's ``ceil((H - R + s) / s)`` gives ``out`` outputs."""
    for candidate in (size, padded, (out - 1) * stride + kernel):
        if candidate >= kernel and -(-(candidate - kernel) // stride) + 1 == out:
            return candidate
    return None


def layer_reports(layer: Layer, acc: Accelerator, dataflow: str, settings: ScaleSimSettings | None = None
                  ) -> list[ScaleSimLayerResult]:
    """SCALE-Sim's reports for one layer: one per group (it has no groups; depthwise layers are
    its per-channel ``DP`` rows). Layers its conv form cannot express (batch > 1, dilation,
    unequal strides, gemm/matmul) use its GEMM convention on the layer's GEMM view."""
    kb = _sram_kb(acc)
    common: dict[str, Any] = {"dataflow": dataflow, "array_rows": acc.array.rows, "array_cols": acc.array.cols,
              "ifmap_sram_kb": kb["ifmap"], "filter_sram_kb": kb["filter"], "ofmap_sram_kb": kb["ofmap"]}
    if settings is not None:
        common.update(bandwidth_mode=settings.bandwidth_mode, ifmap_dram_bw_words=settings.ifmap_bank_bandwidth_words,
                      filter_dram_bw_words=settings.filter_bank_bandwidth_words,
                      ofmap_dram_bw_words=settings.bandwidth_words)
    if settings is not None and settings.sparsity is not None:
        common.update(sparsity=settings.sparsity, ratio=layer.weight_sparsity)
    elif layer.weight_sparsity != (1, 1):
        warnings.warn(f"layer {layer.name!r}: SCALE-Sim ignores its N:M ratio "
                      f"{layer.weight_sparsity[0]}:{layer.weight_sparsity[1]} unless the .cfg has "
                      "[sparsity] SparsitySupport : true; reporting its dense numbers", stacklevel=3)
    stride = layer.stride[0]
    h = scalesim_extent(layer.H, layer.padded_input[0], layer.R, stride, layer.P)
    w = scalesim_extent(layer.W, layer.padded_input[1], layer.S, stride, layer.Q)
    conv_form = layer.op == "conv" and layer.N == 1 and layer.dilation == (1, 1) and layer.stride[1] == stride
    if conv_form and h is not None and w is not None:
        report = scalesim_layer(ifmap_h=h, ifmap_w=w, filter_h=layer.R, filter_w=layer.S, channels=layer.C,
                                num_filters=layer.K, stride=stride, **common)
    else:
        report = scalesim_gemm(*layer.gemm, **common)
    return [report] * layer.G


def scalesim_table(network: Network, acc: Accelerator, dataflows: list[Dataflow],
                   settings: ScaleSimSettings | None = None) -> pd.DataFrame:
    """Per-layer SCALE-Sim numbers in acceldse's columns, one row per (dataflow, layer with MACs).

    ``settings`` (from a SCALE-Sim ``.cfg``) selects its bandwidth mode: CALC (default) or USER
    with the cfg's bank and ofmap bandwidths."""
    rows = []
    for df in dataflows:
        for layer in network.layers:
            if not layer.has_weights:
                continue
            reports = layer_reports(layer, acc, df.name, settings)
            folds = sum(r.folds for r in reports)
            total = sum(r.total_cycles for r in reports)
            stalls = sum(r.stall_cycles for r in reports)
            counts = {f"{level}_{verb}_{op}": sum(getattr(r, f"{level}_{verb}_{op}") for r in reports)
                      for level in ("sram", "dram") for op, verb in OPERAND_TRAFFIC}
            counts.update(total_cycles=total, compute_cycles=total - stalls, folds=folds, sram_reads_ofmap=0,
                          dram_reads_ofmap=0,
                          mapping_efficiency=sum(r.mapping_efficiency * r.folds for r in reports) / folds)
            # derived bytes/energy from SCALE-Sim's own counts (its sparsity is in its columns below)
            row = finish_rows([replace(layer, weight_sparsity=(1, 1))], df.name, [counts], acc)[0]
            if len(reports) == 1:  # SCALE-Sim's own utilisation figures, not recomputed ones
                row["compute_utilization"] = reports[0].compute_utilization
                row["utilization"] = reports[0].overall_utilization
            row["total_cycles_incl_prefetch"] = sum(r.total_cycles_incl_prefetch for r in reports)
            sparse = [r.sparse for r in reports if r.sparse is not None]
            if sparse:  # SCALE-Sim's SPARSE_REPORT.csv, summed over the layer's rows (words)
                row["filter_storage_words"] = sum(x.original_filter_storage for x in sparse)
                row["filter_storage_sparse_words"] = sum(x.new_filter_storage for x in sparse)
                metadata_words = sum(x.filter_metadata_storage for x in sparse)
                row["filter_metadata_words"] = metadata_words
                row["filter_metadata_sram_bw_words_per_cycle"] = metadata_words / total
            rows.append(row)
    if not rows:
        raise SpecError("SCALE-Sim compatibility needs layers with MACs", source=network.source or network.name,
                        accepted="conv, gemm or matmul layers")
    return pd.DataFrame(rows)
