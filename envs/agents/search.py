"""Search agents without a library that does them better: random search, simulated annealing
and ant-colony optimisation (ArchGym's ACO), each over the knob index vector."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from acceldse.envs.agents.base import AskTellAgent
from acceldse.envs.agents.space import DesignSpace


class RandomSearch(AskTellAgent):
    """Uniform random designs (ArchGym's random walker without the walk): the baseline."""

    name = "random"

    def start(self, space: DesignSpace, budget: int, seed: int) -> None:
        self.space, self.rng = space, np.random.default_rng(seed)

    def ask(self) -> np.ndarray:
        return self.rng.integers(0, self.space.nvec)

    def tell(self, vector: np.ndarray, reward: float, feasible: bool = True) -> None:
        pass


class SimulatedAnnealing(AskTellAgent):
    """Simulated annealing over single-knob moves, from a feasible start.

    With ``from_reference`` it starts from the env's reference design (``AskTellAgent``; on by default on
    Mapping-v0, whose reference mapping is legal). Otherwise, until it has seen a feasible design it
    proposes uniform random designs (as ``random`` does), so on a space where most designs are infeasible
    (illegal mappings) it finds a first feasible one at least as soon as random search. From then on it
    anneals among its neighbours, always preferring a feasible design to an infeasible one, and the
    temperature scales with the spread of the feasible rewards seen.

    Hyper-parameters:
        t_start, t_end: temperature at the first and the last evaluation, as a fraction of the
            standard deviation of the rewards seen so far (geometric schedule in between).
        moves: knobs changed per move (an ordinal knob steps to a neighbouring value, a
            categorical one to any other value).
        restart: after this many evaluations without a new best, restart from the best design.
        from_reference: evaluate the env's reference design first (``AskTellAgent``).
    """

    name = "sa"
    HPARAMS: ClassVar[dict[str, Any]] = {"t_start": 1.0, "t_end": 0.01, "moves": 1, "restart": 50,
                                         "from_reference": False}
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {"t_start": (1e-9, 1e9), "t_end": (1e-9, 1e9),
                                                        "moves": (1, 1000), "restart": (1, 10**9)}
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"t_start": [0.3, 1.0, 3.0], "moves": [1, 2]}
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"FpgaDesign-v0": {"t_start": 0.3, "moves": 2},
                                                         "AcceleratorDesign-v0": {"t_start": 0.3, "moves": 2},
                                                         "CoExploration-v0": {"t_start": 0.3, "moves": 2},
                                                         "Mapping-v0": {"from_reference": True},
                                                         "MultiAgentDesign": {"t_start": 0.3, "moves": 2}}
    """Tuned on seeds 100-102 at budget 200 (CoExploration-v0: 50, its comparison budget;
    ``benchmarks/bench_env_defaults.py``), never on a reported run; Mapping-v0: each layer's search starts
    from its legal reference mapping; MultiAgentDesign searches AcceleratorDesign-v0's joint design: its tuning."""

    def start(self, space: DesignSpace, budget: int, seed: int) -> None:
        self.space, self.budget, self.rng = space, budget, np.random.default_rng(seed)
        self.pending = self.initial
        self.current: np.ndarray | None = None
        self.current_reward = -math.inf
        self.best: tuple[float, np.ndarray] | None = None
        self.seen: list[float] = []
        self.told = 0
        self.since_best = 0

    def ask(self) -> np.ndarray:
        if self.pending is not None:
            vec, self.pending = self.pending.copy(), None
            return vec
        if self.current is None:
            return self.rng.integers(0, self.space.nvec)
        vec = self.current.copy()
        free = np.flatnonzero(self.space.nvec > 1)
        if free.size == 0:
            return vec
        for k in self.rng.choice(free, size=min(int(self.hparams["moves"]), free.size), replace=False):
            n = int(self.space.nvec[k])
            if self.space.ordinal[k]:
                step = 1 if vec[k] == 0 else -1 if vec[k] == n - 1 else int(self.rng.choice((-1, 1)))
                vec[k] += step
            else:
                vec[k] = (vec[k] + self.rng.integers(1, n)) % n
        return vec

    def temperature(self) -> float:
        frac = self.told / max(self.budget - 1, 1)
        t0, t1 = self.hparams["t_start"], self.hparams["t_end"]
        scale = float(np.std(self.seen)) if len(self.seen) > 1 else 1.0
        return max(scale, 1e-12) * t0 * (t1 / t0) ** min(frac, 1.0)

    def tell(self, vector: np.ndarray, reward: float, feasible: bool = True) -> None:
        self.told += 1
        if not feasible:
            if self.best is not None:
                self.since_best += 1
            return  # never moves to (or starts from) an infeasible design
        delta = reward - self.current_reward
        accept = self.current is None or delta >= 0 or self.rng.random() < math.exp(delta / self.temperature())
        self.seen.append(reward)
        if accept:
            self.current, self.current_reward = vector.copy(), reward
        if self.best is None or reward > self.best[0]:
            self.best, self.since_best = (reward, vector.copy()), 0
        else:
            self.since_best += 1
        if self.since_best >= self.hparams["restart"] and self.best is not None:
            self.current, self.current_reward, self.since_best = self.best[1].copy(), self.best[0], 0


