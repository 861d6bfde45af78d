"""Learned proxy cost models: scikit-learn regressors from logged designs to their metrics,
and the env hook that puts one in place of the simulator.

A proxy is fitted on the experience log (``knob.<name>`` feature columns, ``metric.<name>``
targets) of one env; numeric knobs enter as ``log2`` of their value, categorical ones one-hot;
each metric is learned in log space (they span orders of magnitude) and reported back in its
units. ``use_proxy(env, path)`` replaces the design env's ``evaluate(design)`` with the proxy's
prediction, so observations, rewards, targets and the experience log are unchanged in form.

Example::

    proxy = ProxyModel.fit(frame, ["latency_us", "energy_uj"], model="mlp")
    proxy.report          # held-out RMSE, relative error, R2, prediction time
    proxy.save("latency.proxy")
    env = use_proxy(gym.make("acceldse/AcceleratorDesign-v0", fidelity="event"), "latency.proxy")
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.workloads.errors import SpecError

MODELS = ("mlp", "rf", "gbm")
"""``mlp`` (default): two hidden layers of 64, L-BFGS, on standardised log features -- the most accurate
on the systolic metrics (smooth products of the knobs); ``rf``: random forest of 100 trees;
``gbm``: histogram gradient boosting, one model per target."""
PROXY_FORMAT = 1


def _regressor(kind: str, seed: int) -> Any:
    if kind == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)
    if kind == "gbm":
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.multioutput import MultiOutputRegressor

        return MultiOutputRegressor(HistGradientBoostingRegressor(max_iter=300, random_state=seed))
    if kind == "mlp":
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64, 64), solver="lbfgs",
                                                            max_iter=2000, random_state=seed))
    raise SpecError("unknown proxy model", source="model", value=kind, accepted=" | ".join(MODELS))


def _one_thread() -> Any:
    """Fit and predict on one thread: small models lose more to thread start-up and contention."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def _ravel(y: np.ndarray, model: str) -> np.ndarray:
    """One target as a vector, except for ``gbm``, whose per-target wrapper needs a matrix."""
    return y.ravel() if y.shape[1] == 1 and model != "gbm" else y


