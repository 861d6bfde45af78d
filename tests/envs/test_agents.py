"""Search agents under one budget: exact evaluation counts, same seed -> same run, the best is
the best evaluated, hyper-parameter checking, and the design-space encoding."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from toy_env import KNOBS, ToyDesignEnv, ToyParallelEnv

from acceldse.envs.agents import AGENTS, DesignSpace, JointEnv, explore, make_agent
from acceldse.workloads.errors import SpecError

SEARCH = ["random", "ga", "sa", "bo", "aco"]


@pytest.mark.parametrize("agent", SEARCH)
def test_exact_budget_and_best_is_the_best_evaluated(agent: str) -> None:
    res = explore(ToyDesignEnv(), agent, budget=60, seed=3)
    assert res.evaluations == res.budget == len(res.rewards) == 60
    assert res.best_reward == max(res.rewards)
    assert not res.stopped_early
    curve = res.best_so_far()
    assert np.all(np.diff(curve) >= 0) and curve[-1] == res.best_reward
    # the reported best design really has the reported metrics and reward
    env = ToyDesignEnv()
    env.reset(seed=0)
    action = [KNOBS[k].index(v) for k, v in res.best_design.items()]
    _, reward, *_, info = env.step(action)
    assert reward == res.best_reward and info["metrics"] == res.best_metrics


@pytest.mark.parametrize("agent", SEARCH)
def test_same_seed_same_run(agent: str) -> None:
    logs = []
    for _ in range(2):
        log: list = []
        explore(ToyDesignEnv(), agent, budget=40, seed=7, sink=log.append)
        logs.append([(ev.action, ev.reward) for ev in log])
    assert logs[0] == logs[1]


def test_first_met_at_is_the_first_evaluation_meeting_the_targets() -> None:
    log: list = []
    res = explore(ToyDesignEnv(latency_us=40.0, area_mm2=4.0), "random", budget=80, seed=1, sink=log.append)
    met = [ev.step + 1 for ev in log if ev.targets_met]
    assert met, "the relaxed targets are met by many designs"
    assert res.targets_met and res.first_met_at == met[0]


def test_gp_bo_runs_on_budget() -> None:
    res = explore(ToyDesignEnv(), "bo-gp", budget=12, seed=0, n_startup_trials=9)  # 3 GP proposals
    assert res.evaluations == 12


@pytest.fixture
def no_sb3_logdir(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """The temporary folder is ``tmp_path`` and SB3's logger folder is not set (as for a user): the PPO agents
    must leave no ``SB3-<time>`` folder there."""
    import tempfile

    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield
    assert not list(tmp_path.glob("SB3-*"))


def test_ppo_spends_exactly_its_budget_mid_rollout(no_sb3_logdir) -> None:
    res = explore(ToyDesignEnv(), "ppo", budget=45, seed=0, n_steps=16, batch_size=8, n_epochs=1, net_width=16)
    assert res.evaluations == 45


def test_multi_agent_ppo_one_policy_per_agent(no_sb3_logdir) -> None:
    joint = JointEnv(ToyParallelEnv())
    assert list(joint.knobs or {}) == list(KNOBS)
    log: list = []
    res = explore(joint, "mappo", budget=40, seed=0, sink=log.append, n_steps=16, batch_size=8, n_epochs=1,
                  net_width=16)
    assert res.evaluations == 40
    assert {tuple(ev.design) for ev in log} == {tuple(KNOBS)}
    with pytest.raises(SpecError, match="multi-agent"):
        explore(ToyDesignEnv(), "mappo", budget=5, seed=0)


def test_search_agents_run_on_the_joint_multi_agent_env() -> None:
    res = explore(JointEnv(ToyParallelEnv()), "ga", budget=30, seed=0)
    assert res.evaluations == 30 and set(res.best_design) == set(KNOBS)


def test_bad_agent_and_hyper_parameters() -> None:
    with pytest.raises(SpecError, match="unknown agent"):
        make_agent("hillclimb")
    with pytest.raises(SpecError, match="unknown hyper-parameter.*population_size"):
        make_agent("ga", populaton_size=8)
    with pytest.raises(SpecError, match="wrong type"):
        make_agent("sa", moves=1.5)
    with pytest.raises(SpecError, match="out of range"):
        make_agent("aco", evaporation=2.0)
    with pytest.raises(SpecError, match="budget"):
        explore(ToyDesignEnv(), "random", budget=0)
    for name, cls in AGENTS.items():  # every default is a valid value and every lottery value too
        make_agent(name, **cls.HPARAMS)
        for key, values in cls.LOTTERY.items():
            for v in values:
                make_agent(name, **{key: v})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=6), st.integers(0, 2**31 - 1))
def test_design_space_round_trip_and_proposals_in_range(nvec: list[int], seed: int) -> None:
    class Env:
        action_space = spaces.MultiDiscrete(nvec)
        unwrapped = None

    space = DesignSpace.of(Env())
    rng = np.random.default_rng(seed)
    vec = rng.integers(0, space.nvec)
    assert np.array_equal(space.vector(space.action(vec)), vec)
    for name in ("sa", "aco", "random"):
        agent = make_agent(name)
        agent.start(space, 20, seed)  # type: ignore[attr-defined]
        for _ in range(20):
            v = agent.ask()  # type: ignore[attr-defined]
            assert v.shape == space.nvec.shape and np.all((v >= 0) & (v < space.nvec))
            agent.tell(v, float(-np.sum(v)))  # type: ignore[attr-defined]


def test_dict_action_space_flattens_in_key_order() -> None:
    class Env:
        action_space = spaces.Dict({"a": spaces.Discrete(3), "b": spaces.MultiDiscrete([2, 4])})
        unwrapped = None

    space = DesignSpace.of(Env())
    assert list(space.nvec) == [3, 2, 4]
    action = space.action(np.array([2, 1, 3]))
    assert action["a"] == 2 and list(action["b"]) == [1, 3]
    assert list(space.vector(action)) == [2, 1, 3]
