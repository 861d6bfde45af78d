"""Fuzzing every command's arguments (in process) and the hardware spec's numbers.

Every leaf command of the parser is found by introspection (new commands are fuzzed too); its
options get values from a pool of nasty and ordinary values. The only outcomes allowed: exit 0/1
with a sane result (``--format json`` parses), or exit 2 with one line on stderr (or an argparse
usage error); never a traceback, an internal error or a hang. Heavy knobs (the workload) are pinned
to a one-layer topology so that each run is milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acceldse.cli import build_parser, main
from acceldse.workloads.errors import SpecError
from tests.acceldse.cli_helpers import leaf_parsers

TINY_CSV = Path(__file__).with_name("tiny_topology.csv")
PINNED = {  # appended after the fuzzed flags (the last value wins): keeps every run small
    "simulate": ["--workload", str(TINY_CSV)],
    "map": ["--workload", str(TINY_CSV)],
    "fpga": ["--workload", "lenet"],
    "tiers event": ["--workload", str(TINY_CSV)],
    "tiers fusion": ["--workload", "gpt2_decode", "--kv-len", "64"],
    "explore compare": ["--budget", "2", "--seeds", "1", "--agents", "random"],
    "validate": ["--reuse"],  # the figures test_validation.py computed this session (or once here), not per example
}
REQUIRED = {  # required arguments, given first (the fuzzer may override them)
    "stream sdpa": ["--variant", "reordered", "--seq-len", "8", "--head-dim", "4"],
    "stream min-depth": ["--variant", "naive", "--seq-len", "8"],
    "stream run": [str(Path(__file__).with_name("tiny_graph.yaml"))],
    "sweep": ["missing_sweep.yaml"],
    "results": ["missing.duckdb"],
    "plot": ["pareto", "missing.duckdb", "--out", "figure.png"],
    "proxy train": ["--store", "missing.duckdb", "--target", "latency_us"],
}
NUMBERS = ["-1", "0", "1", "2", "7", "0.5", "1e-300", "1e300", "nan", "inf", "-inf", str(2**31), str(2**63),
           "9e18", "1e12", "abc", ""]
TEXTS = ["", "%", "%(x)s", "x" * 300, "/", ".", "/nonexistent/dir/file.csv", "out.xlsx", "scalesim:nope",
         "resnet9000", "é", "a=b", "width=0.5", "batch=4", "batch", "=", "../", "model.onnx", "hw.yaml", "hw.cfg"]
EXAMPLES = int(os.environ.get("ACCELDSE_FUZZ_EXAMPLES", "25"))  # per command; raise it for a longer campaign
COUNTS = {"max_examples": EXAMPLES, "deadline": None, "derandomize": "ACCELDSE_FUZZ_EXAMPLES" not in os.environ,
          "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
TALLY: dict[str, dict[int, int]] = {}


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings and a.dest not in ("help", "version")]


def _value(action: argparse.Action) -> st.SearchStrategy[list[str]]:
    if action.nargs == 0:
        return st.just([])
    if action.choices:
        pool = st.sampled_from([*map(str, action.choices), "bogus"])
    elif action.type in (int, float):
        pool = st.sampled_from(NUMBERS)
    else:
        pool = st.sampled_from(TEXTS + NUMBERS[:6])
    if action.nargs in ("+", "*"):
        return st.lists(pool, min_size=1, max_size=3)
    return pool.map(lambda v: [v])


def _argv(path: tuple[str, ...], parser: argparse.ArgumentParser) -> st.SearchStrategy[list[str]]:
    actions = _options(parser)
    flag = st.sampled_from(actions).flatmap(lambda a: _value(a).map(lambda v: [a.option_strings[-1], *v]))
    return st.lists(flag, max_size=4).map(lambda pairs: [x for pair in pairs for x in pair])


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: --help (0) and usage errors (2)
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


LEAVES = list(leaf_parsers(build_parser()))


@pytest.mark.parametrize("path,parser", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_fuzzed_arguments_exit_cleanly(path: tuple[str, ...], parser: argparse.ArgumentParser, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative output paths land in the test's folder
    name = " ".join(path)
    tally = TALLY.setdefault(name, {})

    @settings(**COUNTS)
    @given(fuzzed=_argv(path, parser), fmt=st.sampled_from(["table", "json"]))
    def check(fuzzed: list[str], fmt: str) -> None:
        argv = [*path, *REQUIRED.get(name, []), *fuzzed, *PINNED.get(name, []), "--format", fmt]
        code, out, err = run_in_process(argv)
        tally[code] = tally.get(code, 0) + 1
        assert code in (0, 1, 2), (argv, code, err[-2000:])
        assert "Traceback" not in err and "internal error" not in err, (argv, err[-2000:])
        if code == 2:
            errors = [line for line in err.splitlines() if re.match(r"acceldse( [\w-]+)*: error: ", line)]
            assert len(errors) == 1, (argv, err[-500:])
        elif fmt == "json" and "--help" not in argv and "-h" not in argv:
            assert isinstance(json.loads(out), dict | list), argv

    check()
    assert sum(tally.values()) >= COUNTS["max_examples"]


NUMBER = st.one_of(st.integers(-2, 2**40), st.sampled_from([0.0, 1e-300, 1e-3, 0.5, 1e300, 9e18, math.nan, math.inf]),
                   st.floats(1e-4, 1e6))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(dram_bw=NUMBER, latency=NUMBER, sram_kib=NUMBER, clock=NUMBER)
def test_fuzzed_hardware_numbers_are_refused_or_simulate_sanely(dram_bw, latency, sram_kib, clock) -> None:
    """Any DRAM bandwidth/latency, SRAM size or clock: a SpecError at load, or results where event
    equals analytical (one core), stalls are >= 0 and the cycles cover the DRAM bytes at that bandwidth."""
    import acceldse
    from acceldse.simulator.specs.accelerator import accelerator_from_dict

    spec = {"version": 1, "name": "fuzz", "clock_mhz": clock, "array": {"rows": 8, "cols": 8},
            "tiers": [{"name": "sram", "kind": "sram", "bw_bytes_per_cycle": 64,
                       "partitions": {op: f"{sram_kib}KiB" if isinstance(sram_kib, int) else sram_kib
                                      for op in ("ifmap", "filter", "ofmap")}},
                      {"name": "dram", "kind": "dram", "capacity": "1GiB", "bw_bytes_per_cycle": dram_bw,
                       "latency_cycles": latency}]}
    try:
        acc = accelerator_from_dict(spec, source="fuzz.yaml")
    except SpecError:
        return
    analytical = acceldse.simulate(str(TINY_CSV), acc, "all").layers
    event = acceldse.simulate(str(TINY_CSV), acc, "all", fidelity="event").layers
    assert (analytical.total_cycles.values == event.total_cycles.values).all()
    assert (analytical.stall_cycles >= 0).all() and (analytical.total_cycles > 0).all()
    bound = analytical.dram_bytes / min(acc.dram.read_bw_bytes_per_cycle, acc.dram.write_bw_bytes_per_cycle)
    assert (analytical.total_cycles >= 0.99 * bound / 2).all()  # reads and writes share one channel
    assert analytical.latency_us.map(math.isfinite).all()


def test_tally_is_reported() -> None:
    """Prints the fuzzing counts per command (exit code -> runs), for the project's note (pytest -s)."""
    for name, counts in sorted(TALLY.items()):
        print(f"fuzz {name:18s} " + ", ".join(f"exit {k}: {v}" for k, v in sorted(counts.items())))
