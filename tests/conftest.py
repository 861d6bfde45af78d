"""Test-suite settings: Hypothesis runs derandomised in CI (the same examples every run, so a
landing is never decided by a new random draw) and without per-example deadlines (a loaded
2-core machine must not turn slow examples into failures). Results acceldse caches (``validate``'s) go to
one folder per test session, not the developer's ``~/.cache``; notebook kernels inherit it."""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

os.environ.setdefault("ACCELDSE_CACHE_DIR", tempfile.mkdtemp(prefix="acceldse-test-cache-"))
