"""Accelerators for fused cascades: compute units (a 2D PE array, a 1D vector array ...) that share a
global buffer in front of DRAM. Presets in ``simulator/specs/presets/fused/`` (``fusemax``,
``flat_cloud``); YAML form::

    version: 1
    name: fusemax
    clock_mhz: 940
    word_bits: 16
    dram: {bandwidth_gib_per_s: 400, pj_per_byte: 31.2}
    buffer: {capacity: 16MiB, read_pj_per_word: 1.89, write_pj_per_word: 1.76, leak_pj_per_cycle: 0.84}
    units:
      pe2d:
        shape: [256, 256]                      # PEs along x (and y)
        regfile: {read_pj: 0.65, write_pj: 0.57}
        leak_pj_per_cycle: 0.26                # per PE
        ops:                                   # operator -> functional unit, cycles per element, pJ
          mac: {fu: alu, cycles: 1, pj: 17.16}
          exp: {fu: alu, cycles: 6, pj: 103.0}

A PE's operators on the same functional unit (``fu``) run one after another; different units are
pipelined, so an Einsum's cycles per point are the busiest functional unit's (FuseMax: exp as 6 MACs
on the one ALU, 7 cycles with the subtract; FLAT's softmax array: dedicated pipelined units, 1 cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from acceldse.workloads.errors import MAX_ENERGY_PJ, SpecError, require_float, require_int
from acceldse.workloads.spec_io import load_yaml, parse_bytes, path_exists, reject_unknown, section

PRESET_DIR = Path(__file__).parent / "presets" / "fused"


@dataclass(frozen=True)
class OpCost:
    """One operator on a unit: functional unit, cycles per element, energy per element (pJ)."""

    fu: str
    cycles: int
    pj: float


@dataclass(frozen=True)
class ComputeUnit:
    """A PE array: ``shape`` PEs per axis (one or two axes), register file and operators."""

    name: str
    shape: tuple[int, ...]
    ops: dict[str, OpCost]
    regfile_read_pj: float
    regfile_write_pj: float
    leak_pj_per_cycle: float

    @property
    def pes(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def axes(self) -> tuple[str, ...]:
        return ("x", "y")[: len(self.shape)]

    def point_cycles(self, ops: tuple[str, ...]) -> int:
        """Cycles per point: the busiest functional unit (operators on one unit serialise)."""
        busy: dict[str, int] = {}
        for op in ops:
            c = self.ops[op]
            busy[c.fu] = busy.get(c.fu, 0) + c.cycles
        return max(busy.values(), default=1)

    def point_pj(self, ops: tuple[str, ...]) -> float:
        return sum(self.ops[op].pj for op in ops)


@dataclass(frozen=True)
class FusedHardware:
    """Compute units sharing a global buffer in front of DRAM (module docstring)."""

    name: str
    clock_mhz: float
    word_bits: int
    dram_bytes_per_s: float
    dram_pj_per_byte: float
    buffer_bytes: int
    buffer_read_pj: float
    buffer_write_pj: float
    buffer_leak_pj_per_cycle: float
    units: dict[str, ComputeUnit]
    source: str = "hardware"

    @property
    def word_bytes(self) -> int:
        return self.word_bits // 8

    @property
    def dram_bytes_per_cycle(self) -> float:
        return self.dram_bytes_per_s / (self.clock_mhz * 1e6)

    def unit(self, name: str, *, key: str = "unit") -> ComputeUnit:
        if name not in self.units:
            raise SpecError("no such compute unit", source=self.source, key=key, value=name,
                            accepted=", ".join(self.units))
        return self.units[name]

    def with_buffer(self, nbytes: int) -> FusedHardware:
        """The same hardware with another global-buffer capacity (bytes, an integer >= 1)."""
        if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 1:
            raise SpecError("must be a buffer size in bytes, an integer >= 1", source="nbytes", value=nbytes)

        return replace(self, buffer_bytes=int(nbytes), name=f"{self.name}-buf{nbytes // 1024}KiB")


def _pj(v: Any, *, key: str, source: str) -> float:
    return require_float(v, key=key, source=source, maximum=MAX_ENERGY_PJ)


def fused_from_dict(raw: dict[str, Any], *, source: str) -> FusedHardware:
    reject_unknown(raw, {"version", "name", "clock_mhz", "word_bits", "dram", "buffer", "units"}, source=source)
    dram = section(raw, "dram", source=source)
    reject_unknown(dram, {"bandwidth_gib_per_s", "pj_per_byte"}, source=source, prefix="dram.")
    buf = section(raw, "buffer", source=source)
    reject_unknown(buf, {"capacity", "read_pj_per_word", "write_pj_per_word", "leak_pj_per_cycle"}, source=source,
                   prefix="buffer.")
    units_raw = section(raw, "units", source=source)
    units: dict[str, ComputeUnit] = {}
    for uname, u in units_raw.items():
        where = f"units.{uname}"
        if not isinstance(u, dict):
            raise SpecError("a unit must be a mapping", source=source, key=where, value=u)
        reject_unknown(u, {"shape", "regfile", "leak_pj_per_cycle", "ops"}, source=source, prefix=f"{where}.")
        shape = u.get("shape")
        if not isinstance(shape, list) or not 1 <= len(shape) <= 2:
            raise SpecError("shape must list one or two axis sizes", source=source, key=f"{where}.shape", value=shape,
                            accepted="[256] or [256, 256]")
        rf = section(u, "regfile", source=source, required=False)
        ops_raw = section(u, "ops", source=source)
        ops = {}
        for op, spec in ops_raw.items():
            okey = f"{where}.ops.{op}"
            if op not in ("mac", "mul", "add", "sub", "div", "max", "exp", "copy"):
                raise SpecError("unknown operator", source=source, key=okey, value=op,
                                accepted="mac, mul, add, sub, div, max, exp, copy")
            if not isinstance(spec, dict):
                raise SpecError("an operator needs {fu, cycles, pj}", source=source, key=okey, value=spec)
            reject_unknown(spec, {"fu", "cycles", "pj"}, source=source, prefix=f"{okey}.")
            ops[str(op)] = OpCost(str(spec.get("fu", op)), require_int(spec.get("cycles", 1), key=f"{okey}.cycles",
                                                                       source=source),
                                  _pj(spec.get("pj", 0.0), key=f"{okey}.pj", source=source))
        ops.setdefault("copy", OpCost("move", 1, 0.0))
        units[str(uname)] = ComputeUnit(
            str(uname), tuple(require_int(s, key=f"{where}.shape", source=source, maximum=2**16) for s in shape), ops,
            _pj(rf.get("read_pj", 0.0), key=f"{where}.regfile.read_pj", source=source),
            _pj(rf.get("write_pj", 0.0), key=f"{where}.regfile.write_pj", source=source),
            _pj(u.get("leak_pj_per_cycle", 0.0), key=f"{where}.leak_pj_per_cycle", source=source))
    if not units:
        raise SpecError("no compute units", source=source, key="units", accepted="at least one unit")
    word_bits = require_int(raw.get("word_bits", 16), key="word_bits", source=source, maximum=64)
    if word_bits % 8:
        raise SpecError("word_bits must be a whole number of bytes", source=source, key="word_bits", value=word_bits)
    return FusedHardware(
        str(raw.get("name", Path(source).stem)),
        require_float(raw.get("clock_mhz", 1000), key="clock_mhz", source=source, strictly_positive=True,
                      maximum=1e6),
        word_bits,
        require_float(dram.get("bandwidth_gib_per_s"), key="dram.bandwidth_gib_per_s", source=source,
                      strictly_positive=True, maximum=1e6) * 2**30,
        _pj(dram.get("pj_per_byte", 0.0), key="dram.pj_per_byte", source=source),
        parse_bytes(buf.get("capacity"), key="buffer.capacity", source=source),
        _pj(buf.get("read_pj_per_word", 0.0), key="buffer.read_pj_per_word", source=source),
        _pj(buf.get("write_pj_per_word", 0.0), key="buffer.write_pj_per_word", source=source),
        _pj(buf.get("leak_pj_per_cycle", 0.0), key="buffer.leak_pj_per_cycle", source=source),
        units, source)


def fused_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_fused_hardware(spec: str | Path | FusedHardware, *, flag: str = "hardware") -> FusedHardware:
    """A fused-accelerator preset name (``fusemax``, ``flat_cloud``) or a YAML file (``units:``, ``buffer:``,
    ``dram:``); ``.with_buffer(nbytes)`` gives the same accelerator with another buffer size.

    Raises:
        SpecError: an unknown preset or a bad file, naming ``flag`` (the argument that gave it).
    """
    if isinstance(spec, FusedHardware):
        return spec
    text = str(spec)
    preset = PRESET_DIR / f"{text.lower()}.yaml"
    if path_exists(preset, file=True):
        path = preset
    elif text.lower().endswith((".yaml", ".yml")) and path_exists(text, file=True):
        path = Path(text)
    else:
        raise SpecError("unknown fused-accelerator hardware", source=flag, value=text,
                        accepted="a preset (" + ", ".join(fused_presets()) + ") or a YAML file with 'units:'")
    return fused_from_dict(load_yaml(path, kind="fused hardware"), source=str(path))
