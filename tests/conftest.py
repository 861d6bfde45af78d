"""Test-suite settings: Hypothesis runs derandomised in CI (the same examples every run, so a
landing is never decided by a new random draw) and without per-example deadlines (a loaded
2-core machine must not turn slow examples into failures).

Everything the suite writes outside a test's ``tmp_path`` goes to one scratch folder per session, removed
when the session ends: the results acceldse caches (``validate``'s, ``$ACCELDSE_CACHE_DIR``) and
Stable-Baselines3's logger folder (``$SB3_LOGDIR``; without it every ``learn()`` leaves a
``/tmp/SB3-<time>`` folder). Both are environment variables, so notebook kernels, CLI subprocesses and
pytest-xdist's workers inherit them (the workers share the controller's folder, and with it ``validate``'s
saved sources: the validation test and the validation notebook, running at once on the two workers, split
its sources between them). The cache folder is always the session's own (a store from another run is never
read).

``make test`` runs the suite on two pytest-xdist workers, a test file at a time (``--dist loadfile``: what a
module computes once for its tests, a module-scoped fixture or a ``functools.cache``, is computed once). The
workers take the files in collection order, except that the slowest files (``SLOWEST_FIRST``) go first, so no
long file is left for one worker at the end while the other waits."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

SLOWEST_FIRST = (
    "tests/test_notebooks.py", "tests/acceldse/test_validation.py", "tests/test_docs_commands.py",
    "tests/acceldse/test_fuzz_cli.py", "tests/test_packaging.py", "tests/test_docs_site.py",
    "tests/acceldse/test_bench_proxy.py", "tests/acceldse/test_proxy.py",
    "tests/simulator/test_scalesim_compat_golden.py", "tests/simulator/test_scalesim_sparse.py",
    "tests/acceldse/test_cli.py", "tests/simulator/test_cycle_layers.py",
    "tests/mapper/test_fpga_mixed_td_digits.py", "tests/mapper/test_fpga_decomposition.py",
)
"""Test files by their wall time on one core, slowest first (``pytest --durations``); the order of the others
and the tests themselves are unaffected, and a stale list only costs a little wall time."""

SCRATCH = tempfile.mkdtemp(prefix="acceldse-tests-")
if not os.environ.get("PYTEST_XDIST_WORKER"):  # a worker keeps its controller's: what the session computed, only
    os.environ["ACCELDSE_CACHE_DIR"] = os.path.join(SCRATCH, "cache")
os.environ.setdefault("SB3_LOGDIR", os.path.join(SCRATCH, "sb3"))


def pytest_unconfigure() -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (a worker), the ``SLOWEST_FIRST`` files first; every worker sorts the same way."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: others keep their order
