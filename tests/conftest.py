"""Test-suite settings: Hypothesis runs derandomised in CI (the same examples every run, so a
landing is never decided by a new random draw) and without per-example deadlines (a loaded
2-core machine must not turn slow examples into failures).

Everything the suite writes outside a test's ``tmp_path`` goes to one scratch folder per session, removed
when the session ends: the results acceldse caches (``validate``'s, ``$ACCELDSE_CACHE_DIR``) and
Stable-Baselines3's logger folder (``$SB3_LOGDIR``; without it every ``learn()`` leaves a
``/tmp/SB3-<time>`` folder). Both are environment variables, so notebook kernels, CLI subprocesses and
pytest-xdist's workers inherit them (the workers share the controller's folder, and with it ``validate``'s
saved sources).

``make test`` runs the suite on two pytest-xdist workers, a test file at a time (``--dist loadfile``: what a
module computes once for its tests, a module-scoped fixture or a ``functools.cache``, is computed once)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

SCRATCH = tempfile.mkdtemp(prefix="acceldse-tests-")
os.environ.setdefault("ACCELDSE_CACHE_DIR", os.path.join(SCRATCH, "cache"))
os.environ.setdefault("SB3_LOGDIR", os.path.join(SCRATCH, "sb3"))


def pytest_unconfigure() -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)

