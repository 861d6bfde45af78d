"""Validation: published figures (measured silicon, the seed papers' headline results) beside acceldse's.

``published.yaml`` holds what the papers print (nothing in it feeds a model); ``silicon.py`` (chips),
``finn.py`` (FPGA boards) and ``papers.py`` compute acceldse's side, each value with the command that produces
it. ``validate()`` joins them into one table; ``acceldse validate`` prints it and ``docs/validation.md`` is that table
(``tests/acceldse/test_validation.py`` recomputes every row, so the page cannot drift).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from acceldse.workloads.errors import SpecError, require_float
from acceldse.workloads.spec_io import parse_yaml, reject_unknown

CATEGORIES = ("silicon", "paper")
FIELDS = ("id", "category", "source", "quantity", "conditions", "published", "unit")


@dataclass(frozen=True)
class Measured:
    """acceldse's value for one published figure and the command (or API call) that gives it."""

    value: float
    command: str


@dataclass(frozen=True)
class Row:
    """One published figure beside acceldse's value.

    ``published`` is a number or a ``(low, high)`` range (``high`` infinite for a claim of direction only,
    "at least ``low``"); ``error_pct`` is the signed error of ours against the number (against the nearer end of
    a range, 0 inside it).
    """

    id: str
    category: str
    source: str
    quantity: str
    conditions: str
    published: float | tuple[float, float]
    unit: str
    acceldse: float
    command: str

    @property
    def error_pct(self) -> float:
        if isinstance(self.published, tuple):
            low, high = self.published
            ref = low if self.acceldse < low else high if self.acceldse > high else self.acceldse
        else:
            ref = self.published
        return 0.0 if ref == self.acceldse else (self.acceldse - ref) / abs(ref) * 100.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["published"] = ([v if math.isfinite(v) else None for v in self.published]
                            if isinstance(self.published, tuple) else self.published)
        out["error_pct"] = self.error_pct
        return out


def published(text: str | None = None, *, source: str = "acceldse/validation/published.yaml"
              ) -> list[dict[str, Any]]:
    """The published figures (``published.yaml``, or ``text`` in its format), checked."""
    if text is None:
        text = (resources.files(__name__) / "published.yaml").read_text()
    doc = parse_yaml(text, kind="published figures", source=source, versions=(1,))
    reject_unknown(doc, {"version", "rows"}, source=source)
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    if not isinstance(doc.get("rows"), list) or not all(isinstance(e, dict) for e in doc["rows"]):
        raise SpecError("missing or not a list of mappings", source=source, key="rows", value=doc.get("rows"),
                        accepted="a list of {id, category, source, quantity, conditions, published, unit}")
    for i, entry in enumerate(doc["rows"]):
        reject_unknown(entry, set(FIELDS), source=source, prefix=f"rows[{i}].")
        missing = [k for k in FIELDS if k not in entry]
        if missing or entry["category"] not in CATEGORIES or entry["id"] in seen:
            raise SpecError("malformed published figure", source=source, key=f"rows[{i}]", value=entry.get("id"),
                            accepted=f"the fields {', '.join(FIELDS)}, a category in {CATEGORIES}, a unique id")
        seen.add(entry["id"])
        value, key = entry["published"], f"rows[{i}].published"
        if isinstance(value, list):
            bounds = [math.inf if v is None and i == 1 else require_float(v, key=key, source=source,
                                                                         strictly_positive=True)
                      for i, v in enumerate(value)]
            if len(bounds) != 2 or bounds[0] > bounds[1]:
                raise SpecError("a published range is [low, high]", source=source, key=key, value=value,
                                accepted="two numbers, low <= high (high null: at least low)")
            entries.append({**entry, "published": (bounds[0], bounds[1])})
        else:
            entries.append({**entry, "published": require_float(value, key=key, source=source,
                                                                 strictly_positive=True)})
    return entries


_MEASURED: dict[str, dict[str, Measured]] = {}
_PEERS = ("numpy", "scikit-learn", "optuna", "numba", "stable-baselines3")
"""Libraries whose results feed rows (the proxy's MLP, BO's proposals): their versions key the stored results."""


