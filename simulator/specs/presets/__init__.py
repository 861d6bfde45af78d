"""Hardware presets shipped with the package, and the one resolver for ``--hardware``."""

from __future__ import annotations

from pathlib import Path

from simulator.scalesim.cfg import load_scalesim_cfg
from simulator.specs.accelerator import Accelerator, load_accelerator_file
from workloads.errors import SpecError
from workloads.spec_io import path_exists

PRESET_DIR = Path(__file__).parent / "hardware"


def list_hardware() -> list[str]:
    """Names of the shipped accelerator presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_hardware(spec: str | Path | Accelerator) -> Accelerator:
    """Resolve a preset name, a YAML spec file or a SCALE-Sim ``.cfg`` file."""
    if isinstance(spec, Accelerator):
        return spec
    text = str(spec)
    path = Path(text)
    if path.suffix.lower() == ".cfg":
        return load_scalesim_cfg(path)[0]
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_accelerator_file(path)
    preset = PRESET_DIR / f"{text.lower()}.yaml"
    if path_exists(preset, file=True):
        return load_accelerator_file(preset)
    raise SpecError("unknown hardware", source="--hardware", value=text,
                    accepted="a preset (" + ", ".join(list_hardware()) + "), a .yaml spec or a SCALE-Sim .cfg")
