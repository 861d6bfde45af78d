"""Gymnasium and PettingZoo environments over the simulator, the mapper and the FPGA model.

Importing ``envs`` (or ``acceldse``) registers, in the ``acceldse`` namespace:

* ``acceldse/AcceleratorDesign-v0`` -- systolic accelerator design for a fixed workload;
* ``acceldse/FpgaDesign-v0`` -- folding and partitioning of a layer-pipelined FPGA design;
* ``acceldse/Mapping-v0`` -- Timeloop-style mapping of every distinct layer of a network;
* ``acceldse/CoExploration-v0`` -- NASAIC co-exploration of networks and heterogeneous sub-accelerators;

and exposes the PettingZoo ``ParallelEnv`` ``MultiAgentDesign`` (``envs.multi_agent_env(**kwargs)``).
Entry points are strings, so registering imports nothing heavy; it happens when Gymnasium is imported
(``import acceldse`` does not import Gymnasium). ``from envs import ENV_IDS``
lists the ids.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

ENV_IDS: dict[str, str] = {
    "acceldse/AcceleratorDesign-v0": "acceldse.envs.accelerator_design:AcceleratorDesignEnv",
    "acceldse/FpgaDesign-v0": "acceldse.envs.fpga_design:FpgaDesignEnv",
    "acceldse/Mapping-v0": "acceldse.envs.mapping_env:MappingEnv",
    "acceldse/CoExploration-v0": "acceldse.envs.coexploration:CoExplorationEnv",
}
"""Registered id -> entry point."""

ENV_SUMMARIES: dict[str, str] = {
    "acceldse/AcceleratorDesign-v0": "systolic array, SRAM, DRAM bandwidth, dataflow, clock for a workload (or a set)",
    "acceldse/FpgaDesign-v0": "per-layer folding and partition cuts of a layer-pipelined FPGA design",
    "acceldse/Mapping-v0": "tiling, loop order and bypass of each distinct layer on a memory hierarchy",
    "acceldse/CoExploration-v0": "CNNs for several tasks and a heterogeneous ASIC of sub-accelerators (NASAIC)",
}
"""Registered id -> one line for ``acceldse list envs``."""

VECTOR_ENTRY_POINTS: dict[str, str] = {
    "acceldse/AcceleratorDesign-v0": "acceldse.envs.vector_design:AcceleratorDesignVectorEnv",
}
"""Registered id -> batched vector env (``gym.make_vec(id, N, vectorization_mode="vector_entry_point")``)."""



def register_envs() -> None:
    """Register ``ENV_IDS`` with Gymnasium (once; done when Gymnasium is imported)."""
    from gymnasium.envs.registration import register, registry

    for env_id, entry in ENV_IDS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry, max_episode_steps=100,
                     vector_entry_point=VECTOR_ENTRY_POINTS.get(env_id))


class _RegisterAfterGymnasium:  # a meta path finder (importlib.abc would import importlib.resources)
    """Registers the envs as soon as ``gymnasium`` has been imported, so that importing ``acceldse`` (a
    simulation, a sweep, ``--help``) does not pay for Gymnasium while ``import acceldse, gymnasium;
    gymnasium.make("acceldse/...")`` still works."""

    def find_spec(self, name: str, path: Any = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if name != "gymnasium":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)  # the finders after this one
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            exec_module(module)
            register_envs()

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


if "gymnasium" in sys.modules:
    register_envs()
elif not any(isinstance(finder, _RegisterAfterGymnasium) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterGymnasium())

ENV_SUMMARIES["MultiAgentDesign"] = ("PettingZoo ParallelEnv: compute, memory and interface agents design one "
                                     "accelerator (envs.multi_agent_env)")


def __getattr__(name: str) -> Any:
    """``MultiAgentDesign`` and ``multi_agent_env`` load on first use (they import the simulator)."""
    if name in ("MultiAgentDesign", "multi_agent_env"):
        from acceldse.envs import multi_agent

        return getattr(multi_agent, name)
    raise AttributeError(f"module 'envs' has no attribute {name!r}")


__all__ = ["ENV_IDS", "ENV_SUMMARIES", "MultiAgentDesign", "multi_agent_env"]
