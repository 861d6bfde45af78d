"""Imports run one way only: workloads <- dataflows <- simulator <- mapper <- envs <- acceldse."""

from __future__ import annotations

import ast
from pathlib import Path

ORDER = ["workloads", "dataflows", "simulator", "mapper", "envs", "acceldse"]
ROOT = Path(__file__).resolve().parents[1]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(ORDER)


def upward_imports() -> list[str]:
    bad = []
    for package in ORDER:
        rank = ORDER.index(package)
        for path in sorted((ROOT / package).rglob("*.py")):
            for target in imported_packages(path):
                if ORDER.index(target) > rank:
                    bad.append(f"{path.relative_to(ROOT)} imports {target}")
    return bad


def test_no_upward_imports() -> None:
    assert upward_imports() == []


def test_checker_sees_an_upward_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from acceldse.api import simulate\nimport mapper.search\nimport numpy\n")
    assert imported_packages(probe) == {"acceldse", "mapper"}


def test_every_package_has_modules() -> None:
    for package in ORDER:
        assert (ROOT / package / "__init__.py").is_file(), package
