"""Every study notebook runs top to bottom through the public API (its cells assert its findings).

The notebooks run once per session, two kernels at a time (each kernel is its own process: the
suite's second core runs one while the first runs another), longest first by the cell timings the
stored notebook recorded; each notebook is still its own test."""

from __future__ import annotations

import os
import re
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


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
NOT_COMPUTED = {"fpga_folding": {"1.73", "10.29", "512"}, "sparsity": {"18", "32"}, "sweep_pareto": {"18"},
                "roofline_transformers": {"512"}}
"""Numbers a README study quotes that its notebook takes as given: Mixed-TD's published range, SWAT's window,
and names (ResNet-18, a 32×32 array, BERT's 512 tokens)."""


def readme_studies() -> dict[str, str]:
    """README's "Studies" bullets: notebook name -> what the README says it finds (after the dash)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Studies (notebooks)"):readme.index("## Validation against silicon")]
    return {re.match(r"`(\w+)`", b)[1]: b.split("—", 1)[-1] for b in re.split(r"\n\* ", section)[1:]}


def _figure_in(token: str, text: str) -> bool:
    """``token`` (``3,578.96``, ``66``) is a whole number in ``text`` as written (not a part of a longer one:
    ``97`` is not in ``2097152``), or a number there rounds to it (also as %)."""
    plain = token.replace(",", "")
    numbers = [n.replace(",", "") for n in (m[0] for m in NUMBER.finditer(text)) if n.replace(",", "") != "-"]
    if plain in numbers:
        return True
    digits = len(plain.split(".")[1]) if "." in plain else 0
    wanted = float(plain)
    return any(round(x, digits) == wanted or round(100 * x, digits) == wanted for x in map(float, numbers))


@pytest.mark.parametrize("name", sorted(readme_studies()))
def test_the_readme_quotes_what_the_notebook_finds(name: str, executed: dict[Path, Any]) -> None:
    """Every figure the README gives for a study is what its notebook printed in this run or asserts in its
    cells (the published values it compares with aside): a changed result cannot leave the README stale."""
    path = ROOT / "notebooks" / f"{name}.ipynb"
    assert path in NOTEBOOKS, f"README names a study without a notebook: {name}"
    nb = executed.get(path)
    if nb is None or isinstance(nb, BaseException):
        pytest.skip("the notebook did not run in this session")
    found = [o.get("text", "") + o.get("data", {}).get("text/plain", "") for cell in nb.cells
             for o in cell.get("outputs", [])]
    found += [line for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()
              if "assert" in line]
    text = "\n".join(found)
    quoted = re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", readme_studies()[name])
    missing = [t for t in quoted if t not in NOT_COMPUTED.get(name, set()) and not _figure_in(t, text)]
    assert not missing, f"README's {name} figures the notebook neither printed nor asserts: {missing}"
