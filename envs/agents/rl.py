"""Reinforcement-learning agents (Stable-Baselines3): PPO on a design env, and multi-agent PPO
(one independent PPO policy per agent of ``MultiAgentDesign``, trained on the team reward).

The budget is exact: training stops after the budget-th env step, wherever that falls in a
rollout (an unfinished last rollout is not trained on; no further evaluation would use it).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from acceldse.envs.agents.base import Agent
from acceldse.envs.agents.harness import BudgetEnv
from acceldse.envs.agents.joint import JointEnv
from acceldse.workloads.errors import SpecError

PPO_HPARAMS: dict[str, Any] = {"n_steps": 64, "batch_size": 32, "n_epochs": 4, "learning_rate": 3e-4,
                               "gamma": 0.9, "ent_coef": 0.01, "clip_range": 0.2, "net_width": 64}
PPO_RANGES: dict[str, tuple[float, float]] = {"n_steps": (2, 10**6), "batch_size": (2, 10**6), "n_epochs": (1, 1000),
                                              "learning_rate": (1e-9, 1.0), "gamma": (0.0, 1.0),
                                              "ent_coef": (0.0, 10.0), "clip_range": (0.0, 10.0),
                                              "net_width": (1, 4096)}


def _ppo(hparams: dict[str, Any], env: Any, seed: int, *, masked: bool = False) -> Any:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import Logger

    algorithm: Any = PPO
    if masked:
        from sb3_contrib import MaskablePPO

        algorithm = MaskablePPO
    torch.set_num_threads(1)  # tiny MLPs: threads only add overhead and nondeterminism
    policy = "MultiInputPolicy" if isinstance(env.observation_space, spaces.Dict) else "MlpPolicy"
    width = hparams["net_width"]
    model = algorithm(policy, env, n_steps=hparams["n_steps"],
                      batch_size=min(hparams["batch_size"], hparams["n_steps"]), n_epochs=hparams["n_epochs"],
                      learning_rate=hparams["learning_rate"], gamma=hparams["gamma"], ent_coef=hparams["ent_coef"],
                      clip_range=hparams["clip_range"], seed=seed, device="cpu", verbose=0,
                      policy_kwargs={"net_arch": [width, width]})
    # a logger that writes nowhere: SB3's default makes an empty /tmp/SB3-<time> folder on every learn()
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


class PpoAgent(Agent):
    """Proximal policy optimisation (SB3) over the env's own episodes.

    Hyper-parameters: SB3's ``n_steps`` (rollout length), ``batch_size``, ``n_epochs``,
    ``learning_rate``, ``gamma``, ``ent_coef``, ``clip_range``; ``net_width`` units in each of
    the two hidden layers of the policy and value networks.
    """

    name = "ppo"
    HPARAMS: ClassVar[dict[str, Any]] = PPO_HPARAMS
    RANGES: ClassVar[dict[str, tuple[float, float]]] = PPO_RANGES
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"learning_rate": [1e-4, 3e-4, 1e-3], "n_steps": [32, 128]}
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"FpgaDesign-v0": {"n_steps": 32, "batch_size": 16},
                                                         "AcceleratorDesign-v0": {"n_steps": 32, "batch_size": 16}}
    """Tuned on seeds 100-102 at budget 200 (``benchmarks/bench_env_defaults.py``), never on a reported run."""

    masked: ClassVar[bool] = False

    def run(self, env: BudgetEnv, seed: int) -> None:
        from stable_baselines3.common.callbacks import BaseCallback

        class StopAtBudget(BaseCallback):
            def _on_step(self) -> bool:
                return env.remaining > 0

        if self.masked and not callable(getattr(env.unwrapped, "action_masks", None)):
            raise SpecError("maskable PPO needs an env with action masks", source="agent", value=self.name,
                            accepted="AcceleratorDesign-v0, FpgaDesign-v0, Mapping-v0, CoExploration-v0 (or ppo)")
        model = _ppo(self.hparams, env, seed, masked=self.masked)
        model.learn(total_timesteps=env.budget + self.hparams["n_steps"], callback=StopAtBudget())


class MaskablePpoAgent(PpoAgent):
    """PPO that only samples allowed knob values (sb3-contrib's ``MaskablePPO`` with the env's
    ``action_masks()``: no illegal mapping on Mapping-v0, no over-budget folding on FpgaDesign-v0, see
    ``envs.action_masks``). Hyper-parameters as ``ppo``."""

    name = "maskable-ppo"
    masked = True


class _SpacesOnly(gym.Env):
    """Carries one agent's spaces into SB3 (never stepped: the joint env is)."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        raise RuntimeError("a spaces-only env is never stepped")


class MultiAgentPpo(Agent):
    """Independent PPO: one SB3 PPO policy per agent of a ``MultiAgentDesign`` env, each seeing
    its own observation, choosing its own knobs, and trained on the shared team reward
    (the multi-agent RL DSE setting). Hyper-parameters as ``ppo``, shared by every policy."""

    name = "mappo"
    HPARAMS: ClassVar[dict[str, Any]] = PPO_HPARAMS
    RANGES: ClassVar[dict[str, tuple[float, float]]] = PPO_RANGES
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"learning_rate": [1e-4, 3e-4, 1e-3], "n_steps": [32, 128]}

    def run(self, env: BudgetEnv, seed: int) -> None:
        import torch
        from stable_baselines3.common.utils import obs_as_tensor

        joint = env.unwrapped
        if not isinstance(joint, JointEnv):
            raise SpecError("multi-agent PPO needs a multi-agent env", source="agent", value=self.name,
                            accepted="the env MultiAgentDesign (or ppo on a single-agent env)")
        models = {}
        for i, agent in enumerate(joint.agents):
            models[agent] = _ppo(self.hparams, _SpacesOnly(joint.obs_spaces[agent], joint.act_spaces[agent]), seed + i)
            models[agent]._setup_learn(env.budget)
        n_steps = self.hparams["n_steps"]
        obs, _ = env.reset(seed=seed)
        episode_start = True
        while env.remaining > 0:
            for m in models.values():
                m.policy.set_training_mode(False)
                m.rollout_buffer.reset()
            filled = 0
            while filled < n_steps and env.remaining > 0:
                acts, values, logps = {}, {}, {}
                with torch.no_grad():
                    for agent, m in models.items():
                        a, values[agent], logps[agent] = m.policy(obs_as_tensor(_batch(obs[agent]), m.device))
                        acts[agent] = a.cpu().numpy()
                action = np.concatenate([acts[a].reshape(-1) for a in joint.agents])
                new_obs, reward, terminated, truncated, _ = env.step(action)
                for agent, m in models.items():
                    act = acts[agent].reshape(1, -1) if isinstance(joint.act_spaces[agent], spaces.Discrete) \
                        else acts[agent]
                    m.rollout_buffer.add(_batch(obs[agent]), act, np.array([reward], dtype=np.float32),
                                         np.array([episode_start]), values[agent], logps[agent])
                    m.num_timesteps += 1
                filled += 1
                episode_start = terminated or truncated
                obs = env.reset()[0] if episode_start else new_obs
            if filled < n_steps:
                break  # budget spent mid-rollout: nothing left to use a further update
            for agent, m in models.items():
                with torch.no_grad():
                    last = m.policy.predict_values(obs_as_tensor(_batch(obs[agent]), m.device))
                m.rollout_buffer.compute_returns_and_advantage(last_values=last, dones=np.array([episode_start]))
                m._update_current_progress_remaining(m.num_timesteps, env.budget)
                m.train()


def _batch(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: np.asarray(v)[None] for k, v in obs.items()}
    return np.asarray(obs)[None]
