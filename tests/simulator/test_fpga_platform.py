"""FPGA platform presets and the YAML loader."""

from pathlib import Path

import pytest

from acceldse.simulator.specs.platform import load_platform, preset_names
from acceldse.workloads.errors import SpecError

PUBLISHED = {  # PUBLISHED.md "FPGA streaming" table
    "u250": (12288, 5376, 1280, 1728000, 3456000, 614.4),
    "u200": (6840, 4320, 960, 1182000, None, 614.4),
    "u50": (5952, 2688, 640, 871680, 1743360, 1608),
    "u55c": (9024, 4032, 960, 1303680, 2607360, None),
    "zcu102": (2520, 1824, 0, 274080, 548160, 153.6),
    "zc706": (900, 1090, 0, 218600, 437200, 102.4),
}


# SAMO 0.2.4's platforms/*.json: DSP, BRAM (18 Kb), URAM, LUT, FF, bandwidth Gb/s
SAMO_PLATFORMS = {
    "samo-u250-1slr": (2877, 1000, 0, 345000, 690000, 616.0),
    "samo-u250-4slr": (11508, 4000, 0, 1380000, 2760000, 616.0),
    "samo-zc706": (900, 1090, 0, 218600, 437200, 68.224),
    "samo-zcu106": (1728, 624, 96, 230400, 460800, 135.83),
    "samo-zedboard": (220, 280, 0, 53200, 106400, 34.112),
}


def test_all_presets_present() -> None:
    assert set(preset_names()) == set(PUBLISHED) | set(SAMO_PLATFORMS)


@pytest.mark.parametrize("name", sorted(SAMO_PLATFORMS))
def test_samo_presets_match_samo_files(name: str) -> None:
    p = load_platform(name)
    assert (p.dsp, p.bram18, p.uram, p.lut, p.ff, p.bandwidth_gbit_per_s) == SAMO_PLATFORMS[name]
    assert p.clock_mhz == 100 and p.reconfiguration_ms == pytest.approx(82.55 if "4slr" not in name else 180.0)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_preset_figures_match_published(name: str) -> None:
    p = load_platform(name.upper())
    dsp, bram, uram, lut, ff, bw = PUBLISHED[name]
    assert (p.dsp, p.bram18, p.uram, p.lut) == (dsp, bram, uram, lut)
    if ff is not None:
        assert p.ff == ff
    if bw is not None:
        assert p.bandwidth_gbit_per_s == bw
    assert p.clock_mhz > 0 and p.reconfiguration_ms > 0


def test_clocks_and_derived_units() -> None:
    p = load_platform("zc706")
    assert p.clock_mhz == 200
    slow = p.with_clock(100)
    assert slow.clock_hz == 1e8
    assert slow.bandwidth_bits_per_cycle == pytest.approx(1024.0)
    assert slow.reconfiguration_cycles == pytest.approx(90e-3 * 1e8)


def test_missing_resource_names_file_and_key(tmp_path: Path) -> None:
    f = tmp_path / "board.yaml"
    f.write_text("version: 2\nname: b\ndsp: 10\nbram18: 10\nuram: 0\nlut: 100\n"
                 "clock_mhz: 100\nbandwidth_gbit_per_s: 1\nreconfiguration_ms: 1\n")
    with pytest.raises(SpecError) as err:
        load_platform(f)
    assert err.value.key == "ff" and str(f) in str(err.value)


@pytest.mark.parametrize("text,key", [
    ("version: 3\nname: b\n", "version"),
    ("version: 2\nname: b\ndsp: -1\nbram18: 1\nuram: 0\nlut: 1\nff: 1\nclock_mhz: 1\nbandwidth_gbit_per_s: 1\n"
     "reconfiguration_ms: 0\n", "dsp"),
    ("version: 2\nname: b\ndsp: 1\nbram18: 1\nuram: 0\nlut: 1\nff: 1\nclock_mhz: 0\nbandwidth_gbit_per_s: 1\n"
     "reconfiguration_ms: 0\n", "clock_mhz"),
    ("version: 2\nname: b\ndsp: 1\nbram18: 1\nuram: 0\nlut: 1\nff: 1\nclock_mhz: 1\nbandwidth_gbit_per_s: 1\n"
     "reconfiguration_ms: 0\nlutz: 3\n", "lutz"),
])
def test_bad_values_raise(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "b.yaml"
    f.write_text(text)
    with pytest.raises(SpecError) as err:
        load_platform(f)
    assert err.value.key == key


def test_unknown_preset() -> None:
    with pytest.raises(SpecError, match="zc706"):
        load_platform("vu19p")
