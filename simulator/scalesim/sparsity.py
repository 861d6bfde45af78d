"""SCALE-Sim 3.0.0's N:M weight sparsity (``[sparsity]`` in its ``.cfg``), as compat mode needs it.

SCALE-Sim prunes the filter operand matrix (window index k x filter n) before it builds any
demand matrix:

* ``OptimizedMapping`` false: the layer's N:M ratio keeps window rows ``k % M < N`` of every
  filter (the same rows for all filters); the ifmap loses the same columns. The layer then runs
  as a dense layer over the K' kept rows -- with the kept rows' original addresses, so the
  read buffers see a different address stream. On ws the SRAM ifmap reads are multiplied by
  M/N (a float: "a block of input is shared among M/N rows").
* ``OptimizedMapping`` true (ws only; os/is assert on the operand shapes): filter n keeps
  ``c_n`` rows of every ``BlockSize`` rows, ``c_n`` drawn by NumPy's legacy generator
  (``np.random.seed(RandomNumberGeneratorSeed)``, then ``randint(1, BlockSize // 2 + 1)`` per
  filter); each block is compressed to ``BlockSize // 2`` slots (empty slots are no request),
  halving the filter rows. The ifmap is not pruned: each fold streams 2 x ArrayHeight of its
  columns, in blocks of ``BlockSize`` words repeated ``BlockSize // 2`` times.

``SPARSE_REPORT.csv`` storage (words): csr ``2*nnz + K + 1`` (metadata ``nnz + K + 1``), csc
``2*nnz + N + 1`` (``nnz + N + 1``), ellpack_block ``rows*N + meta`` with
``meta = rows*N*ceil(log2(M))/32`` over the compressed filter matrix (M is the layer's ratio
even with the optimized mapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acceldse.simulator.specs.scalesim_cfg import REPRESENTATIONS, ScaleSimSparsity


@dataclass(frozen=True)
class SparseFilter:
    """The pruned filter operand of one layer as SCALE-Sim builds it.

    ``rows`` compressed filter rows; ``kmap[k']`` the original window index of compressed row
    ``k'`` (unoptimized mapping); ``col_nnz[n]`` the kept rows per block of filter ``n``
    (optimized mapping, else empty); ``nnz`` nonzero weights of the K x N filter.
    """

    rows: int
    kmap: np.ndarray
    col_nnz: np.ndarray
    nnz: int


def column_nonzeros(num_filters: int, block_size: int, seed: int) -> np.ndarray:
    """SCALE-Sim's per-filter kept rows per block under ``OptimizedMapping`` (its exact draws)."""
    rng = np.random.RandomState(seed)
    return np.array([rng.randint(1, block_size // 2 + 1) for _ in range(num_filters)], dtype=np.int64)


def sparse_filter(k_dim: int, num_filters: int, ratio: tuple[int, int], cfg: ScaleSimSparsity) -> SparseFilter:
    """The compressed filter of a K x N layer with N:M ``ratio`` under ``cfg``."""
    n_keep, m_block = ratio
    if cfg.optimized_mapping:
        bs = cfg.block_size
        col_nnz = column_nonzeros(num_filters, bs, cfg.seed)
        nnz = int(sum((k_dim // bs) * c + min(k_dim % bs, c) for c in col_nnz))
        rows = -(-k_dim // (2 * bs)) * bs
        return SparseFilter(rows=rows, kmap=np.arange(k_dim, dtype=np.int64), col_nnz=col_nnz, nnz=nnz)
    kmap = np.flatnonzero(np.arange(k_dim) % m_block < n_keep).astype(np.int64)
    return SparseFilter(rows=len(kmap), kmap=kmap, col_nnz=np.zeros(1, dtype=np.int64), nnz=len(kmap) * num_filters)


def storage_words(k_dim: int, num_filters: int, ratio: tuple[int, int], filt: SparseFilter,
                  representation: str) -> tuple[int, int | float, int | float]:
    """SPARSE_REPORT.csv's (original filter storage, new storage, metadata storage) in words."""
    original = k_dim * num_filters
    if representation == "csr":
        return original, 2 * filt.nnz + k_dim + 1, filt.nnz + k_dim + 1
    if representation == "csc":
        return original, 2 * filt.nnz + num_filters + 1, filt.nnz + num_filters + 1
    entries = filt.rows * num_filters
    metadata = (entries * math.ceil(math.log2(ratio[1]))) / 32
    return original, entries + metadata, metadata


__all__ = ["REPRESENTATIONS", "ScaleSimSparsity", "SparseFilter", "column_nonzeros", "sparse_filter",
           "storage_words"]
