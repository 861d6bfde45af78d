"""Turn a mapping into tiles and transfers that an event-level engine can replay.

``tile_schedule`` gives, per level and kept dataspace, the tile size (words and bytes) and
how many tiles move per instance; and, per *step* of the outermost level's temporal loops
(one step = one iteration of the DRAM loops), the words DRAM sends down per dataspace,
the output words it receives, and the compute cycles of the step (the product of every
temporal loop below DRAM). Summed over the steps these equal the analytical counts
(``mapper.cost.evaluate``): reads of inputs and weights, updates and reads of outputs, and
the compute cycles. A replay engine issues each step's DMA (double-buffered: step i+1's
loads overlap step i's compute) and its compute.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from acceldse.mapper.cost import evaluate
from acceldse.mapper.legality import RELEVANT
from acceldse.mapper.mapping import Mapping, MappingArrays
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy
from acceldse.workloads.layer import Layer

TILE_COLUMNS = ("level", "dataspace", "instances", "tile_words", "tile_bytes", "tiles_per_instance")


@dataclass(frozen=True)
class TileSchedule:
    """Tiles and per-step transfers of one mapping.

    Attributes:
        tiles: per level and kept dataspace (``TILE_COLUMNS``); ``tiles_per_instance`` counts
            tile loads (inputs/weights) or tile write-backs (outputs) per instance.
        dram_read_words: int64[steps, 3] words DRAM reads per step (inputs, weights, outputs refills).
        dram_update_words: int64[steps] output words written to DRAM per step.
        compute_cycles_per_step: cycles of compute per step (all temporal loops below DRAM).
        word_bits: DRAM word size in bits (bytes = words * word_bits / 8).
    """

    tiles: pd.DataFrame
    dram_read_words: np.ndarray
    dram_update_words: np.ndarray
    compute_cycles_per_step: int
    word_bits: int

    @property
    def steps(self) -> int:
        return int(self.dram_update_words.size)

    @property
    def compute_cycles(self) -> int:
        return self.steps * self.compute_cycles_per_step


def tile_schedule(layer: Layer, hierarchy: Hierarchy, mapping: Mapping | MappingArrays) -> TileSchedule:
    """Tiles per level and per-DRAM-step transfers of a legal mapping (raises ``SpecError`` if illegal)."""
    a = mapping.to_arrays(hierarchy) if isinstance(mapping, Mapping) else mapping
    cost = evaluate(layer, hierarchy, a)
    n = hierarchy.num_levels
    rows = []
    for row in cost.counts.itertuples():
        lvl = hierarchy.level_index(row.level)
        bits = hierarchy.levels[lvl].word_bits
        moved = row.fills if row.dataspace != "outputs" else _writebacks(a, lvl, row.tile_words)
        tiles = moved // row.tile_words if row.tile_words else 0
        if lvl == 0:
            tiles = 1
        rows.append((row.level, row.dataspace, row.instances, row.tile_words,
                     math.ceil(row.tile_words * bits / 8), tiles))
    tiles_df = pd.DataFrame(rows, columns=list(TILE_COLUMNS))
    top = [(int(d), int(a.temporal[0, d])) for d in a.order[0] if a.temporal[0, d] > 1]
    steps = math.prod(f for _, f in top)
    below = int(np.prod(a.temporal[1:])) if n > 1 else 1
    counts = cost.counts.set_index(["level", "dataspace"])
    dram = hierarchy.levels[0].name
    reads = np.zeros((steps, 3), dtype=np.int64)
    updates = np.zeros(steps, dtype=np.int64)
    for ds_i, ds in enumerate(DATASPACES):
        if (dram, ds) not in counts.index:
            continue
        total_r = int(counts.loc[(dram, ds)].reads)
        total_u = int(counts.loc[(dram, ds)].updates)
        c = 1
        while c < n and not a.keep[c, ds_i]:
            c += 1
        deeper = any(a.temporal[j, d] > 1 and RELEVANT[ds_i, d] for j in range(1, c) for d in range(8))
        if deeper or c == n:
            weight = np.full(steps, 1.0)
        else:
            weight = _change_steps(top, ds_i)
        reads[:, ds_i] = _split(total_r, weight)
        if ds == "outputs":
            updates[:] = _split(total_u, weight)
    return TileSchedule(tiles_df, reads, updates, below, hierarchy.levels[0].word_bits)


def _writebacks(a: MappingArrays, lvl: int, tile: int) -> int:
    """Output tiles written back to the parent per instance (changes x tile)."""
    prod_all, last_rel = 1, 1
    for j in range(lvl):
        for d in a.order[j]:
            f = int(a.temporal[j, d])
            if f > 1:
                prod_all *= f
                if RELEVANT[2, d]:
                    last_rel = prod_all
    return last_rel * tile


def _change_steps(top: list[tuple[int, int]], ds: int) -> np.ndarray:
    """1.0 at DRAM steps where the dataspace's tile identity changes (first step included)."""
    rel = [i for i, (d, _) in enumerate(top) if RELEVANT[ds, d]]
    out = []
    prev = None
    for idx in itertools.product(*(range(f) for _, f in top)):
        ident = tuple(idx[i] for i in rel)
        out.append(1.0 if ident != prev else 0.0)
        prev = ident
    return np.array(out) if out else np.ones(1)


def _split(total: int, weight: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weight`` that sum exactly to ``total``."""
    if weight.sum() == 0:
        return np.zeros(weight.size, dtype=np.int64)
    share = weight / weight.sum() * total
    out = np.floor(share).astype(np.int64)
    rest = total - int(out.sum())
    if rest:
        order = np.argsort(-(share - out), kind="stable")[:rest]
        out[order] += 1
    return out
