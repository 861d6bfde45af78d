"""Child processes of a test's subprocess, read from ``/proc`` (Linux): is anything left behind?"""

from __future__ import annotations

import time
from pathlib import Path


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def wait_gone(pids: set[int], seconds: float = 10) -> set[int]:
    """The processes of ``pids`` still alive after up to ``seconds`` (a zombie counts as gone)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}
