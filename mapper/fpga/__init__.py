"""Optimisers for FPGA layer-pipelined streaming designs: rule-based greedy and simulated annealing
over per-stage folding, partitioning with reconfiguration, and per-layer tensor decomposition."""

from acceldse.mapper.fpga.optimise import FpgaResult, optimise, optimise_network

__all__ = ["FpgaResult", "optimise", "optimise_network"]
