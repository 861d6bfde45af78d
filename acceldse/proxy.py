"""``acceldse.train_proxy``: fit a proxy cost model (``envs.proxy.ProxyModel``) on the experience
log that ``acceldse explore --store`` wrote, optionally save it for ``--env-arg proxy=FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acceldse.env_catalog import resolve_env_id
from acceldse.envs.proxy import MODELS, ProxyModel
from acceldse.experience_log import read_log
from acceldse.workloads.errors import SpecError


def train_proxy(store: str | Path, targets: list[str], *, model: str = "mlp", env: str | None = None,
                where: str | None = None, test_fraction: float = 0.2, seed: int = 0,
                out: str | Path | None = None) -> ProxyModel:
    """Fit ``model`` (mlp | rf | gbm) to predict ``targets`` from the designs logged in ``store``.

    Only real simulator evaluations are used (rows a proxy-driven run logged are left out), and only
    of one workload, hardware and fidelity: rows whose env arguments give another env identity
    (``env.unwrapped.identity``) are refused, never merged (narrow them with ``--where``). The proxy
    records that identity and ``use_proxy`` refuses any env that differs from it.
    """
    if model not in MODELS:
        raise SpecError("unknown proxy model", source="model", value=model, accepted=" | ".join(MODELS))
    if not targets:
        raise SpecError("no target given", source="targets", accepted="e.g. latency_us")
    if out is not None and not Path(out).parent.is_dir():
        raise SpecError(f"folder {str(Path(out).parent)!r} does not exist", source="out", value=str(out))
    frame = read_log(store, where)
    frame = frame[~frame.env_kwargs.str.contains('"proxy"', regex=False)]
    frame = frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)  # store order varies
    envs_logged = sorted(frame.env.unique())
    if env is not None:
        env = resolve_env_id(env)
        frame = frame[frame.env == env]
    elif len(envs_logged) > 1:
        raise SpecError("the log holds several envs", source="env", accepted=", ".join(envs_logged))
    if frame.empty:
        raise SpecError("no logged simulator evaluation matches", source="env" if env else "where",
                        value=env or where, accepted=", ".join(envs_logged) or "(the log is empty)")
    frame = frame.dropna(axis=1, how="all")
    kwargs = sorted(frame.env_kwargs.unique())
    env_id = env or envs_logged[0]
    identity = _one_identity(env_id, kwargs)
    proxy = ProxyModel.fit(frame, targets, model=model, test_fraction=test_fraction, seed=seed,
                           meta={"env": env_id, "env_kwargs": kwargs, "identity": identity})
    if out is not None:
        proxy.save(out)
    return proxy


def _one_identity(env_id: str, kwargs: list[str]) -> dict[str, Any] | None:
    """The identity (workload, hardware, fidelity ...) the logged runs share, or a ``SpecError`` naming two
    that differ."""
    import json

    from acceldse.env_catalog import make_env

    seen: dict[str, str] = {}
    identity: dict[str, Any] | None = None
    for text in kwargs:
        args = {k: v for k, v in json.loads(text).items() if k not in ("targets", "reward")}
        env = make_env(env_id, args)
        try:
            own = getattr(env.unwrapped, "identity", None)
        finally:
            env.close()
        if not isinstance(own, dict) or not own:
            continue
        key = json.dumps(own, sort_keys=True)
        seen.setdefault(key, text)
        if identity is None:
            identity = own
        elif own != identity:
            diff = sorted(k for k in set(own) | set(identity) if own.get(k) != identity.get(k))
            raise SpecError(f"the log holds runs of different {diff[0]}s; a proxy learns one", source="where",
                            key=diff[0], value=[identity.get(diff[0]), own.get(diff[0])],
                            accepted="a where filter that keeps one, e.g. \"env_kwargs LIKE '%resnet18%'\"")
    return identity


__all__ = ["train_proxy"]
