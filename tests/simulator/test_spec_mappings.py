"""Hardware from code: every spec kind round-trips through ``to_dict`` and its loader, and a mapping,
a ``replace`` or a ``dataclasses.replace`` copy is checked exactly like a YAML file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

import acceldse
from acceldse.simulator.specs.hierarchy_loader import hierarchy_presets
from acceldse.simulator.specs.platform import preset_names as fpga_presets
from acceldse.simulator.specs.presets import list_hardware
from acceldse.workloads.errors import SpecError


@pytest.mark.parametrize("name", list_hardware())
def test_accelerator_round_trips(name: str, tmp_path: Path) -> None:
    acc = acceldse.load_hardware(name)
    assert dataclasses.replace(acceldse.load_hardware(acc.to_dict()), source=acc.source) == acc
    path = tmp_path / "chip.yaml"
    path.write_text(acc.to_yaml())
    assert dataclasses.replace(acceldse.load_hardware(path), source=acc.source) == acc


@pytest.mark.parametrize("name", hierarchy_presets())
def test_hierarchy_round_trips(name: str) -> None:
    h = acceldse.load_hierarchy(name)
    assert acceldse.load_hierarchy(yaml.safe_load(h.to_yaml())) == h


@pytest.mark.parametrize("name", fpga_presets())
def test_platform_round_trips(name: str) -> None:
    board = acceldse.load_platform(name)
    assert dataclasses.replace(acceldse.load_platform(board.to_dict()), source=board.source) == board


def test_a_mapping_is_checked_like_the_yaml_file(tmp_path: Path) -> None:
    data = acceldse.load_hardware("edge-8x8").to_dict()
    data["array"].update(rows=16384, cols=16384)
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError) as from_file:
        acceldse.load_hardware(path)
    with pytest.raises(SpecError) as from_dict:
        acceldse.simulate("alexnet", data)
    assert str(from_dict.value) == str(from_file.value).replace(str(path), "hardware")
    assert str(from_dict.value).startswith("hardware: ") and "--hardware" not in str(from_dict.value)
    edge = acceldse.load_hardware("edge-8x8")
    bypass = dataclasses.replace(edge, array=dataclasses.replace(edge.array, rows=16384, cols=16384))
    with pytest.raises(SpecError, match="larger than its"):
        acceldse.simulate("alexnet", bypass)  # dataclasses.replace skipped the loader: simulate checks it


def test_replace_merges_and_revalidates() -> None:
    acc = acceldse.load_hardware("scalesim-32x32")
    wide = acc.replace(array={"rows": 64})
    assert (wide.array.rows, wide.array.cols) == (64, acc.array.cols)
    assert acc.replace({"tiers.dram.read_bw_bytes_per_cycle": 4}).dram.read_bw_bytes_per_cycle == 4
    assert acceldse.simulate("alexnet", wide).pes == 64 * acc.array.cols
    with pytest.raises(SpecError, match=r"scalesim-32x32.replace\(\): array.rows: must be >= 1"):
        acc.replace(array={"rows": 0})
    with pytest.raises(SpecError, match="arary: unknown key"):
        acc.replace(arary={"rows": 8})
    with pytest.raises(SpecError, match="tiers.l9: no such entry"):
        acc.replace({"tiers.l9.latency_cycles": 1})
    h = acceldse.load_hierarchy("eyeriss_like")
    assert h.replace(clock_mhz=500).clock_mhz == 500
    with pytest.raises(SpecError, match=r"levels\[1\].word_bits"):
        h.replace(levels={h.levels[1].name: {"word_bits": 0}})
    board = acceldse.load_platform("zc706")
    assert board.replace(dsp=100).dsp == 100
    with pytest.raises(SpecError, match=r"zc706.replace\(\): dsp"):
        board.replace(dsp=-1)


def test_map_takes_a_hierarchy_mapping() -> None:
    data = acceldse.load_hierarchy("simple_ws_32x32").to_dict()
    data["clock_mhz"] = 250.0
    best = acceldse.map("alexnet", data, layer="conv2", search="random", budget=50)
    assert best.hierarchy.clock_mhz == 250.0
    data["levels"][0]["word_bits"] = 0
    with pytest.raises(SpecError, match=r"^hardware: levels\[0\].word_bits"):
        acceldse.map("alexnet", data, layer="conv2", budget=50)
