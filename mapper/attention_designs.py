"""Attention accelerator designs as mapping templates on a fused-accelerator preset, and FuseMax against
FLAT on the paper's setup.

* ``unfused`` - three kernels one after another (Q K^T; the softmax on the 1D array; x V), the N x N
  scores and probabilities through DRAM (FuseMax's unfused baseline), 3-pass cascade, ``flat_cloud``;
* ``flat`` - FLAT: Q K^T, softmax and x V fused over row blocks of queries; the row block of scores
  stays in the buffer (spilling when it does not fit), Q, K and V stream from DRAM for every block of
  the 2D array, 3-pass cascade, ``flat_cloud``;
* ``fusemax`` - FuseMax: the 1-pass cascade, the score tile (query tile x 256 keys) in the PE
  registers, the running max, denominator and numerator in the buffer, the 2D and 1D arrays
  pipelined over key tiles (the paper's waterfall), ``fusemax``.

Each template picks its query tile like its paper: the largest that fits the buffer (FLAT also tries
keeping the scores in DRAM and keeps the faster). The templates' parts are in ``attention_templates``;
``attention_search.search_fused`` searches the same space (query tile, where each intermediate lives,
which unit runs each Einsum) with the mapper's strategies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.mapper.attention_templates import (
    flat_parts,
    fusemax_parts,
    linear_parts,
    pass_parts,
    rank_tiles,
    unfused_parts,
)
from acceldse.mapper.fused import FusedCost, FusedGroup, FusedMapping, evaluate_fused
from acceldse.simulator.specs.fused import FusedHardware, load_fused_hardware
from acceldse.workloads.attention import attention_cascade, layer_cascade, model_shape
from acceldse.workloads.cascade import Cascade
from acceldse.workloads.errors import SpecError

DESIGNS: dict[str, tuple[str, str]] = {"unfused": ("3pass", "flat_cloud"), "flat": ("3pass", "flat_cloud"),
                                       "fusemax": ("1pass", "fusemax")}
"""Design -> (attention cascade, hardware preset the paper gives it)."""
CASCADES: dict[str, tuple[str, ...]] = {"unfused": ("3pass",), "flat": ("3pass",),
                                        "fusemax": ("1pass", "2pass", "3pass")}
"""The cascades each design can map: FuseMax's accelerator sweeps key tiles once per pass
(``pass_parts``); the unfused and FLAT templates are written for the 3-pass cascade."""

def _first_legal(cascade: Cascade, hw: FusedHardware, candidates: list[FusedMapping],
                 key: Callable[[FusedCost], Any] | None = None) -> tuple[FusedMapping, FusedCost]:
    best: tuple[FusedMapping, FusedCost] | None = None
    last: SpecError | None = None
    for m in candidates:
        try:
            cost = evaluate_fused(cascade, hw, m, source=f"{m.name} mapping on {hw.name}")
        except SpecError as err:
            last = err
            continue
        if key is None:
            return m, cost
        if best is None or key(cost) < key(best[1]):
            best = (m, cost)
    if best is None:
        raise last or SpecError("no legal mapping", source=hw.name)
    return best

@dataclass(frozen=True)
class DesignPoint:
    """One design evaluated on one workload."""

    design: str
    model: str
    seq_len: int
    batch: int
    cascade: Cascade
    hardware: FusedHardware
    mapping: FusedMapping
    cost: FusedCost

    def row(self) -> dict[str, Any]:
        c = self.cost
        return {"design": self.design, "model": self.model, "seq_len": self.seq_len, "batch": self.batch,
                "latency_us": c.latency_us, "energy_pj": c.energy_pj, "dram_bytes": c.dram_bytes,
                "util_2d": c.util_2d, "util_1d": c.util_1d, "buffer_bytes": c.buffer_bytes,
                "passes": self.cascade.num_passes("M" if "M" in self.cascade.ranks else "M1"),
                "hardware": self.hardware.name}


def design_mapping(design: str, cascade: Cascade, hw: FusedHardware, *, end_to_end: bool = False,
                   query_tile: int | None = None) -> tuple[FusedMapping, FusedCost]:
    """The template mapping of ``design`` on ``cascade`` (attention or a whole layer); ``query_tile``
    fixes the query tile (default: the largest legal one, as each paper picks it)."""
    lin_groups: list[FusedGroup] = []
    lin_bind: dict[str, str] = {}
    lin_sp: dict[str, dict[str, tuple[str, ...]]] = {}
    if end_to_end:
        lin_groups, lin_bind, lin_sp = linear_parts(cascade, hw)

    def assemble(att_groups: tuple[FusedGroup, ...], binding: dict, spatial: dict, keep: dict,
                 spill: bool) -> FusedMapping:
        groups = (*lin_groups[:3], *att_groups, *lin_groups[3:]) if end_to_end else att_groups
        inner: dict[str, tuple[str, ...]] = {"AV": ("F",)} if design != "fusemax" else {}
        return FusedMapping(groups, {**binding, **lin_bind}, {**spatial, **lin_sp}, keep, spill, design, inner)

    p = cascade.ranks["P"]
    if query_tile is not None and (query_tile < 1 or p % query_tile):
        raise SpecError("the query tile must divide the sequence length", source="query_tile", value=query_tile,
                        accepted=f"a divisor of {p}")
    tiles = [query_tile] if query_tile is not None else rank_tiles(p)
    if design == "fusemax":
        cands = []
        for tp in tiles:
            if "RM" in cascade.producers:           # the 1-pass cascade: FuseMax's own template
                g, b, s, k = fusemax_parts(cascade, tp)
                cands.append(assemble((g,), b, s, k, False))
            else:
                gs, b, s, k = pass_parts(cascade, hw, tp)
                cands.append(assemble(gs, b, s, k, False))
        return _first_legal(cascade, hw, cands)
    if design == "flat":
        cands = []
        for scores in ("buffer", "dram"):
            for tp in tiles:
                g, b, s, k = flat_parts(cascade, tp, scores)
                cands.append(assemble((g,), b, s, k, True))
        return _first_legal(cascade, hw, cands, key=lambda c: (c.cycles, c.energy_pj))
    if design == "unfused":
        cands = []
        for tp in tiles:
            gs, b, s, k = unfused_parts(cascade, tp, tp, hw.buffer_bytes // hw.word_bytes)
            cands.append(assemble(gs, b, s, k, True))
        return _first_legal(cascade, hw, cands, key=lambda c: (c.cycles, c.energy_pj))
    raise SpecError("unknown design", source="design", value=design, accepted=", ".join(DESIGNS))


def evaluate_design(design: str, *, model: str | None = "bert", heads: int | None = None,
                    head_dim: int | None = None, embed: int | None = None, ffn: int | None = None,
                    seq_len: int = 1024, batch: int = 64, hardware: str | FusedHardware | None = None,
                    end_to_end: bool = False, query_tile: int | None = None,
                    cascade: str | None = None) -> DesignPoint:
    """Evaluate one design (``unfused``, ``flat``, ``fusemax``) on one workload point (a ``model`` of
    ``workloads.attention.MODELS`` or ``heads``/``head_dim``), attention only or the whole layer;
    ``cascade`` (``CASCADES``) picks the attention cascade (default: the design's own)."""
    if design not in DESIGNS:
        raise SpecError("unknown design", source="design", value=design, accepted=", ".join(DESIGNS))
    kind, preset = DESIGNS[design]
    if cascade is not None:
        if cascade not in CASCADES[design]:
            raise SpecError(f"the {design} design maps the {' or '.join(CASCADES[design])} cascade",
                            source="cascade", value=cascade, accepted=", ".join(CASCADES[design]))
        kind = cascade
    for name, value in (("heads", heads), ("head_dim", head_dim), ("embed", embed), ("ffn", ffn)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise SpecError("must be an integer >= 1 (or None: the model's)", source=name, value=value)
    shape = model_shape(model) if model else None
    h = heads if heads is not None else (shape.heads if shape else 12)
    e = head_dim if head_dim is not None else (shape.head_dim if shape else 64)
    d = embed if embed is not None else (shape.embed if shape else h * e)
    f = ffn if ffn is not None else (shape.ffn if shape else 4 * d)
    hw = load_fused_hardware(hardware or preset)
    if end_to_end:
        c = layer_cascade(kind, heads=h, head_dim=e, embed=d, ffn=f, seq_len=seq_len, batch=batch)
    else:
        c = attention_cascade(kind, heads=h, head_dim=e, seq_len=seq_len, batch=batch)
    mapping, cost = design_mapping(design, c, hw, end_to_end=end_to_end, query_tile=query_tile)
    return DesignPoint(design, shape.name if shape else f"H{h}xE{e}", seq_len, batch, c, hw, mapping, cost)


PAPER_SEQ_LENS: tuple[int, ...] = tuple(2**k for k in (10, 12, 14, 16, 18, 20))
"""The sequence lengths FuseMax evaluates (1K to 1M), batch 64, on the four ``MODELS``."""
PAPER_HEADLINE: dict[str, float] = {"speedup": 6.7, "energy_ratio": 0.79, "speedup_end_to_end": 5.3,
                                    "energy_ratio_end_to_end": 0.83}
"""FuseMax (MICRO'24) abstract: average speed-up over FLAT and energy as a fraction of FLAT's, for
attention and for the whole transformer layer."""


def fusemax_vs_flat(*, models: tuple[str, ...] = ("bert", "trxl", "t5", "xlm"),
                    seq_lens: tuple[int, ...] = PAPER_SEQ_LENS, batch: int = 64,
                    end_to_end: bool = False) -> dict[str, Any]:
    """FuseMax against FLAT on the paper's setup (each on its own preset, the paper's mappings).

    Returns ``{"speedup", "energy_ratio"}`` (arithmetic means over the points, like the paper's
    averages), ``"paper"`` (``PAPER_HEADLINE``'s two figures for this scope) and ``"points"`` (one
    row per model and sequence length: latencies, energies, utilisations of both designs).
    """
    rows = []
    for model in models:
        for n in seq_lens:
            fm = evaluate_design("fusemax", model=model, seq_len=n, batch=batch, end_to_end=end_to_end)
            fl = evaluate_design("flat", model=model, seq_len=n, batch=batch, end_to_end=end_to_end)
            rows.append({"model": fm.model, "seq_len": n, "speedup": fl.cost.cycles / fm.cost.cycles,
                         "energy_ratio": fm.cost.energy_pj / fl.cost.energy_pj,
                         "fusemax_latency_us": fm.cost.latency_us, "flat_latency_us": fl.cost.latency_us,
                         "fusemax_util_2d": fm.cost.util_2d, "fusemax_util_1d": fm.cost.util_1d,
                         "flat_util_2d": fl.cost.util_2d, "flat_util_1d": fl.cost.util_1d,
                         "fusemax_buffer_bytes": fm.cost.buffer_bytes, "flat_buffer_bytes": fl.cost.buffer_bytes})
    suffix = "_end_to_end" if end_to_end else ""
    return {"speedup": float(np.mean([r["speedup"] for r in rows])),
            "energy_ratio": float(np.mean([r["energy_ratio"] for r in rows])),
            "paper": {"speedup": PAPER_HEADLINE["speedup" + suffix],
                      "energy_ratio": PAPER_HEADLINE["energy_ratio" + suffix]},
            "points": rows}


__all__ = ["CASCADES", "DESIGNS", "PAPER_HEADLINE", "PAPER_SEQ_LENS", "DesignPoint", "design_mapping",
           "evaluate_design", "fusemax_vs_flat"]
