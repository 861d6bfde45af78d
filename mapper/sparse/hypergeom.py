"""The hypergeometric distribution's probabilities, compiled: ``pmf(k, total, good, draws)`` is the
probability that ``draws`` elements taken without replacement from ``total``, ``good`` of them
non-zero, hold ``k`` non-zeros.

Computed as three binomial probabilities (``pmf = b(k; good, p) b(draws - k; total - good, p) /
b(draws; total, p)`` with ``p = draws / total``) in Loader's saddle-point form (C. Loader, *Fast and
accurate computation of binomial probabilities*, 2000): the Stirling-series error of the factorials
and the deviance ``x log(x / np) + np - x`` summed as a series near ``np``; the three exponents are
added before one ``exp`` and the variance factors taken under one square root, so a probability near
the mode keeps its relative accuracy for tensors of any size (summing log-factorials would lose
~``log10(total)`` digits). Impossible outcomes are exactly 0 and certain
ones exactly 1 (a tile that is the whole tensor holds its non-zeros). Sparseloop evaluates the same
probabilities (with Boost's hypergeometric ``pdf``); the figures of the Timeloop model runs in
``tests/golden/timeloop/model_runs/sparse`` hold to every printed digit with these.

The batched kernel (``kernel_tiles``) and the per-mapping analysis (``density.Hypergeometric``,
``representation``) call the same compiled functions, so both get the same floats.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
from numba import njit

_PI = Decimal("3.14159265358979323846264338327950288419716939937510")


def _stirling_errors(n_max: int = 15) -> np.ndarray:
    """``ln(n!) - (n + 1/2) ln(n) + n - ln(sqrt(2 pi))`` for n = 0..n_max (0 at n = 0), exact to the
    double (50-digit decimal arithmetic)."""
    out = np.zeros(n_max + 1)
    with localcontext() as ctx:
        ctx.prec = 50
        half_log_2pi = (2 * _PI).ln() / 2
        log_fact = Decimal(0)
        for n in range(1, n_max + 1):
            log_fact += Decimal(n).ln()
            out[n] = float(log_fact - (Decimal(n) + Decimal("0.5")) * Decimal(n).ln() + n - half_log_2pi)
    return out


STIRLING_ERRORS = _stirling_errors()


@njit(cache=True)
def stirling_error(n: float) -> float:
    """``ln(n!) - (n + 1/2) ln(n) + n - ln(sqrt(2 pi))`` of an integer ``n`` >= 0: the table up to 15,
    the Stirling series (coefficients 1/12, 1/360, 1/1260, 1/1680, 1/1188) above, fewer terms for larger n."""
    if n <= 15.0:
        return STIRLING_ERRORS[int(n)]
    nn = n * n
    if n > 500.0:
        return (1.0 / 12.0 - (1.0 / 360.0) / nn) / n
    if n > 80.0:
        return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0) / nn) / nn) / n
    if n > 35.0:
        return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0) / nn) / nn) / nn) / n
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - (1.0 / 1188.0) / nn) / nn) / nn) / nn) / n


@njit(cache=True)
def deviance(x: float, d: float) -> float:
    """``x ln(x / m) + m - x`` at ``m = x - d`` without cancellation: near ``m`` as the series
    ``d v + 2 x (v^3 / 3 + v^5 / 5 + ...)`` with ``v = d / (x + m)``, else ``x ln(1 + d / m) - d``."""
    m = x - d
    if abs(d) < 0.1 * (x + m):
        v = d / (x + m)
        total = d * v
        term = 2.0 * x * v
        v2 = v * v
        j = 1
        while j < 1000:
            term *= v2
            nxt = total + term / (2 * j + 1)
            if nxt == total:
                return nxt
            total = nxt
            j += 1
        return total
    return x * math.log1p(d / m) - d


@njit(cache=True)
def log_binomial(x: int, n: int, draws: int, total: int) -> tuple[float, float]:
    """P(``x`` successes of ``n`` trials at success probability ``draws / total`` (0 < draws < total)) as
    (``lc``, ``w``): the probability is ``exp(lc) / sqrt(w)`` (``w = 2 pi x (1 - x / n)``, 1 at x = 0 or
    n). The distance of ``x`` from the mean, ``(x total - n draws) / total``, is rounded once, so the
    exponent near the mode is accurate to its last digits."""
    if x == 0:
        return (0.0 if n == 0 else n * math.log1p(-draws / total)), 1.0
    if x == n:
        return n * math.log1p(-(total - draws) / total), 1.0
    d = float(x * total - n * draws) / total
    lc = (stirling_error(float(n)) - stirling_error(float(x)) - stirling_error(float(n - x))
          - deviance(float(x), d) - deviance(float(n - x), -d))
    return lc, 2.0 * math.pi * x * (1.0 - x / n)


EXACT = 2 ** 53
"""Integers below this are exact doubles."""


@njit(cache=True)
def choose(n: int, k: int) -> int:
    """C(n, k) if it is below ``EXACT``, else -1."""
    k = min(k, n - k)
    c = 1
    for i in range(k):
        if c > EXACT // (n - i):
            return -1
        c = c * (n - i) // (i + 1)
    return c if c < EXACT else -1


@njit(cache=True)
def pmf(k: int, total: int, good: int, draws: int) -> float:
    """P(``draws`` of ``total`` elements, ``good`` of them non-zero, hold ``k`` non-zeros): the ratio of
    the counts ``C(good, k) C(total - good, draws - k) / C(total, draws)`` when they are exact doubles
    (then correctly rounded: a tile of one element is empty with exactly ``(total - good) / total``),
    else Loader's form."""
    if k < 0 or k > good or k > draws or draws - k > total - good:
        return 0.0
    if draws == 0 or good == 0 or good == total:
        return 1.0     # the only possible outcome (checked above)
    if draws == total:
        return 1.0 if k == good else 0.0
    if 2 * draws > total:   # the elements not drawn hold the other non-zeros: the same probability
        k, draws = good - k, total - draws
    if 2 * good > total:    # the zeros drawn are the draws that are not non-zeros
        k, good = draws - k, total - good
    ways = choose(total, draws)
    if ways > 0:   # then both counts of the numerator, and their product, are below it
        return float(choose(good, k) * choose(total - good, draws - k)) / float(ways)
    lc1, w1 = log_binomial(k, good, draws, total)
    lc2, w2 = log_binomial(draws - k, total - good, draws, total)
    lc3, w3 = log_binomial(draws, total, draws, total)
    return math.exp(lc1 + lc2 - lc3) * math.sqrt(w3 / (w1 * w2))


@njit(cache=True)
def pmf_array(k: np.ndarray, total: np.ndarray, good: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """``pmf`` element-wise over four int64 arrays of one shape."""
    out = np.empty(k.shape[0])
    for i in range(k.shape[0]):
        out[i] = pmf(k[i], total[i], good[i], draws[i])
    return out


def pmf_of(k: object, total: object, good: object, draws: object) -> np.ndarray:
    """``pmf`` of integers or integer arrays, broadcast (an array of their broadcast shape)."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.int64) for v in (k, total, good, draws)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    return pmf_array(*flat).reshape(shape)
