"""A net as the compiled kernel's flat arrays (``FlatNet``) and what a run of it gives (``NetRun``).

``run_flat`` runs a flat net on ``kernels.run_net`` to completion or deadlock; a deadlock names, for
every unfinished context, the channel it waits on and the context at its other end. Nets are built
context by context with ``net.Net`` (``net.flatten``), or directly as arrays (the event fidelity's
fold graphs, ``simulator.event.engine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acceldse.simulator.streaming.kernels import run_net
from acceldse.simulator.streaming.result import BlockedContext, Deadlock

EPS_WORK = 1e-9
"""Work left below which a processor-shared job counts as done (rounding of the shares)."""


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
        resource_work, resource_peak: per resource, total work, most jobs in flight at once.
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
    def channel_times(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """Per channel, (write, read) times of every token (recorded runs only)."""
        if self.tokens is None:
            return None
        write_time, read_time, roff = self.tokens
        return [(write_time[roff[i]: roff[i] + self.written[i]], read_time[roff[i]: roff[i] + self.read[i]])
                for i in range(len(self.channels))]


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


def run_flat(f: FlatNet, record: bool) -> NetRun:
    """Run a flat net to completion (or deadlock) on the compiled kernel."""
    if f.res_shared.any() and f.dtype != np.float64:
        raise ValueError("shared resources need float64 times")
    (next_fire, written, readcnt, best, last_s, fire_time, end_time, fire_off, write_time, read_time, roff,
     res_busy, res_count, shared_ok) = run_net(
        f.nfire, f.in_start, f.in_ch, f.in_poff, f.in_plen, f.out_start, f.out_ch, f.out_poff, f.out_plen, f.pat,
        f.tpat, f.toff, f.tlen, f.res, f.res_shared, f.cap, f.ch_lat, f.init, f.init_write, f.ch_src, f.ch_dst,
        f.ntok, *(f.components or (np.array([0, len(f.nfire)]), np.array([0, len(f.resources)]))), record, EPS_WORK)
    if not shared_ok:
        raise ValueError("a resource with several users must be shared")
    deadlock = None
    if (next_fire < f.nfire).any():
        deadlock = _diagnose(f, next_fire, written, readcnt, last_s)
    return NetRun(
        names=f.names, channels=f.channels, firings=next_fire, written=written, read=readcnt, max_occupancy=best,
        last_start=last_s, starts=fire_time if record else None, ends=end_time if record else None,
        offsets=fire_off, tokens=(write_time, read_time, roff) if record else None,
        resource_names=f.resources, resource_busy=res_busy,
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
