"""A sparse design's mapping-independent part as arrays, for the batched Sparseloop kernel (``kernel``).

``SparseTables.of(template, ...)`` reads once what ``analysis.analyse`` takes from a ``SparseDesign``
apart from the mapping (its loops and dense counts): per tensor its dataspace, ranks (as a bit mask of
the kernel's dimensions), axes, density and state densities; per level and tensor its formats; per level
its word and metadata widths, bandwidths and the energy of each Sparseloop action; the gating /
skipping groups; the compute's energies; the hierarchy's capacities. ``None`` when the design uses what
the kernel does not model (a tensor rank no dimension carries, not two operands): such a design is
analysed mapping by mapping (``batched.BatchedSparse``).

Levels are indexed innermost first (Sparseloop's order) except in ``capacity`` and ``leakage`` (the
hierarchy's order, outermost first, as the dense kernel's arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.mapper.sparse.density import FixedStructured, Hypergeometric
from acceldse.mapper.sparse.design import ACCESSES, KINDS, SparseDesign
from acceldse.mapper.sparse.formats import FORMATS
from acceldse.mapper.sparse.representation import VECTOR_THRESHOLDS
from acceldse.simulator.specs.hierarchy import DATASPACES
from acceldse.workloads.layer import DIMS

FORMAT_CODES = {name: i for i, name in enumerate(FORMATS)}
"""Rank format -> the kernel's code (UOP 0, CP 1, RLE 2, B 3)."""
ACTION_NAMES = (*(f"{k}_{a}" for k in KINDS for a in ACCESSES), *(f"{k}_metadata_{a}" for k in KINDS for a in ACCESSES),
                "decompression_count", "compression_count")
"""The columns of ``SparseTables.energy``: data actions (kind-major), metadata actions, (de)compression."""
MAX_RANKS = 8
"""Ranks a tile may have in the kernel (a deeper one is analysed mapping by mapping)."""


