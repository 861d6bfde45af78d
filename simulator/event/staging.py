"""Weight staging from far tiers: a DMA context per tier link moves each layer's weights inward.

When a layer's weights live beyond the closest off-chip tier (DDR behind HBM on an
SN40L-like chip), one DMA context per source tier copies them into a staging area of the
closest off-chip tier before the layer runs, ``depth`` layers ahead at most (bounded
buffer: a slot frees when its layer finishes - back-pressure). A copy occupies the source
tier's link for ``ceil(bytes / read_bw)`` cycles and the weights are usable ``latency``
cycles later. The layers themselves run in order; a layer whose weights have not arrived
waits, and that wait is split into latency / capacity (the DMA waited for a free slot) /
bandwidth, the same causes as the fold-level stalls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from acceldse.simulator.event.engine import transfer_cycles_array
from acceldse.simulator.specs.accelerator import Accelerator
from acceldse.simulator.streaming.net import Net
from acceldse.simulator.streaming.trace import Track
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
        tracks: every far tier's copies when recording.
    """

    wait_cycles: np.ndarray
    latency_cycles: np.ndarray
    capacity_cycles: np.ndarray
    bandwidth_cycles: np.ndarray
    start_cycles: np.ndarray
    tracks: list[Track] = field(default_factory=list)


def weight_bytes(network: Network) -> list[int]:
    """Bytes of each layer's stored weights (0 for layers without, or with run-time operands)."""
    return [ly.weight_bytes if ly.has_weights and not ly.weights_are_activations else 0 for ly in network.layers]


def resolve_weight_tiers(network: Network, acc: Accelerator,
                         weight_tiers: str | Mapping[str, str] | None) -> list[str]:
    """Home tier of each layer's weights: ``None`` = the closest off-chip tier; a tier name for
    all; ``"auto"`` = placed in layer order from the closest off-chip tier outward; or a
    mapping layer -> tier (others: closest off-chip)."""
    home = acc.dram.name
    if weight_tiers is None:
        return [home] * len(network.layers)
    sizes = weight_bytes(network)
    names = [ly.name for ly in network.layers]
    if isinstance(weight_tiers, str):
        if weight_tiers == "auto":
            reqs = [TensorRequest(f"{n}:weights", b, not_closer_than=home) for n, b in zip(names, sizes) if b]
            where = place(reqs, acc).where
            return [where.get(f"{n}:weights", home) for n in names]
        _check_tier(acc, weight_tiers)
        return [weight_tiers] * len(names)
    unknown = sorted(set(weight_tiers) - set(names))
    if unknown:
        raise SpecError("unknown layer", source=SOURCE, key="weight_tiers", value=unknown[0],
                        accepted="layer names of " + network.name)
    for tier in weight_tiers.values():
        _check_tier(acc, tier)
    return [weight_tiers.get(n, home) for n in names]


def _check_tier(acc: Accelerator, name: str) -> None:
    """A tier ``weight_tiers`` names must be one of the hardware's (the argument is named, not the preset file)."""
    names = [t.name for t in acc.tiers]
    if name not in names:
        raise SpecError(f"unknown memory tier of {acc.name}", source="weight_tiers", value=name,
                        accepted=", ".join(names) + " or auto")


def run_staging(sizes: Sequence[int], homes: Sequence[str], layer_cycles: Sequence[int], acc: Accelerator,
                depth: int = 2, *, record: bool = False) -> StagingRun:
    """Run the staging DMA contexts (one per far tier) against the layer sequence.

    Args:
        sizes: weight bytes per layer. homes: home tier per layer.
        layer_cycles: each layer's own cycles once its weights are in place.
        acc: the accelerator (weights are staged into ``acc.dram``).
        depth: layers a tier may stage ahead (slots of its staging area), >= 1.
    """
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
    by_tier: dict[str, list[int]] = {}
    for i in staged_idx:
        by_tier.setdefault(homes[i], []).append(i)
    if not by_tier:  # nothing to stage: the layers one after another
        zero = np.zeros(n)
        return StagingRun(zero, zero, zero, zero, np.concatenate(([0.0], np.cumsum(layer_cycles, dtype=float)))[:n])
    net = Net("staging")
    staged_ch, done_ch, work = {}, {}, {}
    for name, idxs in by_tier.items():
        staged_ch[name] = net.channel(f"staged {name}", capacity=len(idxs))
        done_ch[name] = net.channel(f"done {name}", capacity=len(idxs))
    # the layers in order: layer i waits for its weights, runs its cycles, frees its slot
    cycles = np.asarray(layer_cycles, dtype=np.float64)
    mine = {t: np.isin(np.arange(n), idxs).astype(np.int64) for t, idxs in by_tier.items()}
    net.context("layers", n, ii=cycles if n else 0.0, latency=cycles if n else 0.0,
                inputs=[(staged_ch[t], mine[t]) for t in by_tier], outputs=[(done_ch[t], mine[t]) for t in by_tier])
    for name, idxs in by_tier.items():  # one DMA per far tier: copy (link work), then the weights are usable
        tier = acc.tier(name)
        m = len(idxs)
        work[name] = transfer_cycles_array(np.array([sizes[i] for i in idxs], dtype=float),
                                           tier.read_bw_bytes_per_cycle)
        copy = np.arange(2 * m) % 2 == 0
        net.context(f"stage {name}", 2 * m, resource=net.resource(f"{name}->{acc.dram.name}"),
                    work=np.where(copy, np.repeat(work[name], 2), 0).astype(np.float64),
                    latency=np.where(copy, 0.0, float(tier.latency_cycles)),
                    inputs=[(done_ch[name], copy & (np.arange(2 * m) >= 2 * depth))],
                    outputs=[(staged_ch[name], ~copy)])
    run = net.run(record=True)
    start, _ = run.times("layers")
    ready = np.concatenate(([0.0], start[:-1] + cycles[:-1])) if n else np.zeros(0)
    wait = np.zeros(n)
    slot_wait = np.zeros(n)
    lat = np.zeros(n)
    tracks: list[Track] = []
    for name, idxs in by_tier.items():
        ix = np.asarray(idxs)
        wait[ix] = start[ix] - ready[ix]
        lat[ix] = acc.tier(name).latency_cycles
        s, e = run.times(f"stage {name}")
        s, e = s[0::2], e[0::2]
        slot_wait[ix[depth:]] = s[depth:] - e[depth - 1:-1]
        if record:
            tracks.append(Track(f"stage {name}", *run.busy(f"stage {name}"),
                                [f"weights layer {i}" for i in idxs for _ in "ab"], "dma"))
    lat_part = np.minimum(wait, lat)
    cap_part = np.minimum(wait - lat_part, slot_wait)
    return StagingRun(wait_cycles=wait, latency_cycles=lat_part, capacity_cycles=cap_part,
                      bandwidth_cycles=wait - lat_part - cap_part, start_cycles=start, tracks=tracks)
