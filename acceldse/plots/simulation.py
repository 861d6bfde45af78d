"""Figures of one simulation (a ``SimResult``): the roofline and the per-layer breakdown, and
``result.plot``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from acceldse.plots.figures import axes_or_new, set_scales
from acceldse.plots.traces import timeline
from acceldse.workloads.errors import SpecError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from acceldse.simulator.result import SimResult
    from acceldse.simulator.specs.accelerator import Accelerator


def _accelerator(result: SimResult, hardware: Accelerator | None) -> Accelerator:
    acc = hardware or result.extra.get("accelerator")
    if acc is None:
        from acceldse.simulator.specs.presets import load_hardware

        acc = load_hardware(result.hardware)
    return acc


def roofline_data(result: SimResult, hardware: Accelerator | None = None) -> tuple[pd.DataFrame, float, float]:
    """Per MAC layer: ``intensity`` (ops per DRAM byte) and ``attained`` (ops per cycle); and the
    compute roof of the whole chip (2 x PEs of all cores, ops/cycle) and the DRAM bandwidth roof
    (bytes/cycle)."""
    acc = _accelerator(result, hardware)
    layers = result.layers[(result.layers["macs"] > 0) & (result.layers["dram_bytes"] > 0)]
    ops = 2.0 * layers["macs"].to_numpy(dtype=float)
    data = pd.DataFrame({"layer": layers["layer"].to_numpy(), "op": layers["op"].to_numpy(),
                         "dataflow": layers["dataflow"].to_numpy(),
                         "intensity": ops / layers["dram_bytes"].to_numpy(dtype=float),
                         "attained": ops / layers["total_cycles"].to_numpy(dtype=float)})
    bandwidth = max(acc.dram.read_bw_bytes_per_cycle, acc.dram.write_bw_bytes_per_cycle)
    return data, 2.0 * result.pes, float(bandwidth)


def ridges(result: SimResult, hardware: Accelerator | None = None) -> dict[int, float]:
    """Ridge point (ops per DRAM byte where the compute roof meets the bandwidth roof) per core
    count: all the chip's cores and one core (a layer left of a ridge is memory-bound there)."""
    acc = _accelerator(result, hardware)
    _, peak, bandwidth = roofline_data(result, acc)
    return {cores: peak * cores / acc.cores / bandwidth for cores in sorted({acc.cores, 1}, reverse=True)}


def roofline(result: SimResult, hardware: Accelerator | None = None, *, ax: Axes | None = None,
             figsize: tuple[float, float] | None = None, hue: str = "dataflow", label_top: int = 5) -> Axes:
    """Each layer's attained throughput against its arithmetic intensity, under the compute roof
    (2 ops per PE per cycle, all cores) and the bandwidth roof (intensity x DRAM bytes/cycle), with
    the ridge point of each core count drawn and labelled (multi-core chips: all cores and one).

    Args:
        hue: colour the layers by ``dataflow``, ``op`` or ``layer``.
        label_top: name the layers with the lowest attained throughput.
    """
    acc = _accelerator(result, hardware)
    data, peak, bandwidth = roofline_data(result, acc)
    if hue not in data.columns:
        raise SpecError("unknown hue", source="hue", value=hue, accepted="dataflow, op or layer")
    ax = axes_or_new(ax, figsize)
    ridge = ridges(result, acc)
    lo = min(data["intensity"].min() / 2, min(ridge.values()) / 10) if len(data) else 0.1
    hi = max(data["intensity"].max() * 2, max(ridge.values()) * 10) if len(data) else 100.0
    x = np.geomspace(lo, hi, 200)
    ax.plot(x, np.minimum(peak, x * bandwidth), color="black", lw=1.5, label="roofline")
    ax.axhline(peak, color="tab:red", ls="--", lw=1, label=f"compute roof {peak:,.0f} ops/cycle")
    ax.plot(x, x * bandwidth, color="tab:blue", ls="--", lw=1, label=f"DRAM roof {bandwidth:g} B/cycle")
    for cores, at in ridge.items():
        roof = at * bandwidth
        if cores != acc.cores:
            ax.plot([lo, hi], [roof, roof], color="tab:red", ls=":", lw=1)
        ax.axvline(at, color="0.4", ls=":", lw=1)
        value = f"{at:,.0f}" if at >= 100 else f"{at:.3g}"
        ax.annotate(f"ridge, {cores} core{'s' * (cores != 1)}: {value} ops/B", (at, roof), fontsize=7,
                    rotation=90, xytext=(3, -4), textcoords="offset points", ha="left", va="top", color="0.3")
    for name, part in data.groupby(hue, sort=False):
        ax.scatter(part["intensity"], part["attained"], s=18, label=f"{name}", zorder=3)
    for (x_at, y_at), names in _labels_at(data.nsmallest(label_top, "attained")).items():
        ax.annotate(names, (x_at, y_at), fontsize=7, xytext=(3, -8), textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="arithmetic intensity (ops / DRAM byte)",
           ylabel="attained (ops / cycle)", ylim=(max(data["attained"].min() / 3, 1e-3) if len(data) else 1e-3,
                                                 peak * 2),
           title=f"roofline: {result.workload} on {result.hardware} ({result.fidelity})")
    ax.legend(fontsize=7, loc="lower right", title=hue, title_fontsize=7)
    return ax


