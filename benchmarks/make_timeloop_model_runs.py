"""Make Timeloop goldens on cases the exercises do not have: spatial-innermost mappings and Sparseloop runs.

    python benchmarks/make_timeloop_model_runs.py --bin BUILD/install-0fc43fb/bin
    python benchmarks/make_timeloop_model_runs.py --bin ... --case sws_resnet18_l2_conv3x3
    python benchmarks/make_timeloop_model_runs.py --list        # the cases (a markdown table), no Timeloop needed

``--bin``: the ``timeloop-model.sh`` wrapper built by ``../shared/tools/timeloop/build.sh``
(Timeloop 0fc43fb, the version that reproduces the exercises' ref_outputs byte for byte).

Every case is a fixed mapping written here (no search): the architecture, ERT and ART of a
published design stored in ``tests/golden/timeloop/`` (copied unchanged from
Accelergy-Project/timeloop-accelergy-exercises @ 2d55108), a real layer (ResNet-18, MobileNet
incl. a depthwise layer as its own problem shape, a BERT-base GEMM) and a mapping:

* ``spatial_innermost/``: mappings whose innermost non-unit loop is spatial (every storage level
  below a fan-out iterates once), on simple_weight_stationary, simple_output_stationary,
  eyeriss_like (fan-out at two levels) and simba_like (three); some operands bypass every PE
  buffer and are broadcast from the global buffer.
* ``mac_fanout/``: the last storage level fans out straight to the MACs (the 2024 DSE tutorial's
  design with 8 MACs in a row, on a 4 x 4 grid, and with 4 PEs x 4 MACs): Timeloop's multicast by
  equal points and link transfers between neighbouring MACs (sliding windows along the MACs,
  broadcast along one axis, reduction along the other).
* ``imperfect/``: mappings in Timeloop's residual factor form (``Q8,6``: 8 iterations, the last global one
  only 6) on the fan-out to the MACs and on temporal loops at every level, at one and two levels of a
  rank (ResNet-18, MobileNet depthwise at 14 x 14 and 7 x 7; the 2024 DSE design, Eyeriss, Simba).
* ``sparse/``: Sparseloop (``sparse_optimizations``) on a ResNet-18 conv layer on the exercises'
  Eyeriss-like Sparseloop design (04.2.1): hypergeometric densities, compute-level gating vs
  skipping, a different representation format per rank, storage gating/skipping.

Written per case into ``tests/golden/timeloop/model_runs/<group>/<case>/``:
``timeloop-model.input.yaml`` (the complete input) and ``timeloop-model.stats.txt`` (what
timeloop-model printed, without its ``Networks`` and ``Operational Intensity Stats`` sections, which the
tests do not read).
Timeloop never runs in CI; ``tests/mapper/test_timeloop_model_runs.py`` reads these files only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "timeloop"
OUT = GOLDEN / "model_runs"
SPARSE_BASE = GOLDEN / "exercises" / "sparseloop" / "04.2.1-eyeriss-like-gating"
ENV = {"TIMELOOP_HIDE_INCONSEQUENTIAL_STATS": "1"}
"""What timeloopfe sets (``globals.environment_variables``): hides dummy levels, changes no count."""


# ---------------------------------------------------------------- problems

_CONV_COEFFS = [{"name": n, "default": 1} for n in ("Wstride", "Hstride", "Wdilation", "Hdilation")]


def conv(C: int, M: int, R: int, S: int, P: int, Q: int, N: int = 1, stride: int = 1) -> dict[str, Any]:
    """Timeloop's conv2D (CNN-layer) problem; R and P run along W, S and Q along H."""
    shape = {"name": "conv2D", "dimensions": list("CMRSNPQ"), "coefficients": _CONV_COEFFS, "data_spaces": [
        {"name": "Weights", "projection": [[["C"]], [["M"]], [["R"]], [["S"]]]},
        {"name": "Inputs", "projection": [[["N"]], [["C"]], [["R", "Wdilation"], ["P", "Wstride"]],
                                          [["S", "Hdilation"], ["Q", "Hstride"]]]},
        {"name": "Outputs", "projection": [[["N"]], [["M"]], [["Q"]], [["P"]]], "read_write": True}]}
    inst = {"C": C, "M": M, "R": R, "S": S, "N": N, "P": P, "Q": Q, "Wstride": stride, "Hstride": stride,
            "Wdilation": 1, "Hdilation": 1}
    return {"shape": shape, "instance": inst}


