"""``SimResult``: the per-layer table every fidelity returns, with documented columns.

May import: ``workloads``, ``simulator.specs`` (the hardware spec of a loaded result)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS: dict[str, str] = {
    "layer": "layer name",
    "op": "conv | gemm | matmul | pool | eltwise",
    "dataflow": "os | ws | is",
    "macs": "multiply-accumulates of the layer (performed ones: without those an N:M ratio skips)",
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
    "filter_storage_words": "compat scalesim with sparsity: SPARSE_REPORT's original filter storage (words)",
    "filter_storage_sparse_words": "compat scalesim with sparsity: SPARSE_REPORT's new filter storage (words)",
    "filter_metadata_words": "compat scalesim with sparsity: SPARSE_REPORT's filter metadata storage (words)",
    "filter_metadata_sram_bw_words_per_cycle": "compat scalesim with sparsity: BANDWIDTH_REPORT's metadata "
                                               "SRAM bandwidth (words/cycle)",
    "macs_skipped": "N:M weight sparsity: MACs on pruned weights, skipped (macs counts the performed ones)",
    "weight_metadata_bytes": "N:M weight sparsity: position metadata of the kept weights, ceil(log2 M) bits each",
}
"""Column name -> meaning and unit. The same names appear in the API, CLI, CSV and Parquet."""

SUM_COLUMNS = ("macs", "total_cycles", "compute_cycles", "stall_cycles", "folds", "sram_reads_ifmap",
               "sram_reads_filter", "sram_writes_ofmap", "sram_reads_ofmap", "dram_reads_ifmap",
               "dram_reads_filter", "dram_writes_ofmap", "dram_reads_ofmap", "sram_bytes", "dram_bytes",
               "energy_mac_pj", "energy_sram_pj", "energy_dram_pj", "energy_pj", "latency_us")
SPARSE_SUM_COLUMNS = ("macs_skipped", "weight_metadata_bytes", "filter_storage_words", "filter_storage_sparse_words",
                      "filter_metadata_words")
"""Summed in ``totals`` too when present (tables of sparse layers)."""



class Table(dict[str, np.ndarray]):
    """A table as plain columns: name -> 1-D array, every column one row per layer (and dataflow).

    What the models return and the command line prints, without pandas (importing it costs more CPU
    than simulating a network); ``frame()`` is the same table as a DataFrame.
    """

    @classmethod
    def of(cls, table: Table | pd.DataFrame) -> Table:
        """``table`` as a ``Table`` (a DataFrame's columns as arrays)."""
        if isinstance(table, Table):
            return table
        return cls({str(c): table[c].to_numpy() for c in table.columns})

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.values()))) if self else 0

    def records(self, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The rows as dicts of Python values (``columns``, in that order: those present), like pandas'
        ``to_dict(orient="records")``."""
        names = [c for c in (self if columns is None else columns) if c in self]
        return [dict(zip(names, row)) for row in zip(*(self[c].tolist() for c in names))]

    def frame(self, index: list[Any] | None = None) -> pd.DataFrame:
        """The table as a DataFrame (``index``: row labels, default 0, 1, ...): the columns pandas makes of the
        arrays, numbers as one block per dtype (one construction, without its per-column inference)."""
        import pandas as pd

        n, (make, text) = self.n_rows, _block_api()
        blocks: dict[Any, list[int]] = {}
        cols = list(self.values())
        for i, col in enumerate(cols):
            kind = col.dtype.kind if col.ndim == 1 and len(col) == n else "?"
            blocks.setdefault(col.dtype if kind in "iufb" else i if kind == "U" else None, []).append(i)
        rows = pd.RangeIndex(n) if index is None else pd.Index(index)
        if make is None or text is None or None in blocks or not cols or len(rows) != n:
            return pd.DataFrame(dict(self), index=None if index is None else rows)
        return make([(text(cols[at[0]]), np.array(at)) if isinstance(key, int)
                     else (np.array([cols[j] for j in at]), np.array(at)) for key, at in blocks.items()],
                    rows, _column_index(tuple(self)))


@functools.cache
def _block_api() -> tuple[Callable[..., pd.DataFrame] | None, Callable[[np.ndarray], Any] | None]:
    """pandas' constructor from blocks and how to make the array pandas makes of a column of text (its
    pyarrow string dtype); (None, None) where either is missing (tables are then made by ``pd.DataFrame``)."""
    import pandas as pd
    import pyarrow as pa

    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pragma: no cover - pandas < 2.3
        return None, None
    text = pd.Series(np.array(["a"])).dtype
    if not isinstance(text, pd.StringDtype) or text.storage != "pyarrow":
        return None, None
    return create_dataframe_from_blocks, lambda col: pd.arrays.ArrowStringArray(
        pa.array(col, type=pa.large_string()), dtype=text)


@functools.lru_cache(maxsize=64)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The column labels of a table (an index is immutable: made once per list of names)."""
    import pandas as pd

    return pd.Index(names)


def segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of ``values`` over the runs of rows beginning at ``starts`` (increasing), in row order.

    ``np.add.reduceat``: the sum pandas' ``groupby(...).sum()`` takes when each group's rows are
    contiguous, so totals made here equal a DataFrame's group sums to the last bit."""
    return np.add.reduceat(values, starts) if len(values) else np.zeros(0, dtype=values.dtype)


def dataflow_totals(table: Table, pes: int, area_mm2: float) -> Table:
    """One row per dataflow (first-seen order) of a per-layer ``table``: ``dataflow``, the summed
    counts and cycles (``SUM_COLUMNS`` and ``SPARSE_SUM_COLUMNS`` present), ``utilization`` (MACs over
    all PE-cycles), ``compute_utilization`` and ``area_mm2``: the columns of ``SimResult.totals``."""
    flows = np.asarray(table["dataflow"])
    present = [c for c in SUM_COLUMNS + SPARSE_SUM_COLUMNS if c in table]
    starts = np.flatnonzero(np.r_[True, flows[1:] != flows[:-1]]) if len(flows) else np.zeros(0, dtype=np.intp)
    names = flows[starts].tolist()
    if len(set(names)) != len(names) or any(np.isnan(table[c]).any() for c in present if table[c].dtype.kind == "f"):
        # interleaved dataflows or NaN: pandas' own group sum
        out = Table.of(table.frame().groupby("dataflow", sort=False)[present].sum().reset_index())
    else:
        out = Table(dataflow=np.array(names, dtype=object))
        for c in present:
            out[c] = segment_sums(np.asarray(table[c]), starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilization"] = out["macs"] / (out["total_cycles"] * pes)
        if "compute_cycles" in out:
            out["compute_utilization"] = out["macs"] / (out["compute_cycles"] * pes)
    out["area_mm2"] = np.full(out.n_rows, area_mm2, dtype=np.float64)
    return out


_ACCESSORS: dict[str, Callable[[SimResult], Any]] = {}


def register_accessor(name: str, factory: Callable[[SimResult], Any]) -> None:
    """Attach ``result.<name>`` from a higher package (``acceldse.plots`` registers ``plot``)."""
    _ACCESSORS[name] = factory


@dataclass
class SimResult:
    """Per-layer results (one row per layer and dataflow) plus run metadata.

    Attributes:
        table: the per-layer table as plain columns (``Table``; columns documented in ``COLUMNS``);
            ``layers`` is the same table as a DataFrame.
        workload: network name. hardware: accelerator name. fidelity: analytical | event | cycle.
        pes: processing elements of the array, all cores (for utilization of the totals).
        area_mm2: accelerator area.
        compat: the peer tool whose numbers these are (``scalesim``), or ``None``.
        params: the workload's resolved parameters (a zoo network's defaults included).
        extra: fidelity-specific data: ``accelerator`` (the hardware spec), ``trace`` (event runs
            with ``trace=True``).
    """

    table: Table = field(repr=False)
    workload: str
    hardware: str
    fidelity: str
    pes: int
    area_mm2: float = 0.0
    compat: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def layers(self) -> pd.DataFrame:
        """The per-layer DataFrame (``table`` as pandas, made on first use; columns in ``COLUMNS``)."""
        return self.table.frame()

    @property
    def total_table(self) -> Table:
        """``totals`` as plain columns (``dataflow_totals`` of ``table``)."""
        return dataflow_totals(self.table, self.pes, self.area_mm2)

    @property
    def totals(self) -> pd.DataFrame:
        """One row per dataflow, indexed by dataflow (``totals.loc["ws", "total_cycles"]``; the
        ``dataflow`` column stays for export): summed counts and cycles, MAC-weighted utilization."""
        totals = self.total_table
        return totals.frame(index=totals["dataflow"].tolist())

    @property
    def context(self) -> dict[str, Any]:
        """What the numbers belong to: workload, parameters, hardware (name and full spec), fidelity,
        compat mode, PEs and area (``save`` stores it with the table; ``load_result`` reads it back)."""
        acc = self.extra.get("accelerator")
        return {"workload": self.workload, "params": dict(self.params), "hardware": self.hardware,
                "hardware_spec": acc.to_dict() if acc is not None else self.extra.get("hardware_spec"),
                "fidelity": self.fidelity, "compat": self.compat, "pes": self.pes, "area_mm2": self.area_mm2,
                "acceldse_version": _version()}

    def _header(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        mode = f"compat={self.compat}" if self.compat else self.fidelity
        rows = self.table.n_rows
        return (f"{self.workload}{f' ({params})' if params else ''} on {self.hardware} ({mode}): "
                f"{rows} layer row{'s' * (rows != 1)}, {self.pes:,} PEs, {self.area_mm2:.3g} mm²")

    _SHOWN = ("total_cycles", "stall_cycles", "utilization", "dram_bytes", "energy_pj", "latency_us")

    def _shown_totals(self) -> pd.DataFrame:
        totals = self.totals
        return totals[[c for c in self._SHOWN if c in totals.columns]]

    def __repr__(self) -> str:
        return f"SimResult: {self._header()}\n{self._shown_totals().to_string()}"

    def _repr_markdown_(self) -> str:
        return f"**SimResult**: {self._header()}\n\n{markdown_table(self._shown_totals())}"

    def _repr_html_(self) -> str:
        from html import escape

        return (f"<p><b>SimResult</b>: {escape(self._header())}</p>{self._shown_totals().to_html()}"
                "<p><code>.layers</code>: per-layer table, <code>.totals</code>: per dataflow, "
                "<code>.plot</code>: figures</p>")

    @property
    def plot(self) -> Any:
        """Figures of this result: ``result.plot.roofline()``, ``result.plot.breakdown()`` (``acceldse.plots``)."""
        if "plot" not in _ACCESSORS:
            raise AttributeError("result.plot is provided by acceldse.plots: import acceldse first")
        return _ACCESSORS["plot"](self)

    def save(self, path: str | Path) -> Path:
        """Write the per-layer table as CSV or Parquet (chosen by the file suffix) with its ``context``:
        in the Parquet file's metadata, or beside a CSV file as ``<name>.json``. ``load_result``
        reads both back."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet", ".pq"):
            raise SpecError("unknown output format", source="path", value=str(path),
                            accepted="a .csv or .parquet path")
        path.parent.mkdir(parents=True, exist_ok=True)
        context = json.dumps(self.context, default=str)
        if suffix == ".csv":
            self.layers.to_csv(path, index=False)
            sidecar_path(path).write_text(context)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.layers, preserve_index=False)
            meta = {**(table.schema.metadata or {}), CONTEXT_KEY: context.encode()}
            pq.write_table(table.replace_schema_metadata(meta), path)
        return path


CONTEXT_KEY = b"acceldse.context"
"""Parquet metadata key of a saved result's context (JSON)."""


def sidecar_path(path: Path) -> Path:
    """Where a CSV result's context is kept: ``r50.csv`` -> ``r50.json``."""
    return path.with_suffix(".json")


def load_result(path: str | Path) -> SimResult:
    """A ``SimResult`` saved with ``save``: the per-layer table and its context (workload,
    parameters, hardware spec, fidelity). A table without context raises a ``SpecError``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq") or not path.is_file():
        raise SpecError("no saved result here", source="path", value=str(path),
                        accepted="a .csv or .parquet file written by SimResult.save")
    if suffix == ".csv":
        side = sidecar_path(path)
        if not side.is_file():
            raise SpecError(f"no context file {side.name} beside the CSV", source="path", value=str(path),
                            accepted="a CSV written by SimResult.save (it writes <name>.json beside it)")
        import pandas as pd

        context, layers = json.loads(side.read_text()), pd.read_csv(path)
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(CONTEXT_KEY)
        if raw is None:
            raise SpecError("the Parquet file has no acceldse context", source="path", value=str(path),
                            accepted="a .parquet file written by SimResult.save")
        context, layers = json.loads(raw), table.to_pandas()
    extra: dict[str, Any] = {}
    if context.get("hardware_spec"):
        from acceldse.simulator.specs.accelerator import accelerator_from_dict

        extra["accelerator"] = accelerator_from_dict(context["hardware_spec"], source=f"{path}: hardware_spec")
    return SimResult(table=Table.of(layers), workload=context["workload"], hardware=context["hardware"],
                     fidelity=context["fidelity"], pes=int(context["pes"]), area_mm2=float(context["area_mm2"]),
                     compat=context.get("compat"), params=context.get("params") or {}, extra=extra)


def markdown_table(frame: pd.DataFrame) -> str:
    """A small DataFrame as a Markdown table (index first; numbers with thousands separators)."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    head = ["", *map(str, frame.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for index, row in zip(frame.index, frame.itertuples(index=False)):
        lines.append("| " + " | ".join([str(index), *(cell(v.item() if hasattr(v, "item") else v) for v in row)])
                     + " |")
    return "\n".join(lines)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("acceldse")
    except PackageNotFoundError:
        return "unknown"
