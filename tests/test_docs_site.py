"""The documentation site builds (mkdocs, strict: no broken page or reference) and its Python API page
covers every public name of ``import acceldse``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import acceldse

ROOT = Path(__file__).resolve().parents[1]


def test_the_api_page_covers_every_public_name() -> None:
    page = (ROOT / "docs" / "api.md").read_text()
    documented = set(re.findall(r"^### `acceldse\.(\w+)`$", page, re.M))
    assert documented == set(acceldse.__all__)
    nav = (ROOT / "mkdocs.yml").read_text()
    for doc in (ROOT / "docs").glob("*.md"):
        assert doc.name in nav, f"{doc.name} is not in the site's nav"


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocstrings")
    out = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    api = (out / "api" / "index.html").read_text()
    # the reference is generated from the docstrings, not only headings
    assert "checked exactly like a YAML file" in api  # simulate's docstring on its hardware argument
    assert "load_result" in api and "SimResult" in api and "doc-function" in api
