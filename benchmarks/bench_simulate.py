"""Speed of the analytical model: in-process medians, a cold CLI run, and SCALE-Sim side by side.

    python benchmarks/bench_simulate.py [--repeats 20] [--peer-layers 2]

Prints (1) ResNet-50 x {os, ws, is} on a 32x32 array measured inside the process (JIT warm),
(2) the wall time of a fresh `acceldse simulate --workload resnet50 --dataflow all` process
(interpreter start-up and cached JIT included), (3) per-layer times of SCALE-Sim 3.0.0 and of
acceldse on the same layers, run here side by side, plus the peer times recorded in the golden
files (tests/golden/scalesim) for larger layers, with ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import acceldse
from acceldse.simulator.specs.presets import load_hardware
from acceldse.workloads.layer import conv2d
from acceldse.workloads.loader import load_workload
from acceldse.workloads.network import Network

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "scalesim"


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up (JIT compile or cache load)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def golden_layer(row: pd.Series) -> Network:
    """The golden row's layer as an acceldse Network (SCALE-Sim geometry: bottom/right padding)."""
    h, w, r, s, st = (int(row[k]) for k in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "stride"))
    layer = conv2d(str(row["layer"]), int(row["channels"]), int(row["num_filters"]), (h, w), (r, s), stride=st,
                   padding=(0, 0, -(h - r) % st, -(w - s) % st))
    return Network(str(row["layer"]), (layer,))


def hardware_for(row: pd.Series):
    acc = load_hardware("scalesim-32x32")
    from acceldse.simulator.specs.accelerator import accelerator_from_dict

    kb = {k: int(row[f"{k}_sram_kb"]) * 1024 for k in ("ifmap", "filter", "ofmap")}
    return accelerator_from_dict({
        "version": 2, "name": "golden", "array": {"rows": int(row["array_rows"]), "cols": int(row["array_cols"])},
        "tiers": [{"name": "sram", "kind": "sram", "bw_bytes_per_cycle": 64, "partition_bytes": kb},
                  {"name": "dram", "kind": "dram", "capacity_bytes": "8GiB", "bw_bytes_per_cycle": 10,
                   "latency_cycles": acc.dram.latency_cycles}]}, source="golden")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--peer-layers", type=int, default=2, help="layers to run through SCALE-Sim live")
    args = parser.parse_args()

    net = load_workload("resnet50")
    t_r50 = median_seconds(lambda: acceldse.simulate(net, "scalesim-32x32", "all"), args.repeats)
    print(f"ResNet-50 ({len(net)} layers) x os/ws/is on 32x32, in process: median {t_r50 * 1e3:.1f} ms "
          f"(floor: < 1000 ms)")

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "acceldse.cli", "simulate", "--workload", "resnet50", "--dataflow", "all"],
                   check=True, capture_output=True)
    print(f"cold CLI process `acceldse simulate --workload resnet50 --dataflow all`: "
          f"{time.perf_counter() - start:.2f} s (floor: < 10 s)")

    rows = []
    frames = [pd.read_csv(p) for p in sorted(GOLDEN.glob("golden_*.csv"))]
    golden = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not golden.empty:
        golden = golden[golden.bandwidth_mode == "CALC"]
        for _, row in golden.iterrows():
            layer_net, acc = golden_layer(row), hardware_for(row)
            ours = median_seconds(lambda n=layer_net, a=acc, d=row["dataflow"]: acceldse.simulate(n, a, d), 5)
            compat = median_seconds(
                lambda n=layer_net, a=acc, d=row["dataflow"]: acceldse.simulate(n, a, d, compat="scalesim"), 3)
            rows.append({"layer": row["layer"], "array": f"{row.array_rows}x{row.array_cols}",
                         "dataflow": row["dataflow"], "scalesim_s": row["peer_seconds"], "acceldse_s": ours,
                         "compat_s": compat, "ratio": row["peer_seconds"] / ours,
                         "compat_ratio": row["peer_seconds"] / compat, "source": "golden file"})
    if args.peer_layers:
        try:
            sys.path.insert(0, str(ROOT))
            from tests.peers.scalesim_runner import PeerLayer, run_scalesim_layer
        except ImportError as err:
            print(f"(SCALE-Sim live comparison skipped: {err})")
        else:
            for name, h, c, k in [("live_conv_28", 28, 64, 64), ("live_conv_14", 14, 128, 128)][:args.peer_layers]:
                with tempfile.TemporaryDirectory() as tmp:
                    _, peer = run_scalesim_layer(
                        PeerLayer(ifmap_h=h, ifmap_w=h, filter_h=3, filter_w=3, channels=c, num_filters=k,
                                  stride=1), out_dir=Path(tmp), array_rows=32, array_cols=32, ifmap_sram_kb=64,
                        filter_sram_kb=64, ofmap_sram_kb=64, dataflow="ws")
                layer_net = Network(name, (conv2d(name, c, k, h, 3),))
                ours = median_seconds(lambda n=layer_net: acceldse.simulate(n, "scalesim-32x32", "ws"), 5)
                compat = median_seconds(
                    lambda n=layer_net: acceldse.simulate(n, "scalesim-32x32", "ws", compat="scalesim"), 3)
                rows.append({"layer": name, "array": "32x32", "dataflow": "ws", "scalesim_s": peer, "acceldse_s": ours,
                             "compat_s": compat, "ratio": peer / ours, "compat_ratio": peer / compat,
                             "source": "run here"})
    if rows:
        table = pd.DataFrame(rows)
        with pd.option_context("display.width", 200, "display.max_rows", 200):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"\nper-layer median speed-up over SCALE-Sim: default model {table.ratio.median():,.0f}x, "
              f"compat mode {table.compat_ratio.median():,.0f}x (min {table.compat_ratio.min():,.0f}x) "
              f"on {len(table)} layer runs (each call pays ~0.4 ms of DataFrame overhead)")
        print(f"aggregate over all {len(table)} layer runs (sum of SCALE-Sim seconds / sum of ours): "
              f"default model {table.scalesim_s.sum() / table.acceldse_s.sum():,.0f}x, "
              f"compat mode {table.scalesim_s.sum() / table.compat_s.sum():,.0f}x (floor: >= 1,000x)")


if __name__ == "__main__":
    main()
