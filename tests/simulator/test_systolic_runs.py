"""The analytical model's time of a layer from its fold classes (``runs_cycles``: runs of equal folds,
periodic parts jumped) equals walking every fold (``fold_traffic`` + ``double_buffer_cycles``, what the
event fidelity replays), and so do its counts (``fold_classes`` vs ``fold_traffic``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.dataflows.dataflow import DATAFLOWS
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic.fold_time import chunk_cycles, double_buffer_cycles, runs_cycles
from acceldse.simulator.systolic.kernels import (
    CASE_FIELDS,
    OUT_FIELDS,
    Case,
    Out,
    case_folds,
    fold_classes,
    fold_cycles,
    fold_traffic,
)
from acceldse.simulator.systolic.model import build_case
from acceldse.workloads.loader import load_workload


def walked(c: np.ndarray, read_bw: float, write_bw: float, per_fold: int | None = None) -> np.ndarray:
    """``OUT_FIELDS`` of case ``c`` with every fold walked (``per_fold``: a longer fold than the array's)."""
    folds = int(case_folds(c))
    load, write, out = np.empty(folds), np.empty(folds), np.zeros(len(OUT_FIELDS))
    fold_traffic(c, load, write, out)
    per = int(fold_cycles(c[Case.ROWS], c[Case.COLS], c[Case.T])) if per_fold is None else per_fold
    out[Out.TOTAL_CYCLES] = double_buffer_cycles(load, write, per, read_bw, write_bw, c[Case.DRAM_LATENCY_CYCLES])
    return out


def jumped(c: np.ndarray, read_bw: float, write_bw: float, per_fold: int | None = None) -> np.ndarray:
    """``OUT_FIELDS`` of case ``c`` from its fold classes (what the product runs)."""
    load_cls, write_cls, out = np.zeros((3, 3)), np.zeros((3, 3)), np.zeros(len(OUT_FIELDS))
    fold_classes(c, load_cls, write_cls, out)
    per = int(fold_cycles(c[Case.ROWS], c[Case.COLS], c[Case.T])) if per_fold is None else per_fold
    out[Out.TOTAL_CYCLES] = runs_cycles(c, load_cls, write_cls, per, read_bw, write_bw)
    return out


def both(cases: np.ndarray, read_bw: float, write_bw: float) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([walked(c, read_bw, write_bw) for c in cases]),
            np.array([jumped(c, read_bw, write_bw) for c in cases]))


@settings(max_examples=300, deadline=None)
@given(sr=st.integers(1, 3000), sc=st.integers(1, 600), t=st.integers(1, 2000), groups=st.integers(1, 12),
       rows=st.sampled_from([1, 2, 3, 8, 16, 32, 128]), cols=st.sampled_from([1, 4, 7, 16, 64]),
       dataflow=st.integers(0, 2), caps=st.tuples(*[st.integers(1, 1 << 17)] * 3),
       eb=st.sampled_from([1, 2, 4]), latency=st.integers(0, 300),
       bw=st.tuples(st.floats(0.5, 256.0), st.floats(0.5, 256.0)))
def test_runs_kernel_equals_walking_every_fold(sr, sc, t, groups, rows, cols, dataflow, caps, eb, latency,
                                               bw) -> None:
    values = {"sr": sr, "sc": sc, "t": t, "groups": groups, "rows": rows, "cols": cols, "dataflow": dataflow,
              "in_bytes_unique": sr * t * eb // 3 + 1, "w_bytes_unique": sc * t * eb, "in_cap_bytes": caps[0],
              "w_cap_bytes": caps[1], "out_cap_bytes": caps[2], "in_elem_bytes": eb, "w_elem_bytes": eb,
              "out_elem_bytes": eb, "dram_latency_cycles": latency, "macs": sr * sc * t * groups}
    case = np.array([[values.get(f, 0) for f in CASE_FIELDS]], dtype=np.int64)  # N:M fields 0: dense
    walked, jumped = both(case, *bw)
    np.testing.assert_array_equal(walked, jumped)


