"""Spec keys renamed so that every key names its unit: the old key is still read, with a warning.

=================== ======= ============================ =========================
spec                version old key                      new key
=================== ======= ============================ =========================
FPGA platform       2       ``bandwidth_gbps``           ``bandwidth_gbit_per_s``
accelerator tier    2       ``capacity``                 ``capacity_bytes``
accelerator tier    2       ``partitions``               ``partition_bytes``
=================== ======= ============================ =========================

A file of the old version (or one that uses an old key) loads as before and emits a
``DeprecationWarning`` naming the new key; giving both keys is a ``SpecError``.
"""

from __future__ import annotations

import warnings
from typing import Any

from acceldse.workloads.errors import SpecError

PLATFORM_RENAMES: dict[str, str] = {"bandwidth_gbps": "bandwidth_gbit_per_s"}
TIER_RENAMES: dict[str, str] = {"capacity": "capacity_bytes", "partitions": "partition_bytes"}


def read_renamed(data: dict[str, Any], renames: dict[str, str], *, source: str, prefix: str = "",
                 version: int) -> dict[str, Any]:
    """A copy of ``data`` with each old key moved to its new name (warning once per key)."""
    out = dict(data)
    for old, new in renames.items():
        if old not in out:
            continue
        if new in out:
            raise SpecError("give only the new key", source=source, key=f"{prefix}{old}", value=out[old],
                            accepted=f"'{prefix}{new}' alone ('{old}' is its deprecated name)")
        warnings.warn(f"{source}: key '{prefix}{old}' is deprecated; write '{prefix}{new}' (spec version {version})",
                      DeprecationWarning, stacklevel=4)
        out[new] = out.pop(old)
    return out
