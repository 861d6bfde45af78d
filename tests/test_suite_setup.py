"""The suite's own set-up (tests/conftest.py): every file it schedules first exists, so a renamed test file
cannot silently fall back to collection order."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_slowest_first_names_existing_test_files(pytestconfig: pytest.Config) -> None:
    # the conftest module pytest loaded (importing it again would run its set-up twice)
    plugins = pytestconfig.pluginmanager.get_plugins()
    (slowest,) = {tuple(p.SLOWEST_FIRST) for p in plugins if hasattr(p, "SLOWEST_FIRST")}
    missing = [path for path in slowest if not (ROOT / path).is_file()]
    assert not missing, f"tests/conftest.py SLOWEST_FIRST names files that do not exist: {missing}"
    assert len(set(slowest)) == len(slowest) > 0


def test_test_file_names_are_unique() -> None:
    # the test folders are not packages, so two test files with one name collide at collection ("import file
    # mismatch"), and the suite stops with an error
    names: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    repeated = {name: paths for name, paths in names.items() if len(paths) > 1}
    assert not repeated, f"test files sharing a name (rename one): {repeated}"
