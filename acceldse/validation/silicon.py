"""Measured silicon: Eyeriss v1 (JSSC 2017), TPU v1 (ISCA 2017) and Gemmini RTL on presets built from the papers' stated
parameters (``eyeriss-v1`` hierarchy, ``tpu-v1`` systolic array); nothing here is fitted to a measurement.

Eyeriss v1 runs the original AlexNet (Krizhevsky et al. 2012: 227x227 input, 96 conv1 filters, two groups
in CONV2/4/5) and VGG-16's 13 CONV layers, 16-bit, each layer mapped by acceldse's mapper (the paper's
row-stationary dataflow, the lower-EDP of the GA and hybrid searches, seed 0; AlexNet again with no spatial
constraint). TPU v1 runs the paper's Table 1 applications as far as the table describes them: equal square
FC layers holding the stated weights (MLP0/1, LSTM0/1; the LSTMs' vector operations are not modelled) and
CNN0 as 16 3x3 conv layers on a 19x19 plane holding 8 M weights (2,888 ops per weight byte at batch 8, as
tabulated); CNN1's layers are not described well enough to rebuild. Gemmini (RTL of its default configuration
run on an FPGA, the cycles its ResNet-50 test program counts) runs the zoo's ResNet-50 at batch 4 on the
``gemmini-default`` preset (ucb-bar/gemmini's stated defaults), each layer timed by the counter the test
program times it with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from acceldse.validation import Measured
from acceldse.workloads.layer import Layer, conv2d, gemm
from acceldse.workloads.network import Network
from acceldse.workloads.zoo.resnet import resnet50

EYERISS = "eyeriss-v1"
EYERISS_SEARCHES: tuple[dict[str, Any], ...] = (
    {"search": "ga", "budget": 100_000, "population": 1024}, {"search": "hybrid", "budget": 20_000})
"""The two searches a layer is mapped by (seed 0; it keeps the lower-EDP mapping). The chip's scratchpads cannot be
bypassed (the preset's ``always_keeps``), which leaves few legal mappings (12 ifmap and 24 psum words per PE): at
the GA's default population (256) and budget (20,000) it settles on the first legal region it finds (AlexNet
CONV3: 1.49x the EDP of the paper's own passes); with 1,024 and 100,000 it comes within 1.04x of them on CONV2-5.
The hybrid search keeps the default budget."""
BYTES_PER_WORD = 2  # 16-bit data


def alexnet_eyeriss(batch: int = 4) -> Network:
    """AlexNet's five CONV layers as Eyeriss v1 ran them (original, grouped, 16-bit)."""
    return Network("alexnet_conv", (
        conv2d("conv1", 3, 96, 227, 11, stride=4, batch=batch, bits=16),
        conv2d("conv2", 96, 256, 27, 5, padding=2, groups=2, batch=batch, bits=16),
        conv2d("conv3", 256, 384, 13, 3, padding=1, batch=batch, bits=16),
        conv2d("conv4", 384, 384, 13, 3, padding=1, groups=2, batch=batch, bits=16),
        conv2d("conv5", 384, 256, 13, 3, padding=1, groups=2, batch=batch, bits=16)))


def vgg16_eyeriss(batch: int = 3) -> Network:
    """VGG-16's 13 CONV layers (224x224, 3x3, padding 1), 16-bit."""
    plan = [(3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56), (256, 256, 56),
            (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28), (512, 512, 14), (512, 512, 14),
            (512, 512, 14)]
    return Network("vgg16_conv", tuple(conv2d(f"conv{i + 1}", c, k, hw, 3, padding=1, batch=batch, bits=16)
                                       for i, (c, k, hw) in enumerate(plan)))


def _divisor(n: int, cap: int) -> int:
    return max(d for d in range(1, max(min(n, cap), 1) + 1) if n % d == 0)


def eyeriss_paper_mapping(layer: Layer, n: int, m: int) -> Any:
    """The row-stationary processing passes JSSC 2017 describes (Sec. III-B, V-B), as an ``eyeriss-v1`` mapping.

    A PE set is the filter's R rows by e ofmap rows (e: the largest divisor of the ofmap height that fits the 14
    PE columns); ``12 // R`` sets stacked on the PE rows take different channels (r). Each PE keeps p filters'
    rows of q channels in its filter scratchpad (q * S <= 12 ifmap words, p * q * S <= 224 filter words, p <= 24
    psums; the largest divisors that fit) and slides them along the ofmap row for ``n`` ifmaps; the global
    buffer keeps the psums of ``m`` ofmap channels and the ifmap rows of one pass. Passes run m -> C -> E -> M
    (innermost first): the next p filters of the m, then the next q * r channels (psums stay in the buffer),
    then the next e ofmap rows, then the next m channels, with the batch outermost in groups of ``n``.
    ``n`` (dividing the batch) and ``m`` (a multiple of p dividing the filters) are the pass parameters the
    paper's Table III fixes per layer; ``eyeriss_paper_layer`` picks them (see there)."""
    from acceldse.mapper.mapping import LevelMapping, Mapping

    e = _divisor(layer.P, 14)
    r = _divisor(layer.C, 12 // layer.R)
    q = _divisor(layer.C // r, 12 // layer.S)
    p = _divisor(layer.K, min(24, 224 // (q * layer.S)))
    if layer.N % n or layer.K % m or m % p:
        raise ValueError(f"n = {n} must divide the batch {layer.N}; m = {m} must divide {layer.K} filters and be "
                         f"a multiple of p = {p}")
    return Mapping((
        LevelMapping("DRAM", temporal={"G": layer.G, "N": layer.N // n, "K": layer.K // m, "P": layer.P // e,
                                       "C": layer.C // (q * r)}, order=("G", "N", "K", "P", "C")),
        LevelMapping("shared_glb", temporal={"K": m // p, "N": n, "Q": layer.Q}, order=("K", "N", "Q"),
                     spatial_x={"P": e}),
        LevelMapping("pe_column", spatial_y={"R": layer.R, "C": r}),
        LevelMapping("psum_spad", temporal={"C": q, "S": layer.S, "K": p}, order=("C", "S", "K"))))


@dataclass(frozen=True)
class _Mapped:
    layer: Layer
    hierarchy: Any
    mapping: Any
    cost: Any


@cache
def eyeriss_paper_layer(layer: Layer) -> _Mapped:
    """``layer`` on Eyeriss v1 under the paper's pass structure (``eyeriss_paper_mapping``), with the (n, m) of
    least chip energy (the row-stationary paper's criterion) among those whose pass fits the 108 KB global
    buffer. The energy is acceldse's (the preset's normalised per-access costs), never the measured figures."""
    from acceldse.mapper.cost import evaluate
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.workloads.errors import SpecError

    hierarchy = load_hierarchy(EYERISS)
    best: _Mapped | None = None
    for n in (d for d in range(1, layer.N + 1) if layer.N % d == 0):
        for m in (d for d in range(1, layer.K + 1) if layer.K % d == 0):
            try:
                mapping = eyeriss_paper_mapping(layer, n, m)
                cost = evaluate(layer, hierarchy, mapping)
            except (ValueError, SpecError):  # m not a multiple of p, or the pass overflows a buffer
                continue
            if best is None or cost.energy_pj < best.cost.energy_pj:
                best = _Mapped(layer, hierarchy, mapping, cost)
    if best is None:
        raise ValueError(f"no row-stationary pass of {layer.name} fits eyeriss-v1")
    return best


@cache
def _eyeriss_mapping(layer: Layer, dataflow: str) -> Any:
    """The lower-EDP mapping of the GA and hybrid searches (seed 0) of ``layer`` on Eyeriss v1 (``dataflow``
    ``rs`` or ``any``), or the paper's pass structure (``paper``)."""
    from acceldse.mapper.api import map_layer

    if dataflow == "paper":
        return eyeriss_paper_layer(layer)
    found = [map_layer(layer, EYERISS, dataflow=dataflow, objective="edp", seed=0, **search)
             for search in EYERISS_SEARCHES]
    return min((m for m in found if m.cost is not None), key=lambda m: m.cost.edp if m.cost else math.inf)


def _eyeriss_layer(layer: Layer, dataflow: str) -> dict[str, float]:
    cost = _eyeriss_mapping(layer, dataflow).cost
    counts = cost.counts
    dram = counts[counts.level == "DRAM"]
    dram_words = float(dram.reads.sum() + dram.fills.sum() + dram.updates.sum())
    glb = counts[counts.level == "shared_glb"]
    seconds = cost.cycles / 200e6
    return {"macs": float(cost.macs), "seconds": seconds, "pes": float(cost.utilised_pes),
            "dram_words": dram_words, "chip_pj": float(cost.energy_pj - dram.energy_pj.sum()),
            "glb_words": float(glb.reads.sum() + glb.fills.sum() + glb.updates.sum())}


RELU_DENSITY = 0.56
"""Non-zero share of a CONV layer's ReLU'd input activations: 44 % zeros on average over the CNNs
Albericio et al. measured on ImageNet (Cnvlutin, ISCA 2016; as quoted by Shi & Chu, arXiv 1704.07724).
A different source from the Eyeriss measurements it is compared with, and one number for every layer
(AlexNet's real density falls with depth, so deep layers' traffic comes out high)."""
RLC_RUN_BITS = 5
"""Eyeriss's run-length code (JSSC 2017, Fig. 8): a 5-bit run of zeros before each 16-bit level."""
LINK_BYTES_PER_S = 8 * 60e6
"""Eyeriss's DRAM link: a 64-bit bus (JSSC 2017, Sec. III-A) in the 60 MHz link clock domain (Table V's
caption). The chip does not process while it loads ifmaps from DRAM or writes ofmaps back (Sec. VI-A;
filters are preloaded during processing), so a layer's total latency adds its feature-map transfers."""


TABLE_V_IFMAP_ZEROS = {"conv1": 0.0001, "conv2": 0.387, "conv3": 0.725, "conv4": 0.793, "conv5": 0.776}
"""Share of zeros in each AlexNet CONV layer's ifmaps as the chip measured them (JSSC 2017, Table V, "zeros in
ifmaps"; entered by hand). A property of the data the chip ran, not of its DRAM traffic, latency or power:
the ``measured zeros`` rows use it in place of Cnvlutin's cross-network average and say so."""
ALEXNET_NEXT_UNPOOLED = {"conv3": "conv4", "conv4": "conv5"}
"""Layers whose ReLU'd ofmap is the next layer's ifmap as it is (no pooling between): their ofmap density is
that ifmap's measured density; the others (CONV1, CONV2, CONV5 feed a max pooling) keep Cnvlutin's."""


def eyeriss_sparse_features(layer: Layer, density: float = RELU_DENSITY,
                            output_density: float | None = None) -> dict[str, Any]:
    """Eyeriss v1's sparse features as ``mapper.sparse.native.design_for`` arguments (JSSC 2017, Sec. IV-B
    and V-C): ifmaps and ofmaps RLC-compressed in DRAM (Sparseloop's UOP + RLE over all ranks; not the first
    layer's input image), and the filter scratchpad read and the MAC gated when the ifmap is zero
    (Sparseloop's gating of Weights on Inputs at ``weights_spad``). ``density``: the ifmaps' non-zero share;
    ``output_density``: the ofmaps' (default the same)."""
    from acceldse.mapper.sparse import FixedStructured, RankFormat

    first = layer.name == "conv1"
    ranks = {"Inputs": tuple("NGKCPQRS"), "Outputs": ("N", "G", "K", "P", "Q")}
    tensors = ["Outputs"] if first else ["Inputs", "Outputs"]
    share = {"Inputs": density, "Outputs": density if output_density is None else output_density}
    return {"densities": {t: FixedStructured(share[t]) for t in tensors},
            "formats": {("DRAM", t): (RankFormat("RLE", flattened=(ranks[t],)),
                                      RankFormat("UOP", flattened=(ranks[t],))) for t in tensors},
            "metadata_word_bits": {"DRAM": RLC_RUN_BITS},
            "safs": (("weights_spad", "gate", (("Weights", ("Inputs",)),)),)}


def measured_densities(name: str) -> dict[str, float]:
    """``eyeriss_sparse_features`` densities of AlexNet layer ``name`` from Table V's measured ifmap zeros."""
    following = ALEXNET_NEXT_UNPOOLED.get(name)
    return {"density": 1 - TABLE_V_IFMAP_ZEROS[name],
            "output_density": 1 - TABLE_V_IFMAP_ZEROS[following] if following else RELU_DENSITY}


def _eyeriss_sparse_layer(layer: Layer, named: str, dataflow: str, measured: bool = False) -> dict[str, float]:
    """The dense mapping's traffic and energy under Eyeriss's sparse features (Sparseloop's analysis).

    DRAM words: the actual accesses of every tensor, each RLC-compressed one costing a 5-bit run per
    non-zero it moves (the code's one run per level; Sparseloop's own RLE metadata count is not used: on
    these mappings' flattened ranks it counts 1.6-2.6 runs per non-zero moved). Power: the energy over
    the dense cycles, as Eyeriss gates (saves power) but does not skip (the paper's latency is dense)."""
    from acceldse.mapper.sparse import analyse
    from acceldse.mapper.sparse.native import design_for

    m = _eyeriss_mapping(layer, dataflow)
    features = eyeriss_sparse_features(replace(layer, name=named), **(measured_densities(named) if measured else {}))
    result = analyse(design_for(m.layer, m.hierarchy, m.mapping, m.cost, **features))
    words = {"Inputs": 0.0, "Weights": 0.0, "Outputs": 0.0}
    for (level, tensor), stats in result.tensors.items():
        if level == "DRAM":
            moved = sum(stats.accesses.get(("random", a), 0) for a in ("read", "fill", "update"))
            words[tensor] = moved * (1 + RLC_RUN_BITS / 16 * (("DRAM", tensor) in features["formats"]))
    dram_pj = sum(s.energy_pj for (level, _), s in result.tensors.items() if level == "DRAM")
    seconds = m.cost.cycles / 200e6
    fmap_bytes = (words["Inputs"] + words["Outputs"]) * BYTES_PER_WORD
    return {"macs": float(m.cost.macs), "seconds": seconds, "dram_words": sum(words.values()),
            "chip_pj": float(result.energy_pj - dram_pj), "total_seconds": seconds + fmap_bytes / LINK_BYTES_PER_S}


def _eyeriss_network(network: Network, key: str, batch: int, dataflow: str, per_layer: bool,
                     sparse: bool = False, measured: bool = False) -> dict[str, Measured]:
    call = (f"acceldse.map(acceldse.validation.silicon.{key}_eyeriss(), '{EYERISS}', dataflow='{dataflow}', "
            "objective='edp', seed=0, search='ga', budget=100000, population=1024 | search='hybrid', budget=20000) "
            "(lower EDP per layer)")
    if dataflow == "paper":
        call = f"acceldse.validation.silicon.eyeriss_paper_layer(layer) for layer in {key}_eyeriss()"
    if sparse:
        call += ("; acceldse.mapper.sparse.analyse(acceldse.mapper.sparse.native.design_for(<that mapping>, "
                 "**acceldse.validation.silicon.eyeriss_sparse_features(layer"
                 + (", **measured_densities(layer.name)" if measured else "") + ")))")
    # a layer of the same shape as an earlier one keeps its mapping, as acceldse.map does (VGG-16: 9 of 13)
    stats = {layer.name: (_eyeriss_sparse_layer(replace(layer, name="layer"), layer.name, dataflow, measured)
                          if sparse else _eyeriss_layer(replace(layer, name="layer"), dataflow)) for layer in network}
    out: dict[str, Measured] = {}
    prefix = (f"eyeriss.{key}" + ("" if dataflow == "rs" else f".{dataflow}") + (".sparse" if sparse else "")
              + (".measured" if measured else ""))
    if per_layer:
        for name, s in stats.items():
            if not sparse:
                out[f"{prefix}.{name}.processing_ms"] = Measured(s["seconds"] * 1e3, call)
                out[f"{prefix}.{name}.active_pes"] = Measured(s["pes"], call)
                out[f"{prefix}.{name}.glb_mb"] = Measured(s["glb_words"] * BYTES_PER_WORD / 1e6, call)
            else:
                out[f"{prefix}.{name}.total_ms"] = Measured(s["total_seconds"] * 1e3, call)
            out[f"{prefix}.{name}.dram_mb"] = Measured(s["dram_words"] * BYTES_PER_WORD / 1e6, call)
            out[f"{prefix}.{name}.power_mw"] = Measured(s["chip_pj"] / s["seconds"] * 1e-9, call)
    seconds = sum(s["seconds"] for s in stats.values())
    if not sparse:
        out[f"{prefix}.processing_ms"] = Measured(seconds * 1e3, call)
        out[f"{prefix}.frames_per_s"] = Measured(batch / seconds, call)
        out[f"{prefix}.glb_mb"] = Measured(sum(s["glb_words"] for s in stats.values()) * BYTES_PER_WORD / 1e6, call)
    else:  # with the feature maps' transfers over the link, which the chip does not overlap
        total = sum(s["total_seconds"] for s in stats.values())
        out[f"{prefix}.total_ms"] = Measured(total * 1e3, call)
        out[f"{prefix}.frames_per_s"] = Measured(batch / total, call)
    out[f"{prefix}.dram_accesses_per_mac"] = Measured(
        sum(s["dram_words"] for s in stats.values()) / sum(s["macs"] for s in stats.values()), call)
    out[f"{prefix}.power_mw"] = Measured(sum(s["chip_pj"] for s in stats.values()) / seconds * 1e-9, call)
    return out


def compute_eyeriss() -> dict[str, Measured]:
    """AlexNet per layer and VGG-16 in total on the paper's row-stationary dataflow, both again with the
    chip's sparse features (RLC in DRAM, zero gating) on the same mappings and its DRAM link (total latency);
    AlexNet's totals with the mapper free to choose any spatial mapping (``dataflow='any'``)."""
    return {**_eyeriss_network(alexnet_eyeriss(), "alexnet", 4, "rs", per_layer=True),
            **_eyeriss_network(alexnet_eyeriss(), "alexnet", 4, "rs", per_layer=True, sparse=True),
            **_eyeriss_network(alexnet_eyeriss(), "alexnet", 4, "any", per_layer=False),
            **_eyeriss_network(alexnet_eyeriss(), "alexnet", 4, "paper", per_layer=True),
            **_eyeriss_network(alexnet_eyeriss(), "alexnet", 4, "paper", per_layer=True, sparse=True),
            **_eyeriss_network(alexnet_eyeriss(), "alexnet", 4, "paper", per_layer=True, sparse=True, measured=True),
            **_eyeriss_vgg16_dense(),
            **_eyeriss_network(vgg16_eyeriss(), "vgg16", 3, "rs", per_layer=False, sparse=True)}


def _eyeriss_vgg16_dense() -> dict[str, Measured]:
    """VGG-16's totals, and the processing-time ratio of CONV1-2 to CONV4-2: the two layers do the same MACs, yet
    the chip takes nearly four times longer on the first (Table VI: 810.6 and 210.0 ms; Sec. VI-B: the early
    layers need many more processing passes, each ramped up from the global buffer)."""
    out = _eyeriss_network(vgg16_eyeriss(), "vgg16", 3, "rs", per_layer=True)
    call = out["eyeriss.vgg16.processing_ms"].command
    out["eyeriss.vgg16.conv1_2_over_conv4_2"] = Measured(
        out["eyeriss.vgg16.conv2.processing_ms"].value / out["eyeriss.vgg16.conv9.processing_ms"].value,
        f"{call} (conv2 ÷ conv9 processing time: VGG-16's CONV1-2 and CONV4-2)")
    return out


TPU_V1_APPS: dict[str, tuple[str, int, int, float]] = {
    # name: (layer kind, layers, batch, weights) from the paper's Table 1
    "mlp0": ("fc", 5, 200, 20e6),
    "mlp1": ("fc", 4, 168, 5e6),
    "lstm0": ("fc", 24, 64, 52e6),
    "lstm1": ("fc", 37, 96, 34e6),
    "cnn0": ("conv", 16, 8, 8e6),
}


def tpu_v1_application(name: str, batch: int | None = None) -> Network:
    """One of TPU v1's Table 1 applications rebuilt from its layer count, weights and batch (see the module);
    ``batch`` replaces the tabulated batch."""
    kind, layers, tabulated, weights = TPU_V1_APPS[name]
    batch = tabulated if batch is None else batch
    if kind == "fc":
        width = round(math.sqrt(weights / layers))
        return Network(name, tuple(gemm(f"fc{i}", batch, width, width) for i in range(layers)))
    channels = round(math.sqrt(weights / layers / 9))
    return Network(name, tuple(conv2d(f"conv{i}", channels, channels, 19, 3, padding=1, batch=batch)
                               for i in range(layers)))


def tpu_v1_resident_cycles(layers: Any, hardware: Any) -> float:
    """Cycles of an application whose activations stay in TPU v1's unified buffer (the paper's 24 MiB; each
    layer's input and output must fit, else ``ValueError``): only weights cross DDR, through the weight FIFO,
    overlapped with the array, so a layer takes the longer of its compute and its weights' transfer at the
    DDR bandwidth. The matrix unit holds a second weight tile to hide the R cycles of shifting the next one
    in (the paper's double buffering), so of the model's ``compute_cycles`` (``2R + C + T - 2`` per fold)
    every fold but a layer's first drops those R cycles."""
    buffer = hardware.sram.partition_bytes("ifmap")
    largest = float((layers.dram_reads_ifmap + layers.dram_writes_ofmap).max())
    if largest > buffer:
        raise ValueError(f"activations of {largest:,.0f} bytes do not fit the {buffer:,.0f}-byte unified buffer")
    weights = layers.dram_reads_filter * hardware.word_bytes / hardware.dram.read_bw_bytes_per_cycle
    compute = layers.compute_cycles - (layers.folds - 1).clip(lower=0) * hardware.array.rows
    return float(compute.combine(weights, max).sum())


def compute_tpu_v1() -> dict[str, Measured]:
    from acceldse.api import simulate
    from acceldse.simulator.specs.presets import load_hardware

    hardware = load_hardware("tpu-v1")
    out = {}
    for name in TPU_V1_APPS:
        layers = simulate(tpu_v1_application(name), hardware, "ws").layers
        call = f"acceldse.simulate(acceldse.validation.silicon.tpu_v1_application('{name}'), 'tpu-v1', 'ws')"
        ops = 2 * layers.macs.sum()
        out[f"tpu_v1.{name}.tops"] = Measured(float(ops / (layers.latency_us.sum() * 1e-6) / 1e12), call)
        resident = tpu_v1_resident_cycles(layers, hardware) / (hardware.clock_mhz * 1e6)
        out[f"tpu_v1.resident.{name}.tops"] = Measured(
            float(ops / resident / 1e12), f"{call}.layers -> acceldse.validation.silicon.tpu_v1_resident_cycles")
    for batch in TPU_V1_MLP0_BATCHES:  # Table 4: MLP0's measured inferences per second at two batch sizes
        layers = simulate(tpu_v1_application("mlp0", batch), hardware, "ws").layers
        seconds = layers.latency_us.sum() * 1e-6
        call = f"acceldse.simulate(acceldse.validation.silicon.tpu_v1_application('mlp0', {batch}), 'tpu-v1', 'ws')"
        out[f"tpu_v1.mlp0.batch{batch}.ips"] = Measured(float(batch / seconds), f"{call} (batch ÷ latency)")
        out[f"tpu_v1.mlp0.batch{batch}.host.ips"] = Measured(
            float(batch / (seconds * (1 + TPU_V1_MLP0_HOST_SHARE))),
            f"{call} (batch ÷ (latency x (1 + acceldse.validation.silicon.TPU_V1_MLP0_HOST_SHARE)))")
    return out


TPU_V1_MLP0_BATCHES = (200, 250)
"""The TPU's two rows of the paper's Table 4 (MLP0's 99th-percentile response time and inferences per second as
the batch grows; the 7 ms limit is met at 200, the host server caps throughput at 250)."""
TPU_V1_MLP0_HOST_SHARE = 0.21
"""Time the host CPU spends interacting with the TPU (PCIe) while running MLP0, as a share of TPU execution time
(ISCA 2017, Table 5, from the TPU's performance counters): a measurement other than Table 4's, which includes the
host's time (Sec. 4). The host's own share of the application is not in it (the paper could not measure it)."""


GEMMINI = "gemmini-default"
GEMMINI_BATCH = 4  # the test program classifies four images


def gemmini_category(layer: Layer) -> str:
    """Which of the Gemmini ResNet-50 test program's cycle counters a layer is timed by: 1x1 stride-1 convs
    and the FC layer run as matrix multiplications (``tiled_matmul_nn_auto``, "Matmul cycles"); the 7x7, 3x3
    and strided 1x1 convs (with their pooling) as convolutions (``tiled_conv_auto``, "Conv cycles"); the
    residual additions as "Res add cycles" (ucb-bar/gemmini-rocc-tests, imagenet/resnet50.c)."""
    if layer.op == "gemm" or (layer.op == "conv" and (layer.R, layer.S, layer.stride) == (1, 1, (1, 1))):
        return "matmul"
    if layer.op in ("conv", "pool"):
        return "conv"
    return "resadd" if layer.op == "eltwise" else "other"


def compute_gemmini() -> dict[str, Measured]:
    """ResNet-50 (batch 4, int8) on the ``gemmini-default`` preset, weight stationary, cycles per counter."""
    from acceldse.api import simulate

    network = resnet50(batch=GEMMINI_BATCH)
    layers = simulate(network, GEMMINI, "ws").layers
    kind = {layer.name: gemmini_category(layer) for layer in network}
    cycles = layers.groupby(layers.layer.map(kind)).total_cycles.sum()
    call = (f"acceldse simulate --workload resnet50 --batch {GEMMINI_BATCH} --hardware {GEMMINI} --dataflow ws "
            "(layers summed per acceldse.validation.silicon.gemmini_category)")
    out = {f"gemmini.resnet50.{k}_cycles": Measured(float(cycles.get(k, 0)), call)
           for k in ("matmul", "conv", "resadd")}
    out["gemmini.resnet50.total_cycles"] = Measured(float(cycles.sum()), call)
    return out


COMPUTE = [compute_eyeriss, compute_tpu_v1, compute_gemmini]
