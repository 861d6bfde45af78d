"""Layers below ``acceldse/`` name Python arguments, keys and files, never command-line flags.

An error raised by ``workloads``, ``dataflows``, ``simulator``, ``mapper`` or ``envs`` reaches Python
callers as well as the command line, so it names what a Python caller passed (``seq_len``, not
``--seq-len``); the command line maps argument names to its flags (``acceldse.cli.flag_named``).
Docstrings may describe the command line; every other string literal of these packages may not
name a flag.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("workloads", "dataflows", "simulator", "mapper", "envs")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
"""A long option (``--seq-len``); not ``a--b`` or a bare ``--``."""


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the string literals that are documentation: docstrings and attribute docstrings (a string
    expression statement)."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def flags_named(path: Path) -> list[str]:
    """``path:line: --flag`` for every flag a non-doc string literal of ``path`` names (f-string parts too)."""
    text = path.read_text()
    if "--" not in text:
        return []
    tree = ast.parse(text, filename=str(path))
    docs = docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            found.extend(f"{path.name}:{node.lineno}: {flag}" for flag in FLAG.findall(node.value))
    return found


def test_lower_layers_name_no_flags() -> None:
    bad = [f"{path.parent.relative_to(ROOT)}/{hit}" for package in LOWER
           for path in sorted((ROOT / package).rglob("*.py")) for hit in flags_named(path)]
    assert bad == [], "name the Python argument, key or file instead (the CLI maps it to its flag)"


def test_checker_sees_a_flag(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('"""Run ``acceldse simulate --workload x``."""\n'
                     'def f(n):\n    """--doc-only"""\n    X = 1\n    """attribute doc --also-fine"""\n'
                     '    raise ValueError(f"bad {n}", "see --seq-len") if n else g(source="--model", x="a--b -- c")\n')
    assert flags_named(probe) == ["probe.py:6: --seq-len", "probe.py:6: --model"]


def test_the_cli_names_the_flag_of_a_python_argument(capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import flag_named, main
    from acceldse.workloads.errors import SpecError

    assert main(["attention", "--design", "fusemax", "--seq-len", "1024", "--query-tile", "7"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("acceldse: error: --query-tile: the query tile") and len(err.splitlines()) == 1, err
    flags = {"heads": "--heads", "target": "--target"}
    assert str(flag_named(SpecError("must be >= 1", key="heads", value=0), flags)) == "--heads: must be >= 1 (got 0)"
    assert str(flag_named(SpecError("unknown", source="targets", value="x"), flags)) == "--target: unknown (got 'x')"
    assert str(flag_named(SpecError("bad", source="file.yaml", key="heads"), flags)) == "file.yaml: heads: bad"
    raised = flag_named(SpecError("over", source="budget", accepted="at most 9, or raise max_budget"),
                        {"budget": "--budget", "max_budget": "--max-budget"})
    assert str(raised) == "--budget: over; expected at most 9, or raise --max-budget"


def test_python_names_the_argument() -> None:
    from acceldse.mapper.attention_designs import evaluate_design
    from acceldse.workloads.attention import attention_cascade
    from acceldse.workloads.errors import SpecError

    with pytest.raises(SpecError, match=r"^query_tile: the query tile must divide"):
        evaluate_design("fusemax", seq_len=1024, query_tile=7)
    with pytest.raises(SpecError, match=r"^heads: must be >= 1"):
        attention_cascade(heads=0)
