"""Area model vs the areas Accelergy printed for the timeloop-accelergy-exercises reference designs.

    python benchmarks/area_vs_accelergy.py                      # print the agreement table
    python benchmarks/area_vs_accelergy.py --refresh EXERCISES  # re-read the reference areas

``EXERCISES`` is a checkout of github Accelergy-Project/timeloop-accelergy-exercises (commit
2d55108); the reference figures are each design's
``ref_outputs/default_problem/timeloop-mapper.ART_summary.yaml`` (um^2 per instance) and are
stored in ``tests/golden/timeloop/area/accelergy_ref_areas.json``. Each component is described
to our area model by what its Accelergy class and attributes say (memory kind, width x depth
bits, ports, MAC precision, technology node); nothing is fitted here (the one calibrated constant,
``SRAM_ARRAY_EFFICIENCY``, comes from eyeriss_like's shared_glb, marked ``calibration``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acceldse.simulator.specs.area import mac_area_um2, storage_area_um2  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "timeloop" / "area" / "accelergy_ref_areas.json"
DESIGNS = ("eyeriss_like", "simple_weight_stationary", "simple_output_stationary", "simba_like")


def our_area_um2(component: dict) -> float:
    """Our model's area of one instance of a reference component."""
    if component["kind"] == "mac":
        return mac_area_um2(component["bits"], component["technology_nm"])
    return storage_area_um2(component["kind"], component["width"] * component["depth"], component["technology_nm"],
                            component.get("ports", 1))


def table(golden: dict) -> list[dict]:
    """One row per component and one ``TOTAL`` row per design (instances x area)."""
    rows = []
    for design, comps in golden["designs"].items():
        ref_total = ours_total = 0.0
        for c in comps:
            ours = our_area_um2(c)
            rows.append({"design": design, "component": c["name"], "instances": c["instances"],
                         "ref_um2": c["ref_um2"], "ours_um2": ours, "ratio": ours / c["ref_um2"],
                         "note": c.get("note", "")})
            ref_total += c["instances"] * c["ref_um2"]
            ours_total += c["instances"] * ours
        rows.append({"design": design, "component": "TOTAL", "instances": 1, "ref_um2": ref_total,
                     "ours_um2": ours_total, "ratio": ours_total / ref_total, "note": ""})
    return rows


def refresh(exercises: Path) -> None:
    """Re-read the reference per-instance areas into the golden file (components keep their descriptions)."""
    import yaml

    golden = json.loads(GOLDEN.read_text())
    for design, comps in golden["designs"].items():
        path = exercises / "workspace/example_designs/example_designs" / design / \
            "ref_outputs/default_problem/timeloop-mapper.ART_summary.yaml"
        summary = yaml.safe_load(path.read_text())["ART_summary"]["table_summary"]
        areas = {row["name"].split(".")[1].split("[")[0]: float(row["area"]) for row in summary}
        for c in comps:
            c["ref_um2"] = areas[c["name"]]
    GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh", type=Path, metavar="EXERCISES", help="re-read the reference ART summaries")
    args = parser.parse_args()
    if args.refresh:
        refresh(args.refresh)
    golden = json.loads(GOLDEN.read_text())
    print(f"{'design':26s} {'component':24s} {'inst':>5s} {'Accelergy um2':>14s} {'ours um2':>14s} "
          f"{'ours/ref':>8s}  note")
    for r in table(golden):
        print(f"{r['design']:26s} {r['component']:24s} {r['instances']:5d} {r['ref_um2']:14,.1f} "
              f"{r['ours_um2']:14,.1f} {r['ratio']:8.3f}  {r['note']}")


if __name__ == "__main__":
    main()