class ProxyModel:
    """A fitted proxy: ``knobs`` (name -> categories, or ``None`` for a numeric knob), ``targets``
    (metric names), the regressor, and the held-out ``report``."""

    def __init__(self, knobs: dict[str, list[str] | None], targets: list[str], regressor: Any,
                 report: pd.DataFrame, meta: dict[str, Any]) -> None:
        self.knobs, self.targets, self.regressor, self.report, self.meta = knobs, targets, regressor, report, meta

    # ---- features -----------------------------------------------------------------------------
    def features(self, designs: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        """The feature matrix of designs (a frame with a column per knob, or one design as a dict)."""
        if isinstance(designs, dict):
            row: list[float] = []
            for name, cats in self.knobs.items():
                value = designs[name]
                row.extend([math.log2(max(float(value), 1e-12))] if cats is None
                           else [float(str(value) == c) for c in cats])
            return np.array([row])
        cols = []
        for name, cats in self.knobs.items():
            values = designs[name]
            if cats is None:
                cols.append(np.log2(np.maximum(values.to_numpy(dtype=np.float64), 1e-12)))
            else:
                text = values.astype(str).to_numpy()
                cols.extend((text == c).astype(np.float64) for c in cats)
        return np.column_stack(cols)

    @staticmethod
    def _knob_kinds(frame: pd.DataFrame, names: list[str]) -> dict[str, list[str] | None]:
        kinds: dict[str, list[str] | None] = {}
        for name in names:
            col = frame[name]
            numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            kinds[name] = None if numeric and bool((col > 0).all()) else sorted(col.astype(str).unique())
        return kinds

    # ---- fitting ------------------------------------------------------------------------------
    @classmethod
    def fit(cls, frame: pd.DataFrame, targets: list[str], *, model: str = "mlp", test_fraction: float = 0.2,
            seed: int = 0, meta: dict[str, Any] | None = None) -> ProxyModel:
        """Fit on ``frame`` (``knob.*`` and ``metric.*`` columns, as in the experience log).

        Distinct designs only (a design logged twice is one sample); a random ``test_fraction`` of
        them is held out for the report, then the model is refitted on every design.
        """
        knob_cols = [c for c in frame.columns if c.startswith("knob.")]
        if not knob_cols:
            raise SpecError("no knob columns in the log", source="store",
                            accepted="an explore log with knob.* columns")
        tcols = []
        for t in targets:
            col = t if t in frame.columns else f"metric.{t}"
            if col not in frame.columns:
                known = [c.removeprefix("metric.") for c in frame.columns if c.startswith("metric.")]
                raise SpecError("unknown target column", source="targets", value=t, accepted=", ".join(known))
            tcols.append(col)
        data = frame.dropna(subset=tcols).drop_duplicates(subset=knob_cols)
        y = data[tcols].to_numpy(dtype=np.float64)
        if len(data) < 10:
            raise SpecError("too few distinct logged designs to fit a proxy", source="store", value=len(data),
                            accepted="at least 10 (log an exploration into the store first)")
        if (y <= 0).any():
            raise SpecError("proxy targets must be positive metrics (fitted in log space)", source="targets",
                            value=[t for t, col in zip(targets, y.T) if (col <= 0).any()])
        names = [c.removeprefix("knob.") for c in knob_cols]
        designs = data[knob_cols].set_axis(names, axis=1)
        proxy = cls(cls._knob_kinds(designs, names), [c.removeprefix("metric.") for c in tcols], None,
                    pd.DataFrame(), dict(meta or {}))
        x = proxy.features(designs)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(x))
        n_test = max(1, int(round(test_fraction * len(x))))
        test, train = order[:n_test], order[n_test:]
        with _one_thread(), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)  # sklearn's ConvergenceWarning: the report says
            held_out = _regressor(model, seed).fit(x[train], _ravel(np.log(y[train]), model))
            pred = np.exp(held_out.predict(x[test])).reshape(len(test), -1)
            proxy.regressor = _regressor(model, seed).fit(x, _ravel(np.log(y), model))
        sim_s = frame.loc[frame.get("eval_s", pd.Series(dtype=float)) > 0, "eval_s"].median() \
            if "eval_s" in frame.columns else math.nan
        proxy.meta.update({"model": model, "samples": len(x), "held_out": len(test),
                           "simulator_s_per_eval": float(sim_s) if sim_s == sim_s else math.nan})
        proxy.report = proxy._report(y[test], pred, designs.iloc[test])
        return proxy

    def _report(self, truth: np.ndarray, pred: np.ndarray, designs: pd.DataFrame) -> pd.DataFrame:
        one = {k: designs[k].iloc[0] for k in self.knobs}
        with _one_thread():
            self.predict(one)
            reps, start = 0, time.perf_counter()
            while reps < 200 and (reps < 5 or time.perf_counter() - start < 0.25):
                self.predict(one)
                reps += 1
            single_s = (time.perf_counter() - start) / reps
            start = time.perf_counter()
            self.regressor.predict(self.features(designs))
            batch_s = (time.perf_counter() - start) / len(designs)
        sim_s = self.meta["simulator_s_per_eval"]
        rows = []
        for j, name in enumerate(self.targets):
            t, p = truth[:, j], pred[:, j]
            rmse = float(np.sqrt(np.mean((p - t) ** 2)))
            ss = float(np.sum((t - t.mean()) ** 2))
            rows.append({"target": name, "rmse": rmse, "nrmse_pct": 100 * rmse / float(np.mean(t)),
                         "rel_err_pct": 100 * float(np.mean(np.abs(p - t) / t)),
                         "r2": 1 - float(np.sum((p - t) ** 2)) / ss if ss > 0 else math.nan,
                         "predict_us": single_s * 1e6, "predict_batched_us": batch_s * 1e6,
                         "simulator_us": sim_s * 1e6, "speedup": sim_s / single_s,
                         "speedup_batched": sim_s / batch_s})
        return pd.DataFrame(rows)

    # ---- use ----------------------------------------------------------------------------------
    def predict(self, design: dict[str, Any]) -> dict[str, float]:
        """Predicted metrics of one design (knob name -> value)."""
        values = np.exp(self.regressor.predict(self.features(design))).reshape(-1)
        return {name: float(v) for name, v in zip(self.targets, values)}

    def save(self, path: str | Path) -> Path:
        import joblib

        out = Path(path)
        if not out.parent.is_dir():
            raise SpecError(f"folder {str(out.parent)!r} does not exist", source="path", value=str(path))
        joblib.dump({"format": PROXY_FORMAT, "knobs": self.knobs, "targets": self.targets,
                     "regressor": self.regressor, "report": self.report, "meta": self.meta}, out)
        return out

    @classmethod
    def load(cls, path: str | Path, source: str = "proxy") -> ProxyModel:
        import joblib

        path = Path(path)
        if not path.is_file():
            raise SpecError("proxy model file not found", source=source, value=str(path),
                            accepted="a file written by ProxyModel.save (acceldse.train_proxy(..., out=...))")
        try:
            data = joblib.load(path)
        except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file
            raise SpecError(f"not a proxy model file ({type(err).__name__})", source=source, value=str(path)) from None
        if not isinstance(data, dict) or data.get("format") != PROXY_FORMAT:
            raise SpecError("not a proxy model file of this acceldse", source=source, value=str(path))
        return cls(data["knobs"], data["targets"], data["regressor"], data["report"], data["meta"])