def depthwise(C: int, R: int, S: int, P: int, Q: int, N: int = 1, stride: int = 1) -> dict[str, Any]:
    """A depthwise convolution as its own problem shape: channel C indexes all three tensors."""
    shape = {"name": "depthwise", "dimensions": list("CRSNPQ"), "coefficients": _CONV_COEFFS, "data_spaces": [
        {"name": "Weights", "projection": [[["C"]], [["R"]], [["S"]]]},
        {"name": "Inputs", "projection": [[["N"]], [["C"]], [["R", "Wdilation"], ["P", "Wstride"]],
                                          [["S", "Hdilation"], ["Q", "Hstride"]]]},
        {"name": "Outputs", "projection": [[["N"]], [["C"]], [["Q"]], [["P"]]], "read_write": True}]}
    inst = {"C": C, "R": R, "S": S, "N": N, "P": P, "Q": Q, "Wstride": stride, "Hstride": stride,
            "Wdilation": 1, "Hdilation": 1}
    return {"shape": shape, "instance": inst}


def gemm(M: int, N: int, K: int) -> dict[str, Any]:
    """Z[m, n] = sum_k A[m, k] B[k, n] with the conv designs' tensor names: Inputs = A (tokens x
    hidden), Weights = B, Outputs = Z."""
    shape = {"name": "GEMM", "dimensions": ["M", "N", "K"], "data_spaces": [
        {"name": "Weights", "projection": [[["K"]], [["N"]]]},
        {"name": "Inputs", "projection": [[["M"]], [["K"]]]},
        {"name": "Outputs", "projection": [[["M"]], [["N"]]], "read_write": True}]}
    return {"shape": shape, "instance": {"M": M, "N": N, "K": K}}


# ---------------------------------------------------------------- cases

Loop = tuple[str, str, str, str] | tuple[str, str, str, str, int]
"""(level, temporal|spatial, factors like ``C4 M8``, permutation innermost first[, split])."""


@dataclass(frozen=True)
class Case:
    group: str
    design: str
    problem: dict[str, Any]
    loops: tuple[Loop, ...]
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Levels whose kept tensors differ from the design's published mapping."""
    sparse: dict[str, Any] | None = None
    densities: dict[str, Any] | None = None
    note: str = ""


def _hyper(d: float, size: int = 0) -> dict[str, Any]:
    return {"distribution": "hypergeometric", "density": d, "workload_tensor_size": size, "band_width": 0}


def _fixed(d: float) -> dict[str, Any]:
    return {"distribution": "fixed_structured", "density": d, "workload_tensor_size": 0, "band_width": 0}


_R18_L3 = conv(C=256, M=256, R=3, S=3, P=14, Q=14)
"""ResNet-18 layer3.x conv 3x3 (256 -> 256, 14 x 14)."""
_SPARSE_LOOPS: tuple[Loop, ...] = (
    ("DRAM", "temporal", "C64 M4", "CM"),
    ("shared_glb", "temporal", "P14", "P"),
    ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1),
    ("inter_PE_spatial", "spatial", "M4 S3", "SM", 0),
    ("weights_spad", "temporal", "C4 R3", "CR"),
    ("psum_spad", "temporal", "M16", "M"),
)
"""The Eyeriss-like row-stationary mapping of the Sparseloop exercise 04.2.1, on ResNet-18's layer."""
_DRAM_FLAT = {"name": "DRAM", "representation_format": {"data_spaces": [
    {"name": "Inputs", "ranks": [{"format": "UOP", "flattened_rankIDs": [list("RSPCMNQ")]},
                                 {"format": "RLE", "flattened_rankIDs": [list("RSPCMNQ")]}]}]}}
_DENS = {"Inputs": _hyper(0.35), "Weights": _hyper(0.45)}

