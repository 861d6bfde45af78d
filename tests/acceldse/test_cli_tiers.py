"""``acceldse tiers``: switch, fusion and event sub-commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acceldse.cli import main


def test_tiers_switch_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tiers", "switch", "--hardware", "sn40l-like", "--params", "8e9", "--dtype", "bf16",
                 "--experts", "1", "--sockets", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mean_switch_seconds"] == pytest.approx(0.01)
    assert [t["experts"] for t in data["tiers"]] == [0, 1, 0]


def test_tiers_switch_default_150_experts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tiers", "switch", "--hardware", "sn40l-like", "--params", "8e9", "--dtype", "bf16",
                 "--experts", "150"]) == 0
    out = capsys.readouterr().out
    assert "150 experts x 16 GB on 2 x sn40l-like" in out
    docs = (Path(__file__).parents[2] / "docs" / "memory_tiers.md").read_text()
    quoted = docs.split("$ acceldse tiers switch --hardware sn40l-like --params 8e9 --dtype bf16 --experts 150\n")[1]
    assert [line for line in out.splitlines() if line] == quoted.split("\n```")[0].splitlines()  # the docs' block
    assert "6.010e-05" in out  # a switch time under 1e-4 s in scientific notation, not 0.00006010


def test_tiers_switch_sockets_bounded_and_time_in_readable_units(capsys: pytest.CaptureFixture[str]) -> None:
    """--sockets past the model's MAX_SOCKETS is refused at load; a tiny switch time keeps its digits."""
    assert main(["tiers", "switch", "--sockets", "100000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("acceldse: error: --sockets: too large") and "1,024" in err
    assert main(["tiers", "switch", "--sockets", "1024"]) == 0
    assert "mean switch time (expert picked uniformly): 7.643 us" in capsys.readouterr().out
    from acceldse.simulator.specs.presets import load_hardware
    from acceldse.simulator.tiers.switching import expert_switching
    from acceldse.workloads.errors import SpecError

    with pytest.raises(SpecError, match="sockets"):
        expert_switching(load_hardware("sn40l-like"), 8e9, sockets=1025)


def test_tiers_fusion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tiers", "fusion", "--hardware", "sn40l-like", "--workload", "gpt2_decode", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["block"] == "h.0" and data["speedup"] > 1
    assert data["unfused_bytes"] > data["fused_bytes"]


def test_tiers_fusion_python_equals_cli_and_takes_a_topology(capsys: pytest.CaptureFixture[str]) -> None:
    """The Python study runs what the command runs (bf16 zoo operands by default), and a SCALE-Sim
    topology, which has no ``bits``, is not refused over a flag the user never gave."""
    from acceldse import fusion

    assert main(["tiers", "fusion", "--workload", "gpt2_decode", "--kv-len", "64", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["speedup"] == fusion(workload="gpt2_decode", kv_len=64).speedup
    topology = str(Path(__file__).with_name("tiny_topology.csv"))
    assert main(["tiers", "fusion", "--workload", topology, "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["speedup"] == 1  # one layer: nothing to fuse


def test_tiers_event_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.json"
    assert main(["tiers", "event", "--workload", "bert_base", "--hardware", "tpu-hbm-like", "--cores", "4",
                 "--trace", str(path)]) == 0
    assert "stall_contention_cycles" in capsys.readouterr().out
    assert json.loads(path.read_text())["traceEvents"]


def test_tiers_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["tiers"], ["tiers", "switch"], ["tiers", "fusion"], ["tiers", "event"]):
        with pytest.raises(SystemExit):
            main([*cmd, "--help"])
        assert "acceldse tiers switch --hardware sn40l-like" in capsys.readouterr().out


def test_tiers_event_weights_in_ddr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    assert main(["tiers", "event", "--workload", "bert_base", "--hardware", "sn40l-like", "--weights-tier", "ddr",
                 "--staging-depth", "1", "--trace", str(path)]) == 0
    assert "stall_staging_cycles" in capsys.readouterr().out
    tracks = {e["args"]["name"] for e in json.loads(path.read_text())["traceEvents"] if e["ph"] == "M"}
    assert {"stage ddr", "core0", "dma0 (hbm)"} <= tracks


def test_tiers_switch_bad_dtype_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tiers", "switch", "--hardware", "sn40l-like", "--params", "8e9", "--dtype", "int3"]) == 2
    assert capsys.readouterr().err.startswith("acceldse: error: --dtype: unknown dtype (got 'int3')")


@pytest.mark.parametrize("argv, line", [
    (["event", "--workload", "gpt2_decode", "--hardware", "sn40l-like", "--weights-tier", "nvme"],
     "--weights-tier: unknown memory tier of sn40l-like (got 'nvme'); expected sram, hbm, ddr or auto"),
    (["fusion", "--hardware", "sn40l-like", "--workload", "bert_base", "--block", "nope"],
     "--block: no layer of zoo:bert_base in this block (got 'nope')"),
])
def test_tiers_bad_value_names_its_flag(argv: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A tier or block the hardware / workload lacks names the flag, not the preset file or the zoo network."""
    assert main(["tiers", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"acceldse: error: {line}") and err.count("\n") == 1
