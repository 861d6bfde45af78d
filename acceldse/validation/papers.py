"""The seed papers' headline results, each recomputed by the API call named beside it."""

from __future__ import annotations

from typing import Any

from acceldse.validation import Measured


def compute_scalesim() -> dict[str, Measured]:
    """SCALE-Sim 3.0.0's ResNet-18 totals on its 32x32 reference config (compat mode)."""
    from acceldse.api import simulate

    out = {}
    for flow in ("os", "ws", "is"):
        layers = simulate("scalesim:resnet18", "scalesim-32x32", flow, compat="scalesim").layers
        out[f"scalesim.resnet18.{flow}_cycles"] = Measured(
            float(layers.total_cycles.sum()),
            f"acceldse simulate --workload scalesim:resnet18 --hardware scalesim-32x32 --dataflow {flow} "
            "--compat scalesim")
    out.update(_scalesim_sparse_example())
    return out


SPARSE_GEMM = (64, 128, 256)  # M, N, K of SCALE-Sim 3.0.0's sparsity example


def _scalesim_sparse_example() -> dict[str, Measured]:
    """SCALE-Sim 3.0.0's sparsity example: a 64x128x256 GEMM on its 32x32 ws config, 2:4 weights and dense."""
    from acceldse.simulator.scalesim.calc import scalesim_gemm
    from acceldse.simulator.specs.scalesim_cfg import ScaleSimSparsity

    m, n, k = SPARSE_GEMM
    config: dict[str, Any] = dict(array_rows=32, array_cols=32, ifmap_sram_kb=64, filter_sram_kb=64,
                                  ofmap_sram_kb=64, dataflow="ws")
    sparse = scalesim_gemm(m, n, k, **config, sparsity=ScaleSimSparsity(), ratio=(2, 4))
    dense = scalesim_gemm(m, n, k, **config)
    call = ("acceldse simulate --workload G.csv --hardware S.cfg --compat scalesim (G.csv: 'g, 64, 128, 256, {}'; "
            "S.cfg: 32x32 ws, 64 KB SRAMs, SparsitySupport {})")
    return {"scalesim.gemm_2to4.ws_cycles": Measured(float(sparse.total_cycles), call.format("2:4,", "true")),
            "scalesim.gemm_dense.ws_cycles": Measured(float(dense.total_cycles), call.format("", "false"))}


SDPA_N = 64


def compute_sdpa() -> dict[str, Measured]:
    """Streaming SDPA (DAM): naive needs an O(N) FIFO, the reordered online softmax runs at full rate on O(1)."""
    from acceldse.simulator.streaming import run_sdpa
    from acceldse.simulator.streaming.sdpa import min_fifo_depth

    naive = min_fifo_depth("naive", SDPA_N)
    reordered = min_fifo_depth("reordered", SDPA_N, criterion="full-rate")
    rate = run_sdpa("reordered", SDPA_N, 8, fifo_depth=12, values=False).tokens_per_cycle
    return {
        "sdpa.naive.fifo_depth": Measured(naive, f"acceldse stream min-depth --variant naive --seq-len {SDPA_N}"),
        "sdpa.reordered.fifo_depth": Measured(reordered, "acceldse stream min-depth --variant reordered --seq-len "
                                                         f"{SDPA_N} --criterion full-rate"),
        "sdpa.reordered.elements_per_cycle": Measured(rate, f"acceldse.run_sdpa('reordered', {SDPA_N}, 8, "
                                                            "fifo_depth=12).tokens_per_cycle"),
    }


SN40L_COE_EXPERTS, SN40L_COE_EXPERT_PARAMS = 150, 6.67e9
"""Samba-CoE as the SN40L paper deploys it: 150 experts, about 1 T parameters in all (so ~6.67 B each), bf16."""


