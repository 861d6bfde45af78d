"""FPGA layer-pipelined streaming accelerators (fpgaConvNet / SAMO semantics).

Platforms (``load_platform``), the per-stage model (``Folding``, ``stage_cost``), whole designs
with partitions (``evaluate_design``), an event-level pipeline model (``simulate_pipeline``) and a
sliding-window attention design (``simulator.fpga.attention``).

May import: ``simulator.specs`` (platforms), ``simulator.streaming`` (the engine the pipeline runs on),
``workloads``.
"""

from acceldse.simulator.fpga.design import DesignReport, PartitionReport, evaluate_design
from acceldse.simulator.fpga.stage import Folding, StageCost, check_folding, stage_cost
from acceldse.simulator.specs.platform import Platform, load_platform, preset_names

__all__ = ["DesignReport", "Folding", "PartitionReport", "Platform", "StageCost", "check_folding",
           "evaluate_design", "load_platform", "preset_names", "stage_cost"]
