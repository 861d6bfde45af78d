"""One hardware catalogue: every preset of every kind, its key figures, and wrong-kind errors."""

from __future__ import annotations

import argparse
import json

import pytest

import acceldse
from acceldse.cli import build_parser, main
from acceldse.simulator.specs.catalogue import KINDS, catalogue, resolve
from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
from acceldse.simulator.specs.platform import load_platform
from acceldse.simulator.specs.presets import PRESET_DIRS, load_hardware
from acceldse.workloads.errors import SpecError


def test_catalogue_lists_every_preset_file_once_with_its_kind() -> None:
    infos = catalogue()
    files = sorted((kind, p.stem) for kind in KINDS for p in PRESET_DIRS[kind].glob("*.yaml"))
    assert sorted((i.kind, i.name) for i in infos) == files
    assert {i.kind for i in infos} == {"systolic", "hierarchy", "fpga", "fused"}
    assert len({i.name for i in infos}) == len(infos)  # one namespace: no name in two kinds


def test_key_figures_from_the_preset_files() -> None:
    by_name = {i.name: i for i in catalogue()}
    tpu = by_name["tpu-v1-like"]  # 256x256, 700 MHz, 24 MiB + 256 KiB + 4 MiB SRAM, 42.86 B/cycle DDR3
    assert (tpu.kind, tpu.compute_units, tpu.compute_unit, tpu.clock_mhz) == ("systolic", 65536, "PE", 700)
    assert tpu.on_chip_bytes == 24 * 2**20 + 256 * 2**10 + 4 * 2**20
    assert tpu.dram_gbyte_per_s == pytest.approx(42.86 * 700e6 / 1e9)
    eyeriss = by_name["eyeriss_like"]  # 14x12 PEs at 0.2 GHz; glb 131072 B + 168 x (24 + 384 + 16 x 2) B spads
    assert (eyeriss.kind, eyeriss.compute_units, eyeriss.clock_mhz) == ("hierarchy", 168, pytest.approx(200))
    assert eyeriss.on_chip_bytes == 131072 + 168 * (24 + 384 + 32)
    assert eyeriss.dram_gbyte_per_s is None  # the example leaves DRAM bandwidth unlimited
    zc706 = by_name["zc706"]  # 900 DSP, 1090 BRAM18, 102.4 Gb/s
    assert (zc706.kind, zc706.compute_units, zc706.compute_unit, zc706.clock_mhz) == ("fpga", 900, "DSP", 200)
    assert zc706.on_chip_bytes == 1090 * 18 * 1024 // 8
    assert zc706.dram_gbyte_per_s == pytest.approx(102.4 / 8)


def test_figures_agree_with_the_loaded_specs() -> None:
    for info in catalogue(("systolic",)):
        acc = load_hardware(info.name)
        assert info.compute_units == acc.cores * acc.array.rows * acc.array.cols
        assert info.clock_mhz == acc.clock_mhz
    for info in catalogue(("hierarchy",)):
        assert info.compute_units == load_hierarchy(info.name).num_macs
    for info in catalogue(("fpga",)):
        plat = load_platform(info.name)
        assert (info.compute_units, info.clock_mhz) == (plat.dsp, plat.clock_mhz)


def test_resolve_finds_a_preset_and_names_the_command_for_another_kind() -> None:
    assert resolve("ZC706", ("fpga",)).name == "zc706"
    assert resolve("eyeriss_like").kind == "hierarchy"
    with pytest.raises(SpecError,
                       match=r"platform.*'tpu-v1-like' is a systolic accelerator.*acceldse\.simulate\(hardware="):
        resolve("tpu-v1-like", ("fpga",), flag="platform")
    with pytest.raises(SpecError, match=r"unknown preset.*'nope'.*zc706"):
        resolve("nope", ("fpga",))
    with pytest.raises(SpecError, match="unknown preset kind"):
        catalogue(("gpu",))
    with pytest.raises(SpecError, match="got 'gpu'"):  # the kind named, not its first letter
        catalogue("gpu")
    assert catalogue("fused") == catalogue(("fused",))


def test_list_hardware_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "hardware"]) == 0
    text = capsys.readouterr().out
    for info in catalogue():
        assert info.name in text
    assert "kind fpga (use with acceldse fpga --platform)" in text and "900 DSP" in text
    assert main(["list", "hardware", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [i.to_dict() for i in catalogue()]
    assert main(["list", "workloads", "--json"]) == 0  # every command takes --format json (issue 14)
    assert "resnet50" in {row["name"] for row in json.loads(capsys.readouterr().out)["rows"]}


@pytest.mark.parametrize(("argv", "takes"), [
    (["simulate", "--hardware", "eyeriss_like"], "acceldse map --hardware"),
    (["fpga", "--platform", "tpu-v1-like"], "acceldse simulate --hardware"),
    (["map", "--hardware", "zc706", "--budget", "10"], "acceldse fpga --platform"),
    (["tiers", "switch", "--hardware", "simple_ws_32x32"], "acceldse map --hardware"),
    (["tiers", "event", "--hardware", "u250"], "acceldse fpga --platform"),
])
def test_wrong_kind_says_which_command_takes_it(argv: list[str], takes: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"'{argv[-1] if argv[-2] != '--budget' else 'zc706'}' is " in err and f"use it with {takes}" in err


def test_api_wrong_kind() -> None:
    with pytest.raises(SpecError, match=r"is a mapper hierarchy preset: use it with acceldse\.map\(hardware=\.\.\.\)"):
        acceldse.simulate("resnet18", "eyeriss_like")
    with pytest.raises(SpecError, match=r"is an FPGA board preset: use it with acceldse\.optimise_fpga\(platform="):
        load_hierarchy("zcu102")


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((name, sub))
                found += [(f"{name} {n}", s) for n, s in _subparsers(sub)]
    return found


def test_every_hardware_and_platform_flag_says_which_kind_it_takes() -> None:
    flags = 0
    for name, sub in _subparsers(build_parser()):
        for action in sub._actions:
            if {"--hardware", "--platform"} & set(action.option_strings):
                flags += 1
                text = action.help or ""
                # a catalogue kind, or the fused-accelerator presets of 'acceldse attention' (a family of their own)
                assert "preset (" in text and ("kind '" in text or "fused-accelerator preset (" in text), name
    assert flags >= 5  # simulate, map, fpga, tiers switch / fusion / event
