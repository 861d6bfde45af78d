"""Every registered env: Gymnasium's and SB3's checkers, same seed -> same trajectory, vector envs, logging."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from env_kwargs import FAST_KWARGS
from gymnasium.utils.env_checker import check_env, data_equivalence

from acceldse import envs
from acceldse.envs.wrappers import RECORD_KEYS, EvaluationLogger, sb3_env

IDS = list(envs.ENV_IDS)


def test_every_registered_env_has_fast_kwargs_and_a_summary() -> None:
    assert set(IDS) == set(FAST_KWARGS) and set(IDS) <= set(envs.ENV_SUMMARIES)
    for env_id in IDS:
        json.dumps(FAST_KWARGS[env_id])  # an EnvSpec can be stored next to results
        assert gym.spec(env_id).entry_point == envs.ENV_IDS[env_id]


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env(env_id: str) -> None:
    env = gym.make(env_id, **FAST_KWARGS[env_id])
    check_env(env.unwrapped, skip_render_check=True)
    doc = type(env.unwrapped).__doc__ or ""
    for section in ("Description", "Action Space", "Observation Space", "Rewards", "Starting State", "Episode End",
                    "Arguments", "Version History"):
        assert f"## {section}" in doc, section


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env(env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check

    sb3_check(sb3_env(env_id, **FAST_KWARGS[env_id]), warn=False)


def rollout(env_id: str, seed: int, steps: int) -> list:
    env = gym.make(env_id, **FAST_KWARGS[env_id])
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    out = [(obs, info)]
    for _ in range(steps):
        step = env.step(env.action_space.sample())
        out.append(step)
        if step[2] or step[3]:
            out.append(env.reset())
    return out


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_trajectory(env_id: str) -> None:
    a, b = rollout(env_id, 7, 12), rollout(env_id, 7, 12)
    assert data_equivalence(a, b)
    c = rollout(env_id, 8, 12)
    assert not data_equivalence(a, c)


@pytest.mark.parametrize("env_id", IDS)
def test_info_carries_design_metrics_and_counts(env_id: str) -> None:
    env = gym.make(env_id, **FAST_KWARGS[env_id])
    env.reset(seed=0)
    knobs = env.unwrapped.knobs
    assert list(knobs) and all(isinstance(v, list) and v for v in knobs.values())
    assert env.action_space.nvec.tolist() == [len(v) for v in knobs.values()]
    action = env.action_space.sample()
    *_, info = env.step(action)
    assert set(info["design"]) == set(knobs)
    assert info["design"] == {k: v[int(i)] for (k, v), i in zip(knobs.items(), action)}
    assert isinstance(info["targets_met"], bool) and info["evaluations"] >= 1
    assert isinstance(info["metrics"], dict)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(mode: str) -> None:
    env_id = "acceldse/AcceleratorDesign-v0"
    vec = gym.make_vec(env_id, num_envs=4, vectorization_mode=mode, **FAST_KWARGS[env_id])
    try:
        obs, _ = vec.reset(seed=3)
        assert obs.shape == (4, *vec.single_observation_space.shape)
        for _ in range(3):
            obs, reward, *_ = vec.step(vec.action_space.sample())
        assert reward.shape == (4,) and np.isfinite(reward).all()
    finally:
        vec.close()


@pytest.mark.parametrize("env_id", [i for i in IDS if i != "acceldse/AcceleratorDesign-v0"])
def test_make_vec_sync_every_env(env_id: str) -> None:
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", **FAST_KWARGS[env_id])
    vec.reset(seed=0)
    vec.step(vec.action_space.sample())
    vec.close()


def test_evaluation_logger_records_every_evaluation() -> None:
    sink: list[dict] = []
    env = EvaluationLogger(gym.make("acceldse/AcceleratorDesign-v0"), sink)
    env.reset(seed=5)
    infos = [env.step(env.action_space.sample())[4] for _ in range(4)]
    assert len(sink) == 5 and all(set(r) == set(RECORD_KEYS) for r in sink)
    assert [r["step"] for r in sink] == [0, 1, 2, 3, 4] and sink[0]["seed"] == 5 and sink[0]["reward"] is None
    assert [r["metrics"] for r in sink[1:]] == [i["metrics"] for i in infos]
    called: list[dict] = []
    logged = EvaluationLogger(gym.make("acceldse/FpgaDesign-v0"), called.append)
    logged.reset(seed=0)
    logged.step(logged.action_space.sample())
    assert len(called) == 2
    own = EvaluationLogger(gym.make("acceldse/AcceleratorDesign-v0"))
    own.reset(seed=0)
    own.step(own.action_space.sample())
    frame = own.frame()
    assert len(frame) == 2 and "metrics.latency_us" in frame and "design.rows" in frame


def test_normalised_sb3_form() -> None:
    env = sb3_env("acceldse/AcceleratorDesign-v0", normalize=True)
    assert isinstance(env, gym.wrappers.NormalizeObservation)
    env.reset(seed=0)
    env.step(env.action_space.sample())


def test_acceldse_list_envs_and_import_registers(capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from acceldse.cli import main

    assert main(["list", "envs"]) == 0
    out = capsys.readouterr().out
    for name in envs.ENV_SUMMARIES:
        assert name in out
    code = "import acceldse, gymnasium as g; print(sorted(i for i in g.registry if i.startswith('acceldse/')))"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=str(Path(__file__).resolve().parents[2]))
    assert fresh.stdout.strip() == str(sorted(envs.ENV_IDS))


def test_registering_imports_nothing_heavy() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from acceldse import envs; heavy = [m for m in ('numba', 'pandas', 'torch', "
            "'acceldse.envs.accelerator_design', 'acceldse.simulator', 'acceldse.mapper') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(Path(__file__).resolve().parents[2])).stdout.strip()
    assert out == "[]"
