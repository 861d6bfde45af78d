"""The 2020 ISPASS tutorial's own input files, unchanged: every exercise from what its user writes.

``tests/golden/timeloop/timeloopfe/2020_ispass/`` holds the tutorial's input files (``arch/``,
``map/``, ``prob/``, ``constraints/``, ``mapper/`` and the Timeloop+Accelergy lab's
``arch/arch.yaml`` template with its components) from Accelergy-Project/timeloop-accelergy-exercises
at commit ``2ffec69`` ("Update Aladdin & regenerate refs", 2024-05-29): the commit that generated
the reference outputs in ``tests/golden/timeloop/exercises/2020/`` (a later commit, ``800c916``,
moved exercise 04's ``PE`` container below the global buffer without regenerating its reference).
Each case must give exactly what timeloopfe gave Timeloop (its ``parsed-processed-input.yaml``:
hierarchy, search hierarchy, constraints, problem and mapping) and Timeloop's figures. Exercise 04
names the ``PE`` container as a mapping target: timeloopfe aims it at the container's fan-out level
``inter_PE_spatial``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_golden_timeloop import GOLDEN_DIR
from test_timeloopfe_inputs import binding_constraints
from timeloop_stats import parse_stats

from acceldse.mapper.cost import evaluate
from acceldse.mapper.timeloop import load_timeloop
from acceldse.workloads.errors import SpecError

RAW = GOLDEN_DIR / "timeloopfe" / "2020_ispass"
T = RAW / "timeloop"
REF = GOLDEN_DIR / "exercises" / "2020"
_C1 = ("arch/2level.arch.yaml", "prob/conv1d.prob.yaml")
_OC2 = ("arch/2level.arch.yaml", "prob/conv1d+oc.prob.yaml")
_OC3 = ("arch/3level.arch.yaml", "prob/conv1d+oc.prob.yaml")
_SP = ("arch/3levelspatial.arch.yaml", "prob/conv1d+oc+ic.prob.yaml")
_MAPPER = ("arch/3level.arch.yaml", "prob/conv1d+oc.prob.yaml", "mapper/exhaustive.mapper.yaml")
_EYERISS = ("arch/eyeriss_like.yaml", "arch/components/intmac.yaml", "arch/components/regfile.yaml",
            "arch/components/smartbuffer_RF.yaml", "arch/components/smartbuffer_SRAM.yaml",
            "prob/VGG02_layer5.yaml", "mapper/mapper.yaml")
CASES: dict[str, tuple[str, tuple[str, ...]]] = {  # reference folder -> (exercise folder, its input files)
    "00-model-conv1d-1level": ("00-model-conv1d-1level", ("arch/1level.arch.yaml", "prob/conv1d.prob.yaml",
                                                          "map/conv1d-1level.map.yaml")),
    "01-model-conv1d-2level/ws": ("01-model-conv1d-2level", (*_C1, "map/conv1d-2level-ws.map.yaml")),
    "01-model-conv1d-2level/os": ("01-model-conv1d-2level", (*_C1, "map/conv1d-2level-os.map.yaml")),
    "02-model-conv1d+oc-2level/no-tiling": ("02-model-conv1d+oc-2level", (*_OC2, "map/conv1d+oc-2level-os.map.yaml")),
    "02-model-conv1d+oc-2level/tiling": ("02-model-conv1d+oc-2level",
                                         (*_OC2, "map/conv1d+oc-2level-os-tiled.map.yaml")),
    "03-model-conv1d+oc-3level/no-bypass": ("03-model-conv1d+oc-3level", (*_OC3, "map/conv1d+oc-3level.map.yaml")),
    "03-model-conv1d+oc-3level/bypass": ("03-model-conv1d+oc-3level",
                                         (*_OC3, "map/conv1d+oc-3level-bypass.map.yaml")),
    "04-model-conv1d+oc-3levelspatial/cp": ("04-model-conv1d+oc-3levelspatial",
                                            (*_SP, "map/conv1d+oc+ic-3levelspatial-cp-ws.map.yaml")),
    "04-model-conv1d+oc-3levelspatial/kp": ("04-model-conv1d+oc-3levelspatial",
                                            (*_SP, "map/conv1d+oc+ic-3levelspatial-kp-ws.map.yaml")),
    "05-mapper-conv1d+oc-3level/null": ("05-mapper-conv1d+oc-3level", (*_MAPPER, "constraints/null.constraints.yaml")),
    "05-mapper-conv1d+oc-3level/freebypass": ("05-mapper-conv1d+oc-3level",
                                              (*_MAPPER, "constraints/conv1d+oc-3level-freebypass.constraints.yaml")),
    "05-mapper-conv1d+oc-3level/baked": ("05-mapper-conv1d+oc-3level",
                                         (*_MAPPER, "constraints/conv1d+oc-3level-1mapping.constraints.yaml")),
    "06-mapper-convlayer-eyeriss": ("06-mapper-convlayer-eyeriss", _EYERISS),
}
LAB = {"accelergy/fpmac": {"mac_class": "fpmac", "input_weight_datawidth": 32, "psum_datawidth": 32},
       "accelergy/intmac": {"mac_class": "intmac", "input_weight_datawidth": 8, "psum_datawidth": 16}}
"""The Timeloop+Accelergy lab: one jinja2 template, two settings (its run_example.py's)."""


def _reference(folder: Path) -> tuple[list[Path], Path]:
    """(ERT, ART and, for a mapper run, the mapping Timeloop chose; stats) of a reference folder."""
    prefix = "timeloop-mapper" if (folder / "timeloop-mapper.stats.txt").exists() else "timeloop-model"
    files = [folder / f"{prefix}.ERT.yaml", folder / f"{prefix}.ART.yaml"]
    if (folder / f"{prefix}.map.yaml").exists():
        files.append(folder / f"{prefix}.map.yaml")
    return files, folder / f"{prefix}.stats.txt"


def _inputs(case: str) -> tuple[list[Path], dict[str, object] | None]:
    if case in LAB:
        lab = RAW / "timeloop+accelergy"
        return [lab / "arch" / "arch.yaml", *sorted((lab / "arch" / "components").glob("*.yaml")),
                lab / "prob" / "prob.yaml", lab / "mapper" / "mapper.yaml"], LAB[case]
    folder, files = CASES[case]
    return [T / folder / f for f in files], None


def test_every_2020_reference_folder_has_its_raw_inputs():
    assert len(CASES) + len(LAB) == 15
    assert sorted([*CASES, *LAB]) == sorted(str(p.parent.relative_to(REF)) for p in REF.rglob("*.stats.txt"))


@pytest.mark.parametrize("case", sorted([*CASES, *LAB]))
def test_raw_2020_inputs_give_what_timeloopfe_gave_timeloop(case):
    inputs, values = _inputs(case)
    reference, stats = _reference(REF / case)
    raw = load_timeloop([*inputs, *reference], template_vars=values, name=case)
    parsed = load_timeloop([REF / case / "parsed-processed-input.yaml", *reference], name=case)
    assert raw.hierarchy == parsed.hierarchy
    assert raw.search_hierarchy == parsed.search_hierarchy
    assert binding_constraints(raw) == binding_constraints(parsed)
    assert raw.einsum == parsed.einsum and raw.mapping == parsed.mapping
    result = evaluate(raw.layer, raw.hierarchy, raw.mapping)
    ref = parse_stats(stats.read_text())
    assert result.cycles == ref["summary"]["Cycles"]
    assert result.macs == ref["mac"]["Computes (total)"]
    assert round(result.energy_pj / 1e6, 2) == ref["summary"]["Energy"]


def test_a_target_naming_a_container_without_fan_out_is_refused(tmp_path):
    """Exercise 03 has a ``PE`` container with no ``spatial``: no level of its own in Timeloop's tree."""
    folder, files = CASES["03-model-conv1d+oc-3level/no-bypass"]
    mapping = (T / folder / files[2]).read_text().replace("target: RegisterFile", "target: PE", 1)
    (tmp_path / "map.yaml").write_text(mapping)
    reference, _ = _reference(REF / "03-model-conv1d+oc-3level/no-bypass")
    with pytest.raises(SpecError, match="container without a spatial fan-out"):
        load_timeloop([T / folder / files[0], T / folder / files[1], tmp_path / "map.yaml", *reference])
