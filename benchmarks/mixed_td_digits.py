"""Mixed-TD on a real network: throughput per DSP gained vs accuracy lost, on scikit-learn's digits.

A small CNN (conv 16 @3x3, ReLU, conv 32 @3x3, ReLU, 2x2 max pool, FC 64, ReLU, FC 10; 1x8x8 inputs)
is trained here with CPU torch (seeded, one thread, a few seconds) on 80 % of the digits.  For each
per-layer error bound the FPGA optimiser chooses the decomposition (SVD / CP, rank) and folding on
the board; the decomposed layers' weights are then replaced by their low-rank reconstructions and
the network is re-evaluated on the held-out 20 %: accuracy before and after decomposition next to
throughput per DSP.

    python benchmarks/mixed_td_digits.py [--platform samo-zedboard] [--bounds 0.1 0.2 0.3 0.5]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.mapper.fpga import optimise
from acceldse.workloads.decompose import Decomposition, cp_factors, cp_reconstruct, svd_reconstruct
from acceldse.workloads.layer import conv2d, eltwise, gemm, pool2d
from acceldse.workloads.network import Network

LAYERS = ("conv1", "conv2", "fc1", "fc2")


def digits_network(bits: int = 16) -> Network:
    """The CNN as a ``Network`` (layer names match the trained weights)."""
    return Network("digits_cnn", (
        conv2d("conv1", 1, 16, 8, 3, padding=1, bits=bits), eltwise("relu1", 16, 8, num_inputs=1, bits=bits),
        conv2d("conv2", 16, 32, 8, 3, padding=1, bits=bits), eltwise("relu2", 32, 8, num_inputs=1, bits=bits),
        pool2d("pool", 32, 8, 2, bits=bits), gemm("fc1", 1, 64, 32 * 4 * 4, bits=bits),
        eltwise("relu3", 64, 1, num_inputs=1, bits=bits), gemm("fc2", 1, 10, 64, bits=bits)))


@dataclass
class TrainedCnn:
    """Trained weights (numpy, per layer), biases, and the held-out split."""

    weights: dict[str, np.ndarray]
    biases: dict[str, np.ndarray]
    x_test: Any
    y_test: Any


def _model(torch: Any) -> Any:
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))


def train(epochs: int = 12, seed: int = 0) -> TrainedCnn:
    """Train the CNN on 80 % of the digits (seeded, one CPU thread)."""
    import torch
    from sklearn.datasets import load_digits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        data = load_digits()
        x = torch.tensor(data.images / 16.0, dtype=torch.float32).unsqueeze(1)
        y = torch.tensor(data.target, dtype=torch.int64)
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
        cut = int(0.8 * len(y))
        train_idx, test_idx = perm[:cut], perm[cut:]
        model = _model(torch)
        opt = torch.optim.Adam(model.parameters(), lr=0.005)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            order = train_idx[torch.randperm(cut, generator=gen)]
            for i in range(0, cut, 64):
                idx = order[i:i + 64]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
        convs = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        weights = {n: m.weight.detach().numpy().astype(np.float64) for n, m in zip(LAYERS, convs)}
        biases = {n: m.bias.detach().numpy().astype(np.float64) for n, m in zip(LAYERS, convs)}
        return TrainedCnn(weights, biases, x[test_idx], y[test_idx])
    finally:
        torch.set_num_threads(threads)


def accuracy(cnn: TrainedCnn, weights: dict[str, np.ndarray]) -> float:
    """Held-out accuracy of the CNN with ``weights`` (e.g. low-rank reconstructions)."""
    import torch

    model = _model(torch)
    layers = [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        for name, m in zip(LAYERS, layers):
            m.weight.copy_(torch.tensor(weights[name], dtype=torch.float32))
            m.bias.copy_(torch.tensor(cnn.biases[name], dtype=torch.float32))
        pred = model(cnn.x_test).argmax(1)
    return float((pred == cnn.y_test).float().mean())


def reconstructed(weights: dict[str, np.ndarray], plan: dict[str, tuple[str, int]]) -> dict[str, np.ndarray]:
    """``weights`` with every decomposed layer replaced by its rank-limited reconstruction."""
    out = dict(weights)
    for name, (method, rank) in plan.items():
        w = weights[name]
        dec = Decomposition(method, rank)  # type: ignore[arg-type]
        approx = svd_reconstruct(w, dec.rank) if method == "svd" or w.ndim == 2 else cp_reconstruct(
            cp_factors(w, dec.rank))
        out[name] = approx.reshape(w.shape)
    return out


def mixed_td_table(cnn: TrainedCnn, platform: str = "samo-zedboard", bounds: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5),
                   batch: int = 256) -> list[dict[str, Any]]:
    """One row per error bound (first row: undecomposed): throughput/DSP, its gain, accuracy before/after."""
    net = digits_network()
    base = optimise(net, platform, batch=batch)
    before = accuracy(cnn, cnn.weights)
    rows = [{"max_error": 0.0, "decomposed": "", "throughput_per_s": base.report.throughput,
             "dsp": base.report.dsp_used, "throughput_per_dsp": base.report.throughput_per_dsp, "gain": 1.0,
             "accuracy_before": before, "accuracy_after": before}]
    for bound in bounds:
        res = optimise(net, platform, batch=batch, decompose=True, weights=cnn.weights, max_error=bound)
        after = accuracy(cnn, reconstructed(cnn.weights, res.decomposition))
        rows.append({"max_error": bound,
                     "decomposed": " ".join(f"{k}={m}:{r}" for k, (m, r) in sorted(res.decomposition.items())),
                     "throughput_per_s": res.report.throughput, "dsp": res.report.dsp_used,
                     "throughput_per_dsp": res.report.throughput_per_dsp,
                     "gain": res.report.throughput_per_dsp / base.report.throughput_per_dsp,
                     "accuracy_before": before, "accuracy_after": after})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="samo-zedboard")
    ap.add_argument("--bounds", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.5])
    args = ap.parse_args()
    cnn = train()
    print(f"{'max_error':>9} {'throughput/s':>13} {'DSP':>5} {'per DSP':>9} {'gain':>6} {'acc before':>10} "
          f"{'acc after':>9}  decomposition")
    for r in mixed_td_table(cnn, args.platform, tuple(args.bounds)):
        print(f"{r['max_error']:>9.2f} {r['throughput_per_s']:>13,.1f} {r['dsp']:>5} {r['throughput_per_dsp']:>9.2f} "
              f"{r['gain']:>6.2f} {r['accuracy_before']:>10.4f} {r['accuracy_after']:>9.4f}  {r['decomposed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
