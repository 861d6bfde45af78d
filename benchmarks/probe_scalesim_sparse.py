"""Random probe: compat mode with sparsity against live runs of the installed SCALE-Sim 3.0.0.

Draws random single-layer runs (GEMM or conv, os/ws/is, N:M ratios up to 16, OptimizedMapping with a
BlockSize dividing 2 x ArrayHeight, csr/csc/ellpack_block, SRAMs 1-64 KB), runs SCALE-Sim and
``scalesim_layer`` on each, and prints every run where a reported field differs, where compat refuses a
run SCALE-Sim completes, or where compat runs what SCALE-Sim crashes on. Complements the stored grid
in ``tests/golden/scalesim/sparse`` (``make_scalesim_sparse_golden.py``).

Example:
    nice -n 19 python benchmarks/probe_scalesim_sparse.py --seed 1 --budget-s 120
    nice -n 19 python benchmarks/probe_scalesim_sparse.py --seed 7 --budget-s 150 --large
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from acceldse.simulator.scalesim.calc import scalesim_layer  # noqa: E402
from acceldse.simulator.specs.scalesim_cfg import ScaleSimSparsity  # noqa: E402
from acceldse.workloads.errors import SpecError  # noqa: E402
from tests.peers.scalesim_runner import (  # noqa: E402
    REPORT_FIELDS,
    SPARSE_FIELDS,
    PeerLayer,
    PeerSparsity,
    gemm_as_conv,
    run_scalesim_layers,
)


def draw(rng: random.Random, large: bool) -> tuple[str, dict[str, int], PeerSparsity, PeerLayer, bool]:
    """One random run: dataflow, array and SRAM sizes, sparsity settings, the layer, GEMM form or not."""
    rows = rng.choice([32, 48, 64, 128] if large else [2, 3, 4, 5, 6, 8, 10, 16, 20, 24, 40])
    cols = rng.choice([16, 32, 64, 128] if large else [2, 3, 5, 8, 12, 16, 24, 36])
    df = rng.choice(["os", "ws", "is"])
    blocks = [b for b in range(2, rows + 1) if (2 * rows) % b == 0]
    opt = df == "ws" and bool(blocks) and rng.random() < 0.4
    sp = PeerSparsity(representation=rng.choice(["csr", "csc", "ellpack_block"]), optimized_mapping=opt,
                      block_size=rng.choice(blocks) if opt else 8, seed=rng.randint(0, 1000))
    m = rng.choice([2, 3, 4, 5, 7, 8, 16])
    ratio = (rng.randint(1, m), m)
    gemm = rng.random() < 0.5
    if gemm:
        m_range, n_range, k_range = ((20, 300), (10, 200), (30, 500)) if large else ((1, 80), (1, 60), (1, 120))
        layer = replace(gemm_as_conv(rng.randint(*m_range), rng.randint(*n_range), rng.randint(*k_range)),
                        sparsity=ratio)
    else:
        r, s, st = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 3)
        grow, chans, filters = (20, (3, 64), (8, 128)) if large else (12, (1, 9), (1, 40))
        layer = PeerLayer(rng.randint(r, r + grow), rng.randint(s, s + grow), r, s, rng.randint(*chans),
                          rng.randint(*filters), st, ratio)
    sizes = dict(array_rows=rows, array_cols=cols, ifmap_sram_kb=rng.choice([1, 2, 4, 16, 64]),
                 filter_sram_kb=rng.choice([1, 2, 8, 64]), ofmap_sram_kb=rng.choice([1, 2, 8, 64]))
    return df, sizes, sp, layer, gemm


def check(df: str, sizes: dict[str, int], sp: PeerSparsity, layer: PeerLayer, gemm: bool) -> str | None:
    """None when compat and SCALE-Sim agree (every field, or both refuse); else what differs."""
    try:
        with tempfile.TemporaryDirectory() as d:
            peer: dict[str, float] | None = run_scalesim_layers([layer], out_dir=Path(d), dataflow=df, sparsity=sp,
                                                                gemm=gemm, **sizes)[0][0]  # type: ignore[arg-type]
        crash = None
    except Exception as err:  # noqa: BLE001 -- the peer's own crash is the observation
        peer, crash = None, f"{type(err).__name__}: {err}"
    assert layer.sparsity is not None
    try:
        ours = scalesim_layer(ifmap_h=layer.ifmap_h, ifmap_w=layer.ifmap_w, filter_h=layer.filter_h,
                              filter_w=layer.filter_w, channels=layer.channels, num_filters=layer.num_filters,
                              stride=layer.stride, dataflow=df, ratio=layer.sparsity,
                              sparsity=ScaleSimSparsity(sp.representation, sp.optimized_mapping, sp.block_size,
                                                        sp.seed), **sizes).report()
    except SpecError as err:
        return None if crash else f"refused but SCALE-Sim ran: {err}"
    if crash or peer is None:
        return f"ran but SCALE-Sim crashed: {crash}"
    diffs = [(k, ours[k], peer[k]) for k in REPORT_FIELDS + SPARSE_FIELDS if ours[k] != peer[k]]
    return f"differs: {diffs[:6]}" if diffs else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget-s", type=float, default=120.0, help="stop starting runs after this many seconds")
    ap.add_argument("--large", action="store_true", help="arrays 16-128 and larger layers")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    start, runs, bad = time.perf_counter(), 0, 0
    while time.perf_counter() - start < args.budget_s:
        run = draw(rng, args.large)
        runs += 1
        problem = check(*run)
        if problem:
            bad += 1
            print(run, problem)
    print(f"runs {runs}, disagreements {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
