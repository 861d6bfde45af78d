"""One import namespace: the installed wheel puts only ``acceldse`` at the top level, and a user's own
``envs/`` (or ``simulator/``, ``mapper/`` ...) folder next to their script shadows nothing of ours."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("workloads", "dataflows", "simulator", "mapper", "envs")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout (setuptools writes build/ into the tree it builds; links kept as links)."""
    source = tmp_path_factory.mktemp("checkout") / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "tests", "benchmarks",
        "notebooks"))  # .hypothesis: written by the other pytest-xdist worker while this copies
    return source


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Path:
    out = tmp_path_factory.mktemp("wheel")
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
def test_editable_install_is_a_plain_path_entry_without_warnings(source: Path, tmp_path: Path) -> None:
    """``pip install -e .`` (what ``make demo`` runs): setuptools puts src/ (only the acceldse link) on sys.path,
    with no import-hook finder and no warning about top-level folders named like our subpackages."""
    assert (ROOT / "src" / "acceldse").resolve() == (ROOT / "acceldse").resolve()
    assert sorted(p.name for p in (ROOT / "src").iterdir() if not p.name.endswith(".egg-info")) == ["acceldse"]
    code = f"from setuptools import build_meta; print(build_meta.build_editable({str(tmp_path)!r}))"
    run = subprocess.run([sys.executable, "-W", "always", "-c", code], cwd=source, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr and "Please be careful" not in run.stderr + run.stdout, run.stderr
    (editable,) = tmp_path.glob("acceldse-*.whl")
    names = zipfile.ZipFile(editable).namelist()
    assert not any("finder" in n for n in names), names
    (pth,) = [n for n in names if n.endswith(".pth")]
    assert zipfile.ZipFile(editable).read(pth).decode().split() == [str(source / "src")]


def clean_env() -> dict[str, str]:
    """This environment without what could point a child interpreter or pip elsewhere: PYTHONPATH, PYTHONHOME,
    PYTHONUSERBASE (all ``PYTHON*``), an activated venv, ``PIP_*`` settings; no user site-packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV", "CONDA"))}
    return {**env, "PYTHONNOUSERSITE": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.mark.slow
def test_local_envs_folder_shadows_nothing(wheel: Path, tmp_path: Path) -> None:
    # a fresh venv with its own pip (ensurepip is offline), the wheel installed by that pip from the file alone
    venv, env = tmp_path / "venv", clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, env=env, cwd=tmp_path)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "--isolated", "install", "--no-index", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, text=True, env=env, cwd=tmp_path)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout.strip()
    assert (Path(site) / "acceldse" / "envs" / "__init__.py").is_file(), sorted(p.name for p in Path(site).iterdir())
    # the dependencies (numpy, gymnasium ...) are this interpreter's, appended after the venv's own site-packages
    # (a path in a .pth file: the .pth files there, e.g. an editable install of this checkout, are not run)
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    project = tmp_path / "rl_project"
    for package in LOWER:  # a user's project with folders of our old top-level names
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text("raise ImportError('the user project was imported')\n")
    code = ("import acceldse, gymnasium as gym, acceldse.envs, acceldse.simulator.specs.presets as p\n"
            "env = gym.make('acceldse/AcceleratorDesign-v0'); env.reset(seed=0)\n"
            "print(acceldse.envs.__file__); print(p.__file__)\n")
    # `python -c` puts the current folder (the user's project) first on sys.path, as a user's script would;
    # numba's kernels run as Python: a fresh install's numba cache is empty, and compiling every kernel there
    # (about 25 CPU-s) tests numba, not which files the wheel installs
    run = subprocess.run([str(python), "-c", code], cwd=project, capture_output=True, text=True,
                         env={**env, "NUMBA_DISABLE_JIT": "1"})
    assert run.returncode == 0, run.stderr
    for line in run.stdout.split():
        assert line.startswith(site), line  # ours, from the installed wheel, not the user's folder or the checkout
