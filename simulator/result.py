"""``SimResult``: the per-layer table every fidelity returns, with documented columns.

May import: ``workloads``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from acceldse.workloads.errors import SpecError

COLUMNS: dict[str, str] = {
    "layer": "layer name",
    "op": "conv | gemm | matmul | pool | eltwise",
    "dataflow": "os | ws | is",
    "macs": "multiply-accumulates of the layer",
    "total_cycles": "cycles from the first DRAM request to the last write-back (compute + stalls)",
    "compute_cycles": "cycles the array is busy: folds x cycles per fold",
    "stall_cycles": "total_cycles - compute_cycles (waiting for memory)",
    "folds": "operand-matrix blocks mapped onto the array, over all groups",
    "mapping_efficiency": "mean over folds of used PEs / all PEs (fraction)",
    "compute_utilization": "macs / (compute_cycles x PEs) (fraction)",
    "utilization": "macs / (total_cycles x PEs) (fraction)",
    "sram_reads_ifmap": "ifmap words read from SRAM into the array",
    "sram_reads_filter": "filter words read from SRAM into the array",
    "sram_writes_ofmap": "ofmap words (incl. partial sums) written to SRAM",
    "sram_reads_ofmap": "partial-sum words read back from SRAM for accumulation",
    "dram_reads_ifmap": "ifmap words fetched from DRAM",
    "dram_reads_filter": "filter words fetched from DRAM",
    "dram_writes_ofmap": "ofmap words (and spilled partial sums) written to DRAM",
    "dram_reads_ofmap": "spilled partial-sum words read back from DRAM",
    "sram_bytes": "bytes moved between SRAM and the array",
    "dram_bytes": "bytes moved between DRAM and SRAM",
    "energy_mac_pj": "MAC energy (pJ)",
    "energy_sram_pj": "SRAM energy: array traffic plus DRAM fills and drains (pJ)",
    "energy_dram_pj": "DRAM energy (pJ)",
    "energy_pj": "total energy (pJ)",
    "latency_us": "total_cycles at the hardware clock (microseconds)",
    # fidelity- and mode-specific columns
    "measured_utilization": "cycle fidelity: useful PE-cycles counted cycle by cycle / (cycles x PEs)",
    "stall_bandwidth_cycles": "event fidelity: idle array cycles waiting for bytes on the link (incl. contention)",
    "stall_latency_cycles": "event fidelity: idle array cycles covered by tier latency",
    "stall_capacity_cycles": "event fidelity: idle array cycles the DMA waited for a free buffer half",
    "stall_contention_cycles": "event fidelity: cycles the slowest core lost to other cores on the link",
    "cores": "event fidelity: arrays the layer's folds were dealt to",
    "weight_tier": "event fidelity: tier the layer's weights live in",
    "stall_staging_cycles": "event fidelity: cycles the layer waited for its staged weights",
    "total_cycles_incl_prefetch": "compat scalesim: SCALE-Sim's 'Total Cycles (incl. prefetch)'",
}
"""Column name -> meaning and unit. The same names appear in the API, CLI, CSV and Parquet."""

SUM_COLUMNS = ("macs", "total_cycles", "compute_cycles", "stall_cycles", "folds", "sram_reads_ifmap",
               "sram_reads_filter", "sram_writes_ofmap", "sram_reads_ofmap", "dram_reads_ifmap",
               "dram_reads_filter", "dram_writes_ofmap", "dram_reads_ofmap", "sram_bytes", "dram_bytes",
               "energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_pj", "latency_us")


_ACCESSORS: dict[str, Callable[[SimResult], Any]] = {}


def register_accessor(name: str, factory: Callable[[SimResult], Any]) -> None:
    """Attach ``result.<name>`` from a higher package (``acceldse.plots`` registers ``plot``)."""
    _ACCESSORS[name] = factory


@dataclass
class SimResult:
    """Per-layer results (one row per layer and dataflow) plus run metadata.

    Attributes:
        layers: the per-layer DataFrame (columns documented in ``COLUMNS``).
        workload: network name. hardware: accelerator name. fidelity: analytical | event | cycle.
        pes: processing elements of the array (for utilisation of the totals).
        area_mm2: accelerator area.
        extra: fidelity-specific data (e.g. a trace).
    """

    layers: pd.DataFrame
    workload: str
    hardware: str
    fidelity: str
    pes: int
    area_mm2: float = 0.0
    compat: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def totals(self) -> pd.DataFrame:
        """One row per dataflow: summed counts and cycles, MAC-weighted utilisation."""
        df = self.layers
        present = [c for c in SUM_COLUMNS if c in df.columns]
        grouped = df.groupby("dataflow", sort=False)[present].sum()
        grouped["utilization"] = grouped["macs"] / (grouped["total_cycles"] * self.pes)
        if "compute_cycles" in grouped:
            grouped["compute_utilization"] = grouped["macs"] / (grouped["compute_cycles"] * self.pes)
        grouped["area_mm2"] = self.area_mm2
        return grouped.reset_index()

    @property
    def plot(self) -> Any:
        """Figures of this result: ``result.plot.roofline()``, ``result.plot.breakdown()`` (``acceldse.plots``)."""
        if "plot" not in _ACCESSORS:
            raise AttributeError("result.plot is provided by acceldse.plots: import acceldse first")
        return _ACCESSORS["plot"](self)

    def save(self, path: str | Path) -> Path:
        """Write the per-layer table as CSV or Parquet (chosen by the file suffix)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet", ".pq"):
            raise SpecError("unknown output format", source="--out", value=str(path),
                            accepted="a .csv or .parquet path")
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            self.layers.to_csv(path, index=False)
        else:
            self.layers.to_parquet(path, index=False)
        return path
