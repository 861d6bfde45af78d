"""What the fault tests share (``test_faults_*.py``): a tiny sweep spec, writing it, and a child interpreter
with a file-size limit (a full disk without a tmpfs)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = str(Path(__file__).with_name("tiny_topology.csv"))


def spec_text(bw: str, *, hardware: str = "scalesim-32x32", name: str = "s", extra: str = "") -> str:
    return (f"version: 1\nname: {name}\nworkload: {TINY}\nhardware: {hardware}\ndataflow: [os, ws]\n"
            f"axes:\n  array.rows: [8, 16]\n  tiers.1.bw_bytes_per_cycle: {bw}\n{extra}sample: grid\n")


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


LIMIT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))  # a full disk, without a tmpfs
from acceldse.cli import main
sys.exit(main(sys.argv[1:]))
"""
