"""The documentation site builds (mkdocs) and its Python API page
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
    sys.path.insert(0, str(ROOT))
    try:
        from mkdocs_hooks import MARKER, reference
    finally:
        sys.path.remove(str(ROOT))
    assert MARKER in (ROOT / "docs" / "api.md").read_text()
    assert set(re.findall(r"^### `acceldse\.(\w+)`$", reference(), re.M)) == set(acceldse.__all__)


@pytest.mark.slow
def test_the_site_builds(tmp_path: Path) -> None:
    pytest.importorskip("mkdocstrings")
    out = tmp_path / "site"
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    api = (out / "api" / "index.html").read_text()
    assert all(f"acceldse.{name}" in api for name in acceldse.__all__)
    # the reference is generated from the docstrings, not only headings
    assert "checked exactly like a YAML file" in api  # simulate's docstring on its hardware argument
    assert "load_result" in api and "SimResult" in api and "doc-function" in api
