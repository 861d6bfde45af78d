"""`validate(reuse=True)` beside another process computing into the same store: a source the other is computing is
read back from the store when it is done, never computed twice; the sources nobody holds are computed meanwhile."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

import acceldse.validation as validation
from acceldse.validation import Measured


def _entry(key: str) -> dict[str, Any]:
    return {"id": f"{key}.x", "category": "paper", "source": key, "quantity": "q", "conditions": "c",
            "published": 1.0, "unit": ""}


def test_a_source_another_process_computes_is_read_back_not_computed(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCELDSE_CACHE_DIR", str(tmp_path))
    ctx = multiprocessing.get_context("fork")
    holding, computed_b = ctx.Event(), ctx.Event()
    calls: list[str] = []

    def compute_a() -> dict[str, Measured]:
        calls.append("a")
        return {"a.x": Measured(1.0, "here")}

    def compute_b() -> dict[str, Measured]:
        calls.append("b")
        computed_b.set()  # the other process may finish a now: this one will wait for it
        return {"b.x": Measured(2.0, "here")}

    lock, slot_a = validation._store_path().with_suffix(".lock"), 1

    def other_process() -> None:  # computes a into the store while the test's validate() runs
        def compute_a() -> dict[str, Measured]:
            holding.set()  # a is taken
            computed_b.wait(60)
            return {"a.x": Measured(7.0, "there")}

        assert validation._measure(compute_a, lock, slot_a, reuse=True, wait=True)

    monkeypatch.setattr(validation, "_computers", lambda: [compute_a, compute_b])
    monkeypatch.setattr(validation, "published", lambda: [_entry("a"), _entry("b")])
    monkeypatch.setattr(validation, "_MEASURED", {})
    other = ctx.Process(target=other_process)
    other.start()
    try:
        assert holding.wait(60)
        order: list[str] = []
        rows = validation.validate(reuse=True, progress=lambda done, total, name: order.append(name))
    finally:
        other.join(60)
    assert other.exitcode == 0
    assert calls == ["b"] and order == ["b", "a"]  # b computed while a was taken, then a read back
    assert {r.id: (r.acceldse, r.command) for r in rows} == {"a.x": (7.0, "there"), "b.x": (2.0, "here")}
    assert set(validation._stored()) == {"compute_a", "compute_b"}  # neither store write lost the other's


def test_without_reuse_every_source_is_computed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCELDSE_CACHE_DIR", str(tmp_path))
    validation._store({"compute_a": {"a.x": Measured(7.0, "there")}})

    def compute_a() -> dict[str, Measured]:
        return {"a.x": Measured(1.0, "here")}

    monkeypatch.setattr(validation, "_computers", lambda: [compute_a])
    monkeypatch.setattr(validation, "published", lambda: [_entry("a")])
    monkeypatch.setattr(validation, "_MEASURED", {})
    assert [r.acceldse for r in validation.validate()] == [1.0]
    assert validation._stored()["compute_a"]["a.x"].value == 1.0


def test_a_shared_study_is_computed_once_and_recomputed_only_without_reuse(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``stored``: the Mixed-TD study the validation row, the fpga_folding notebook and a test share is computed
    by the first of them and read back by the others (another process included); ``validate(reuse=False)``
    recomputes it, and a damaged file is recomputed, never trusted."""
    monkeypatch.setenv("ACCELDSE_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    def study() -> dict[str, int]:
        calls.append(1)
        return {"value": len(calls)}

    assert validation.stored("s", study) == {"value": 1}
    ctx = multiprocessing.get_context("fork")
    other = ctx.Process(target=lambda: validation.stored("s", study) == {"value": 1} or exit(1))
    other.start()
    other.join(60)
    assert other.exitcode == 0 and calls == [1]  # the other process read it back
    assert validation.stored("s", study) == {"value": 1} and calls == [1]

    def compute_a() -> dict[str, Measured]:  # a source using the study, under plain validate()
        return {"a.x": Measured(float(validation.stored("s", study)["value"]), "here")}

    monkeypatch.setattr(validation, "_computers", lambda: [compute_a])
    monkeypatch.setattr(validation, "published", lambda: [_entry("a")])
    monkeypatch.setattr(validation, "_MEASURED", {})
    assert [r.acceldse for r in validation.validate()] == [2.0]
    assert validation.stored("s", study) == {"value": 2}  # what plain validate() recomputed, read back
    next(tmp_path.glob("*-s.pickle")).write_bytes(b"not a pickle")
    assert validation.stored("s", study) == {"value": 3}
