"""Hardware presets shipped with the package: one folder per kind, and the ``--hardware`` resolver.

Four kinds of preset live side by side and each is taken by its own commands:

========== ======================== =====================================================
kind       folder                   taken by
========== ======================== =====================================================
systolic   ``presets/hardware/``    ``acceldse simulate --hardware``, ``acceldse tiers --hardware``
hierarchy  ``presets/hierarchy/``   ``acceldse map --hardware``
fpga       ``presets/fpga/``        ``acceldse fpga --platform``
fused      ``presets/fused/``       ``acceldse attention --hardware``
========== ======================== =====================================================

A name given to a loader of the wrong kind raises a ``SpecError`` that says which command
takes it (:func:`wrong_kind`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from acceldse.simulator.specs.accelerator import Accelerator, accelerator_from_dict, load_accelerator_file
from acceldse.simulator.specs.scalesim_cfg import load_scalesim_cfg, refuse_cfg_sparsity
from acceldse.workloads.errors import SpecError
from acceldse.workloads.spec_io import path_exists

ROOT = Path(__file__).parent
PRESET_DIRS: dict[str, Path] = {"systolic": ROOT / "hardware", "hierarchy": ROOT / "hierarchy",
                                "fpga": ROOT / "fpga", "fused": ROOT / "fused"}
"""Folder of each preset kind."""

TAKEN_BY: dict[str, str] = {"systolic": "acceldse.simulate(hardware=...) (or the acceldse.tiers functions)",
                            "hierarchy": "acceldse.map(hardware=...)", "fpga": "acceldse.optimise_fpga(platform=...)",
                            "fused": "acceldse.fused_attention(hardware=...)"}
"""The Python functions (and argument) that accept each kind (the command line names its commands and flags:
``acceldse.commands.common.COMMAND_TAKING``)."""

KIND_LABELS: dict[str, str] = {"systolic": "a systolic accelerator", "hierarchy": "a mapper hierarchy",
                               "fpga": "an FPGA board", "fused": "a fused-cascade accelerator"}
"""What a preset of each kind is (with its article)."""

PRESET_DIR = PRESET_DIRS["systolic"]


def preset_names(kind: str) -> list[str]:
    """Names of the shipped presets of one kind (``systolic``, ``hierarchy`` or ``fpga``)."""
    return sorted(p.stem for p in PRESET_DIRS[kind].glob("*.yaml"))


def preset_kind(name: str) -> str | None:
    """The kind of the preset called ``name`` (case-insensitive), or ``None`` if no preset has it."""
    for kind, folder in PRESET_DIRS.items():
        if (folder / f"{name.lower()}.yaml").is_file() or (folder / f"{name}.yaml").is_file():
            return kind
    return None


def wrong_kind(name: str, accepted: tuple[str, ...], *, flag: str) -> SpecError | None:
    """The error for a preset of another kind than ``accepted`` given to ``flag`` (``None``: not one)."""
    kind = preset_kind(name)
    if kind is None or kind in accepted:
        return None
    wanted = " or ".join(KIND_LABELS[k] for k in accepted)
    return SpecError(f"'{name}' is {KIND_LABELS[kind]} preset: use it with {TAKEN_BY[kind]}", source=flag,
                     value=name, accepted=f"{wanted} preset (see acceldse list hardware)")


def not_a_preset(name: str, kind: str, *, flag: str, message: str, accepted: str,
                 source: str | None = None) -> SpecError:
    """The error for ``name`` given where a preset of ``kind`` (or a file) is expected: which command
    takes it when it is a preset of another kind, else ``message`` with what is ``accepted``."""
    error = wrong_kind(name, (kind,), flag=flag)
    if error is not None:
        return error
    return SpecError(message, source=source or flag, value=name, accepted=accepted)


def kind_help(kind: str) -> str:
    """The ``--help`` words for a flag that takes presets of ``kind``."""
    return f"{KIND_LABELS[kind]} preset ({', '.join(preset_names(kind))}; kind '{kind}' in 'acceldse list hardware')"


def list_hardware(kind: str = "systolic") -> list[str]:
    """Names of the shipped presets of one kind: ``systolic`` accelerators (``load_hardware``,
    ``simulate``), ``hierarchy`` (``load_hierarchy``, ``map``) or ``fpga`` boards (``load_platform``)."""
    if kind not in PRESET_DIRS:
        raise SpecError("unknown preset kind", source="kind", value=kind, accepted=" | ".join(PRESET_DIRS))
    return preset_names(kind)


def load_hardware(spec: str | Path | Accelerator | dict[str, Any], *, source: str = "hardware") -> Accelerator:
    """Resolve a systolic preset name, a YAML spec file, a SCALE-Sim ``.cfg`` file, a spec mapping
    (``load_hardware("tpu-v1-like").to_dict()``, edited) or an ``Accelerator``.

    A mapping and an ``Accelerator`` are checked exactly like a YAML file (an object made with
    ``dataclasses.replace`` skips the loader otherwise); a bad value raises a ``SpecError`` naming
    ``source`` (the argument it came from) and the key."""
    if isinstance(spec, Accelerator):
        return spec.validated(source=source)
    if isinstance(spec, dict):
        return accelerator_from_dict(copy.deepcopy(spec), source=source)
    text = str(spec)
    path = Path(text)
    if path.suffix.lower() == ".cfg":
        acc, settings = load_scalesim_cfg(path)
        refuse_cfg_sparsity(settings, text)
        return acc
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_accelerator_file(path)
    preset = PRESET_DIR / f"{text.lower()}.yaml"
    if path_exists(preset, file=True):
        return load_accelerator_file(preset)
    raise not_a_preset(text, "systolic", flag=source, message="unknown hardware",
                       accepted="a preset (" + ", ".join(list_hardware()) + "), a .yaml spec or a SCALE-Sim .cfg")