CASES: dict[str, Case] = {
    # ---- simple_weight_stationary: 16 x 16 PEs under one fan-out; registers of 1 word per PE
    "sws_resnet18_l2_conv3x3": Case(
        "spatial_innermost", "simple_weight_stationary", conv(C=128, M=128, R=3, S=3, P=28, Q=28),
        (("DRAM", "temporal", "C4 M8 P4 Q7", "CPQM"), ("shared_glb", "temporal", "R3 S3 P7 Q4 C2", "RSPQC"),
         ("inter_PE_spatial", "spatial", "C16 M16", "CM", 1)),
        note="R innermost at the glb: outputs are reused across R and S"),
    "sws_resnet18_l2_conv3x3_p_inner": Case(
        "spatial_innermost", "simple_weight_stationary", conv(C=128, M=128, R=3, S=3, P=28, Q=28),
        (("DRAM", "temporal", "C4 M8 P4 Q7", "CPQM"), ("shared_glb", "temporal", "P7 Q4 R3 S3 C2", "PQRSC"),
         ("inter_PE_spatial", "spatial", "C16 M16", "CM", 1)),
        note="P, Q innermost at the glb: weights are reused across them"),
    "sws_resnet18_l2_conv3x3_p2_under_r": Case(
        "spatial_innermost", "simple_weight_stationary", conv(C=128, M=128, R=3, S=3, P=28, Q=28),
        (("DRAM", "temporal", "C4 M8 P14 Q7", "PQCM"), ("shared_glb", "temporal", "P2 R3 S3 Q4 C2", "PRSQC"),
         ("inter_PE_spatial", "spatial", "C16 M16", "CM", 1)),
        note="P2 inside R3 at the glb: consecutive iterations (r, p=1) -> (r+1, p=0) read the same input"),
    "sws_bert_qkv_gemm_broadcast": Case(
        "spatial_innermost", "simple_weight_stationary", gemm(M=128, N=768, K=768),
        (("DRAM", "temporal", "K12 N12 M2", "KNM"), ("shared_glb", "temporal", "M64 K4 N4", "MKN"),
         ("inter_PE_spatial", "spatial", "K16 N16", "KN", 1)),
        keep={"pe_spad": ("Weights",), "weight_reg": ("Weights",), "input_activation_reg": (),
              "output_activation_reg": ()},
        note="BERT-base Q/K/V projection; inputs and outputs bypass the PE registers (broadcast from the glb)"),
    # ---- simple_output_stationary
    "sos_resnet18_downsample_1x1_s2": Case(
        "spatial_innermost", "simple_output_stationary", conv(C=64, M=128, R=1, S=1, P=28, Q=28, stride=2),
        (("DRAM", "temporal", "M8 P4 Q2", "MPQ"), ("shared_glb", "temporal", "C64 P7", "CP"),
         ("inter_PE_spatial", "spatial", "M16 Q14", "MQ", 1)),
        note="C innermost at the glb: every output stays in its PE across C"),
    "sos_mobilenet_dw_3x3": Case(
        "spatial_innermost", "simple_output_stationary", depthwise(C=64, R=3, S=3, P=56, Q=56, stride=2),
        (("DRAM", "temporal", "C4 P4 Q7", "QPC"), ("shared_glb", "temporal", "R3 S3 P14", "RSP"),
         ("inter_PE_spatial", "spatial", "C16 Q8", "CQ", 1)),
        note="MobileNet-v1 depthwise 3x3 stride 2 (64 channels, 112 -> 56)"),
    # ---- eyeriss_like: fan-out at two levels (14 columns x 12 PEs)
    "eyeriss_resnet18_conv1_7x7": Case(
        "spatial_innermost", "eyeriss_like", conv(C=3, M=64, R=7, S=7, P=112, Q=112, stride=2),
        (("DRAM", "temporal", "M16 P8 Q8", "MPQ"), ("shared_glb", "temporal", "R7 S7 P14 Q1", "RSPQ"),
         ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1), ("inter_PE_spatial", "spatial", "C3 M4", "CM", 0)),
        note="ResNet-18 conv1; every PE buffer iterates once"),
    "eyeriss_mobilenet_dw_3x3": Case(
        "spatial_innermost", "eyeriss_like", depthwise(C=32, R=3, S=3, P=112, Q=112),
        (("DRAM", "temporal", "C8 P8 Q8", "CPQ"), ("shared_glb", "temporal", "P14 R3", "PR"),
         ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1), ("inter_PE_spatial", "spatial", "S3 C4", "SC", 0)),
        note="MobileNet-v1 depthwise 3x3 stride 1 (32 channels, 112 x 112)"),
    "eyeriss_mobilenetv2_pw_broadcast": Case(
        "spatial_innermost", "eyeriss_like", conv(C=96, M=24, R=1, S=1, P=56, Q=56),
        (("DRAM", "temporal", "M2 P8 Q4", "MPQ"), ("shared_glb", "temporal", "C24 P7 M4", "CPM"),
         ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1), ("inter_PE_spatial", "spatial", "C4 M3", "CM", 0)),
        keep={"shared_glb": ("Weights", "Inputs", "Outputs"), "weights_spad": ()},
        note="MobileNet-v2 block-2 projection 96 -> 24; weights bypass the PEs, broadcast from the glb"),
    "eyeriss_resnet18_l1_glb_bandwidth": Case(
        "spatial_innermost", "eyeriss_like", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "M4 P4 Q4 C16", "PQMC"), ("shared_glb", "temporal", "S3 P14", "SP"),
         ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1), ("inter_PE_spatial", "spatial", "C4 R3", "CR", 0),
         ("weights_spad", "temporal", "M16", "M")),
        note="ResNet-18 layer1 conv 3x3; the glb's reads need exactly 16 x 1,041,152 words: Timeloop's "
             "floating-point slowdown gives 1,041,153 cycles"),
    # ---- simba_like: fan-out at three levels (16 PEs x 4 buffers x 4 MACs)
    "simba_resnet18_l4_conv3x3": Case(
        "spatial_innermost", "simba_like", conv(C=512, M=512, R=3, S=3, P=7, Q=7),
        (("DRAM", "temporal", "M4 C4", "MC"), ("GlobalBuffer", "temporal", "C8", "C"),
         ("inter_PE_spatial", "spatial", "M16", "M", 1), ("PEInputBuffer", "temporal", "M2", "M"),
         ("inter_distributed_buffers_spatial", "spatial", "M4", "M", 0),
         ("PEWeightBuffer", "temporal", "R3 S3", "RS"), ("PEAccuBuffer", "temporal", "P7 Q7 C4", "PQC"),
         ("inter_reg_mac_spatial", "spatial", "C4", "C", 0)),
        note="ResNet-18 layer4 conv 3x3; the innermost fan-out (4 MACs) sits under the accumulation buffer's loops"),
    "simba_bert_ffn_gemm": Case(
        "spatial_innermost", "simba_like", gemm(M=128, N=3072, K=768),
        (("DRAM", "temporal", "N48 K6", "NK"), ("GlobalBuffer", "temporal", "K8 M128", "KM"),
         ("inter_PE_spatial", "spatial", "N16", "N", 1), ("PEInputBuffer", "temporal", "K4", "K"),
         ("inter_distributed_buffers_spatial", "spatial", "N4", "N", 0),
         ("inter_reg_mac_spatial", "spatial", "K4", "K", 0)),
        note="BERT-base FFN up-projection; the PE buffers below the inner fan-outs iterate once"),
    # ---- the 2024 DSE tutorial's design: the buffer fans out to 8 MACs directly (no PE storage)
    "dse_resnet18_l1_conv3x3_q8": Case(
        "mac_fanout", "dse2024", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "C8 M8 P56 Q7", "QPMC"), ("buffer", "temporal", "S3 R3 C8 M8", "SRCM"),
         ("inter_PE_spatial", "spatial", "Q8", "Q", 1)),
        note="ResNet-18 layer1 conv 3x3; 8 output columns on the MACs, S innermost: the window slides across them"),
    "dse_bert_gemm_k8": Case(
        "mac_fanout", "dse2024", gemm(M=128, N=768, K=768),
        (("DRAM", "temporal", "K24 N48 M16", "KNM"), ("buffer", "temporal", "N16 M8 K4", "NMK"),
         ("inter_PE_spatial", "spatial", "K8", "K", 1)),
        note="BERT-base attention output projection; the reduction rank on the MACs"),
    "dse_mobilenet_dw_c8": Case(
        "mac_fanout", "dse2024", depthwise(C=32, R=3, S=3, P=112, Q=112),
        (("DRAM", "temporal", "C4 P8 Q112", "PQC"), ("buffer", "temporal", "R3 S3 P14", "RSP"),
         ("inter_PE_spatial", "spatial", "C8", "C", 1)),
        note="MobileNet-v1 depthwise 3x3 (32 channels, 112 x 112); channels on the MACs"),
    # ---- the same design with fan-out at two levels: 4 PEs (a pe_buffer each) x 4 MACs
    "dse4x4_resnet18_l2_conv3x3": Case(
        "spatial_innermost", "dse2024_pe4x4", conv(C=128, M=128, R=3, S=3, P=28, Q=28),
        (("DRAM", "temporal", "C4 M32 P4 Q4", "PQCM"), ("buffer", "temporal", "P7 Q7 C8", "PQC"),
         ("inter_PE_spatial", "spatial", "M4", "M", 1), ("pe_buffer", "temporal", "R3 S3", "RS"),
         ("pe_buffer", "spatial", "C4", "C", 0)),
        keep={"pe_buffer": ("Weights",)},
        note="ResNet-18 layer2 conv 3x3; weights in the PEs, inputs and outputs straight from the buffer"),
    "dse4x4_bert_gemm": Case(
        "mac_fanout", "dse2024_pe4x4", gemm(M=128, N=768, K=768),
        (("DRAM", "temporal", "K48 N24", "KN"), ("buffer", "temporal", "N8 K4 M8", "NKM"),
         ("inter_PE_spatial", "spatial", "K4", "K", 1), ("pe_buffer", "temporal", "M16", "M"),
         ("pe_buffer", "spatial", "N4", "N", 0)),
        keep={"pe_buffer": ("Inputs",)},
        note="BERT-base attention output projection; inputs in the PEs, broadcast to their 4 MACs"),
    # ---- more fan-outs straight to the MACs (link transfers, multicast by equal points)
    "dse_resnet18_l3_s2_q7": Case(
        "mac_fanout", "dse2024", conv(C=128, M=256, R=3, S=3, P=14, Q=14, stride=2),
        (("DRAM", "temporal", "C16 M256 P14 Q2", "QPMC"), ("buffer", "temporal", "S3 R3 C8", "SRC"),
         ("inter_PE_spatial", "spatial", "Q7", "Q", 1)),
        note="ResNet-18 layer3 downsample 3x3 stride 2 on 7 of 8 MACs; S innermost: stride 2 leaves no "
             "neighbour holding the next input"),
    "dse_resnet18_l1_p8_r_inner": Case(
        "mac_fanout", "dse2024", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "C8 M16 P7 Q56", "QPMC"), ("buffer", "temporal", "R3 S3 C8 M4", "RSCM"),
         ("inter_PE_spatial", "spatial", "P8", "P", 1)),
        note="ResNet-18 layer1 conv 3x3; output rows on the MACs, R innermost: the window slides down them"),
    "dse_resnet18_l1_q2s3_m_inner": Case(
        "mac_fanout", "dse2024", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "C8 M16 P56 Q28", "QPMC"), ("buffer", "temporal", "M4 R3 C8", "MRC"),
         ("inter_PE_spatial", "spatial", "Q2 S3", "QS", 2)),
        note="Q2 x S3 on one MAC row (6 of 8): 4 distinct inputs among 6 MACs; M innermost: inputs pass on "
             "between neighbours that hold the same point"),
    "mac4x4_resnet18_l1_q4_m4": Case(
        "mac_fanout", "dse2024_mac4x4", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "C8 M16 P56 Q14", "QPMC"), ("buffer", "temporal", "S3 R3 C8", "SRC"),
         ("inter_PE_spatial", "spatial", "Q4 M4", "QM", 1)),
        note="4 x 4 MACs under the buffer: Q on X, M on Y; S innermost: each row passes the window on, the "
             "last column's 4 MACs share one new input"),
    "mac4x4_bert_gemm_n4_k4": Case(
        "mac_fanout", "dse2024_mac4x4", gemm(M=128, N=768, K=768),
        (("DRAM", "temporal", "K48 N24 M16", "KNM"), ("buffer", "temporal", "N8 M8 K4", "NMK"),
         ("inter_PE_spatial", "spatial", "N4 K4", "NK", 1)),
        note="BERT-base attention output projection on 4 x 4 MACs (N on X, K on Y); N innermost: inputs "
             "stay, outputs reduce along Y"),
    "mac4x4_resnet18_l1_q2_m4": Case(
        "mac_fanout", "dse2024_mac4x4", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "C8 M16 P56 Q28", "QPMC"), ("buffer", "temporal", "S3 R3 C8", "SRC"),
         ("inter_PE_spatial", "spatial", "Q2 M4", "QM", 1)),
        note="2 of 4 columns used: Timeloop numbers the 8 MACs row-major on the 4-wide grid"),
    "dse4x4_mobilenet_dw_q4": Case(
        "mac_fanout", "dse2024_pe4x4", depthwise(C=32, R=3, S=3, P=112, Q=112),
        (("DRAM", "temporal", "P8 Q28", "PQ"), ("buffer", "temporal", "P14 C8", "PC"),
         ("inter_PE_spatial", "spatial", "C4", "C", 1), ("pe_buffer", "temporal", "S3 R3", "SR"),
         ("pe_buffer", "spatial", "Q4", "Q", 0)),
        keep={"pe_buffer": ("Inputs", "Outputs")},
        note="MobileNet-v1 depthwise 3x3 on 4 PEs x 4 MACs; inputs and outputs in the PEs, S innermost: "
             "the PE's MACs pass the window on"),
    # ---- imperfect factorization: Timeloop's residual factor form (mapper/residual.py replays it)
    "dse_resnet18_q54_residual": Case(
        "imperfect", "dse2024", conv(C=64, M=64, R=3, S=3, P=56, Q=54),
        (("DRAM", "temporal", "C8 M8 P56 Q7", "QPMC"), ("buffer", "temporal", "S3 R3 C8 M8", "SRCM"),
         ("inter_PE_spatial", "spatial", "Q8,6", "Q", 1)),
        note="Q = 54 on 8 MACs x 7: the last of the 7 steps uses 6 MACs (Timeloop: computes 111,476,736, the "
             "cycles of Q = 56)"),
    "dse_resnet18_l2_q28_mac_residual": Case(
        "imperfect", "dse2024", conv(C=128, M=128, R=3, S=3, P=28, Q=28),
        (("DRAM", "temporal", "C16 M128 P28 Q4", "QPMC"), ("buffer", "temporal", "S3 R3 C8", "SRC"),
         ("inter_PE_spatial", "spatial", "Q8,4", "Q", 1)),
        note="ResNet-18 layer2 conv 3x3: Q = 28 as 4 steps of 8 MACs, the last on 4"),
    "dse_resnet18_l3_q14_buffer_residual": Case(
        "imperfect", "dse2024", conv(C=256, M=256, R=3, S=3, P=14, Q=14),
        (("DRAM", "temporal", "C32 M32 P14 Q4", "QPMC"), ("buffer", "temporal", "Q4,2 S3 R3 C8", "QSRC"),
         ("inter_PE_spatial", "spatial", "M8", "M", 1)),
        note="ResNet-18 layer3 conv 3x3: a temporal residual in the buffer (Q = 14 as 4 x 4, the last 2)"),
    "dse_resnet18_l1_q56_two_residuals": Case(
        "imperfect", "dse2024", conv(C=64, M=64, R=3, S=3, P=56, Q=56),
        (("DRAM", "temporal", "C8 M8 P56 Q3", "QPMC"), ("buffer", "temporal", "Q4,2 S3 R3 C8 M8", "QSRCM"),
         ("inter_PE_spatial", "spatial", "Q6,2", "Q", 1)),
        note="ResNet-18 layer1: Q = 56 = ((3 - 1) x 4 + 2 - 1) x 6 + 2: residuals at two levels of one rank "
             "(Timeloop runs the second-last iteration too)"),
    "dse_mobilenet_dw14_q_residual": Case(
        "imperfect", "dse2024", depthwise(C=512, R=3, S=3, P=14, Q=14),
        (("DRAM", "temporal", "C64 P14 Q2", "QPC"), ("buffer", "temporal", "S3 R3 C8", "SRC"),
         ("inter_PE_spatial", "spatial", "Q8,6", "Q", 1)),
        note="MobileNet-v1 depthwise 3x3 at 14 x 14 (512 channels): Q = 14 on 8 MACs, the last step on 6"),
    "dse_mobilenet_dw7_p_residual": Case(
        "imperfect", "dse2024", depthwise(C=1024, R=3, S=3, P=7, Q=7),
        (("DRAM", "temporal", "C128 P2 Q7", "QPC"), ("buffer", "temporal", "P4,3 S3 R3", "PSR"),
         ("inter_PE_spatial", "spatial", "C8", "C", 1)),
        note="MobileNet-v1 depthwise 3x3 at 7 x 7 (1,024 channels): P = 7 as 4 + 3 in the buffer"),
    "eyeriss_resnet18_l2_glb_residual": Case(
        "imperfect", "eyeriss_like", conv(C=128, M=128, R=3, S=3, P=28, Q=28),
        (("DRAM", "temporal", "M8 P5 Q2 C8", "PMQC"), ("shared_glb", "temporal", "P6,4", "P"),
         ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1), ("inter_PE_spatial", "spatial", "C4 S3", "CS", 0),
         ("weights_spad", "temporal", "R3 C4", "RC"), ("psum_spad", "temporal", "M16", "M")),
        note="ResNet-18 layer2 on Eyeriss: P = 28 as 5 glb tiles of 6 rows, the last of 4, above two fan-outs"),
    "simba_resnet18_l4_accu_residual": Case(
        "imperfect", "simba_like", conv(C=512, M=512, R=3, S=3, P=7, Q=7),
        (("DRAM", "temporal", "M4 C4 P2", "MCP"), ("GlobalBuffer", "temporal", "C8", "C"),
         ("inter_PE_spatial", "spatial", "M16", "M", 1), ("PEInputBuffer", "temporal", "M2", "M"),
         ("inter_distributed_buffers_spatial", "spatial", "M4", "M", 0),
         ("PEWeightBuffer", "temporal", "R3 S3", "RS"), ("PEAccuBuffer", "temporal", "P4,3 Q7 C4", "PQC"),
         ("inter_reg_mac_spatial", "spatial", "C4", "C", 0)),
        note="ResNet-18 layer4 on Simba: P = 7 as 4 + 3 in the accumulation buffer, under three fan-outs"),
    # ---- Sparseloop on ResNet-18 layer3 conv (the exercises' Eyeriss-like Sparseloop design)
    "hypergeometric_gating": Case(
        "sparse", "sparseloop_eyeriss", _R18_L3, _SPARSE_LOOPS,
        sparse={"targets": [_DRAM_FLAT, {"name": "weights_spad", "action_optimization": [
            {"type": "gating", "options": [{"target": "Weights", "condition_on": ["Inputs"]}]}]}]},
        densities=_DENS, note="hypergeometric inputs and weights; weight reads gated on zero inputs"),
    "compute_gating": Case(
        "sparse", "sparseloop_eyeriss", _R18_L3, _SPARSE_LOOPS,
        sparse={"targets": [_DRAM_FLAT, {"name": "mac", "compute_optimization": [{"type": "gating"}]}]},
        densities=_DENS, note="the MAC gates on a zero operand; no storage optimisation"),
    "compute_skipping": Case(
        "sparse", "sparseloop_eyeriss", _R18_L3, _SPARSE_LOOPS,
        sparse={"targets": [_DRAM_FLAT, {"name": "weights_spad", "action_optimization": [
            {"type": "skipping", "options": [{"target": "Weights", "condition_on": ["Inputs"]}]}]},
            {"name": "mac", "compute_optimization": [{"type": "skipping"}]}]},
        densities=_DENS, note="weight reads skipped on zero inputs and the MAC skips"),
    "format_per_rank": Case(
        "sparse", "sparseloop_eyeriss", _R18_L3, _SPARSE_LOOPS,
        sparse={"targets": [
            {"name": "DRAM", "representation_format": {"data_spaces": [
                {"name": "Inputs", "ranks": [{"format": "UOP"}, {"format": "B"}, {"format": "RLE"}]},
                {"name": "Outputs", "ranks": [{"format": "UOP"}, {"format": "CP"}]}]}},
            {"name": "weights_spad", "action_optimization": [
                {"type": "gating", "options": [{"target": "Weights", "condition_on": ["Inputs"]}]}]}]},
        densities={"Inputs": _hyper(0.3), "Weights": _fixed(0.5)},
        note="inputs UOP / B / RLE and outputs UOP / CP in DRAM (the glb decompresses / compresses)"),
    "hypergeometric_tensor_size": Case(
        "sparse", "sparseloop_eyeriss", _R18_L3, _SPARSE_LOOPS,
        sparse={"targets": [_DRAM_FLAT, {"name": "weights_spad", "action_optimization": [
            {"type": "skipping", "options": [{"target": "Weights", "condition_on": ["Inputs"]}]}]}]},
        densities={"Inputs": _hyper(0.25, 65536), "Weights": _hyper(0.6)},
        note="hypergeometric inputs over a 65,536-element workload_tensor_size; weight reads skipped"),
    "spatial_innermost_gating": Case(
        "sparse", "sparseloop_eyeriss", _R18_L3,
        (("DRAM", "temporal", "C16 M64", "CM"), ("shared_glb", "temporal", "R3 P14 C16", "RPC"),
         ("inter_PE_column_spatial", "spatial", "Q14", "Q", 1), ("inter_PE_spatial", "spatial", "M4 S3", "SM", 0)),
        sparse={"targets": [_DRAM_FLAT, {"name": "weights_spad", "action_optimization": [
            {"type": "gating", "options": [{"target": "Weights", "condition_on": ["Inputs"]}]}]}]},
        densities=_DENS, note="a spatial-innermost mapping (every PE buffer iterates once) with weight gating"),
}
"""Every case; the mapping lists each level's non-unit factors (all others are 1)."""


