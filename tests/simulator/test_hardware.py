"""Hardware specs: presets, YAML and SCALE-Sim cfg loading, and clear errors for bad input."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acceldse.simulator.specs.accelerator import accelerator_from_dict, load_accelerator_file
from acceldse.simulator.specs.presets import PRESET_DIR, list_hardware, load_hardware
from acceldse.simulator.specs.scalesim_cfg import load_scalesim_cfg
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import parse_bytes

REF = Path(__file__).resolve().parents[1] / "golden" / "scalesim"  # copies of SCALE-Sim's cfgs
BASE = yaml.safe_load((PRESET_DIR / "scalesim-32x32.yaml").read_text())


def test_required_presets_exist_and_load() -> None:
    names = list_hardware()
    for required in ("scalesim-32x32", "tpu-v1-like", "edge-8x8", "array-64x64", "nonsquare-16x64"):
        assert required in names
    shapes = {n: (load_hardware(n).array.rows, load_hardware(n).array.cols) for n in names}
    assert shapes["scalesim-32x32"] == (32, 32)
    assert shapes["tpu-v1-like"] == (256, 256)
    assert shapes["edge-8x8"] == (8, 8)
    assert shapes["array-64x64"] == (64, 64)
    assert any(r != c for r, c in shapes.values())
    tpu = load_hardware("tpu-v1-like")
    assert tpu.dataflow == "ws" and tpu.sram.partitions["ifmap"] == 24 * 2**20


def test_scalesim_cfgs_load() -> None:
    acc, settings_ = load_scalesim_cfg(REF / "scale.cfg")
    assert (acc.array.rows, acc.array.cols) == (32, 32)
    assert acc.sram.partitions == {"ifmap": 65536, "filter": 65536, "ofmap": 65536}
    assert (settings_.dataflow, settings_.bandwidth_mode) == ("ws", "CALC")
    google, gs = load_scalesim_cfg(REF / "google.cfg")
    assert (google.array.rows, google.sram.partitions["ofmap"], gs.bandwidth_mode) == (256, 2048 * 1024, "USER")
    assert load_hardware(str(REF / "google.cfg")).dataflow == "os"


@pytest.mark.parametrize("text,expected", [("64KiB", 65536), ("64KB", 64000), ("1.5GiB", 3 * 2**29),
                                           (4096, 4096), ("520MB", 520_000_000)])
def test_parse_bytes(text, expected) -> None:
    assert parse_bytes(text, key="k") == expected


def mutated(path: str, value) -> dict:
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path,value,fragment", [
    ("array.rows", 0, "array.rows"),
    ("array.cols", -4, "array.cols"),
    ("array.rows", "many", "array.rows"),
    ("array.rows", "32", "array.rows: must be a number, not a string"),  # a quoted number is a wrong type
    ("tiers.1.latency_cycles", "100", "tiers[1].latency_cycles: must be a number, not a string"),
    ("clock_mhz", 0, "clock_mhz"),
    ("version", 3, "version"),
    ("tiers.0.kind", "flash", "tiers[0].kind"),
    ("tiers.0.partition_bytes.ifmap", "64 parsecs", "tiers[0].partition_bytes.ifmap"),
    ("tiers.1.bw_bytes_per_cycle", 0, "tiers[1].bw_bytes_per_cycle"),  # the key the file wrote
    ("tiers.1.bw_bytes_per_cycle", KeyError, "tiers[1].bw_bytes_per_cycle: missing key"),
    ("tiers.1.energy_pj_per_byte", -1, "tiers[1].energy_pj_per_byte"),
    ("array.colz", 3, "array.colz"),
    ("dataflow", "zz", "dataflow"),
    ("tiers", [], "tiers"),
])
def test_bad_specs_name_the_key(path, value, fragment) -> None:
    with pytest.raises(SpecError) as err:
        accelerator_from_dict(mutated(path, value), source="chip.yaml")
    assert "chip.yaml" in str(err.value) and fragment in str(err.value)


def test_array_larger_than_memory_allows() -> None:
    data = mutated("array.rows", 40_000)  # a 64 KiB half-buffer cannot hold one 40,000-word column
    with pytest.raises(SpecError, match="larger than its ifmap SRAM allows"):
        accelerator_from_dict(data, source="big.yaml")


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(SpecError, match="scalesim-32x32"):
        load_hardware("tpu-v9")


def test_malformed_yaml_and_cfg_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\narray: {rows: 4\n")
    with pytest.raises(SpecError, match=r"bad.yaml.*malformed YAML at line"):
        load_accelerator_file(bad)
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("[architecture_presets]\nArrayHeight: 0\nArrayWidth: 8\n")
    with pytest.raises(SpecError, match=r"bad.cfg.*ArrayHeight"):
        load_scalesim_cfg(cfg)
    with pytest.raises(SpecError, match="cannot read"):
        load_accelerator_file(tmp_path / "missing.yaml")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_fuzzed_yaml_text_raises_only_spec_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    with contextlib.suppress(SpecError):
        load_accelerator_file(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_fuzzed_cfg_text_raises_only_spec_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.cfg"
    path.write_text(text)
    with contextlib.suppress(SpecError):
        load_scalesim_cfg(path)


leaf_values = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
                        st.text(max_size=8), st.lists(st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["array.rows", "array.cols", "array.mac_energy_pj", "clock_mhz", "word_bytes", "cores",
                        "tiers.0.partition_bytes.ofmap", "tiers.0.bw_bytes_per_cycle", "tiers.1.latency_cycles",
                        "tiers.1.capacity_bytes", "tiers.0.kind", "name", "tiers.0", "array", "tiers"]), leaf_values)
def test_fuzzed_spec_values_raise_only_spec_errors(path: str, value) -> None:
    with contextlib.suppress(SpecError):
        accelerator_from_dict(mutated(path, value), source="fuzz.yaml")


def test_tier_loader_lives_in_its_own_module_and_old_imports_still_work() -> None:
    """The tier value and loader are ``specs.memory_tier``; ``specs.accelerator`` imports them (one way) and
    re-exports the public names."""
    import acceldse.simulator.specs.accelerator as accelerator
    import acceldse.simulator.specs.memory_tier as memory_tier

    for name in ("MemoryTier", "OPERAND_BUFFERS", "TIER_KINDS", "OFF_CHIP_KINDS"):
        assert getattr(accelerator, name) is getattr(memory_tier, name)
    assert "acceldse.simulator.specs.accelerator" not in Path(memory_tier.__file__).read_text()
    tier = memory_tier.tier_from_dict({"name": "sram", "kind": "sram", "capacity_bytes": "64KiB",
                                       "bw_bytes_per_cycle": 32}, key="tiers[0]", source="t.yaml", version=2)
    assert memory_tier.tier_from_dict(memory_tier.tier_to_dict(tier), key="tiers[0]", source="t.yaml",
                                      version=2) == tier
