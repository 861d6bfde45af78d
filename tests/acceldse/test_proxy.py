"""Proxy cost models: trained from the experience log, reported on held-out designs, and used by
an env in place of its simulator (the logged metrics of a proxy-driven run are the proxy's)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from acceldse.cli import main
from acceldse.envs.proxy import ProxyModel, use_proxy
from acceldse.explore import EVALUATIONS_TABLE, explore, make_env
from acceldse.proxy import train_proxy
from acceldse.store import ResultStore
from acceldse.workloads.errors import SpecError

ENV = "AcceleratorDesign-v0"
KW = {"workload": "alexnet", "targets": {"latency_us": 3000, "area_mm2": 6}}
TARGETS = "latency_us,energy_uj,area_mm2,power_w"


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("proxy") / "log.duckdb"
    explore(ENV, "random", 400, seed=0, env_kwargs=KW, store=store)
    return store


@pytest.fixture(scope="module")
def trained(logged: Path) -> tuple[Path, dict]:
    out = logged.parent / "ad.proxy"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["proxy", "train", "--store", str(logged), "--target", TARGETS, "--out", str(out), "--json"]) == 0
    return out, json.loads(text.getvalue())


def test_train_reports_held_out_accuracy_and_speed(trained: tuple[Path, dict]) -> None:
    out, data = trained
    report = {r["target"]: r for r in data["report"]}
    assert set(report) == set(TARGETS.split(","))
    # 400 designs of 296,352: percent-level errors (docs/explore.md has the figures at more samples)
    assert report["area_mm2"]["r2"] > 0.9 and report["area_mm2"]["rel_err_pct"] < 15, report["area_mm2"]
    assert report["latency_us"]["r2"] > 0.85 and report["latency_us"]["rel_err_pct"] < 25, report["latency_us"]
    assert all(r["predict_us"] > 0 and r["simulator_us"] > 0 for r in report.values())
    proxy = ProxyModel.load(out)
    assert proxy.meta["samples"] == data["meta"]["samples"] <= 400
    assert proxy.meta["held_out"] == round(0.2 * proxy.meta["samples"])


def test_proxy_replaces_the_simulator_in_the_env(trained: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = trained
    proxy = ProxyModel.load(out)
    store = tmp_path / "driven.duckdb"
    res = explore(ENV, "bo", 30, seed=1, env_kwargs={**KW, "proxy": str(out)}, store=store)
    assert res.evaluations == 30
    with ResultStore(store, create=False) as db:
        log = db.read(EVALUATIONS_TABLE)
    sim = make_env(ENV, KW).unwrapped
    errors = []
    for row in log.itertuples(index=False):
        design = json.loads(row.design)
        predicted, true = proxy.predict(design), sim.evaluate(design)
        assert json.loads(row.metrics) == pytest.approx(predicted)  # the env's metrics are the proxy's
        errors.append(abs(predicted["area_mm2"] / true["area_mm2"] - 1))
    assert sorted(errors)[len(errors) // 2] < 0.25  # and close to the simulator's on the designs BO chose
    # a proxy-driven run's rows are never training data for a proxy
    both = tmp_path / "both.duckdb"
    explore(ENV, "random", 20, seed=0, env_kwargs={**KW, "proxy": str(out)}, store=both)
    with pytest.raises(SpecError, match="no logged simulator evaluation"):
        train_proxy(both, ["latency_us"])


def test_bad_proxy_input(logged: Path, tmp_path: Path) -> None:
    assert main(["proxy", "train", "--store", str(logged), "--target", "nope"]) == 2
    with pytest.raises(SpecError, match="unknown target column"):
        train_proxy(logged, ["latency_ms"])
    with pytest.raises(SpecError, match="unknown proxy model"):
        train_proxy(logged, ["latency_us"], model="svm")
    with pytest.raises(SpecError, match="result store not found .* or 'acceldse explore --store'"):  # its writer
        train_proxy(tmp_path / "none.duckdb", ["latency_us"])
    partial = train_proxy(logged, ["area_mm2"], model="rf")
    with pytest.raises(SpecError, match="does not predict every metric"):
        use_proxy(make_env(ENV, KW), partial)
    with pytest.raises(SpecError, match="proxy model file not found"):
        make_env(ENV, {**KW, "proxy": str(tmp_path / "missing.proxy")})


@pytest.mark.slow
def test_proxy_is_tied_to_what_it_learned(trained: tuple[Path, dict], logged: Path, tmp_path: Path) -> None:
    import gymnasium as gym

    out, _ = trained
    proxy = ProxyModel.load(out)
    assert proxy.meta["identity"]["workload"] == "alexnet" and proxy.meta["identity"]["fidelity"] == "analytical"
    env = gym.make(f"acceldse/{ENV}", proxy=str(out), **KW)  # a constructor argument, like any other
    env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["predicted"] is True and info["metrics"] == pytest.approx(proxy.predict(info["design"]))
    env.close()
    plain = make_env(ENV, KW)
    plain.reset(seed=0)
    assert plain.step(plain.action_space.sample())[4]["predicted"] is False
    with pytest.raises(SpecError, match="trained on another workload"):  # never a resnet18 design
        make_env(ENV, {**KW, "workload": "resnet18", "proxy": str(out)})
    conditioned = make_env(ENV, {"workloads": ["alexnet", "resnet18"], "proxy": str(out)})
    conditioned.reset(options={"workload": "alexnet"})
    with pytest.raises(SpecError, match="trained on another workload"):  # an episode of another workload
        conditioned.reset(options={"workload": "resnet18"})
    with pytest.raises(SpecError, match="trained on another fidelity"):
        make_env(ENV, {**KW, "fidelity": "event", "proxy": str(out)})
    # two workloads in one store: refused, never merged into one proxy
    import shutil

    mixed = tmp_path / "mixed.duckdb"
    shutil.copy(logged, mixed)
    explore(ENV, "random", 5, seed=0, env_kwargs={**KW, "workload": "mobilenet_v2"}, store=mixed)
    with pytest.raises(SpecError, match="different workloads"):
        train_proxy(mixed, ["latency_us"])
    one = train_proxy(mixed, ["latency_us"], model="rf", where="env_kwargs LIKE '%alexnet%'")
    assert one.meta["identity"]["workload"] == "alexnet"


@pytest.mark.parametrize("model", ["mlp", "rf", "gbm"])
def test_every_model_fits_a_single_target(model: str) -> None:
    import pandas as pd

    frame = pd.DataFrame({"knob.pes": [2.0 ** (i % 10 + 2) for i in range(30)],
                          "knob.flow": ["os", "ws", "is"] * 10})
    frame["metric.latency_us"] = 1e4 / frame["knob.pes"] * frame["knob.flow"].map({"os": 1.0, "ws": 1.5, "is": 2.0})
    proxy = ProxyModel.fit(frame, ["latency_us"], model=model)
    assert list(proxy.report.target) == ["latency_us"]
    assert proxy.predict({"pes": 16.0, "flow": "ws"})["latency_us"] > 0
