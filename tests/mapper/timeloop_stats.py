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
