"""Everything below the command line names Python arguments, keys and files, never command-line flags.

An error raised by ``workloads``, ``dataflows``, ``simulator``, ``mapper``, ``envs`` or the Python API
modules of ``acceldse/`` (all but ``cli.py`` and ``commands/``) reaches Python callers as well as the
command line, so it names what a Python caller passed (``seq_len``, not ``--seq-len``); the command
line maps argument names to its flags (``acceldse.cli.flag_named``). Docstrings may describe the
command line, and a string may quote a whole command (``'acceldse explore --store'``, ``'ray start
--head'``, the command that reproduces a figure); no other string literal may name a flag.
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
COMMAND = re.compile(r"\b(?:acceldse [a-z]+|ray start)\b[^'\"()]*")
"""A quoted command line, up to its closing quote or parenthesis: its flags are that program's."""
CLI = ("cli.py", "commands")
"""The command line itself: the only part of ``acceldse/`` that names its flags."""


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the string literals that are documentation: docstrings and attribute docstrings (a string
    expression statement)."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def flags_named(path: Path) -> list[str]:
    """``path:line: --flag`` for every flag a non-doc string literal of ``path`` names outside a quoted
    command (an f-string read whole, its replacement fields as ``{}``)."""
    text = path.read_text()
    if "--" not in text:
        return []
    tree = ast.parse(text, filename=str(path))
    skip = docstring_nodes(tree)
    literals: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
            literals.append((node.lineno, "".join(part.value if isinstance(part, ast.Constant) else "{}"
                                                  for part in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            literals.append((node.lineno, node.value))
    return [f"{path.name}:{line}: {flag}" for line, value in sorted(literals, key=lambda lit: lit[0])
            for flag in FLAG.findall(COMMAND.sub("", value))]


def python_api_files() -> list[Path]:
    """The ``.py`` files of ``acceldse/`` that are neither the command line nor a lower layer (linked in)."""
    package = ROOT / "acceldse"
    return [path for path in sorted(package.rglob("*.py"))
            if path.relative_to(package).parts[0] not in (*CLI, *LOWER)]


def test_lower_layers_name_no_flags() -> None:
    bad = [f"{path.parent.relative_to(ROOT)}/{hit}" for package in LOWER
           for path in sorted((ROOT / package).rglob("*.py")) for hit in flags_named(path)]
    assert bad == [], "name the Python argument, key or file instead (the CLI maps it to its flag)"


def test_python_api_names_no_flags() -> None:
    files = python_api_files()
    assert {"proxy.py", "offline.py", "backends.py", "papers.py"} <= {path.name for path in files}
    assert not {"cli.py", "simulate.py"} & {path.name for path in files}
    bad = [f"{path.parent.relative_to(ROOT)}/{hit}" for path in files for hit in flags_named(path)]
    assert bad == [], "name the Python argument, key or file instead (the CLI maps it to its flag)"


def test_checker_sees_a_flag(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('"""Run ``acceldse simulate --workload x``."""\n'
                     'def f(n):\n    """--doc-only"""\n    X = 1\n    """attribute doc --also-fine"""\n'
                     '    raise ValueError(f"bad {n}", "see --seq-len") if n else g(source="--model", x="a--b -- c")\n')
    assert flags_named(probe) == ["probe.py:6: --seq-len", "probe.py:6: --model"]
    probe.write_text('A = "a store from \'acceldse explore --store\' (or --store)"\n'
                     'B = f"run: acceldse simulate --workload {A} --batch 2 (not --keep), \'ray start --head\'"\n'
                     'C = f"use {A} --where"\n')
    assert flags_named(probe) == ["probe.py:1: --store", "probe.py:2: --keep", "probe.py:3: --where"]


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


@pytest.mark.parametrize(("argv", "line"), [
    (["proxy", "train", "--store", "{tmp}/s.duckdb", "--target", "latency_us", "--model", "xx"],
     "--model: unknown proxy model (got 'xx')"),
    (["explore", "export", "--store", "{tmp}/s.duckdb", "--out", "{tmp}/d.npz", "--dataset-format", "qq"],
     "--dataset-format: unknown dataset format (got 'qq')"),
    (["explore", "compare", "--env", "nope", "--agents", "random", "--seeds", "0"],
     "--seeds: need at least one seed (got 0)"),
])
def test_the_cli_names_the_flag_of_an_api_argument(argv: list[str], line: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The Python API (``train_proxy(model=...)``, ``export_dataset(fmt=...)``) names its argument; the
    command line, the flag that set it."""
    from acceldse.cli import main

    assert main([arg.replace("{tmp}", str(tmp_path)) for arg in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"acceldse: error: {line}") and len(err.splitlines()) == 1, err


def test_python_api_names_the_argument(tmp_path: Path) -> None:
    from acceldse.offline import export_dataset
    from acceldse.proxy import train_proxy
    from acceldse.results import parse_objectives
    from acceldse.workloads.errors import SpecError

    with pytest.raises(SpecError, match=r"^model: unknown proxy model"):
        train_proxy(tmp_path / "s.duckdb", ["latency_us"], model="xx")
    with pytest.raises(SpecError, match=r"^fmt: unknown dataset format"):
        export_dataset(tmp_path / "s.duckdb", tmp_path / "d.npz", fmt="qq")
    with pytest.raises(SpecError, match=r"^objectives: a Pareto front needs at least two columns"):
        parse_objectives("latency_us")


def test_python_names_the_argument() -> None:
    from acceldse.mapper.attention_designs import evaluate_design
    from acceldse.workloads.attention import attention_cascade
    from acceldse.workloads.errors import SpecError

    with pytest.raises(SpecError, match=r"^query_tile: the query tile must divide"):
        evaluate_design("fusemax", seq_len=1024, query_tile=7)
    with pytest.raises(SpecError, match=r"^heads: must be >= 1"):
        attention_cascade(heads=0)


@pytest.mark.parametrize(("argument", "value"), [("heads", 0), ("heads", -4), ("head_dim", 0), ("embed", -1),
                                                 ("ffn", 0)])
def test_design_shape_of_zero_is_refused_not_defaulted(argument: str, value: int) -> None:
    """``heads=0`` once fell back to the model's head count (``heads or ...``): refused, naming the argument."""
    from acceldse.mapper.attention_designs import evaluate_design
    from acceldse.workloads.errors import SpecError

    with pytest.raises(SpecError, match=rf"^{argument}: must be an integer >= 1 .*\(got {value}\)$") as err:
        evaluate_design("fusemax", seq_len=256, **{argument: value})
    assert "\n" not in str(err.value)
