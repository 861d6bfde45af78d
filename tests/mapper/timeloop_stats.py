"""Read the figures of a Timeloop ``*.stats.txt`` (the peer's own output, used as golden).

``parse_stats(text)`` -> ``{"levels": {level: {"cycles": int, "leakage_pj": float,
"dataspaces": {ds: {...}}}}, "mac": {...}, "summary": {...}}`` with, per dataspace, the
utilised capacity and instances, scalar reads / fills / updates (per instance) and the total
energy in pJ. Dataspace names are ours (inputs / weights / outputs).
"""

from __future__ import annotations

import re

_DS = {"Inputs": "inputs", "Weights": "weights", "Outputs": "outputs"}
_FIELDS = {
    "Utilized capacity": ("tile_words", int), "Utilized instances (max)": ("instances", int),
    "Scalar reads (per-instance)": ("reads", int), "Scalar fills (per-instance)": ("fills", int),
    "Scalar updates (per-instance)": ("updates", int), "Energy (total)": ("energy_pj", float),
}


def parse_stats(text: str) -> dict:
    levels: dict[str, dict] = {}
    mac: dict[str, float] = {}
    summary: dict[str, float] = {}
    level = ds = None
    in_summary = in_networks = False
    for line in text.splitlines():
        if line.startswith("Networks"):
            in_networks, level = True, None
        if line.startswith("Summary Stats"):
            in_networks = False
        if in_networks:
            continue
        head = re.match(r"^=== (\S+) ===", line)
        if head:
            level, ds = head.group(1), None
            if level != "mac":
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
        sub = re.match(r"^    (Inputs|Weights|Outputs):\s*$", line)
        if sub:
            ds = _DS[sub.group(1)]
            levels[level]["dataspaces"][ds] = {}
            continue
        m = re.match(r"^\s+([A-Za-z][^:]*?)\s*:\s*([-0-9.e+]+)", line)
        if not m:
            continue
        label, value = m.group(1), m.group(2)
        if level == "mac":
            if label in ("Computes (total)", "Cycles", "Energy (total)", "Utilized instances"):
                mac[label] = float(value)
        elif label == "Leakage energy (total)":
            levels[level]["leakage_pj"] = float(value)
        elif label == "Cycles" and ds is None:
            levels[level]["cycles"] = int(value)
        elif ds is not None and label in _FIELDS:
            name, kind = _FIELDS[label]
            levels[level]["dataspaces"][ds].setdefault(name, kind(float(value)))
    return {"levels": levels, "mac": mac, "summary": summary}
