"""Fused vs unfused execution of a block of layers (a decoder layer) on a tiered chip.

Unfused, every operator is its own kernel: it reads all its operands (weights, KV cache,
activations) from the off-chip tier (``acc.dram``, HBM on an SN40L-like chip) and writes its
output back there. Fused, the block is one kernel: the intermediates (outputs consumed
inside the block) are placed by ``simulator.tiers.placement.place`` in the closest tier with room and,
when that tier is on chip, never cross the off-chip link; only external operands are read
and only block outputs written. An intermediate that spills off chip still pays its bytes.

Time of one kernel (cycles) = max(compute, ceil(read / read_bw) + ceil(write / write_bw))
+ off-chip latency, one channel as in the analytical model. Compute is at peak throughput:
``ceil(macs / (PEs x cores))`` for MAC layers, ``ceil(ops / (cols x cores))`` for vector ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.tiers.placement import Placement, TensorRequest, place
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer
from acceldse.workloads.network import Network

_BLOCK = re.compile(r"^(.*?\.\d+)\.")


@dataclass(frozen=True)
class FusionStudy:
    """Result of ``fusion_study`` (bytes are off-chip bytes; cycles at the accelerator clock).

    Attributes:
        block: the layer-name prefix studied. layers: per-layer table.
        unfused_cycles, fused_cycles: block time both ways.
        unfused_bytes, fused_bytes: off-chip bytes read + written both ways.
        intermediate_bytes: sizes of the intermediates kept on chip (each counted once).
        placement: where the fused intermediates live.
        clock_mhz: to turn cycles into seconds.
    """

    block: str
    layers: pd.DataFrame
    unfused_cycles: int
    fused_cycles: int
    unfused_bytes: int
    fused_bytes: int
    intermediate_bytes: int
    placement: Placement
    clock_mhz: float

    @property
    def speedup(self) -> float:
        return self.unfused_cycles / self.fused_cycles

    @property
    def unfused_seconds(self) -> float:
        return self.unfused_cycles / (self.clock_mhz * 1e6)

    @property
    def fused_seconds(self) -> float:
        return self.fused_cycles / (self.clock_mhz * 1e6)


def default_block(network: Network) -> str:
    """The first repeated block's prefix (``h.0``, ``encoder.0``), or ``""`` (every layer)."""
    for layer in network.layers:
        m = _BLOCK.match(layer.name)
        if m:
            return m.group(1)
    return ""


def compute_cycles(layer: Layer, acc: Accelerator) -> int:
    """Peak-throughput compute cycles of one layer on all arrays."""
    if layer.has_weights:
        return math.ceil(layer.macs / (acc.array.pes * acc.cores))
    return math.ceil(layer.ops / (acc.array.cols * acc.cores))


def _kernel_cycles(compute: int, read: int, write: int, acc: Accelerator) -> int:
    dram = acc.dram
    move = math.ceil(read / dram.read_bw_bytes_per_cycle) + math.ceil(write / dram.write_bw_bytes_per_cycle)
    return max(compute, move) + dram.latency_cycles


def fusion_study(acc: Accelerator, network: Network, block: str | None = None) -> FusionStudy:
    """Compare running the layers named ``block.*`` fused (one kernel) and unfused (one per layer).

    Args:
        acc: the chip, e.g. ``sn40l-like``.
        network: the workload (e.g. ``gpt2_decode``).
        block: layer-name prefix (``h.0``); ``None`` = the first block; ``""`` = every layer.
    """
    prefix = default_block(network) if block is None else block
    layers = [ly for ly in network.layers if not prefix or ly.name.startswith(prefix + ".")]
    if not layers:
        raise SpecError(f"no layer of {network.source or network.name} in this block", source="block", value=block,
                        accepted=f"a layer-name prefix such as {default_block(network)!r}")
    inside = {ly.name: ly for ly in layers}
    producers: dict[str, list[str]] = {n: [] for n in inside}
    consumers: dict[str, list[str]] = {n: [] for n in inside}
    for src, dst in network.edges:
        if dst in inside:
            producers[dst].append(src)
        if src in inside:
            consumers[src].append(dst)
    kept = [n for n in inside if any(c in inside for c in consumers[n])]
    placement = place([TensorRequest(f"{n}:out", inside[n].output_bytes) for n in kept], acc)
    on_chip = {n for n in kept if placement.tier_of(f"{n}:out").on_chip}

    rows = []
    for ly in layers:
        operands = ly.input_bytes + ly.weight_bytes
        from_chip = min(operands, sum(inside[p].output_bytes for p in producers[ly.name] if p in on_chip))
        escapes = ly.name not in on_chip or any(c not in inside for c in consumers[ly.name]) \
            or not consumers[ly.name]
        compute = compute_cycles(ly, acc)
        rows.append({
            "layer": ly.name, "op": ly.op, "compute_cycles": compute,
            "unfused_read_bytes": operands, "unfused_write_bytes": ly.output_bytes,
            "unfused_cycles": _kernel_cycles(compute, operands, ly.output_bytes, acc),
            "fused_read_bytes": operands - from_chip, "fused_write_bytes": ly.output_bytes if escapes else 0,
            "intermediate_tier": placement.where.get(f"{ly.name}:out", ""),
        })
    table = pd.DataFrame(rows)
    fused_read, fused_write = int(table["fused_read_bytes"].sum()), int(table["fused_write_bytes"].sum())
    fused = _kernel_cycles(int(table["compute_cycles"].sum()), fused_read, fused_write, acc)
    return FusionStudy(
        block=prefix, layers=table, unfused_cycles=int(table["unfused_cycles"].sum()), fused_cycles=fused,
        unfused_bytes=int(table["unfused_read_bytes"].sum() + table["unfused_write_bytes"].sum()),
        fused_bytes=fused_read + fused_write,
        intermediate_bytes=sum(inside[n].output_bytes for n in on_chip), placement=placement,
        clock_mhz=acc.clock_mhz)


__all__ = ["FusionStudy", "compute_cycles", "default_block", "fusion_study"]