def compute_sn40l() -> dict[str, Measured]:
    """SN40L: expert switching from the tier bandwidths, operator fusion on one socket, and the sockets the
    150-expert composition needs (the paper deploys it on one 8-socket node)."""
    from acceldse.tiers import fusion, switch_study

    table = switch_study("sn40l-like", 8e9, "bf16", experts=10, sockets=1).table.set_index("tier")
    hbm, ddr = table.loc["hbm", "switch_seconds"], table.loc["ddr", "switch_seconds"]
    fused = fusion("sn40l-like", "gpt2_decode")
    coe = switch_study("sn40l-like", SN40L_COE_EXPERT_PARAMS, "bf16", experts=SN40L_COE_EXPERTS)
    return {
        "sn40l.coe_sockets": Measured(float(coe.sockets), "acceldse tiers switch --hardware sn40l-like --params "
                                                          f"{SN40L_COE_EXPERT_PARAMS:g} --experts {SN40L_COE_EXPERTS} "
                                                          "(the fewest sockets that hold every expert)"),
        "sn40l.switch_s": Measured(float(hbm), "acceldse tiers switch --hardware sn40l-like --params 8e9 --experts 10 "
                                                   "--sockets 1"),
        "sn40l.switch_speedup": Measured(float(ddr / hbm), "acceldse tiers switch --hardware sn40l-like "
                                                           "--params 8e9 --experts 10 --sockets 1 (ddr ÷ hbm)"),
        "sn40l.fusion_speedup": Measured(float(fused.unfused_cycles / fused.fused_cycles),
                                         "acceldse tiers fusion --hardware sn40l-like --workload gpt2_decode"),
    }


SWAT_SEQ_LEN, SWAT_WINDOW = 16384, 512


def compute_swat() -> dict[str, Measured]:
    """SWAT: sliding-window (w = 512) vs dense attention on one ZCU102 row pipeline, at 16K tokens."""
    from acceldse.simulator.fpga.attention import compare_attention

    row = compare_attention("zcu102", seq_lens=(SWAT_SEQ_LEN,), window=SWAT_WINDOW).iloc[0]
    call = f"acceldse fpga swat --platform zcu102 --seq-len {SWAT_SEQ_LEN} --window {SWAT_WINDOW}"
    return {"swat.latency_speedup": Measured(float(row.speedup), call),
            "swat.energy_ratio": Measured(float(row.energy_ratio), call)}


def mixed_td_study() -> Any:
    """Mixed-TD's setting: ``optimise(vgg_small(), "zcu102", batch=256, decompose=True, max_error=None)`` (the
    undecomposed plan and every rank fraction, each folded; ``candidates`` lists them). Computed once for this
    code and shared (``acceldse.validation.stored``) by the validation row, the ``fpga_folding`` notebook and
    ``tests/mapper/test_fpga_decomposition.py``."""
    from acceldse.mapper.fpga import optimise
    from acceldse.validation import stored
    from acceldse.workloads.zoo.small import vgg_small

    return stored("mixed_td", lambda: optimise(vgg_small(), "zcu102", batch=256, decompose=True, max_error=None))


def compute_mixed_td() -> dict[str, Measured]:
    """Mixed-TD: throughput per DSP with per-layer SVD/CP decomposition vs without, VGG-style net on a ZCU102."""
    mixed = mixed_td_study()
    plain = next(c for c in mixed.candidates if c["rank_fraction"] == 1.0)  # the undecomposed plan, optimised too
    return {"mixed_td.throughput_per_dsp_gain": Measured(
        mixed.summary["throughput_per_dsp"] / plain["throughput_per_dsp"],
        "acceldse fpga --workload vgg_small --platform zcu102 --batch 256 --decompose --max-error none "
        "(÷ the same plan undecomposed)")}


