"""The equal-budget comparison of search agents (``acceldse explore compare``).

Every agent gets the same number of simulator evaluations on every seed. ``compare`` returns
one row per run (agent, hyper-parameter setting, seed) with its best-so-far curve;
``summarize`` gives per agent the median and inter-quartile range over seeds of the best
feasible reward, the hypervolume and the feasible (legal) rate, and the evaluations needed to
meet the targets. A run that found no feasible design has no best reward (NaN), which ranks
below every run that did. In lottery mode every agent also runs over the small
grid of its hyper-parameters (``Agent.LOTTERY``), and the summary shows how much the result
moves with the setting: ArchGym's "hyper-parameter lottery".
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acceldse.env_catalog import resolve_env_id
from acceldse.envs.agents import AGENTS, MAX_BUDGET, check_budget, make_agent
from acceldse.explore import explore
from acceldse.workloads.errors import SpecError

RUN_COLUMNS = ("agent", "setting", "seed", "evaluations", "best_reward", "targets_met", "first_met_at",
               "feasible_rate", "hypervolume", "wall_s", "curve")
DEFAULT_SEEDS = 10
"""Seeds per agent of ``acceldse explore compare`` (medians and quartiles need ten or more)."""
RUNS_AT_FULL_BUDGET = 100
"""One comparison's evaluations (runs x budget) are refused above this many runs at the budget limit
(``MAX_BUDGET``, or ``max_budget``): 25,000,000 by default, hours of simulation."""


def settings(agent: str, lottery: bool) -> list[dict[str, Any]]:
    """The hyper-parameter settings an agent runs with: its defaults, or its lottery grid."""
    grid = AGENTS[agent].LOTTERY if lottery else {}
    if not grid:
        return [{}]
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def compare(env: str, agents: list[str], budget: int, seeds: int = DEFAULT_SEEDS, *,
            env_kwargs: dict[str, Any] | None = None, lottery: bool = False, store: str | Path | None = None,
            plot: str | Path | None = None, progress: bool = False, max_budget: int | None = None) -> pd.DataFrame:
    """Run each agent (each lottery setting) on seeds ``0..seeds-1`` at ``budget`` evaluations.

    Returns one row per run with ``RUN_COLUMNS`` (``curve``: best feasible reward after each evaluation,
    NaN before the first; ``first_met_at``: evaluations to meet the targets, NaN if never; ``best_reward``
    NaN when no feasible design was found).
    """
    if not agents:
        raise SpecError("no agent given", source="agents", accepted=", ".join(AGENTS))
    agents = [agents] if isinstance(agents, str) else list(agents)  # one name, not its letters
    for name in agents:
        make_agent(name)  # unknown names fail before any run
    repeated = sorted({name for name in agents if agents.count(name) > 1})
    if repeated:  # the same agent twice would pool identical runs into one tighter-looking row
        raise SpecError("an agent is given twice", source="agents", value=repeated[0],
                        accepted="each agent once (its seeds are the repeats)")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise SpecError("need at least one seed", source="seeds", value=seeds, accepted="an integer >= 1")
    check_budget(budget, max_budget)
    runs_count = sum(len(settings(a, lottery)) for a in agents) * seeds
    limit = RUNS_AT_FULL_BUDGET * (MAX_BUDGET if max_budget is None else max_budget)
    if runs_count * budget > limit:  # refused before any run, never hours of work or a list of 10^8 jobs
        raise SpecError(f"{runs_count:,} runs x {budget:,} evaluations = {runs_count * budget:,} evaluations, over the "
                        f"limit of {limit:,} for one comparison", source="seeds", value=seeds,
                        accepted="fewer seeds or agents, a smaller budget, or raise the limit with max_budget "
                             f"({RUNS_AT_FULL_BUDGET} runs at it)")
    if plot is not None:
        check_figure_path(plot)
    env_id = resolve_env_id(env)
    jobs = [(a, s, seed) for a in agents for s in settings(a, lottery) for seed in range(seeds)]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="run", leave=False)
    rows = []
    for agent, setting, seed in jobs:
        res = explore(env_id, agent, budget, seed, env_kwargs=env_kwargs, hparams=setting, store=store,
                      max_budget=max_budget)
        rows.append({"agent": agent, "setting": json.dumps(setting, sort_keys=True), "seed": seed,
                     "evaluations": res.evaluations,
                     "best_reward": res.best_reward if res.best_reward is not None else np.nan,
                     "targets_met": res.targets_met,
                     "first_met_at": float(res.first_met_at) if res.first_met_at is not None else np.nan,
                     "feasible_rate": res.feasible_rate,
                     "hypervolume": res.hypervolume if res.hypervolume is not None else np.nan,
                     "wall_s": res.wall_s, "curve": res.best_so_far()})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    runs = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    if plot is not None:
        from acceldse.plots import save

        save(plot_curves(runs, title=f"{env_id}, budget {budget}, {seeds} seeds"), plot)
    return runs


def _quartiles(values: pd.Series, worst: float) -> tuple[float, float]:
    """Median and inter-quartile range of ``values`` with NaN (no feasible design) counted as ``worst``;
    NaN for both when no run has a value. With ``worst = -inf`` a quartile that falls on or next to an
    infeasible run is ``-inf`` and the IQR then ``inf``."""
    if len(values) == 0 or values.isna().all():
        return np.nan, np.nan
    x = values.fillna(worst).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):  # interpolating next to -inf gives NaN: that quartile is the worst
        quartiles = np.percentile(x, [25, 50, 75])
    q1, med, q3 = np.where(np.isnan(quartiles), worst, quartiles)
    with np.errstate(invalid="ignore"):
        iqr = q3 - q1 if np.isfinite(q1) or np.isfinite(q3) else np.nan
    return float(med), float(iqr)


def _agent_stats(part: pd.DataFrame, budget: int) -> dict[str, Any]:
    met = part.first_met_at.notna()
    censored = part.first_met_at.fillna(budget)
    feasible = part.best_reward.notna()
    med, iqr = _quartiles(part.best_reward, -np.inf)
    hv_med, hv_iqr = _quartiles(part.hypervolume, 0.0) if part.hypervolume.notna().any() else (np.nan, np.nan)
    fr_med, fr_iqr = _quartiles(part.feasible_rate, 0.0)
    ev_med, ev_iqr = _quartiles(censored, float(budget))
    return {"runs": len(part), "best_reward_median": med, "best_reward_iqr": iqr,
            "best_reward_mean": part.best_reward.mean() if feasible.all() else np.nan,
            "best_reward_std": part.best_reward.std(ddof=0) if feasible.all() else np.nan,
            "best_reward_min": part.best_reward.min() if feasible.all() else np.nan,
            "best_reward_max": part.best_reward.max(), "feasible_runs": f"{int(feasible.sum())}/{len(part)}",
            "feasible_rate_median": fr_med, "feasible_rate_iqr": fr_iqr,
            "hypervolume_median": hv_med, "hypervolume_iqr": hv_iqr, "met": f"{int(met.sum())}/{len(part)}",
            "evals_to_target_median": ev_med, "evals_to_target_iqr": ev_iqr,
            "evals_to_target_mean": part.first_met_at[met].mean() if met.any() else np.nan,
            "evals_to_target_censored": censored.mean(), "wall_s_mean": part.wall_s.mean()}


def summarize(runs: pd.DataFrame, *, lottery: bool = False) -> pd.DataFrame:
    """Per agent over seeds: median and inter-quartile range (``_iqr``) of the best feasible reward (a run
    without a feasible design counts as the worst), of the hypervolume and of the feasible rate; runs that
    found a feasible design (k/n); mean/std/min/max of the best reward (NaN unless every run found one);
    targets met (k/n); evaluations to the target (median and IQR with a miss counted as the full budget,
    ``_mean`` over the seeds that met it, ``_censored`` the mean with a miss counted as the full budget).

    In lottery mode, one row per agent and setting, then the spread over the agent's settings of
    the per-setting mean best reward (``lottery_min``/``lottery_max``) and of the censored mean
    evaluations to the target (``lottery_evals_min``/``lottery_evals_max``).
    """
    budget = int(runs.evaluations.max()) if len(runs) else 0
    keys = ["agent", "setting"] if lottery else ["agent"]
    rows = [{**dict(zip(keys, key if isinstance(key, tuple) else (key,))), **_agent_stats(part, budget)}
            for key, part in runs.groupby(keys, sort=False)]
    table = pd.DataFrame(rows)
    if lottery and len(table):
        by_agent = table.groupby("agent", sort=False)
        spread = by_agent.best_reward_mean.agg(lottery_min="min", lottery_max="max").join(
            by_agent.evals_to_target_censored.agg(lottery_evals_min="min", lottery_evals_max="max"))
        table = table.merge(spread, on="agent")
    return table


def runs_json(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """The per-run records (``RUN_COLUMNS``, curves as lists, NaN as ``None``) that ``--runs-json`` writes."""
    out = []
    for row in runs.to_dict(orient="records"):
        rec = {}
        for k, v in row.items():
            if k == "curve":
                v = [None if not np.isfinite(x) else float(x) for x in np.asarray(v, dtype=np.float64)]
            elif isinstance(v, float | np.floating) and not np.isfinite(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            rec[k] = v
        out.append(rec)
    return out


def plot_curves(runs: pd.DataFrame, title: str = "") -> Any:
    """Mean best-so-far reward per agent over its runs, with the min-max band (``acceldse.plots.compare_curves``)."""
    from acceldse.plots import compare_curves

    return compare_curves(runs, title=title)


def check_figure_path(path: str | Path) -> Path:
    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise SpecError("unknown figure format", source="plot", value=str(path), accepted="a .png, .svg or .pdf path")
    if not out.parent.is_dir():
        raise SpecError(f"folder {str(out.parent)!r} does not exist", source="plot", value=str(path))
    return out


__all__ = ["DEFAULT_SEEDS", "check_figure_path", "compare", "plot_curves", "runs_json", "settings", "summarize"]
