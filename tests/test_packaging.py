"""One import namespace: the installed wheel puts only ``acceldse`` at the top level, and a user's own
``envs/`` (or ``simulator/``, ``mapper/`` ...) folder next to their script shadows nothing of ours."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("workloads", "dataflows", "simulator", "mapper", "envs")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # setuptools writes build/ into the tree it builds: build a copy (links kept as links)
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "tests", "benchmarks", "notebooks"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True, text=True)
    (path,) = out.glob("acceldse-*.whl")
    return path


@pytest.mark.slow
def test_wheel_has_one_top_level_name(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"acceldse"}
    for package in LOWER:  # the linked folders are stored as real files, presets and data included
        assert f"acceldse/{package}/__init__.py" in names
    assert any(n.startswith("acceldse/simulator/specs/presets/") and n.endswith(".yaml") for n in names)


@pytest.mark.slow
def test_local_envs_folder_shadows_nothing(wheel: Path, tmp_path: Path) -> None:
    # the wheel's files exactly as pip installs them, in a folder of their own put first on the path (the
    # dependencies stay this interpreter's); a fresh venv is not needed for that, and depends on how CI made its own
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, text=True)
    assert (site / "acceldse" / "envs" / "__init__.py").is_file(), sorted(p.name for p in site.iterdir())
    project = tmp_path / "rl_project"
    for package in LOWER:  # a user's project with folders of our old top-level names
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text("raise ImportError('the user project was imported')\n")
    code = ("import acceldse, gymnasium as gym, acceldse.envs, acceldse.simulator.specs.presets as p\n"
            "env = gym.make('acceldse/AcceleratorDesign-v0'); env.reset(seed=0)\n"
            "print(acceldse.envs.__file__); print(p.__file__)\n")
    env = {**os.environ, "PYTHONPATH": str(site)}  # not this checkout: the installed files only
    # the env runs the installed model's kernels as plain Python: numba's cache for a fresh install is empty, and
    # compiling every kernel there (about 25 CPU-s) tests numba, not which files the wheel installs
    env["NUMBA_DISABLE_JIT"] = "1"
    # `python -c` puts the current folder (the user's project) first on sys.path, as a user's script would
    run = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    for line in run.stdout.split():
        assert line.startswith(str(site)), line  # ours, from the installed wheel, not the user's folder or the checkout
