"""Read the figures of a Timeloop / Sparseloop ``*.stats.txt`` (the peer's own output, used as golden).

``parse_stats(text)`` -> ``{"levels": {level: {"cycles": int, "leakage_pj": float,
"dataspaces": {ds: {...}}}}, "mac": {...}, "compute": name, "summary": {...}}`` with, per
dataspace, the utilised capacity and instances, scalar reads / fills / updates (per instance;
Sparseloop's *actual* counts, plus its gated / skipped counts and metadata when printed) and the
total energy in pJ. ``inputs``/``weights``/``outputs`` name Timeloop's conv tensors; any other
tensor keeps its own name (``A``, ``B``, ``Z``).
"""

from __future__ import annotations

import re

_DS = {"Inputs": "inputs", "Weights": "weights", "Outputs": "outputs"}
_FIELDS = {
    "Utilized capacity": ("tile_words", int), "Max utilized data storage capacity": ("tile_words", int),
    "Utilized instances (max)": ("instances", int),
    "Scalar reads (per-instance)": ("reads", int), "Actual scalar reads (per-instance)": ("reads", int),
    "Scalar fills (per-instance)": ("fills", int), "Actual scalar fills (per-instance)": ("fills", int),
    "Scalar updates (per-instance)": ("updates", int), "Actual scalar updates (per-instance)": ("updates", int),
    "Gated scalar reads (per-instance)": ("gated_reads", int),
    "Skipped scalar reads (per-instance)": ("skipped_reads", int),
    "Gated scalar fills (per-instance)": ("gated_fills", int),
    "Skipped scalar fills (per-instance)": ("skipped_fills", int),
    "Gated scalar updates (per-instance)": ("gated_updates", int),
    "Skipped scalar updates (per-instance)": ("skipped_updates", int),
    "Max utilized Repr format storage capacity": ("metadata_words", int),
    "Energy (total)": ("energy_pj", float),
}
_MAC = {"Computes (total)": "Computes (total)", "Actual Computes (total)": "Computes (total)",
        "Algorithmic Computes (total)": "Algorithmic computes", "Gated Computes (total)": "Gated computes",
        "Skipped Computes (total)": "Skipped computes", "Cycles": "Cycles", "Energy (total)": "Energy (total)",
        "Utilized instances": "Utilized instances", "Utilized instances (max)": "Utilized instances"}


def parse_stats(text: str) -> dict:
    levels: dict[str, dict] = {}
    mac: dict[str, float] = {}
    summary: dict[str, float] = {}
    compute = None
    level = ds = None
    in_summary = in_networks = False
    level_no = -1
    for line in text.splitlines():
        if line.startswith("Networks"):
            in_networks, level = True, None
        if line.startswith("Summary Stats"):
            in_networks = False
        if in_networks:
            continue
        m = re.match(r"^Level (\d+)", line)
        if m:
            level_no = int(m.group(1))
            continue
        head = re.match(r"^=== (\S+) ===", line)
        if head:
            level, ds = head.group(1), None
            if level_no == 0:
                compute = level
            else:
                levels[level] = {"dataspaces": {}}
            continue
        if line.startswith("Summary Stats"):
            in_summary, level = True, None
            continue
        if in_summary:
            m = re.match(r"^(Cycles|Energy|Utilization|Computes)\s*[:=]\s*([-0-9.e+]+)", line)
            if m:
                summary[m.group(1)] = float(m.group(2))
            continue
        if level is None:
            continue
        sub = re.match(r"^    (\w+):\s*$", line)
        if sub and level != compute:
            ds = _DS.get(sub.group(1), sub.group(1))
            levels[level]["dataspaces"][ds] = {}
            continue
        m = re.match(r"^\s+([A-Za-z(][^:]*?)\s*:\s*([-0-9.e+]+)", line)
        if not m:
            continue
        label, value = m.group(1), m.group(2)
        if level == compute:
            if label in _MAC:
                mac[_MAC[label]] = float(value)
        elif label == "Leakage energy (total)":
            levels[level]["leakage_pj"] = float(value)
        elif label == "Cycles" and ds is None:
            levels[level]["cycles"] = int(value)
        elif ds is not None and label in _FIELDS:
            name, kind = _FIELDS[label]
            levels[level]["dataspaces"][ds].setdefault(name, kind(float(value)))
    return {"levels": levels, "mac": mac, "summary": summary, "compute": compute}


