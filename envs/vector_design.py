"""The batched vector env of AcceleratorDesign-v0: N designs per step in one compiled kernel call.

``gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=N, vectorization_mode="vector_entry_point",
**kwargs)`` returns ``AcceleratorDesignVectorEnv``: the same N sub-envs as ``vectorization_mode="sync"``
(each an ``AcceleratorDesignEnv(**kwargs)`` under ``TimeLimit(max_episode_steps)``, Gymnasium's
next-step autoreset), with identical observations, rewards, terminations and truncations, but one step
evaluates every sub-env's design in one call of the analytical kernel
(``layer_kernels.network_sums_many``: each design on its own workload's and dataflow's lowered layers)
instead of N Python env steps, and builds the N observations, rewards and infos as arrays, never per
sub-env. ``infos`` holds ``targets_met``, ``penalty`` and ``workload`` (its name) per sub-env.

A workload set (``workloads=[...]``, ``envs.workload_set``) works as in the sync vector env: each sub-env keeps
its own seeded generator (``reset(seed=s)`` seeds sub-env i with ``s + i``, as ``SyncVectorEnv`` does) and
samples its episode's workload from it at every reset and autoreset; ``reset(options={"workload": ...})``
poses one workload (in the set or not) to every sub-env, ``options={"design": {...}}`` one start design.
The analytical fidelity only (``fidelity="event"`` or ``proxy=``: use ``"sync"``).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from acceldse.envs.accelerator_design import AcceleratorDesignEnv
from acceldse.envs.knobs import LOG2_CLIP
from acceldse.envs.workload_set import workload_key
from acceldse.simulator.systolic.hardware import Hw, buffer_half
from acceldse.simulator.systolic.jit import compile_kernels
from acceldse.simulator.systolic.layer_kernels import network_sums_many
from acceldse.workloads.errors import SpecError

compile_kernels()  # the batched step runs the compiled kernels, never their Python source

FLOWS = ("os", "ws", "is")
"""The dataflows, in the order of each workload's kernel tables."""