# ---------------------------------------------------------------- inputs

_FOLDERS = {"sparseloop_eyeriss": SPARSE_BASE, "dse2024": GOLDEN / "exercises" / "2024_dse",
            "dse2024_pe4x4": GOLDEN / "exercises" / "2024_dse", "dse2024_mac4x4": GOLDEN / "exercises" / "2024_dse"}


def base_input(design: str) -> dict[str, Any]:
    """Architecture + ERT + ART (+ the published mapping, for its keep lists) of a stored design."""
    folder = _FOLDERS.get(design, GOLDEN / design)
    spec = yaml.safe_load((folder / "parsed-processed-input.yaml").read_text())
    spec["ERT"] = yaml.safe_load((folder / "timeloop-mapper.ERT.yaml").read_text())["ERT"]
    spec["ART"] = yaml.safe_load((folder / "timeloop-mapper.ART.yaml").read_text())["ART"]
    spec["mapping"] = yaml.safe_load((folder / "timeloop-mapper.map.yaml").read_text())["mapping"]
    if design == "dse2024_pe4x4":
        _add_pe_buffers(spec)
    if design == "dse2024_mac4x4":
        _mac_grid(spec, 4, 4)
    return spec


def _mac_grid(spec: dict[str, Any], x: int, y: int) -> None:
    """The 2024 DSE tutorial's design with its MACs on an ``x`` by ``y`` grid under the buffer."""
    mac = next(c for c in spec["architecture"]["subtree"][0]["local"] if c["class"] == "intmac")
    name = f"mac[1..{x * y}]"
    mac["name"] = name
    mac["attributes"] = {**mac["attributes"], "meshX": x, "meshY": y}
    for table in (spec["ERT"]["tables"], spec["ART"]["tables"]):
        for t in table:
            t["name"] = t["name"].replace("mac[1..8]", name)


