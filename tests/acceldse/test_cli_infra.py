"""The shared command-line behaviour every command gets from ``acceldse.commands.common``:
fast start, --format, -v, exit codes, path and seed checks, progress bars, quiet broken pipes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from acceldse.cli import build_parser, main
from acceldse.commands import common
from tests.acceldse.cli_helpers import leaf_parsers

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numba", "scipy", "simpy", "onnx", "torch", "tqdm", "duckdb", "matplotlib", "ray", "pyarrow")


LEAVES = [path for path, _ in leaf_parsers(build_parser())]


def test_building_the_parser_imports_no_heavy_module() -> None:
    code = ("import sys, acceldse, acceldse.cli; acceldse.cli.build_parser(); "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{HEAVY!r} or m.startswith(('acceldse.simulator.systolic', 'acceldse.simulator.event', "
            "'acceldse.mapper.search')))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"imported while building the parser: {out}"


def test_public_api_is_lazy_and_complete() -> None:
    import acceldse

    for name in acceldse.__all__:
        assert getattr(acceldse, name) is not None
    with pytest.raises(AttributeError):
        _ = acceldse.no_such_name


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_every_command_has_format_verbose_and_an_example(path: tuple[str, ...]) -> None:
    parser = dict(leaf_parsers(build_parser()))[path]
    flags = {opt for action in parser._actions for opt in action.option_strings}
    assert {"--format", "--json", "-v"} <= flags, path
    text = parser.format_help()
    assert "acceldse " + path[0] in text and "exit codes" in text


def test_cli_constants_equal_the_api_ones() -> None:
    from acceldse.api import DEFAULT_MAX_WORK
    from acceldse.commands import map, stream
    from acceldse.mapper.search import METHODS
    from acceldse.simulator.fidelities import FIDELITIES
    from acceldse.simulator.streaming.sdpa import CRITERIA
    from acceldse.simulator.systolic.cycle import DEFAULT_MAX_PE_CYCLES

    choices = {a.dest: a.choices for a in dict(leaf_parsers(build_parser()))[("simulate",)]._actions}
    assert tuple(choices["fidelity"]) == tuple(FIDELITIES) and DEFAULT_MAX_WORK["cycle"] == DEFAULT_MAX_PE_CYCLES
    assert map.SEARCH_METHODS == tuple(METHODS)
    assert stream.CRITERIA == CRITERIA


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("acceldse 0.")


SMALL_RUNS = [
    ["simulate", "--workload", "bert_base", "--param", "num_layers=1", "--dataflow", "all"],
    ["simulate", "--workload", "alexnet", "--hardware", "tpu-hbm-like", "--fidelity", "event"],
    ["list"],
    ["map", "--workload", "resnet18", "--layer", "layer1.0.conv1", "--budget", "300"],
    ["fpga", "--workload", "lenet", "--platform", "zcu102"],
    ["fpga", "swat", "--platform", "zcu102", "--seq-len", "1024", "2048"],
    ["stream", "sdpa", "--variant", "reordered", "--seq-len", "32", "--head-dim", "8"],
    ["stream", "min-depth", "--variant", "naive", "--seq-len", "32"],
    ["tiers", "switch", "--experts", "20"],
    ["tiers", "fusion", "--workload", "gpt2_decode", "--layers"],
    ["tiers", "event", "--workload", "alexnet"],
]


@pytest.mark.parametrize("argv", SMALL_RUNS, ids=lambda a: " ".join(a[:2]))
def test_formats_table_fits_100_columns_csv_and_json_parse(argv: list[str], capsys) -> None:
    assert main(argv) == 0
    table = capsys.readouterr().out
    wide = [line for line in table.splitlines() if len(line) > common.TABLE_WIDTH]
    assert not wide, wide[:3]
    assert main([*argv, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows)
    assert main([*argv, "--format", "json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), dict)


def test_render_table_wraps_into_blocks_repeating_the_key_columns() -> None:
    rows = [{"layer": f"block.{i}.attention.self.query_projection_long_name", "dataflow": "os",
             **{f"metric_{j}_cycles": 10**j * (i + 1) for j in range(12)}, "fraction": 0.5 / (i + 1)}
            for i in range(3)]
    text = common.render_table(rows, keys=2)
    lines = text.splitlines()
    assert max(map(len, lines)) <= common.TABLE_WIDTH
    headers = [line for line in lines if line.startswith("layer")]
    assert len(headers) >= 2 and all("dataflow" in h for h in headers)
    assert "1,000,000" in text and "0.500" in text and "~" in text  # separators, decimals, shortened names


def test_errors_go_to_stderr_with_exit_2(capsys) -> None:
    assert main(["simulate", "--workload", "nosuchnet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("acceldse: error:")


def test_a_warning_is_one_line_naming_the_input(tmp_path: Path, capsys) -> None:
    """An ONNX model with an op acceldse does not model: one warning line naming the file and the op,
    not the path and source line of the acceldse module that raised it."""
    import onnx

    from tests.workloads.onnx_graphs import with_unsupported

    model = tmp_path / "m.onnx"
    onnx.save(with_unsupported(), model)
    assert main(["simulate", "--workload", str(model), "--format", "csv"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("WARNING py.warnings: OnnxImportWarning: ") and "m.onnx" in lines[0]
    assert ".py" not in lines[0], lines


def test_verbose_logs_what_every_command_does(capsys) -> None:
    assert main(["list", "dataflows", "-v"]) == 0
    err = capsys.readouterr().err
    assert "INFO acceldse: list" in err and "finished in" in err
    assert main(["-v", "stream", "min-depth", "--variant", "naive", "--seq-len", "16"]) == 0
    assert "INFO acceldse: stream" in capsys.readouterr().err


def test_output_paths_are_checked_before_any_work(tmp_path: Path, capsys) -> None:
    assert main(["simulate", "--workload", "alexnet", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    nested = tmp_path / "new" / "folder" / "r.csv"
    assert main(["simulate", "--workload", "alexnet", "--out", str(nested), "--format", "csv"]) == 0
    assert nested.is_file()
    trace = tmp_path / "missing" / "t.json"
    assert main(["stream", "sdpa", "--variant", "reordered", "--seq-len", "8", "--head-dim", "4",
                 "--trace", str(trace), "--json"]) == 0
    assert json.loads(trace.read_text())["traceEvents"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["tiers", "event", "--workload", "alexnet", "--trace", str(blocker / "t.json")]) == 2
    assert "--trace" in capsys.readouterr().err
    assert main(["map", "--workload", "alexnet", "--save-mappings", str(blocker)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["map", "--seed", "-1"], ["stream", "sdpa", "--variant", "naive", "--seq-len", "8", "--head-dim", "2",
                              "--seed", str(2**32)],
    ["fpga", "--method", "anneal", "--seed", "-5"]])
def test_seeds_are_validated(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    assert "--seed" in capsys.readouterr().err


def test_check_turns_a_deadlock_into_exit_1(capsys) -> None:
    argv = ["stream", "sdpa", "--variant", "naive", "--seq-len", "32", "--head-dim", "4", "--fifo-depth", "8"]
    assert main(argv) == 0
    assert "DEADLOCK" in capsys.readouterr().out
    assert main([*argv, "--check"]) == common.EXIT_CHECK_FAILED
    assert main(argv[:-2] + ["--check"]) == 0


def test_progress_bar_only_on_a_terminal(monkeypatch) -> None:
    assert common.progress_bar("x") is None  # pytest's stderr is not a terminal
    fake = io.StringIO()
    fake.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", fake)
    bar = common.progress_bar("cycle fidelity", unit="layer")
    assert bar is not None
    for i in range(4):
        bar(i, 3, f"layer{i}")
    assert "cycle fidelity" in fake.getvalue()


def test_broken_pipe_is_quiet() -> None:
    proc = subprocess.run(f"{sys.executable} -m acceldse simulate --workload resnet50 --dataflow all | head -1",
                          shell=True, cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.startswith("resnet50 on") and proc.stderr == ""


@pytest.mark.parametrize(("kwargs", "argv", "name"), [
    ({"fidelity": "event", "max_work": 1}, ["--fidelity", "event", "--max-work", "1"], "max_work"),
    ({"dataflow": "zz"}, ["--dataflow", "zz"], "dataflow"),
    ({"max_work": 5}, ["--max-work", "5"], "max_work"),  # the analytical model is never limited
])
def test_the_api_names_arguments_and_the_cli_their_flags(kwargs, argv, name, capsys) -> None:
    """A lower layer's error names the Python argument; the CLI shows the flag that set it."""
    import acceldse
    from acceldse.workloads.errors import SpecError

    with pytest.raises(SpecError) as info:
        acceldse.simulate("lenet", **kwargs)
    assert str(info.value).startswith(f"{name}: ") and "--" not in str(info.value)
    assert main(["simulate", "--workload", "lenet", *argv]) == 2
    err = capsys.readouterr().err.strip()
    flag = "--" + name.replace("_", "-")
    assert err.startswith(f"acceldse: error: {flag}: ") and err.endswith(str(info.value).split(": ", 1)[1])