def _labels_at(rows: pd.DataFrame) -> dict[tuple[float, float], str]:
    """One label per drawn position: layers at the same point share it (``encoder.0.attn.q, k, v``)."""
    out: dict[tuple[float, float], list[str]] = {}
    for layer, x_at, y_at in zip(rows["layer"], rows["intensity"], rows["attained"]):
        out.setdefault((float(f"{x_at:.3g}"), float(f"{y_at:.3g}")), []).append(str(layer))  # would overprint
    def label(names: list[str]) -> str:
        if len({n.rsplit(".", 1)[0] for n in names}) == 1:  # one block: its layers by their last part
            return ", ".join([names[0], *(n.rsplit(".", 1)[-1] for n in names[1:])])
        return f"{names[0]} (+{len(names) - 1} more)"

    return {at: label(names) for at, names in out.items()}


BREAKDOWN_PARTS = ("cycles", "energy")


def breakdown(result: SimResult, dataflow: str | None = None, *, ax: Any = None,
              figsize: tuple[float, float] | None = None, what: str = "both", logy: bool = False) -> Any:
    """Per layer: compute vs stall cycles and MAC / SRAM / DRAM energy, stacked.

    Args:
        dataflow: the dataflow to show; required when the result holds several.
        what: ``cycles``, ``energy`` or ``both`` (two Axes, one above the other).
        ax: an Axes (``cycles`` or ``energy``) or a pair of Axes (``both``).

    Returns:
        the Axes, or for ``both`` an array of the two.
    """
    layers = result.layers
    flows = list(dict.fromkeys(layers["dataflow"]))
    if dataflow is None:
        if len(flows) > 1:
            raise SpecError("the result holds several dataflows: name one", source="dataflow", value=None,
                            accepted=" | ".join(flows))
        dataflow = flows[0]
    rows = layers[layers["dataflow"] == dataflow]
    if rows.empty:
        raise SpecError("no rows for this dataflow", source="dataflow", value=dataflow, accepted=" | ".join(flows))
    if what not in (*BREAKDOWN_PARTS, "both"):
        raise SpecError("unknown part", source="what", value=what, accepted="cycles | energy | both")
    parts = BREAKDOWN_PARTS if what == "both" else (what,)
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(len(parts), 1, figsize=figsize or (max(7.0, 0.22 * len(rows)), 3.0 * len(parts)),
                               sharex=True, constrained_layout=True, squeeze=False)
        axes = axes[:, 0]
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object))
        if len(axes) != len(parts):
            raise SpecError(f"needs {len(parts)} Axes", source="ax", value=len(axes),
                            accepted="one Axes for what='cycles' or 'energy', two for what='both'")
    x = np.arange(len(rows))
    for part, a in zip(parts, axes):
        if part == "cycles":
            a.bar(x, rows["compute_cycles"], label="compute", color="tab:green")
            a.bar(x, rows["stall_cycles"], bottom=rows["compute_cycles"], label="stall", color="tab:red")
            a.set(ylabel="cycles")
        else:
            base = np.zeros(len(rows))
            for col, color in (("energy_mac_pj", "tab:purple"), ("energy_sram_pj", "tab:orange"),
                               ("energy_dram_pj", "tab:brown")):
                a.bar(x, rows[col], bottom=base, label=col.removeprefix("energy_").removesuffix("_pj"), color=color)
                base = base + rows[col].to_numpy(dtype=float)
            a.set(ylabel="energy (pJ)")
        set_scales(a, False, logy)
        a.legend(fontsize=7)
    axes[0].set_title(f"{result.workload} on {result.hardware} ({dataflow}, {result.fidelity})")
    axes[-1].set_xticks(x, rows["layer"], rotation=90, fontsize=6)
    return axes if what == "both" else axes[0]


class ResultPlots:
    """``SimResult.plot``: ``result.plot.roofline()``, ``.breakdown(dataflow)``, ``.timeline()``
    (an event run with ``trace=True``); each takes the keyword arguments of the function it calls."""

    def __init__(self, result: SimResult) -> None:
        self._result = result

    def roofline(self, hardware: Accelerator | None = None, **kwargs: Any) -> Axes:
        return roofline(self._result, hardware, **kwargs)

    def breakdown(self, dataflow: str | None = None, **kwargs: Any) -> Any:
        return breakdown(self._result, dataflow, **kwargs)

    def timeline(self, **kwargs: Any) -> Axes:
        trace = self._result.extra.get("trace")
        if trace is None:
            raise SpecError("this result has no trace", source="timeline",
                            accepted="acceldse.simulate(..., fidelity='event', trace=True), or a trace JSON file")
        return timeline(trace, **kwargs)


__all__ = ["BREAKDOWN_PARTS", "ResultPlots", "breakdown", "ridges", "roofline", "roofline_data"]
