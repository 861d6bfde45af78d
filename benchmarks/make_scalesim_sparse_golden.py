"""Generate SCALE-Sim 3.0.0 goldens with ``SparsitySupport`` on (per-layer N:M weight sparsity).

Runs the installed ``scalesim`` over a grid of runs -- dataflows os/ws/is, array shapes, SRAM
sizes, GEMM and conv topologies whose layers carry different N:M ratios, ``OptimizedMapping``
false and true (with several ``BlockSize`` values and seeds), ``SparseRep`` csr / csc /
ellpack_block -- and appends one row per layer to
``tests/golden/scalesim/sparse/golden_sparse.csv``: the run's configuration, the layer, every
number of COMPUTE_REPORT, BANDWIDTH_REPORT (with the metadata column), DETAILED_ACCESS_REPORT
and SPARSE_REPORT. A run SCALE-Sim itself crashes on is stored as one row per layer whose
``crash`` column names the exception. Rows of runs already present are skipped (resumable).

Example:
    nice -n 19 python benchmarks/make_scalesim_sparse_golden.py --budget-s 1500
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.peers.scalesim_runner import (  # noqa: E402
    REPORT_FIELDS,
    SPARSE_FIELDS,
    PeerLayer,
    PeerSparsity,
    gemm_as_conv,
    run_scalesim_layers,
)

GOLDEN = REPO / "tests" / "golden" / "scalesim" / "sparse" / "golden_sparse.csv"
RUN_FIELDS = ("run", "form", "sparsity_support", "sparse_rep", "optimized_mapping", "block_size", "seed",
              "array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "dataflow")
LAYER_FIELDS = ("layer_id", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride",
                "ratio")
FIELDS = RUN_FIELDS + LAYER_FIELDS + REPORT_FIELDS + SPARSE_FIELDS + ("crash", "peer_seconds")

GEMMS = [(64, 128, 256), (37, 20, 50), (16, 40, 30), (100, 24, 72), (9, 70, 13), (33, 17, 64), (1, 24, 40)]
CONVS = [PeerLayer(10, 10, 3, 3, 4, 9, 1), PeerLayer(12, 12, 3, 3, 5, 16, 2), PeerLayer(8, 9, 2, 3, 6, 10, 1),
         PeerLayer(14, 14, 1, 1, 20, 12, 1), PeerLayer(7, 7, 7, 7, 3, 5, 1), PeerLayer(11, 9, 3, 2, 7, 21, 3),
         PeerLayer(6, 6, 3, 3, 8, 33, 1)]
RATIOS: list[tuple[int, int] | None] = [(2, 4), (1, 4), None, (1, 2), (3, 4), (2, 8), (4, 8), (1, 8), (3, 8),
                                        (4, 4), (2, 3), (1, 1), (1, 3), (5, 8), (2, 16)]
ARRAYS = [(8, 8), (4, 16), (16, 4), (32, 32), (6, 10), (12, 12)]
SRAMS = [(1, 1, 1), (2, 2, 4), (64, 64, 64), (1, 4, 2), (8, 8, 8)]
REPS = ("csr", "csc", "ellpack_block")


@dataclass(frozen=True)
class Run:
    """One SCALE-Sim run: a topology of a few layers on one configuration."""

    name: str
    form: str  # gemm | conv
    layers: tuple[PeerLayer, ...]
    array: tuple[int, int]
    srams: tuple[int, int, int]
    dataflow: str
    sparsity: PeerSparsity | None


def _layers(form: str, start: int, count: int, ratio_start: int) -> tuple[PeerLayer, ...]:
    out = []
    for i in range(count):
        ratio = RATIOS[(ratio_start + i) % len(RATIOS)]
        base = gemm_as_conv(*GEMMS[(start + i) % len(GEMMS)]) if form == "gemm" else CONVS[(start + i) % len(CONVS)]
        out.append(replace(base, sparsity=ratio))
    return tuple(out)


def all_runs() -> list[Run]:
    """The golden grid (see docs/scalesim_compat.md, "Sparsity")."""
    runs: list[Run] = []
    idx = 0
    for df in ("os", "ws", "is"):
        for a, array in enumerate(ARRAYS):
            for form in ("gemm", "conv"):
                for r, rep in enumerate(REPS):
                    sp = PeerSparsity(representation=rep)
                    layers = _layers(form, a + r, 3, idx)
                    runs.append(Run(f"n{idx}", form, layers, array, SRAMS[idx % len(SRAMS)], df, sp))
                    idx += 1
    for a, array in enumerate(ARRAYS):
        for bs in (2, 3, 4, 8):
            if bs > array[0]:
                continue
            for form in ("gemm", "conv"):
                for seed in (40, 7):
                    rep = REPS[idx % 3]
                    sp = PeerSparsity(representation=rep, optimized_mapping=True, block_size=bs, seed=seed)
                    layers = _layers(form, a + bs + seed, 3, idx)
                    runs.append(Run(f"o{idx}", form, layers, array, SRAMS[idx % len(SRAMS)], "ws", sp))
                    idx += 1
    # SparsitySupport off with N:M columns (SCALE-Sim ignores them) and the crashes
    for df in ("os", "ws", "is"):
        runs.append(Run(f"d{idx}", "gemm", _layers("gemm", 0, 3, 0), (8, 8), (2, 2, 4), df, None))
        idx += 1
    crash = [("os", PeerSparsity(optimized_mapping=True, block_size=4), (8, 8)),
             ("is", PeerSparsity(optimized_mapping=True, block_size=4), (8, 8)),
             ("ws", PeerSparsity(optimized_mapping=True, block_size=4), (5, 8)),
             ("ws", PeerSparsity(optimized_mapping=True, block_size=16), (8, 8))]
    for df, sp, array in crash:
        runs.append(Run(f"c{idx}", "gemm", _layers("gemm", 1, 1, 0), array, (2, 2, 4), df, sp))
        idx += 1
    return runs


def done_runs() -> set[str]:
    if not GOLDEN.exists():
        return set()
    with GOLDEN.open() as fh:
        return {row["run"] for row in csv.DictReader(fh)}


def run_one(run: Run) -> list[dict[str, object]]:
    sp = run.sparsity or PeerSparsity()
    base: dict[str, object] = {
        "run": run.name, "form": run.form, "sparsity_support": run.sparsity is not None,
        "sparse_rep": sp.representation, "optimized_mapping": sp.optimized_mapping, "block_size": sp.block_size,
        "seed": sp.seed, "array_rows": run.array[0], "array_cols": run.array[1], "ifmap_sram_kb": run.srams[0],
        "filter_sram_kb": run.srams[1], "ofmap_sram_kb": run.srams[2], "dataflow": run.dataflow}
    reports: list[dict[str, float]] = []
    crash = ""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                reports, _ = run_scalesim_layers(
                    list(run.layers), out_dir=Path(tmp), array_rows=run.array[0], array_cols=run.array[1],
                    ifmap_sram_kb=run.srams[0], filter_sram_kb=run.srams[1], ofmap_sram_kb=run.srams[2],
                    dataflow=run.dataflow, sparsity=run.sparsity, gemm=run.form == "gemm")
        except Exception as exc:  # a SCALE-Sim crash is a result: stored, and compat must refuse the run
            crash = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:120]
    secs = time.perf_counter() - start
    rows = []
    for i, lay in enumerate(run.layers):
        row = dict(base)
        row.update({"layer_id": i, "ifmap_h": lay.ifmap_h, "ifmap_w": lay.ifmap_w, "filter_h": lay.filter_h,
                    "filter_w": lay.filter_w, "channels": lay.channels, "num_filters": lay.num_filters,
                    "stride": lay.stride,
                    "ratio": "" if lay.sparsity is None else f"{lay.sparsity[0]}:{lay.sparsity[1]}"})
        rep = reports[i] if reports else {}
        for key in REPORT_FIELDS + SPARSE_FIELDS:
            row[key] = repr(rep[key]) if key in rep else ""
        row["crash"] = crash
        row["peer_seconds"] = f"{secs:.3f}"
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget-s", type=float, default=1500.0, help="stop starting runs after this many seconds")
    ap.add_argument("--list", action="store_true", help="only list the runs")
    args = ap.parse_args(argv)
    runs = all_runs()
    if args.list:
        for r in runs:
            print(r.name, r.form, r.dataflow, r.array, r.srams, r.sparsity)
        print(len(runs), "runs", sum(len(r.layers) for r in runs), "layer rows")
        return 0
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    done = done_runs()
    start = time.monotonic()
    for run in runs:
        if run.name in done:
            continue
        if time.monotonic() - start > args.budget_s:
            print("budget exhausted", flush=True)
            break
        rows = run_one(run)
        new = not GOLDEN.exists()
        with GOLDEN.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=FIELDS)
            if new:
                w.writeheader()
            w.writerows(rows)
        print(f"{run.name} {run.dataflow} {run.array} {rows[0]['peer_seconds']}s {rows[0]['crash']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