def _source_key() -> str:
    """A digest of everything a row depends on: acceldse's code, presets and published figures, and the
    versions of the libraries above."""
    import hashlib
    from importlib import metadata

    import acceldse

    digest = hashlib.sha256()
    root = Path(acceldse.__file__).resolve().parent
    folders = sorted({root, *(p.resolve() for p in root.iterdir() if p.is_dir())})
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".yaml", ".csv") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder.parent)).encode())
                digest.update(path.read_bytes())
    for name in _PEERS:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    return digest.hexdigest()[:16]


def _store_path() -> Path:
    folder = Path(os.environ.get("ACCELDSE_CACHE_DIR") or Path.home() / ".cache" / "acceldse")
    return folder / f"validation-{_source_key()}.json"


def _stored() -> dict[str, dict[str, Measured]]:
    import json

    try:
        data = json.loads(_store_path().read_text())
        return {name: {k: Measured(float(v), c) for k, (v, c) in rows.items()} for name, rows in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _store(measured: dict[str, dict[str, Measured]]) -> None:
    import json

    path = _store_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {name: {k: [m.value, m.command] for k, m in rows.items()} for name, rows in measured.items()}
        tmp = path.with_suffix(f".{id(data)}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)
    except OSError:
        pass  # the store only saves time; without a writable folder every call recomputes


_LOCKS: dict[Path, int] = {}
"""The lock file of each store this process has locked in, open (POSIX record locks belong to the process and
closing any descriptor of the file would drop them all)."""


@contextmanager
def _claim(lock: Path, slot: int, *, wait: bool) -> Iterator[bool]:
    """Hold byte ``slot`` of the store's lock file ``lock`` (``validation-<key>.lock``) for the block; yields
    False if another process holds it and not ``wait``. Slot 0 guards rewriting the store, slot ``i`` the
    computing of the i-th source: a process sharing the store (``reuse``) takes that source from the store when
    the other is done instead of computing it too. Where nothing can be locked, nothing is (yields True)."""
    try:
        import fcntl

        if lock not in _LOCKS:
            lock.parent.mkdir(parents=True, exist_ok=True)
            _LOCKS[lock] = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        fd = _LOCKS[lock]
    except (ImportError, OSError):  # no fcntl (Windows), no writable folder or lock file
        yield True
        return
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB), 1, slot)
    except (BlockingIOError, PermissionError):  # held by another process (lockf's EAGAIN / EACCES)
        yield False
        return
    except OSError:  # no locks on this file system
        yield True
        return
    try:
        yield True
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot)


def _measure(compute: Callable[[], dict[str, Measured]], lock: Path, slot: int, *, reuse: bool, wait: bool
             ) -> bool:
    """One source's values into ``_MEASURED``: computed and stored, or with ``reuse`` read from the store;
    False (nothing done) if ``reuse``, not ``wait`` and another process is computing it (``_claim``)."""
    name = compute.__name__
    with _claim(lock, slot, wait=wait) as held:
        if reuse and not held:
            return False
        saved = _stored() if reuse else {}
        if name in saved:
            _MEASURED[name] = saved[name]
        else:
            _MEASURED[name] = compute()
            with _claim(lock, 0, wait=True):
                _store({**_stored(), name: _MEASURED[name]})
    return True


_REUSE_STUDIES = True
"""Whether ``stored`` answers from a result this exact code saved (``validate(reuse=False)`` turns it off)."""


