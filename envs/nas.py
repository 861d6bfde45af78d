"""The parametric CNN family of CoExploration-v0 and its accuracy evaluators.

An architecture for a task is ``depth`` stages (1-3), stage ``i`` a ``kernels[i] x kernels[i]`` convolution
("same" padding) to ``channels[i]`` channels, ReLU and 2x2 max pooling, then a fully connected
classifier. Tasks are small-image classification on scikit-learn's bundled digits (1,797 8x8 images,
10 classes): ``digits`` at 8x8 and ``digits16`` upsampled (nearest) to 16x16.

Accuracy evaluators (``accuracy=`` argument of the env):

* ``"surrogate"`` (default): deterministic, fitted once from 100 real training runs (``train_digits``)
  of architectures sampled from the family: a least-squares fit on six architecture features (``features``),
  clipped to [0, 1]. It is coarse -- its leave-one-out RMSE against the real runs is recorded in
  ``envs/data/accuracy_surrogate.json`` (0.19: networks of 1x1 kernels that fail to train are hard to
  predict) -- and meant for fast exploration; use ``"train"`` for real accuracies.
  ``fit_surrogate`` regenerates the file (``benchmarks/make_nas_surrogate.py`` runs it; the file records how).
* ``"train"``: ``TrainedAccuracy`` -- trains the network with CPU torch (seconds) on 80 % of the
  digits and returns the accuracy on the other 20 %, cached by architecture.
* any callable ``f(arch: dict) -> float`` in [0, 1].
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, conv2d, gemm, pool2d
from acceldse.workloads.network import Network

TASKS: dict[str, int] = {"digits": 8, "digits16": 16}
"""Task name -> input height/width (one channel, 10 classes)."""
CLASSES = 10
NAS_KNOBS: dict[str, list[Any]] = {
    "depth": [1, 2, 3],
    "ch1": [4, 8, 16, 32], "ch2": [4, 8, 16, 32], "ch3": [4, 8, 16, 32],
    "k1": [1, 3, 5], "k2": [1, 3, 5], "k3": [1, 3, 5],
}
"""Default per-task knobs: number of stages, channels and kernel size of each stage."""
SURROGATE_PATH = Path(__file__).parent / "data" / "accuracy_surrogate.json"


def architecture(task: str, design: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The architecture dict of ``task`` from design knobs ``{prefix}depth``, ``{prefix}ch1`` ..."""
    depth = int(design[f"{prefix}depth"])
    return {"task": task, "depth": depth,
            "channels": [int(design[f"{prefix}ch{i + 1}"]) for i in range(depth)],
            "kernels": [int(design[f"{prefix}k{i + 1}"]) for i in range(depth)]}


def arch_key(arch: dict[str, Any]) -> str:
    """A canonical string of an architecture (cache key)."""
    return json.dumps({k: arch[k] for k in ("task", "depth", "channels", "kernels")}, sort_keys=True)


