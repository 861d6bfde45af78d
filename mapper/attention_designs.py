"""Attention accelerator designs as mapping templates on a fused-accelerator preset, and the
fused-mapping search.

* ``unfused`` - three kernels one after another (Q K^T; the softmax on the 1D array; x V), the N x N
  scores and probabilities through DRAM (FuseMax's unfused baseline), 3-pass cascade, ``flat_cloud``;
* ``flat`` - FLAT: Q K^T, softmax and x V fused over row blocks of queries; the row block of scores
  stays in the buffer (spilling when it does not fit), Q, K and V stream from DRAM for every block of
  the 2D array, 3-pass cascade, ``flat_cloud``;
* ``fusemax`` - FuseMax: the 1-pass cascade, the score tile (query tile x 256 keys) in the PE
  registers, the running max, denominator and numerator in the buffer, the 2D and 1D arrays
  pipelined over key tiles (the paper's waterfall), ``fusemax``.

Each template picks its query tile like its paper: the largest that fits the buffer (FLAT also tries
keeping the scores in DRAM and keeps the faster). ``search_fused`` searches the same space (query
tile, where each intermediate lives, which unit runs each Einsum) with the mapper's strategies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from acceldse.mapper.fused import FusedCost, FusedGroup, FusedMapping, evaluate_fused, fused_objective
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

LINEAR = ("Qp", "Kp", "Vp", "Z", "FFN1", "FFN2")
_LINEAR_SPATIAL = {"Qp": ("E", "H"), "Kp": ("E", "H"), "Vp": ("F", "H"), "Z": ("D",), "FFN1": ("S",),
                   "FFN2": ("D",)}
_LINEAR_OUT = {"Qp": "H", "Kp": "H", "Vp": "H", "Z": "D", "FFN1": "S", "FFN2": "D"}


def _tiles(n: int, smallest: int = 256) -> list[int]:
    """Candidate tiles of a rank of size n, largest first: n, then powers of two from n/2 down."""
    out = [n]
    t = 1 << (max(n - 1, 1)).bit_length()
    while t >= 2:
        t //= 2
        if t < n and t >= min(smallest, n) and n % t == 0:
            out.append(t)
    return out


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


def _fusemax_group(c: Cascade, tile_p: int) -> FusedGroup:
    names = ("QK", "LM", "RM", "SLN", "SLD", "SLNV", "PRM", "SPD", "SPNV", "RD", "RNV", "AV")
    return FusedGroup(names, ("B", "H", "P", "M1"), {"P": tile_p, "M1": 1},
                      (("QK", "LM", "RD", "RNV", "AV"), ("RM",), ("SLN", "SLD", "PRM", "SPD"), ("SLNV", "SPNV")))


FUSEMAX_2D = ("QK", "LM", "SLN", "SLD", "SLNV")


def fusemax_parts(c: Cascade, tile_p: int) -> tuple[FusedGroup, dict, dict, dict]:
    group = _fusemax_group(c, tile_p)
    binding = {n: ("pe2d" if n in FUSEMAX_2D else "pe1d") for n in group.einsums}
    spatial = {n: ({"x": ("P",), "y": ("M0",)} if n in FUSEMAX_2D else {"x": ("P",)}) for n in group.einsums}
    keep = {"QK": "unit", "LM": "unit", "SLN": "unit", "SLD": "unit", "SLNV": "unit", "PRM": "unit",
            "SPD": "unit", "SPNV": "unit", "RM": "buffer", "RD": "buffer", "RNV": "buffer", "Q": "buffer",
            "K": "buffer", "V": "buffer", "AV": "buffer"}
    return group, binding, spatial, keep


def pass_parts(c: Cascade, hw: FusedHardware, tile_p: int) -> tuple[tuple[FusedGroup, ...], dict, dict, dict]:
    """FuseMax's accelerator running a cascade that needs several passes over the keys: one group per
    pass (``Cascade.passes``), each sweeping key tiles of the 2D array's side for a query tile. The
    Einsums that iterate the key tile run on the 2D array when it has their operators, the rest on
    the 1D array; a tensor that crosses passes, or accumulates across key tiles, lives in the buffer
    (so a pass's N x N intermediate goes to DRAM and comes back in the next pass), the others stay in
    the PE registers. With one pass this is FuseMax's own sweep (its template is ``fusemax_parts``)."""
    split = "M1" in c.ranks
    key, per_score = ("M1", "M0") if split else ("M", "M")
    att = [e for e in c if e.name not in LINEAR]          # a layer cascade: its attention Einsums
    pass_of = c.passes(key)
    n_pass = max(pass_of[e.name] for e in att) + 1
    tile_key = 1 if split else min(c.ranks["M"], hw.units["pe2d"].shape[-1])
    groups = tuple(FusedGroup(tuple(e.name for e in att if pass_of[e.name] == k), ("B", "H", "P", key),
                              {"P": tile_p, key: tile_key}) for k in range(n_pass))
    binding: dict[str, str] = {}
    spatial: dict[str, dict[str, tuple[str, ...]]] = {}
    keep: dict[str, str] = {}
    for e in att:
        on_2d = per_score in e.iteration_ranks and all(op in hw.units["pe2d"].ops for op in e.point_ops())
        binding[e.name] = "pe2d" if on_2d else "pe1d"
        spatial[e.name] = {"x": ("P",), "y": (per_score,)} if on_2d else {"x": ("P",)}
        for t in e.tensors[1:]:
            if c.producers.get(t) in (None, *LINEAR):          # Q, K, V (or their projections' outputs)
                keep[t] = "buffer"
        readers = c.consumers.get(e.output.tensor, ())
        one_pass = bool(readers) and all(u not in LINEAR and pass_of[u] == pass_of[e.name] for u in readers)
        accumulates = key in e.reduced_ranks or e.recurrent_rank == key
        keep[e.output.tensor] = "unit" if one_pass and not accumulates else "buffer"
    return groups, binding, spatial, keep


def flat_parts(c: Cascade, tile_p: int, scores: str) -> tuple[FusedGroup, dict, dict, dict]:
    group = FusedGroup(("QK", "GM", "SN", "SD", "A", "AV"), ("B", "H", "P"), {"P": tile_p})
    binding = {"QK": "pe2d", "AV": "pe2d", "GM": "pe1d", "SN": "pe1d", "SD": "pe1d", "A": "pe1d"}
    spatial = {"QK": {"x": ("P",), "y": ("M",)}, "AV": {"x": ("P",), "y": ("M",)},
               **{n: {"x": ("M",)} for n in ("GM", "SN", "SD", "A")}}
    keep = {"Q": "dram", "K": "dram", "V": "dram", "AV": "dram", "QK": scores, "SN": scores, "A": scores,
            "GM": "buffer", "SD": "buffer"}
    return group, binding, spatial, keep


def unfused_parts(c: Cascade, tile_p: int, tile_m: int, buffer_words: int) -> tuple[tuple[FusedGroup, ...], dict,
                                                                                        dict, dict]:
    rows = min(256, c.ranks["P"])                 # softmax rows in flight: as many whole rows as fit
    while rows > 1 and rows * (c.ranks["M"] + 2) > buffer_words:
        rows //= 2
    groups = (FusedGroup(("QK",), ("B", "H", "P", "M"), {"P": tile_p, "M": tile_m}),
              FusedGroup(("GM", "SN", "SD", "A"), ("B", "H", "P"), {"P": rows}),
              FusedGroup(("AV",), ("B", "H", "P", "M"), {"P": tile_p, "M": tile_m}))
    binding = {"QK": "pe2d", "AV": "pe2d", "GM": "pe1d", "SN": "pe1d", "SD": "pe1d", "A": "pe1d"}
    spatial = {"QK": {"x": ("P",), "y": ("M",)}, "AV": {"x": ("P",), "y": ("M",)},
               **{n: {"x": ("M",)} for n in ("GM", "SN", "SD", "A")}}
    keep = {t: "buffer" for t in ("Q", "K", "V", "QK", "GM", "SN", "SD", "A", "AV")}
    return groups, binding, spatial, keep


def _linear_parts(c: Cascade, hw: FusedHardware) -> tuple[list[FusedGroup], dict, dict]:
    groups, binding, spatial = [], {}, {}
    for n in LINEAR:
        e = c.einsum(n)
        out_rank = _LINEAR_OUT[n]
        seq = "P" if "P" in e.iteration_ranks else ("M" if "M" in e.iteration_ranks else "M1")
        tiles_p = _tiles(c.ranks[seq], smallest=1 if seq == "M1" else 256)
        tiles_o = _tiles(c.ranks[out_rank], smallest=1)
        chosen = None
        best_key: tuple = ()
        side = hw.units["pe2d"].shape
        for tp, to in itertools.product(tiles_p, tiles_o):
            g = FusedGroup((n,), ("B", seq, out_rank), {seq: tp, out_rank: to})
            words = 0
            for ref in (e.output, *e.inputs):
                w = 1
                for r in ref.ranks:
                    w *= min(g.tiles.get(r, 1), c.ranks[r]) if r in g.loops else c.ranks[r]
                words += w
            if words * hw.word_bytes > hw.buffer_bytes:
                continue
            y = to
            for r in _LINEAR_SPATIAL[n]:
                y *= 1 if r == out_rank else c.ranks[r]
            x = tp * (c.ranks["M0"] if seq == "M1" else 1)
            fill = min(1.0, x / side[0]) * min(1.0, y / side[-1])
            key = (fill, tp * to)
            if key > best_key:
                chosen, best_key = g, key
        groups.append(chosen or FusedGroup((n,), ("B", seq, out_rank), {seq: 1, out_rank: 1}))
        binding[n] = "pe2d"
        spatial[n] = {"x": ("M0",) if seq == "M1" else (seq,), "y": _LINEAR_SPATIAL[n]}
    return groups, binding, spatial


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
        lin_groups, lin_bind, lin_sp = _linear_parts(cascade, hw)

    def assemble(att_groups: tuple[FusedGroup, ...], binding: dict, spatial: dict, keep: dict,
                 spill: bool) -> FusedMapping:
        groups = (*lin_groups[:3], *att_groups, *lin_groups[3:]) if end_to_end else att_groups
        inner: dict[str, tuple[str, ...]] = {"AV": ("F",)} if design != "fusemax" else {}
        return FusedMapping(groups, {**binding, **lin_bind}, {**spatial, **lin_sp}, keep, spill, design, inner)

    p = cascade.ranks["P"]
    if query_tile is not None and (query_tile < 1 or p % query_tile):
        raise SpecError("the query tile must divide the sequence length", source="query_tile", value=query_tile,
                        accepted=f"a divisor of {p}")
    tiles = [query_tile] if query_tile is not None else _tiles(p)
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


# ---------------------------------------------------------------- search

OBJECTIVES = ("latency", "energy", "edp")
SEARCHES = ("exhaustive", "random", "anneal", "ga")
"""Fused-mapping search strategies (the mapper's, over the fused genome)."""


@dataclass(frozen=True)
class FusedSearchResult:
    best: FusedMapping
    cost: FusedCost
    evaluations: int
    valid: int
    method: str
    objective: str


def _value(cycles: int, energy_pj: float, objective: str) -> float:
    if objective == "latency":
        return float(cycles) + energy_pj * 1e-30
    if objective == "energy":
        return energy_pj
    return energy_pj * cycles


def search_space(cascade: Cascade, hw: FusedHardware) -> tuple[list[str], list[list[Any]],
                                                               Callable[[tuple], FusedMapping]]:
    """The fused-mapping space of a 1-pass attention cascade around FuseMax's template: query tile,
    where each intermediate lives, which unit runs each Einsum both units can run."""
    if "M1" not in cascade.ranks or any(n not in cascade.producers.values() for n in ("QK", "RM", "AV")):
        raise SpecError("the fused-mapping search takes the 1-pass attention cascade", source="cascade",
                        value=cascade.name, accepted="attention-1pass")
    tiles = _tiles(cascade.ranks["P"])
    inter = ["QK", "LM", "SLN", "SLD", "SLNV", "PRM", "SPD", "SPNV", "RM", "RD", "RNV"]
    movable = [e.name for e in cascade if all(op in u.ops for u in hw.units.values() for op in e.point_ops())]
    axes = ["tile_p"] + [f"keep.{t}" for t in inter] + [f"unit.{n}" for n in movable]
    choices: list[list[Any]] = [tiles] + [["unit", "buffer", "dram"] for _ in inter] + \
        [sorted(hw.units) for _ in movable]

    templates = {tp: fusemax_parts(cascade, tp) for tp in tiles}
    placement = {(n, u): ({"x": ("P",), "y": ("M0",)} if len(hw.units[u].shape) == 2 and "M0" in
                          cascade.einsum(n).iteration_ranks else {"x": ("P",)})
                 for n in movable for u in hw.units}
    n_inter = len(inter)

    def build(genome: tuple) -> FusedMapping:
        group, binding, spatial, keep = templates[genome[0]]
        keep = {**keep, **dict(zip(inter, genome[1:1 + n_inter], strict=True))}
        binding, spatial = dict(binding), dict(spatial)
        for n, u in zip(movable, genome[1 + n_inter:], strict=True):
            binding[n] = u
            spatial[n] = placement[(n, u)]
        return FusedMapping((group,), binding, spatial, keep, False, "searched")

    return axes, choices, build


def search_fused(cascade: Cascade, hardware: str | FusedHardware = "fusemax", *, search: str = "random",
                 objective: str = "latency", budget: int = 10_000, seed: int | None = 0) -> FusedSearchResult:
    """Search fused mappings (``exhaustive``, ``random``, ``anneal``, ``ga``) within ``budget`` evaluations."""
    hw = load_fused_hardware(hardware)
    if objective not in OBJECTIVES:
        raise SpecError("unknown objective", source="objective", value=objective, accepted=", ".join(OBJECTIVES))
    if search not in SEARCHES:
        raise SpecError("unknown search for fused mappings", source="search", value=search,
                        accepted=", ".join(SEARCHES))
    axes, choices, build = search_space(cascade, hw)
    rng = np.random.default_rng(seed)
    cache: dict[tuple, float] = {}
    best: tuple[float, tuple] | None = None
    evaluations = valid = 0

    def visit(genome: tuple) -> float:
        nonlocal best, evaluations, valid
        if genome in cache:
            return cache[genome]
        evaluations += 1
        try:
            cycles, energy = fused_objective(cascade, hw, build(genome))
        except SpecError:
            cache[genome] = float("inf")
            return float("inf")
        valid += 1
        v = _value(cycles, energy, objective)
        cache[genome] = v
        if best is None or v < best[0]:
            best = (v, genome)
        return v

    start = tuple(c[0] if i else c[-1] for i, c in enumerate(choices))
    fm, _ = design_mapping("fusemax", cascade, hw)
    template = (fm.groups[0].tiles["P"],) + tuple(start[1:])
    group, binding, spatial, keep = fusemax_parts(cascade, template[0])
    template = (template[0],) + tuple(keep[a.split(".", 1)[1]] if a.startswith("keep.") else binding[a.split(".", 1)[1]]
                                      for a in axes[1:])
    visit(template)
    if search == "exhaustive":
        for genome in itertools.product(*choices):
            if evaluations >= budget:
                break
            visit(tuple(genome))
    elif search == "random":
        sizes = np.array([len(c) for c in choices])
        tries = 0
        while evaluations < budget and tries < budget * 20:
            draws = (rng.random((max(64, budget - evaluations), len(choices))) * sizes).astype(int).tolist()
            for row in draws:
                tries += 1
                visit(tuple(c[k] for c, k in zip(choices, row, strict=True)))
                if evaluations >= budget:
                    break
    elif search == "ga":
        # a genetic search: the template and random genomes, tournament selection of two parents,
        # uniform crossover, mutated genes until the child is new; the best 32 survive (elitist)
        pop = [template] + [tuple(c[int(rng.integers(len(c)))] for c in choices) for _ in range(31)]
        scored = sorted(((visit(g), g) for g in pop), key=lambda x: x[0])
        tries = 0
        while evaluations < budget and tries < budget * 20:
            children = []
            for _ in range(len(scored)):
                a, b = (min(scored[int(i)] for i in rng.integers(len(scored), size=2))[1] for _ in range(2))
                mask = rng.random(len(choices)) < 0.5
                child = [x if m else y for x, y, m in zip(a, b, mask, strict=True)]
                for _ in range(8):                    # mutate until the child is new (a converged population)
                    i = int(rng.integers(len(choices)))
                    child[i] = choices[i][int(rng.integers(len(choices[i])))]
                    if tuple(child) not in cache:
                        break
                children.append(tuple(child))
            for g in children:
                tries += 1
                if evaluations >= budget:
                    break
                scored.append((visit(g), g))
            scored = sorted(scored, key=lambda x: x[0])[:32]
    else:
        cur = template
        cur_v = visit(cur)
        temp = 1.0
        tries = 0
        while evaluations < budget and tries < budget * 20:
            tries += 1
            i = int(rng.integers(len(choices)))
            cand = list(cur)
            cand[i] = choices[i][int(rng.integers(len(choices[i])))]
            v = visit(tuple(cand))
            if v < cur_v or (np.isfinite(v) and rng.random() < np.exp(-(v - cur_v) / (abs(cur_v) * temp + 1e-30))):
                cur, cur_v = tuple(cand), v
            temp *= 0.999
    assert best is not None
    mapping = replace(build(best[1]), name=f"searched ({search})")
    return FusedSearchResult(mapping, evaluate_fused(cascade, hw, mapping), evaluations, valid, search, objective)
