"""SAMO / fpgaConvNet design files in and out: stored SAMO designs reproduce SAMO's figures."""

import json
from pathlib import Path

import pytest

from acceldse.cli import main
from acceldse.simulator.fpga import evaluate_design, load_platform
from acceldse.simulator.fpga.modules import squeeze
from acceldse.simulator.fpga.samo_io import design_to_samo, fpgaconvnet_name, load_design
from acceldse.simulator.fpga.stage import Folding
from acceldse.workloads.errors import SpecError
from acceldse.workloads.zoo.small import cnv, lenet, mlp

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "fpga"


@pytest.mark.parametrize("stem,builder", [("samo_lenet_zc706", lenet), ("samo_lenet_zcu102", lenet),
                                          ("samo_mlp_zc706", mlp), ("samo_cnv_samo-u250-1slr", cnv)])
def test_stored_samo_design_reproduces_cycles_and_batch_time(stem: str, builder) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((GOLDEN / f"{stem}.json").read_text())
    net = builder()
    loaded = load_design(GOLDEN / f"{stem}.json", net)
    plat = load_platform(data["platform"]).with_clock(100)
    rep = evaluate_design(net, loaded.foldings, plat, batch=loaded.batch, partitions=loaded.partitions)
    assert [p.interval_cycles for p in rep.partitions] == [p["latency"] for p in data["partitions"]]
    assert rep.batch_time_s * 1e6 == pytest.approx(data["latency_us"], rel=1e-12)
    assert rep.feasible
    samo_cycles = [layer["cycles"] for p in data["partitions"] for layer in p["layers"]]
    assert list(rep.stages["cycles"]) == samo_cycles


def test_cli_design_matches_samo_lenet(capsys: pytest.CaptureFixture[str]) -> None:
    path = GOLDEN / "samo_lenet_zc706.json"
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--clock-mhz", "100", "--design", str(path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["batch_time_us"] == pytest.approx(25_600.0)
    assert out["summary"]["dsp_used"] == 360 and out["summary"]["bram18_used"] == 908
    assert out["violations"] == []


