"""Agents backed by Optuna's ask/tell samplers: Bayesian optimisation (TPE and a Gaussian
process) and a genetic algorithm (NSGA-II with one objective: tournament by rank, uniform
crossover, per-knob mutation).

Ordinal knobs are integer parameters (index 0..n-1) so the models see their order; categorical
knobs (a dataflow) are categorical parameters.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np

from acceldse.envs.agents.base import AskTellAgent
from acceldse.envs.agents.space import DesignSpace


class OptunaAgent(AskTellAgent):
    """Base: ``sampler(seed)`` builds the Optuna sampler from ``self.hparams``."""

    def sampler(self, seed: int) -> Any:
        raise NotImplementedError

    def start(self, space: DesignSpace, budget: int, seed: int) -> None:
        import optuna
        from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        self.space = space
        self.names = [f"{i}:{n}" for i, n in enumerate(space.names)]  # unique even if knob names repeat
        self.dists: dict[str, BaseDistribution] = {}
        for name, n, ordinal in zip(self.names, space.nvec, space.ordinal):
            self.dists[name] = IntDistribution(0, int(n) - 1) if ordinal else \
                CategoricalDistribution(list(range(int(n))))
        self.study = optuna.create_study(direction="maximize", sampler=self.sampler(seed))
        if self.initial is not None:  # from_reference: the reference design is the first trial
            self.study.enqueue_trial({n: int(v) for n, v in zip(self.names, self.initial)})
        self.trial: Any = None

    def ask(self) -> np.ndarray:
        self.trial = self.study.ask(self.dists)
        return np.array([int(self.trial.params[n]) for n in self.names], dtype=np.int64)

    def tell(self, vector: np.ndarray, reward: float, feasible: bool = True) -> None:
        import optuna

        if math.isfinite(reward):
            self.study.tell(self.trial, reward)
        else:
            self.study.tell(self.trial, state=optuna.trial.TrialState.FAIL)


class TpeAgent(OptunaAgent):
    """Bayesian optimisation with Optuna's tree-structured Parzen estimator.

    Hyper-parameters: ``n_startup_trials`` random designs first; ``n_ei_candidates`` candidates
    scored per proposal; ``multivariate`` models the knobs jointly; ``from_reference`` evaluates the env's
    reference design first (``AskTellAgent``).
    """

    name = "bo"
    HPARAMS: ClassVar[dict[str, Any]] = {"n_startup_trials": 10, "n_ei_candidates": 24, "multivariate": True,
                                         "from_reference": False}
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {"n_startup_trials": (0, 10**9), "n_ei_candidates": (1, 10**6)}
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"n_startup_trials": [5, 10, 30], "multivariate": [False, True]}
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"FpgaDesign-v0": {"multivariate": False},
                                                         "AcceleratorDesign-v0": {"n_ei_candidates": 64},
                                                         "Mapping-v0": {"from_reference": True},
                                                         "MultiAgentDesign": {"n_ei_candidates": 64}}
    """Tuned on seeds 100-102 at each env's comparison budget (``benchmarks/bench_env_defaults.py --agents bo``),
    never on a reported run; Mapping-v0: each layer's search starts from its legal reference mapping;
    MultiAgentDesign searches AcceleratorDesign-v0's joint design: its tuning."""

    def sampler(self, seed: int) -> Any:
        from optuna.samplers import TPESampler

        return TPESampler(seed=seed, n_startup_trials=self.hparams["n_startup_trials"],
                          n_ei_candidates=self.hparams["n_ei_candidates"], multivariate=self.hparams["multivariate"])


class GpAgent(OptunaAgent):
    """Bayesian optimisation with Optuna's Gaussian-process sampler (Matern-5/2 kernel, log EI).

    Hyper-parameters: ``n_startup_trials`` random designs before the GP is fitted;
    ``deterministic_objective`` fits a noise-free GP (the simulators are deterministic); ``from_reference``
    evaluates the env's reference design first (``AskTellAgent``).
    Each proposal refits the GP, so the cost grows with the number of evaluations (budgets of a
    few hundred).
    """

    name = "bo-gp"
    HPARAMS: ClassVar[dict[str, Any]] = {"n_startup_trials": 10, "deterministic_objective": True,
                                         "from_reference": False}
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"Mapping-v0": {"from_reference": True}}
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {"n_startup_trials": (0, 10**9)}
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"n_startup_trials": [5, 10, 30]}

    def sampler(self, seed: int) -> Any:
        import torch
        from optuna.samplers import GPSampler

        torch.set_num_threads(1)  # a 1-thread GP fit is ~10x faster on small data than a contended pool
        return GPSampler(seed=seed, n_startup_trials=self.hparams["n_startup_trials"],
                         deterministic_objective=self.hparams["deterministic_objective"])


class GeneticAgent(OptunaAgent):
    """Genetic algorithm: Optuna's NSGA-II sampler with one objective.

    Hyper-parameters: ``population_size`` designs per generation; ``mutation_prob`` chance that a
    knob is resampled; ``crossover_prob`` chance that a child is a crossover of two parents
    (else a copy of one); ``swapping_prob`` per-knob chance of taking the second parent's value
    (uniform crossover); ``from_reference``: the reference design is the first individual (``AskTellAgent``).
    """

    name = "ga"
    HPARAMS: ClassVar[dict[str, Any]] = {"population_size": 32, "mutation_prob": 0.1, "crossover_prob": 0.9,
                                         "swapping_prob": 0.5, "from_reference": False}
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {"population_size": (2, 10**6), "mutation_prob": (0.0, 1.0),
                                                        "crossover_prob": (0.0, 1.0), "swapping_prob": (0.0, 1.0)}
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"population_size": [16, 32, 64], "mutation_prob": [0.05, 0.2]}
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"Mapping-v0": {"population_size": 8,
                                                                        "from_reference": True}}
    """Mapping-v0 splits the budget over one search per distinct layer (tens of evaluations each): a
    generation of 32 would never be followed by a second (benchmarks/bench_mapping_agents.py); each search
    starts from the layer's legal reference mapping."""

    def sampler(self, seed: int) -> Any:
        from optuna.samplers import NSGAIISampler

        return NSGAIISampler(seed=seed, population_size=self.hparams["population_size"],
                             mutation_prob=self.hparams["mutation_prob"], crossover_prob=self.hparams["crossover_prob"],
                             swapping_prob=self.hparams["swapping_prob"])
