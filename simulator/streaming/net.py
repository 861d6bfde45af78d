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

from acceldse.simulator.streaming.kernels import run_net
from acceldse.simulator.streaming.result import BlockedContext, Deadlock

Pattern = int | float | Sequence[int] | Sequence[float] | np.ndarray

EPS_WORK = 1e-9
"""Work left below which a processor-shared job counts as done (rounding of the shares)."""


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


@dataclass(frozen=True, eq=False)
class NetRun:
    """What a run of a :class:`Net` gives.

    Attributes:
        firings: per context, firings completed.
        written, read: per channel, tokens written (initial included) and read.
        max_occupancy: per channel, most tokens held at once.
        last_start: per context, start of its last firing (-1 if none).
        starts, ends, offsets: start and anchor (end of its work) of every firing, context
            ``i``'s from ``offsets[i]`` (recorded runs only; see :meth:`times`).
        resource_busy: per resource, time it had at least one job.
        resource_jobs, resource_work, resource_peak: per resource, jobs served, total work,
            most jobs in flight at once.
        deadlock: None, or the report naming every blocked context and the circular wait.
        ii: the contexts' ii patterns (``pattern``, per context its ``offset`` and ``length``).
    """

    names: list[str]
    channels: list[str]
    firings: np.ndarray
    written: np.ndarray
    read: np.ndarray
    max_occupancy: np.ndarray
    last_start: np.ndarray
    starts: np.ndarray | None
    ends: np.ndarray | None
    offsets: np.ndarray
    tokens: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    resource_names: list[str]
    resource_busy: np.ndarray
    resource_jobs: np.ndarray
    resource_work: np.ndarray
    resource_peak: np.ndarray
    deadlock: Deadlock | None
    ii: tuple[np.ndarray, np.ndarray, np.ndarray]

    def times(self, context: str | int) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every firing of ``context`` (its name or id; recorded runs only)."""
        if self.starts is None or self.ends is None:
            raise ValueError("the run was not recorded; pass record=True")
        i = context if isinstance(context, int) else self.names.index(context)
        a = self.offsets[i]
        return self.starts[a: a + self.firings[i]], self.ends[a: a + self.firings[i]]

    def busy(self, context: str | int) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of the busy interval of every firing of ``context``: from its start to the
        later of its end and its start + ii (recorded runs only; what a trace draws)."""
        i = context if isinstance(context, int) else self.names.index(context)
        starts, ends = self.times(i)
        pattern, offset, length = self.ii
        ii = pattern[offset[i]: offset[i] + length[i]]
        return starts, np.maximum(ends, starts + (ii if ii.size == starts.size else np.resize(ii, starts.size)))

    @property
    def fire_time(self) -> list[np.ndarray] | None:
        """Per context, the start of every firing (recorded runs only)."""
        return None if self.starts is None else [self.times(i)[0] for i in range(len(self.names))]

    @property
    def channel_times(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """Per channel, (write, read) times of every token (recorded runs only)."""
        if self.tokens is None:
            return None
        write_time, read_time, roff = self.tokens
        return [(write_time[roff[i]: roff[i] + self.written[i]], read_time[roff[i]: roff[i] + self.read[i]])
                for i in range(len(self.channels))]


def _pattern(value: Pattern, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0 or arr.min() < 0:
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


@dataclass
class FlatNet:
    """A net as the kernel's flat arrays: per context its ports (``in_start``/``out_start``
    rows of ``*_ch``, ``*_poff``, ``*_plen`` into ``pat``) and its ii / latency / work patterns
    (``toff``, ``tlen`` into ``tpat``); per channel its capacity, latency, initial tokens, ends."""

    name: str
    dtype: np.dtype
    names: list[str]
    channels: list[str]
    resources: list[str]
    nfire: np.ndarray
    in_start: np.ndarray
    in_ch: np.ndarray
    in_poff: np.ndarray
    in_plen: np.ndarray
    out_start: np.ndarray
    out_ch: np.ndarray
    out_poff: np.ndarray
    out_plen: np.ndarray
    pat: np.ndarray
    tpat: np.ndarray
    toff: np.ndarray
    tlen: np.ndarray
    res: np.ndarray
    res_shared: np.ndarray
    cap: np.ndarray
    ch_lat: np.ndarray
    init: np.ndarray
    init_write: np.ndarray
    ch_src: np.ndarray
    ch_dst: np.ndarray
    ntok: np.ndarray
    components: tuple[np.ndarray, np.ndarray] | None = None
    """Independent parts (no shared channel or resource), each run on its own: per part, from where its
    contexts and its resources start (with a last entry: their counts); None: one part."""


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
    return FlatNet(
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


def run_flat(f: FlatNet, record: bool) -> NetRun:
    """Run a flat net to completion (or deadlock) on the compiled kernel."""
    dt = f.dtype
    n_ch, nctx, nres = f.cap.shape[0], f.nfire.shape[0], len(f.resources)
    ntok = f.ntok + f.init
    ring = np.maximum(ntok if record else np.minimum(f.cap, ntok), 1)
    roff = np.zeros(n_ch, np.int64)
    if n_ch > 1:
        roff[1:] = np.cumsum(ring)[:-1]
    total = int(ring.sum())
    write_time = np.empty(total, dt)
    vis_time = np.empty(total, dt)
    read_time = np.empty(total, dt)
    for i in np.nonzero(f.init)[0]:
        write_time[roff[i]: roff[i] + f.init[i]] = f.init_write[i]
        vis_time[roff[i]: roff[i] + f.init[i]] = 0
    written = f.init.copy()
    readcnt = np.zeros(n_ch, np.int64)
    best = np.zeros(n_ch, np.int64)
    next_fire = np.zeros(nctx, np.int64)
    last_s = np.full(nctx, -1, dt)
    fire_off = np.zeros(nctx, np.int64)
    nrec = int(f.nfire.sum()) if record else 0
    if record and nctx > 1:
        fire_off[1:] = np.cumsum(f.nfire)[:-1]
    fire_time = np.zeros(nrec, dt)
    end_time = np.zeros(nrec, dt)
    users = np.bincount(f.res[f.res >= 0], minlength=nres) if nres else np.zeros(0, np.int64)
    if (users > 1).any() and not f.res_shared[users > 1].all():
        raise ValueError("a resource with several users must be shared")
    if f.res_shared.any() and dt != np.float64:
        raise ValueError("shared resources need float64 times")
    ru = np.argsort(f.res, kind="stable")[np.count_nonzero(f.res < 0):].astype(np.int64)
    ru_start = np.concatenate(([0], np.cumsum(users))).astype(np.int64)
    pairs = np.unique(np.concatenate([f.ch_src * nctx + f.ch_dst, f.ch_dst * nctx + f.ch_src]))  # sorted, once each
    adj_start = np.concatenate(([0], np.cumsum(np.bincount(pairs // max(nctx, 1), minlength=nctx)))).astype(np.int64)
    adj = (pairs % max(nctx, 1)).astype(np.int64)
    res_busy = np.zeros(nres)
    res_count = np.zeros((nres, 3))
    run_net(f.nfire, f.in_start, f.in_ch, f.in_poff, f.in_plen, f.out_start, f.out_ch, f.out_poff, f.out_plen,
            f.pat, f.tpat, f.toff, f.tlen, f.res, f.cap, f.ch_lat, roff, ring, written, readcnt, write_time,
            vis_time, read_time, best, next_fire, last_s, fire_time, end_time, fire_off, record, adj_start, adj,
            f.res_shared, ru_start, ru, EPS_WORK, res_busy, res_count,
            *(f.components or (np.array([0, nctx], np.int64), np.array([0, nres], np.int64))))
    deadlock = None
    if (next_fire < f.nfire).any():
        deadlock = _diagnose(f, next_fire, written, readcnt, last_s)
    return NetRun(
        names=f.names, channels=f.channels, firings=next_fire, written=written, read=readcnt, max_occupancy=best,
        last_start=last_s, starts=fire_time if record else None, ends=end_time if record else None,
        offsets=fire_off, tokens=(write_time, read_time, roff) if record else None,
        resource_names=f.resources, resource_busy=res_busy, resource_jobs=res_count[:, 0].astype(np.int64),
        resource_work=res_count[:, 1], resource_peak=res_count[:, 2].astype(np.int64), deadlock=deadlock,
        ii=(f.tpat, f.toff[:, 0], f.tlen[:, 0]))


def _diagnose(f: FlatNet, next_fire: np.ndarray, written: np.ndarray, readcnt: np.ndarray,
              last_s: np.ndarray) -> Deadlock:
    """Name, for every unfinished context, the first condition of its next firing that fails."""
    blocked = []
    fired = last_s[next_fire > 0]
    cycle = int(fired.max()) + 1 if fired.size else 0
    for ci in np.nonzero(next_fire < f.nfire)[0]:
        k = int(next_fire[ci])
        found = None
        for p in range(f.in_start[ci], f.in_start[ci + 1]):
            chi, r = int(f.in_ch[p]), int(f.pat[f.in_poff[p] + k % f.in_plen[p]])
            if r > 0 and readcnt[chi] + r - 1 >= written[chi]:
                found = (chi, "empty")
                break
        if found is None:
            for p in range(f.out_start[ci], f.out_start[ci + 1]):
                chi, r = int(f.out_ch[p]), int(f.pat[f.out_poff[p] + k % f.out_plen[p]])
                if r > 0 and written[chi] + r - 1 - f.cap[chi] >= readcnt[chi]:
                    found = (chi, "full")
                    break
        if found is None:  # pragma: no cover - the kernel only stops on a failed condition
            raise RuntimeError(f"context '{f.names[ci]}' stopped with no failed condition")
        chi, reason = found
        blocked.append(BlockedContext(context=f.names[ci], channel=f.channels[chi], reason=reason,
                                      occupancy=int(written[chi] - readcnt[chi]), capacity=int(f.cap[chi]), firing=k,
                                      waits_for=f.names[f.ch_dst[chi] if reason == "full" else f.ch_src[chi]]))
    return Deadlock(cycle=cycle, blocked=tuple(blocked))