def check_identity(model: ProxyModel, own: Any, source: str = "proxy") -> None:
    """Refuse ``model`` for an env whose identity (env, workload, hardware, fidelity ...) is not the one the
    proxy was trained on (``SpecError`` naming the first key that differs)."""
    trained = model.meta.get("identity")
    if isinstance(trained, dict) and isinstance(own, dict) and own:
        for key in sorted(set(trained) | set(own)):
            if trained.get(key) != own.get(key):
                raise SpecError(f"the proxy was trained on another {key}", source=source, key=key,
                                value=own.get(key), accepted=f"{trained.get(key)} (what the proxy learned)")


def use_proxy(env: Any, proxy: str | Path | ProxyModel, source: str = "proxy") -> Any:
    """Make ``env`` (a design env) evaluate designs with ``proxy`` instead of its simulator.

    The env's metric names (and its reward metric, if scalar) must all be proxy targets, the
    proxy's knobs must be the env's knobs, and what it was trained on (``meta["identity"]``: env,
    workload, hardware digest, fidelity ...) must be what the env runs (``env.unwrapped.identity``).
    """
    model = proxy if isinstance(proxy, ProxyModel) else ProxyModel.load(proxy, source)
    base = env.unwrapped
    knobs = getattr(base, "knobs", None)
    if not callable(getattr(base, "evaluate", None)) or not isinstance(knobs, dict):
        raise SpecError("this env has no cost-model hook (evaluate(design))", source=source,
                        value=type(base).__name__, accepted="a design env: AcceleratorDesign-v0, CoExploration-v0 ...")
    check_identity(model, getattr(base, "identity", None), source)
    if set(model.knobs) != set(knobs):
        raise SpecError("the proxy was trained on other knobs", source=source, value=sorted(model.knobs),
                        accepted=f"a proxy over {sorted(knobs)}")
    needed = set(getattr(base, "metric_names", ()))
    reward = getattr(base, "reward_kind", "spec")
    if reward == "vector":
        needed |= set(getattr(base, "pareto_metrics", ()))
    elif reward != "spec":
        needed.add(reward)
    missing = sorted(needed - set(model.targets))
    if missing:
        raise SpecError("the proxy does not predict every metric this env uses", source=source, value=missing,
                        accepted=f"a proxy trained with targets {sorted(needed)}")
    base.evaluate = model.predict  # the instance's cost model: every later step uses the proxy
    # info["predicted"] is True from now on
    base.proxy = model
    return env


__all__ = ["MODELS", "ProxyModel", "check_identity", "use_proxy"]
