"""Action masks: which knob values an agent may pick so that the design it builds is legal.

The masks follow sb3-contrib's ``MaskablePPO`` convention for a ``MultiDiscrete`` action space: one flat
boolean array of ``sum(nvec)`` entries, knob after knob, ``True`` where the value may be chosen. Such a
mask is a *product*: each knob's allowed values are chosen independently, so a mask is only sound if
**every** combination of allowed values is legal. The masks here are built to be sound (a hypothesis test
draws random unmasked actions and checks each one evaluates legal) and therefore conservative: they
bound every combination by its worst case and grow each knob's allowed values greedily, one value at a
time in the knob's order, round-robin over the knobs, while that worst case stays legal.

* ``mapping_mask`` (``Mapping-v0``): per tiling slot the divisor indices ``0..b``. Tiles only grow with the
  factors inside a level, so the worst case puts, in every slot, the largest factor any allowed
  combination can reach there and checks capacities and fan-outs with the mapper's own legality kernel
  (``mapper.legality.check_kernel``) as if every bypassable dataspace were kept. Loop orders and bypass
  bits never make a mapping illegal and stay unmasked.
* ``fpga_mask`` (``FpgaDesign-v0``): per folding knob its first values, per cut bit ``{0}``, ``{1}`` or
  both. Every partition the allowed cuts can form is checked at its worst: resources are sums over its
  stages (each at its costliest allowed folding) and its internal FIFO / squeeze edges; its bandwidth is
  its most off-chip traffic over its shortest possible interval. The start is the least parallel
  folding without cuts or, when that does not fit, with a cut after every layer.

When even the starting point (every tiling factor 1; every stage least parallel) is illegal the mask
allows only that point and ``sound`` is ``False``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from acceldse.mapper.legality import OK, check_kernel, workload_array


@dataclass(frozen=True)
class KnobMask:
    """Allowed values per knob.

    Attributes:
        allowed: per knob a boolean array over its values.
        sound: every combination of allowed values is legal (see module docstring).
    """

    allowed: tuple[tuple[bool, ...], ...]
    sound: bool = True

    def flat(self) -> np.ndarray:
        """The ``sum(nvec)`` booleans ``MaskablePPO`` takes (read-only; built once per mask, since an env hands
        it out at every step)."""
        out = self.__dict__.get("_flat")
        if out is None:
            out = np.fromiter((x for a in self.allowed for x in a), dtype=bool)
            out.flags.writeable = False
            object.__setattr__(self, "_flat", out)  # a cache, not a field: equality and hash stay the fields'
        return out

    def allows(self, action: Sequence[int]) -> bool:
        """Whether an index vector is inside the mask."""
        return all(a[int(i)] for a, i in zip(self.allowed, action))

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """A uniformly random index vector inside the mask."""
        return np.array([rng.choice([i for i, ok in enumerate(a) if ok]) for a in self.allowed], dtype=np.int64)


Allowed = list[list[bool]]
"""Per knob, per value: may it be picked."""


def top(values: list[bool]) -> int:
    """Index of the last allowed value."""
    return len(values) - 1 - values[::-1].index(True)


def grow(allowed: Allowed, ranged: Sequence[int], legal: Callable[[Allowed], bool]) -> None:
    """Allow the next value of each ``ranged`` knob in turn (round-robin) while ``legal(allowed)`` holds (the
    whole round at once while it can, one knob after the other once something binds)."""
    active = [k for k in ranged if top(allowed[k]) + 1 < len(allowed[k])]
    while active:
        raised = [(k, top(allowed[k]) + 1) for k in active]
        for k, i in raised:  # every knob one value further at once: one check while nothing binds yet
            allowed[k][i] = True
        if len(raised) > 1 and legal(allowed):
            active = [k for k, i in raised if i + 1 < len(allowed[k])]
            continue
        for k, i in raised:
            allowed[k][i] = False
        still = []
        for k in active:
            i = top(allowed[k]) + 1
            allowed[k][i] = True
            if not legal(allowed):
                allowed[k][i] = False
            elif i + 1 < len(allowed[k]):
                still.append(k)
        active = still


_CACHE: dict[Any, KnobMask] = {}


def cached(key: Any, build: Callable[[], KnobMask]) -> KnobMask:
    """The mask of ``key`` (an env's identity and knobs) built once per process: envs of one setting share it."""
    if key not in _CACHE:
        if len(_CACHE) >= 1024:
            _CACHE.clear()
        _CACHE[key] = build()
    return _CACHE[key]


def _first(nvec: Sequence[int]) -> Allowed:
    return [[i == 0 for i in range(int(n))] for n in nvec]


def _mask(allowed: Allowed, sound: bool = True) -> KnobMask:
    return KnobMask(tuple(tuple(a) for a in allowed), sound)


# ---- Mapping-v0 ------------------------------------------------------------------------------------------
def mapping_mask(encoding: Any, layer_index: int, layer: Any) -> KnobMask:
    """The mask of ``layer``'s mappings in a ``MappingEncoding`` (module docstring)."""
    from acceldse.envs.mapping_encoding import divisors

    enc = encoding
    n, D = enc.n, enc.D
    hw = enc.hw
    wl = workload_array(layer)
    cap = hw.capacity.copy()
    cap[0] = -1  # the outermost level holds the whole tensors in every mapping: the reference proves they fit
    tile = np.zeros((n + 1, 3), dtype=np.int64)
    inst = np.zeros(n + 1, dtype=np.int64)
    info = np.zeros(3, dtype=np.int64)
    sizes = enc.sizes[layer_index]
    first = np.cumsum([0] + [len(s) for s in enc.slots])
    tiling = int(first[-1])
    columns: dict[tuple[int, tuple[int, ...]], list[int]] = {}

    def column(d: int, tops: tuple[int, ...]) -> list[int]:
        """The largest factor each slot of dim ``d`` can reach with divisor indices up to ``tops``."""
        key = (d, tops)
        if key not in columns:
            reach, out = {1}, []
            for top in tops:
                most, nxt = 1, set[int]()
                for p in reach:
                    divs = divisors(sizes[d] // p)
                    last = top * len(divs) // D
                    most = max(most, divs[last])
                    nxt.update(p * f for f in divs[:last + 1])
                out.append(most)
                reach = nxt
            columns[key] = out
        return columns[key]

    def legal(allowed: Allowed) -> bool:
        grids = np.ones((3, n, 8), dtype=np.int64)
        for d in range(8):
            tops = tuple(top(a) for a in allowed[first[d]:first[d + 1]])
            for c, f in zip(enc.slots[d], column(d, tops)):
                grids[c // n, c % n, d] = f
            grids[0, 0, d] = sizes[d]
        code = check_kernel(grids[0], grids[1], grids[2], hw.keep, hw.double_buffered, wl, hw.keep, cap,
                            hw.fanout, tile, inst, info)
        return bool(code == OK)

    allowed = _first(enc.nvec[:tiling]) + [[True] * int(v) for v in enc.nvec[tiling:]]
    if not legal(allowed):
        return _mask(allowed, sound=False)
    grow(allowed, range(tiling), legal)
    return _mask(allowed)


# ---- FpgaDesign-v0 ---------------------------------------------------------------------------------------
def fpga_mask(env: Any) -> KnobMask:
    """The mask of an ``FpgaDesignEnv``'s designs (module docstring)."""
    from acceldse.simulator.fpga import Folding
    from acceldse.simulator.fpga.design import RESOURCES, partition_topology
    from acceldse.simulator.fpga.modules import squeeze

    network = env.network
    knobs = env._knobs
    pos = {name: i for i, name in enumerate(knobs.names)}
    values = knobs.values
    layers = list(network)
    L = len(layers)
    index = {layer.name: i for i, layer in enumerate(layers)}
    stage_knobs = [[pos[f"{x.name}.coarse_in"], pos[f"{x.name}.coarse_out"], pos[f"{x.name}.fine"]]
                   if x.has_weights else [pos[f"{x.name}.coarse"]] for x in layers]
    cut_knobs = [pos[f"cut.{x.name}"] for x in layers[:-1]]
    limits = np.array([env.constraints[r] for r in RESOURCES])
    bandwidth = env.constraints["bandwidth_gbit_per_s"]
    clock_hz = env.platform.clock_hz
    whole = partition_topology(network, [x.name for x in layers])
    io_bits = np.zeros((L, L))
    for a in range(L):
        for z in range(a, L):
            io_bits[a, z] = partition_topology(network, [x.name for x in layers[a:z + 1]]).io_bits_per_sample
    a_idx, z_idx = np.indices((L, L))

    def vals(k: int, row: Sequence[bool]) -> list[int]:
        """The values of knob ``k`` that ``row`` allows."""
        return [int(v) for v, ok in zip(values[knobs.names[k]], row) if ok]

    @cache
    def worst_stage(i: int, choice: tuple[tuple[bool, ...], ...]) -> tuple[list[int], int, int]:
        """Stage ``i``'s most resources, fewest cycles and most off-chip weight bits over its allowed foldings."""
        ks = stage_knobs[i]
        picked = [vals(k, c) for k, c in zip(ks, choice)]
        folds = [Folding(ci, co, f) for ci in picked[0] for co in picked[1] for f in picked[2]] if len(ks) == 3 \
            else [Folding(c, c) for c in picked[0]]
        costs = [env.stage(layers[i], f) for f in folds]
        return ([max(getattr(c, r) for c in costs) for r in RESOURCES], min(c.cycles_per_sample for c in costs),
                max(c.offchip_weight_bits_per_sample for c in costs))

    edge_ends = [(index[p], index[c]) for p, c, _ in whole.stream_edges]
    extra = [RESOURCES.index(r) for r in ("bram18", "lut", "ff")]

    def lane_choice(i: int, allowed: Allowed, side: int) -> tuple[bool, ...]:
        return tuple(allowed[lane_knob(i, side)])

    @cache
    def worst_edge(e: int, out_choice: tuple[bool, ...], in_choice: tuple[bool, ...]) -> np.ndarray:
        """Internal edge ``e``'s most FIFO and squeeze resources over the producer's and consumer's lanes."""
        (producer, f_bram, f_lut, f_ff), (_, consumer, bits) = whole.fifo_edges[e], whole.stream_edges[e]
        i, j = index[producer], index[consumer]
        outs, ins = vals(lane_knob(i, 1), out_choice), vals(lane_knob(j, 0), in_choice)
        adapters = [squeeze(o, c, bits) for o in outs for c in ins]
        out = np.zeros(len(RESOURCES))
        out[extra] = [max(outs) * f + max(getattr(x, r) for x in adapters)
                      for f, r in zip((f_bram, f_lut, f_ff), ("bram18", "lut", "ff"))]
        return out

    def lane_knob(i: int, side: int) -> int:
        ks = stage_knobs[i]
        return ks[side] if len(ks) > 1 else ks[0]

    def legal(allowed: Allowed) -> bool:
        stage = np.zeros((L, len(RESOURCES)))
        fastest = np.zeros(L)
        weights = np.zeros(L)
        for i in range(L):
            stage[i], fastest[i], weights[i] = worst_stage(i, tuple(tuple(allowed[k]) for k in stage_knobs[i]))
        edges = np.zeros((L, L, len(RESOURCES)))  # edges[i, j]: worst cost of the internal edge i -> j
        for e, (i, j) in enumerate(edge_ends):
            edges[i, j] += worst_edge(e, lane_choice(i, allowed, 1), lane_choice(j, allowed, 0))
        # per slice [a, z]: edges with a <= i and j <= z
        inner = np.cumsum(np.cumsum(edges[::-1], axis=0)[::-1], axis=1)
        prefix = np.vstack([np.zeros(len(RESOURCES)), np.cumsum(stage, axis=0)])
        resources = prefix[z_idx + 1] - prefix[a_idx] + inner
        cuts = [set(vals(k, allowed[k])) for k in cut_knobs]
        may_cut = np.array([1 in c for c in cuts], dtype=bool)
        may_join = np.array([0 in c for c in cuts], dtype=bool)
        start = np.concatenate([[True], may_cut])
        end = np.concatenate([may_cut, [True]])
        joined = np.concatenate([[0], np.cumsum(~may_join)])  # forced cuts before each layer
        possible = (z_idx >= a_idx) & start[a_idx] & end[z_idx] & (joined[z_idx] == joined[a_idx])
        if (resources[possible] > limits).any():
            return False
        wsum = np.concatenate([[0.0], np.cumsum(weights)])
        slowest = np.maximum.accumulate(np.where(z_idx >= a_idx, fastest[z_idx], 0.0), axis=1)
        need = (io_bits + wsum[z_idx + 1] - wsum[a_idx]) * clock_hz / np.maximum(slowest, 1.0) / 1e9
        return not (need[possible] > bandwidth).any()

    nvec = knobs.nvec
    folds = [k for ks in stage_knobs for k in ks]
    allowed = _first(nvec)

    def cut_everywhere(value: int) -> bool:
        for k in cut_knobs:
            vs = values[knobs.names[k]]
            allowed[k] = [False] * len(vs)
            allowed[k][vs.index(value) if value in vs else 0] = True
        return legal(allowed)

    if not cut_everywhere(0) and not cut_everywhere(1):  # without cuts, or else a cut after every layer
        return _mask(_first(nvec), sound=False)
    grow(allowed, folds, legal)
    for k in cut_knobs:
        alone = allowed[k]
        allowed[k] = [True] * len(alone)
        if not legal(allowed):
            allowed[k] = alone
    return _mask(allowed)
