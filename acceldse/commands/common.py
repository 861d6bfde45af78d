"""Pieces every command shares: output formats, exit codes, path and seed checks, progress bars.

This module imports only the standard library (and ``workloads.errors``), so building the parser stays fast; a command's
``run`` function imports the heavy parts (numba, pandas, the simulator) itself.

Exit codes (the same for every command)::

    0  success
    1  a check failed: --check was given and the result reports a deadlock, an infeasible
       design or no legal mapping (the result is still printed)
    2  bad input: a flag, file or value was refused; one line on stderr names it
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from acceldse.workloads.errors import SpecError, require_seed  # standard library only

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2
FORMATS = ("table", "csv", "json")
TABLE_WIDTH = 100
"""Tables are wrapped into blocks that fit this many columns (the key column repeats)."""
MAX_CELL = 32
"""Longer text cells are shortened in tables (never in CSV or JSON)."""

EXIT_CODES_HELP = ("exit codes: 0 ok, 1 a check failed (--check: deadlock, infeasible design or no legal "
                   "mapping), 2 bad input")
COMMAND_TAKING: dict[str, str] = {"systolic": "acceldse simulate --hardware (or acceldse tiers --hardware)",
                                  "hierarchy": "acceldse map --hardware", "fpga": "acceldse fpga --platform",
                                  "fused": "acceldse attention --hardware"}
"""The commands (and flag) that accept each hardware kind: the command line's words for
``simulator.specs.presets.TAKEN_BY`` (which names the Python functions)."""
Progress = Callable[[int, int, str], None]
"""A progress callback: ``progress(done, total, what)``."""


def add_output_options(parser: argparse.ArgumentParser, *, check: str | None = None) -> None:
    """``--format table|csv|json`` (``--json`` is kept as its short form), ``-v``, and ``--check``.

    ``check`` is the help text of ``--check`` for commands whose result can fail a check.
    """
    group = parser.add_argument_group("output")
    group.add_argument("--format", choices=FORMATS, default="table",
                       help="table (default; fits 100 columns), csv (the main table) or json (everything)")
    group.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    add_verbose(group)
    if check is not None:
        group.add_argument("--check", action="store_true", help=f"exit with code 1 when {check}")


def add_verbose(parser: Any) -> None:
    """``-v`` on a sub-command; SUPPRESS keeps a ``-v`` given before the command."""
    parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log what the command is doing to stderr (-vv: debug)")


# ---------------------------------------------------------------- validation before any work


def bad_input(message: str, *, flag: str, value: Any = None, accepted: str | None = None) -> SpecError:
    """A ``SpecError`` naming ``flag``."""
    return SpecError(message, source=flag, value=value, accepted=accepted)


def input_file(path: str | Path, *, flag: str) -> Path:
    """``path`` if it is a file; a directory or a missing path is a ``SpecError`` naming ``flag``."""
    path = Path(path)
    if not path.is_file():
        raise bad_input("a directory, not a file" if path.is_dir() else "no such file", flag=flag, value=str(path))
    return path


def output_path(value: str | Path | None, *, flag: str, suffixes: Sequence[str] = ()) -> Path | None:
    """Check an output file path before any work: its folder is created if missing; a directory,
    an unwritable file or folder, or a wrong suffix is refused naming ``flag``."""
    if value is None:
        return None
    try:
        return _output_path(Path(value).expanduser(), str(value), flag, suffixes)
    except SpecError:
        raise
    except (OSError, ValueError) as err:  # a name the OS refuses: too long, a NUL byte...
        raise bad_input(f"unusable path ({err})", flag=flag, value=str(value),
                        accepted="a writable file path") from None


def _output_path(path: Path, value: str, flag: str, suffixes: Sequence[str]) -> Path:
    accepted = "a writable file path" + (f" ending in {' or '.join(suffixes)}" if suffixes else "")
    if value.strip() == "" or path.is_dir():
        raise bad_input("is a directory, not a file", flag=flag, value=str(value), accepted=accepted)
    if suffixes and path.suffix.lower() not in suffixes:
        raise bad_input("unsupported file type", flag=flag, value=str(value), accepted=accepted)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise bad_input(f"cannot create folder {str(folder)!r}: {err.strerror}", flag=flag, value=str(value),
                        accepted=accepted) from None
    if not folder.is_dir():
        raise bad_input(f"{str(folder)!r} is not a folder", flag=flag, value=str(value), accepted=accepted)
    if path.exists() and not os.access(path, os.W_OK):
        raise bad_input("file is not writable", flag=flag, value=str(value), accepted=accepted)
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise bad_input(f"folder {str(folder)!r} is not writable", flag=flag, value=str(value), accepted=accepted)
    return path


def output_dir(value: str | Path | None, *, flag: str) -> Path | None:
    """Check an output folder before any work: created if missing; a file or unwritable folder is refused."""
    if value is None:
        return None
    try:
        return _output_dir(Path(value).expanduser(), str(value), flag)
    except SpecError:
        raise
    except (OSError, ValueError) as err:  # a name the OS refuses: too long, a NUL byte...
        raise bad_input(f"unusable path ({err})", flag=flag, value=str(value), accepted="a writable folder") from None


def _output_dir(path: Path, value: str, flag: str) -> Path:
    if path.exists() and not path.is_dir():
        raise bad_input("is a file, not a folder", flag=flag, value=str(value), accepted="a folder path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise bad_input(f"cannot create folder: {err.strerror}", flag=flag, value=str(value),
                        accepted="a writable folder path") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise bad_input("folder is not writable", flag=flag, value=str(value), accepted="a writable folder path")
    return path


def seed(value: int, *, flag: str = "--seed") -> int:
    """A random seed in [0, 2**32 - 1] (what numpy and the search strategies accept)."""
    return require_seed(value, key="", source=flag)


def positive(value: float | None, *, flag: str, integer: bool = True, limit: float | None = None,
             raise_flag: str | None = None) -> Any:
    """``value`` >= 1 (integers) or > 0 and finite (floats), and <= ``limit`` when one is given."""
    if value is None:
        return None
    kind = "an integer >= 1" if integer else "a finite number > 0"
    if limit is not None:
        kind += f" and <= {_limit_text(limit)}"
    ok = value >= 1 if integer else (math.isfinite(value) and value > 0)
    if not ok:
        raise bad_input("out of range", flag=flag, value=value, accepted=kind)
    if limit is not None and value > limit:
        hint = f" (raise the limit with {raise_flag})" if raise_flag else ""
        raise bad_input(f"too large: {value:,g} > the limit {_limit_text(limit)}{hint}", flag=flag, value=value,
                        accepted=kind)
    return value


def _limit_text(limit: float) -> str:
    """A limit as written: whole numbers up to 10^12 in full with separators (1,073,741,824), others ``:g``."""
    return f"{int(limit):,}" if float(limit).is_integer() and abs(limit) <= 1e12 else f"{limit:,g}"


def reject_ignored(args: argparse.Namespace, flags: dict[str, Any], *, reason: str) -> None:
    """Refuse options this (sub-)command would ignore: ``flags`` maps a flag to its default value."""
    for flag, default in flags.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"), default)
        if value != default:
            raise bad_input(f"not used {reason}", flag=flag, value=value, accepted="leave it out")


# ---------------------------------------------------------------- output


def clean(value: Any) -> Any:
    """A JSON-safe value: numpy scalars become Python numbers, NaN and infinity become null."""
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def records(table: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows of a DataFrame or a list of dicts."""
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        return [str(c) for c in table.columns], table.to_dict(orient="records")
    rows = list(table)
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns, rows


