"""Generate SCALE-Sim 3.0.0 golden reports for the compat-mode tests.

Runs the installed ``scalesim`` one layer at a time on layers of the shipped topologies
(``tests/golden/scalesim/*.csv``) and appends one row per layer to
``tests/golden/scalesim/golden_<topology>_<rows>x<cols>_<dataflow>.csv`` with the layer shape,
the memory config, every number SCALE-Sim reports and the wall seconds it took (``peer_seconds``).
Jobs run cheapest first; rows already present are skipped, so the script can be resumed.

Example:
    nice -n 19 python benchmarks/make_scalesim_golden.py --max-cost 2e8 --budget-s 3000
"""

from __future__ import annotations

import argparse
import configparser
import csv
import sys
import tempfile
import time
from dataclasses import dataclass
from math import ceil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.peers.scalesim_runner import (  # noqa: E402
    REPORT_FIELDS,
    PeerLayer,
    gemm_as_conv,
    run_scalesim_layer,
)

GOLDEN_DIR = REPO / "tests" / "golden" / "scalesim"
GEMM_TOPOLOGIES = {"gpt2", "vit_s", "transformer_partial", "test_mnk_input"}
LAYER_FIELDS = ("layer", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
                "num_filters", "stride", "array_rows", "array_cols", "ifmap_sram_kb",
                "filter_sram_kb", "ofmap_sram_kb", "dataflow", "bandwidth_mode")
GOLDEN_FIELDS = LAYER_FIELDS + REPORT_FIELDS + ("peer_seconds",)


@dataclass(frozen=True)
class Job:
    """One layer on one array/dataflow."""

    topology: str
    name: str
    layer: PeerLayer
    rows: int
    cols: int
    dataflow: str
    srams_kb: tuple[int, int, int]

    @property
    def path(self) -> Path:
        return GOLDEN_DIR / f"golden_{self.topology}_{self.rows}x{self.cols}_{self.dataflow}.csv"

    def cost(self) -> float:
        """Rough SCALE-Sim work: demand rows x (rows + cols) Python-level element visits."""
        lay = self.layer
        e = ceil((lay.ifmap_h - lay.filter_h + lay.stride) / lay.stride)
        f = ceil((lay.ifmap_w - lay.filter_w + lay.stride) / lay.stride)
        m, n, k = e * f, lay.num_filters, lay.filter_h * lay.filter_w * lay.channels
        r, c = self.rows, self.cols
        if self.dataflow == "os":
            folds, t = ceil(m / r) * ceil(n / c), k
        elif self.dataflow == "ws":
            folds, t = ceil(k / r) * ceil(n / c), m
        else:
            folds, t = ceil(k / r) * ceil(m / c), n
        return float(folds * (t + 2 * r + c) * (r + 2 * c))


def read_topology(path: Path) -> list[tuple[str, PeerLayer]]:
    """Parse a SCALE-Sim topology CSV (header skipped, trailing comma dropped)."""
    gemm = path.stem in GEMM_TOPOLOGIES
    out = []
    for line in path.read_text().splitlines()[1:]:
        fields = [x.strip() for x in line.split(",")]
        if not fields or not fields[0] or not any(fields[1:]):
            continue
        if gemm:
            m, n, k = (int(x) for x in fields[1:4])
            out.append((fields[0], gemm_as_conv(m, n, k)))
        else:
            vals = [int(x) for x in fields[1:8]]
            out.append((fields[0], PeerLayer(*vals)))
    return out


def read_cfg_srams(path: Path) -> tuple[int, int, int]:
    """The three SRAM sizes (KB) of a SCALE-Sim cfg."""
    cp = configparser.ConfigParser()
    cp.read(path)
    sec = cp["architecture_presets"]
    return int(sec["IfmapSramSzkB"]), int(sec["FilterSramSzkB"]), int(sec["OfmapSramSzkB"])


def all_jobs() -> list[Job]:
    """The golden job list (see docs/scalesim_compat.md)."""
    srams = read_cfg_srams(GOLDEN_DIR / "scale.cfg")
    jobs: list[Job] = []
    for topo in ("alexnet", "yolo_tiny", "gpt2", "vit_s", "transformer_partial",
                 "test_mnk_input"):
        for name, lay in read_topology(GOLDEN_DIR / f"{topo}.csv"):
            for df in ("os", "ws", "is"):
                jobs.append(Job(topo, name, lay, 32, 32, df, srams))
    resnet = read_topology(GOLDEN_DIR / "Resnet18.csv")
    for rows, cols in ((8, 8), (16, 64), (128, 128)):
        for name, lay in resnet:
            for df in ("os", "ws", "is"):
                jobs.append(Job("Resnet18", name, lay, rows, cols, df, srams))
    return jobs


def done_layers(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with path.open() as fh:
        return {row["layer"] for row in csv.DictReader(fh)}


def run_job(job: Job) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        rep, secs = run_scalesim_layer(
            job.layer, out_dir=Path(tmp), array_rows=job.rows, array_cols=job.cols,
            ifmap_sram_kb=job.srams_kb[0], filter_sram_kb=job.srams_kb[1],
            ofmap_sram_kb=job.srams_kb[2], dataflow=job.dataflow)
    lay = job.layer
    row: dict[str, object] = {
        "layer": job.name, "ifmap_h": lay.ifmap_h, "ifmap_w": lay.ifmap_w,
        "filter_h": lay.filter_h, "filter_w": lay.filter_w, "channels": lay.channels,
        "num_filters": lay.num_filters, "stride": lay.stride, "array_rows": job.rows,
        "array_cols": job.cols, "ifmap_sram_kb": job.srams_kb[0],
        "filter_sram_kb": job.srams_kb[1], "ofmap_sram_kb": job.srams_kb[2],
        "dataflow": job.dataflow, "bandwidth_mode": "CALC",
    }
    for key in REPORT_FIELDS:
        row[key] = repr(rep[key])
    row["peer_seconds"] = f"{secs:.4f}"
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-cost", type=float, default=2e8,
                    help="skip jobs whose estimated cost exceeds this (default 2e8)")
    ap.add_argument("--budget-s", type=float, default=3000.0,
                    help="stop starting new jobs after this many seconds (default 3000)")
    ap.add_argument("--list", action="store_true", help="only list the jobs and costs")
    args = ap.parse_args(argv)
    jobs = sorted(all_jobs(), key=Job.cost)
    if args.list:
        for j in jobs:
            print(f"{j.cost():12.3g} {j.path.name} {j.name}")
        return 0
    start = time.monotonic()
    for job in jobs:
        if job.cost() > args.max_cost:
            break
        if time.monotonic() - start > args.budget_s:
            print("budget exhausted", flush=True)
            break
        if job.name in done_layers(job.path):
            continue
        row = run_job(job)
        new = not job.path.exists()
        with job.path.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=GOLDEN_FIELDS)
            if new:
                w.writeheader()
            w.writerow(row)
        print(f"{job.path.name} {job.name} {row['peer_seconds']}s cost {job.cost():.3g}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
