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


def test_minari_export_round_trips_through_minaris_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same transitions as the D4RL arrays, read back with ``minari.load_dataset``; the dataset's env spec
    rebuilds the env (with its constructor arguments) the log came from."""
    import minari

    store = tmp_path / "log.duckdb"
    explore("AcceleratorDesign-v0", "random", 130, seed=3, env_kwargs=KW, store=store)
    export_dataset(store, tmp_path / "d.npz")
    d = np.load(tmp_path / "d.npz")
    root = tmp_path / "minari"
    assert main(["explore", "export", "--store", str(store), "--out", str(root), "--dataset-format", "minari"]) == 0
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    dataset = minari.load_dataset("acceldse/AcceleratorDesign/explore-v0")
    assert dataset.total_episodes == 2 and dataset.total_steps == 130
    episodes = list(dataset.iterate_episodes())
    starts = np.flatnonzero(d["episode_starts"])
    for ep, a, z in zip(episodes, starts, [*starts[1:], 130]):
        np.testing.assert_array_equal(ep.observations[0], d["observations"][a])
        np.testing.assert_array_equal(ep.observations[1:], d["next_observations"][a:z])
        np.testing.assert_array_equal(ep.actions, d["actions"][a:z])
        np.testing.assert_array_equal(ep.rewards, d["rewards"][a:z])
    assert episodes[0].truncations[-1] and episodes[1].truncations[-1]  # TimeLimit at 100; the budget at 130
    assert not any(ep.terminations.any() for ep in episodes)
    env = dataset.recover_environment()
    assert env.unwrapped.workloads == KW["workloads"] and env.observation_space.shape == (38,)
    with pytest.raises(SpecError, match="already exists"):
        export_dataset(store, root, fmt="minari")
    with pytest.raises(SpecError, match="folder"):
        export_dataset(store, tmp_path / "d.npz", fmt="minari")
