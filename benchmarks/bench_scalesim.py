"""Speed of acceldse's SCALE-Sim compat mode against SCALE-Sim 3.0.0 itself.

Part 1 runs the installed SCALE-Sim and ``simulator.scalesim.calc.scalesim_layer`` side by side
on a few layers (one SCALE-Sim run each; compat: median of repeats with the JIT warm) and checks
that the reported total cycles agree. Part 2 uses the SCALE-Sim wall times recorded in the
golden files (``tests/golden/scalesim/golden_*.csv``) and times compat on every golden row.

Example:
    python benchmarks/bench_scalesim.py --repeats 7
    python benchmarks/bench_scalesim.py --skip-peer      # golden-file ratios only
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from math import exp, log
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from acceldse.simulator.scalesim.calc import scalesim_layer  # noqa: E402
from tests.peers.scalesim_runner import PeerLayer, gemm_as_conv  # noqa: E402

GOLDEN_DIR = REPO / "tests" / "golden" / "scalesim"
INT_KEYS = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride",
            "array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")

#: (name, layer, array rows, array cols, dataflow) run live against SCALE-Sim (64 KB SRAMs).
LIVE_CASES: list[tuple[str, PeerLayer, int, int, str]] = [
    ("tiny conv 10x10x4 -> 9", PeerLayer(10, 10, 3, 3, 4, 9, 1), 4, 8, "os"),
    ("transformer QK 128x64x128", gemm_as_conv(128, 64, 128), 32, 32, "ws"),
    ("vit_s L1 196x1176x64", gemm_as_conv(196, 1176, 64), 32, 32, "os"),
    ("resnet18 Conv4_s 1x1 s2", PeerLayer(28, 28, 1, 1, 128, 256, 2), 16, 64, "is"),
    ("resnet18 Conv2_1a 56x56x64", PeerLayer(56, 56, 3, 3, 64, 64, 1), 32, 32, "os"),
    ("resnet18 Conv1 7x7 s2", PeerLayer(224, 224, 7, 7, 3, 64, 2), 32, 32, "ws"),
]


def compat_seconds(args: dict[str, object], repeats: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of ``scalesim_layer(**args)`` over ``repeats`` warm runs."""
    res = scalesim_layer(**args)  # type: ignore[arg-type]  # JIT warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = scalesim_layer(**args)  # type: ignore[arg-type]
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), res.total_cycles


def _layer_args(lay: PeerLayer) -> dict[str, object]:
    return {"ifmap_h": lay.ifmap_h, "ifmap_w": lay.ifmap_w, "filter_h": lay.filter_h,
            "filter_w": lay.filter_w, "channels": lay.channels,
            "num_filters": lay.num_filters, "stride": lay.stride}


def live(repeats: int) -> None:
    from tests.peers.scalesim_runner import run_scalesim_layer

    print("## Live: SCALE-Sim 3.0.0 vs acceldse compat (same machine, same process)\n")
    print(f"| layer | array | df | SCALE-Sim wall s | compat wall s (median of {repeats}) |"
          " wall ratio | CPU ratio | cycles agree |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for name, lay, rows, cols, df in LIVE_CASES:
        cfg = {"array_rows": rows, "array_cols": cols, "ifmap_sram_kb": 64,
               "filter_sram_kb": 64, "ofmap_sram_kb": 64, "dataflow": df}
        with tempfile.TemporaryDirectory() as tmp:
            c0 = time.process_time()
            ref, peer_s = run_scalesim_layer(lay, out_dir=Path(tmp), **cfg)  # type: ignore[arg-type]
            peer_cpu = time.process_time() - c0
        ours_s, ours_cpu, cycles = compat_seconds({**_layer_args(lay), **cfg}, repeats)
        agree = "yes" if cycles == ref["total_cycles"] else f"NO ({cycles} vs {ref['total_cycles']})"
        print(f"| {name} | {rows}x{cols} | {df} | {peer_s:.3f} | {ours_s:.6f} | "
              f"{peer_s / ours_s:,.0f}x | {peer_cpu / ours_cpu:,.0f}x | {agree} |", flush=True)


def golden(repeats: int) -> None:
    rows = []
    for path in sorted(GOLDEN_DIR.glob("golden_*.csv")):
        with path.open() as fh:
            for row in csv.DictReader(fh):
                row["file"] = path.stem.removeprefix("golden_")
                rows.append(row)
    print(f"\n## Golden files: recorded SCALE-Sim wall time vs compat ({len(rows)} layers)\n")
    ratios = []
    per_file: dict[str, list[float]] = {}
    peer_total = ours_total = 0.0
    for row in rows:
        args: dict[str, object] = {k: int(row[k]) for k in INT_KEYS}
        args["dataflow"] = row["dataflow"]
        ours_s, _, _ = compat_seconds(args, repeats)
        peer_s = float(row["peer_seconds"])
        ratios.append(peer_s / ours_s)
        per_file.setdefault(row["file"], []).append(peer_s / ours_s)
        peer_total += peer_s
        ours_total += ours_s
    print("| golden file | layers | min ratio | median ratio | max ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, rs in per_file.items():
        print(f"| {name} | {len(rs)} | {min(rs):,.0f}x | {statistics.median(rs):,.0f}x | "
              f"{max(rs):,.0f}x |")
    geo = exp(sum(log(r) for r in ratios) / len(ratios))
    print(f"\nall {len(ratios)} layers: min {min(ratios):,.0f}x, median "
          f"{statistics.median(ratios):,.0f}x, geometric mean {geo:,.0f}x; totals: SCALE-Sim "
          f"{peer_total:.1f} s vs compat {ours_total:.3f} s ({peer_total / ours_total:,.0f}x)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="compat repeats per layer (median)")
    ap.add_argument("--skip-peer", action="store_true", help="only the golden-file ratios")
    args = ap.parse_args(argv)
    if not args.skip_peer:
        live(args.repeats)
    golden(args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
