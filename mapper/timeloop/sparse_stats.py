"""Print a ``mapper.sparse.SparseResult`` the way Sparseloop's ``timeloop-model.stats.txt`` does.

Levels innermost first (``Level 0`` the compute unit under its own name, storage levels numbered as
Timeloop numbers them, a pure fan-out level numbered but not printed); per tensor a level keeps:
its tile shape, the largest utilised data and metadata capacity (per rank, ``(metadata, payload)``),
its representation format, algorithmic / actual / gated / skipped scalar reads, fills and updates
per instance, actual / gated / skipped format (metadata) accesses per rank and the energy;
then ``Summary Stats`` with cycles, energy and fJ per algorithmic and per actual compute.
The labels are Sparseloop's, so a script that reads Sparseloop's stats reads these.
"""

from __future__ import annotations

from acceldse.mapper.sparse import SparseResult
from acceldse.simulator.specs.hierarchy import Hierarchy

_KIND = {"random": "Actual", "gated": "Gated", "skipped": "Skipped"}


def _f(label: str, value: object) -> str:
    return f"        {label:<60}: {value}"


def _ranks(pairs: list[tuple[int, int]], *, spaced: bool) -> list[str]:
    sep = ",  " if spaced else ", "
    return [f"            Rank {r} (metadata, payload): ({md}{sep}{pl})"
            for r, (md, pl) in reversed(list(enumerate(pairs)))]


def format_sparse_stats(result: SparseResult, hierarchy: Hierarchy, tensor_order: list[str]) -> str:
    """Sparseloop-style statistics text for ``result`` (``tensor_order``: the problem's tensor names
    in the order Timeloop prints them)."""
    out = ["Buffer and Arithmetic Levels", "----------------------------", "Level 0", "-------",
           f"=== {hierarchy.compute.name} ===", "", "    STATS", "    -----",
           f"    Cycles                       : {result.compute_cycles}",
           f"    Algorithmic Computes (total) : {result.algorithmic_computes}",
           f"    Actual Computes (total)      : {result.actual_computes}",
           f"    Gated Computes (total)       : {result.gated_computes}",
           f"    Skipped Computes (total)     : {result.skipped_computes}",
           f"    Energy (total)               : {result.mac_energy_pj:.2f} pJ", ""]
    per_level: dict[str, float] = {}
    for i in reversed(range(hierarchy.num_levels)):
        lv = hierarchy.levels[i]
        if not lv.keeps:
            continue
        leak = result.leakage_pj_by_level.get(lv.name, 0.0)
        out += [f"Level {hierarchy.num_levels - i}", "-------", f"=== {lv.name} ===", "", "    SPECS", "    -----",
                f"        Leakage energy (total)          : {leak:.2f} pJ", "", "    STATS", "    -----",
                f"    Cycles               : {result.level_cycles.get(lv.name, result.cycles)}"]
        total = leak
        for name in tensor_order:
            t = result.tensors.get((lv.name, name))
            if t is None:
                continue
            total += t.energy_pj
            out += [f"    {name}:", _f("Data tile shape", t.shape),
                    _f("Max utilized data storage capacity", t.data_capacity),
                    _f("Representation format", " ".join(f.lower() for f in t.formats) + " " if t.formats else "none")]
            if t.metadata_capacity:
                out += [f"        {'Max utilized Repr format storage capacity':<60}",
                        *_ranks(t.metadata_capacity, spaced=False)]
            for action in ("read", "fill", "update"):
                out.append(_f(f"Algorithmic scalar {action}s (per-instance)", t.algorithmic[action]))
                for kind, label in _KIND.items():
                    out.append(_f(f"{label} scalar {action}s (per-instance)", t.accesses[(kind, action)]))
            for action in ("read", "fill", "update"):
                for kind, label in _KIND.items():
                    pairs = t.format_accesses[(kind, action)]
                    if any(md or pl for md, pl in pairs):
                        out += [f"        {label + ' scalar format ' + action + 's (per-instance)':<60}",
                                *_ranks(pairs, spaced=True)]
            out.append(_f("Energy (total)", f"{t.energy_pj:.2f} pJ"))
        per_level[lv.name] = total
        out.append("")
    energy = result.energy_pj
    out += ["Summary Stats", "-------------", f"Cycles: {result.cycles}", f"Energy: {energy / 1e6:.2f} uJ", "",
            f"Algorithmic Computes = {result.algorithmic_computes}", "fJ/Algorithmic-Compute",
            f"    {hierarchy.compute.name:<26} = {1e3 * result.mac_energy_pj / result.algorithmic_computes:.2f}"]
    out += [f"    {name:<26} = {1e3 * pj / result.algorithmic_computes:.2f}" for name, pj in per_level.items()]
    out += [f"    {'Total':<26} = {1e3 * energy / result.algorithmic_computes:.2f}", "",
            f"Actual Computes = {result.actual_computes}", "fJ/Compute"]
    if result.actual_computes:
        out += [f"    {hierarchy.compute.name:<26} = {1e3 * result.mac_energy_pj / result.actual_computes:.2f}"]
        out += [f"    {name:<26} = {1e3 * pj / result.actual_computes:.2f}" for name, pj in per_level.items()]
        out += [f"    {'Total':<26} = {1e3 * energy / result.actual_computes:.2f}"]
    return "\n".join(out) + "\n"
