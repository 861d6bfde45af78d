"""Workload-conditioned episodes, the one piece every design env uses (AcceleratorDesign, FpgaDesign, Mapping).

An env built with ``workloads=[...]`` holds a set of workloads and poses one per episode: ``reset`` samples
it from the set with the env's seeded ``np_random``, or ``reset(options={"workload": ...})`` names one, in
the set or not (a held-out test network). An entry is anything ``workload=`` takes (zoo name, ``.onnx`` /
``.csv`` path, ``scalesim:<name>``) or a dict ``{"name": spec, **zoo parameters}``. Every observation ends
with the workload's ``envs.workload_features`` vector (also with one ``workload=``), ``info["workload"]``
names it.

``WorkloadConditioned`` is the mixin: the env says which of its attributes belong to a workload
(``_load_workload(entry)`` returns them), and the mixin keeps them per workload, swaps them in at reset,
runs ``_bind_workload()`` the first time a workload is current (the env's reference design, targets), and
refuses a workload its proxy was not trained on.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from acceldse.workloads.errors import SpecError


def workload_set(workload: Any, workloads: Any, default: str) -> list[Any]:
    """The workload entries of an env built with ``workload=`` (one) or ``workloads=[...]`` (a set)."""
    if workloads is None:
        return [default if workload is None else workload]
    if workload is not None:
        raise SpecError("give workload= or workloads=, not both", source="workload", value=workload,
                        accepted="workloads=[...] alone (reset(options={'workload': ...}) picks one)")
    if isinstance(workloads, str | dict) or not isinstance(workloads, list | tuple) or not workloads:
        raise SpecError("workloads must be a non-empty list", source="workloads", value=workloads,
                        accepted='e.g. ["resnet18", "mobilenet_v2", {"name": "bert_base", "seq_len": 128}]')
    keys = [workload_key(w) for w in workloads]
    if len(set(keys)) != len(keys):
        raise SpecError("workloads lists one workload twice", source="workloads", value=list(workloads))
    return list(workloads)


def workload_key(entry: Any) -> str:
    """A workload entry's identity (its JSON form); ``SpecError`` for anything but a spec or a dict with a name."""
    if isinstance(entry, str) and entry.strip():
        return entry.strip()
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        try:
            return json.dumps(entry, sort_keys=True)
        except TypeError:
            pass
    raise SpecError("a workload is a name or path, or a dict with a 'name' and zoo parameters", source="workload",
                    value=entry, accepted='"resnet18", "model.onnx", {"name": "bert_base", "seq_len": 128}')


def load_workload_entry(entry: Any) -> Any:
    """The ``Network`` of a workload entry (``workload_set``)."""
    from acceldse.workloads.loader import load_workload

    workload_key(entry)
    if isinstance(entry, dict):
        params = {k: v for k, v in entry.items() if k != "name"}
        return load_workload(str(entry["name"]), **params)
    return load_workload(str(entry))


class WorkloadConditioned:
    """Mixin of the design envs: one workload per episode from ``workloads`` (module docstring).

    The env calls ``_init_workloads`` first in its constructor (it returns the networks of the set, the
    first one current), implements ``_load_workload(entry)`` (the per-workload attributes: at least
    ``network``, ``identity`` and ``workload_obs``) and ``_bind_workload()``, and calls
    ``_workload_reset(options)`` at the start of ``reset``.
    """

    workloads: list[Any] = []
    """The workload set of a workload-conditioned env (empty: the env takes no ``workload`` reset option)."""
    workload_obs: np.ndarray = np.zeros(0, dtype=np.float32)
    """Fixed-size features of the current workload (``envs.workload_features``), the observation's last entries."""
    np_random: np.random.Generator
    _current: str = ""
    """The current workload's key (``workload_key``)."""
    _WORKLOAD_BOUND: tuple[str, ...] = ()
    """Attributes ``_bind_workload`` sets that belong to the workload too (kept with ``_load_workload``'s)."""

    def _init_workloads(self, workload: Any, workloads: Any, default: str) -> list[Any]:
        """Validate the set (a bad entry fails here, not in a later episode); the networks of its entries."""
        entries = workload_set(workload, workloads, default)
        networks = [load_workload_entry(e) for e in entries]
        self.workloads = entries if workloads is not None else []
        self._entries = entries
        self._per_workload: dict[str, dict[str, Any]] = {}
        self._current = workload_key(entries[0])
        return networks

    def _load_workload(self, entry: Any, network: Any = None) -> dict[str, Any]:
        """The attributes that belong to a workload (network, identity, features, cost model ...);
        ``network``: the entry's network when already loaded."""
        raise NotImplementedError

    def _adopt_workload(self, state: dict[str, Any]) -> None:
        """Set a workload's attributes (the constructor's first workload; it binds and remembers it itself)."""
        self._workload_keys = (*state, *self._WORKLOAD_BOUND)
        self.__dict__.update(state)

    def _bind_workload(self) -> None:
        """Run once a workload's attributes are set, the first time it is current (reference, targets)."""

    def _remember_workload(self) -> None:
        """Keep the current workload's attributes (those ``_load_workload`` gave, as now bound)."""
        self._per_workload[self._current] = {k: getattr(self, k) for k in dict.fromkeys(self._workload_keys)}

    def _set_workload(self, entry: Any) -> None:
        """Make ``entry`` current: its kept attributes, or freshly loaded and bound ones."""
        key = workload_key(entry)
        kept = self._per_workload.get(key)
        loaded = kept if kept is not None else self._load_workload(entry)
        proxy = getattr(self, "proxy", None)
        if proxy is not None:  # a proxy predicts the workload it learned, no other
            from acceldse.envs.proxy import check_identity

            check_identity(proxy, loaded["identity"], "proxy")
        self._adopt_workload(loaded)
        self._current = key
        if kept is None:
            self._bind_workload()
            self._remember_workload()

    def _workload_reset(self, options: dict[str, Any], accepted: set[str]) -> None:
        """Check the reset options (``accepted`` plus ``workload`` on a conditioned env) and pick the episode's
        workload: the one named, else a sample of the set (a set of one keeps it)."""
        allowed = accepted | {"workload"} if self.workloads else accepted
        unknown = set(options) - allowed
        if unknown:
            raise SpecError("unknown reset option", source="options", key=sorted(unknown)[0],
                            accepted=" | ".join(sorted(allowed)) or "none")
        if "workload" in options:
            if workload_key(options["workload"]) != self._current:
                self._set_workload(options["workload"])
        elif len(self.workloads) > 1:
            entry = self.workloads[int(self.np_random.integers(len(self.workloads)))]
            if workload_key(entry) != self._current:
                self._set_workload(entry)