@dataclass(frozen=True)
class SparseTables:
    """The arrays of one design (module docstring); T tensors in the design's order, L levels, S SAF groups."""

    tensor: np.ndarray       # int64[T, 4]: dataspace index, read-write, rank mask, axes
    axes: np.ndarray         # int64[T, A, K, 2]: per axis its terms (dimension, coefficient)
    terms: np.ndarray        # int64[T, A]: terms per axis
    density: np.ndarray      # float64[T, 5]: density, its state density, its density as the compute reads it,
    #                          hypergeometric: elements and non-zeros (0, 0: fixed-structured)
    formats: np.ndarray      # int64[L, T, R, 4 + G]: code, compressed, metadata bits, payload bits, groups, masks
    n_formats: np.ndarray    # int64[L, T]
    level_int: np.ndarray    # int64[L, 4]: word bits, block size, metadata word bits, metadata storage width
    bandwidth: np.ndarray    # float64[L, 3]: read, write, shared (inf: unlimited)
    energy: np.ndarray       # float64[L, 20]: ``ACTION_NAMES``
    saf: np.ndarray          # int64[S, 3]: level, kind (0 gate, 1 skip), options
    options: np.ndarray      # int64[S, O, 2 + C]: target, conditions, condition tensors
    compute: np.ndarray      # float64[3]: random, gated, skipped compute energy
    flags: np.ndarray        # int64[5]: gate on zero operand, skip on not aligned, operand a, operand b, weights
    present: np.ndarray      # int64[8]: 1 where a dimension is a problem rank
    capacity: np.ndarray     # int64[L, 6] (hierarchy order): words, per dataspace (3), buffering, metadata bits
    leakage: np.ndarray      # float64[L] (hierarchy order): pJ per cycle per instance
    vector: np.ndarray       # int64[5, 11]: block size, then ``VECTOR_THRESHOLDS``

    @staticmethod
    def of(template: SparseDesign, *, tensor_names: list[str], rank_of: dict[str, str], hierarchy: Any,
           metadata_bits: dict[str, int], weights: bool) -> SparseTables | None:
        """The tables of ``template`` (a design without loops or counts, every format given), or None
        (module docstring). ``tensor_names``: per dataspace its tensor; ``rank_of``: dimension -> rank;
        ``metadata_bits``: level name -> bits its metadata storage holds."""
        tensors = template.tensors
        dim_of = {rank: DIMS.index(d) for d, rank in rank_of.items()}
        operands = [i for i, t in enumerate(tensors) if not t.read_write]
        if len(operands) != 2 or sorted(tensor_names) != sorted(t.name for t in tensors):
            return None
        if any(r not in dim_of for t in tensors for r in t.ranks):
            return None
        n_axes = max(len(t.axes) for t in tensors)
        n_terms = max(len(ax) for t in tensors for ax in t.axes)
        tensor = np.zeros((len(tensors), 4), dtype=np.int64)
        axes = np.zeros((len(tensors), n_axes, n_terms, 2), dtype=np.int64)
        terms = np.zeros((len(tensors), n_axes), dtype=np.int64)
        density = np.zeros((len(tensors), 5))
        for i, t in enumerate(tensors):
            mask = sum(1 << dim_of[r] for r in t.ranks)
            tensor[i] = (tensor_names.index(t.name), t.read_write, mask, len(t.axes))
            for a, axis in enumerate(t.axes):
                terms[i, a] = len(axis)
                for k, (rank, coef) in enumerate(axis):
                    axes[i, a, k] = (dim_of[rank], coef)
            model = template.densities.get(t.name, FixedStructured(1.0))
            d = round(1e6 * model.expected_occupancy(1)) / 1e6   # what the compute analysis reads
            size = (model.tensor_size, model.nonzeros) if isinstance(model, Hypergeometric) else (0, 0)
            density[i] = (model.density, round(d * 1e6) / 1e6, d, *size)
        levels = template.levels
        groups = max((len(f.flattened) for fs in template.formats.values() for f in fs), default=0)
        n_ranks = max((len(fs) for fs in template.formats.values()), default=0)
        if n_ranks > MAX_RANKS:
            return None
        formats = np.zeros((len(levels), len(tensors), max(n_ranks, 1), 5 + groups), dtype=np.int64)
        n_formats = np.zeros((len(levels), len(tensors)), dtype=np.int64)
        index = {t.name: i for i, t in enumerate(tensors)}
        for (lv, name), fs in template.formats.items():
            n_formats[lv, index[name]] = len(fs)
            spec = levels[lv]
            for r, f in enumerate(fs):
                md = spec.metadata_word_bits if f.metadata_word_bits is None else f.metadata_word_bits
                pl = spec.metadata_word_bits if f.payload_word_bits is None else f.payload_word_bits
                masks = [sum(1 << dim_of[x] for x in g if x in dim_of) for g in f.flattened]
                formats[lv, index[name], r, :5 + len(masks)] = (FORMAT_CODES[f.name], f.compressed, md, pl,
                                                                len(masks), *masks)
        level_int = np.array([(s.word_bits, s.block_size, s.metadata_word_bits, s.metadata_storage_width)
                              for s in levels], dtype=np.int64).reshape(len(levels), 4)
        inf = float("inf")
        bandwidth = np.array([[inf if b is None else float(b) for b in (s.read_bandwidth, s.write_bandwidth,
                                                                         s.shared_bandwidth)] for s in levels])
        energy = np.array([[s.energy_pj.get(a, 0.0) for a in ACTION_NAMES] for s in levels]).reshape(len(levels), 20)
        n_opts = max((len(s.options) for s in template.safs), default=0)
        n_cond = max((len(c) for s in template.safs for _, c in s.options), default=0)
        saf = np.zeros((len(template.safs), 3), dtype=np.int64)
        options = np.zeros((len(template.safs), max(n_opts, 1), 2 + n_cond), dtype=np.int64)
        for s, spec_saf in enumerate(template.safs):
            if spec_saf.kind not in ("gate", "skip") or any(x not in index for target, cond in spec_saf.options
                                                           for x in (target, *cond)):
                return None
            saf[s] = (spec_saf.level, spec_saf.kind == "skip", len(spec_saf.options))
            for o, (target, cond) in enumerate(spec_saf.options):
                options[s, o, :2 + len(cond)] = (index[target], len(cond), *(index[c] for c in cond))
        ce = template.compute_energy_pj
        compute = np.array([ce.get(k, 0.0) for k in ("random_compute", "gated_compute", "skipped_compute")])
        flags = np.array([template.gate_on_zero_operand, template.skip_on_not_aligned_operands, *operands, weights],
                         dtype=np.int64)
        present = np.array([d in rank_of for d in DIMS], dtype=np.int64)
        capacity = np.full((hierarchy.num_levels, 6), -1, dtype=np.int64)
        for i, lv in enumerate(hierarchy.levels):
            capacity[i, 0] = -1 if lv.capacity_words is None else lv.capacity_words
            for j, ds in enumerate(DATASPACES):
                capacity[i, 1 + j] = lv.capacity_words_per_dataspace.get(ds, -1)
            capacity[i, 4] = 2 if lv.double_buffered else 1
            capacity[i, 5] = metadata_bits.get(lv.name, -1)
        leakage = hierarchy.arrays().leakage.copy()
        vector = np.array([(b, *v) for b, v in VECTOR_THRESHOLDS.items()], dtype=np.int64)
        return SparseTables(tensor, axes, terms, density, formats, n_formats, level_int, bandwidth, energy, saf,
                            options, compute, flags, present, capacity, leakage, vector)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays in the kernel's argument order."""
        return (self.tensor, self.axes, self.terms, self.density, self.formats, self.n_formats, self.level_int,
                self.bandwidth, self.energy, self.saf, self.options, self.compute, self.flags, self.present,
                self.capacity, self.leakage, self.vector)
