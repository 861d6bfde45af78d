"""Numba kernels for the compiled streaming executor (pure, over caller-allocated arrays).

Times are in cycles (int64). Token ``j`` of channel ``ch`` lives at
``roff[ch] + j % ring[ch]`` in ``write_time`` / ``read_time``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _wrap(pos: int, ring: int) -> int:
    """``pos mod ring`` for ``pos`` in ``[-ring, 2 * ring)``."""
    if pos >= ring:
        return pos - ring
    if pos < 0:
        return pos + ring
    return pos


@njit(cache=True)
def _finalize(ch: int, j: int, jpos: int, nread: int, write_time: np.ndarray, read_time: np.ndarray,
              roff: np.ndarray, ring: np.ndarray, pidx: np.ndarray, ppos: np.ndarray,
              best: np.ndarray) -> None:
    """Occupancy right after write ``j`` (reads at the same cycle counted first).

    Called once per token, in token order, as soon as write ``j`` and read ``j - 1`` are known;
    only reads ``j - capacity .. j - 1`` can still be later than write ``j``, so a ring of
    ``capacity`` entries holds everything needed. ``pidx`` is how many reads are at or
    before the last finalized write; ``nread`` is how many reads exist (``>= j`` except when
    flushing the writes left unread at the end of a deadlocked run).
    """
    t = write_time[roff[ch] + jpos]
    p = pidx[ch]
    pp = ppos[ch]
    size = ring[ch]
    base = roff[ch]
    limit = min(j, nread)
    while p < limit and read_time[base + pp] <= t:
        p += 1
        pp += 1
        if pp == size:
            pp = 0
    pidx[ch] = p
    ppos[ch] = pp
    if j + 1 - p > best[ch]:
        best[ch] = j + 1 - p


@njit(cache=True)
def fire_all(ii: np.ndarray, nfire: np.ndarray,
             in_start: np.ndarray, in_ch: np.ndarray, in_poff: np.ndarray, in_plen: np.ndarray,
             out_start: np.ndarray, out_ch: np.ndarray, out_poff: np.ndarray, out_plen: np.ndarray,
             pat: np.ndarray, cap: np.ndarray, vis_delay: np.ndarray, roff: np.ndarray, ring: np.ndarray,
             written: np.ndarray, readcnt: np.ndarray, write_time: np.ndarray, read_time: np.ndarray,
             best: np.ndarray, next_fire: np.ndarray, last_s: np.ndarray,
             fire_time: np.ndarray, fire_off: np.ndarray, record: bool) -> None:
    """Compute the start cycle of every firing of every context, in place.

    Firing ``k`` of context ``c`` starts at
    ``max(last_s[c] + ii[c], write_time[token] + vis_delay[ch] for every input token it
    consumes, read_time[token - cap[ch]] for every output token it produces)``. Contexts are
    advanced round-robin, each as far as its dependencies allow; the loop stops when a whole
    round makes no progress (all done, or deadlock: ``next_fire < nfire`` somewhere).
    ``vis_delay[ch]`` is producer latency + channel latency.

    Token ``j`` of channel ``ch`` is kept at ``roff[ch] + j % ring[ch]`` of ``write_time`` and
    ``read_time``: ``ring[ch] >= cap[ch]`` suffices (at most ``cap`` tokens are live), and
    ``ring[ch]`` = all tokens keeps the whole history. ``written`` must hold the initial
    tokens, already stored (write cycle ``-vis_delay``). ``best[ch]`` receives the channel's
    maximum occupancy.
    """
    nctx = ii.shape[0]
    nch = cap.shape[0]
    wpos = np.zeros(nch, np.int64)
    rpos = np.zeros(nch, np.int64)
    pidx = np.zeros(nch, np.int64)
    ppos = np.zeros(nch, np.int64)
    done = np.zeros(nch, np.int64)  # writes whose occupancy is final
    for ch in range(nch):
        wpos[ch] = written[ch] % ring[ch]
        if written[ch] > 0:
            _finalize(ch, 0, 0, 0, write_time, read_time, roff, ring, pidx, ppos, best)
            done[ch] = 1
    in_phase = np.zeros(in_ch.shape[0], np.int64)
    out_phase = np.zeros(out_ch.shape[0], np.int64)
    progress = True
    while progress:
        progress = False
        for c in range(nctx):
            i0 = in_start[c]
            i1 = in_start[c + 1]
            o0 = out_start[c]
            o1 = out_start[c + 1]
            while next_fire[c] < nfire[c]:
                k = next_fire[c]
                t = 0
                if k > 0:
                    t = last_s[c] + ii[c]
                ok = True
                for p in range(i0, i1):
                    r = pat[in_poff[p] + in_phase[p]]
                    if r > 0:
                        ch = in_ch[p]
                        if readcnt[ch] + r - 1 >= written[ch]:
                            ok = False
                            break
                        v = write_time[roff[ch] + _wrap(rpos[ch] + r - 1, ring[ch])] + vis_delay[ch]
                        if v > t:
                            t = v
                if not ok:
                    break
                for p in range(o0, o1):
                    r = pat[out_poff[p] + out_phase[p]]
                    if r > 0:
                        ch = out_ch[p]
                        jj = written[ch] + r - 1 - cap[ch]
                        if jj >= 0:
                            if jj >= readcnt[ch]:
                                ok = False
                                break
                            rt = read_time[roff[ch] + _wrap(wpos[ch] + r - 1 - cap[ch], ring[ch])]
                            if rt > t:
                                t = rt
                if not ok:
                    break
                for p in range(i0, i1):
                    r = pat[in_poff[p] + in_phase[p]]
                    ch = in_ch[p]
                    for _ in range(r):
                        read_time[roff[ch] + rpos[ch]] = t
                        rpos[ch] += 1
                        if rpos[ch] == ring[ch]:
                            rpos[ch] = 0
                        readcnt[ch] += 1
                        if written[ch] > readcnt[ch]:
                            _finalize(ch, readcnt[ch], rpos[ch], readcnt[ch], write_time, read_time, roff,
                                      ring, pidx, ppos, best)
                            done[ch] += 1
                    in_phase[p] += 1
                    if in_phase[p] == in_plen[p]:
                        in_phase[p] = 0
                for p in range(o0, o1):
                    r = pat[out_poff[p] + out_phase[p]]
                    ch = out_ch[p]
                    for _ in range(r):
                        write_time[roff[ch] + wpos[ch]] = t
                        if readcnt[ch] >= written[ch]:
                            _finalize(ch, written[ch], wpos[ch], readcnt[ch], write_time, read_time, roff,
                                      ring, pidx, ppos, best)
                            done[ch] += 1
                        wpos[ch] += 1
                        if wpos[ch] == ring[ch]:
                            wpos[ch] = 0
                        written[ch] += 1
                    out_phase[p] += 1
                    if out_phase[p] == out_plen[p]:
                        out_phase[p] = 0
                last_s[c] = t
                if record:
                    fire_time[fire_off[c] + k] = t
                next_fire[c] = k + 1
                progress = True
    for ch in range(nch):  # deadlock: writes never followed by the read that would finalize them
        for j in range(done[ch], written[ch]):
            _finalize(ch, j, j % ring[ch], readcnt[ch], write_time, read_time, roff, ring, pidx, ppos, best)


@njit(cache=True)
def max_occupancy(write_time: np.ndarray, read_time: np.ndarray) -> int:
    """Largest number of tokens held at once: max over t of #writes <= t minus #reads <= t.

    Both arrays are sorted (a channel is a FIFO); a slot read at ``t`` counts as free at ``t``.
    """
    best = 0
    r = 0
    nr = read_time.shape[0]
    nw = write_time.shape[0]
    w = 0
    while w < nw:
        t = write_time[w]
        while w < nw and write_time[w] == t:
            w += 1
        while r < nr and read_time[r] <= t:
            r += 1
        if w - r > best:
            best = w - r
    return best


@njit(cache=True)
def occupancy_steps(write_time: np.ndarray, read_time: np.ndarray,
                    out_t: np.ndarray, out_occ: np.ndarray) -> int:
    """Write the occupancy after every cycle at which it changes; return the number of steps."""
    nw = write_time.shape[0]
    nr = read_time.shape[0]
    w = 0
    r = 0
    n = 0
    last = -1
    while w < nw or r < nr:
        if r >= nr or (w < nw and write_time[w] <= read_time[r]):
            t = write_time[w]
        else:
            t = read_time[r]
        while w < nw and write_time[w] == t:
            w += 1
        while r < nr and read_time[r] == t:
            r += 1
        occ = w - r
        if occ != last:
            out_t[n] = t
            out_occ[n] = occ
            n += 1
            last = occ
    return n
