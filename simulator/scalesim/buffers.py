"""Numba kernels for SCALE-Sim 3.0.0's CALC read buffer and its ofmap write buffer.

* CALC read buffer (``read_buffer_estimate_bw.py``): reads never stall. A new address joins
  the current "set"; a set closes after ``items_per_set = floor(sram_words / 100)`` new
  addresses; an address is a hit only if it joined a set of the current window of
  ``SETS_PER_WINDOW`` sets. Every miss is one DRAM read. Instead of Python sets we keep the
  window id each address last joined (``last_window``).
* Write buffer (``write_buffer.py``): only the number of valid writes per row matters.
  Lines of ``drain_bw`` words fill; when the free space drops below the active half the
  partial line is forced out and up to ``ceil(drain_half / drain_bw)`` lines drain at one
  line per cycle. A drain counts ``lines * drain_bw`` words minus the empty slots of its
  *last* line only, so forced partial lines in the middle of a drain are over-counted (as in
  SCALE-Sim). A write that finds the buffer full while a drain is running stalls the array.

Both are checked against SCALE-Sim's own classes in ``tests/simulator/test_scalesim_compat.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Sets per window of the CALC read buffer (``int(0.5 * 100)`` in SCALE-Sim).
SETS_PER_WINDOW = 50

# Read-buffer state vector layout.
RB_COUNT = 0        # addresses added to sets so far (= DRAM reads)
RB_ELEMS = 1        # addresses in the current (open) set
RB_SET = 2          # id of the current set
RB_WIN = 3          # current window id = set id // SETS_PER_WINDOW
RB_TRIGGERS = 4     # windows completed during the run
RB_FIRST = 5        # cycle of the first request
RB_SEEN = 6         # 1 once a request was seen
RB_LAST_TRIG = 7    # cycle of the last window completion
RB_SAME_CYCLE = 8   # 1 once two windows completed in one cycle (SCALE-Sim then divides by zero)
RB_SIZE = 9


@njit(cache=True)
def read_buffer_row(state: np.ndarray, last_window: np.ndarray, addrs: np.ndarray, n_addrs: int,
                    cycle: int, items_per_set: int) -> None:
    """The valid read requests ``addrs[:n_addrs]`` of one demand row (cycle ``cycle``) through
    the CALC read buffer; ``state`` is updated in place (kept in locals inside the row)."""
    if n_addrs == 0:
        return
    if state[RB_SEEN] == 0:
        state[RB_SEEN] = 1
        state[RB_FIRST] = cycle
    win = state[RB_WIN]
    count = state[RB_COUNT]
    elems = state[RB_ELEMS]
    set_id = state[RB_SET]
    for i in range(n_addrs):
        addr = addrs[i]
        if last_window[addr] == win:
            continue
        last_window[addr] = win
        count += 1
        elems += 1
        if elems == items_per_set:
            elems = 0
            set_id += 1
            if set_id % SETS_PER_WINDOW == 0:
                if state[RB_TRIGGERS] > 0 and state[RB_LAST_TRIG] == cycle:
                    # the next prefetch (or the final one) spans last_end - last_start + 1 = 0 cycles
                    state[RB_SAME_CYCLE] = 1
                state[RB_TRIGGERS] += 1
                state[RB_LAST_TRIG] = cycle
                win = set_id // SETS_PER_WINDOW
    state[RB_WIN] = win
    state[RB_COUNT] = count
    state[RB_ELEMS] = elems
    state[RB_SET] = set_id


@njit(cache=True)
def read_buffer_dram_window(state: np.ndarray, items_per_set: int,
                            fill_bw_words: int) -> tuple[int, int]:
    """DRAM (start, stop) cycles SCALE-Sim reports for a CALC read buffer after the run."""
    if state[RB_TRIGGERS] == 0:
        nsets = (state[RB_COUNT] + items_per_set - 1) // items_per_set
        cycles = (nsets * items_per_set + fill_bw_words - 1) // fill_bw_words
        return -cycles, -1
    first = (SETS_PER_WINDOW * items_per_set + fill_bw_words - 1) // fill_bw_words
    return state[RB_FIRST] - first, state[RB_LAST_TRIG] + 1


@njit(cache=True)
def write_buffer_drain(wb: np.ndarray, lines: np.ndarray, start_cycle: int,
                       lines_per_drain: int, drain_bw: int) -> int:
    """Drain up to ``lines_per_drain`` lines starting at ``start_cycle``; returns the end cycle.

    ``wb`` = [free, line_idx, n_lines, drain_ptr, drain_end, dram_writes, dram_min, dram_max].
    """
    ptr = wb[3]
    end = min(ptr + lines_per_drain, wb[2])
    nl = end - ptr
    data = nl * drain_bw - (drain_bw - lines[end - 1])
    wb[5] += data
    last = start_cycle + nl - 1
    if start_cycle < wb[6]:
        wb[6] = start_cycle
    if last > wb[7]:
        wb[7] = last
    wb[0] += data
    wb[3] = end
    return last


@njit(cache=True)
def _push_line(wb: np.ndarray, lines: np.ndarray, words: int) -> None:
    """Append a closed line of ``words`` valid words; drained lines are compacted away when
    ``lines`` is full (raises if the undrained backlog alone fills it)."""
    if wb[2] == lines.shape[0]:
        keep = wb[2] - wb[3]
        if keep == lines.shape[0]:
            raise ValueError("ofmap line backlog exceeds the lines buffer")
        lines[:keep] = lines[wb[3]:wb[2]].copy()
        wb[2] = keep
        wb[3] = 0
    lines[wb[2]] = words
    wb[2] += 1


@njit(cache=True)
def _write_buffer_store(wb: np.ndarray, lines: np.ndarray, count: int, drain_bw: int) -> None:
    """Store ``count`` words: full lines are closed as they fill."""
    wb[0] -= count
    idx = wb[1] + count
    while idx >= drain_bw:
        _push_line(wb, lines, drain_bw)
        idx -= drain_bw
    wb[1] = idx


@njit(cache=True)
def write_buffer_row(wb: np.ndarray, lines: np.ndarray, n_writes: int, cycle: int,
                     active_words: int, lines_per_drain: int, drain_bw: int) -> int:
    """Service one demand row with ``n_writes`` valid ofmap writes; returns its out cycle.

    Equivalent to SCALE-Sim's per-word loop, but jumps from one event (stall or drain) to the
    next: between events a word only takes a slot.
    """
    current = cycle
    rem = n_writes
    while rem > 0:
        free = wb[0]
        if current < wb[4]:
            # the word that leaves no free slot waits for the running drain to finish
            j = free if free >= 1 else 1
            if j > rem:
                _write_buffer_store(wb, lines, rem, drain_bw)
                break
            _write_buffer_store(wb, lines, j, drain_bw)
            rem -= j
            if wb[0] <= 0:
                current = wb[4]
        else:
            # the word that takes free space below the active half starts a drain
            j = free - active_words + 1
            if j < 1:
                j = 1
            if j > rem:
                _write_buffer_store(wb, lines, rem, drain_bw)
                break
            _write_buffer_store(wb, lines, j, drain_bw)
            rem -= j
            if wb[0] < active_words:
                if wb[1] != 0:
                    _push_line(wb, lines, wb[1])
                    wb[1] = 0
                wb[4] = write_buffer_drain(wb, lines, current, lines_per_drain, drain_bw)
    return current


@njit(cache=True)
def write_buffer_flush(wb: np.ndarray, lines: np.ndarray, cycle: int, lines_per_drain: int,
                       drain_bw: int) -> None:
    """SCALE-Sim's ``empty_all_buffers``: force out the partial line and drain everything."""
    if wb[1] != 0:
        _push_line(wb, lines, wb[1])
        wb[1] = 0
    while wb[3] < wb[2]:
        wb[4] = write_buffer_drain(wb, lines, cycle, lines_per_drain, drain_bw)
        cycle = wb[4] + 1