def test_export_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "design.json"
    assert main(["fpga", "--workload", "lenet", "--platform", "samo-zc706", "--export", "samo", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    layer0 = data["partition"][0]["layers"][0]
    assert layer0["type"] == "CONVOLUTION" and layer0["parameters"]["kernel_size"] == [5, 5]
    assert main(["fpga", "--workload", "lenet", "--platform", "samo-zc706", "--design", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert main(["fpga", "--workload", "lenet", "--platform", "samo-zc706", "--json"]) == 0
    optimised = json.loads(capsys.readouterr().out)
    assert again["summary"]["throughput_per_s"] == pytest.approx(optimised["summary"]["throughput_per_s"])
    assert again["stages"] == optimised["stages"]


def test_squeeze_adapter_costed_between_mismatched_lanes() -> None:
    net = lenet()
    plat = load_platform("zc706")
    matched = evaluate_design(net, {"conv0": Folding(1, 4, 1), "pool1": Folding(4, 4, 1)}, plat, batch=1)
    squeezed = evaluate_design(net, {"conv0": Folding(1, 2, 1), "pool1": Folding(4, 4, 1)}, plat, batch=1)
    conv_delta = (squeezed.stages.set_index("layer").loc["conv0", "lut"]
                  - matched.stages.set_index("layer").loc["conv0", "lut"])
    fifo_delta = -2 * 8  # two fewer producer lanes of a 32 x 16-bit LUT-RAM FIFO (8 LUTs each)
    adapter = squeeze(2, 4, 16)  # conv0's 2 lanes re-grouped into pool1's 4
    assert adapter.lut > 0 and adapter.ff > 0
    assert squeezed.partitions[0].resources["lut"] - matched.partitions[0].resources["lut"] == (
        conv_delta + fifo_delta + adapter.lut)


def test_fpgaconvnet_names() -> None:
    assert fpgaconvnet_name("conv1/Conv:0") == "conv1_Conv"
    assert fpgaconvnet_name("t10x") == "t10x"
    assert fpgaconvnet_name("dense_Y") == "dense"


def test_bad_design_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_design(tmp_path / "none.json", lenet())
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(SpecError, match="not a SAMO"):
        load_design(bad, lenet())
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"partitions": [{"layers": [{"name": "x", "coarse_in": 1, "coarse_out": 1,
                                                             "fine": 1}]}]}))
    with pytest.raises(SpecError, match="do not match"):
        load_design(wrong, lenet())
    zero = tmp_path / "zero.json"
    layers = [{"name": n.name, "coarse_in": 0, "coarse_out": 1, "fine": 1} for n in lenet()]
    zero.write_text(json.dumps({"partitions": [{"layers": layers}]}))
    with pytest.raises(SpecError, match="coarse_in"):
        load_design(zero, lenet())


def test_bits_flag_sets_precision(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--bits", "8", "--json"]) == 0
    eight = json.loads(capsys.readouterr().out)
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--bits", "32", "--json"]) == 0
    wide = json.loads(capsys.readouterr().out)
    # 32 x 32-bit multipliers take ceil(64 / 48) = 2 DSPs (fpgaConvNet); 8 x 8 one
    assert sum(s["dsp"] for s in wide["stages"]) > 0 and eight["summary"]["throughput_per_s"] > 0
    assert main(["fpga", "--workload", "lenet", "--bits", "0"]) == 2


def test_samo_platform_presets() -> None:
    one = load_platform("samo-u250-1slr")
    assert (one.dsp, one.bram18, one.lut, one.ff, one.clock_mhz) == (2877, 1000, 345000, 690000, 100)
    assert one.reconfiguration_ms == pytest.approx(82.55)
    assert load_platform("samo-zcu106").uram == 96


def test_export_dict_lists_every_layer_once() -> None:
    net = lenet()
    rep = evaluate_design(net, {}, load_platform("zc706"), batch=4)
    data = design_to_samo(rep, net)
    assert [layer["name"] for p in data["partition"] for layer in p["layers"]] == [n.name for n in net]


def test_samo_exported_fpgaconvnet_json_is_evaluated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SAMO's own export (fpgaConvNet partition JSON, stored with the golden) through ``--design``."""
    data = json.loads((GOLDEN / "samo_lenet_zc706.json").read_text())
    path = tmp_path / "samo_out.json"
    path.write_text(json.dumps(data["fpgaconvnet_json"]))
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--clock-mhz", "100", "--batch", "256",
                 "--design", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["cycles"] for s in out["stages"]] == [layer["cycles"] for layer in data["partitions"][0]["layers"]]
    assert out["summary"]["batch_time_us"] == pytest.approx(data["latency_us"])
    assert out["summary"]["dsp_used"] == data["partitions"][0]["resources"]["DSP"]


def test_vgg_design_reproduces_samo_with_fpgaconvnet_cycles(capsys: pytest.CaptureFixture[str]) -> None:
    """fpgaConvNet 0.1.4.2 counts a padded conv's padding twice; --fpgaconvnet-cycles reproduces SAMO's figures."""
    path = GOLDEN / "samo_vgg_small_zcu102.json"
    data = json.loads(path.read_text())
    args = ["fpga", "--workload", "vgg_tiny", "--platform", "zcu102", "--clock-mhz", "100", "--design", str(path),
            "--json"]
    assert main(args + ["--fpgaconvnet-cycles"]) == 0
    out = json.loads(capsys.readouterr().out)
    samo_cycles = [layer["cycles"] for p in data["partitions"] for layer in p["layers"]]
    assert [s["cycles"] for s in out["stages"]] == samo_cycles
    assert out["summary"]["batch_time_us"] == pytest.approx(data["latency_us"])
    assert main(args) == 0  # our own cycle count is faster (no double padding)
    assert json.loads(capsys.readouterr().out)["summary"]["batch_time_us"] < data["latency_us"]


def test_unknown_and_duplicate_keys_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key neither SAMO format holds, or a key given twice, is refused in one line naming file, key and the
    keys accepted; every key SAMO wrote into the stored goldens (both formats) is accepted."""
    record = json.loads((GOLDEN / "samo_lenet_zc706.json").read_text())
    for stem in ("samo_lenet_zcu102", "samo_mlp_zc706", "samo_vgg_small_zcu102"):
        stored = json.loads((GOLDEN / f"{stem}.json").read_text())
        exported = tmp_path / f"{stem}_fcn.json"
        exported.write_text(json.dumps(stored["fpgaconvnet_json"]))
        with pytest.raises(SpecError, match="do not match|every layer"):  # keys pass; only the network differs
            load_design(exported, cnv())
    colour = tmp_path / "colour.json"
    colour.write_text(json.dumps({**record, "colour": 3}))
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--design", str(colour)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(colour) in err and "colour" in err and "partitions" in err
    fcn = record["fpgaconvnet_json"]
    fcn["partition"][0]["layers"][1]["parameters"]["colour"] = 3
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps(fcn))
    with pytest.raises(SpecError, match=r"partition\[0\]\.layers\[1\]\.parameters\.colour: unknown key"):
        load_design(nested, lenet())
    dup = tmp_path / "dup.json"
    dup.write_text('{"partitions": [], "batch": 1, "batch": 2}')
    with pytest.raises(SpecError, match="batch: duplicate key"):
        load_design(dup, lenet())
    for change, match in (({"batch": 0}, "batch: must be >= 1"), ({"batch": "x"}, "batch: not an integer"),
                          ({"partitions": [{"layers": "conv0"}]}, r"partitions\[0\]\.layers: must be a JSON list")):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**record, **change}))
        with pytest.raises(SpecError, match=match):
            load_design(bad, lenet())
    half = json.loads(json.dumps(record))
    half["partitions"][0]["layers"][0]["coarse_out"] = 2.5
    bad.write_text(json.dumps(half))
    with pytest.raises(SpecError, match="coarse_out: not an integer"):
        load_design(bad, lenet())
    with pytest.raises(SpecError, match="design: a directory, not a design file"):  # not "not found"
        load_design(tmp_path, lenet())