def build_network(arch: dict[str, Any], name: str | None = None) -> Network:
    """The ``Network`` (8-bit) of an architecture: conv + pool per stage, then the classifier."""
    hw = TASKS[arch["task"]]
    layers: list[Layer] = []
    ch = 1
    prefix = name or arch["task"]
    for i, (out, k) in enumerate(zip(arch["channels"], arch["kernels"])):
        layers.append(conv2d(f"{prefix}.conv{i + 1}", ch, out, hw, k, padding=k // 2))
        layers.append(pool2d(f"{prefix}.pool{i + 1}", out, hw, 2))
        ch, hw = out, hw // 2
    layers.append(gemm(f"{prefix}.fc", 1, CLASSES, ch * hw * hw))
    return Network(prefix, tuple(layers), source="acceldse.envs.nas")


def features(arch: dict[str, Any]) -> np.ndarray:
    """Surrogate features: 1, conv receptive field / pooling block (capped at 3), log2 final feature-map size,
    log2 first-stage width, log2 narrowest stage width, whether the first kernel is 1x1."""
    field, jump = 1, 1
    for k in arch["kernels"]:
        field += (k - 1) * jump
        jump *= 2
    block = 2 ** arch["depth"]
    return np.array([1.0, min(field / block, 3.0), math.log2(TASKS[arch["task"]] // block),
                     math.log2(arch["channels"][0]), math.log2(min(arch["channels"])),
                     float(arch["kernels"][0] == 1)])


class SurrogateAccuracy:
    """The default evaluator: a linear fit of ``features`` to real training runs (see module docstring)."""

    def __init__(self, path: Path = SURROGATE_PATH) -> None:
        data = json.loads(path.read_text())
        self.coef = np.array(data["coefficients"], dtype=np.float64)

    def __call__(self, arch: dict[str, Any]) -> float:
        return float(np.clip(features(arch) @ self.coef, 0.0, 1.0))


class TrainedAccuracy:
    """Train the architecture with CPU torch on the digits (seeded) and return held-out accuracy; cached.

    Args:
        epochs: passes over the 1,437 training images (batch 128, Adam, learning rate 0.02).
        seed: torch and split seed.
    """

    def __init__(self, epochs: int = 10, seed: int = 0) -> None:
        self.epochs = epochs
        self.seed = seed
        self.cache: dict[str, float] = {}

    def __call__(self, arch: dict[str, Any]) -> float:
        key = arch_key(arch)
        if key not in self.cache:
            self.cache[key] = train_digits(arch, epochs=self.epochs, seed=self.seed)
        return self.cache[key]


def _digits(size: int, seed: int) -> tuple[Any, Any, Any, Any]:
    import torch
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.images / 16.0, dtype=torch.float32).unsqueeze(1)
    if size != 8:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="nearest")
    y = torch.tensor(data.target, dtype=torch.int64)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    cut = int(0.8 * len(y))
    return x[perm[:cut]], y[perm[:cut]], x[perm[cut:]], y[perm[cut:]]


def train_digits(arch: dict[str, Any], *, epochs: int = 10, seed: int = 0) -> float:
    """Held-out accuracy of the architecture trained on 80 % of the digits (CPU, one thread, seconds)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        xtr, ytr, xte, yte = _digits(TASKS[arch["task"]], seed)
        layers: list[torch.nn.Module] = []
        ch, hw = 1, TASKS[arch["task"]]
        for out, k in zip(arch["channels"], arch["kernels"]):
            layers += [torch.nn.Conv2d(ch, out, k, padding=k // 2), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            ch, hw = out, hw // 2
        model = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(ch * hw * hw, CLASSES))
        opt = torch.optim.Adam(model.parameters(), lr=0.02)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            order = torch.randperm(len(ytr), generator=gen)
            for i in range(0, len(ytr), 128):
                idx = order[i:i + 128]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
                opt.step()
        with torch.no_grad():
            return float((model(xte).argmax(1) == yte).float().mean())
    finally:
        torch.set_num_threads(threads)


def accuracy_evaluator(spec: str | Callable[[dict[str, Any]], float]) -> Callable[[dict[str, Any]], float]:
    """``"surrogate"``, ``"train"`` or a callable (see module docstring)."""
    if callable(spec):
        return spec
    if spec == "surrogate":
        return SurrogateAccuracy()
    if spec == "train":
        return TrainedAccuracy()
    raise SpecError("unknown accuracy evaluator", source="accuracy", value=spec,
                    accepted="surrogate | train | a callable arch -> accuracy")


def fit_surrogate(samples: int = 20, seed: int = 0, path: Path = SURROGATE_PATH, *,
                  runs: list[dict[str, Any]] | None = None, add: bool = False, command: str = "") -> dict[str, Any]:
    """Train ``samples`` random architectures per task (or reuse ``runs``; ``add`` trains new ones on top of
    ``runs``) and fit the surrogate (writes ``path``).

    The file also records the leave-one-out RMSE of the fit (how far the surrogate is from a real run).
    """
    if runs is None or add:
        rng = np.random.default_rng(seed)
        runs = list(runs or [])
        for task in TASKS:
            for _ in range(samples):
                design = {k: v[int(rng.integers(len(v)))] for k, v in NAS_KNOBS.items()}
                arch = architecture(task, design)
                runs.append({"arch": arch, "accuracy": train_digits(arch)})
    x = np.stack([features(r["arch"]) for r in runs])
    y = np.array([r["accuracy"] for r in runs])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    errors = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        c, *_ = np.linalg.lstsq(x[keep], y[keep], rcond=None)
        errors.append(float(np.clip(x[i] @ c, 0, 1) - y[i]))
    data = {"features": ["1", "receptive field / pooling block", "log2 final size", "log2 first width",
                         "log2 narrowest width", "first kernel 1x1"],
            "coefficients": coef.tolist(), "rmse": float(np.sqrt(np.mean((np.clip(x @ coef, 0, 1) - y) ** 2))),
            "loo_rmse": float(np.sqrt(np.mean(np.square(errors)))), "runs": runs,
            "command": command or f"acceldse.envs.nas.fit_surrogate(samples={samples}, seed={seed})"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return data