def compute_draco() -> dict[str, Measured]:
    """DRACO's setup (MobileNetV1, 64x64 array): latency saved by choosing the dataflow per layer."""
    from acceldse.api import simulate

    layers = simulate("mobilenet_v1", "array-64x64", "all").layers
    cycles = layers[layers.macs > 0].pivot_table(index="layer", columns="dataflow", values="total_cycles",
                                                 sort=False)
    saved = 1 - cycles.min(axis=1).sum() / cycles.sum().min()
    # each layer's PE utilisation (MACs over cycles x PEs, stalls included) under the dataflow chosen for it
    use = layers[layers.macs > 0].pivot_table(index="layer", columns="dataflow", values="utilization", sort=False)
    per_layer = use.to_numpy()[range(len(use)), [list(use.columns).index(d) for d in cycles.idxmin(axis=1)]]
    call = ("acceldse simulate --workload mobilenet_v1 --hardware array-64x64 --dataflow all "
            "(best dataflow per layer vs the best single dataflow)")
    return {"draco.latency_reduction_pct": Measured(float(saved * 100), call),
            "draco.pe_utilization_gain_pct": Measured(
                float((per_layer.mean() / use[cycles.sum().idxmin()].mean() - 1) * 100), f"{call}, mean over layers")}


def compute_fusemax() -> dict[str, Measured]:
    """FuseMax vs FLAT: means over BERT/TrXL/T5/XLM at 1K-1M tokens, batch 64, each on its own preset."""
    from acceldse.mapper.attention_designs import fusemax_vs_flat

    out = {}
    for scope, end_to_end in (("attention", False), ("layer", True)):
        r = fusemax_vs_flat(end_to_end=end_to_end)
        call = "acceldse attention --paper --end-to-end" if end_to_end else "acceldse attention --paper"
        out[f"fusemax.{scope}.speedup"] = Measured(float(r["speedup"]), call)
        out[f"fusemax.{scope}.energy_pct"] = Measured(float(r["energy_ratio"]) * 100, call)
    return out


GPUS = {  # published dense FP16/BF16 tensor peak FLOP/s, DRAM bytes/s and NVLink bytes/s per GPU (both directions,
    # all links: P100's 4 first-generation links of 40 GB/s, H100's 18 fourth-generation ones, 900 GB/s in all), from
    # the vendor data sheets
    "P100": (2016, 21.2e12, 732e9, 160e9),
    "H100 SXM": (2022, 989e12, 3350e9, 900e9),
}


def compute_memory_wall() -> dict[str, Measured]:
    """Growth per two years of GPU peak FLOP/s, DRAM bandwidth and interconnect (NVLink) bandwidth, P100 (2016) to
    H100 (2022)."""
    (y0, f0, b0, n0), (y1, f1, b1, n1) = GPUS["P100"], GPUS["H100 SXM"]
    periods = (y1 - y0) / 2
    call = "acceldse.validation.papers.GPUS (vendor peaks), growth per 2 years"
    return {"memory_wall.flops_growth": Measured((f1 / f0) ** (1 / periods), call),
            "memory_wall.bandwidth_growth": Measured((b1 / b0) ** (1 / periods), call),
            "memory_wall.interconnect_growth": Measured((n1 / n0) ** (1 / periods), call)}


NASAIC_BUDGET, NASAIC_SEEDS = 40, 2


