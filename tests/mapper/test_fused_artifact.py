"""The attention designs against the FuseMax artifact (its Timeloop + Accelergy runs of each design: peer
figures, not fitted): FLAT's DRAM traffic, latency, utilisations and energy of attention and of the whole
layer; why the energy ratio is not the paper's; docs/attention.md's energy table is this model's output."""

from __future__ import annotations

import pytest

from acceldse.mapper.attention_designs import evaluate_design


def _flat_golden() -> list[dict]:
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "golden" / "fusemax" / "flat_traffic.csv"
    rows = list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))
    mult = {"K": 2**10, "M": 2**20}
    for r in rows:
        s = r["seq_len"]
        r["n"] = int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)
    # the configurations FLAT's template here takes: Q, K and V streamed from DRAM, the scores on chip, no spill
    return [r for r in rows if (r["Q_loc"], r["K_loc"], r["V_loc"], r["QK_loc"], r["A_loc"]) ==
            ("offchip", "offchip", "offchip", "onchip", "onchip") and float(r["proportion_spilled"]) < 0.01]


@pytest.mark.parametrize("row", _flat_golden(), ids=lambda r: f"{r['models']}-{r['seq_len']}")
def test_flat_dram_traffic_agrees_with_the_fusemax_artifact(row: dict) -> None:
    """FLAT's DRAM bytes against the FuseMax artifact's Timeloop-based FLAT model (a peer's figure)."""
    got = evaluate_design("flat", model=row["models"].lower(), seq_len=row["n"], batch=64).cost.dram_bytes
    assert got == pytest.approx(float(row["mem_traffic"]), rel=0.03)


def _artifact(name: str) -> list[dict]:
    import csv
    from pathlib import Path

    path = Path(__file__).parents[1] / "golden" / "fusemax" / f"{name}.csv"
    mult = {"K": 2**10, "M": 2**20}
    rows = list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))
    for r in rows:
        s = r["seq_len"]
        r["n"] = int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)
    return rows


@pytest.mark.parametrize(("design", "latency_tol", "energy_range"), [
    ("fusemax", 0.002, (1.0, 1.08)),     # latency, traffic and utilisations exact; our energy 6-7 % higher
    ("flat", 0.016, (0.86, 0.97)),       # to 64K within 1.6 %; beyond, the artifact's FLAT sends the scores
    ("unfused", 0.025, (0.94, 0.98)),    # off chip and waits on DRAM (ours spills part: up to 13.5 % faster)
])
def test_attention_agrees_with_the_fusemax_artifact(design: str, latency_tol: float, energy_range) -> None:
    """Latency, DRAM traffic, utilisations and energy of every published point of the FuseMax artifact
    (its Timeloop + Accelergy runs of each design; peer figures, not fitted)."""
    for r in _artifact(f"{design}_attention"):
        c = evaluate_design(design, model=r["model"].lower(), seq_len=r["n"], batch=64).cost
        lat = c.latency_us / (float(r["latency"]) * 1e6)
        where = f"{r['model']} {r['seq_len']}"
        if design == "flat" and r["n"] > 65536:
            assert 0.86 < lat < 1.02, where
        else:
            assert lat == pytest.approx(1.0, abs=latency_tol), where
            assert c.util_2d == pytest.approx(float(r["util_2d"]), rel=0.025), where
        if design == "fusemax":
            assert c.dram_bytes == pytest.approx(float(r["traffic"]), rel=1e-9), where
            assert c.util_1d == pytest.approx(float(r["util_1d"]), rel=1e-6), where
        assert energy_range[0] <= c.energy_pj / float(r["energy"]) <= energy_range[1], where


