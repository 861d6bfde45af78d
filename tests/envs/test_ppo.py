"""A short Stable-Baselines3 PPO run on AcceleratorDesign-v0 beats a random policy, on several seeds."""

from __future__ import annotations

import pytest

from acceldse.envs.wrappers import sb3_env

TRAIN_STEPS = 2048
EVAL_STEPS = 200


def mean_reward(env, policy, steps: int) -> float:
    obs, _ = env.reset(seed=123)
    total = 0.0
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        if terminated or truncated:
            obs, _ = env.reset()
    return total / steps


@pytest.fixture
def no_distribution_checks():
    """torch's distributions skip validating their arguments (about 15 % of the run on MultiDiscrete actions):
    the checks only raise on invalid parameters and never change a sample, so training is identical."""
    from torch.distributions import Distribution

    before = Distribution._validate_args
    Distribution.set_default_validate_args(False)
    yield
    Distribution.set_default_validate_args(before)


@pytest.mark.slow
@pytest.mark.usefixtures("no_distribution_checks")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ppo_beats_random_search(seed: int) -> None:
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    env = sb3_env("acceldse/AcceleratorDesign-v0", workload="resnet18")
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=5, learning_rate=3e-3, seed=seed,
                policy_kwargs={"net_arch": [64, 64]}, device="cpu", verbose=0)
    model.learn(total_timesteps=TRAIN_STEPS)
    trained = mean_reward(env, lambda obs: model.predict(obs, deterministic=True)[0], EVAL_STEPS)
    env.action_space.seed(seed)
    random = mean_reward(env, lambda obs: env.action_space.sample(), EVAL_STEPS)
    assert trained > random, (trained, random)
    # the README quotes these: PPO meets every default target (reward 0), random search averages -3.7 .. -4.2
    assert trained == pytest.approx(0.0, abs=0.05) and -4.2 < random < -3.7
