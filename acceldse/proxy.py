"""``acceldse.train_proxy``: fit a proxy cost model (``envs.proxy.ProxyModel``) on the experience
log that ``acceldse explore --store`` wrote, optionally save it for ``--env-arg proxy=FILE``."""

from __future__ import annotations

from pathlib import Path

from acceldse.envs.proxy import MODELS, ProxyModel
from acceldse.explore import EVALUATIONS_TABLE, resolve_env_id
from acceldse.workloads.errors import SpecError


def train_proxy(store: str | Path, targets: list[str], *, model: str = "mlp", env: str | None = None,
                where: str | None = None, test_fraction: float = 0.2, seed: int = 0,
                out: str | Path | None = None) -> ProxyModel:
    """Fit ``model`` (mlp | rf | gbm) to predict ``targets`` from the designs logged in ``store``.

    Only real simulator evaluations are used (rows a proxy-driven run logged are left out).
    """
    from acceldse.store import ResultStore

    if model not in MODELS:
        raise SpecError("unknown proxy model", source="--model", value=model, accepted=" | ".join(MODELS))
    if not targets:
        raise SpecError("no target given", source="--target", accepted="e.g. latency_us")
    if out is not None and not Path(out).parent.is_dir():
        raise SpecError(f"folder {str(Path(out).parent)!r} does not exist", source="--out", value=str(out))
    with ResultStore(store, create=False) as db:
        if EVALUATIONS_TABLE not in db.tables():
            raise SpecError("no experience log in this store", source="--store", value=str(store),
                            accepted="a store written by 'acceldse explore --store'")
        frame = db.read(EVALUATIONS_TABLE, where)
    frame = frame[~frame.env_kwargs.str.contains('"proxy"', regex=False)]
    frame = frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)  # store order varies
    envs_logged = sorted(frame.env.unique())
    if env is not None:
        env = resolve_env_id(env)
        frame = frame[frame.env == env]
    elif len(envs_logged) > 1:
        raise SpecError("the log holds several envs", source="--env", accepted=", ".join(envs_logged))
    if frame.empty:
        raise SpecError("no logged simulator evaluation matches", source="--env" if env else "--where",
                        value=env or where, accepted=", ".join(envs_logged) or "(the log is empty)")
    frame = frame.dropna(axis=1, how="all")
    kwargs = sorted(frame.env_kwargs.unique())
    proxy = ProxyModel.fit(frame, targets, model=model, test_fraction=test_fraction, seed=seed,
                           meta={"env": env or envs_logged[0], "env_kwargs": kwargs})
    if out is not None:
        proxy.save(out)
    return proxy


__all__ = ["train_proxy"]