def print_json(obj: Any, *, file: TextIO | None = None) -> None:
    print(json.dumps(clean(obj)), file=file or sys.stdout)


def print_csv(table: Any, *, file: TextIO | None = None) -> None:
    import csv

    columns, rows = records(table)
    writer = csv.DictWriter(file or sys.stdout, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if clean(v) is None else clean(v) for k, v in row.items()})


def _is_number(value: Any) -> bool:
    return isinstance(clean(value), int | float) and not isinstance(clean(value), bool)


def format_number(value: Any) -> str:
    """One rule for every number printed: integers with thousands separators; floats of 1,000 and more
    rounded to integers with separators, smaller ones to 4 significant digits (at most three zeros after
    the point: ``0.0001202``), tinier or huge ones in scientific notation (``1.600e-06``); NaN and None as ``-``."""
    v = clean(value)
    if v is None:
        return "-"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return _shorten(str(v))
    if isinstance(v, int):
        return f"{v:,}"
    magnitude = abs(v)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e15 or magnitude < 1e-4:
        return f"{v:.3e}"
    if magnitude >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{max(0, 3 - math.floor(math.log10(magnitude)))}f}"


def format_seconds(seconds: float) -> str:
    """A duration in the unit that keeps it readable (s, ms, us, ns), to 4 significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale:
            return f"{format_number(seconds / scale)} {unit}"
    return f"{format_number(seconds / 1e-9)} ns"


def _column_format(values: list[Any]) -> Callable[[Any], str]:
    return format_number


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_CELL else "~" + text[-(MAX_CELL - 1):]


def render_table(table: Any, *, columns: Iterable[str] | None = None, width: int = TABLE_WIDTH,
                 keys: int = 1) -> str:
    """A plain-text table fitting ``width`` characters: columns that do not fit go to another block,
    each block repeating the first ``keys`` columns. Numbers are right-aligned and formatted per column."""
    names, rows = records(table)
    names = [c for c in (columns or names) if c in names]
    cells: dict[str, list[str]] = {}
    numeric: dict[str, bool] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        fmt = _column_format(values)
        cells[name] = [fmt(v) for v in values]
        numeric[name] = any(_is_number(v) for v in values)
    widths = {n: max([len(n), *(len(c) for c in cells[n])]) for n in names}
    key_cols, rest = names[:keys], names[keys:]
    blocks: list[list[str]] = []
    current: list[str] = []
    used = sum(widths[k] + 2 for k in key_cols)
    for name in rest:
        if current and used + widths[name] + 2 > width:
            blocks.append(current)
            current, used = [], sum(widths[k] + 2 for k in key_cols)
        current.append(name)
        used += widths[name] + 2
    blocks.append(current)
    text: list[str] = []
    for block in blocks:
        cols = key_cols + block

        def cell(name: str, value: str) -> str:
            return value.rjust(widths[name]) if numeric[name] else value.ljust(widths[name])

        text.append("  ".join(cell(n, n) for n in cols).rstrip())
        text.extend("  ".join(cell(n, cells[n][i]) for n in cols).rstrip() for i in range(len(rows)))
        text.append("")
    return "\n".join(text[:-1])


def print_table(table: Any, *, columns: Iterable[str] | None = None, keys: int = 1,
                file: TextIO | None = None) -> None:
    print(render_table(table, columns=columns, keys=keys), file=file or sys.stdout)


def print_summary(pairs: dict[str, Any], *, file: TextIO | None = None) -> None:
    """``name  value`` lines with the same number formatting as tables."""
    width = max((len(k) for k in pairs), default=0)
    for key, value in pairs.items():
        shown = _column_format([value])(value)
        print(f"  {key:<{width}}  {shown}", file=file or sys.stdout)


def print_wrapped(head: str, text: str, *, file: TextIO | None = None) -> None:
    """``head`` then ``text`` wrapped to ``TABLE_WIDTH``, continuation lines indented under ``text``."""
    import textwrap

    print(textwrap.fill(text, width=TABLE_WIDTH, initial_indent=head, subsequent_indent=" " * min(len(head), 50),
                        break_on_hyphens=False), file=file or sys.stdout)


def emit(fmt: str, table: Any, *, columns: Sequence[str] | None = None, title: str | None = None,
         summary: dict[str, Any] | None = None, extra: dict[str, Any] | None = None, keys: int = 1) -> None:
    """Print one result in ``fmt``: table (title, table, summary), csv (the table) or json (everything)."""
    if fmt == "json":
        _, rows = records(table)
        if columns is not None:
            rows = [{k: r.get(k) for k in columns} for r in rows]
        print_json({**({"title": title} if title else {}), **(summary and {"summary": summary} or {}),
                    "rows": rows, **(extra or {})})
    elif fmt == "csv":
        if columns is not None:
            _, rows = records(table)
            table = [{k: r.get(k) for k in columns} for r in rows]
        print_csv(table)
    else:
        if title:
            print(title)
        print_table(table, columns=columns, keys=keys)
        if summary:
            print()
            print_summary(summary)


# ---------------------------------------------------------------- progress


def progress_bar(desc: str, *, unit: str = "step") -> Progress | None:
    """A ``progress(done, total, what)`` callback drawing a tqdm bar on stderr, or ``None`` when
    stderr is not a terminal (pipes and files get no bar)."""
    if not sys.stderr.isatty() or os.environ.get("ACCELDSE_NO_PROGRESS"):
        return None
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def update(done: int, total: int, what: str) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr,
                                      dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.set_postfix_str(str(what)[:24], refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()
            state.pop("bar")

    return update


def preset_names(package: str, folder: str) -> list[str]:
    """Stems of the ``*.yaml`` presets in ``package``/``folder``, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    return sorted({p.stem for root in roots for p in (Path(root) / folder).glob("*.yaml")})
