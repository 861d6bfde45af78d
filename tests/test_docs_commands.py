"""Every shell command in README.md and docs/*.md runs and exits as documented.

Commands are the lines of fenced code blocks that start with ``acceldse`` (or ``$ acceldse``); they run
in process (``acceldse.cli.main``) in a scratch folder holding the files the docs refer to. In a
``$``-style block, the lines after a command are its shown output: each must appear in what the
command prints (spaces collapsed), so figures shown in the docs cannot drift.

A block can be annotated by an HTML comment on the line before it (invisible on GitHub)::

    <!-- docs-test: replace --seq-len 4096 => --seq-len 256; expect 16,777,255; exit 1 -->

``replace A => B`` runs the commands at a smaller size; ``expect TEXT`` requires TEXT in the output
of the block's commands (checked on the unreplaced command only when there is no replace);
``exit N`` is the expected exit code (default 0); ``file NAME`` saves the block itself as NAME in
the scratch folder (a YAML spec a later command reads); ``skip REASON`` skips the block and
``skip-line TEXT`` its commands containing TEXT (e.g. a Ray cluster the test machine lacks). A
``cat > NAME <<'EOF'`` heredoc in a block writes NAME. Other
command lines (``make``, ``python``, ``pip``) must be in ``NOT_RUN`` with the reason.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from acceldse.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?:<!--\s*docs-test:(?P<marker>.*?)-->\s*\n)?```(?P<lang>[\w-]*)\n(?P<body>.*?)^```",
                   re.S | re.M)
SHELL_LANGS = ("", "bash", "sh", "shell", "console")
NOT_RUN = {
    "make demo": "creates a venv and installs the package (CI runs it on a fresh machine)",
    "make test": "runs this whole suite",
}


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    body: str
    replace: list[tuple[str, str]] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    exit_code: int = 0
    file: str | None = None
    skip: str | None = None
    skip_lines: list[str] = field(default_factory=list)


@dataclass
class Command:
    block: Block
    argv: list[str]
    shown: list[str]  # output lines the doc shows after the command
    write: tuple[str, str] | None = None  # a heredoc (`cat > NAME <<'EOF'`): write this file instead

    @property
    def id(self) -> str:
        return f"{self.block.doc}:{self.block.line}: acceldse {' '.join(self.argv)}"


def _parse_marker(block: Block, marker: str) -> None:
    for part in filter(None, (p.strip() for p in marker.split(";"))):
        word, _, rest = part.partition(" ")
        if word == "replace":
            old, sep, new = rest.partition("=>")
            assert sep, f"{block.doc}:{block.line}: replace needs 'OLD => NEW'"
            block.replace.append((old.strip(), new.strip()))
        elif word == "expect":
            block.expect.append(rest.strip())
        elif word == "exit":
            block.exit_code = int(rest)
        elif word == "file":
            block.file = rest.strip()
        elif word == "skip-line":
            block.skip_lines.append(rest.strip())
        elif word == "skip":
            block.skip = rest.strip() or "skipped"
        else:
            raise AssertionError(f"{block.doc}:{block.line}: unknown docs-test directive {word!r}")


def blocks() -> list[Block]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            block = Block(doc.name, text[:m.start("body")].count("\n"), m["lang"], m["body"])
            _parse_marker(block, m["marker"] or "")
            found.append(block)
    return found


def commands(block: Block) -> list[Command]:
    """The ``acceldse`` commands of a shell block, with the output lines shown after each."""
    if block.lang not in SHELL_LANGS:
        return []
    result: list[Command] = []
    lines = block.body.replace("\\\n", " ").splitlines()
    dollar = any(line.startswith("$ ") for line in lines)
    heredoc: tuple[str, str, list[str]] | None = None
    for line in lines:
        text = line[2:] if line.startswith("$ ") else line
        if heredoc is not None:
            if text.strip() == heredoc[1]:
                result.append(Command(block, [], [], write=(heredoc[0], "\n".join(heredoc[2]) + "\n")))
                heredoc = None
            else:
                heredoc[2].append(text)
            continue
        if (m := re.match(r"cat > (\S+) <<-?'?(\w+)'?\s*$", text)):
            heredoc = (m[1], m[2], [])
            continue
        if (text.startswith("acceldse ") or text == "acceldse") and not any(p in text for p in block.skip_lines):
            command = text.split(" #", 1)[0].strip()
            for old, new in block.replace:
                command = command.replace(old, new)
            result.append(Command(block, shlex.split(command)[1:], []))
        elif dollar and result and not line.startswith("$ ") and line.strip():
            result[-1].shown.append(line)
        elif not dollar and text.split(" #")[0].strip().split(" ")[0] in ("make", "python", "pip", "python3"):
            assert text.split(" #")[0].strip() in NOT_RUN, f"{block.doc}:{block.line}: classify {text!r} in NOT_RUN"
    return result


BLOCKS = blocks()
COMMANDS = [c for b in BLOCKS for c in commands(b)]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the files the docs mention (model.onnx, my_chip.yaml, scale.cfg, file blocks)."""
    from tests.workloads.onnx_graphs import resnet_block

    folder = tmp_path_factory.mktemp("docs")
    (folder / "model.onnx").write_bytes(resnet_block().SerializeToString())
    shutil.copy(ROOT / "tests" / "golden" / "scalesim" / "scale.cfg", folder / "scale.cfg")
    (folder / "tests").symlink_to(ROOT / "tests")  # repository paths the docs name (tests/golden/...)
    (folder / "examples").symlink_to(ROOT / "examples")  # the Quick start's inputs
    for timeloop in (ROOT / "tests" / "golden" / "timeloop" / "eyeriss_like").glob("*.yaml"):
        shutil.copy(timeloop, folder / timeloop.name)  # the files of a Timeloop run (docs/mapper.md)
    for block in BLOCKS:
        if block.file:
            (folder / block.file).write_text(block.body)
    return folder


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue() + err.getvalue()


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_the_shipped_examples_are_what_the_docs_and_tests_use() -> None:
    from tests.workloads.onnx_graphs import separable_block

    chip = next(b for b in BLOCKS if b.doc == "README.md" and b.file == "my_chip.yaml")
    assert (ROOT / "examples" / "my_chip.yaml").read_text() == chip.body
    assert (ROOT / "examples" / "model.onnx").read_bytes() == separable_block().SerializeToString()
    assert (ROOT / "examples" / "scale.cfg").read_text() == (ROOT / "tests/golden/scalesim/scale.cfg").read_text()


def test_the_docs_have_commands_and_every_marker_is_used() -> None:
    assert len(COMMANDS) >= 30
    for block in BLOCKS:
        if block.replace:
            body = block.body
            assert all(old in body for old, _ in block.replace), f"{block.doc}:{block.line}: a replace matches nothing"


RUN_BLOCKS = [b for b in BLOCKS if commands(b)]


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=lambda b: f"{b.doc}:{b.line}")
def test_doc_commands_run_as_documented(block: Block, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command exits with the documented code and prints what the doc shows and expects."""
    if block.skip:
        pytest.skip(block.skip)
    monkeypatch.chdir(scratch)
    printed = []
    for command in commands(block):
        if command.write is not None:
            Path(command.write[0]).write_text(command.write[1])
            continue
        code, output = run(command.argv)
        assert code == block.exit_code, f"{command.id}: exit {code}, documented {block.exit_code}:\n{output[-3000:]}"
        for line in command.shown:
            assert _squash(line) in _squash(output), \
                f"{command.id}: the doc shows {line.strip()!r}; the command printed:\n{output[-3000:]}"
        printed.append(output)
    for text in block.expect:
        assert _squash(text) in _squash(" ".join(printed)), f"{block.doc}:{block.line}: {text!r} is not printed"
