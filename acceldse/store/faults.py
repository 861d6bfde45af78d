"""What keeps the result store whole: a store path checked before any work, DuckDB and OS errors as one line
naming the file and the cause, and SIGINT/SIGTERM held until a commit has finished."""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from acceldse.workloads.errors import SpecError


def storage_error(err: BaseException, path: str | Path, action: str) -> SpecError:
    """One line naming the store file and the cause of a DuckDB or OS error."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    lower = text.lower()
    if "could not set lock" in lower or "conflicting lock" in lower:
        pid = re.search(r"PID (\d+)", text)
        owner = f"process {pid[1]}" if pid else "another process"
        return SpecError(f"cannot {action}: {owner} has it open", source=str(path),
                         accepted="wait for that process to finish (or stop it), or use another store path")
    causes = [("no space left", "no space left on the device"), ("file too large", "file size limit reached"),
              ("disk quota", "disk quota exceeded"), ("permission denied", "permission denied"),
              ("read-only file system", "read-only file system"),
              ("corrupt", "the file is corrupt"), ("checksum", "the file is corrupt"),
              ("not a valid duckdb", "not a DuckDB file"), ("is not a valid", "not a DuckDB file")]
    for needle, cause in causes:
        if needle in lower:
            hint = ("free space (or raise the limit) and rerun: committed rows are kept" if "space" in cause
                    or "limit" in cause or "quota" in cause else
                    "a readable and writable path" if "permission" in cause or "read-only" in cause else
                    "restore the file from a copy, or use a new store path")
            return SpecError(f"cannot {action}: {cause} ({text})", source=str(path), accepted=hint)
    return SpecError(f"cannot {action}: {text}", source=str(path),
                     accepted="a DuckDB store written by acceldse on a writable disk, or a new path")


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends (a commit is never cut in half), then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    caught = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in caught}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            signal.raise_signal(pending[0])


def check_store_path(path: str | Path, *, create: bool, source: str = "store") -> Path:
    """Validate a store path before any work: folder exists, not a directory, writable (the file,
    its folder for DuckDB's ``.wal`` journal, and a journal already there)."""
    path = Path(path)
    if path.is_dir():
        raise SpecError("is a directory", source=source, value=str(path), accepted="a .duckdb file path")
    if not path.exists():
        if not create:
            raise SpecError("result store not found", source=source, value=str(path),
                            accepted="an existing .duckdb file written by 'acceldse sweep' or "
                                     "'acceldse explore --store'")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise SpecError(f"folder {str(parent)!r} does not exist", source=source, value=str(path),
                            accepted="a path in an existing, writable folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise SpecError(f"folder {str(parent)!r} is not writable", source=source, value=str(path),
                            accepted="a path in an existing, writable folder")
    elif create:
        parent = path.parent if str(path.parent) else Path(".")
        wal = path.with_name(path.name + ".wal")
        if not os.access(path, os.W_OK):
            raise SpecError("result store is not writable", source=source, value=str(path),
                            accepted="a writable .duckdb file")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise SpecError(f"folder {str(parent)!r} is not writable (DuckDB writes its journal "
                            f"{wal.name} next to the store)", source=source, value=str(path),
                            accepted="a store in a writable folder")
        if wal.exists() and not os.access(wal, os.R_OK | os.W_OK):
            raise SpecError(f"the store's journal {str(wal)!r} is not readable and writable", source=source,
                            value=str(path), accepted="fix the journal's permissions")
    return path


__all__ = ["check_store_path", "signals_deferred", "storage_error"]
