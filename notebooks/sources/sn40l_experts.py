"""Study: SN40L-style three-tier chip - composition-of-experts switching and operator fusion."""

CELLS = [
    ("md", "# A three-tier dataflow chip: switching experts and fusing operators (SN40L-like)\n\n"
           "The `sn40l-like` preset has SambaNova SN40L's tiers per socket: 520 MB on-chip SRAM, 64 GB HBM at "
           "1.6 TB/s, 1.5 TB DDR at 100 GB/s. A composition of experts keeps many models resident and switches "
           "between them: the switch time is an expert's bytes over the bandwidth of the tier it lives in. "
           "Fusing a decoder layer into one kernel keeps its intermediates on chip."),
    ("code", "import matplotlib.pyplot as plt\nimport pandas as pd\nfrom acceldse.tiers import fusion, "
             "switch_study\n\n"
             "one = switch_study('sn40l-like', params=8e9, dtype='bf16', experts=10, sockets=1)\n"
             "t = one.table.set_index('tier')\n"
             "# an 8B-parameter bf16 expert (16 GB) moves in 0.01 s from HBM (published: ~0.01 s), 0.16 s from DDR\n"
             "assert abs(t.loc['hbm', 'switch_seconds'] - 0.01) < 1e-9\n"
             "assert abs(t.loc['ddr', 'switch_seconds'] / t.loc['hbm', 'switch_seconds'] - 16) < 1e-9\n"
             "assert t.loc['hbm', 'experts'] == 4   # 64 GB of HBM holds four 16 GB experts\n"
             "one.table"),
    ("md", "## How many experts before switching slows down\n\nExperts fill HBM first, then DDR; the "
           "composition needs more sockets once one socket's tiers are full (1.5 TB DDR holds 93 experts)."),
    ("code", "rows = []\nfor n in (1, 2, 4, 5, 10, 50, 97, 98, 150, 300):\n"
             "    s = switch_study('sn40l-like', params=8e9, experts=n)\n"
             "    tiers = s.table.set_index('tier')\n"
             "    rows.append({'experts': n, 'sockets': s.sockets, 'in_hbm': tiers.loc['hbm', 'experts'],\n"
             "                 'in_ddr': tiers.loc['ddr', 'experts'], 'mean_switch_s': s.mean_switch_seconds})\n"
             "coe = pd.DataFrame(rows)\n"
             "assert coe.sockets.is_monotonic_increasing and coe.sockets.iloc[-1] > 1\n"
             "single = coe[coe.sockets == 1]\n"
             "assert (single[single.experts <= 4].mean_switch_s == 0.01).all()   # all in HBM\n"
             "assert single.mean_switch_s.is_monotonic_increasing and single.mean_switch_s.max() < 0.16\n"
             "fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)\n"
             "ax.plot(coe.experts, coe.mean_switch_s, marker='o')\nax.set(xscale='log', xlabel='experts (8B, bf16)', "
             "ylabel='mean switch time (s)', title='composition of experts on SN40L-like sockets')\nplt.show()\ncoe"),
    ("md", "## Fused vs unfused decoder layer\n\nUnfused, each operator reads its operands from HBM and writes "
           "its output back; fused, the layer's intermediates stay in SRAM."),
    ("code", "rows = []\nfor name in ('gpt2_prefill', 'gpt2_decode', 'bert_base'):\n"
             "    f = fusion('sn40l-like', name)\n"
             "    rows.append({'workload': name, 'block': f.block, 'speedup': f.speedup,\n"
             "                 'unfused_MB': f.unfused_bytes / 1e6, 'fused_MB': f.fused_bytes / 1e6,\n"
             "                 'intermediates_MB': f.intermediate_bytes / 1e6})\n"
             "fused = pd.DataFrame(rows)\n"
             "assert fused.speedup.between(1.2, 2.5).all()\n"
             "# every byte saved is intermediate traffic: each intermediate is written once and read at least once\n"
             "saved = fused.unfused_MB - fused.fused_MB\n"
             "assert (saved >= 2 * fused.intermediates_MB - 1e-9).all()\n"
             "assert (saved <= 3 * fused.intermediates_MB).all()\n"
             "fused.round(3)"),
]