def _artifact_charges(design: str, r: dict) -> tuple[float, int, int]:
    """What the actions the FuseMax artifact's code counts for ``design`` come to at its own ERT values
    (our presets copy them): every MAC, the per-score and per-key-tile operators of its cascade, its
    published DRAM bytes; its register files are charged one PE's Timeloop per-instance counts (~0) and
    no leakage. Returns (pJ, scores, MACs)."""
    from acceldse.simulator.specs.fused import load_fused_hardware
    from acceldse.workloads.attention import model_shape

    shape = model_shape(r["model"])
    hw = load_fused_hardware("fusemax" if design == "fusemax" else "flat_cloud")
    op = {name: cost.pj for name, cost in hw.units["pe1d"].ops.items()}
    scores = 64 * shape.heads * r["n"] * r["n"]
    macs = 2 * scores * shape.head_dim
    if design == "fusemax":     # LM, SLN (exp as 6 MACs + sub), SLD per score; RM, PRM, SPD, SPNV, RD, RNV per tile
        per_score = op["max"] + op["exp"] + op["sub"] + op["add"]
        per_tile = op["max"] + op["exp"] + op["sub"] + op["mul"] + shape.head_dim * (op["mul"] + 2 * op["add"])
        ops = scores * per_score + scores // 256 * per_tile + 64 * shape.heads * r["n"] * shape.head_dim * op["div"]
    else:                       # GM, SN (sub, exp), SD, A (divide) per score, on the 1D array
        ops = scores * (op["max"] + op["sub"] + op["exp"] + op["add"] + op["div"])
    return macs * op["mac"] + ops + float(r["traffic"]) * hw.dram_pj_per_byte, scores, macs


@pytest.mark.parametrize("design", ["flat", "unfused", "fusemax"])
def test_the_artifacts_flat_energy_has_600_pj_per_score_its_actions_do_not_charge(design: str) -> None:
    """Why our FuseMax/FLAT energy ratio (93 %) is not the paper's (79 %): the artifact's published energy
    of both 3-pass designs exceeds what the actions its code counts come to, at its own ERT values, by
    ~550-850 pJ per score (E-independent: BERT, TrXL, T5 at E = 64 and XLM at E = 128 agree per score,
    not per MAC), while FuseMax's exceeds them by ~0.5 pJ per MAC only. No action of the artifact's
    FLAT model (MACs, max, exp, add, divide, buffer per 256-word access, DRAM per 64-bit access)
    costs that per score, so our model, which counts actions, does not reproduce it (docs/attention.md)."""
    for r in _artifact(f"{design}_attention"):
        charged, scores, macs = _artifact_charges(design, r)
        extra = float(r["energy"]) - charged
        where = (r["model"], r["seq_len"])
        if design == "fusemax":
            assert 0.45 < extra / macs < 0.65 and extra / float(r["energy"]) < 0.035, where
        else:
            assert 550 < extra / scores < 850 and extra / float(r["energy"]) > 0.13, where     # 13-25 %


@pytest.mark.slow
def test_end_to_end_agrees_with_the_fusemax_artifact() -> None:
    """The whole layer = the artifact's attention + its linear layers (FLAT to 64K, FuseMax everywhere)."""
    for design in ("flat", "fusemax"):
        linear = {(r["model"], r["seq_len"]): r for r in _artifact(f"{design}_linear")}
        for r in _artifact(f"{design}_attention"):
            if r["n"] > 65536 and design == "flat":
                continue
            lin = linear[(r["model"], r["seq_len"])]
            c = evaluate_design(design, model=r["model"].lower(), seq_len=r["n"], batch=64, end_to_end=True).cost
            want_us = (float(r["latency"]) + float(lin["latency"])) * 1e6
            assert c.latency_us == pytest.approx(want_us, rel=0.017), (design, r["model"], r["seq_len"])


def test_docs_energy_table_is_what_our_model_gives() -> None:
    """docs/attention.md's per-MAC energy breakdown at BERT 64K (our columns) is this model's output, to the
    digits it prints."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "attention.md").read_text()
    table = text[text.index("| pJ per MAC, BERT 64K"):].split("\n\n")[0].splitlines()[2:]
    keys = {"operators": "compute", "register files": "regfile", "global buffer": "buffer", "DRAM": "dram",
            "leakage": "leakage", "total": "total"}
    macs = 2 * 64 * 12 * 65536 ** 2 * 64  # 2·B·H·N²·E
    checked = 0
    for column, design in ((1, "flat"), (3, "fusemax")):
        cost = evaluate_design(design, model="bert", seq_len=65536).cost
        per_mac = {**{k: v / macs for k, v in cost.energy_breakdown.items()}, "total": cost.energy_pj / macs}
        for line in table:
            cells = [c.strip() for c in line.strip("|").split("|")]
            key = next((v for k, v in keys.items() if cells[0].startswith(k)), None)
            if key is None:
                continue
            printed = cells[column]
            digits = len(printed.split(".")[1]) if "." in printed else 0
            assert f"{per_mac[key]:.{digits}f}" == printed, (design, cells[0], per_mac[key], printed)
            checked += 1
    assert checked == 12
