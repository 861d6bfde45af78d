"""Weight staging from far tiers: a DMA process per tier link moves each layer's weights inward.

When a layer's weights live beyond the closest off-chip tier (DDR behind HBM on an
SN40L-like chip), one DMA process per source tier copies them into a staging area of the
closest off-chip tier before the layer runs, ``depth`` layers ahead at most (bounded
buffer: a slot frees when its layer finishes - back-pressure). A copy occupies the source
tier's link for ``ceil(bytes / read_bw)`` cycles and the weights are usable ``latency``
cycles later. The layers themselves run in order; a layer whose weights have not arrived
waits, and that wait is split into latency / capacity (the DMA waited for a free slot) /
bandwidth, the same causes as the fold-level stalls.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from acceldse.simulator.event.kernels import transfer_cycles_array
from acceldse.simulator.event.link import SharedLink
from acceldse.simulator.specs.accelerator import Accelerator, MemoryTier
from acceldse.simulator.tiers.placement import TensorRequest, place
from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network

SOURCE = "event.weight_tiers"


@dataclass
class StagingRun:
    """Per layer: cycles waited for staged weights, by cause, and when each layer started.

    Attributes:
        wait_cycles, latency_cycles, capacity_cycles, bandwidth_cycles: per layer (sum of the
            last three = wait).
        start_cycles: when each layer started (after its predecessors and its weights).
        spans: ``(track, label, start, end)`` of every copy when recording.
    """

    wait_cycles: np.ndarray
    latency_cycles: np.ndarray
    capacity_cycles: np.ndarray
    bandwidth_cycles: np.ndarray
    start_cycles: np.ndarray
    spans: list[tuple[str, str, float, float]] = field(default_factory=list)


def weight_bytes(network: Network) -> list[int]:
    """Bytes of each layer's stored weights (0 for layers without, or with run-time operands)."""
    return [ly.weight_bytes if ly.has_weights and not ly.weights_are_activations else 0 for ly in network.layers]


def resolve_weight_tiers(network: Network, acc: Accelerator,
                         weight_tiers: str | Mapping[str, str] | None) -> list[str]:
    """Home tier of each layer's weights: ``None`` = the closest off-chip tier; a tier name for
    all; ``"auto"`` = placed in layer order from the closest off-chip tier outward; or a
    mapping layer -> tier (others: closest off-chip)."""
    home = acc.dram.name
    sizes = weight_bytes(network)
    names = [ly.name for ly in network.layers]
    if weight_tiers is None:
        return [home] * len(names)
    if isinstance(weight_tiers, str):
        if weight_tiers == "auto":
            reqs = [TensorRequest(f"{n}:weights", b, not_closer_than=home) for n, b in zip(names, sizes) if b]
            where = place(reqs, acc).where
            return [where.get(f"{n}:weights", home) for n in names]
        acc.tier(weight_tiers)  # SpecError for an unknown tier
        return [weight_tiers] * len(names)
    unknown = sorted(set(weight_tiers) - set(names))
    if unknown:
        raise SpecError("unknown layer", source=SOURCE, key="weight_tiers", value=unknown[0],
                        accepted="layer names of " + network.name)
    for tier in weight_tiers.values():
        acc.tier(tier)
    return [weight_tiers.get(n, home) for n in names]


def run_staging(sizes: Sequence[int], homes: Sequence[str], layer_cycles: Sequence[int], acc: Accelerator,
                depth: int = 2, *, record: bool = False) -> StagingRun:
    """Run the staging DMA processes (one per far tier) against the layer sequence.

    Args:
        sizes: weight bytes per layer. homes: home tier per layer.
        layer_cycles: each layer's own cycles once its weights are in place.
        acc: the accelerator (weights are staged into ``acc.dram``).
        depth: layers a tier may stage ahead (slots of its staging area), >= 1.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise SpecError("must be an integer >= 1", source=SOURCE, key="staging_depth", value=depth,
                        accepted="an integer >= 1")
    order = [t.name for t in acc.tiers]
    far = order.index(acc.dram.name)
    staged_idx = [i for i, (b, h) in enumerate(zip(sizes, homes)) if b and order.index(h) > far]
    if staged_idx:
        need = depth * max(sizes[i] for i in staged_idx)
        if need > acc.dram.capacity_bytes:
            raise SpecError("the staging area does not fit the closest off-chip tier", source=SOURCE,
                            key="staging_depth", value=depth,
                            accepted=f"depth x largest staged layer ({need} B) <= {acc.dram.capacity_bytes} B")
    n = len(layer_cycles)
    env = simpy.Environment()
    staged = [env.event() for _ in range(n)]
    done = [env.event() for _ in range(n)]
    slot_wait = np.zeros(n)
    wait = np.zeros(n)
    start = np.zeros(n)
    lat = np.zeros(n)
    spans: list[tuple[str, str, float, float]] = []
    by_tier: dict[str, list[int]] = {}
    for i in staged_idx:
        by_tier.setdefault(homes[i], []).append(i)

    def stager(tier: MemoryTier, idxs: list[int]) -> Generator[simpy.Event, Any, None]:
        link = SharedLink(env, f"{tier.name}->{acc.dram.name}", record=record, exclusive=True)
        work = transfer_cycles_array(np.array([sizes[i] for i in idxs], dtype=float), tier.read_bw_bytes_per_cycle)
        for k, i in enumerate(idxs):
            if k >= depth:
                t0 = env.now
                yield done[idxs[k - depth]]  # a free slot in the staging area
                slot_wait[i] = env.now - t0
            yield link.transfer(int(work[k]), f"stage {tier.name}", f"weights layer {i}")
            lat[i] = tier.latency_cycles
            if tier.latency_cycles:  # usable after the latency; the DMA moves on (pipelined)
                env.timeout(tier.latency_cycles).callbacks.append(lambda _ev, ev=staged[i]: ev.succeed())
            else:
                staged[i].succeed()
        spans.extend(link.stats.spans)

    def sequencer() -> Generator[simpy.Event, Any, None]:
        for i in range(n):
            if i in staged_set:
                t0 = env.now
                yield staged[i]
                wait[i] = env.now - t0
            start[i] = env.now
            yield env.timeout(int(layer_cycles[i]))
            done[i].succeed()

    staged_set = set(staged_idx)
    for name, idxs in by_tier.items():
        env.process(stager(acc.tier(name), idxs))
    env.process(sequencer())
    env.run()
    lat_part = np.minimum(wait, lat)
    cap_part = np.minimum(wait - lat_part, slot_wait)
    return StagingRun(wait_cycles=wait, latency_cycles=lat_part, capacity_cycles=cap_part,
                      bandwidth_cycles=wait - lat_part - cap_part, start_cycles=start, spans=spans)
