"""The engine's one form of a graph: contexts with cyclic programs, bounded channels, shared resources.

Every event-level model lowers to a :class:`Net` and runs on one compiled kernel
(``kernels.run_net``): streaming graphs (``dataflows.streams``), the FPGA layer pipeline, the
systolic event fidelity (DMA engines, double buffers, arrays, write-back) and the memory tiers'
links. A context fires ``firings`` times; firing ``k`` moves ``rates[k % len]`` tokens on each of
its ports and has an initiation interval ``ii``, an output ``latency`` and an amount of ``work``
on a shared ``resource`` (each a cyclic pattern). A channel is a FIFO of ``capacity`` tokens whose
tokens are visible ``latency`` after they are written. A resource (a memory link) is shared by
processor sharing among the jobs in flight: deterministic, no event order to choose.

Times are cycles: int64 for cycle-level streaming graphs, float64 for models with fractional
service times (contended links, FPGA row times). The semantics are the timing rule of
``dataflows.streams.graph`` with two generalisations: ``ii`` and ``latency`` may be 0 (a process
doing several things at one instant; a wire), and a firing with ``work`` ends when its work is
done (its outputs are then written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from acceldse.simulator.streaming.flat import FlatNet, NetRun, run_flat

Pattern = int | float | Sequence[int] | Sequence[float] | np.ndarray


@dataclass
class _Ctx:
    name: str
    firings: int
    inputs: list[tuple[int, np.ndarray]]
    outputs: list[tuple[int, np.ndarray]]
    ii: np.ndarray
    latency: np.ndarray
    work: np.ndarray
    resource: int


@dataclass
class _Chan:
    name: str
    capacity: int
    latency: float
    initial: int
    initial_write: float
    src: int = -1
    dst: int = -1


def _pattern(value: Pattern, dtype: type) -> np.ndarray:
    """``value`` as a pattern (values >= 0, checked once for the whole net in :func:`flatten`)."""
    arr: np.ndarray = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"a pattern must be a non-empty list of values >= 0, got {value!r}")
    return arr


def _writes_while_working(work: np.ndarray, rates: np.ndarray) -> bool:
    """Whether some firing has both work and output tokens (patterns repeat cyclically)."""
    if work.size != rates.size:
        n = int(np.lcm(work.size, rates.size))
        work, rates = np.resize(work, n), np.resize(rates, n)
    return bool(((work > 0) & (rates > 0)).any())


@dataclass
class Net:
    """A graph under construction: declare channels, then the contexts that use them.

    Args:
        name: graph name (deadlock reports, traces).
        dtype: ``np.int64`` (cycle-level graphs) or ``np.float64`` (fractional times).
    """

    name: str = "net"
    dtype: type = np.float64
    _ctxs: list[_Ctx] = field(default_factory=list)
    _chans: list[_Chan] = field(default_factory=list)
    _res: list[str] = field(default_factory=list)
    _shared: list[bool | None] = field(default_factory=list)

    @property
    def n_contexts(self) -> int:
        """Contexts declared so far (the next one's id)."""
        return len(self._ctxs)

    @property
    def n_channels(self) -> int:
        """Channels declared so far (the next one's id)."""
        return len(self._chans)

    @property
    def firings(self) -> int:
        """Firings of every context declared so far (the work of a run)."""
        return sum(c.firings for c in self._ctxs)

    def resource(self, name: str, *, shared: bool | None = None) -> int:
        """A shared resource (e.g. a memory link, work in full-bandwidth cycles); returns its id.

        ``shared``: processor-share it among the jobs in flight (default: when it has several
        users); ``False`` gives every job the whole resource (one user only)."""
        self._res.append(name)
        self._shared.append(shared)
        return len(self._res) - 1

    def channel(self, name: str, *, capacity: int, latency: float = 0, initial: int = 0,
                initial_write: float = 0) -> int:
        """A FIFO of ``capacity`` tokens, visible ``latency`` after the write; returns its id.

        ``initial`` tokens are present at time 0 (counted as written at ``initial_write``)."""
        if capacity < 1 or initial > capacity:
            raise ValueError(f"channel {name!r}: capacity {capacity} must be >= 1 and >= initial {initial}")
        self._chans.append(_Chan(name, int(capacity), latency, int(initial), initial_write))
        return len(self._chans) - 1

    def context(self, name: str, firings: int, *, inputs: Sequence[tuple[int, Pattern]] = (),
                outputs: Sequence[tuple[int, Pattern]] = (), ii: Pattern = 0, latency: Pattern = 0,
                work: Pattern = 0, resource: int | None = None) -> int:
        """A context firing ``firings`` times; ``inputs`` / ``outputs`` are ``(channel, rates)``.

        A firing with ``work > 0`` ends when the work is done on ``resource`` (or after ``work``
        cycles without one), and must move no output tokens: write them in the next firing."""
        ins = [(ch, _pattern(r, np.int64)) for ch, r in inputs]
        outs = [(ch, _pattern(r, np.int64)) for ch, r in outputs]
        index = len(self._ctxs)
        for ch, _ in ins:
            if self._chans[ch].dst >= 0:
                raise ValueError(f"channel {self._chans[ch].name!r} has two consumers")
            self._chans[ch].dst = index
        for ch, _ in outs:
            if self._chans[ch].src >= 0:
                raise ValueError(f"channel {self._chans[ch].name!r} has two producers")
            self._chans[ch].src = index
        w = _pattern(work, self.dtype)
        if outs and w.max() > 0 and any(_writes_while_working(w, r) for _, r in outs):
            raise ValueError(f"context {name!r}: a firing with work writes tokens (write them in the next firing)")
        self._ctxs.append(_Ctx(name, int(firings), ins, outs, _pattern(ii, self.dtype), _pattern(latency, self.dtype),
                               w, -1 if resource is None else resource))
        return index

    def loader(self, name: str, tokens: int, work: float, resource: int, *, capacity: int = 2) -> int:
        """A DMA context moving ``tokens`` tokens over ``resource`` (``work`` each) into a new channel
        of ``capacity`` tokens; returns the channel (give it to its consumer as an input)."""
        ch = self.channel(name, capacity=capacity)
        self.context(name, 2 * tokens, work=[work, 0], outputs=[(ch, [0, 1])], resource=resource)
        return ch

    def storer(self, name: str, tokens: int, work: float, resource: int, *, capacity: int = 2) -> int:
        """A DMA context taking ``tokens`` tokens from a new channel of ``capacity`` tokens and moving
        each over ``resource`` (``work`` each); returns the channel (give it to its producer as an output)."""
        ch = self.channel(name, capacity=capacity)
        self.context(name, tokens, work=work, inputs=[(ch, 1)], resource=resource)
        return ch

    def extend(self, flat: FlatNet, *, prefix: str = "", resources: Sequence[int] = ()) -> tuple[int, int]:
        """Add a flat net's channels and contexts (names prefixed ``prefix``; its resource ``r`` is
        this net's ``resources[r]``); returns the ids of its first context and first channel."""
        first = self.n_contexts, self.n_channels
        for i, name in enumerate(flat.channels):
            self.channel(prefix + name, capacity=int(flat.cap[i]), latency=float(flat.ch_lat[i]),
                         initial=int(flat.init[i]), initial_write=float(flat.init_write[i]))

        def ports(start: np.ndarray, ch: np.ndarray, poff: np.ndarray, plen: np.ndarray,
                  i: int) -> list[tuple[int, Pattern]]:
            return [(first[1] + int(ch[p]), flat.pat[poff[p]: poff[p] + plen[p]])
                    for p in range(start[i], start[i + 1])]

        for i, name in enumerate(flat.names):
            ii, lat, work = (flat.tpat[flat.toff[i, k]: flat.toff[i, k] + flat.tlen[i, k]] for k in range(3))
            self.context(prefix + name, int(flat.nfire[i]), ii=ii, latency=lat, work=work,
                         inputs=ports(flat.in_start, flat.in_ch, flat.in_poff, flat.in_plen, i),
                         outputs=ports(flat.out_start, flat.out_ch, flat.out_poff, flat.out_plen, i),
                         resource=None if flat.res[i] < 0 else resources[flat.res[i]])
        return first

    def run(self, *, record: bool = False) -> NetRun:
        """Run to completion (or deadlock) on the compiled kernel."""
        return run_flat(flatten(self), record)


def _tokens(ctx: _Ctx, pattern: np.ndarray) -> int:
    full, rest = divmod(ctx.firings, pattern.size)
    return int(full * pattern.sum() + pattern[:rest].sum())


def flatten(net: Net) -> FlatNet:
    """The kernel's arrays of a net built context by context."""
    ctxs, chans = net._ctxs, net._chans
    dt: np.dtype = np.dtype(net.dtype)
    for ch in chans:
        if ch.src < 0 or ch.dst < 0:
            raise ValueError(f"channel {ch.name!r} is not connected at both ends")
    n_ch, nctx = len(chans), len(ctxs)
    ntok = np.zeros(n_ch, np.int64)
    for ctx in ctxs:
        for chi, pattern in ctx.outputs:
            ntok[chi] = _tokens(ctx, pattern)
    pat: list[np.ndarray] = []
    tpat: list[np.ndarray] = []
    npat = ntp = 0
    toff = np.zeros((nctx, 3), np.int64)
    tlen = np.zeros((nctx, 3), np.int64)
    ports: dict[str, list[int]] = {k: [] for k in ("in_ch", "in_poff", "in_plen", "out_ch", "out_poff", "out_plen")}
    in_start, out_start = [0], [0]
    for ci, ctx in enumerate(ctxs):
        for side, plist, start in (("in", ctx.inputs, in_start), ("out", ctx.outputs, out_start)):
            for chi, pattern in plist:
                ports[f"{side}_ch"].append(chi)
                ports[f"{side}_poff"].append(npat)
                ports[f"{side}_plen"].append(pattern.size)
                pat.append(pattern)
                npat += pattern.size
            start.append(len(ports[f"{side}_ch"]))
        for i, p in enumerate((ctx.ii, ctx.latency, ctx.work)):
            toff[ci, i], tlen[ci, i] = ntp, p.size
            tpat.append(p)
            ntp += p.size

    def arr(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64).reshape(-1)

    res = arr([c.resource for c in ctxs])
    users = np.bincount(res[res >= 0], minlength=len(net._res)) if len(net._res) else np.zeros(0, np.int64)
    flat = FlatNet(
        name=net.name, dtype=dt, names=[c.name for c in ctxs], channels=[c.name for c in chans],
        resources=list(net._res), nfire=arr([c.firings for c in ctxs]),
        in_start=arr(in_start), in_ch=arr(ports["in_ch"]), in_poff=arr(ports["in_poff"]),
        in_plen=arr(ports["in_plen"]), out_start=arr(out_start), out_ch=arr(ports["out_ch"]),
        out_poff=arr(ports["out_poff"]), out_plen=arr(ports["out_plen"]),
        pat=np.concatenate(pat) if pat else np.zeros(0, np.int64),
        tpat=np.concatenate(tpat).astype(dt) if tpat else np.zeros(0, dt), toff=toff, tlen=tlen, res=res,
        res_shared=np.array([n > 1 if s is None else s for n, s in zip(users, net._shared)], np.bool_),
        cap=arr([c.capacity for c in chans]), ch_lat=np.array([c.latency for c in chans], dt),
        init=arr([c.initial for c in chans]), init_write=np.array([c.initial_write for c in chans], dt),
        ch_src=arr([c.src for c in chans]), ch_dst=arr([c.dst for c in chans]), ntok=ntok)
    if (flat.pat < 0).any() or (flat.tpat < 0).any():
        bad = next(c for c in ctxs if min(p.min() for p in (c.ii, c.latency, c.work,
                                                           *(r for _, r in c.inputs + c.outputs))) < 0)
        raise ValueError(f"context {bad.name!r}: a pattern must be a non-empty list of values >= 0")
    return flat


__all__ = ["FlatNet", "Net", "NetRun", "Pattern", "flatten", "run_flat"]
