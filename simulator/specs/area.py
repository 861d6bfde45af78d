"""Area that scales: SRAMs, register files, MACs and PEs from capacity, width, ports and precision.

Every constant below is a published figure (its source next to it) except one, the SRAM
array efficiency, which is calibrated on a single reference array and never checked against it:

* SRAM cell: CACTI 6.5 ``technology.cc`` (HP Labs), 6T cell of ``146 F^2`` with aspect ratio
  1.46 (10 F wide, 14.6 F tall). Each port beyond the first read-write port adds two local wire
  pitches (``2.5 F`` each, CACTI's aggressive local wire) to the cell's height and to its width
  (CACTI ``mat.cc``: ``cell.h = b_h + 2 pitch (ports - 1)``, likewise ``cell.w``).
* SRAM array efficiency (cells / total array area): 0.7212, calibrated on the eyeriss_like
  ``shared_glb`` of timeloop-accelergy-exercises (CACTI, 64 x 16384 bits, 32 nm, 217,363.37 um^2).
* Register bit 5.98 um^2, 32-bit adder 278 um^2, 32 x 32 multiplier 6,350 um^2, all at 45 nm:
  the Aladdin tables (Shao et al., ISCA 2014) as shipped in Accelergy's library plug-in
  (``library/aladdin/aladdin_{register,adder,multiplier}.csv``). Adders scale linearly in width,
  multipliers in each operand width.
* Technology scaling of logic and register files: Stillmaker & Baas, "Scaling equations for the
  accurate prediction of CMOS device performance from 180 nm to 7 nm", Integration 58 (2017),
  the 45 nm row of the area table (also used by Accelergy's library plug-in). SRAM cells scale
  as ``F^2`` down to 32 nm (CACTI's own rule), and with the same table below it.

Units: ``_um2`` (square micrometres) inside, ``_mm2`` at the API. ``docs/area_model.md`` holds
the agreement table against the areas Accelergy prints for the reference designs.
"""

from __future__ import annotations

import math

from acceldse.workloads.errors import SpecError

TECH_NODES_NM: tuple[float, ...] = (130, 90, 65, 45, 32, 20, 16, 14, 10, 7)
AREA_SCALE_FROM_45NM: tuple[float, ...] = (6.4, 2.8, 1.5, 1.0, 0.46, 0.21, 0.19, 0.17, 0.1, 0.059)
"""Stillmaker & Baas 2017: area at each node of ``TECH_NODES_NM`` relative to 45 nm."""

SRAM_CELL_F2 = 146.0
SRAM_CELL_ASPECT = 1.46
LOCAL_WIRE_PITCH_F = 2.5
SRAM_ARRAY_EFFICIENCY = 0.7212
REGISTER_UM2_PER_BIT_45NM = 5.98
ADDER_32B_UM2_45NM = 278.0
MULTIPLIER_32X32_UM2_45NM = 6350.0

MEMORY_KINDS: tuple[str, ...] = ("sram", "regfile")
"""How a storage is built. There is no automatic choice by size: a switch at a size threshold would
make area fall where a register file becomes an SRAM (the property test found it)."""

UM2_PER_MM2 = 1e6


def check_technology(tech_nm: float, *, source: str = "area", key: str = "technology_nm") -> float:
    """A process node the scaling table covers (7 ... 130 nm)."""
    if isinstance(tech_nm, bool) or not isinstance(tech_nm, int | float) or not \
            TECH_NODES_NM[-1] <= tech_nm <= TECH_NODES_NM[0]:
        raise SpecError("technology node outside the area model's table", source=source, key=key, value=tech_nm,
                        accepted=f"{TECH_NODES_NM[-1]:g} to {TECH_NODES_NM[0]:g} nm")
    return float(tech_nm)


def logic_scale(tech_nm: float) -> float:
    """Area of logic / registers at ``tech_nm`` relative to 45 nm (log-linear between table nodes)."""
    tech = check_technology(tech_nm)
    for i in range(len(TECH_NODES_NM) - 1):
        big, small = TECH_NODES_NM[i], TECH_NODES_NM[i + 1]
        if small <= tech <= big:
            t = math.log(big / tech) / math.log(big / small)
            lo, hi = AREA_SCALE_FROM_45NM[i], AREA_SCALE_FROM_45NM[i + 1]
            return math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo)))
    raise AssertionError("unreachable: check_technology bounds the node")


def _ported(cell_w_um: float, cell_h_um: float, ports: int, feature_um: float) -> float:
    """Cell area with ``ports`` read-write ports (CACTI: two wire pitches per extra port each way)."""
    extra = 2 * LOCAL_WIRE_PITCH_F * feature_um * (ports - 1)
    return (cell_w_um + extra) * (cell_h_um + extra)


def sram_bit_um2(tech_nm: float, ports: int = 1) -> float:
    """Area of one SRAM bit including the array's periphery (cells / efficiency)."""
    tech = check_technology(tech_nm)
    node = max(tech, 32.0)
    f_um = node / 1000.0
    width = math.sqrt(SRAM_CELL_F2 / SRAM_CELL_ASPECT) * f_um
    cell = _ported(width, SRAM_CELL_ASPECT * width, ports, f_um)
    if tech < 32.0:
        cell *= logic_scale(tech) / logic_scale(32.0)
    return cell / SRAM_ARRAY_EFFICIENCY


def regfile_bit_um2(tech_nm: float, ports: int = 1) -> float:
    """Area of one register-file bit (an Aladdin register bit, widened per extra port as CACTI does)."""
    bit = REGISTER_UM2_PER_BIT_45NM * logic_scale(tech_nm)
    side = math.sqrt(bit)
    return _ported(side, side, ports, check_technology(tech_nm) / 1000.0)


def storage_area_um2(memory: str, bits: int, tech_nm: float, ports: int = 1) -> float:
    """Area of a storage of ``bits`` (width x depth) as an ``sram`` or a ``regfile``."""
    if memory not in MEMORY_KINDS:
        raise SpecError("unknown memory kind", source="area", key="memory", value=memory,
                        accepted=" | ".join(MEMORY_KINDS))
    if isinstance(ports, bool) or not isinstance(ports, int) or ports < 1:
        raise SpecError("must be an integer >= 1", source="area", key="ports", value=ports)
    per_bit = sram_bit_um2(tech_nm, ports) if memory == "sram" else regfile_bit_um2(tech_nm, ports)
    return bits * per_bit


def mac_area_um2(bits: int, tech_nm: float) -> float:
    """A ``bits`` x ``bits`` multiplier plus a ``2 bits`` accumulator adder."""
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise SpecError("must be an integer >= 1", source="area", key="bits", value=bits)
    mult = MULTIPLIER_32X32_UM2_45NM * (bits / 32) ** 2
    add = ADDER_32B_UM2_45NM * (2 * bits) / 32
    return (mult + add) * logic_scale(tech_nm)


def pe_area_um2(bits: int, tech_nm: float) -> float:
    """A systolic PE: a MAC plus its registers (stationary operand, forwarded operand, 2x-wide psum)."""
    return mac_area_um2(bits, tech_nm) + 4 * bits * regfile_bit_um2(tech_nm)


__all__ = ["AREA_SCALE_FROM_45NM", "MEMORY_KINDS", "SRAM_ARRAY_EFFICIENCY", "TECH_NODES_NM",
           "UM2_PER_MM2", "check_technology", "logic_scale", "mac_area_um2", "pe_area_um2",
           "regfile_bit_um2", "sram_bit_um2", "storage_area_um2"]
