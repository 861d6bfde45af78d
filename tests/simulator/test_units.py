"""One set of units: renamed spec keys (old ones read with a DeprecationWarning naming the new
key), FPGA bandwidth in Gbit/s under its unit name, and both traces in microseconds with the clock
recorded."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import pytest
import yaml

from acceldse.cli import main
from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.dataflows.streams.graph import Channel, Context, build_graph
from acceldse.simulator.event import event_run
from acceldse.simulator.specs.accelerator import accelerator_from_dict, load_accelerator_file
from acceldse.simulator.specs.platform import PRESET_DIR as FPGA_PRESETS
from acceldse.simulator.specs.platform import load_platform, platform_from_dict
from acceldse.simulator.specs.presets import PRESET_DIR, load_hardware
from acceldse.simulator.streaming import build_trace, run_compiled
from acceldse.workloads.errors import SpecError
from acceldse.workloads.loader import load_workload

NEW_ACC = yaml.safe_load((PRESET_DIR / "scalesim-32x32.yaml").read_text())


def _as_version_1(spec: dict) -> dict:
    old = copy.deepcopy(spec)
    old["version"] = 1
    for tier in old["tiers"]:
        if "capacity_bytes" in tier:
            tier["capacity"] = tier.pop("capacity_bytes")
        if "partition_bytes" in tier:
            tier["partitions"] = tier.pop("partition_bytes")
    return old


def test_presets_are_the_current_versions_with_unit_names() -> None:
    for path in PRESET_DIR.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert data["version"] == 2, path
        for tier in data["tiers"]:
            assert not {"capacity", "partitions"} & set(tier), path
    for path in FPGA_PRESETS.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert data["version"] == 2 and "bandwidth_gbit_per_s" in data and "bandwidth_gbps" not in data, path


def test_accelerator_version_1_keys_load_the_same_with_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = accelerator_from_dict(NEW_ACC, source="new.yaml")  # the current keys warn about nothing
    with pytest.warns(DeprecationWarning) as record:
        old = accelerator_from_dict(_as_version_1(NEW_ACC), source="old.yaml")
    messages = {str(w.message) for w in record}
    assert "old.yaml: key 'tiers[0].partitions' is deprecated; write 'tiers[0].partition_bytes' (spec version 2)" \
        in messages
    assert "old.yaml: key 'tiers[1].capacity' is deprecated; write 'tiers[1].capacity_bytes' (spec version 2)" \
        in messages
    assert old.tiers == new.tiers and old.clock_mhz == new.clock_mhz == 1000
    assert new.sram.partitions == {"ifmap": 65536, "filter": 65536, "ofmap": 65536}
    assert new.dram.capacity_bytes == 8 * 2**30


def test_accelerator_file_with_old_keys_and_both_keys(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(_as_version_1(NEW_ACC)))
    with pytest.warns(DeprecationWarning) as record:
        assert load_accelerator_file(path).dram.capacity_bytes == load_hardware("scalesim-32x32").dram.capacity_bytes
    assert any("capacity_bytes" in str(w.message) for w in record)
    both = copy.deepcopy(NEW_ACC)
    both["tiers"][1]["capacity"] = "1GiB"
    with pytest.raises(SpecError, match=r"both.yaml: tiers\[1\].capacity: give only the new key"):
        accelerator_from_dict(both, source="both.yaml")
    with pytest.raises(SpecError, match="version"):
        accelerator_from_dict({**NEW_ACC, "version": 3}, source="v3.yaml")


def test_platform_bandwidth_is_named_in_gbit_per_s() -> None:
    zc706 = load_platform("zc706")
    assert zc706.bandwidth_gbit_per_s == 102.4
    assert zc706.with_clock(100).bandwidth_bits_per_cycle == pytest.approx(102.4e9 / 100e6)
    old = yaml.safe_load((FPGA_PRESETS / "zc706.yaml").read_text())
    old["version"] = 1
    old["bandwidth_gbps"] = old.pop("bandwidth_gbit_per_s")
    with pytest.warns(DeprecationWarning, match="key 'bandwidth_gbps' is deprecated; write 'bandwidth_gbit_per_s'"):
        assert platform_from_dict(old, source="zc706-v1.yaml") == platform_from_dict(
            yaml.safe_load((FPGA_PRESETS / "zc706.yaml").read_text()), source="zc706-v1.yaml")
    with pytest.warns(DeprecationWarning, match="bandwidth_gbit_per_s"):
        assert zc706.bandwidth_gbps == 102.4


def test_fpga_json_reports_bandwidth_in_gbit_per_s(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--json"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out)
    text = json.dumps(summary)
    assert "bandwidth_gbit_per_s" in text and "bandwidth_limit_gbit_per_s" in text and "_gbps" not in text
    assert _find(summary, "bandwidth_limit_gbit_per_s") == 102.4


def _find(obj: object, key: str) -> object:
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for item in obj:
            found = _find(item, key)
            if found is not None:
                return found
    return None


def test_event_trace_is_in_microseconds_with_the_clock_recorded() -> None:
    acc = load_hardware("tpu-v1-like")  # 700 MHz
    run = event_run(load_workload("scalesim:test_mnk_input"), acc, resolve_dataflows("ws"), trace=True)
    assert run.trace is not None
    assert run.trace["otherData"] == {"time_unit": "us", "clock_mhz": 700.0}
    spans = [e for e in run.trace["traceEvents"] if e["ph"] == "X"]
    assert spans
    for e in spans:
        assert e["ts"] * 700 == pytest.approx(e["args"]["start_cycles"])
        assert (e["ts"] + e["dur"]) * 700 == pytest.approx(e["args"]["end_cycles"])


@pytest.mark.parametrize("clock_mhz", [1.0, 250.0])
def test_stream_trace_is_in_microseconds_with_the_clock_recorded(clock_mhz: float) -> None:
    graph = build_graph([Context("src", outputs=("o",), firings=12, latency_cycles=3),
                         Context("sink", inputs=("i",), firings=6, rates={"i": 2}, ii_cycles=3)],
                        [Channel("src->sink", "src.o", "sink.i", capacity=2)], name="pair")
    result = run_compiled(graph, record=True)
    trace = build_trace(graph, result, clock_mhz)
    assert trace["otherData"]["time_unit"] == "us" and trace["otherData"]["clock_mhz"] == clock_mhz
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert spans
    for e in spans:
        assert e["ts"] * clock_mhz == pytest.approx(e["args"]["start_cycles"])
        assert (e["ts"] + e["dur"]) * clock_mhz == pytest.approx(e["args"]["end_cycles"])
    with pytest.raises(SpecError, match="clock_mhz"):
        build_trace(graph, result, 0.0)
