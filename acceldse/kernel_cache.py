"""Where numba's compiled kernels are cached: one folder per version of the kernel sources.

Numba checks a cached kernel against its own source file only, so a kernel that inlines or calls a
kernel of another file keeps the old machine code when only that other file changes: a stale cache
that gives wrong numbers. ``use_kernel_cache()`` (run by ``import acceldse``, before any kernel is
compiled) points ``NUMBA_CACHE_DIR`` at a folder named after the size and modification time of every
file in ``KERNEL_FILES``, so any change to any kernel source starts a fresh cache. The folder is
``acceldse/__pycache__/numba-<fingerprint>`` when the package folder is writable, else
``$XDG_CACHE_HOME/acceldse/numba-<fingerprint>`` (default ``~/.cache``); folders of older fingerprints
are removed when a new one is made. A ``NUMBA_CACHE_DIR`` set by the user is left as it is.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

KERNEL_FILES: tuple[str, ...] = (
    "envs/knobs.py",
    "envs/vector_step.py",
    "mapper/cost_kernel.py",
    "mapper/legality.py",
    "mapper/mac_fanout.py",
    "mapper/space.py",
    "mapper/kernel_memory.py",
    "mapper/sparse/dense_counts.py",
    "mapper/sparse/hypergeom.py",
    "mapper/sparse/kernel.py",
    "mapper/sparse/kernel_conditions.py",
    "mapper/sparse/kernel_energy.py",
    "mapper/sparse/kernel_tiles.py",
    "simulator/event/engine.py",
    "simulator/event/jobs.py",
    "simulator/fpga/pipeline_sim.py",
    "simulator/scalesim/buffers.py",
    "simulator/scalesim/calc_kernels.py",
    "simulator/scalesim/user_kernels.py",
    "simulator/streaming/kernels.py",
    "simulator/streaming/trace.py",
    "simulator/systolic/cycle_kernels.py",
    "simulator/systolic/fold_time.py",
    "simulator/systolic/jit.py",
    "simulator/systolic/kernels.py",
    "simulator/systolic/layer_kernels.py",
)
"""Every file (under the ``acceldse`` package) that defines numba kernels; a test keeps the list whole."""

PACKAGE = Path(__file__).resolve().parent


def fingerprint() -> str:
    """Twelve hex digits naming this version of the kernel sources (their sizes and modification times)."""
    text = ""
    for name in KERNEL_FILES:
        try:
            stat = os.stat(PACKAGE / name)
        except OSError:
            continue
        text += f"{name}:{stat.st_size}:{stat.st_mtime_ns};"
    data = text.encode()  # two checksums (not hashlib: it loads OpenSSL, a cost at every start)
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"[:12]


def use_kernel_cache() -> None:
    """Set ``NUMBA_CACHE_DIR`` to this version's folder (module docstring) unless it is set already."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    home = PACKAGE / "__pycache__"
    if not os.access(home if home.is_dir() else PACKAGE, os.W_OK):
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "acceldse"
    folder = home / f"numba-{fingerprint()}"
    if not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # nowhere to write: numba's own default applies
        import shutil

        for old in home.glob("numba-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
