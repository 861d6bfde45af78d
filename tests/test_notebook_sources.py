"""The study notebooks (and the README's Python examples) are code a user could write: they use acceldse's
public API only (``import acceldse``, the names it exports, the ``__all__`` of its public modules), and every stored
notebook holds exactly the cells its source builds (so its stored outputs come from that source).

The cells are read as data (``ast.literal_eval`` of ``CELLS`` / ``STUDIES``): nothing is executed."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

import acceldse

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PUBLIC = set(acceldse.__all__) | set(acceldse.SUBMODULES) | {"__version__"}


def _assigned(path: Path, name: str) -> object:
    """The literal value assigned to ``name`` at the top of ``path``."""
    for node in ast.parse(path.read_text()).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(
            node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path}: no {name} = [...]")


def studies() -> dict[str, list[tuple[str, str]]]:
    """Study name -> its (kind, source) cells, as ``notebooks/build_notebooks.py`` builds them."""
    found = dict(_assigned(NOTEBOOKS / "build_notebooks.py", "STUDIES"))  # type: ignore[call-overload]
    for path in sorted((NOTEBOOKS / "sources").glob("*.py")):
        found[path.stem] = _assigned(path, "CELLS")
    return found


def _module_all(module: str) -> set[str]:
    return set(getattr(importlib.import_module(f"acceldse.{module}"), "__all__", ()))


def non_public(code: str) -> list[str]:
    """Every use of acceldse in ``code`` that is not its public API (an import or an attribute)."""
    bad, aliases = [], set()
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] != "acceldse":
                    continue
                if len(parts) > 2 or (len(parts) == 2 and parts[1] not in acceldse.SUBMODULES):
                    bad.append(f"import {a.name}")
                elif len(parts) == 1:
                    aliases.add(a.asname or "acceldse")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "acceldse":
            parts = node.module.split(".")
            if len(parts) == 1:
                bad += [f"from acceldse import {a.name}" for a in node.names if a.name not in PUBLIC]
            elif len(parts) == 2 and parts[1] in acceldse.SUBMODULES:
                public = _module_all(parts[1])
                bad += [f"from {node.module} import {a.name}" for a in node.names if a.name not in public]
            else:
                bad.append(f"from {node.module} import ...")
    for node in ast.walk(tree):  # acceldse.<name> and acceldse.<module>.<name>
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr not in PUBLIC:
                bad.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name) and node.value.value.id in aliases \
                and node.value.attr in acceldse.SUBMODULES and node.attr not in _module_all(node.value.attr):
            bad.append(f"{node.value.value.id}.{node.value.attr}.{node.attr}")
    return bad


STUDIES = studies()


def test_the_rule_catches_internal_imports() -> None:
    assert non_public("import acceldse\nfrom acceldse import simulate, plots\nfrom acceldse.plots import ridges\n"
                      "import pandas as pd\nacceldse.explore.explore\nacceldse.simulate('x')") == []
    assert sorted(non_public("from acceldse.envs.agents import explore\nfrom acceldse import envs\n"
                             "import acceldse.simulator.specs\nfrom acceldse.plots import _axes\n"
                             "import acceldse as a\na.mapper.cost\na.explore.run_agent")) == sorted([
        "from acceldse.envs.agents import ...", "from acceldse import envs", "import acceldse.simulator.specs",
        "from acceldse.plots import _axes", "a.mapper", "a.explore.run_agent"])


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_study_uses_the_public_api_only(name: str) -> None:
    cells = [src for kind, src in STUDIES[name] if kind == "code"]
    bad = [use for src in cells for use in non_public(src)]
    assert not bad, f"notebooks/{name}: not acceldse's public API: {bad} (docs/api.md lists it)"


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_stored_notebook_is_built_from_its_source(name: str) -> None:
    """``python notebooks/build_notebooks.py NAME`` after editing a source: stored outputs follow the cells."""
    stored = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    cells = [("md" if c["cell_type"] == "markdown" else "code",
              "".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in stored["cells"]]
    assert cells == [tuple(c) for c in STUDIES[name]], f"notebooks/{name}.ipynb is stale: rebuild it"
    assert all(c.get("execution_count") for c in stored["cells"] if c["cell_type"] == "code"), \
        f"notebooks/{name}.ipynb has a cell that was not run: build it with its outputs"


def test_readme_python_uses_the_public_api_only() -> None:
    """The README's Python examples are user code too: what they use of acceldse is on the API page."""
    import re

    text = (ROOT / "README.md").read_text()
    fences = re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)
    blocks = [(text[:m.start()].count("\n") + 1, m[1]) for m in fences]
    assert blocks
    bad = {line: non_public(code) for line, code in blocks if non_public(code)}
    assert not bad, f"README.md (line: uses): {bad}"
