"""``acceldse fpga`` command line."""

import json

import pytest

from acceldse.cli import main


def test_fpga_lenet_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--clock-mhz", "100", "--batch", "256"]) == 0
    out = capsys.readouterr().out
    assert "conv0" in out and "fc7" in out and "throughput" in out and "10,000.0 samples/s" in out


def test_fpga_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--workload", "lenet", "--platform", "zcu102", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["dsp_used"] <= data["summary"]["dsp_available"]
    assert {"layer", "coarse_in", "coarse_out", "fine", "cycles", "dsp", "bram18", "lut", "ff", "partition"} <= set(
        data["stages"][0])


def test_fpga_swat(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "swat", "--platform", "zcu102", "--seq-len", "1024", "2048", "--window", "256",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["seq_len"] for r in rows] == [1024, 2048]
    assert rows[1]["swat_latency_ms"] < rows[1]["dense_latency_ms"]
    assert capsys.readouterr().err == ""


def test_fpga_swat_window_past_the_sequence_says_it_is_dense(capsys: pytest.CaptureFixture[str]) -> None:
    """A window of N keys or more covers the sequence (window attention = dense attention): the row's window
    is N, its latency the dense one, and one line says so."""
    assert main(["fpga", "swat", "--platform", "zcu102", "--seq-len", "256", "1024", "--window", "512",
                 "--json"]) == 0
    out, err = capsys.readouterr()
    short, long = json.loads(out)["rows"]
    assert short["window"] == 256 and short["swat_latency_ms"] == short["dense_latency_ms"]
    assert long["window"] == 512 and long["swat_latency_ms"] < long["dense_latency_ms"]
    assert err.count("\n") == 1 and "--window 512 covers --seq-len 256:" in err and "dense" in err


def test_fpga_bad_platform(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--workload", "lenet", "--platform", "nope"]) == 2
    assert "unknown FPGA platform" in capsys.readouterr().err


def test_fpga_help_has_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fpga", "--help"])
    assert "acceldse fpga --workload lenet" in capsys.readouterr().out


def test_limit_in_a_range_error_is_written_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fpga", "--workload", "lenet", "--platform", "zc706", "--batch", "0"]) == 2
    assert capsys.readouterr().err.strip().endswith("expected an integer >= 1 and <= 1,073,741,824")  # not 1.07374e+09