def parse_sparse_stats(text: str) -> dict:
    """Sparseloop's own figures of a ``*.stats.txt``: ``{"tensors": {(level, tensor): {label: value}},
    "computes": {"actual"|"gated"|"skipped": int}, "cycles": int, "energy_pj": float}``. Per tensor,
    every ``label : value`` line of its block (numbers as int or float, text as is) and, for the
    per-rank lines under a label (format accesses, metadata capacity), ``{rank: (metadata, payload)}``.
    ``energy_pj`` is the summary's total fJ per algorithmic compute x computes (the uJ line rounds
    small runs to 0.00)."""
    body = text.split("\nNetworks")[0]
    tensors: dict[tuple[str, str], dict] = {}
    level = label = None
    block: dict | None = None
    for line in body.splitlines():
        head = re.match(r"^=== (\S+) ===", line)
        if head:
            level, block = head.group(1), None
            continue
        sub = re.match(r"^    (\w+):\s*$", line)
        if sub and level:
            block = tensors.setdefault((level, sub.group(1)), {})
            continue
        if block is None:
            continue
        rank = re.match(r"^\s+Rank (\d+) \(metadata, payload\): \((\d+),\s*(\d+)\)", line)
        if rank and label:
            block.setdefault(label, {})[int(rank.group(1))] = (int(rank.group(2)), int(rank.group(3)))
            continue
        m = re.match(r"^\s+([A-Za-z(][^:]*?)\s*:\s*(\S.*)?$", line) or re.match(r"^\s+([A-Za-z(][^:]*?)\s*$", line)
        if not m:
            continue
        label = m.group(1)
        value = (m.group(2) or "").strip() if m.lastindex and m.lastindex >= 2 else ""
        if value:
            num = re.match(r"^[-0-9.e+]+", value)
            block[label] = (float(num.group(0)) if "." in num.group(0) or "e" in num.group(0) else int(num.group(0))) \
                if num else value
            if "format" in label and "(per-instance)" in label and block[label] == 0:
                block[label] = {}  # Sparseloop prints no metadata accesses as one 0
    summary = text.split("Summary Stats")[1]
    algorithmic = int(re.search(r"Algorithmic Computes = (\d+)", summary).group(1))
    per_compute = float(re.search(r"fJ/Algorithmic-Compute.*?Total\s*=\s*([\d.]+)", summary, re.S).group(1))
    computes = {}
    for kind in ("Actual", "Gated", "Skipped"):
        m = re.search(rf"{kind} Computes \(total\)\s*:\s*(\d+)", text)
        computes[kind.lower()] = int(m.group(1)) if m else 0
    return {"tensors": tensors, "computes": computes, "algorithmic": algorithmic,
            "cycles": int(re.search(r"^Cycles: (\d+)", summary, re.M).group(1)),
            "energy_pj": per_compute * algorithmic / 1e3, "fj_per_compute_total": per_compute}


_KIND = {"random": "Actual", "gated": "Gated", "skipped": "Skipped"}


def sparse_gaps(result, ref: dict) -> list[str]:
    """Every field of Sparseloop's stats (``parse_sparse_stats``) that differs from ours
    (``mapper.sparse.SparseResult``; empty: exact): cycles, actual / gated / skipped computes, fJ per
    algorithmic compute, per level and tensor the algorithmic and actual / gated / skipped reads,
    fills, updates and format accesses per rank, data and metadata capacities, energy to 0.01 pJ."""
    gaps = []

    def check(name, ours, theirs, tol=0.0):
        if ours != theirs and not (tol and abs(ours - theirs) <= tol):
            gaps.append(f"{name}: ours {ours}, Sparseloop {theirs}")

    check("cycles", result.cycles, ref["cycles"])
    for kind in ("actual", "gated", "skipped"):
        check(f"{kind} computes", getattr(result, f"{kind}_computes"), ref["computes"][kind])
    check("algorithmic computes", result.algorithmic_computes, ref["algorithmic"])
    check("fJ per algorithmic compute", round(1e3 * result.energy_pj / result.algorithmic_computes, 2),
          ref["fj_per_compute_total"])
    for (level, tensor), fields in ref["tensors"].items():
        t = result.tensors.get((level, tensor))
        if t is None:
            gaps.append(f"{level}.{tensor}: not kept by us")
            continue
        where = f"{level}.{tensor}"
        for action in ("read", "fill", "update"):
            check(f"{where} algorithmic {action}s", t.algorithmic[action],
                  fields[f"Algorithmic scalar {action}s (per-instance)"])
            for kind, label in _KIND.items():
                check(f"{where} {label.lower()} {action}s", t.accesses[(kind, action)],
                      fields.get(f"{label} scalar {action}s (per-instance)", 0))
                theirs = fields.get(f"{label} scalar format {action}s (per-instance)", {})
                ours = {r: v for r, v in enumerate(t.format_accesses[(kind, action)]) if v != (0, 0)}
                check(f"{where} {label.lower()} format {action}s", ours,
                      {r: v for r, v in theirs.items() if v != (0, 0)})
        check(f"{where} data capacity", t.data_capacity, fields["Max utilized data storage capacity"])
        check(f"{where} metadata capacity", dict(enumerate(t.metadata_capacity)),
              fields.get("Max utilized Repr format storage capacity", {}) or {})
        check(f"{where} energy pJ", round(t.energy_pj, 2), fields["Energy (total)"], tol=0.0100001)
    return gaps


def assert_counts_equal(result, ref: dict, tensor) -> None:
    """Every level's tile words, reads, fills and updates per tensor, the cycles and the MACs equal Timeloop's
    stats; ``tensor`` maps our dataspace name to the name the stats print."""
    ours = {(r.level, tensor(r.dataspace)): (r.tile_words, r.reads, r.fills, r.updates)
            for r in result.counts.itertuples()}
    theirs = {(lv, ds): (f["tile_words"], f["reads"], f["fills"], f["updates"])
              for lv, info in ref["levels"].items() for ds, f in info["dataspaces"].items()}
    assert ours == theirs
    assert result.cycles == ref["summary"]["Cycles"]
    assert result.macs == ref["mac"]["Computes (total)"]
