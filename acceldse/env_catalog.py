"""The design envs a run can name: their ids, the arguments each takes, building one from its id and
keyword arguments, and what an env evaluates (its workloads with their parameters, its identity by
content). ``acceldse.explore`` and the experience log (``acceldse.experience_log``) read it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from acceldse.envs.agents import JointEnv
from acceldse.workloads.errors import SpecError, require_int

MULTI_AGENT_IDS = ("MultiAgentDesign", "acceldse/MultiAgentDesign-v0")


def env_ids() -> list[str]:
    """Registered acceldse env ids (single-agent) plus the multi-agent one."""
    from acceldse import envs  # noqa: F401 - registers the acceldse namespace

    return sorted(k for k in gym.registry if k.startswith("acceldse/")) + [MULTI_AGENT_IDS[0]]


def resolve_env_id(env_id: str) -> str:
    if env_id in MULTI_AGENT_IDS:
        return MULTI_AGENT_IDS[0]
    known = env_ids()
    for candidate in (env_id, f"acceldse/{env_id}"):
        if candidate in known or candidate in gym.registry:
            return candidate
    raise SpecError("unknown env", source="env", value=env_id, accepted=", ".join(known))


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """The env ``env_id`` built with ``env_kwargs`` (a ``JointEnv`` for ``MultiAgentDesign``).

    ``env_kwargs["proxy"]`` (a file from ``acceldse proxy train --out``) replaces the env's simulator
    with that learned cost model (the design envs take it as a constructor argument).
    """
    env_id = resolve_env_id(env_id)
    kwargs = dict(env_kwargs or {})
    accepted = env_arguments(env_id)
    unknown = sorted(k for k in kwargs if accepted is not None and k not in accepted)
    if unknown:
        raise SpecError(f"unknown argument of {env_id}", source="env_kwargs", value=unknown[0],
                        accepted=", ".join(accepted or ()))
    if "max_episode_steps" in kwargs:  # gym.make's own argument: it raises a bare ValueError on a bad one
        require_int(kwargs["max_episode_steps"], key="max_episode_steps", source="env_kwargs", maximum=MAX_STEPS)
    try:
        if env_id == MULTI_AGENT_IDS[0]:
            from acceldse import envs

            env: gym.Env = JointEnv(envs.multi_agent_env(**kwargs))
        else:
            env = gym.make(env_id, disable_env_checker=True, **kwargs)
    except SpecError as err:  # a bad value of one argument: named as that key of env_kwargs (--env-arg)
        if err.source not in kwargs:  # a file's own error names the file
            raise
        key = f"{err.source}.{err.key}" if err.key else err.source
        raise SpecError(err.message, source="env_kwargs", key=key, value=err.value, accepted=err.accepted) from None
    except TypeError as err:  # an argument the env's constructor does not take
        raise SpecError(f"bad env argument: {err}", source="env_kwargs", value=sorted(kwargs),
                        accepted=f"the arguments documented for {env_id} (acceldse list envs)") from None
    return env


MAX_STEPS = 10**9
"""Largest ``max_episode_steps`` accepted."""
GYM_MAKE_ARGUMENTS = ("max_episode_steps",)
"""Env arguments ``gym.make`` takes itself (not passed to the env's constructor)."""


def env_arguments(env_id: str) -> tuple[str, ...] | None:
    """The keyword arguments the env ``env_id`` takes (its constructor's, and ``GYM_MAKE_ARGUMENTS`` for a
    Gymnasium env); ``None`` when its constructor takes any keyword."""
    env_id = resolve_env_id(env_id)
    if env_id == MULTI_AGENT_IDS[0]:
        from acceldse.envs.accelerator_design import AcceleratorDesignEnv
        from acceldse.envs.multi_agent import MultiAgentDesign

        creators: list[Callable[..., Any]] = [MultiAgentDesign.__init__, AcceleratorDesignEnv.__init__]
        names: list[str] = []
    else:
        from gymnasium.envs.registration import load_env_creator

        entry = gym.spec(env_id).entry_point
        creators = [entry if callable(entry) else load_env_creator(entry)]
        names = list(GYM_MAKE_ARGUMENTS)
    for index, creator in enumerate(creators):
        for param in inspect.signature(creator).parameters.values():
            if param.kind is param.VAR_KEYWORD and index == len(creators) - 1:
                return None  # the last constructor takes any keyword
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY) and param.name != "self":
                names.append(param.name)
    return tuple(dict.fromkeys(names))


def default_workload(env_id: str) -> Any:
    """The workload env ``env_id`` builds when ``env_kwargs`` names none (``None``: it takes no workload)."""
    from gymnasium.envs.registration import load_env_creator

    env_id = resolve_env_id(env_id)
    spec = gym.spec("acceldse/AcceleratorDesign-v0" if env_id == MULTI_AGENT_IDS[0] else env_id)
    creator = spec.entry_point if callable(spec.entry_point) else load_env_creator(spec.entry_point)
    default = getattr(creator, "DEFAULT_WORKLOAD", None)
    if default is None:
        param = inspect.signature(creator).parameters.get("workload")
        default = param.default if param is not None and param.default is not inspect.Parameter.empty else None
    return default


def workload_params(env_id: str, env_kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Each workload of a run with the parameters it is built with: ``{"name": ..., **params}``, a zoo
    network's defaults written out (``[{"name": "bert_base", "batch": 1, "layers": 1, "seq_len": 512,
    ...}]``; ``[]`` for an env without workloads). What the run's rows were computed from, so a
    changed default is a new run."""
    from acceldse.api import resolved_params

    listed = env_kwargs.get("workloads")
    if listed is not None:
        entries = list(listed) if isinstance(listed, list | tuple) else [listed]
    else:
        one = env_kwargs.get("workload", default_workload(env_id))
        entries = [] if one is None else [one]
    out = []
    for entry in entries:
        name, given = (entry.get("name"), {k: v for k, v in entry.items() if k != "name"}) \
            if isinstance(entry, dict) else (entry, {})
        name = str(name) if isinstance(name, Path) else name
        params = resolved_params(name, given) if isinstance(name, str) else given
        out.append({"name": name, **params})
    return out


def env_identity(env: gym.Env) -> dict[str, Any]:
    """What a built env evaluates, by content: its ``identity`` (workload and hardware names with digests of
    their content, fidelity ...; ``{}`` for an env without one)."""
    identity = getattr(getattr(env, "unwrapped", env), "identity", None)
    return dict(identity) if isinstance(identity, dict) else {}
