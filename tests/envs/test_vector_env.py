"""The batched vector env of AcceleratorDesign-v0 (``vectorization_mode="vector_entry_point"``): the same
observations, rewards, terminations and truncations as Gymnasium's ``SyncVectorEnv`` of the env, through
next-step autoresets, on every reward kind."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import acceldse  # noqa: F401  (registers acceldse/*)
from acceldse.envs.vector_design import AcceleratorDesignVectorEnv
from acceldse.workloads.errors import SpecError

ID = "acceldse/AcceleratorDesign-v0"
ROOT = Path(__file__).resolve().parents[2]
COMMAND = "bench_envs.py --part vector"
ROWS = ("AcceleratorDesign-v0 x256", "workload set x256")
DESIGN = {"rows": 16, "cols": 64, "ifmap_kib": 64, "filter_kib": 128, "ofmap_kib": 32, "dram_gbyte_per_s": 20,
          "dataflow": "is", "clock_mhz": 700}


@pytest.mark.parametrize("kwargs", [
    {"workload": "mobilenet_v1", "max_episode_steps": 7},                       # truncations
    {"workload": "alexnet", "targets": {"latency_us": 4000, "area_mm2": 8}},   # some designs meet: terminations
    {"workload": "bert_base", "reward": "edp_uj_us", "max_episode_steps": 5},
    {"workload": "alexnet", "knobs": {"cores": [1, 2, 4]}, "reward": "latency_us", "max_episode_steps": 5},
    # a workload set: each sub-env samples its episode's workload from its own seeded generator
    {"workloads": ["alexnet", "mobilenet_v1", {"name": "bert_base", "seq_len": 64}], "max_episode_steps": 3},
])
def test_batched_equals_sync(kwargs: dict) -> None:
    n = 16
    sync = gym.make_vec(ID, num_envs=n, vectorization_mode="sync", **kwargs)
    vec = gym.make_vec(ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    assert isinstance(vec, AcceleratorDesignVectorEnv)
    assert vec.observation_space == sync.observation_space and vec.action_space == sync.action_space
    rng = np.random.default_rng(1)
    a, b = sync.reset(seed=0)[0], vec.reset(seed=0)[0]
    np.testing.assert_array_equal(a, b)
    ends = 0
    for step in range(12):
        if step == 3:  # a start design posed to every sub-env
            design = {**DESIGN, **({"cores": 2} if "knobs" in kwargs else {})}
            np.testing.assert_array_equal(sync.reset(options={"design": design})[0],
                                          vec.reset(options={"design": design})[0])
        if step == 6 and "workloads" in kwargs:  # a workload outside the set, posed to every sub-env
            np.testing.assert_array_equal(sync.reset(options={"workload": "resnet18"})[0],
                                          vec.reset(options={"workload": "resnet18"})[0])
        actions = rng.integers(0, sync.single_action_space.nvec, size=(n, len(sync.single_action_space.nvec)))
        s, v = sync.step(actions), vec.step(actions)
        for x, y in zip(s[:4], v[:4]):
            np.testing.assert_array_equal(x, y)
        ends += int(np.sum(s[2] | s[3]))
        if "workloads" in kwargs:
            np.testing.assert_array_equal(v[4]["workload"], s[4]["workload"])
    assert ends > 0  # autoresets were exercised
    sync.close()
    vec.close()


def test_vector_reward_equals_the_single_envs() -> None:
    """``reward="vector"`` (the sync vector env cannot hold array rewards): each row equals the single env's reward
    of the same sub-env (seeded ``seed + i``, next-step autoreset after its ``TimeLimit``), as do observations
    and terminations."""
    n, steps, limit = 6, 5, 3
    kwargs = {"workload": "alexnet", "reward": "vector", "targets": {"latency_us": 4000, "area_mm2": 8}}
    vec = gym.make_vec(ID, num_envs=n, vectorization_mode="vector_entry_point", max_episode_steps=limit, **kwargs)
    singles = [gym.make(ID, max_episode_steps=limit, disable_env_checker=True, **kwargs) for _ in range(n)]
    assert vec.reward_space.shape == (n, 3) and vec.single_reward_space == singles[0].unwrapped.reward_space
    obs = np.stack([e.reset(seed=i)[0] for i, e in enumerate(singles)])
    np.testing.assert_array_equal(vec.reset(seed=0)[0], obs)
    rng = np.random.default_rng(3)
    done = np.zeros(n, dtype=bool)
    restarts = 0
    for _ in range(steps):
        actions = rng.integers(0, vec.single_action_space.nvec, size=(n, len(vec.single_action_space.nvec)))
        o, r, term, trunc, _ = vec.step(actions)
        assert r.shape == (n, 3) and r.dtype == np.float32
        for i, e in enumerate(singles):
            if done[i]:  # next-step autoreset
                np.testing.assert_array_equal(o[i], e.reset()[0])
                assert not r[i].any() and not term[i] and not trunc[i]
                done[i] = False
                restarts += 1
                continue
            so, sr, st, su, _ = e.step(actions[i])
            np.testing.assert_array_equal(o[i], so)
            np.testing.assert_array_equal(r[i], sr)
            assert (term[i], trunc[i]) == (st, su)
            done[i] = st or su
    assert restarts > 0


def test_bad_input() -> None:
    with pytest.raises(SpecError, match="sync"):
        gym.make_vec(ID, num_envs=2, vectorization_mode="vector_entry_point", fidelity="event")
    vec = gym.make_vec(ID, num_envs=2, vectorization_mode="vector_entry_point", workload="alexnet")
    vec.reset(seed=0)
    with pytest.raises(SpecError, match="rows"):
        vec.step(np.array([[0] * 8, [99] + [0] * 7]))
    with pytest.raises(SpecError, match="shape"):
        vec.step(np.zeros((3, 8), dtype=np.int64))


def test_the_docs_quote_the_speedups_of_one_command() -> None:
    """docs/envs.md's table (batched vs sync steps per CPU-second, the issue's >= 10x at N = 256) and the README
    quote the same speed-ups, from ``bench_envs.py --part vector`` (speed itself is the benchmark's, not a test's)."""
    doc, readme = (ROOT / "docs" / "envs.md").read_text(), (ROOT / "README.md").read_text()
    assert COMMAND in doc and COMMAND in readme
    ratios = []
    for label in ROWS:
        row = re.search(re.escape(label) + r"[^|]*\| ([\d,]+) \| ([\d,]+) \| \*\*([\d.]+)×\*\* \|", doc)
        assert row, label
        batched, sync, ratio = int(row[1].replace(",", "")), int(row[2].replace(",", "")), float(row[3])
        assert abs(batched / sync - ratio) < 0.06 and ratio >= 10, row[0]
        ratios.append(row[3])
    quoted = re.search(r"\*\*([\d.]+)×\*\* its steps per CPU-second at N = 256 on ResNet-18, \*\*([\d.]+)×\*\*", readme)
    assert quoted and [quoted[1], quoted[2]] == ratios


@pytest.mark.slow
def test_the_vector_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The command the figures come from runs (tiny: 4 sub-envs, 2 batches) and prints both rows and the load."""
    spec = importlib.util.spec_from_file_location("bench_envs", ROOT / "benchmarks" / "bench_envs.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--part", "vector", "--num-envs", "4", "--repeats", "1", "--batches", "2"]) == 0
    out = capsys.readouterr().out
    for label in (r.replace("x256", "x4") for r in ROWS):
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(label))
        assert re.search(r"[\d,]+ +[\d,]+ +[\d.]+x", line), line
    assert "load average" in out