def stored(name: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` for a study several places share (a validation row, a notebook, a test), computed once for
    this exact code: pickled beside the validation store (same folder, same key) and read back by every later
    call, in any process; a process that finds another computing it waits for that result instead of computing
    it too. ``validate(reuse=False)`` (plain ``acceldse validate``) recomputes it."""
    import pickle

    store = _store_path()
    path = store.with_name(f"{store.stem}-{name}.pickle")
    with _claim(path.with_suffix(".lock"), 0, wait=True):
        if _REUSE_STUDIES:
            try:
                return pickle.loads(path.read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
                pass  # not there (or from a broken write): computed below
        value = compute()
        try:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(value))
            tmp.replace(path)
        except OSError:
            pass  # the store only saves time
        return value


def _computers() -> list[Callable[[], dict[str, Measured]]]:
    from acceldse.validation import finn, papers, silicon

    return [*silicon.COMPUTE, *finn.COMPUTE, *papers.COMPUTE]


def validate(category: str | None = None, *, reuse: bool = False,
             progress: Callable[[int, int, str], None] | None = None) -> list[Row]:
    """Every published figure beside acceldse's value.

    Every computed source is saved under ``$ACCELDSE_CACHE_DIR`` (default ``~/.cache/acceldse``) in a file
    keyed by a digest of acceldse's code, presets and published figures and of the versions of the libraries
    that feed rows; ``reuse=True`` answers from that file where it holds a source (the same code gives
    the same values), instead of recomputing it, and waits for a source another process is computing into the
    same file right now (computing the others meanwhile) instead of computing it too.

    Args:
        category: ``silicon``, ``paper`` or None (both).
        reuse: take sources already computed by this exact code from the saved file.
        progress: called as ``progress(done, total, source)`` after each source is computed.
    """
    global _REUSE_STUDIES
    if category is not None and category not in CATEGORIES:
        raise SpecError("unknown category", key="category", value=category, accepted=" | ".join(CATEGORIES))
    entries = [e for e in published() if category is None or e["category"] == category]
    wanted = {e["id"].split(".")[0] for e in entries}
    computers = [c for c in _computers() if c.__name__.removeprefix("compute_") in wanted]
    measured: dict[str, Measured] = {}
    slots = {c.__name__: slot for slot, c in enumerate(_computers(), 1)}
    lock = _store_path().with_suffix(".lock")
    queue = [(compute, False) for compute in computers]  # (source, wait for another process computing it)
    done = 0
    previous, _REUSE_STUDIES = _REUSE_STUDIES, reuse
    try:
        while queue:
            compute, wait = queue.pop(0)
            name = compute.__name__
            if name not in _MEASURED and not _measure(compute, lock, slots[name], reuse=reuse, wait=wait):
                queue.append((compute, True))  # another process is computing it: read it back when it is done
                continue
            measured.update(_MEASURED[name])
            done += 1
            if progress is not None:
                progress(done, len(computers), name.removeprefix("compute_"))
    finally:
        _REUSE_STUDIES = previous
    rows = []
    for e in entries:
        if e["id"] not in measured:
            raise AssertionError(f"no acceldse value computed for {e['id']}")
        m = measured[e["id"]]
        rows.append(Row(**e, acceldse=float(m.value), command=m.command))
    return rows


def summary(rows: Iterable[Row]) -> dict[str, dict[str, float]]:
    """Per category: rows, median and largest absolute error (%), rows within 10 %."""
    out: dict[str, dict[str, float]] = {}
    for cat in CATEGORIES:
        errs = sorted(abs(r.error_pct) for r in rows if r.category == cat)
        if errs:
            mid = len(errs) // 2
            median = errs[mid] if len(errs) % 2 else (errs[mid - 1] + errs[mid]) / 2
            out[cat] = {"rows": len(errs), "median_abs_error_pct": median, "max_abs_error_pct": errs[-1],
                        "within_10_pct": sum(e <= 10 for e in errs)}
    return out


def markdown(rows: list[Row]) -> str:
    """The table as Markdown (``docs/validation.md``): one row per figure, then the summary per category."""
    lines = ["| source | quantity | conditions | published | acceldse | error | command |",
             "|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        unit = f" {r.unit}" if r.unit else ""
        lines.append(f"| {r.source} | {r.quantity} | {r.conditions} | {fmt_value(r.published)}{unit} | "
                     f"{fmt_value(r.acceldse)}{unit} | {r.error_pct:+.1f} % | `{r.command}` |")
    lines.append("")
    for cat, s in summary(rows).items():
        lines.append(f"- **{cat}**: {s['rows']:.0f} rows, median |error| {s['median_abs_error_pct']:.1f} %, "
                     f"largest {s['max_abs_error_pct']:.1f} %, {s['within_10_pct']:.0f} within 10 %")
    return "\n".join(lines) + "\n"


def fmt_value(value: float | tuple[float, float]) -> str:
    """A figure as printed in the tables (ranges as ``low-high``)."""
    if isinstance(value, tuple):
        return f"≥ {fmt_value(value[0])}" if value[1] == math.inf else "–".join(fmt_value(v) for v in value)
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 3 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{min(digits, 4)}f}" if abs(value) < 1e4 else f"{value:,.0f}"


def __getattr__(name: str) -> Any:
    if name == "mixed_td_study":  # papers.py's shared Mixed-TD study, also shown in the fpga_folding notebook
        from acceldse.validation.papers import mixed_td_study

        return mixed_td_study
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CATEGORIES", "Measured", "Row", "fmt_value", "markdown", "mixed_td_study", "published", "stored",
           "summary", "validate"]