def _log_ratios(v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``envs.knobs.log_ratio_features`` of values against references (one each), element-wise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.clip(np.log2(v / r), -LOG2_CLIP, LOG2_CLIP)
    x = np.where(r <= 0, np.where(v <= 0, 0.0, LOG2_CLIP), np.where(v <= 0, -LOG2_CLIP, x))
    return np.where(v < math.inf, x, LOG2_CLIP) / LOG2_CLIP


class _Tables:
    """Every workload's per-step constants, one row per workload (index ``w``): the kernel's lowered layers
    (table ``3 w + dataflow``, concatenated), reference metrics, targets, the observation's constant tail."""

    def __init__(self, metric_names: tuple[str, ...]) -> None:
        self.metric_names = metric_names
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
        self.macs = np.array([r["macs"] for r in self.rows], dtype=np.float64)
        self.reference = np.array([r["reference"] for r in self.rows], dtype=np.float64)
        self.tail = np.stack([r["tail"] for r in self.rows])
        self.start_obs = np.stack([r["start_obs"] for r in self.rows])
        self.has_targets = np.array([r["has_targets"] for r in self.rows])


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
        self._flow_of = np.array([FLOWS.index(str(v)) for v in base.knobs["dataflow"]], dtype=np.int64)
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
            index = np.broadcast_to(design, (len(rows), len(design)))
            self._observe_rows(rows, index, self._evaluate(index, self._wl[rows]))

    def _observe_rows(self, rows: np.ndarray, index: np.ndarray, metrics: dict[str, np.ndarray]) -> None:
        """The observations of designs ``index`` with ``metrics`` on their sub-envs' workloads into rows ``rows``
        (``DesignEnv._observe``'s float64 values, cast to float32 once)."""
        t = self._tables
        m, k = len(t.metric_names), len(self._names)
        wl = self._wl[rows]
        head = np.empty((len(rows), m + k + t.tail.shape[1]))
        values = np.stack([metrics[name] for name in t.metric_names], axis=1)
        head[:, :m] = _log_ratios(values, t.reference[wl])
        np.divide(index, self._scale, out=head[:, m:m + k])
        head[:, m + k:] = t.tail[wl]
        self._obs[rows] = head

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
        live = np.flatnonzero(~self._autoreset) if self._autoreset.any() else np.arange(n)
        if len(live):
            wl = self._wl[live]
            index = acts[live].astype(np.int64)
            self._index[live] = index
            metrics = self._evaluate(index, wl)
            base.evaluations += len(live)
            pen = self._penalty(metrics, wl)
            if base.reward_kind == "spec":
                rewards[live] = -pen
            else:  # DesignEnv._reward of a metric, element-wise
                value = metrics[base.reward_kind]
                ref = np.array([r["metric_reference"][base.reward_kind] for r in self._tables.rows])[wl]
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    scaled = -np.log2(value / ref) - pen
                rewards[live] = np.where((value > 0) & np.isfinite(value), scaled, -64.0 - pen)
            penalty[live] = pen
            met[live] = pen == 0.0
            terminated[live] = self._tables.has_targets[wl] & met[live]
            self._observe_rows(live, index, metrics)
            self._elapsed[live] += 1
            if self.max_episode_steps is not None:
                truncated[live] = self._elapsed[live] >= self.max_episode_steps
        self._autoreset = terminated | truncated
        names = np.array(self._tables.names, dtype=object)[self._wl]
        return self._obs.copy(), rewards, terminated, truncated, {"targets_met": met, "penalty": penalty,
                                                                  "workload": names}

    def _penalty(self, metrics: dict[str, np.ndarray], wl: np.ndarray) -> np.ndarray:
        """``knobs.spec_penalty`` of every design against its workload's constraints and targets (in their
        order: the same float sums)."""
        pen = np.zeros(len(wl))
        rows = self._tables.rows
        for terms in dict.fromkeys(rows[w]["penalty"] for w in np.unique(wl).tolist()):
            sel = np.array([rows[w]["penalty"] == terms for w in range(len(rows))])[wl]
            part = np.zeros(int(sel.sum()))
            for k, t in terms:
                part = part + np.maximum((metrics[k][sel] - t) / (t if t > 0 else 1.0), 0.0)
            pen[sel] = part
        return pen

    def _evaluate(self, index: np.ndarray, wl: np.ndarray) -> dict[str, np.ndarray]:
        """Metric arrays of the designs ``index`` (one row per design) on the workloads ``wl``: one kernel call;
        the same arithmetic as ``SystolicDesignModel.evaluate`` and ``metrics_of``, element-wise."""
        model, t = self.env.model, self._tables
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
        table = 3 * wl + self._flow_of[index[:, self._names.index("dataflow")]]
        cycles = np.zeros(len(index), dtype=np.int64)
        energy_pj = np.zeros(len(index), dtype=np.float64)
        network_sums_many(t.all_mac_cases, t.mac_start, t.all_vectors, t.vector_start, t.all_repeats, table, hw,
                          cycles, energy_pj)
        pes = rows * cols * cores
        sram_bytes = (value["ifmap_kib"].astype(np.int64) + value["filter_kib"].astype(np.int64)
                      + value["ofmap_kib"].astype(np.int64)) * 1024
        area = pes * model.pe_area_mm2 + model.sram_mm2_per_byte * sram_bytes + model.other_area_mm2
        latency_us = cycles / clock
        with np.errstate(divide="ignore", invalid="ignore"):
            power = np.where(latency_us > 0, energy_pj / latency_us * 1e-6, 0.0)
            util = np.where(cycles != 0, t.macs[wl] / (cycles * pes), 0.0)
        return {"latency_us": latency_us, "energy_uj": energy_pj * 1e-6, "area_mm2": area, "power_w": power,
                "edp_uj_us": energy_pj * 1e-6 * latency_us, "total_cycles": cycles.astype(np.float64),
                "utilization": util}

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()


__all__ = ["AcceleratorDesignVectorEnv"]
