"""Every study notebook runs top to bottom through the public API (its cells assert its findings).

The notebooks run once per session, two kernels at a time (each kernel is its own process: the
suite's second core runs one while the first runs another), longest first by the cell timings the
stored notebook recorded; each notebook is still its own test."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNELS = 2
"""Notebooks executed at once (CI has two cores; the pytest process only waits on the kernels)."""


def test_there_are_studies() -> None:
    assert {p.stem for p in NOTEBOOKS} >= {"depthwise_utilization", "roofline_transformers", "streaming_attention",
                                           "sweep_pareto", "draco_utilization", "memory_wall", "sn40l_experts",
                                           "fpga_folding", "array_scaling", "coexploration", "fused_attention",
                                           "sparsity", "validation"}


def stored_seconds(nb: Any) -> float:
    """How long the stored notebook's cells took when it was built (0 without timings)."""
    total = 0.0
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            total += (end - start).total_seconds()
    return total


def execute(path: Path) -> Any:
    """The notebook at ``path`` run in a fresh kernel that imports this checkout; its outputs, or the exception."""
    nb = nbformat.read(path, as_version=4)
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as err:  # noqa: BLE001 - reported by the notebook's own test
        return err
    return nb


@pytest.fixture(scope="session")
def executed(request: pytest.FixtureRequest) -> dict[Path, Any]:
    """Every selected notebook, executed once (``KERNELS`` at a time, longest first)."""
    selected = {item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_executes" and hasattr(item, "callspec")}
    order = sorted(selected, key=lambda p: -stored_seconds(nbformat.read(p, as_version=4)))
    # the kernels import this checkout's packages, installed or not
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), previous]))
    try:
        with ThreadPoolExecutor(max_workers=KERNELS) as pool:
            return dict(zip(order, pool.map(execute, order)))
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, executed: dict[Path, Any]) -> None:
    nb = executed[path]
    if isinstance(nb, BaseException):
        raise nb
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert all(cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code")
