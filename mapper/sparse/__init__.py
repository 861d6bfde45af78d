"""Sparseloop's semantics (Wu, Emer, Sze et al., MICRO 2022) over a dense Timeloop-style analysis.

A sparse design is a dense mapping plus per-tensor density models (``density``), per-level
representation formats with their metadata (``formats``), storage-level gating/skipping on a
condition tensor and compute-level gating/skipping (``analysis``). ``analysis.analyse`` turns the
dense per-level counts of ``mapper.cost.evaluate`` into Sparseloop's algorithmic / actual / gated /
skipped accesses, metadata reads and fills, cycles and energy. ``mapper.timeloop.sparse`` reads
Timeloop's ``sparse_optimizations`` into it.
"""

from acceldse.mapper.sparse.analysis import analyse
from acceldse.mapper.sparse.density import DensityModel, FixedStructured, Hypergeometric
from acceldse.mapper.sparse.design import Loop, SafSpec, SparseDesign, SparseResult, StorageSpec, TensorStats
from acceldse.mapper.sparse.formats import FORMATS, RankFormat

__all__ = ["FORMATS", "DensityModel", "FixedStructured", "Hypergeometric", "Loop", "RankFormat", "SafSpec",
           "SparseDesign", "SparseResult", "StorageSpec", "TensorStats", "analyse"]
