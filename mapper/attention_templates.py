"""The parts of the attention designs' mapping templates (``attention_designs``): for a cascade and a query
tile, each design's fused groups, the unit that runs each Einsum, its spatial ranks and where each tensor
lives; the linear layers of a whole transformer layer; the candidate tiles of a rank."""

from __future__ import annotations

import itertools

from acceldse.mapper.fused import FusedGroup
from acceldse.simulator.specs.fused import FusedHardware
from acceldse.workloads.cascade import Cascade

LINEAR = ("Qp", "Kp", "Vp", "Z", "FFN1", "FFN2")
LINEAR_SPATIAL = {"Qp": ("E", "H"), "Kp": ("E", "H"), "Vp": ("F", "H"), "Z": ("D",), "FFN1": ("S",),
                   "FFN2": ("D",)}
LINEAR_OUT = {"Qp": "H", "Kp": "H", "Vp": "H", "Z": "D", "FFN1": "S", "FFN2": "D"}


def rank_tiles(n: int, smallest: int = 256) -> list[int]:
    """Candidate tiles of a rank of size n, largest first: n, then powers of two from n/2 down."""
    out = [n]
    t = 1 << (max(n - 1, 1)).bit_length()
    while t >= 2:
        t //= 2
        if t < n and t >= min(smallest, n) and n % t == 0:
            out.append(t)
    return out


def fusemax_group(c: Cascade, tile_p: int) -> FusedGroup:
    names = ("QK", "LM", "RM", "SLN", "SLD", "SLNV", "PRM", "SPD", "SPNV", "RD", "RNV", "AV")
    return FusedGroup(names, ("B", "H", "P", "M1"), {"P": tile_p, "M1": 1},
                      (("QK", "LM", "RD", "RNV", "AV"), ("RM",), ("SLN", "SLD", "PRM", "SPD"), ("SLNV", "SPNV")))


FUSEMAX_2D = ("QK", "LM", "SLN", "SLD", "SLNV")


def fusemax_parts(c: Cascade, tile_p: int) -> tuple[FusedGroup, dict, dict, dict]:
    group = fusemax_group(c, tile_p)
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


def linear_parts(c: Cascade, hw: FusedHardware) -> tuple[list[FusedGroup], dict, dict]:
    groups, binding, spatial = [], {}, {}
    for n in LINEAR:
        e = c.einsum(n)
        out_rank = LINEAR_OUT[n]
        seq = "P" if "P" in e.iteration_ranks else ("M" if "M" in e.iteration_ranks else "M1")
        tiles_p = rank_tiles(c.ranks[seq], smallest=1 if seq == "M1" else 256)
        tiles_o = rank_tiles(c.ranks[out_rank], smallest=1)
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
            for r in LINEAR_SPATIAL[n]:
                y *= 1 if r == out_rank else c.ranks[r]
            x = tp * (c.ranks["M0"] if seq == "M1" else 1)
            fill = min(1.0, x / side[0]) * min(1.0, y / side[-1])
            key = (fill, tp * to)
            if key > best_key:
                chosen, best_key = g, key
        groups.append(chosen or FusedGroup((n,), ("B", seq, out_rank), {seq: 1, out_rank: 1}))
        binding[n] = "pe2d"
        spatial[n] = {"x": ("M0",) if seq == "M1" else (seq,), "y": LINEAR_SPATIAL[n]}
    return groups, binding, spatial


__all__ = ["FUSEMAX_2D", "LINEAR", "LINEAR_OUT", "LINEAR_SPATIAL", "flat_parts", "fusemax_group", "fusemax_parts",
           "linear_parts", "pass_parts", "rank_tiles", "unfused_parts"]