def test_a_python_argument_value_in_a_message_is_its_flag_on_the_cli(capsys) -> None:
    """``compat='scalesim'`` in an error is what a Python caller writes; the CLI says ``--compat scalesim``."""
    import acceldse
    from acceldse.workloads.errors import SpecError

    cfg = str(ROOT / "examples" / "scale.cfg")
    with pytest.raises(SpecError, match="no fidelity with compat='scalesim'"):
        acceldse.simulate("lenet", cfg, compat="scalesim", fidelity="event")
    argv = ["simulate", "--workload", "lenet", "--hardware", cfg, "--compat", "scalesim", "--fidelity", "event"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no fidelity with --compat scalesim" in err and "compat='" not in err


def test_an_interrupt_claims_resumable_work_only_for_commands_with_a_store(capsys) -> None:
    """SIGTERM of `simulate` (nothing committed) is one line without "rerun to resume"; of a sweep, with it."""
    import argparse

    from acceldse.cli import EXIT_SIGTERM, Terminated, _run

    def stop(args: argparse.Namespace) -> int:
        raise Terminated

    assert _run(argparse.Namespace(func=stop)) == EXIT_SIGTERM
    assert capsys.readouterr().err == "acceldse: interrupted (SIGTERM)\n"
    assert _run(argparse.Namespace(func=stop, store="r.duckdb")) == EXIT_SIGTERM
    assert "rerun the command to resume" in capsys.readouterr().err
