"""Make Timeloop goldens beyond the published layers: new layers and new mappings, run by timeloop-model.

    python benchmarks/make_timeloop_golden.py --bin BUILD/install-0fc43fb/bin --exercises EXERCISES
    python benchmarks/make_timeloop_golden.py ... --search            # also (re)search the mappings
    python benchmarks/make_timeloop_golden.py ... --design eyeriss_like --case pointwise_1x1

``--bin``: the ``timeloop-model.sh`` / ``timeloop-mapper.sh`` wrappers built by
``../shared/tools/timeloop/build.sh`` (Timeloop 0fc43fb, the version that reproduces the
exercises' ref_outputs byte for byte). ``--exercises``: a checkout of
github Accelergy-Project/timeloop-accelergy-exercises (2d55108).

For every design and case, the design's published ``parsed-processed-input.yaml`` (architecture,
ERT and ART of its ``ref_outputs/default_problem``) gets the case's problem instance. With
``--search`` (or when no mapping is stored yet) ``timeloop-mapper`` searches a mapping under the
design's own constraints; the mapping found is then fixed: the golden is what ``timeloop-model``
prints for that exact input, so regenerating without ``--search`` reproduces every figure.

Written per case into ``tests/golden/timeloop/generated/<design>/<case>/``:
``timeloop-model.input.yaml`` (the complete model input) and ``stats.json`` (every per-level,
per-dataspace count and energy of ``timeloop-model.stats.txt``, cycles, computes, and the summary:
cycles, energy in uJ, utilization in percent, fJ per compute by component).
Timeloop never runs in CI; the tests read these files only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "golden" / "timeloop" / "generated"
DESIGNS = ("simple_weight_stationary", "simple_output_stationary", "eyeriss_like", "simba_like")
REF = "workspace/example_designs/example_designs/{design}/ref_outputs/default_problem"

CASES: dict[str, dict[str, Any]] = {
    # strides 1, odd output size
    "conv3x3_odd13": {"C": 16, "M": 24, "R": 3, "S": 3, "N": 1, "P": 13, "Q": 13, "stride": 1},
    # pointwise
    "pointwise_1x1": {"C": 64, "M": 48, "R": 1, "S": 1, "N": 1, "P": 14, "Q": 14, "stride": 1},
    # stride 2 and a batch of 4
    "conv3x3_s2_batch4": {"C": 8, "M": 16, "R": 3, "S": 3, "N": 4, "P": 7, "Q": 7, "stride": 2},
    # odd everything: non-square kernel and output, batch 2
    "odd_5x3_batch2": {"C": 5, "M": 7, "R": 5, "S": 3, "N": 2, "P": 11, "Q": 9, "stride": 1},
    # the published layer with a new mapping: searched for energy instead of EDP
    "published_layer_energy_map": {"C": 3, "M": 32, "R": 3, "S": 3, "N": 1, "P": 112, "Q": 112, "stride": 2,
                                   "metric": "energy"},
}
"""Problem instances (Timeloop's CNN-layer dims; R and P run along W, S and Q along H)."""

MAPPER = {"algorithm": "random", "num_threads": 2, "victory_condition": 200, "timeout": 4000,
          "optimization_metrics": ["edp"], "live_status": False, "diagnostics": False, "log_stats": False,
          "log_suboptimal": False, "log_oaves": False, "log_oaves_mappings": False, "out_prefix": "timeloop-mapper",
          "max_permutations_per_if_visit": 16, "version": "0.4"}
"""timeloop-mapper settings for the search (EDP, as the exercises' reference runs, unless a case says)."""

DROP = ("mapper", "mapspace", "mapspace_constraints", "architecture_constraints", "compound_components", "globals",
        "dumped_by_timeloop_front_end")
"""Keys a fixed-mapping timeloop-model run does not need (ERT/ART are embedded)."""


def problem_instance(case: dict[str, Any]) -> dict[str, Any]:
    """The instance block of Timeloop's CNN-layer problem for a case (no padding: Timeloop models none)."""
    s = case["stride"]
    inst = {k: case[k] for k in ("C", "M", "R", "S", "N", "P", "Q")}
    inst.update({"Wstride": s, "Hstride": s, "Wdilation": 1, "Hdilation": 1, "Wpad": 0, "Hpad": 0,
                 "W": (case["P"] - 1) * s + case["R"], "H": (case["Q"] - 1) * s + case["S"], "densities": {}})
    return inst


def base_input(exercises: Path, design: str) -> dict[str, Any]:
    ref = exercises / REF.format(design=design)
    spec = yaml.safe_load((ref / "parsed-processed-input.yaml").read_text())
    spec["ERT"] = yaml.safe_load((ref / "timeloop-mapper.ERT.yaml").read_text())["ERT"]
    spec["ART"] = yaml.safe_load((ref / "timeloop-mapper.ART.yaml").read_text())["ART"]
    return spec


def run(tool: Path, spec: dict[str, Any], workdir: Path, timeout_s: float) -> None:
    path = workdir / "input.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    env = {**os.environ, "TIMELOOP_HIDE_INCONSEQUENTIAL_STATS": "1"}
    done = subprocess.run([str(tool), str(path)], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{tool.name} failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}")


def search_mapping(bin_dir: Path, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """timeloop-mapper's best mapping of ``spec`` (its constraints and mapspace kept)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        search = {k: v for k, v in spec.items()
                  if k not in ("mapping", "dumped_by_timeloop_front_end") and not k.startswith("_")}
        search["mapper"] = {**spec.get("mapper", {}), **MAPPER,
                            "optimization_metrics": [spec.get("_metric", "edp")]}
        search.pop("globals", None)
        run(bin_dir / "timeloop-mapper.sh", search, work, timeout_s=900)
        found = work / "timeloop-mapper.map.yaml"
        if not found.exists():
            raise RuntimeError("timeloop-mapper found no valid mapping")
        return yaml.safe_load(found.read_text())["mapping"]


def model_input(spec: dict[str, Any], mapping: list[dict[str, Any]]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if k not in DROP and not k.startswith("_")}
    out["mapping"] = mapping
    out["model"] = {"verbose": False, "out_prefix": "timeloop-model"}
    return out


_DS = {"Inputs": "inputs", "Weights": "weights", "Outputs": "outputs"}
_FIELDS = {"Utilized capacity": "tile_words", "Utilized instances (max)": "instances",
           "Scalar reads (per-instance)": "reads", "Scalar fills (per-instance)": "fills",
           "Scalar updates (per-instance)": "updates", "Energy (total)": "energy_pj"}


def parse_stats(text: str) -> dict[str, Any]:
    """Every count and energy of ``timeloop-model.stats.txt`` (see module docstring)."""
    levels: dict[str, Any] = {}
    mac: dict[str, float] = {}
    summary: dict[str, Any] = {}
    per_compute: dict[str, float] = {}
    summary["fj_per_compute"] = per_compute
    level = ds = None
    section = "levels"
    for line in text.splitlines():
        if line.startswith("Networks"):
            section = "networks"
        elif line.startswith("Summary Stats"):
            section = "summary"
        if section == "networks":
            continue
        if section == "summary":
            m = re.match(r"^(Cycles|Energy|Utilization|Computes)\s*[:=]\s*([-0-9.e+]+)", line)
            if m:
                summary[m.group(1).lower()] = float(m.group(2))
            part = re.match(r"^    (\S+)\s+=\s*([-0-9.e+]+)$", line)
            if part:
                per_compute[part.group(1)] = float(part.group(2))
            continue
        head = re.match(r"^=== (\S+) ===", line)
        if head:
            level, ds = head.group(1), None
            if level != "mac":
                levels[level] = {"dataspaces": {}}
            continue
        sub = re.match(r"^    (Inputs|Weights|Outputs):\s*$", line)
        if sub and level not in (None, "mac"):
            ds = _DS[sub.group(1)]
            levels[level]["dataspaces"][ds] = {}
            continue
        m = re.match(r"^\s+([A-Za-z][^:]*?)\s*:\s*(-?[0-9][0-9.e+-]*)", line)
        if not m or level is None:
            continue
        label, value = m.group(1), float(m.group(2))
        if level == "mac":
            if label in ("Computes (total)", "Cycles", "Energy (total)", "Utilized instances"):
                mac[label] = value
        elif label == "Cycles" and ds is None:
            levels[level]["cycles"] = int(value)
        elif ds is not None and label in _FIELDS and _FIELDS[label] not in levels[level]["dataspaces"][ds]:
            levels[level]["dataspaces"][ds][_FIELDS[label]] = value if label == "Energy (total)" else int(value)
    return {"levels": levels, "mac": mac, "summary": summary}


def make_case(bin_dir: Path, exercises: Path, design: str, name: str, search: bool) -> dict[str, Any]:
    out = OUT / design / name
    spec = base_input(exercises, design)
    spec["problem"]["instance"] = problem_instance(CASES[name])
    spec["_metric"] = CASES[name].get("metric", "edp")
    stored = out / "timeloop-model.input.yaml"
    if search or not stored.exists():
        mapping = search_mapping(bin_dir, spec)
    else:
        mapping = yaml.safe_load(stored.read_text())["mapping"]
    model = model_input(spec, mapping)
    with tempfile.TemporaryDirectory() as tmp:
        run(bin_dir / "timeloop-model.sh", model, Path(tmp), timeout_s=120)
        stats = parse_stats((Path(tmp) / "timeloop-model.stats.txt").read_text())
    out.mkdir(parents=True, exist_ok=True)
    stored.write_text(yaml.safe_dump(model, sort_keys=False))
    (out / "stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, required=True, help="dir with timeloop-model.sh / timeloop-mapper.sh")
    parser.add_argument("--exercises", type=Path, required=True, help="timeloop-accelergy-exercises checkout")
    parser.add_argument("--design", action="append", choices=DESIGNS, help="only these designs (repeatable)")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    parser.add_argument("--search", action="store_true", help="search new mappings with timeloop-mapper")
    args = parser.parse_args()
    failed = 0
    for design in args.design or DESIGNS:
        for name in args.case or CASES:
            try:
                stats = make_case(args.bin, args.exercises, design, name, args.search)
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                failed += 1
                print(f"{design:26s} {name:20s} FAILED: {err}", file=sys.stderr)
                continue
            s = stats["summary"]
            print(f"{design:26s} {name:20s} cycles {s['cycles']:>10,.0f}  energy {s['energy']:10.4f} uJ  "
                  f"utilization {s['utilization']:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
