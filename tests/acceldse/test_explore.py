"""``acceldse explore`` end to end on AcceleratorDesign-v0: the JSON report, the experience log,
same command + seed -> same log, resuming a SIGKILLed run, equal-budget compare, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from acceldse.cli import main
from acceldse.compare import compare, summarize
from acceldse.envs.agents import Evaluation
from acceldse.explore import EVALUATIONS_TABLE, RUNS_TABLE, explore
from acceldse.store import ResultStore

ROOT = Path(__file__).resolve().parents[2]
ENV = "AcceleratorDesign-v0"
SMALL = {"workload": "alexnet", "targets": {"latency_us": 3000, "energy_uj": 2600, "area_mm2": 6}}
KEYS = {"env", "agent", "budget", "evaluations", "seed", "best_reward", "best_design", "best_metrics", "targets_met",
        "first_met_at", "wall_s"}


def _log(path: Path) -> pd.DataFrame:
    with ResultStore(path, create=False) as db:
        frame = db.read(EVALUATIONS_TABLE)
    return frame.drop(columns=["eval_s"]).sort_values("step").reset_index(drop=True)


def test_cli_json_report_and_exact_budget(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    code = main(["explore", "--env", ENV, "--agent", "sa", "--budget", "37", "--seed", "2", "--env-arg",
                 "workload=alexnet", "--env-arg", 'targets={"latency_us": 3000, "area_mm2": 6}', "--store", str(store),
                 "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert KEYS <= set(report)
    assert report["evaluations"] == report["budget"] == 37 and report["env"] == f"acceldse/{ENV}"
    log = _log(store)
    assert list(log.step) == list(range(37))
    best = log.loc[log.reward.idxmax()]
    assert report["best_reward"] == best.reward and report["best_design"] == json.loads(best.design)
    assert {"knob.rows", "knob.dataflow", "metric.latency_us", "metric.area_mm2"} <= set(log.columns)
    met = log.index[log.targets_met]
    assert report["first_met_at"] == (int(met[0]) + 1 if len(met) else None)
    with ResultStore(store, create=False) as db:
        assert db.count(RUNS_TABLE) == 1


def test_same_command_same_seed_same_log(tmp_path: Path) -> None:
    results = [explore(ENV, "bo", 40, seed=5, env_kwargs=SMALL, store=tmp_path / f"{i}.duckdb") for i in range(2)]
    assert results[0].best_design == results[1].best_design
    assert results[0].rewards == results[1].rewards
    pd.testing.assert_frame_equal(_log(tmp_path / "0.duckdb"), _log(tmp_path / "1.duckdb"))


KILLER = """
import os, signal, sys
import acceldse.explore
from acceldse.explore import explore
acceldse.explore.FLUSH_EVERY = 16
def kill(ev):
    if ev.step == {kill_at}:
        os.kill(os.getpid(), signal.SIGKILL)
