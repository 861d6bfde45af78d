"""Study: FPGA layer-pipelined accelerators - folding under DSP limits, Mixed-TD decomposition, SWAT."""

CELLS = [
    ("md", "# FPGA streaming accelerators: folding, Mixed-TD decomposition and SWAT\n\n"
           "A layer-pipelined design (fpgaConvNet/SAMO style) gives every layer its own stage and *folds* it "
           "(coarse-in, coarse-out, fine parallelism) until the board's DSPs and BRAM run out; the slowest "
           "stage sets the throughput. Mixed-TD decomposes layers (SVD/CP) so each needs fewer MACs and weights; "
           "SWAT replaces dense attention by a sliding window whose cost grows as N·w, not N²."),
    ("code", "import matplotlib.pyplot as plt\nimport numpy as np\nimport pandas as pd\n"
             "from mapper.fpga import optimise\nfrom simulator.fpga.attention import compare_attention\n"
             "from simulator.fpga.networks import lenet, vgg_small\n\n"
             "rows = []\nfor board in ('zc706', 'zcu102', 'u250'):\n"
             "    s = optimise(lenet(), board, objective='throughput', batch=256).summary\n"
             "    rows.append({'board': board, 'samples_per_s': s['throughput_per_s'], 'dsp_used': s['dsp_used'],\n"
             "                 'dsp_available': s['dsp_available'], 'bram18_used': s['bram18_used'],\n"
             "                 'bram18_available': s['bram18_available'], 'per_dsp': s['throughput_per_dsp']})\n"
             "boards = pd.DataFrame(rows)\n"
             "assert (boards.dsp_used <= boards.dsp_available).all() and (boards.bram18_used <= "
             "boards.bram18_available).all()\n"
             "assert boards.samples_per_s.is_monotonic_increasing   # bigger boards fold LeNet less\n"
             "boards"),
    ("md", "## Mixed-TD: decomposing layers to fit more parallelism\n\nThe VGG-style network on a ZCU102, "
           "with and without per-layer SVD/CP decomposition chosen by the optimiser. Published Mixed-TD gains "
           "are 1.73–10.29× throughput per DSP over earlier designs; here the comparison is against our own "
           "undecomposed design on the same board."),
    ("code", "plain = optimise(vgg_small(), 'zcu102', batch=256).summary\n"
             "mixed_td = optimise(vgg_small(), 'zcu102', batch=256, decompose=True).summary\n"
             "td = pd.DataFrame([plain, mixed_td], index=['undecomposed', 'decomposed'])[\n"
             "    ['throughput_per_s', 'throughput_per_dsp', 'dsp_used', 'bram18_used', 'decomposed_layers']]\n"
             "gain = td.throughput_per_dsp.iloc[1] / td.throughput_per_dsp.iloc[0]\n"
             "print(f'throughput per DSP x{gain:.1f}, throughput x{td.throughput_per_s.iloc[1] / "
             "td.throughput_per_s.iloc[0]:.1f}')\n"
             "assert round(gain, 1) == 21.5 and td.decomposed_layers.iloc[1] > 0\n"
             "assert td.throughput_per_s.iloc[1] > td.throughput_per_s.iloc[0]\ntd"),
    ("md", "## SWAT: sliding-window vs dense attention\n\nOne head (d = 64, 16-bit) on a ZCU102, window 512."),
    ("code", "swat = compare_attention('zcu102', seq_lens=(1024, 2048, 4096, 8192, 16384), window=512)\n"
             "fig, ax = plt.subplots(figsize=(6, 3.6), constrained_layout=True)\n"
             "ax.plot(swat.seq_len, swat.dense_latency_ms, marker='o', label='dense (N^2)')\n"
             "ax.plot(swat.seq_len, swat.swat_latency_ms, marker='s', label='SWAT, w = 512 (N w)')\n"
             "ax.set(xscale='log', yscale='log', xlabel='sequence length N', ylabel='latency (ms)', "
             "title='attention on a ZCU102')\nax.legend()\nplt.show()\n"
             "growth = swat.speedup.to_numpy()[1:] / swat.speedup.to_numpy()[:-1]\n"
             "# doubling N doubles the speed-up: dense work grows as N^2, the window's as N\n"
             "assert np.allclose(growth, 2, rtol=0.05)\n"
             "assert round(swat.set_index('seq_len').loc[4096, 'speedup']) == 21   # published: up to 22x\n"
             "assert swat.swat_bram18.nunique() == 1   # on-chip buffering independent of N\n"
             "swat[['seq_len', 'swat_latency_ms', 'dense_latency_ms', 'speedup', 'swat_bram18', "
             "'dense_offchip_bytes']].round(3)"),
]
