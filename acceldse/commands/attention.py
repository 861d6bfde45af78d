"""``acceldse attention``: attention (or a whole transformer layer) as a cascade of Einsums on a fused
accelerator: the unfused, FLAT and FuseMax designs, or a searched fused mapping.

Also ``acceldse map --cascade FILE`` (``run_cascade_file``): any cascade YAML, with its own
``hardware`` and ``mapping`` or the defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from acceldse.commands.common import EXIT_CODES_HELP, add_output_options, bad_input, input_file, print_table

DESIGN_CHOICES = ("unfused", "flat", "fusemax", "search", "all")

EPILOG = """examples:
  acceldse attention --design all --model bert --seq-len 1024,65536 --batch 64
  acceldse attention --design fusemax --model xlm --seq-len 262144 --end-to-end --format json
  acceldse attention --design search --model bert --seq-len 65536 --buffer 4MiB --budget 10000
  acceldse attention --design fusemax --cascade 2pass --model bert --seq-len 4K
  acceldse attention --design flat --heads 16 --head-dim 128 --embed 2048 --seq-len 4096 --stats
  acceldse attention --paper --end-to-end
  acceldse map --cascade my_cascade.yaml --hardware fusemax
""" + EXIT_CODES_HELP


def add_parser(subparsers: Any) -> None:
    from acceldse.simulator.specs.presets import kind_help  # preset names only: no numba, no pandas

    parser = subparsers.add_parser(
        "attention", help="attention as a cascade of Einsums: unfused, FLAT, FuseMax or a searched fused mapping",
        description="Evaluate attention (or a whole layer with --end-to-end) as a cascade of extended Einsums on "
                    "a 2D + 1D fused accelerator: latency, energy, DRAM traffic, utilisation of each unit.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--design", default="all", choices=DESIGN_CHOICES,
                        help="unfused | flat | fusemax | search (fused-mapping search) | all (the three designs)")
    parser.add_argument("--model", default=None, help="bert | trxl | t5 | xlm (default bert unless --heads is given)")
    parser.add_argument("--heads", type=int, default=None, help="attention heads (instead of --model)")
    parser.add_argument("--head-dim", type=int, default=None, help="embedding per head (E = F)")
    parser.add_argument("--embed", type=int, default=None,
                        help="model width D (--end-to-end; default heads x head-dim)")
    parser.add_argument("--ffn", type=int, default=None, help="FFN width (--end-to-end; default 4 x embed)")
    parser.add_argument("--seq-len", default="1024", help="sequence length(s), comma-separated (1K, 64K, 1M allowed)")
    parser.add_argument("--batch", type=int, default=64, help="batch (default 64, as FuseMax)")
    parser.add_argument("--hardware", default=None,
                        help=f"{kind_help('fused')} or YAML; default: each design's own "
                             "(FuseMax: fusemax, 16 MiB; FLAT and unfused: flat_cloud, 32 MiB)")
    parser.add_argument("--buffer", default=None, help="override the global-buffer capacity (e.g. 4MiB)")
    parser.add_argument("--cascade", default=None, choices=["3pass", "2pass", "1pass"],
                        help="the attention cascade (default: the design's own: 3pass for unfused and flat, 1pass "
                             "for fusemax); fusemax maps any of them, one sweep over the keys per pass")
    parser.add_argument("--query-tile", type=int, default=None,
                        help="fix the query tile of the designs (default: the largest that fits, as each paper)")
    parser.add_argument("--end-to-end", action="store_true",
                        help="the whole layer: Q/K/V projections, attention, output projection, FFN")
    parser.add_argument("--search", default="random", choices=["exhaustive", "random", "anneal", "ga"],
                        help="--design search: strategy (default random)")
    parser.add_argument("--budget", type=int, default=2000, help="--design search: evaluations (default 2000)")
    parser.add_argument("--objective", default="latency", choices=["latency", "energy", "edp"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stats", action="store_true", help="print Timeloop-style stats for every Einsum")
    parser.add_argument("--paper", action="store_true",
                        help="FuseMax vs FLAT on the paper's setup (4 models x 1K..1M, batch 64; --end-to-end for "
                             "the whole layer): every point and the means against the paper's headline")
    add_output_options(parser)
    parser.set_defaults(func=run)


def parse_seq_lens(text: str) -> list[int]:
    out = []
    for tok in str(text).split(","):
        t = tok.strip().upper()
        mult = 1
        if t.endswith("K"):
            mult, t = 1024, t[:-1]
        elif t.endswith("M"):
            mult, t = 1024 * 1024, t[:-1]
        if not t.isdigit() or int(t) * mult < 1:
            raise bad_input("not a sequence length", flag="--seq-len", value=tok,
                            accepted="positive integers, comma-separated (1024, 4K, 1M)")
        n = int(t) * mult
        if n > 2**24:
            raise bad_input("sequence length too large", flag="--seq-len", value=tok, accepted="at most 16M")
        if n in out:  # a repeated length would be computed and printed twice
            raise bad_input(f"sequence length {n:,} is given twice", flag="--seq-len", value=text,
                            accepted="each length once")
        out.append(n)
    return out


def _points(args: argparse.Namespace) -> list[Any]:
    from acceldse.mapper.attention_designs import evaluate_design
    from acceldse.mapper.attention_search import search_fused
    from acceldse.simulator.specs.fused import load_fused_hardware
    from acceldse.workloads.attention import attention_cascade, model_shape
    from acceldse.workloads.spec_io import parse_bytes

    if args.model is None and args.heads is None:
        args.model = "bert"
    if args.model is not None and (args.heads or args.head_dim):
        raise bad_input("give --model or --heads/--head-dim, not both", flag="--heads", value=args.heads)
    if args.model is None and not args.head_dim:
        raise bad_input("--heads needs --head-dim", flag="--head-dim", accepted="a positive integer")
    for flag, v in (("--batch", args.batch), ("--heads", args.heads), ("--head-dim", args.head_dim),
                    ("--embed", args.embed), ("--budget", args.budget)):
        if v is not None and v < 1:
            raise bad_input("must be a positive integer", flag=flag, value=v)
    buffer = parse_bytes(args.buffer, key="--buffer") if args.buffer else None
    designs = ["unfused", "flat", "fusemax"] if args.design == "all" else [args.design]
    points: list[Any] = []
    for n in parse_seq_lens(args.seq_len):
        for d in designs:
            hw_spec = args.hardware or ("fusemax" if d == "search" else None)
            hw = None
            if hw_spec is not None or buffer is not None:
                from acceldse.mapper.attention_designs import DESIGNS

                hw = load_fused_hardware(hw_spec or DESIGNS[d][1])
                if buffer is not None:
                    hw = hw.with_buffer(buffer)
            if d == "search":
                if args.end_to_end:
                    raise bad_input("the search maps attention only", flag="--end-to-end",
                                    accepted="--design search without --end-to-end")
                if args.cascade not in (None, "1pass"):
                    raise bad_input("the search maps the 1-pass cascade", flag="--cascade", value=args.cascade,
                                    accepted="1pass")
                shape = model_shape(args.model) if args.model else None
                heads = shape.heads if shape else args.heads
                head_dim = shape.head_dim if shape else args.head_dim
                c = attention_cascade("1pass", heads=heads, seq_len=n, batch=args.batch, head_dim=head_dim)
                res = search_fused(c, hw or "fusemax", search=args.search, objective=args.objective, budget=args.budget,
                                   seed=args.seed)
                points.append(("search", shape.name if shape else f"H{args.heads}xE{args.head_dim}", n, c, hw,
                               res.best, res.cost, res.evaluations))
                continue
            p = evaluate_design(d, model=args.model, heads=args.heads, head_dim=args.head_dim, embed=args.embed,
                                ffn=args.ffn, seq_len=n, batch=args.batch, hardware=hw, end_to_end=args.end_to_end,
                                query_tile=args.query_tile, cascade=args.cascade)
            points.append((d, p.model, n, p.cascade, p.hardware, p.mapping, p.cost, None))
    return points


def _row(point: tuple) -> dict[str, Any]:
    d, model, n, cascade, hw, mapping, cost, evals = point
    rank = "M" if "M" in cascade.ranks else "M1"
    row = {"design": d, "model": model, "seq_len": n, "latency_us": cost.latency_us, "energy_pj": cost.energy_pj,
           "dram_bytes": cost.dram_bytes, "util_2d": cost.util_2d, "util_1d": cost.util_1d,
           "buffer_bytes": cost.buffer_bytes, "cascade": cascade.name.split("-")[-1],
           "passes": cascade.num_passes(rank), "hardware": hw.name}
    if evals is not None:
        row["evaluations"] = evals
    return row


def run_paper(args: argparse.Namespace) -> int:
    """``--paper``: ``mapper.attention_designs.fusemax_vs_flat``."""
    import pandas as pd

    from acceldse.mapper.attention_designs import fusemax_vs_flat

    got = fusemax_vs_flat(end_to_end=args.end_to_end)
    table = pd.DataFrame(got["points"])
    scope = "end to end (whole layer)" if args.end_to_end else "attention"
    summary = (f"FuseMax vs FLAT, {scope}, mean of {len(table)} points: speed-up {got['speedup']:.2f}x "
               f"(paper {got['paper']['speedup']}x), energy {got['energy_ratio']:.1%} of FLAT's "
               f"(paper {got['paper']['energy_ratio']:.0%})")
    if args.format == "json":
        print(json.dumps(got, indent=2, default=float))
    elif args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print_table(table[["model", "seq_len", "speedup", "energy_ratio", "fusemax_util_2d", "fusemax_util_1d",
                           "flat_util_2d", "flat_util_1d"]])
        print("\n" + summary)
    return 0


def run(args: argparse.Namespace) -> int:
    from acceldse.mapper.fused import format_fused_stats

    if args.paper:
        return run_paper(args)

    points = _points(args)
    rows = [_row(p) for p in points]
    flat = {(r["model"], r["seq_len"]): r for r in rows if r["design"] == "flat"}
    for r in rows:
        ref = flat.get((r["model"], r["seq_len"]))
        if ref is not None:
            r["speedup_vs_flat"] = ref["latency_us"] / r["latency_us"]
            r["energy_vs_flat"] = r["energy_pj"] / ref["energy_pj"]
    if args.format == "json":
        objs = []
        for r, p in zip(rows, points, strict=True):
            cost, mapping = p[6], p[5]
            objs.append({**r, "cycles": cost.cycles, "stall_cycles": cost.stall_cycles,
                         "energy_breakdown_pj": cost.energy_breakdown, "spilled_fraction": cost.spilled_fraction,
                         "mapping": mapping.to_dict(), "einsums": cost.table().to_dict("records")})
        print(json.dumps(objs[0] if len(objs) == 1 else {"points": objs}, indent=2, default=float))
        return 0
    import pandas as pd

    table = pd.DataFrame(rows)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
        return 0
    print_table(table)
    for p in points:
        if p[0] == "search":
            m = p[5]
            print(f"\nsearched mapping ({p[7]:,} evaluations): query tile {m.groups[0].tiles['P']}, keep "
                  + ", ".join(f"{t}:{lvl}" for t, lvl in sorted(m.keep.items()) if t not in ("Q", "K", "V", "AV"))
                  + "; on pe1d: " + ", ".join(n for n, u in m.binding.items() if u == "pe1d"))
        if args.stats:
            print()
            print(format_fused_stats(p[6]))
    return 0


def run_cascade_file(args: argparse.Namespace) -> int:
    """``acceldse map --cascade FILE``."""
    from acceldse.mapper.cascade_api import load_cascade_file, map_cascade
    from acceldse.mapper.fused import FusedCost, format_fused_stats

    input_file(args.cascade, flag="--cascade")
    cascade, hw, mapping = load_cascade_file(args.cascade)
    if hw is not None and args.hardware is not None:
        raise bad_input("the cascade file gives its own hardware", flag="--hardware", value=args.hardware,
                        accepted=f"no --hardware with {args.cascade}, or a cascade file without 'hardware'")
    hardware = hw if hw is not None else args.hardware or ("fusemax" if len(cascade) > 1 else "eyeriss_like")
    result = map_cascade(cascade, hardware, mapping=mapping, objective=args.objective, search=args.search,
                         budget=args.budget, seed=args.seed, dataflow=args.dataflow) \
        if len(cascade) == 1 and not isinstance(hardware, dict) and mapping is None \
        and str(hardware).lower() not in ("fusemax", "flat_cloud") else map_cascade(cascade, hardware, mapping=mapping)
    if isinstance(result, FusedCost):
        if args.format == "json":
            print(json.dumps({**result.summary(), "einsums": result.table().to_dict("records")}, indent=2,
                             default=float))
        elif args.format == "csv":
            result.table().to_csv(sys.stdout, index=False)
        else:
            print(format_fused_stats(result))
        return 0
    from acceldse.mapper.timeloop.stats import format_stats

    if not args.no_nest:
        print(result.loop_nest(), end="\n\n")
    if result.cost is None:
        raise bad_input("no legal mapping found", flag="--hardware", value=hardware)
    print(format_stats(result.cost, result.hierarchy), end="")
    return 0