explore("{env}", "ga", {budget}, seed=1, env_kwargs={kwargs!r}, store=sys.argv[1], on_evaluation=kill)
"""


def test_killed_run_resumes_without_redoing_logged_evaluations(tmp_path: Path) -> None:
    budget, kill_at = 80, 45  # the log is flushed every 16 evaluations (or 2 s): 32 or more survive
    store = tmp_path / "killed.duckdb"
    script = KILLER.format(kill_at=kill_at, env=ENV, budget=budget, kwargs=SMALL)
    proc = subprocess.run([sys.executable, "-c", script, str(store)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    survived = len(_log(store))
    assert 0 < survived <= kill_at
    fresh: list = []
    resumed = explore(ENV, "ga", budget, seed=1, env_kwargs=SMALL, store=store, on_evaluation=fresh.append)
    assert resumed.replayed == survived and len(fresh) == budget - survived  # only the rest is simulated
    assert [ev.step for ev in fresh] == list(range(survived, budget))
    whole = explore(ENV, "ga", budget, seed=1, env_kwargs=SMALL, store=tmp_path / "whole.duckdb")
    assert resumed.rewards == whole.rewards and resumed.best_design == whole.best_design
    pd.testing.assert_frame_equal(_log(store), _log(tmp_path / "whole.duckdb"))


def test_compare_equal_budgets_table_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "curves.png"
    runs = compare(ENV, ["random", "ga"], 30, 2, env_kwargs=SMALL, plot=plot)
    assert len(runs) == 4 and (runs.evaluations == 30).all()
    assert all(len(c) == 30 for c in runs.curve)
    table = summarize(runs)
    assert list(table.agent) == ["random", "ga"]
    for agent, part in runs.groupby("agent"):
        row = table[table.agent == agent].iloc[0]
        assert row.best_reward_mean == pytest.approx(part.best_reward.mean())
    assert plot.stat().st_size > 0
    assert (runs.feasible_rate == 1.0).all() and (runs.hypervolume > 0).all()  # no resource limit on this env
    assert {"best_reward_median", "best_reward_iqr", "hypervolume_median", "evals_to_target_median"} <= set(table)
    out = tmp_path / "runs.json"
    assert main(["explore", "compare", "--env", ENV, "--agents", "random", "--seeds", "2", "--budget", "6",
                 "--env-arg", f"workload={SMALL['workload']}", "--runs-json", str(out), "--json"]) == 0
    data = json.loads(out.read_text())
    assert [r["seed"] for r in data["runs"]] == [0, 1] and all(len(r["curve"]) == 6 for r in data["runs"])


def test_lottery_runs_every_setting_of_the_grid() -> None:
    runs = compare(ENV, ["sa"], 12, 1, env_kwargs=SMALL, lottery=True)
    assert len(runs) == 6  # t_start x moves = 3 x 2
    table = summarize(runs, lottery=True)
    assert (table.lottery_min <= table.best_reward_mean).all() and (table.best_reward_mean <= table.lottery_max).all()
    assert table.lottery_evals_min.iloc[0] == table.evals_to_target_censored.min()


@pytest.mark.filterwarnings("error")
def test_summary_without_a_best_reward_is_quiet() -> None:
    """No run found a feasible design (or only some did): the summary is NaN / worst, with no numpy warning."""
    import numpy as np

    nan = float("nan")
    rows = [{"agent": "random", "setting": "{}", "seed": s, "evaluations": 4, "best_reward": r, "targets_met": False,
             "first_met_at": nan, "feasible_rate": 0.0, "hypervolume": nan, "wall_s": 0.1, "curve": [nan] * 4}
            for s, r in enumerate([nan, nan, nan, nan, nan, nan, 1.0, 2.0])]
    none = summarize(pd.DataFrame(rows[:2])).iloc[0]
    assert np.isnan(none.best_reward_median) and np.isnan(none.best_reward_iqr) and none.feasible_runs == "0/2"
    some = summarize(pd.DataFrame(rows)).iloc[0]  # 6 of 8 infeasible: the quartiles are the worst
    assert some.best_reward_median == -np.inf and some.feasible_runs == "2/8"
    half = summarize(pd.DataFrame(rows[4:])).iloc[0]  # 2 of 4: median next to the worst, Q3 between 1 and 2
    assert half.best_reward_median == -np.inf and half.best_reward_iqr == np.inf


@pytest.mark.parametrize("argv, message", [
    (["--env", ENV, "--agent", "hillclimb"], "--agent: unknown agent"),
    (["--env", "Nope-v0"], "--env: unknown env"),
    (["--env", ENV, "--agent", "bo", "--seed", "4294967296"], "--seed: seed out of range (got 4294967296)"),  # 32-bit
    (["--env", ENV, "--agent", "ga", "--hp", "populaton_size=4"], "unknown hyper-parameter"),
    (["--env", ENV, "--budget", "0"], "--budget"),
    (["--env", ENV, "--budget", "1000000000"], "over the limit of 250,000"),
    (["compare", "--env", ENV, "--budget", "1000000000"], "--max-budget"),
    (["compare", "--env", ENV, "--seeds", "100000000"], "--seeds: 400,000,000 runs x 100 evaluations"),
    (["compare", "--env", ENV, "--runs-json", "{tmp}/missing/runs.json"], "--runs-json"),
    (["--env", ENV, "--env-arg", "colour=red"], "--env-arg: unknown argument of acceldse/AcceleratorDesign-v0 "
                                                "(got 'colour'); expected max_episode_steps, workload, hardware"),
    (["--env", "MultiAgentDesign", "--env-arg", "colour=red"], "--env-arg: unknown argument of MultiAgentDesign "
                                                               "(got 'colour'); expected max_cycles, reward_mode"),
    (["--env", ENV, "--env-arg", "max_episode_steps=0"], "--env-arg: max_episode_steps: must be >= 1 (got 0)"),
    (["--env", ENV, "--env-arg", "noequals"], "KEY=VALUE"),
    (["--env", ENV, "--env-arg", "workload=nope"], "--env-arg: workload: unknown workload (got 'nope')"),
    (["--env", "FpgaDesign-v0", "--env-arg", "platform=nope"], "--env-arg: platform: unknown FPGA platform"),
    (["--env", ENV, "--env-arg", "workload=lenet", "--env-arg", "workload=mlp"], "--env-arg: workload is given twice"),
    (["--env", ENV, "--store", "{tmp}/missing/x.duckdb"], "--store"),
    (["compare", "--env", ENV, "--agents", "random,nope"], "unknown agent"),
    (["compare", "--env", ENV, "--agents", "random,ga,random"], "--agents: an agent is given twice (got 'random')"),
    (["compare", "--env", ENV, "--plot", "x.gif"], "--plot"),
])
def test_bad_input_is_one_clear_error(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    assert main(["explore", *[a.format(tmp=tmp_path) for a in argv]]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_rows_record_workload_params_and_other_params_are_a_new_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Every logged row carries the parameters its workload was built with (a zoo network's defaults
    written out), ``run_id`` is computed from them, and a run whose parameters differ is never resumed."""
    import acceldse.workloads.zoo as zoo
    from acceldse.explore import input_files, workload_params

    store = tmp_path / "e.duckdb"
    kwargs = {"workload": {"name": "bert_base", "seq_len": 64}}
    explore(ENV, "random", 3, seed=0, env_kwargs=kwargs, store=store)
    stored = [{"name": "bert_base", **zoo.parameters("bert_base"), "seq_len": 64}]
    with ResultStore(store, create=False) as db:
        for table in (EVALUATIONS_TABLE, RUNS_TABLE):
            assert [json.loads(p) for p in db.read(table)["workload_params"].unique()] == [stored]
    real = zoo.parameters
    monkeypatch.setattr(zoo, "parameters", lambda name: {**real(name), "num_layers": 2})  # a changed zoo default
    again = explore(ENV, "random", 3, seed=0, env_kwargs=kwargs, store=store)
    assert again.replayed == 0 and "workload parameters" in caplog.text and "not a resume" in caplog.text
    assert _log(store)["run_id"].nunique() == 2
    monkeypatch.undo()
    identity = json.loads(_log(store)["env_identity"].iloc[0])  # what the env evaluated, by content
    assert identity["workload"] == "bert_base" and identity["hardware"] == "scalesim-32x32"
    assert {"workload_digest", "hardware_digest"} <= set(identity)
    import acceldse.experience_log as log_module
    real_identity = log_module.env_identity
    monkeypatch.setattr(log_module, "env_identity", lambda env: {**real_identity(env), "hardware_digest": "x"})
    assert explore(ENV, "random", 3, seed=0, env_kwargs=kwargs, store=store).replayed == 0  # a preset edited
    assert "hardware_digest" in caplog.text
    monkeypatch.undo()
    caplog.clear()
    assert explore(ENV, "random", 3, seed=0, env_kwargs=kwargs, store=store).replayed == 3  # the same: resumed
    assert "not a resume" not in caplog.text
    # no workload named: the env's default one, at its defaults; a workload file in a set is hashed
    assert workload_params(ENV, {}) == [{"name": "resnet18", **zoo.parameters("resnet18")}]
    tiny = str(Path(__file__).with_name("tiny_topology.csv"))
    assert set(input_files({"workloads": ["alexnet", {"name": tiny}]})) == {"workloads.1"}


