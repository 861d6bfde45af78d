"""Cycle-level systolic kernels: real outputs, measured cycles = analytical, per-cycle activity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceldse.simulator.systolic.cycle import analytical_compute_cycles, operand_shape, run_gemm_cycle
from acceldse.simulator.systolic.kernels import fold_cycles
from acceldse.workloads.errors import SpecError

DATAFLOWS = ("os", "ws", "is")
dims = st.integers(1, 64)
sides = st.integers(1, 16)


def reference_schedule(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: str
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Slow pure-Python model: enumerate every MAC with the cycle the micro-architecture gives it.

    os: fold of 2R + C + T - 2 cycles, PE(i, j) does MAC k at i + j + k.
    ws/is: R load cycles, then PE(i, j) does the MAC of stream element t at R + t + i + j.
    Folds run column-fold outer, row-fold inner. Returns (output, per-cycle useful MACs).
    """
    m, k = a.shape
    n = b.shape[1]
    sr, sc, t_len = operand_shape(dataflow, m, k, n)
    per_fold = 2 * rows + cols + t_len - 2
    folds = [(r0, c0) for c0 in range(0, sc, cols) for r0 in range(0, sr, rows)]
    activity = [0] * (per_fold * len(folds))
    out = [[0] * n for _ in range(m)]
    for f, (r0, c0) in enumerate(folds):
        start = f * per_fold
        for i in range(min(rows, sr - r0)):
            for j in range(min(cols, sc - c0)):
                for t in range(t_len):
                    if dataflow == "os":
                        cycle, (mi, ki, ni) = start + i + j + t, (r0 + i, t, c0 + j)
                    elif dataflow == "ws":
                        cycle, (mi, ki, ni) = start + rows + t + i + j, (t, r0 + i, c0 + j)
                    else:
                        cycle, (mi, ki, ni) = start + rows + t + i + j, (c0 + j, r0 + i, t)
                    activity[cycle] += 1
                    out[mi][ni] += int(a[mi, ki]) * int(b[ki, ni])
    return np.array(out, dtype=np.int64), np.array(activity, dtype=np.int64)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (3, 5, 2, 2, 3), (7, 4, 9, 3, 2), (5, 6, 4, 4, 4),
                                   (2, 9, 11, 1, 5), (6, 3, 5, 5, 1)])
def test_kernel_matches_python_step_model(dataflow: str, shape: tuple[int, ...]) -> None:
    m, k, n, rows, cols = shape
    rng = np.random.default_rng(sum(shape))
    a = rng.integers(-5, 6, (m, k))
    b = rng.integers(-5, 6, (k, n))
    res = run_gemm_cycle(a, b, rows, cols, dataflow)
    want_out, want_activity = reference_schedule(a, b, rows, cols, dataflow)
    np.testing.assert_array_equal(res.output, want_out)
    np.testing.assert_array_equal(res.activity, want_activity)


@settings(max_examples=120, deadline=None)
@given(m=dims, k=dims, n=dims, rows=sides, cols=sides, dataflow=st.sampled_from(DATAFLOWS), seed=st.integers(0, 2**31))
def test_integer_gemm_exact_and_cycles_equal_analytical(m: int, k: int, n: int, rows: int, cols: int, dataflow: str,
                                                        seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(-100, 101, (m, k))
    b = rng.integers(-100, 101, (k, n))
    res = run_gemm_cycle(a, b, rows, cols, dataflow)
    assert res.output.dtype == np.int64
    np.testing.assert_array_equal(res.output, a @ b)
    sr, sc, t = operand_shape(dataflow, m, k, n)
    folds = -(-sr // rows) * -(-sc // cols)
    assert res.folds == folds
    assert res.cycles == folds * fold_cycles(rows, cols, t) == analytical_compute_cycles(dataflow, m, k, n,
                                                                                            rows, cols)
    assert res.activity.shape == (res.cycles,)
    assert res.activity.max() <= rows * cols
    assert res.activity.min() >= 0
    assert int(res.activity.sum()) == m * k * n
    assert res.utilization == pytest.approx(m * k * n / (res.cycles * rows * cols), rel=1e-12)
    assert 0.0 < res.utilization <= 1.0


@settings(max_examples=40, deadline=None)
@given(m=dims, k=dims, n=dims, rows=sides, cols=sides, dataflow=st.sampled_from(DATAFLOWS), seed=st.integers(0, 2**31))
def test_float_gemm_close_to_numpy(m: int, k: int, n: int, rows: int, cols: int, dataflow: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    res = run_gemm_cycle(a, b, rows, cols, dataflow)
    assert res.output.dtype == np.float64
    np.testing.assert_allclose(res.output, a @ b, rtol=1e-10, atol=1e-10)
    assert res.cycles == analytical_compute_cycles(dataflow, m, k, n, rows, cols)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_batched_groups_run_in_sequence(dataflow: str) -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(-3, 4, (5, 6, 7))
    b = rng.integers(-3, 4, (5, 7, 4))
    res = run_gemm_cycle(a, b, 4, 3, dataflow)
    np.testing.assert_array_equal(res.output, np.matmul(a, b))
    assert res.cycles == analytical_compute_cycles(dataflow, 6, 7, 4, 4, 3, groups=5)


def test_full_fold_peak_activity_is_whole_array() -> None:
    """On a full 8x8 fold with T >= R + C, os reaches every PE busy in some cycle."""
    rng = np.random.default_rng(0)
    res = run_gemm_cycle(rng.integers(-2, 3, (8, 40)), rng.integers(-2, 3, (40, 8)), 8, 8, "os")
    assert res.activity.max() == 64
    assert res.activity[-8:].sum() == 0  # the drain does no MACs


@pytest.mark.parametrize("bad", [
    dict(a=np.ones((3, 4)), b=np.ones((5, 2))),
    dict(a=np.ones((3, 4)), b=np.ones((4, 2)), rows=0),
    dict(a=np.ones((3, 4)), b=np.ones((4, 2)), dataflow="rs"),
    dict(a=np.array([["x"]]), b=np.ones((1, 1))),
    dict(a=np.ones((0, 4)), b=np.ones((4, 2))),
])
def test_bad_input_is_a_spec_error(bad: dict) -> None:
    args = {"rows": 4, "cols": 4, "dataflow": "os", **bad}
    with pytest.raises(SpecError):
        run_gemm_cycle(args["a"], args["b"], args["rows"], args["cols"], args["dataflow"])
