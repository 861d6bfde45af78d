"""Imports run one way only: workloads <- dataflows <- simulator <- mapper <- envs <- acceldse; inside
simulator/, each sub-package imports only what its docstring's 'May import:' line lists.

Everything is imported under the one top-level name ``acceldse`` (``acceldse.simulator.specs``); the
repository keeps the folders at its top level and ``acceldse/<name>`` links to them. The rules below name
packages without the ``acceldse.`` prefix (``simulator.specs``), as the docstrings do."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ORDER = ["workloads", "dataflows", "simulator", "mapper", "envs", "acceldse"]
ROOT = Path(__file__).resolve().parents[1]


LOWER = ORDER[:-1]


def imported_modules(path: Path) -> tuple[str, ...]:
    """Every absolute module ``path`` imports, as written (``from acceldse import envs`` -> ``acceldse.envs``)."""
    stat = path.stat()
    return _imported_modules(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _imported_modules(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    """``imported_modules`` of one version of a file: each file is parsed once however many tests read it."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.extend(f"{node.module}.{alias.name}" if node.module == "acceldse" else node.module
                         for alias in node.names)
    return tuple(names)


def short_name(module: str) -> str | None:
    """``acceldse.simulator.specs.x`` -> ``simulator.specs.x``; ``acceldse.api`` -> ``acceldse``; others None."""
    parts = module.split(".")
    if parts[0] != "acceldse":
        return None
    return ".".join(parts[1:]) if len(parts) > 1 and parts[1] in LOWER else "acceldse"


def imported_packages(path: Path) -> set[str]:
    found = {short_name(m) for m in imported_modules(path)}
    return {name.split(".")[0] for name in found if name}


def package_files(package: str) -> list[Path]:
    """The modules of one package (``acceldse`` without the linked lower packages)."""
    files = sorted((ROOT / package).rglob("*.py"))
    if package == "acceldse":
        files = [f for f in files if f.relative_to(ROOT / package).parts[0] not in LOWER]
    return files


def upward_imports() -> list[str]:
    bad = []
    for package in ORDER:
        rank = ORDER.index(package)
        for path in package_files(package):
            for target in imported_packages(path):
                if ORDER.index(target) > rank:
                    bad.append(f"{path.relative_to(ROOT)} imports {target}")
    return bad


def test_no_upward_imports() -> None:
    assert upward_imports() == []


def test_checker_sees_an_upward_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from acceldse.api import simulate\nimport acceldse.mapper.search\nfrom acceldse import envs\n"
                     "import numpy\n")
    assert imported_packages(probe) == {"acceldse", "mapper", "envs"}


def test_every_package_has_modules() -> None:
    for package in ORDER:
        assert (ROOT / package / "__init__.py").is_file(), package
    for package in LOWER:  # the one import namespace: acceldse/<package> is the repository's top-level folder
        link = ROOT / "acceldse" / package
        assert link.is_symlink() and link.resolve() == (ROOT / package).resolve(), link


def test_nothing_imports_a_bare_top_level_name() -> None:
    """Only ``acceldse`` is installed at the top level: ``import simulator`` would find someone else's package."""
    bad = []
    for package in ORDER:
        for path in package_files(package):
            bad += [f"{path.relative_to(ROOT)} imports {m}" for m in imported_modules(path) if m.split(".")[0] in LOWER]
    for path in sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py")):
        bad += [f"{path.relative_to(ROOT)} imports {m}" for m in imported_modules(path) if m.split(".")[0] in LOWER]
    assert bad == []


# ---- inside simulator/: each sub-package imports only what its docstring says it may ----------

SIMULATOR = ROOT / "simulator"


def simulator_units() -> dict[str, tuple[Path, list[Path]]]:
    """``simulator.X`` -> (the file whose docstring holds its rule, the files it covers)."""
    units = {f"simulator.{d.name}": (d / "__init__.py", sorted(d.rglob("*.py")))
             for d in sorted(SIMULATOR.iterdir()) if (d / "__init__.py").is_file()}
    units["simulator.result"] = (SIMULATOR / "result.py", [SIMULATOR / "result.py"])
    return units


def declared_imports(rule_file: Path) -> set[str]:
    """The ``names`` listed after ``May import:`` in a module docstring (up to a ';')."""
    doc = ast.get_docstring(ast.parse(rule_file.read_text())) or ""
    assert "May import:" in doc, f"{rule_file.relative_to(ROOT)}: docstring has no 'May import:'"
    allowed = doc.split("May import:", 1)[1].split(";", 1)[0]
    return set(re.findall(r"``([\w.]+)``", allowed))


def unit_imports(path: Path, own: str) -> set[str]:
    """Other simulator sub-packages (``simulator.X``) and outer packages that ``path`` imports."""
    found: set[str] = set()
    for module in imported_modules(path):
        name = short_name(module)
        if name is not None:
            parts = name.split(".")
            if parts[0] == "simulator" and len(parts) > 1:
                found.add(".".join(parts[:2]))
            elif parts[0] in ORDER:
                found.add(parts[0])
    return found - {own, "simulator"}


def test_simulator_sub_packages_import_only_what_their_docstring_allows() -> None:
    bad = []
    for unit, (rule_file, files) in simulator_units().items():
        allowed = declared_imports(rule_file)
        for path in files:
            for target in sorted(unit_imports(path, unit) - allowed):
                bad.append(f"{path.relative_to(ROOT)} imports {target} (not in {unit}'s 'May import:')")
    assert bad == []


def test_simulator_sub_package_rules() -> None:
    units = simulator_units()
    assert {"simulator.specs", "simulator.systolic", "simulator.scalesim", "simulator.event",
            "simulator.streaming", "simulator.tiers", "simulator.fpga", "simulator.result"} <= set(units)
    declared = {unit: declared_imports(rule_file) for unit, (rule_file, _) in units.items()}
    inner = {unit: {d for d in allowed if d.startswith("simulator.")} for unit, allowed in declared.items()}
    assert inner["simulator.specs"] == set()  # specs are the bottom: no other sub-package
    assert inner["simulator.streaming"] == set()  # the engine is a bottom layer too
    assert inner["simulator.result"] <= {"simulator.specs"}  # a loaded result carries its hardware spec
    assert inner["simulator.tiers"] == {"simulator.specs"}
    assert inner["simulator.fpga"] == {"simulator.specs", "simulator.streaming"}  # the pipeline runs on the engine
    assert "simulator.streaming" in inner["simulator.event"]  # so does the event fidelity
    assert inner["simulator.systolic"] == {"simulator.specs", "simulator.result"}  # batch sums the result columns
    assert "simulator.event" not in inner["simulator.scalesim"] and "simulator.systolic" in inner["simulator.scalesim"]
    for unit, allowed in declared.items():  # and never upward: no mapper, envs or acceldse
        assert not allowed & {"mapper", "envs", "acceldse"}, unit
    assert declared_imports(SIMULATOR / "__init__.py") == {"dataflows", "workloads"}


def test_unit_checker_sees_a_sub_package_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from acceldse.simulator.event.table import event_run\nimport acceldse.simulator.specs.presets\n"
                     "from acceldse.simulator.scalesim import calc\nimport acceldse.mapper.api\nimport numpy\n")
    assert unit_imports(probe, "simulator.scalesim") == {"simulator.event", "simulator.specs", "mapper"}
    rule = tmp_path / "rule.py"
    rule.write_text('"""Doc.\n\nMay import: ``simulator.specs``, ``workloads``; never ``simulator.event``."""\n')
    assert declared_imports(rule) == {"simulator.specs", "workloads"}
