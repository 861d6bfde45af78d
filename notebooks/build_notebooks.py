"""Write the study notebooks from their cell sources (kept here and in sources/ so diffs stay readable).

    python notebooks/build_notebooks.py              # regenerate and execute every notebook (outputs stored)
    python notebooks/build_notebooks.py sweep_pareto # only these studies
    python notebooks/build_notebooks.py --no-execute # cells only, outputs empty

Executed notebooks keep their tables and figures, so they render where the repository is browsed.
Each study uses the public API only; tests/test_notebooks.py executes every notebook and the
notebooks assert the findings they state.
"""

from __future__ import annotations

import argparse
import os
import runpy
from pathlib import Path

import nbformat

HERE = Path(__file__).parent
SOURCES = HERE / "sources"

STUDIES: dict[str, list[tuple[str, str]]] = {
    "depthwise_utilization": [
        ("md", "# Depthwise layers on a 64×64 systolic array (MobileNetV1)\n\n"
               "DRACO observed that the depthwise layers of MobileNetV1 leave most PEs of a 64×64 array idle. "
               "Here: per-layer mapping efficiency and utilisation for os/ws/is, then the effect of the "
               "group choice (E2GC: constant group *size* instead of depthwise's one channel per group)."),
        ("code", "import acceldse\nfrom acceldse import Network, conv2d\n\n"
                 "res = acceldse.simulate('mobilenet_v1', 'array-64x64', 'all')\n"
                 "df = res.layers[res.layers.op == 'conv'].copy()\n"
                 "df['kind'] = df.layer.map(lambda n: 'depthwise' if 'dw' in n else ('pointwise' if 'pw' in n "
                 "else 'stem'))\n"
                 "summary = df.groupby(['dataflow', 'kind'])[['mapping_efficiency', 'compute_utilization']].mean()\n"
                 "summary"),
        ("code", "dw = summary.xs('depthwise', level='kind')\npw = summary.xs('pointwise', level='kind')\n"
                 "# depthwise layers use a small fraction of the array under every dataflow\n"
                 "assert (dw.compute_utilization < 0.15).all(), dw\n"
                 "assert (pw.compute_utilization > 3 * dw.compute_utilization).all()\n"
                 "print((pw.compute_utilization / dw.compute_utilization).round(1))"),
        ("md", "## Share of cycles spent in depthwise layers\n\nDepthwise layers hold ~3 % of the MACs "
               "but a far larger share of the cycles."),
        ("code", "ws = df[df.dataflow == 'ws']\nshare = ws.groupby('kind')[['macs', 'total_cycles']].sum()\n"
                 "share = share / share.sum()\nshare"),
        ("code", "assert share.loc['depthwise', 'macs'] < 0.05\n"
                 "assert share.loc['depthwise', 'total_cycles'] > 5 * share.loc['depthwise', 'macs']"),
        ("md", "## Group choice: channels per group\n\nOne 3×3 layer with 256 channels at 28×28, "
               "grouped with 1 (depthwise), 4, 16 and 64 channels per group. Larger groups do more "
               "MACs but use the array far better; energy per MAC falls."),
        ("code", "import pandas as pd\nrows = []\nfor per_group in (1, 4, 16, 64):\n"
                 "    layer = conv2d(f'g{per_group}', 256, 256, 28, 3, padding=1, groups=256 // per_group)\n"
                 "    r = acceldse.simulate(Network('g', (layer,)), 'array-64x64', 'ws').layers.iloc[0]\n"
                 "    rows.append({'channels_per_group': per_group, 'macs': r.macs, 'cycles': r.total_cycles,\n"
                 "                 'utilization': r.compute_utilization, 'pj_per_mac': r.energy_pj / r.macs})\n"
                 "groups = pd.DataFrame(rows)\ngroups"),
        ("code", "assert groups.macs.is_monotonic_increasing\n"
                 "assert groups.utilization.is_monotonic_increasing\n"
                 "assert groups.pj_per_mac.is_monotonic_decreasing"),
        ("md", "## Per-layer cycles and energy (weight stationary)"),
        ("code", "import matplotlib.pyplot as plt\nfig = res.plot.breakdown('ws')\nplt.show()"),
    ],
    "roofline_transformers": [
        ("md", "# Memory wall: encoder vs decoder transformer layers\n\n"
               "Attainable throughput = min(peak, arithmetic intensity × bandwidth). A decoder step (one token, "
               "matrix-vector) is memory-bound; an encoder's GEMMs (many tokens) carry far more work per byte, "
               "but whether they clear the ridge depends on whose peak the ridge is drawn for. Here on the "
               "TPU-like chip with HBM (`tpu-hbm-like`: four 128×128 arrays sharing 614 GB/s), whose ridge is "
               "the chip's peak over its bandwidth: all four cores, since every fidelity deals a layer's folds "
               "to all of them."),
        ("code", "import acceldse\nfrom acceldse import plots\n\n"
                 "acc = acceldse.load_hardware('tpu-hbm-like')\n"
                 "bw = acc.dram.read_bw_bytes_per_cycle\n"
                 "assert acc.cores == 4 and acc.array.rows == acc.array.cols == 128\n"
                 "assert round(bw * acc.clock_mhz / 1e3) == 614   # GB/s\n"
                 "ridge = acc.array.pes * acc.cores / bw          # MACs per byte at the chip's peak\n"
                 "ridge_one_core = acc.array.pes / bw             # what one core alone would need\n"
                 "def roofline(name, **params):\n"
                 "    result = acceldse.simulate(name, acc, 'ws', **params)\n"
                 "    df = result.layers[result.layers.macs > 0].copy()\n"
                 "    df['intensity'] = df.macs / df.dram_bytes\n"
                 "    df['of_ridge'] = df.intensity / ridge\n"
                 "    df['memory_bound'] = df.intensity < ridge\n"
                 "    df['stall_share'] = df.stall_cycles / df.total_cycles\n"
                 "    return result, df[['layer', 'op', 'macs', 'dram_bytes', 'intensity', 'of_ridge', 'memory_bound', "
                 "'stall_share', 'utilization']]\n"
                 "bert, encoder = roofline('bert_base', seq_len=512)\n"
                 "gpt, decoder = roofline('gpt2_decode', kv_len=1024)\n"
                 "# the plots draw the same ridges (ops per byte: 2 per MAC), one per core count\n"
                 "drawn = plots.ridges(bert)\n"
                 "assert abs(drawn[acc.cores] / (2 * ridge) - 1) < 1e-12\n"
                 "assert abs(drawn[1] / (2 * ridge_one_core) - 1) < 1e-12\n"
                 "print(f'ridge: {ridge:.0f} MACs/byte for the 4-core chip ({ridge_one_core:.0f} for one core)')\n"
                 "encoder"),
        ("code", "decoder.head(12)"),
        ("code", "enc_gemm = encoder[encoder.op == 'gemm'].set_index('layer')\n"
                 "dec_gemm = decoder[decoder.op == 'gemm']\n"
                 "print('memory-bound GEMMs: encoder', enc_gemm.memory_bound.mean(), 'decoder', "
                 "dec_gemm.memory_bound.mean())\n"
                 "# every decoder-step GEMM is far below the ridge\n"
                 "assert dec_gemm.memory_bound.all() and dec_gemm.of_ridge.max() < 0.01\n"
                 "assert enc_gemm.intensity.median() > 20 * dec_gemm.intensity.median()\n"
                 "# the encoder's MLP GEMMs clear the chip's ridge; its Q/K/V/projection GEMMs fall just short of it\n"
                 "mlp = enc_gemm.index.str.contains('mlp')\n"
                 "assert not enc_gemm[mlp].memory_bound.any()\n"
                 "assert enc_gemm[~mlp].memory_bound.all() and enc_gemm[~mlp].of_ridge.between(0.95, 1).all()\n"
                 "# the attention matmuls (QK^T, AV) are memory-bound too\n"
                 "assert encoder[encoder.op == 'matmul'].memory_bound.all()\n"
                 "# against one core's ridge every encoder GEMM would look compute-bound: the 4 cores share the HBM\n"
                 "assert (enc_gemm.intensity > ridge_one_core).all()\n"
                 "# matrix-vector work also cannot fill a systolic array: each fold streams one token\n"
                 "assert enc_gemm.utilization.median() > 100 * dec_gemm.utilization.median()"),
        ("md", "## The two rooflines\n\nOps (2 per MAC) per cycle against ops per DRAM byte, under the "
               "chip's compute roof and its HBM roof, with the ridge of the 4-core chip and of one core drawn: the "
               "encoder's Q/K/V GEMMs sit just left of the chip's ridge, its MLP GEMMs just right of it."),
        ("code", "import matplotlib.pyplot as plt\n"
                 "fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)\n"
                 "bert.plot.roofline(ax=left)\ngpt.plot.roofline(ax=right)\nplt.show()"),
    ],
    "streaming_attention": [
        ("md", "# Streaming scaled-dot-product attention\n\nThe naive graph (exp → row-sum, with a long FIFO "
               "before the divide) deadlocks when that FIFO is shallower than N; the reordered "
               "(online-softmax) graph runs at one score per cycle with a constant depth; sliding-window "
               "attention needs a depth that grows with the window, not with N."),
        ("code", "import pandas as pd\nfrom acceldse import run_sdpa\n\nrows = []\n"
                 "for n in (64, 128, 256, 512):\n"
                 "    short = run_sdpa('naive', n, 16, fifo_depth=n - 1)\n"
                 "    enough = run_sdpa('naive', n, 16, fifo_depth=n + 4)\n"
                 "    reordered = run_sdpa('reordered', n, 16)\n"
                 "    rows.append({'N': n, 'naive_depth_N-1': 'deadlock' if short.deadlock else 'ok',\n"
                 "                 'naive_N+4_scores_per_cycle': enough.tokens_per_cycle,\n"
                 "                 'reordered_scores_per_cycle': reordered.tokens_per_cycle,\n"
                 "                 'reordered_max_fifo': max(reordered.max_fifo_occupancy.values()),\n"
                 "                 'reordered_error': reordered.max_abs_error})\n"
                 "table = pd.DataFrame(rows)\ntable"),
        ("code", "assert (table['naive_depth_N-1'] == 'deadlock').all()\n"
                 "assert (table.reordered_max_fifo == table.reordered_max_fifo.iloc[0]).all()   # O(1) buffering\n"
                 "assert (table.reordered_error < 1e-12).all()\n"
                 "assert (table.reordered_scores_per_cycle > 0.99).all()"),
        ("code", "window = pd.DataFrame([{'N': n, 'W': w, 'deadlocks_at_W-1': bool(run_sdpa('window', n, 16, "
                 "window=w, fifo_depth=w - 1).deadlock), 'runs_at_W': not run_sdpa('window', n, 16, window=w, "
                 "fifo_depth=w).deadlock} for n in (256, 512) for w in (16, 64)])\nwindow"),
        ("code", "assert window['deadlocks_at_W-1'].all() and window.runs_at_W.all()"),
        ("md", "## Timeline of the reordered graph (N = 32)\n\nOne row per context, from the run's "
               "Chrome/Perfetto trace: once the pipeline has filled, every score stage (QKᵀ, row max, exp, "
               "row sum, the AV product) is busy back to back for all N² = 1,024 scores, one per cycle, each "
               "starting a few cycles after the one before it; the divide and the sink fire once per row."),
        ("code", "import tempfile\nfrom pathlib import Path\nimport matplotlib.pyplot as plt\n"
                 "from acceldse import plots\n"
                 "trace = Path(tempfile.mkdtemp()) / 'sdpa.json'\n"
                 "run_sdpa('reordered', 32, 16, trace_path=trace)\n"
                 "spans = plots.trace_spans(trace)\n"
                 "stages = spans[~spans.track.isin(['divide', 'sink'])].set_index('track')\n"
                 "assert len(stages) == 5 and (stages.duration == 32 * 32).all() and stages.start.max() < 32\n"
                 "assert (spans.track.value_counts()[['divide', 'sink']] == 32).all()\n"
                 "fig = plots.timeline(trace)\nplt.show()"),
    ],
}


def all_studies() -> dict[str, list[tuple[str, str]]]:
    """The studies above plus one per ``sources/NAME.py`` (a ``CELLS`` list)."""
    studies = dict(STUDIES)
    for path in sorted(SOURCES.glob("*.py")):
        studies[path.stem] = runpy.run_path(str(path))["CELLS"]
    return studies


def execute(nb: nbformat.NotebookNode) -> None:
    """Run every cell in a kernel that imports this checkout; outputs (tables, figures) stay in ``nb``."""
    import nbclient

    root = str(HERE.parent)
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, previous]))
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(HERE)}}).execute()
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def build(names: list[str] | None = None, *, run: bool = True) -> list[Path]:
    paths = []
    for name, cells in all_studies().items():
        if names and name not in names:
            continue
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                    for kind, src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        if run:
            execute(nb)
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="regenerate the study notebooks")
    parser.add_argument("names", nargs="*", help="studies to build (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write the cells without running them")
    args = parser.parse_args()
    for p in build(args.names, run=not args.no_execute):
        print(p)
