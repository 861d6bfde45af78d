"""The batched vector env of AcceleratorDesign-v0: N designs per step in one compiled kernel call.

``gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=N, vectorization_mode="vector_entry_point",
**kwargs)`` returns ``AcceleratorDesignVectorEnv``: the same N sub-envs as ``vectorization_mode="sync"``
(each an ``AcceleratorDesignEnv(**kwargs)`` under ``TimeLimit(max_episode_steps)``, Gymnasium's
next-step autoreset), with identical observations, rewards, terminations and truncations, but one step
evaluates every sub-env's design in one call of the analytical kernel
(``layer_kernels.network_sums_many``: each design on its own workload's and dataflow's lowered layers)
instead of N Python env steps, and builds the N observations, rewards and infos as arrays, never per
sub-env. ``infos`` holds ``targets_met``, ``penalty`` and ``workload`` (its name) per sub-env. With
``reward="vector"`` the rewards are an (N, 3) float32 array, each row the single env's vector reward
(MO-Gymnasium's vector envs; ``reward_space`` the batched ``Box``).

A workload set (``workloads=[...]``, ``envs.workload_set``) works as in the sync vector env: each sub-env keeps
its own seeded generator (``reset(seed=s)`` seeds sub-env i with ``s + i``, as ``SyncVectorEnv`` does) and
samples its episode's workload from it at every reset and autoreset; ``reset(options={"workload": ...})``
poses one workload (in the set or not) to every sub-env, ``options={"design": {...}}`` one start design.
The analytical fidelity only (``fidelity="event"`` or ``proxy=``: use ``"sync"``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.envs.design_env import VECTOR_CLIP
from acceldse.envs.vector_step import FLOWS, KNOB_COLUMNS, METRIC_COLUMNS, design_step
from acceldse.envs.workload_set import workload_key
from acceldse.simulator.systolic.jit import compile_kernels
from acceldse.workloads.errors import SpecError

compile_kernels()  # the batched step runs the compiled kernels, never their Python source


class _Tables:
    """Every workload's per-step constants, one row per workload (index ``w``): the kernel's lowered layers
    (table ``3 w + dataflow``, concatenated), reference metrics, targets, the observation's constant tail."""

    def __init__(self, metric_names: tuple[str, ...]) -> None:
        self.metric_names = metric_names
        self.obs_metric = np.array([METRIC_COLUMNS.index(k) for k in metric_names], dtype=np.int64)
        self.mac_cases: list[np.ndarray] = []
        self.vectors: list[np.ndarray] = []
        self.repeats: list[np.ndarray] = []
        self.names: list[str] = []
        self.rows: list[dict[str, Any]] = []

    def add(self, env: AcceleratorDesignEnv) -> None:
        """The current workload of ``env`` (bound: reference, targets) as the next row."""
        model = env.model
        for flow in FLOWS:
            nc = model.cases[flow]
            self.mac_cases.append(nc.mac_cases)
            self.vectors.append(nc.vectors)
            self.repeats.append(model.repeats[flow])
        self.names.append(env.network.name)
        env._index, env._metrics = env._knobs.middle(), env.reference_metrics
        self.rows.append({"macs": model.macs, "reference": [env.reference_metrics[k] for k in self.metric_names],
                          "penalty": tuple({**env.constraints, **env.targets}.items()),
                          "tail": np.concatenate([env._target_obs, env.workload_obs]),
                          "start_obs": env._observe(), "has_targets": bool(env.targets),
                          "metric_reference": dict(env.reference_metrics)})
        self.mac_start = np.cumsum([0] + [len(m) for m in self.mac_cases])
        self.vector_start = np.cumsum([0] + [len(v) for v in self.vectors])
        self.all_mac_cases = np.ascontiguousarray(np.concatenate(self.mac_cases))
        self.all_vectors = np.ascontiguousarray(np.concatenate(self.vectors))
        self.all_repeats = np.ascontiguousarray(np.concatenate(self.repeats))
        self.macs = np.array([r["macs"] for r in self.rows], dtype=np.int64)
        self.reference = np.array([r["reference"] for r in self.rows], dtype=np.float64)
        self.tail = np.stack([r["tail"] for r in self.rows])
        self.start_obs = np.stack([r["start_obs"] for r in self.rows])
        self.has_targets = np.array([r["has_targets"] for r in self.rows])
        most = max(1, max(len(r["penalty"]) for r in self.rows))
        self.term_count = np.array([len(r["penalty"]) for r in self.rows], dtype=np.int64)
        self.term_metric = np.zeros((len(self.rows), most), dtype=np.int64)
        self.term_bound = np.zeros((len(self.rows), most))
        for w, r in enumerate(self.rows):
            for j, (k, t) in enumerate(r["penalty"]):
                self.term_metric[w, j], self.term_bound[w, j] = METRIC_COLUMNS.index(k), t
        self.metric_reference = {k: np.array([r["metric_reference"][k] for r in self.rows]) for k in METRIC_COLUMNS}


class AcceleratorDesignVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` AcceleratorDesign-v0 sub-envs stepped in one batched kernel call (module docstring)."""

    metadata: dict[str, Any] = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 100, **kwargs: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise SpecError("num_envs must be a positive integer", source="num_envs", value=num_envs)
        if kwargs.get("fidelity", "analytical") != "analytical" or kwargs.get("proxy") is not None:
            raise SpecError("the batched vector env runs the analytical model", source="kwargs",
                            value=sorted(k for k in ("fidelity", "proxy") if k in kwargs),
                            accepted='vectorization_mode="sync" for fidelity="event" or proxy=')
        self.env = AcceleratorDesignEnv(**kwargs)
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = self.env.observation_space
        self.single_action_space = self.env.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.spec = None
        self.render_mode = None
        base = self.env
        if base.reward_kind == "vector":  # MO-Gymnasium's vector envs: one reward row per sub-env
            self.single_reward_space = base.reward_space
            self.reward_space = batch_space(base.reward_space, num_envs)
        self._values = [np.asarray(v) for v in base.knobs.values()]
        self._names = list(base._knobs.values)
        self._scale = np.maximum(base._knobs.nvec - 1, 1)
        self._knob_col = np.array([self._names.index(k) if k in self._names else -1 for k in KNOB_COLUMNS])
        self._knob_values = np.ones((len(KNOB_COLUMNS), int(base._knobs.nvec.max())))
        for i, k in enumerate(KNOB_COLUMNS):
            for j, v in enumerate(base.knobs.get(k, [])):
                self._knob_values[i, j] = FLOWS.index(str(v)) if k == "dataflow" else float(v)
        model = base.model
        self._base_hw = model.hardware.copy()
        self._area = np.array([model.pe_area_mm2, model.sram_mm2_per_byte, model.other_area_mm2])
        self._sampled = len(base.workloads)  # > 1: every (auto)reset samples the sub-env's workload from the set
        self._entries: list[Any] = list(base._entries)  # the set, then any workload a reset option posed
        self._keys = [workload_key(e) for e in self._entries]
        self._tables = _Tables(base.metric_names)
        for entry in self._entries:
            base._set_workload(entry)
            self._tables.add(base)
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._seeds: list[int | None] = [None] * num_envs  # a seed given, its generator not built yet
        self._wl = np.zeros(num_envs, dtype=np.int64)
        self._index = np.tile(base._knobs.middle(), (num_envs, 1))
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._obs = np.zeros((num_envs, *self.single_observation_space.shape), dtype=np.float32)

    def _rng(self, i: int) -> np.random.Generator:
        """Sub-env i's generator, built when first drawn from (what its seed made, else unseeded)."""
        rng = self._rngs[i]
        if rng is None:  # never seeded: an unseeded generator, as gymnasium.Env.np_random makes
            rng = self._rngs[i] = seeding.np_random(self._seeds[i])[0]
            self._seeds[i] = None
        return rng

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every sub-env (``SyncVectorEnv``'s seeding: ``seed + i``, or one seed per sub-env); options
        ``workload`` (every sub-env's episode workload) and ``design`` (the start design) as the single env's."""
        n = self.num_envs
        seeds = [None] * n if seed is None else [seed + i for i in range(n)] if isinstance(seed, int) else list(seed)
        if len(seeds) != n:
            raise SpecError("one seed per sub-env", source="seed", value=seed, accepted=f"an int or {n} seeds")
        options = dict(options or {})
        allowed = {"design", "workload"} if self._sampled else {"design"}
        unknown = set(options) - allowed
        if unknown:
            raise SpecError("unknown reset option", source="options", key=sorted(unknown)[0],
                            accepted=" | ".join(sorted(allowed)))
        for i, s in enumerate(seeds):
            if s is not None:
                self._rngs[i], self._seeds[i] = None, s
        posed = None
        if "workload" in options:
            key = workload_key(options["workload"])
            if key not in self._keys:
                self.env._set_workload(options["workload"])
                self._tables.add(self.env)
                self._entries.append(options["workload"])
                self._keys.append(key)
            posed = self._keys.index(key)
        start = None if "design" not in options else self.env._knobs.encode(options["design"], source="options.design")
        self._elapsed[:] = 0
        self._autoreset[:] = False
        self._restart(np.arange(n), posed, start)
        return self._obs.copy(), {}

    def _restart(self, rows: np.ndarray, workload: int | None = None, design: np.ndarray | None = None) -> None:
        """Start new episodes in the sub-envs ``rows``: their workload (``workload``, else sampled from each
        sub-env's generator when the env has a set), the start design and its observation."""
        if workload is not None:
            self._wl[rows] = workload
        elif self._sampled > 1:
            self._wl[rows] = [int(self._rng(i).integers(self._sampled)) for i in rows.tolist()]
        if design is None:
            self._index[rows] = self.env._knobs.middle()
            self._obs[rows] = self._tables.start_obs[self._wl[rows]]
        else:
            self._index[rows] = design
            self._evaluate(np.ascontiguousarray(np.broadcast_to(design, (len(rows), len(design)))), rows)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        base = self.env
        acts = np.asarray(actions)
        nvec = base._knobs.nvec
        if acts.shape != (self.num_envs, len(nvec)) or not np.issubdtype(acts.dtype, np.integer) \
                or np.any((acts < 0) | (acts >= nvec)):
            if acts.shape == (self.num_envs, len(nvec)):
                for row in acts:
                    base._knobs.check_action(row)  # names the knob out of range
            raise SpecError("actions must be one index array per sub-env", source="actions", value=acts.shape,
                            accepted=f"integers, shape ({self.num_envs}, {len(nvec)})")
        n = self.num_envs
        vector = base.reward_kind == "vector"
        rewards = np.zeros((n, len(base.pareto_metrics)) if vector else n, dtype=np.float32 if vector else np.float64)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        met = np.zeros(n, dtype=bool)
        penalty = np.zeros(n, dtype=np.float64)
        if self._autoreset.any():  # next-step autoreset: these sub-envs only reset
            self._elapsed[self._autoreset] = 0
            self._restart(np.flatnonzero(self._autoreset))
        live = np.flatnonzero(~self._autoreset) if self._autoreset.any() else np.arange(n)
        if len(live):
            wl = self._wl[live]
            index = acts[live].astype(np.int64)
            self._index[live] = index
            metrics, pen = self._evaluate(index, live)
            base.evaluations += len(live)
            if base.reward_kind == "spec":
                rewards[live] = -pen
            elif vector:
                rewards[live] = self._vector_rewards(metrics, wl)
            else:  # DesignEnv._reward of a metric, element-wise
                value = metrics[:, METRIC_COLUMNS.index(base.reward_kind)]
                ref = self._tables.metric_reference[base.reward_kind][wl]
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    scaled = -np.log2(value / ref) - pen
                rewards[live] = np.where((value > 0) & np.isfinite(value), scaled, -64.0 - pen)
            penalty[live] = pen
            met[live] = pen == 0.0
            terminated[live] = self._tables.has_targets[wl] & met[live]
            self._elapsed[live] += 1
            if self.max_episode_steps is not None:
                truncated[live] = self._elapsed[live] >= self.max_episode_steps
        self._autoreset = terminated | truncated
        names = np.array(self._tables.names, dtype=object)[self._wl]
        return self._obs.copy(), rewards, terminated, truncated, {"targets_met": met, "penalty": penalty,
                                                                  "workload": names}

    def _vector_rewards(self, metrics: np.ndarray, wl: np.ndarray) -> np.ndarray:
        """``DesignEnv._reward``'s ``reward="vector"`` of every design: per pareto metric ``-log2(x / x_ref)``,
        ``-VECTOR_CLIP`` for a zero or infinite one, clipped to +-``VECTOR_CLIP``."""
        names = self.env.pareto_metrics
        out = np.empty((len(wl), len(names)))
        for j, k in enumerate(names):
            value = metrics[:, METRIC_COLUMNS.index(k)]
            ref = self._tables.metric_reference[k][wl]
            ok = (value > 0) & (ref > 0) & np.isfinite(value)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out[:, j] = np.where(ok, -np.log2(value / ref), -VECTOR_CLIP)
        return np.clip(out, -VECTOR_CLIP, VECTOR_CLIP).astype(np.float32)

    def _evaluate(self, index: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate the designs ``index`` (one knob-index row each) of the sub-envs ``rows`` on their workloads in
        one compiled call (``vector_step.design_step``): their observations into ``self._obs``; returns their
        metrics (``METRIC_COLUMNS``) and spec penalties."""
        t = self._tables
        n = len(rows)
        metrics = np.empty((n, len(METRIC_COLUMNS)))
        pen = np.empty(n)
        every = n == self.num_envs
        obs = self._obs if every else np.empty((n, self._obs.shape[1]), dtype=np.float32)
        design_step(index, self._knob_col, self._knob_values, self._base_hw, self._area, t.all_mac_cases,
                    t.mac_start, t.all_vectors, t.vector_start, t.all_repeats, self._wl[rows], t.macs, t.reference,
                    t.term_metric, t.term_bound, t.term_count, t.obs_metric, t.tail, self._scale, metrics, pen, obs)
        if not every:
            self._obs[rows] = obs
        return metrics, pen

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()


__all__ = ["AcceleratorDesignVectorEnv"]