def test_runs_kernel_on_real_networks() -> None:
    acc = load_hardware("scalesim-32x32")
    for name in ("resnet18", "mobilenet_v1", "bert_base"):
        layers = [x for x in load_workload(name).layers if x.has_weights]
        for df in ("os", "ws", "is"):
            cases = np.stack([build_case(x, DATAFLOWS[df], acc) for x in layers])
            for rows, cols in ((8, 8), (16, 64), (128, 8)):
                cases[:, Case.ROWS], cases[:, Case.COLS] = rows, cols
                for bw in (2.0, 10.0, 100.0):
                    walked, jumped = both(cases, bw, bw)
                    np.testing.assert_array_equal(walked, jumped, err_msg=f"{name} {df} {rows}x{cols} bw {bw}")


@settings(max_examples=150, deadline=None)
@given(sr=st.integers(1, 2000), sc=st.integers(1, 400), t=st.integers(1, 900), groups=st.integers(1, 6),
       rows=st.sampled_from([2, 8, 32]), cols=st.sampled_from([3, 16, 64]), dataflow=st.integers(0, 2),
       cap=st.integers(64, 1 << 16), latency=st.integers(0, 200), bw=st.floats(0.5, 128.0),
       extra=st.integers(0, 5000))
def test_retimed_runs_equal_the_fold_recurrence(sr, sc, t, groups, rows, cols, dataflow, cap, latency, bw,
                                               extra) -> None:
    """The fold classes' time with a longer fold (an SRAM tier that cannot keep up) = ``double_buffer_cycles``
    over every fold at that length."""
    values = {"sr": sr, "sc": sc, "t": t, "groups": groups, "rows": rows, "cols": cols, "dataflow": dataflow,
              "in_bytes_unique": sr * t // 2 + 1, "w_bytes_unique": sc * t, "in_cap_bytes": cap, "w_cap_bytes": cap,
              "out_cap_bytes": cap, "in_elem_bytes": 1, "w_elem_bytes": 1, "out_elem_bytes": 1,
              "dram_latency_cycles": latency, "macs": sr * sc * t * groups}
    case = np.array([[values.get(f, 0) for f in CASE_FIELDS]], dtype=np.int64)  # N:M fields 0: dense
    per_fold = 2 * rows + cols + t - 2 + extra
    assert jumped(case[0], bw, bw, per_fold)[Out.TOTAL_CYCLES] == walked(case[0], bw, bw, per_fold)[Out.TOTAL_CYCLES]


@settings(max_examples=150, deadline=None)
@given(sr=st.integers(1, 600), sc=st.integers(1, 300), t=st.integers(1, 500), groups=st.integers(1, 5),
       rows=st.sampled_from([1, 3, 8, 32]), cols=st.sampled_from([1, 4, 7, 16]), dataflow=st.integers(0, 2),
       caps=st.tuples(*[st.integers(1, 1 << 15)] * 3), latency=st.integers(0, 300),
       bw=st.tuples(st.floats(0.5, 64.0), st.floats(0.5, 64.0)), cut=st.tuples(st.floats(0, 1), st.floats(0, 1)),
       per_fold=st.integers(1, 500))
def test_chunk_cycles_equals_walking_the_chunk(sr, sc, t, groups, rows, cols, dataflow, caps, latency, bw, cut,
                                               per_fold) -> None:
    """A core's chunk of a multi-core layer, timed from the fold classes (no per-fold array), equals
    ``double_buffer_cycles`` over the same slice of ``fold_traffic``'s per-fold bytes."""
    values = {"sr": sr, "sc": sc, "t": t, "groups": groups, "rows": rows, "cols": cols, "dataflow": dataflow,
              "in_bytes_unique": sr * t // 3 + 1, "w_bytes_unique": sc * t, "in_cap_bytes": caps[0],
              "w_cap_bytes": caps[1], "out_cap_bytes": caps[2], "in_elem_bytes": 1, "w_elem_bytes": 1,
              "out_elem_bytes": 1, "dram_latency_cycles": latency, "macs": sr * sc * t * groups}
    c = np.array([values.get(f, 0) for f in CASE_FIELDS], dtype=np.int64)
    folds = int(case_folds(c))
    load, write = np.empty(folds), np.empty(folds)
    fold_traffic(c, load, write, np.zeros(len(OUT_FIELDS)))
    load_cls, write_cls = np.zeros((3, 3)), np.zeros((3, 3))
    fold_classes(c, load_cls, write_cls, np.zeros(len(OUT_FIELDS)))
    start, stop = sorted(int(x * folds) for x in cut)
    want = double_buffer_cycles(load[start:stop], write[start:stop], per_fold, *bw, latency)
    assert chunk_cycles(c, load_cls, write_cls, per_fold, *bw, start, stop) == want
