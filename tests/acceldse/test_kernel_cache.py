"""Numba's cache folder follows the kernel sources (acceldse.kernel_cache)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from acceldse import kernel_cache

ROOT = Path(__file__).resolve().parents[2]


def test_every_file_with_numba_kernels_is_listed() -> None:
    pattern = re.compile(r"^\s*(from numba import|import numba|@kernel\b)", re.M)
    files = [Path(d, f) for d, _, names in os.walk(kernel_cache.PACKAGE, followlinks=True)  # the symlinked folders
             for f in names if f.endswith(".py") and "__pycache__" not in d]
    found = {str(p.relative_to(kernel_cache.PACKAGE)) for p in files if pattern.search(p.read_text())}
    assert found == set(kernel_cache.KERNEL_FILES)


def test_a_change_to_any_kernel_file_is_a_new_fingerprint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in kernel_cache.KERNEL_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    monkeypatch.setattr(kernel_cache, "PACKAGE", tmp_path)
    before = kernel_cache.fingerprint()
    os.utime(tmp_path / "mapper/legality.py", ns=(1, 1))
    assert kernel_cache.fingerprint() != before


def test_import_points_numba_at_the_fingerprint_folder() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", "import os, acceldse; print(os.environ['NUMBA_CACHE_DIR'])"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out).name == f"numba-{kernel_cache.fingerprint()}" and Path(out).is_dir()
    kept = subprocess.run([sys.executable, "-c", "import os, acceldse; print(os.environ['NUMBA_CACHE_DIR'])"],
                          env=env | {"NUMBA_CACHE_DIR": "/elsewhere"}, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert kept == "/elsewhere"
