"""Numba kernels for the compiled streaming executor (pure, over caller-allocated arrays).

Times are in cycles (int64). Channel token ``j`` of channel ``ch`` lives at
``tok_off[ch] + j`` in ``write_time`` / ``read_time``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def fire_all(ii: np.ndarray, lat: np.ndarray, nfire: np.ndarray,
             in_start: np.ndarray, in_ch: np.ndarray, in_poff: np.ndarray, in_plen: np.ndarray,
             out_start: np.ndarray, out_ch: np.ndarray, out_poff: np.ndarray, out_plen: np.ndarray,
             pat: np.ndarray, cap: np.ndarray, vis_delay: np.ndarray, tok_off: np.ndarray,
             written: np.ndarray, readcnt: np.ndarray, write_time: np.ndarray, read_time: np.ndarray,
             next_fire: np.ndarray, last_s: np.ndarray,
             fire_time: np.ndarray, fire_off: np.ndarray, record: bool) -> None:
    """Compute the start cycle of every firing of every context, in place.

    Firing ``k`` of context ``c`` starts at
    ``max(last_s[c] + ii[c], write_time[token] + vis_delay[ch] for every input token it
    consumes, read_time[token - cap[ch]] for every output token it produces)``. Contexts are
    advanced round-robin, each as far as its dependencies allow; the loop stops when a whole
    round makes no progress (all done, or deadlock: ``next_fire < nfire`` somewhere).
    ``vis_delay[ch]`` is producer latency + channel latency.
    """
    nctx = ii.shape[0]
    in_phase = np.zeros(in_ch.shape[0], np.int64)
    out_phase = np.zeros(out_ch.shape[0], np.int64)
    for c in range(nctx):
        k0 = next_fire[c]
        for p in range(in_start[c], in_start[c + 1]):
            in_phase[p] = k0 % in_plen[p]
        for p in range(out_start[c], out_start[c + 1]):
            out_phase[p] = k0 % out_plen[p]
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
                        j = readcnt[ch] + r - 1
                        if j >= written[ch]:
                            ok = False
                            break
                        v = write_time[tok_off[ch] + j] + vis_delay[ch]
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
                            rt = read_time[tok_off[ch] + jj]
                            if rt > t:
                                t = rt
                if not ok:
                    break
                for p in range(i0, i1):
                    r = pat[in_poff[p] + in_phase[p]]
                    if r > 0:
                        ch = in_ch[p]
                        base = tok_off[ch] + readcnt[ch]
                        for q in range(r):
                            read_time[base + q] = t
                        readcnt[ch] += r
                    in_phase[p] += 1
                    if in_phase[p] == in_plen[p]:
                        in_phase[p] = 0
                for p in range(o0, o1):
                    r = pat[out_poff[p] + out_phase[p]]
                    if r > 0:
                        ch = out_ch[p]
                        base = tok_off[ch] + written[ch]
                        for q in range(r):
                            write_time[base + q] = t
                        written[ch] += r
                    out_phase[p] += 1
                    if out_phase[p] == out_plen[p]:
                        out_phase[p] = 0
                last_s[c] = t
                if record:
                    fire_time[fire_off[c] + k] = t
                next_fire[c] = k + 1
                progress = True


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
