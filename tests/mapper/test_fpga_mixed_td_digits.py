"""Mixed-TD on a CNN trained here (scikit-learn digits, CPU torch): throughput per DSP vs accuracy.

The figures quoted in README.md / docs/fpga.md ("Mixed-TD accuracy") come from this run:
``python benchmarks/mixed_td_digits.py --platform zcu102``.
"""

import pytest

from benchmarks.mixed_td_digits import accuracy, mixed_td_table, reconstructed, train

pytestmark = pytest.mark.slow  # trains a CNN (about 3 s of CPU) and runs the optimiser 4 times


@pytest.fixture(scope="module")
def cnn():  # type: ignore[no-untyped-def]
    return train()


def test_trained_cnn_is_accurate(cnn) -> None:  # type: ignore[no-untyped-def]
    assert accuracy(cnn, cnn.weights) > 0.95


def test_accuracy_cost_of_decomposition_under_error_bounds(cnn) -> None:  # type: ignore[no-untyped-def]
    rows = mixed_td_table(cnn, "zcu102", bounds=(0.05, 0.3, 0.5))
    base, tight, mid, loose = rows
    assert base["gain"] == 1.0 and base["accuracy_after"] == base["accuracy_before"]
    # a 5 % bound admits no decomposition of this trained network: nothing changes
    assert tight["decomposed"] == "" and tight["gain"] == pytest.approx(1.0)
    # 30 %: fc1 at half rank, +5 % throughput per DSP, no accuracy lost on the held-out digits
    assert mid["decomposed"] == "fc1=svd:32"
    assert mid["gain"] == pytest.approx(1.046, abs=0.005)
    assert mid["accuracy_after"] == pytest.approx(mid["accuracy_before"], abs=1e-9)
    # 50 %: fc1 at quarter rank, +8 % throughput per DSP for 0.28 points of accuracy
    assert loose["decomposed"] == "fc1=svd:16"
    assert loose["gain"] == pytest.approx(1.076, abs=0.005)
    assert loose["accuracy_before"] - loose["accuracy_after"] == pytest.approx(0.0028, abs=0.004)


def test_reconstruction_at_full_rank_keeps_accuracy(cnn) -> None:  # type: ignore[no-untyped-def]
    full = reconstructed(cnn.weights, {"fc1": ("svd", 64), "fc2": ("svd", 10)})
    assert accuracy(cnn, full) == pytest.approx(accuracy(cnn, cnn.weights))
