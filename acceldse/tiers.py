"""Public API of the memory-tier studies: expert switching, operator fusion, event runs with traces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acceldse.dataflows.dataflow import Dataflow, resolve_dataflows
from acceldse.simulator.event import EventRun, event_run
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.tiers.fusion import FusionStudy, fusion_study
from acceldse.simulator.tiers.switching import SwitchStudy, expert_switching
from acceldse.workloads.network import Network


def switch_study(hardware: str | Path | Accelerator = "sn40l-like", params: float = 8e9, dtype: str = "bf16",
                 experts: int = 150, sockets: int | None = None) -> SwitchStudy:
    """Composition-of-experts switching: experts placed over the tiers, switch time = bytes / tier bandwidth.

    Args:
        hardware: preset name, YAML spec or ``Accelerator`` (one socket).
        params: parameters per expert. dtype: ``bf16`` | ``fp16`` | ``fp32`` | ``fp8`` | ``int8`` | ``int4``.
        experts: number of experts. sockets: sockets acting as one (``None``: the fewest that hold them all).
    """
    return expert_switching(load_hardware(hardware), params, dtype, experts, sockets)


FUSION_BITS = 16
"""Operand bits of zoo and ONNX workloads in ``fusion`` unless ``bits`` is given (bf16, the SN40L's)."""


def fusion(hardware: str | Path | Accelerator = "sn40l-like", workload: str | Path | Network = "gpt2_decode",
           block: str | None = None, **workload_params: Any) -> FusionStudy:
    """Fused vs unfused block of layers (default: the first decoder layer) on a tiered chip.

    Zoo and ONNX workloads run with ``FUSION_BITS`` (16: bf16) operands unless ``bits`` is given, as
    ``acceldse tiers fusion`` does; a SCALE-Sim topology takes no ``bits``.
    """
    from acceldse.api import resolve_workload
    from acceldse.workloads.zoo import ZOO

    if isinstance(workload, str | Path) and (str(workload).strip().lower() in ZOO
                                             or Path(str(workload)).suffix.lower() == ".onnx"):
        workload_params.setdefault("bits", FUSION_BITS)
    return fusion_study(load_hardware(hardware), resolve_workload(workload, **workload_params), block)


def event_trace(workload: str | Path | Network = "resnet18", hardware: str | Path | Accelerator = "tpu-hbm-like",
                dataflow: str | Dataflow | list[str] | None = None, *, cores: int | None = None,
                trace_path: str | Path | None = None, weight_tiers: str | dict[str, str] | None = None,
                staging_depth: int = 2, progress: Callable[[int, int, str], None] | None = None,
                **workload_params: Any) -> EventRun:
    """Event-fidelity run with the stall breakdown; writes a Chrome/Perfetto trace JSON when asked.

    ``weight_tiers`` (a tier name, ``"auto"`` or layer -> tier) puts the weights in a far tier;
    a DMA process per tier link stages them inward ``staging_depth`` layers ahead;
    ``progress(done, total, layer)`` is called after each layer.
    """
    from acceldse.api import resolve_workload

    acc = load_hardware(hardware)
    network = resolve_workload(workload, **workload_params)
    flows = resolve_dataflows(dataflow if dataflow is not None else (acc.dataflow or "os"))
    run = event_run(network, acc, flows, cores=cores, trace=trace_path is not None, weight_tiers=weight_tiers,
                    staging_depth=staging_depth, progress=progress)
    if trace_path is not None:
        Path(trace_path).write_text(json.dumps(run.trace))
    return run


__all__ = ["event_trace", "fusion", "switch_study"]
