"""Run the installed SCALE-Sim 3.0.0 in-process on one layer and parse its reports.

Shared by the compat tests and the benchmark/golden scripts. SCALE-Sim needs a config file,
a topology CSV and a header-only layout CSV on disk, and writes its report CSVs under
``<out_dir>/<run_name>/``; everything goes under the directory the caller gives.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

_CFG_TEMPLATE = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {ifmap_kb}
FilterSramSzkB: {filter_kb}
OfmapSramSzkB: {ofmap_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : {ofmap_bw}
Dataflow : {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {ifmap_bw}
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {filter_bw}
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : {sparsity}
SparseRep : {sparse_rep}
OptimizedMapping : {optimized}
BlockSize : {block_size}
RandomNumberGeneratorSeed : {seed}

[run_presets]
InterfaceBandwidth: {bw_mode}
UseRamulatorTrace: False
"""

_CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                "Num Filter, Strides,\n")
_GEMM_HEADER = "Layer, M, N, K,\n"
_LAYOUT_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                  "Num Filter, Strides,\n")

#: Every numeric field SCALE-Sim reports per layer, in our snake_case names.
REPORT_FIELDS: tuple[str, ...] = (
    "total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
    "overall_util_pct", "mapping_efficiency_pct", "compute_util_pct",
    "avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
    "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw",
    "sram_ifmap_start_cycle", "sram_ifmap_stop_cycle", "sram_reads_ifmap",
    "sram_filter_start_cycle", "sram_filter_stop_cycle", "sram_reads_filter",
    "sram_ofmap_start_cycle", "sram_ofmap_stop_cycle", "sram_writes_ofmap",
    "dram_ifmap_start_cycle", "dram_ifmap_stop_cycle", "dram_reads_ifmap",
    "dram_filter_start_cycle", "dram_filter_stop_cycle", "dram_reads_filter",
    "dram_ofmap_start_cycle", "dram_ofmap_stop_cycle", "dram_writes_ofmap",
)

#: The extra fields SCALE-Sim reports with ``SparsitySupport`` on: the metadata bandwidth column of
#: BANDWIDTH_REPORT.csv and the numbers of SPARSE_REPORT.csv (storage in words).
SPARSE_FIELDS: tuple[str, ...] = (
    "avg_filter_metadata_sram_bw", "original_filter_storage", "new_filter_storage", "filter_metadata_storage",
)


@dataclass(frozen=True)
class PeerLayer:
    """One conv layer as SCALE-Sim sees it (a GEMM is ifmap M x K, filter 1 x K, N filters)."""

    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride: int
    sparsity: tuple[int, int] | None = None  # the topology row's N:M column (None: no column)


@dataclass(frozen=True)
class PeerSparsity:
    """The ``[sparsity]`` section of a SCALE-Sim config."""

    representation: str = "ellpack_block"
    optimized_mapping: bool = False
    block_size: int = 8
    seed: int = 40


def gemm_as_conv(m: int, n: int, k: int) -> PeerLayer:
    """SCALE-Sim's GEMM convention (topology_utils.load_arrays_gemm)."""
    return PeerLayer(m, k, 1, k, 1, n, 1)


def _parse_report(path: Path, *, label_columns: int = 1) -> list[list[float]]:
    """A report's rows as numbers, without the header and the first ``label_columns`` (layer id, ...)."""
    rows = []
    with path.open() as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            vals = [v.strip() for v in row if v.strip() != ""]
            if vals:
                rows.append([float(v) for v in vals[label_columns:]])
    return rows