@pytest.mark.parametrize("env_id, kwargs, hardware", [
    ("Mapping-v0", {"workload": "alexnet"}, "eyeriss_like"),
    ("MultiAgentDesign", {"workload": "alexnet"}, "scalesim-32x32"),
])
def test_every_env_records_what_it_evaluates(tmp_path: Path, env_id: str, kwargs: dict, hardware: str) -> None:
    """Mapping-v0 and the multi-agent env key their rows by workload and hardware content too."""
    store = tmp_path / "e.duckdb"
    explore(env_id, "random", 2, seed=0, env_kwargs=kwargs, store=store)
    identity = json.loads(_log(store)["env_identity"].iloc[0])
    assert identity["workload"] == "alexnet" and identity["hardware"] == hardware
    assert {"workload_digest", "hardware_digest"} <= set(identity)


class _Stop(Exception):
    """Stands for a kill: the run stops after logging some evaluations."""


@pytest.mark.parametrize("env, kwargs, agent, budget, stop_at", [
    ("Mapping-v0", {"workload": "lenet"}, "sa", 14, 5),  # ask/tell, one search per layer
    ("Mapping-v0", {"workload": "lenet"}, "bo", 14, 6),
    ("AcceleratorDesign-v0", SMALL, "aco", 104, 101),  # past the 100-step time limit
])
def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path: Path, env: str, kwargs: dict, agent: str,
                                                   budget: int, stop_at: int) -> None:
    """The env steps through the logged evaluations (answered from the log), so the search context, the
    time limit and the action mask are the logged run's when new evaluations start (PPO and MaskablePPO
    resume the same way; not run here, too slow)."""
    def stop(ev: Evaluation) -> None:
        if ev.step == stop_at:
            raise _Stop

    store = tmp_path / "stopped.duckdb"
    with pytest.raises(_Stop):
        explore(env, agent, budget, seed=2, env_kwargs=kwargs, store=store, on_evaluation=stop)
    fresh: list = []
    resumed = explore(env, agent, budget, seed=2, env_kwargs=kwargs, store=store,
                      on_evaluation=fresh.append)
    assert resumed.replayed == stop_at + 1 and len(fresh) == budget - stop_at - 1
    whole = explore(env, agent, budget, seed=2, env_kwargs=kwargs, store=tmp_path / "whole.duckdb")
    assert resumed.rewards == whole.rewards and resumed.best_reward == whole.best_reward
    pd.testing.assert_frame_equal(_log(store), _log(tmp_path / "whole.duckdb"))
