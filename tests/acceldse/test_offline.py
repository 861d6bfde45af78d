"""``acceldse explore export``: the experience log as offline-RL transitions (D4RL-style arrays) that chain
episode by episode and start from what ``reset`` returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from acceldse.cli import main
from acceldse.explore import explore, make_env
from acceldse.offline import export_dataset
from acceldse.workloads.errors import SpecError

KW = {"workloads": ["alexnet", "mobilenet_v1"]}


def test_export_chains_transitions_and_starts_from_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "log.duckdb"
    log: list = []
    explore("AcceleratorDesign-v0", "random", 130, seed=3, env_kwargs=KW, store=store, on_evaluation=log.append)
    explore("AcceleratorDesign-v0", "sa", 20, seed=0, env_kwargs=KW, store=store)
    out = tmp_path / "d.npz"
    assert main(["explore", "export", "--store", str(store), "--out", str(out), "--where", "agent = 'random'"]) == 0
    assert "130 transitions" in capsys.readouterr().out
    d = np.load(out)
    assert d["observations"].shape == d["next_observations"].shape == (130, 38) and d["actions"].shape == (130, 8)
    np.testing.assert_array_equal(d["actions"], [ev.action for ev in log])
    np.testing.assert_array_equal(d["rewards"], np.float32([ev.reward for ev in log]))
    starts = np.flatnonzero(d["episode_starts"])
    assert list(starts) == [0, 100] and d["timeouts"][99] and not d["terminals"].any()  # TimeLimit at 100
    inner = ~d["episode_starts"][1:]
    np.testing.assert_array_equal(d["observations"][1:][inner], d["next_observations"][:-1][inner])
    env = make_env("AcceleratorDesign-v0", KW)  # each episode starts where the env's reset puts it
    first, _ = env.reset(seed=3)
    second, _ = env.reset()
    np.testing.assert_array_equal(d["observations"][0], first)
    np.testing.assert_array_equal(d["observations"][100], second)
    assert export_dataset(store, tmp_path / "all.npz")["runs"] == 2


def test_export_bad_input(tmp_path: Path) -> None:
    store = tmp_path / "log.duckdb"
    explore("AcceleratorDesign-v0", "random", 3, seed=0, env_kwargs={"workload": "alexnet"}, store=store)
    with pytest.raises(SpecError, match=r"\.npz"):
        export_dataset(store, tmp_path / "d.csv")
    with pytest.raises(SpecError, match="unknown dataset format"):
        export_dataset(store, tmp_path / "d.npz", fmt="hdf5")
    with pytest.raises(SpecError, match="no logged evaluation matches"):
        export_dataset(store, tmp_path / "d.npz", env="FpgaDesign-v0")
    explore("AcceleratorDesign-v0", "random", 3, seed=0, env_kwargs={"workload": "alexnet", "knobs": {"rows": [8]}},
            store=store)
    explore("AcceleratorDesign-v0", "random", 3, seed=0, env_kwargs=KW, store=store)
    with pytest.raises(SpecError, match="several env settings"):  # other knob values: another MDP
        export_dataset(store, tmp_path / "d.npz")
    assert export_dataset(store, tmp_path / "d.npz", where="env_kwargs LIKE '%rows%'")["transitions"] == 3
