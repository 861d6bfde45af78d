"""Print a cost result the way Timeloop's ``timeloop-model.stats.txt`` does.

Levels innermost first: ``Level 0`` is the compute component under its own name (``=== mac ===``,
``=== MACC ===``), then every storage level numbered as Timeloop numbers it (innermost 1; a
pure fan-out ``dummy_storage`` level takes a number but is not printed, a level that keeps
nothing under this mapping is printed without tensors). Per kept tensor (under the problem's
tensor names and in its tensor order when given: ``Weights``, or ``A``/``B``/``Z``) the utilised capacity and instances,
scalar reads / fills / updates per instance and the total energy; per level the cycles and
leakage; then ``Summary Stats`` with cycles, energy (uJ), utilisation and fJ per compute by
level. Figures use Timeloop's labels so that scripts which read Timeloop's stats (e.g.
``../shared/tools/timeloop/compare_stats.py``) read these too.
"""

from __future__ import annotations

from acceldse.mapper.cost import CostResult
from acceldse.simulator.specs.hierarchy import DATASPACES, Hierarchy

_LABEL = {"inputs": "Inputs", "weights": "Weights", "outputs": "Outputs"}


def _field(label: str, value: object) -> str:
    return f"        {label:<41}: {value}"


def format_stats(result: CostResult, hierarchy: Hierarchy, tensor_names: dict[str, str] | None = None) -> str:
    """Timeloop-style statistics text for ``result`` (from ``mapper.cost.evaluate``); ``tensor_names``
    maps our dataspaces to the problem's tensor names (``TimeloopSpec.tensor_names``)."""
    label = {**_LABEL, **(tensor_names or {})}
    order = [*(tensor_names or {}), *(ds for ds in DATASPACES if ds not in (tensor_names or {}))]
    out = ["Buffer and Arithmetic Levels", "----------------------------", "Level 0", "-------",
           f"=== {hierarchy.compute.name} ===", "",
           "    STATS", "    -----",
           f"    Utilized instances      : {result.utilised_pes}",
           f"    Computes (total)        : {result.macs}",
           f"    Cycles                  : {result.cycles}",
           f"    Energy (total)          : {result.mac_energy_pj:.2f} pJ", ""]
    rows = result.counts.set_index(["level", "dataspace"])
    leak_by_level = result.leakage_pj_by_level
    per_level_pj: dict[str, float] = {}
    for lvl in reversed(range(hierarchy.num_levels)):
        lv = hierarchy.levels[lvl]
        if not lv.keeps:  # a pure fan-out (dummy_storage): numbered, not printed
            continue
        kept = [ds for ds in order if (lv.name, ds) in rows.index]
        out += [f"Level {hierarchy.num_levels - lvl}", "-------", f"=== {lv.name} ===", "", "    SPECS", "    -----",
                f"        Instances                       : {hierarchy.total_instances(lvl)}",
                f"        Block size                      : {lv.block_size}",
                f"        Cluster size                    : {lv.cluster_size}",
                f"        Leakage energy (total)          : {leak_by_level[lv.name]:.2f} pJ", "",
                "    STATS", "    -----", f"    Cycles               : {result.cycles}"]
        total = leak_by_level[lv.name]
        for ds in kept:
            r = rows.loc[(lv.name, ds)]
            total += float(r.energy_pj)
            out += [f"    {label[ds]}:", _field("Utilized capacity", int(r.tile_words)),
                    _field("Utilized instances (max)", int(r.instances)),
                    _field("Scalar reads (per-instance)", int(r.reads)),
                    _field("Scalar fills (per-instance)", int(r.fills)),
                    _field("Scalar updates (per-instance)", int(r.updates)),
                    _field("Energy (total)", f"{float(r.energy_pj):.2f} pJ")]
        per_level_pj[lv.name] = total
        out.append("")
    utilisation = 100.0 * result.macs / (result.cycles * hierarchy.num_macs)
    out += ["Summary Stats", "-------------", f"Utilization: {utilisation:.2f}%", f"Cycles: {result.cycles}",
            f"Energy: {result.energy_pj / 1e6:.2f} uJ", "", f"Computes = {result.macs}", "fJ/Compute",
            f"    {hierarchy.compute.name:<46}= {1e3 * result.mac_energy_pj / result.macs:.2f}"]
    for name, pj in per_level_pj.items():
        out.append(f"    {name:<46}= {1e3 * pj / result.macs:.2f}")
    out.append(f"    {'Total':<46}= {1e3 * result.energy_pj / result.macs:.2f}")
    return "\n".join(out) + "\n"
