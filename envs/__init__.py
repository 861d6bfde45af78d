"""Gymnasium and PettingZoo environments over the simulator, the mapper and the FPGA model.

Importing ``envs`` (or ``acceldse``) registers, in the ``acceldse`` namespace:

* ``acceldse/AcceleratorDesign-v0`` -- systolic accelerator design for a fixed workload;

Entry points are strings, so registering imports nothing heavy. ``from envs import ENV_IDS``
lists the ids.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

ENV_IDS: dict[str, str] = {
    "acceldse/AcceleratorDesign-v0": "envs.accelerator_design:AcceleratorDesignEnv",
}
"""Registered id -> entry point."""

ENV_SUMMARIES: dict[str, str] = {
    "acceldse/AcceleratorDesign-v0": "systolic array, SRAM, DRAM bandwidth, dataflow and clock for one workload",
}
"""Registered id -> one line for ``acceldse list envs``."""

for _id, _entry in ENV_IDS.items():
    if _id not in registry:
        register(id=_id, entry_point=_entry, max_episode_steps=100)

__all__ = ["ENV_IDS", "ENV_SUMMARIES"]
