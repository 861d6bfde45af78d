"""The analytical kernels give the same numbers as plain Python and compiled by numba, and a command that
needs neither the envs nor plots nor numba nor pandas imports none of them (start-up: ``simulator.systolic.jit``).

Both run in a fresh process: once numba has compiled the kernels a process cannot run them as Python."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from acceldse.simulator.specs.presets import PRESET_DIR
from acceldse.workloads.spec_io import read_yaml

ROOT = Path(__file__).resolve().parents[2]

NOT_FOR_SIMULATE = ("numba", "gymnasium", "ray", "matplotlib", "torch", "simpy", "scipy", "sklearn", "pandas",
                    "pyarrow", "yaml", "configparser", "hashlib", "importlib.resources")
"""Packages (and modules) the simulate command does without (start-up cost): a preset is read from its
parsed copy (``workloads.spec_io.read_yaml``), the parser is built for the command named alone."""

SCRIPT = """
import contextlib, io, json, sys
import numpy as np
import acceldse
from acceldse.cli import main
after_import = sorted(m for m in sys.modules if m in {heavy} or m.split('.')[0] in {heavy})
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["simulate", "--workload", "resnet18", "--dataflow", "all"]) == 0
after_simulate = sorted(m for m in sys.modules if m in {heavy} or m.split('.')[0] in {heavy})

from dataclasses import replace
from acceldse.dataflows.dataflow import DATAFLOWS
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.systolic import jit
from acceldse.simulator.systolic.batch import lowered_counts, network_cases
from acceldse.simulator.systolic.hardware import HardwareArrays
from acceldse.workloads.loader import load_workload

nets = [load_workload("resnet18"), load_workload("mobilenet_v1", weight_sparsity="2:4"),
        load_workload("bert_base", num_layers=1), load_workload("vit_b16")]
one_core = HardwareArrays.of([load_hardware(n) for n in ("scalesim-32x32", "tpu-v1-like", "edge-8x8")])
acc = load_hardware("tpu-hbm-like")  # 4 cores, HBM
cores = HardwareArrays.of([acc, replace(acc, cores=3)])  # multi-core: every fold of a core's chunk walked
jobs = [(net, df) for net in nets for df in ("os", "ws", "is") if not (net.name.startswith("mobilenet") and df == "is")]
cases = [network_cases(net, DATAFLOWS[df]) for net, df in jobs]

def run():
    return [lowered_counts(nc, one_core) for nc in cases] + [lowered_counts(nc, cores) for nc in cases[5:8]]  # bert

with jit.interpreted():
    python = run()
compiled_before = jit.compiled()
jit.compile_kernels()
numba_ = run()
same = all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(python, numba_))
print(json.dumps({{"after_import": after_import, "after_simulate": after_simulate, "same": same,
                  "compiled_before": compiled_before, "pairs": sum(len(c[0]) * c[0].shape[1] for c in python),
                  "cycles": float(sum(c[0][..., 1].sum() for c in python))}}))
"""


@pytest.mark.slow  # a fresh process loads numba (about 5 s on 2 busy cores)
def test_python_and_numba_kernels_agree_and_simulate_loads_neither_numba_nor_envs() -> None:
    read_yaml(PRESET_DIR / "scalesim-32x32.yaml", kind="hardware")  # its parsed copy (a fresh checkout has none)
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(heavy=set(NOT_FOR_SIMULATE))], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["after_import"] == [] and got["after_simulate"] == [], got
    assert not got["compiled_before"]  # the first pass really ran as Python
    assert got["pairs"] > 400 and got["cycles"] > 0
    assert got["same"]
