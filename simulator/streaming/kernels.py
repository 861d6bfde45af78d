"""Numba kernels for the compiled streaming executor (pure, over caller-allocated arrays).

Times are in cycles (int64). Token ``j`` of channel ``ch`` lives at
``roff[ch] + j % ring[ch]`` in ``write_time`` / ``read_time``.
"""

from __future__ import annotations

from typing import Any

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
def _advance(r: int, now, users: np.ndarray, rem: np.ndarray, active: np.ndarray, res_last: np.ndarray,
             res_nj: np.ndarray, res_busy: np.ndarray) -> None:
    """Processor sharing: every job in flight on resource ``r`` got ``1 / n`` of it since the last event."""
    elapsed = now - res_last[r]
    if elapsed > 0 and res_nj[r] > 0:
        share = elapsed / res_nj[r]
        for c in users:
            if active[c]:
                rem[c] -= share
        res_busy[r] += elapsed
    res_last[r] = now


@njit(cache=True)
def run_net(nfire: np.ndarray, in_start: np.ndarray, in_ch: np.ndarray, in_poff: np.ndarray, in_plen: np.ndarray,
            out_start: np.ndarray, out_ch: np.ndarray, out_poff: np.ndarray, out_plen: np.ndarray,
            pat: np.ndarray, tpat: np.ndarray, toff: np.ndarray, tlen: np.ndarray, res: np.ndarray,
            res_shared: np.ndarray, cap: np.ndarray, ch_lat: np.ndarray, init: np.ndarray, init_write: np.ndarray,
            ch_src: np.ndarray, ch_dst: np.ndarray, ntok: np.ndarray, comp_ctx: np.ndarray, comp_res: np.ndarray,
            record: bool, eps: float) -> tuple[Any, ...]:
    """Run a flat net (``flat.FlatNet``'s arrays; ``comp_ctx`` / ``comp_res``: its independent parts) to
    completion or deadlock: the token rings, the resources' users and every context's neighbours made here,
    then :func:`execute`. Times are ``tpat``'s dtype.

    Returns (firings, written, read, max_occupancy, last_start, fire_time, end_time, fire_off, write_time,
    read_time, roff, res_busy, res_count, shared_ok): per channel tokens written / read, its most tokens at
    once and its tokens' ring offset; per context its firings, its last start and where its firings' times
    start in ``fire_time`` / ``end_time`` (recorded runs); per resource its busy time and (jobs, work, peak);
    ``shared_ok`` is False when a resource with several users is not shared (nothing is run then)."""
    n_ch, nctx, nres = cap.shape[0], nfire.shape[0], res_shared.shape[0]
    ring, roff = np.empty(n_ch, np.int64), np.zeros(n_ch, np.int64)
    total = 0
    for ch in range(n_ch):
        tokens = ntok[ch] + init[ch]
        ring[ch] = max(tokens if record else min(cap[ch], tokens), 1)
        roff[ch] = total
        total += ring[ch]
    write_time, vis_time, read_time = np.empty(total, tpat.dtype), np.empty(total, tpat.dtype), \
        np.empty(total, tpat.dtype)
    for ch in range(n_ch):
        for j in range(init[ch]):
            write_time[roff[ch] + j] = init_write[ch]
            vis_time[roff[ch] + j] = 0
    fire_off = np.zeros(nctx, np.int64)
    nrec = 0
    for c in range(nctx):
        fire_off[c] = nrec if record else 0
        nrec += nfire[c]
    nrec = nrec if record else 0
    users = np.zeros(nres, np.int64)
    for c in range(nctx):
        if res[c] >= 0:
            users[res[c]] += 1
    ru_start = np.zeros(nres + 1, np.int64)
    shared_ok = True
    for r in range(nres):
        ru_start[r + 1] = ru_start[r] + users[r]
        if users[r] > 1 and not res_shared[r]:
            shared_ok = False
    ru, fill = np.empty(ru_start[nres], np.int64), ru_start[:nres].copy()
    for c in range(nctx):  # each resource's users in context order
        if res[c] >= 0:
            ru[fill[res[c]]] = c
            fill[res[c]] += 1
    pairs = np.unique(np.concatenate((ch_src * nctx + ch_dst, ch_dst * nctx + ch_src)))  # sorted, once each
    adj_start, adj = np.zeros(nctx + 1, np.int64), np.empty(pairs.shape[0], np.int64)
    for q in range(pairs.shape[0]):
        adj_start[pairs[q] // nctx + 1] += 1
        adj[q] = pairs[q] % nctx
    for c in range(nctx):
        adj_start[c + 1] += adj_start[c]
    written, readcnt, best = init.copy(), np.zeros(n_ch, np.int64), np.zeros(n_ch, np.int64)
    next_fire, last_s = np.zeros(nctx, np.int64), np.full(nctx, -1, tpat.dtype)
    fire_time, end_time = np.zeros(nrec, tpat.dtype), np.zeros(nrec, tpat.dtype)
    res_busy, res_count = np.zeros(nres), np.zeros((nres, 3))
    if shared_ok:
        execute(nfire, in_start, in_ch, in_poff, in_plen, out_start, out_ch, out_poff, out_plen, pat, tpat, toff,
                tlen, res, cap, ch_lat, roff, ring, written, readcnt, write_time, vis_time, read_time, best,
                next_fire, last_s, fire_time, end_time, fire_off, record, adj_start, adj, res_shared, ru_start, ru,
                eps, res_busy, res_count, comp_ctx, comp_res)
    return (next_fire, written, readcnt, best, last_s, fire_time, end_time, fire_off, write_time, read_time, roff,
            res_busy, res_count, shared_ok)


@njit(cache=True)
def execute(nfire: np.ndarray, in_start: np.ndarray, in_ch: np.ndarray, in_poff: np.ndarray, in_plen: np.ndarray,
            out_start: np.ndarray, out_ch: np.ndarray, out_poff: np.ndarray, out_plen: np.ndarray,
            pat: np.ndarray, tpat: np.ndarray, toff: np.ndarray, tlen: np.ndarray, res: np.ndarray,
            cap: np.ndarray, ch_lat: np.ndarray, roff: np.ndarray, ring: np.ndarray,
            written: np.ndarray, readcnt: np.ndarray, write_time: np.ndarray, vis_time: np.ndarray,
            read_time: np.ndarray, best: np.ndarray, next_fire: np.ndarray, last_s: np.ndarray,
            fire_time: np.ndarray, end_time: np.ndarray, fire_off: np.ndarray, record: bool,
            adj_start: np.ndarray, adj: np.ndarray, res_shared: np.ndarray, ru_start: np.ndarray, ru: np.ndarray,
            eps: float, res_busy: np.ndarray, res_count: np.ndarray, comp_ctx: np.ndarray,
            comp_res: np.ndarray) -> None:
    """Compute the start (and end) of every firing of every context, in place.

    Firing ``k`` of context ``c`` starts at ``s = max(ready[c], visible time of every input
    token it consumes, read time of the token ``cap[ch]`` places earlier on every output
    channel)``; it reads its inputs at ``s``. Its *anchor* is ``s``, or, when it does
    ``work > 0`` on a resource, the cycle that work completes (``s + work`` alone on the
    resource; on a resource with ``res_shared``, processor-shared among the jobs in flight, each
    progressing at ``1 / n`` of the rate). Its outputs are written at the anchor and visible
    ``latency + ch_lat[ch]`` later; ``ready[c] = anchor + ii`` for the next firing. ``ii``,
    ``latency`` and ``work`` are cyclic patterns per context (``tpat[toff[c, i]: + tlen[c, i]]``
    for i = 0, 1, 2). A firing with work moves no output tokens (checked when lowering).

    Contexts advance from a work list, each as far as its dependencies allow; a context that
    fired puts its neighbours (``adj[adj_start[c]: adj_start[c + 1]]``, the other ends of its
    channels) back on the list; the list empties when nothing can fire (all done, or deadlock).
    The times do not depend on this order. With shared resources the same propagation
    alternates with the resources' events taken in time order (a job's arrival, or the
    completion of the job that finishes first; ``ru[ru_start[r]: ru_start[r + 1]]`` are the
    users of resource ``r``), so every arrival is known before the shares it changes are
    computed; resources are independent of each other. Token ``j`` of channel ``ch`` lives at ``roff[ch] + j %
    ring[ch]`` of ``write_time`` / ``vis_time`` / ``read_time``. ``written`` holds the initial
    tokens, already stored. ``best[ch]`` receives the channel's maximum occupancy;
    ``res_busy[r]`` the time resource ``r`` had a job, ``res_count[r, :]`` its jobs, work and
    peak concurrency. Components that share no channel and no resource (contexts
    ``comp_ctx[i]: comp_ctx[i + 1]``, resources ``comp_res[i]: comp_res[i + 1]``) run one after the
    other: the same times, without scanning every resource at every resource event.
    """
    nctx = nfire.shape[0]
    nch = cap.shape[0]
    nres = res_busy.shape[0]
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
    tphase = np.zeros((nctx, 3), np.int64)
    ready = np.zeros(nctx, write_time.dtype)
    # shared resources: the pending job of each context (arrival, remaining work, admitted)
    pending = np.zeros(nctx, np.bool_)
    active = np.zeros(nctx, np.bool_)
    arrive = np.zeros(nctx, write_time.dtype)
    rem = np.zeros(nctx, np.float64)
    pend_ii = np.zeros(nctx, write_time.dtype)
    res_last = np.zeros(nres, np.float64)
    res_nj = np.zeros(nres, np.int64)
    res_wake = np.full(nres, np.inf)
    res_arr = np.full(nres, np.inf)  # per resource: its earliest pending arrival and whose
    res_who = np.full(nres, nctx, np.int64)
    stack = np.empty(nctx, np.int64)
    inq = np.zeros(nctx, np.bool_)
    for comp in range(comp_ctx.shape[0] - 1):
        ctx_lo, ctx_hi, res_lo, res_hi = comp_ctx[comp], comp_ctx[comp + 1], comp_res[comp], comp_res[comp + 1]
        any_shared = False
        for r in range(res_lo, res_hi):
            if res_shared[r]:
                any_shared = True
        top = ctx_hi - ctx_lo
        for i in range(top):
            stack[i] = ctx_hi - 1 - i
            inq[ctx_hi - 1 - i] = True
        while True:
            while top > 0:
                top -= 1
                c = stack[top]
                inq[c] = False
                if pending[c]:
                    continue
                fired = False
                i0 = in_start[c]
                i1 = in_start[c + 1]
                o0 = out_start[c]
                o1 = out_start[c + 1]
                while next_fire[c] < nfire[c]:
                    k = next_fire[c]
                    t = ready[c]
                    ok = True
                    for p in range(i0, i1):
                        r = pat[in_poff[p] + in_phase[p]]
                        if r > 0:
                            ch = in_ch[p]
                            if readcnt[ch] + r - 1 >= written[ch]:
                                ok = False
                                break
                            for q in range(r):
                                v = vis_time[roff[ch] + _wrap(rpos[ch] + q, ring[ch])]
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
                    ii = tpat[toff[c, 0] + tphase[c, 0]]
                    lat = tpat[toff[c, 1] + tphase[c, 1]]
                    work = tpat[toff[c, 2] + tphase[c, 2]]
                    for i in range(3):
                        tphase[c, i] += 1
                        if tphase[c, i] == tlen[c, i]:
                            tphase[c, i] = 0
                    last_s[c] = t
                    if record:
                        fire_time[fire_off[c] + k] = t
                    fired = True
                    anchor = t
                    if work > 0:
                        if res[c] >= 0:
                            res_count[res[c], 0] += 1
                            res_count[res[c], 1] += work
                            if res_shared[res[c]]:  # wait for the resource's events (time order)
                                pending[c] = True
                                arrive[c] = t
                                r0 = res[c]
                                if t < res_arr[r0] or (t == res_arr[r0] and c < res_who[r0]):
                                    res_arr[r0] = t  # its earliest arrival, the lowest context on a tie
                                    res_who[r0] = c
                                rem[c] = work
                                pend_ii[c] = ii
                                for p in range(o0, o1):  # a firing with work writes no tokens
                                    out_phase[p] += 1
                                    if out_phase[p] == out_plen[p]:
                                        out_phase[p] = 0
                                break
                            res_count[res[c], 2] = max(res_count[res[c], 2], 1.0)
                            res_busy[res[c]] += work
                        anchor = t + work
                    for p in range(o0, o1):
                        r = pat[out_poff[p] + out_phase[p]]
                        ch = out_ch[p]
                        for _ in range(r):
                            write_time[roff[ch] + wpos[ch]] = anchor
                            vis_time[roff[ch] + wpos[ch]] = anchor + (lat + ch_lat[ch])
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
                    if record:
                        end_time[fire_off[c] + k] = anchor
                    ready[c] = anchor + ii
                    next_fire[c] = k + 1
                if fired:
                    for q in range(adj_start[c], adj_start[c + 1]):
                        nb = adj[q]
                        if not inq[nb]:
                            inq[nb] = True
                            stack[top] = nb
                            top += 1
            if not any_shared:
                break
            # the earliest resource event: a pending job's arrival (first on a tie) or a resource's next completion
            best_t = np.inf
            who = -1
            for r in range(res_lo, res_hi):
                if res_arr[r] <= res_wake[r]:
                    if res_arr[r] < best_t:
                        best_t = res_arr[r]
                        who = res_who[r]
                elif res_wake[r] < best_t:
                    best_t = res_wake[r]
                    who = nctx + r
            if who < 0:
                break
            r = res[who] if who < nctx else who - nctx
            _advance(r, best_t, ru[ru_start[r]: ru_start[r + 1]], rem, active, res_last, res_nj, res_busy)
            if who < nctx:
                active[who] = True
                res_nj[r] += 1
                res_count[r, 2] = max(res_count[r, 2], float(res_nj[r]))
                res_arr[r] = np.inf
                res_who[r] = nctx
                for q in range(ru_start[r], ru_start[r + 1]):
                    c = ru[q]
                    if pending[c] and not active[c] and (arrive[c] < res_arr[r] or
                                                         (arrive[c] == res_arr[r] and c < res_who[r])):
                        res_arr[r] = arrive[c]
                        res_who[r] = c
            least = np.inf
            for q in range(ru_start[r], ru_start[r + 1]):  # finished jobs complete now; the others set the next
                c = ru[q]
                if active[c]:
                    if rem[c] <= eps:
                        active[c] = False
                        pending[c] = False
                        res_nj[r] -= 1
                        if record:
                            end_time[fire_off[c] + next_fire[c]] = best_t
                        ready[c] = best_t + pend_ii[c]
                        next_fire[c] += 1
                        if not inq[c]:
                            inq[c] = True
                            stack[top] = c
                            top += 1
                    elif rem[c] < least:
                        least = rem[c]
            res_wake[r] = best_t + least * res_nj[r] if res_nj[r] > 0 else np.inf
    for ch in range(nch):  # deadlock: writes never followed by the read that would finalize them
        for j in range(done[ch], written[ch]):
            _finalize(ch, j, j % ring[ch], readcnt[ch], write_time, read_time, roff, ring, pidx, ppos, best)
