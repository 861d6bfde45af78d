"""The batched vector env of AcceleratorDesign-v0: N designs per step in one compiled kernel call.

``gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=N, vectorization_mode="vector_entry_point",
**kwargs)`` returns ``AcceleratorDesignVectorEnv``: the same N sub-envs as ``vectorization_mode="sync"``
(each an ``AcceleratorDesignEnv(**kwargs)`` under ``TimeLimit(max_episode_steps)``, Gymnasium's
next-step autoreset), with identical observations, rewards, terminations and truncations, but one step
evaluates every sub-env's design in one call of the analytical kernel (``_network_sums_many``) instead
of N Python env steps. ``infos`` holds ``targets_met``, ``penalty`` and ``workload`` (its name) per sub-env.

A workload set (``workloads=[...]``, ``envs.workload_set``) works as in the sync vector env: each sub-env keeps
its own seeded generator (``reset(seed=s)`` seeds sub-env i with ``s + i``, as ``SyncVectorEnv`` does) and
samples its episode's workload from it at every reset and autoreset; ``reset(options={"workload": ...})``
poses one workload (in the set or not) to every sub-env, ``options={"design": {...}}`` one start design. A
step evaluates each workload's sub-envs in one kernel call. The analytical fidelity only
(``fidelity="event"`` or ``proxy=``: use ``"sync"``).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space
from numba import njit

from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.envs.knobs import LOG2_CLIP
from acceldse.envs.workload_set import workload_key
from acceldse.simulator.systolic.hardware import Hw, buffer_half
from acceldse.simulator.systolic.jit import compile_kernels
from acceldse.simulator.systolic.layer_kernels import network_sums
from acceldse.workloads.errors import SpecError

compile_kernels()  # the numba code below calls the analytical kernels: they must be numba's too


@njit(cache=True)
def _network_sums_many(mac_cases: np.ndarray, vectors: np.ndarray, hw: np.ndarray, repeats: np.ndarray,
                       cycles: np.ndarray, energy_pj: np.ndarray) -> None:
    """``network_sums`` of every design row ``hw[p]``."""
    for p in range(hw.shape[0]):
        c, e = network_sums(mac_cases, vectors, hw[p], repeats)
        cycles[p] = c
        energy_pj[p] = e


def _log_ratios(v: np.ndarray, r: float) -> np.ndarray:
    """``envs.knobs.log_ratio_features`` of many values against one reference, element-wise."""
    if r <= 0:
        x = np.where(v <= 0, 0.0, LOG2_CLIP)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.clip(np.log2(v / r), -LOG2_CLIP, LOG2_CLIP)
        x = np.where(v <= 0, -LOG2_CLIP, x)
    return np.where(v < math.inf, x, LOG2_CLIP) / LOG2_CLIP


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
        if kwargs.get("reward") == "vector":
            raise SpecError("a vector env's reward is one number per sub-env", source="reward", value="vector",
                            accepted="spec or a metric name")
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
        self._values = [np.asarray(v) for v in base.knobs.values()]
        self._names = list(base._knobs.values)
        self._scale = np.maximum(base._knobs.nvec - 1, 1)
        self._half = {k: np.array([buffer_half(int(v) * 1024) for v in base.knobs[k]], dtype=np.float64)
                      for k in ("ifmap_kib", "filter_kib", "ofmap_kib")}
        self._sampled = len(base.workloads)  # > 1: every (auto)reset samples the sub-env's workload from the set
        self._entries: list[Any] = list(base._entries)  # the set, then any workload a reset option posed
        self._keys = [workload_key(e) for e in self._entries]
        self._workload_names = [base.network.name]
        self._now = 0
        for entry in self._entries[1:]:
            self._use(len(self._workload_names), entry)
        self._use(0)
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._wl = np.zeros(num_envs, dtype=np.int64)
        self._index = np.tile(base._knobs.middle(), (num_envs, 1))
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._obs = np.zeros((num_envs, *self.single_observation_space.shape), dtype=np.float32)

    def _use(self, w: int, entry: Any = None) -> None:
        """Make workload ``w`` (``self._entries[w]``; a new one: ``entry``) the base env's current one."""
        if w == len(self._workload_names):
            self.env._set_workload(entry)
            self._workload_names.append(self.env.network.name)
        elif w != self._now:
            self.env._set_workload(self._entries[w])
        self._now = w

    def _rng(self, i: int) -> np.random.Generator:
        rng = self._rngs[i]
        if rng is None:  # never seeded: an unseeded generator, as gymnasium.Env.np_random makes
            rng = self._rngs[i] = seeding.np_random()[0]
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
                self._rngs[i] = seeding.np_random(s)[0]
        posed = None
        if "workload" in options:
            key = workload_key(options["workload"])
            if key not in self._keys:
                self._use(len(self._entries), options["workload"])
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
            for i in rows:
                self._wl[i] = int(self._rng(int(i)).integers(self._sampled))
        base = self.env
        for w in np.unique(self._wl[rows]).tolist():
            sel = rows[self._wl[rows] == w]
            self._use(w)
            if design is None:
                self._index[sel] = base._knobs.middle()
                base._index, base._metrics = base._knobs.middle(), base.reference_metrics
                self._obs[sel] = base._observe()
            else:
                self._index[sel] = design
                self._observe_rows(sel, np.broadcast_to(design, (len(sel), len(design))), self._evaluate(
                    np.asarray(design)[None, :].repeat(len(sel), axis=0)))

    def _observe_rows(self, rows: np.ndarray, index: np.ndarray, metrics: dict[str, np.ndarray]) -> None:
        """The observations of designs ``index`` with ``metrics`` on the current workload into rows ``rows``
        (``DesignEnv._observe``'s float64 values, cast to float32 once)."""
        base = self.env
        m, k = len(base.metric_names), len(self._names)
        head = np.empty((len(rows), m + k))
        for j, name in enumerate(base.metric_names):
            head[:, j] = _log_ratios(metrics[name], base.reference_metrics[name])
        np.divide(index, self._scale, out=head[:, m:])
        at = slice(None) if len(rows) == self.num_envs else rows
        self._obs[at, :m + k] = head
        self._obs[at, m + k:] = np.concatenate([base._target_obs, base.workload_obs])

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
        rewards = np.zeros(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        met = np.zeros(n, dtype=bool)
        penalty = np.zeros(n, dtype=np.float64)
        if self._autoreset.any():  # next-step autoreset: these sub-envs only reset
            self._elapsed[self._autoreset] = 0
            self._restart(np.flatnonzero(self._autoreset))
        live = np.flatnonzero(~self._autoreset)
        for w in np.unique(self._wl[live]).tolist() if len(live) else []:
            rows = live[self._wl[live] == w]
            self._use(w)
            index = acts[rows].astype(np.int64)
            self._index[rows] = index
            metrics = self._evaluate(index)
            base.evaluations += len(rows)
            pen = np.zeros(len(rows))
            for k, t in {**base.constraints, **base.targets}.items():  # spec_penalty, in its order
                pen = pen + np.maximum((metrics[k] - t) / (t if t > 0 else 1.0), 0.0)
            if base.reward_kind == "spec":
                rewards[rows] = -pen
            else:
                for j, p in enumerate(rows):
                    rewards[p] = base._reward({k: float(v[j]) for k, v in metrics.items()}, float(pen[j]))
            penalty[rows] = pen
            met[rows] = pen == 0.0
            terminated[rows] = bool(base.targets) & met[rows]
            self._observe_rows(rows, index, metrics)
            self._elapsed[rows] += 1
            if self.max_episode_steps is not None:
                truncated[rows] = self._elapsed[rows] >= self.max_episode_steps
        self._autoreset = terminated | truncated
        names = np.array(self._workload_names, dtype=object)[self._wl]
        return self._obs.copy(), rewards, terminated, truncated, {"targets_met": met, "penalty": penalty,
                                                                  "workload": names}

    def _evaluate(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """Metric arrays of the designs ``index`` (one row per design): the kernel once per dataflow present;
        the same arithmetic as ``SystolicDesignModel.evaluate`` and ``metrics_of``, element-wise."""
        model = self.env.model
        value = {n: self._values[i][index[:, i]] for i, n in enumerate(self._names)}
        rows = value["rows"].astype(np.int64)
        cols = value["cols"].astype(np.int64)
        clock = value["clock_mhz"].astype(np.float64)
        hw = np.repeat(model.hardware[None, :], len(index), axis=0)
        hw[:, Hw.ROWS], hw[:, Hw.COLS] = rows, cols
        for field, knob in ((Hw.IN_CAP_BYTES, "ifmap_kib"), (Hw.W_CAP_BYTES, "filter_kib"),
                            (Hw.OUT_CAP_BYTES, "ofmap_kib")):
            hw[:, field] = self._half[knob][index[:, self._names.index(knob)]]
        hw[:, Hw.DRAM_READ_BW] = hw[:, Hw.DRAM_WRITE_BW] = value["dram_gbyte_per_s"].astype(np.float64) * 1e3 / clock
        hw[:, Hw.CLOCK_MHZ] = clock
        cores = value["cores"].astype(np.int64) if "cores" in value else np.ones(len(index), dtype=np.int64)
        hw[:, Hw.CORES] = cores
        cycles = np.zeros(len(index), dtype=np.int64)
        energy_pj = np.zeros(len(index), dtype=np.float64)
        flows = value["dataflow"]
        for flow in np.unique(flows).tolist():
            sel = np.flatnonzero(flows == flow)
            nc = model.cases[str(flow)]
            c = np.zeros(len(sel), dtype=np.int64)
            e = np.zeros(len(sel), dtype=np.float64)
            _network_sums_many(nc.mac_cases, nc.vectors, np.ascontiguousarray(hw[sel]), model.repeats[str(flow)], c, e)
            cycles[sel], energy_pj[sel] = c, e
        pes = rows * cols * cores
        sram_bytes = (value["ifmap_kib"].astype(np.int64) + value["filter_kib"].astype(np.int64)
                      + value["ofmap_kib"].astype(np.int64)) * 1024
        area = pes * model.pe_area_mm2 + model.sram_mm2_per_byte * sram_bytes + model.other_area_mm2
        latency_us = cycles / clock
        with np.errstate(divide="ignore", invalid="ignore"):
            power = np.where(latency_us > 0, energy_pj / latency_us * 1e-6, 0.0)
            util = np.where(cycles != 0, model.macs / (cycles * pes), 0.0)
        return {"latency_us": latency_us, "energy_uj": energy_pj * 1e-6, "area_mm2": area, "power_w": power,
                "edp_uj_us": energy_pj * 1e-6 * latency_us, "total_cycles": cycles.astype(np.float64),
                "utilization": util}

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()


__all__ = ["AcceleratorDesignVectorEnv"]