def nasaic_study(budget: int = NASAIC_BUDGET, seeds: int = NASAIC_SEEDS) -> dict[str, dict[str, float]]:
    """NASAIC's comparison on ``acceldse/CoExploration-v0`` (the ``coexploration`` notebook's protocol, smaller).

    Per seed, BO with ``budget`` evaluations searches network and hardware together (*co-exploration*,
    under the env's default specs), and BO searches the network alone for accuracy with half the budget
    (hardware at the reference design), then the hardware for that network with the rest (*successive*).
    Returns each approach's mean latency_us, energy_uj, area_mm2 and accuracy of its best design.
    """
    import gymnasium as gym

    from acceldse.envs.agents import explore

    cache: dict = {}

    def make(**kwargs: object) -> gym.Env:
        env = gym.make("acceldse/CoExploration-v0", disable_env_checker=True, **kwargs)
        env.unwrapped.map_cache = cache  # mapping results shared across the runs
        return env

    ref = make().unwrapped
    specs = {("accuracy" if k == "error" else k): (1 - v if k == "error" else v) for k, v in ref.targets.items()}
    hw_ref = {k: [v] for k, v in ref.reference_design.items() if k.startswith("sub")}
    keys = ("latency_us", "energy_uj", "area_mm2", "accuracy")
    sums = {a: dict.fromkeys(keys, 0.0) for a in ("co-exploration", "successive")}
    for seed in range(seeds):
        co = explore(make(targets=specs), "bo", budget, seed)
        nas = explore(make(targets={"area_mm2": 1e9}, knobs=hw_ref), "bo", budget // 2, seed)
        net = {k: [v] for k, v in nas.best_design.items() if not k.startswith("sub")}
        hw = explore(make(targets=specs, knobs=net), "bo", budget - budget // 2, seed)
        for approach, design in (("co-exploration", co.best_design), ("successive", hw.best_design)):
            metrics = ref.evaluate(design)
            for k in keys:
                sums[approach][k] += metrics[k] / seeds
    return sums


def compute_nasaic() -> dict[str, Measured]:
    """NASAIC: co-exploration against successive (network, then hardware) search at the same budget."""
    r = nasaic_study()
    co, su = r["co-exploration"], r["successive"]
    call = (f"acceldse.validation.papers.nasaic_study(budget={NASAIC_BUDGET}, seeds={NASAIC_SEEDS}) "
            "(BO on CoExploration-v0; the coexploration notebook's protocol)")
    return {"nasaic.latency_reduction_pct": Measured((1 - co["latency_us"] / su["latency_us"]) * 100, call),
            "nasaic.energy_ratio": Measured(su["energy_uj"] / co["energy_uj"], call),
            "nasaic.area_ratio": Measured(su["area_mm2"] / co["area_mm2"], call),
            "nasaic.accuracy_loss_pct": Measured(max(su["accuracy"] - co["accuracy"], 0.0) * 100, call)}


ARCHGYM_DESIGNS = 300


def compute_archgym() -> dict[str, Measured]:
    """ArchGym's proxy cost model: held-out RMSE (% of the mean latency) of an MLP proxy trained on logged
    random designs of AcceleratorDesign-v0 (AlexNet, analytical fidelity)."""
    import tempfile
    from pathlib import Path

    from acceldse.explore import explore
    from acceldse.proxy import train_proxy

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "log.duckdb"
        explore("AcceleratorDesign-v0", "random", ARCHGYM_DESIGNS, seed=0, env_kwargs={"workload": "alexnet"},
                store=store)
        report = train_proxy(store, ["latency_us"]).report.set_index("target")
    call = (f"acceldse explore --env AcceleratorDesign-v0 --env-arg workload=alexnet --agent random --budget "
            f"{ARCHGYM_DESIGNS} --seed 0 --store F; acceldse proxy train --store F --target latency_us")
    return {"archgym.proxy_rmse_pct": Measured(float(report.loc["latency_us", "nrmse_pct"]), call)}


MARL_BUDGET, MARL_SEEDS = 128, 3


def compute_marl_dse() -> dict[str, Measured]:
    """MARL-DSE: multi-agent PPO (one policy per sub-system, shared team reward) against single-agent PPO on the
    whole design, same budget: the mean over seeds of the best EDP each reaches on ``MultiAgentDesign``."""
    from acceldse.explore import explore

    best = {agent: sum(explore("MultiAgentDesign", agent, MARL_BUDGET, seed, env_kwargs={"reward": "edp_uj_us"})
                       .best_metrics["edp_uj_us"] for seed in range(MARL_SEEDS)) / MARL_SEEDS
            for agent in ("mappo", "ppo")}
    call = (f"acceldse explore --env MultiAgentDesign --env-arg reward=edp_uj_us --agent mappo|ppo --budget "
            f"{MARL_BUDGET} --seed 0..{MARL_SEEDS - 1} (mean best EDP, ppo ÷ mappo)")
    return {"marl_dse.single_over_multi_edp": Measured(best["ppo"] / best["mappo"], call)}


COMPUTE = [compute_scalesim, compute_sdpa, compute_sn40l, compute_fusemax, compute_swat, compute_mixed_td,
           compute_draco, compute_memory_wall, compute_nasaic, compute_archgym, compute_marl_dse]
