"""Fast constructor arguments for every registered env (JSON-serialisable, as an EnvSpec stores them)."""

from __future__ import annotations

FAST_KWARGS: dict[str, dict] = {
    "acceldse/AcceleratorDesign-v0": {"workloads": ["resnet18", "mobilenet_v1"]},  # workload-conditioned
    "acceldse/FpgaDesign-v0": {"workloads": ["lenet", "mlp"], "platform": "zc706"},  # workload-conditioned
    "acceldse/Mapping-v0": {"workloads": ["mobilenet_v1", "lenet"], "hardware": "simple_ws_32x32"},
    "acceldse/CoExploration-v0": {"tasks": ["digits"], "sub_accelerators": 2, "mapper_budget": 100},
}
