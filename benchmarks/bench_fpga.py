"""Optimiser comparison: acceldse's FPGA folding optimisers vs SAMO 0.2.4's rule optimiser.

SAMO (with the fpgaConvNet backend) runs in its own venv through ``benchmarks/samo_runner.py``
(subprocess); it is never a dependency.  Both optimise the same networks on the same platforms
(clock 100 MHz, SAMO's fixed frequency; reconfiguration time and bandwidth from our presets).
Each prints throughput (samples/s), batch latency and optimiser run time.  The resource models
differ (SAMO uses fpgaConvNet's BRAM/LUT/FF models), so the comparison is of whole tool chains.

    python benchmarks/bench_fpga.py [--samo-python /work/samo-venv/bin/python] [--write-golden]

``--write-golden`` stores SAMO's per-layer folding, cycles and DSPs in tests/golden/fpga/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from acceldse.mapper.fpga import optimise
from acceldse.simulator.fpga import Folding, evaluate_design, load_platform
from acceldse.workloads.network import Network
from acceldse.workloads.zoo.small import cnv, lenet, mlp, vgg_small

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "fpga"


def samo_spec(network: Network) -> list[dict[str, object]]:
    """Our chain network as samo_runner's layer list."""
    out: list[dict[str, object]] = []
    for i, layer in enumerate(network):
        if layer.op == "conv":
            spec: dict[str, object] = {"op": "conv", "out": layer.K, "k": layer.R, "stride": layer.stride[0],
                                       "pad": layer.padding[0]}
        elif layer.op == "pool":
            spec = {"op": "pool", "k": layer.R}
        elif layer.op == "eltwise":
            spec = {"op": "relu"}
        elif layer.op == "gemm":
            spec = {"op": "fc", "out": layer.K}
        else:
            raise ValueError(f"SAMO runner does not support {layer.op}")
        if i == 0:
            spec["input"] = [layer.G * layer.C, layer.H, layer.W]
        out.append(spec)
    return out


def run_samo(python: str, network: Network, platform_name: str, batch: int) -> dict[str, object]:
    plat = load_platform(platform_name)
    spec = {"network": samo_spec(network), "batch": batch, "optimiser": "rule",
            "platform": {"name": plat.name, "freq": 100, "reconf_time": plat.reconfiguration_ms * 1000.0,
                         "bandwidth": plat.bandwidth_gbit_per_s,
                         "resources": {"BRAM": plat.bram18, "DSP": plat.dsp, "FF": plat.ff, "LUT": plat.lut}}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    env = {**os.environ, "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python"}
    proc = subprocess.run([python, str(ROOT / "benchmarks" / "samo_runner.py"), f.name], capture_output=True,
                          text=True, env=env, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"SAMO failed: {proc.stderr[-2000:]}")
    result: dict[str, object] = json.loads(lines[-1])
    parts = result["partitions"]
    assert isinstance(parts, list)
    cycles = sum(p["latency"] for p in parts)
    latency_us = cycles / 100.0 + (len(parts) - 1) * plat.reconfiguration_ms * 1000.0
    result.update({"network": network.name, "platform": platform_name, "batch": batch, "latency_us": latency_us,
                   "throughput_per_s": batch / (latency_us * 1e-6),
                   "layer_names": [layer.name for layer in network]})
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samo-python", default="/work/samo-venv/bin/python")
    ap.add_argument("--write-golden", action="store_true")
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    cases = [(lenet(), "zc706"), (lenet(), "zcu102"), (mlp(), "zc706"), (vgg_small(widths=(16, 32, 64)), "zcu102"),
             (cnv(), "samo-u250-1slr")]
    have_samo = Path(args.samo_python).exists()
    print(f"{'network':<12}{'platform':<9}{'tool':<16}{'throughput/s':>14}{'latency us':>13}{'parts':>6}"
          f"{'run s':>8}")
    for net, plat in cases:
        for method in ("greedy", "anneal"):
            r = optimise(net, plat, clock_mhz=100, batch=args.batch, method=method)
            s = r.summary
            print(f"{net.name:<12}{plat:<9}{'acceldse-' + method:<16}{s['throughput_per_s']:>14.1f}"
                  f"{s['batch_time_us']:>13.1f}{s['partitions']:>6}{r.runtime_s:>8.2f}")
        if not have_samo:
            print(f"{net.name:<12}{plat:<9}{'samo-rule':<16}{'(samo venv not found)':>14}")
            continue
        try:
            sr = run_samo(args.samo_python, net, plat, args.batch)
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            print(f"{net.name:<12}{plat:<9}{'samo-rule':<16} failed: {str(err)[:200]}")
            continue
        parts = sr["partitions"]
        assert isinstance(parts, list)
        print(f"{net.name:<12}{plat:<9}{'samo-rule':<16}{sr['throughput_per_s']:>14.1f}{sr['latency_us']:>13.1f}"
              f"{len(parts):>6}{sr['runtime_s']:>8.2f}")
        # SAMO's folding and partitions evaluated in our model (one cost model for both optimisers)
        layers = [layer for p in parts for layer in p["layers"]]
        names = [layer.name for layer in net]
        folds = {n: Folding(d["coarse_in"], d["coarse_out"], d["fine"] if net[n].op == "conv" else 1)
                 for n, d in zip(names, layers)}
        bounds, k = [], 0
        for p in parts:
            bounds.append(names[k:k + len(p["layers"])])
            k += len(p["layers"])
        ours = evaluate_design(net, folds, load_platform(plat).with_clock(100), batch=args.batch, partitions=bounds)
        tag = "feasible" if ours.feasible else "over budget in our model"
        print(f"{net.name:<12}{plat:<9}{'samo-in-ours':<16}{ours.throughput:>14.1f}{ours.batch_time_s * 1e6:>13.1f}"
              f"{len(parts):>6}{'':>8}  ({tag})")
        if args.write_golden:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            (GOLDEN / f"samo_{net.name}_{plat}.json").write_text(json.dumps(sr, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
