"""``HardwareArrays``: the fields of P accelerators the analytical systolic model reads, one row each.

What a sweep ships to its workers (plain numbers, no objects to pickle) and what the design
environments fill from their knobs without building an ``Accelerator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from acceldse.simulator.specs.accelerator import Accelerator


class Hw(IntEnum):
    """Columns of ``HardwareArrays.matrix`` (float64; counts of things are whole numbers)."""

    ROWS = 0  # PE array
    COLS = 1
    CORES = 2  # arrays the folds of a layer are dealt to
    WORD_BYTES = 3  # the hardware word operands are widened to
    IN_CAP_BYTES = 4  # half of each SRAM partition (double buffered)
    W_CAP_BYTES = 5
    OUT_CAP_BYTES = 6
    DRAM_LATENCY_CYCLES = 7
    SRAM_LATENCY_CYCLES = 8
    DRAM_READ_BW = 9  # bytes per cycle
    DRAM_WRITE_BW = 10
    SRAM_READ_BW = 11
    SRAM_WRITE_BW = 12
    SRAM_READ_PJ = 13  # pJ per byte
    SRAM_WRITE_PJ = 14
    DRAM_READ_PJ = 15
    DRAM_WRITE_PJ = 16
    MAC_PJ = 17  # pJ per MAC
    CLOCK_MHZ = 18
    AREA_MM2 = 19


N_HW = len(Hw)


def buffer_half(partition_bytes: int) -> int:
    """Bytes of an SRAM partition that hold the working tile: half of it (double buffered)."""
    return partition_bytes // 2


def hardware_row(a: Accelerator, *, area: bool = True) -> list[float]:
    """One accelerator's ``Hw`` columns (``AREA_MM2`` 0 without ``area``: no rule of a layer reads it)."""
    sram, dram = a.sram, a.dram
    return [a.array.rows, a.array.cols, a.cores, a.word_bytes, buffer_half(sram.partition_bytes("ifmap")),
            buffer_half(sram.partition_bytes("filter")), buffer_half(sram.partition_bytes("ofmap")),
            dram.latency_cycles,
            sram.latency_cycles, dram.read_bw_bytes_per_cycle, dram.write_bw_bytes_per_cycle,
            sram.read_bw_bytes_per_cycle, sram.write_bw_bytes_per_cycle, sram.read_energy_pj_per_byte,
            sram.write_energy_pj_per_byte, dram.read_energy_pj_per_byte, dram.write_energy_pj_per_byte,
            a.array.mac_energy_pj, a.clock_mhz, a.area_mm2 if area else 0.0]


@dataclass(frozen=True)
class HardwareArrays:
    """P accelerators: ``matrix`` is (P, ``Hw``) float64; the properties name its columns."""

    matrix: np.ndarray

    @classmethod
    def of(cls, accs: Sequence[Accelerator], *, area: bool = True) -> HardwareArrays:
        """The arrays of ``accs``, in order (``area``: with their area)."""
        return cls(np.array([hardware_row(a, area=area) for a in accs], dtype=np.float64).reshape(len(accs), N_HW))

    def __len__(self) -> int:
        return len(self.matrix)

    def take(self, index: Any) -> HardwareArrays:
        """The designs at ``index`` (an index array or a boolean mask)."""
        return HardwareArrays(self.matrix[index])

    @property
    def cores(self) -> np.ndarray:
        return self.matrix[:, Hw.CORES].astype(np.int64)

    @property
    def pes(self) -> np.ndarray:
        """PEs of every design (rows x cols x cores)."""
        m = self.matrix
        return (m[:, Hw.ROWS] * m[:, Hw.COLS] * m[:, Hw.CORES]).astype(np.int64)

    @property
    def word_bytes(self) -> np.ndarray:
        return self.matrix[:, Hw.WORD_BYTES].astype(np.int64)

    @property
    def clock_mhz(self) -> np.ndarray:
        return self.matrix[:, Hw.CLOCK_MHZ]

    @property
    def area_mm2(self) -> np.ndarray:
        return self.matrix[:, Hw.AREA_MM2]


__all__ = ["N_HW", "HardwareArrays", "Hw", "buffer_half", "hardware_row"]