class AntColony(AskTellAgent):
    """Ant-colony optimisation (ArchGym's ACO): one pheromone per knob value.

    Hyper-parameters:
        ants: designs per generation.
        evaporation: fraction of pheromone lost after each generation.
        alpha: exponent on pheromone when an ant picks a value.
        elite: fraction of the generation (best first) that deposits pheromone, by rank.
        deposit: pheromone the best ant of a generation adds to each of its values.
        from_reference: the first ant is the env's reference design (``AskTellAgent``).
    """

    name = "aco"
    HPARAMS: ClassVar[dict[str, Any]] = {"ants": 16, "evaporation": 0.1, "alpha": 1.0, "elite": 0.25,
                                         "deposit": 1.0, "from_reference": False}
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {"ants": (1, 10**6), "evaporation": (0.0, 1.0),
                                                        "alpha": (0.0, 100.0), "elite": (0.0, 1.0),
                                                        "deposit": (0.0, 1e9)}
    LOTTERY: ClassVar[dict[str, list[Any]]] = {"ants": [8, 16, 32], "evaporation": [0.05, 0.2]}
    ENV_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {"Mapping-v0": {"ants": 4, "from_reference": True}}
    """Mapping-v0: one search per distinct layer with tens of evaluations each, so small generations; each
    starts from the layer's legal reference mapping."""

    def start(self, space: DesignSpace, budget: int, seed: int) -> None:
        self.space, self.rng = space, np.random.default_rng(seed)
        self.pending = self.initial
        self.tau = [np.ones(int(n)) for n in space.nvec]
        self.generation: list[tuple[float, np.ndarray]] = []

    def ask(self) -> np.ndarray:
        if self.pending is not None:
            vec, self.pending = self.pending.copy(), None
            return vec
        alpha = self.hparams["alpha"]
        out = np.empty(len(self.tau), dtype=np.int64)
        for k, tau in enumerate(self.tau):
            p = tau ** alpha
            out[k] = self.rng.choice(tau.size, p=p / p.sum())
        return out

    def tell(self, vector: np.ndarray, reward: float, feasible: bool = True) -> None:
        self.generation.append((reward, vector.copy()))
        if len(self.generation) < self.hparams["ants"]:
            return
        ranked = sorted(self.generation, key=lambda rv: -rv[0])
        n_elite = max(1, round(self.hparams["elite"] * len(ranked)))
        for tau in self.tau:
            tau *= 1.0 - self.hparams["evaporation"]
        for rank, (_, vec) in enumerate(ranked[:n_elite]):
            amount = self.hparams["deposit"] * (n_elite - rank) / n_elite
            for k, v in enumerate(vec):
                self.tau[k][v] += amount
        for tau in self.tau:
            np.maximum(tau, 1e-6, out=tau)
        self.generation = []