def _add_pe_buffers(spec: dict[str, Any]) -> None:
    """The 2024 DSE tutorial's design with fan-out at two levels: the buffer feeds 4 PEs (a 64-word
    ``pe_buffer`` each, priced like eyeriss_like's ``weights_spad`` RF), each PE 4 MACs (16 in all)."""
    top = spec["architecture"]["subtree"][0]
    local = top["local"]
    mac = next(c for c in local if c["class"] == "intmac")
    rf = yaml.safe_load((GOLDEN / "eyeriss_like" / "parsed-processed-input.yaml").read_text())
    spad = next(c for c in rf["architecture"]["subtree"][0]["local"] if c["name"].startswith("weights_spad"))
    pe = {**spad, "name": "pe_buffer[1..4]",
          "attributes": {**spad["attributes"], "depth": 64, "width": 8, "datawidth": 8, "meshX": 4, "meshY": 1}}
    local.insert(local.index(mac), pe)
    mac["name"] = "mac[1..16]"
    mac["attributes"] = {**mac["attributes"], "meshX": 4, "meshY": 4}
    rf_ert = yaml.safe_load((GOLDEN / "eyeriss_like" / "timeloop-mapper.ERT.yaml").read_text())["ERT"]
    rf_art = yaml.safe_load((GOLDEN / "eyeriss_like" / "timeloop-mapper.ART.yaml").read_text())["ART"]
    for table, ref in ((spec["ERT"]["tables"], rf_ert["tables"]), (spec["ART"]["tables"], rf_art["tables"])):
        for t in table:
            t["name"] = t["name"].replace("mac[1..8]", "mac[1..16]")
        src = next(t for t in ref if "weights_spad" in t["name"])
        table.append({**src, "name": f"{top['name']}.pe_buffer[1..4]"})