def run_scalesim_layers(
    layers: list[PeerLayer],
    *,
    out_dir: Path,
    array_rows: int,
    array_cols: int,
    ifmap_sram_kb: int,
    filter_sram_kb: int,
    ofmap_sram_kb: int,
    dataflow: str,
    bandwidth_mode: str = "CALC",
    ifmap_dram_bw_words: int = 10,
    filter_dram_bw_words: int = 10,
    ofmap_dram_bw_words: int = 10,
    run_name: str = "peer",
    sparsity: PeerSparsity | None = None,
    gemm: bool = False,
) -> tuple[list[dict[str, float]], float]:
    """Run SCALE-Sim on ``layers`` (one topology) and return per-layer reports and wall seconds.

    Each report dict has the keys of :data:`REPORT_FIELDS` (floats exactly as printed); with
    ``sparsity`` (SparsitySupport on) also those of :data:`SPARSE_FIELDS`. ``gemm`` writes the
    topology in SCALE-Sim's M, N, K form (``layers`` then come from :func:`gemm_as_conv`).
    """
    from scalesim.scale_sim import scalesim  # imported lazily: slow and optional

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = out_dir / f"{run_name}.cfg"
    cfg.write_text(_CFG_TEMPLATE.format(
        run_name=run_name, rows=array_rows, cols=array_cols, ifmap_kb=ifmap_sram_kb,
        filter_kb=filter_sram_kb, ofmap_kb=ofmap_sram_kb, dataflow=dataflow,
        bw_mode=bandwidth_mode, ifmap_bw=ifmap_dram_bw_words, filter_bw=filter_dram_bw_words,
        ofmap_bw=ofmap_dram_bw_words, sparsity="true" if sparsity else "false",
        sparse_rep=(sparsity or PeerSparsity()).representation,
        optimized="true" if sparsity and sparsity.optimized_mapping else "false",
        block_size=(sparsity or PeerSparsity()).block_size, seed=(sparsity or PeerSparsity()).seed))
    topo = out_dir / f"{run_name}_topo.csv"
    lines = [_GEMM_HEADER if gemm else _CONV_HEADER]
    for i, lay in enumerate(layers):
        ratio = "" if lay.sparsity is None else f"{lay.sparsity[0]}:{lay.sparsity[1]},"
        if gemm:
            lines.append(f"L{i},{lay.ifmap_h},{lay.num_filters},{lay.ifmap_w},{ratio}\n")
        else:
            lines.append(f"L{i},{lay.ifmap_h},{lay.ifmap_w},{lay.filter_h},{lay.filter_w},"
                         f"{lay.channels},{lay.num_filters},{lay.stride},{ratio}\n")
    topo.write_text("".join(lines))
    layout = out_dir / f"{run_name}_layout.csv"
    layout.write_text(_LAYOUT_HEADER)
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg),
                       topology=str(topo), layout=str(layout), input_type_gemm=gemm)
        sim.run_scale(top_path=str(out_dir))
    seconds = time.perf_counter() - start
    rep_dir = out_dir / run_name
    comp = _parse_report(rep_dir / "COMPUTE_REPORT.csv")
    bw = _parse_report(rep_dir / "BANDWIDTH_REPORT.csv")
    det = _parse_report(rep_dir / "DETAILED_ACCESS_REPORT.csv")
    results = []
    for c, b, d in zip(comp, bw, det, strict=True):
        meta_bw = b.pop(2) if sparsity else None
        rep = dict(zip(REPORT_FIELDS, c + b + d, strict=True))
        if meta_bw is not None:
            rep["avg_filter_metadata_sram_bw"] = meta_bw
        results.append(rep)
    if sparsity:
        for rep, vals in zip(results, _parse_report(rep_dir / "SPARSE_REPORT.csv", label_columns=2), strict=True):
            rep.update(zip(SPARSE_FIELDS[1:], vals[:3], strict=True))
    return results, seconds


def run_scalesim_layer(layer: PeerLayer, *, out_dir: Path, **kwargs: object) -> tuple[dict[str, float], float]:
    """Run one layer; returns its report dict and the wall seconds SCALE-Sim took."""
    res, secs = run_scalesim_layers([layer], out_dir=out_dir, **kwargs)  # type: ignore[arg-type]
    return res[0], secs