def mapping(case: Case, published: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeloop's mapping list: the published keep lists (with the case's changes) and the loops of
    every level the published mapping or the case names (factors not given are 1)."""
    dims = case.problem["shape"]["dimensions"]
    tensors = [d["name"] for d in case.problem["shape"]["data_spaces"]]
    out: list[dict[str, Any]] = []
    kept = {e["target"]: e.get("keep") or [] for e in published if e["type"] in ("datatype", "bypass")}
    for target in [*kept, *(t for t in case.keep if t not in kept)]:
        keep = list(case.keep.get(target, kept.get(target, [])))
        out.append({"target": target, "type": "datatype", "keep": keep,
                    "bypass": [t for t in tensors if t not in keep]})
    given = {(lv, kind): rest for lv, kind, *rest in case.loops}
    named = [(e["target"], e["type"]) for e in published if e["type"] in ("temporal", "spatial")]
    for target, kind in [*named, *(k for k in given if k not in named)]:
        rest = given.get((target, kind))
        factors, perm = (rest[0], rest[1]) if rest else ("", "")
        f: dict[str, int | str] = dict.fromkeys(dims, 1)
        for tok in factors.split():
            f[tok[0]] = tok[1:] if "," in tok else int(tok[1:])   # "Q8,6": Timeloop's residual form
        entry = {"target": target, "type": kind, "factors": " ".join(f"{d}{f[d]}" for d in dims),
                 "permutation": perm + "".join(d for d in dims if d not in perm)}
        if kind == "spatial":
            entry["split"] = rest[2] if rest else 0
        out.append(entry)
    return out


def model_input(case: Case) -> dict[str, Any]:
    base = base_input(case.design)
    problem = {"version": "0.4", **case.problem,
               "instance": {**case.problem["instance"], "densities": case.densities or {}}}
    spec: dict[str, Any] = {"architecture": base["architecture"], "problem": problem,
                            "mapping": mapping(case, base["mapping"])}
    if case.sparse:
        spec["sparse_optimizations"] = case.sparse
    spec["ERT"], spec["ART"] = base["ERT"], base["ART"]
    spec["model"] = {"verbose": False, "out_prefix": "timeloop-model"}
    return spec


def strip_networks(text: str) -> str:
    """``stats.txt`` without its ``Networks`` and ``Operational Intensity Stats`` sections (per-network
    word counts and per-level op/byte, which the tests do not read); the ``Summary Stats`` stay."""
    for start in ("\nNetworks\n", "\nOperational Intensity Stats\n"):
        head, sep, rest = text.partition(start)
        if sep and "\nSummary Stats" in rest:
            text = head + "\n" + rest[rest.index("\nSummary Stats"):].lstrip("\n")
    return text


def make_case(bin_dir: Path, name: str) -> str:
    case = CASES[name]
    spec = model_input(case)
    out = OUT / case.group / name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "timeloop-model.input.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        done = subprocess.run([str(bin_dir / "timeloop-model.sh"), str(path)], cwd=tmp, env={**os.environ, **ENV},
                              capture_output=True, text=True, timeout=600)
        stats = Path(tmp) / "timeloop-model.stats.txt"
        if done.returncode != 0 or not stats.exists():
            raise RuntimeError(f"timeloop-model failed ({done.returncode}): {(done.stderr or done.stdout)[-1500:]}")
        out.mkdir(parents=True, exist_ok=True)
        (out / "timeloop-model.input.yaml").write_text(path.read_text())
        (out / "timeloop-model.stats.txt").write_text(strip_networks(stats.read_text()))
    summary = [ln for ln in (out / "timeloop-model.stats.txt").read_text().splitlines()
               if ln.startswith(("Cycles:", "Energy:"))]
    return "  ".join(summary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="dir with timeloop-model.sh (build.sh's install-0fc43fb/bin)")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args()
    if args.list or args.bin is None:
        print("| group | case | design | problem | what it exercises |\n|---|---|---|---|---|")
        for name, case in CASES.items():
            inst = case.problem["instance"]
            dims = " ".join(f"{d}{inst[d]}" for d in case.problem["shape"]["dimensions"])
            print(f"| {case.group} | {name} | {case.design} | {case.problem['shape']['name']} {dims} | {case.note} |")
        return 0 if args.list else 2
    failed = 0
    for name in args.case or CASES:
        try:
            print(f"{name:34s} {make_case(args.bin, name)}")
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            failed += 1
            print(f"{name:34s} FAILED: {err}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
