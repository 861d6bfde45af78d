"""Per-step evaluation of one systolic-accelerator design on a fixed network (AcceleratorDesign-v0).

A design is ``rows``, ``cols``, ``ifmap_kib`` / ``filter_kib`` / ``ofmap_kib`` (SRAM partitions),
``dram_gbyte_per_s``, ``dataflow`` (os | ws | is), ``clock_mhz`` and, when asked for, ``cores``.
``design_accelerator`` turns it
into a real ``Accelerator`` built from a base preset (energies, latencies, word size, technology):
DRAM bandwidth in bytes per cycle is ``dram_gbyte_per_s * 1000 / clock_mhz``; areas come from the area
model (``simulator.specs.area``), linear in SRAM capacity. ``SystolicDesignModel.evaluate`` runs the
designs x layers model (``simulator.systolic.batch``) on the design's hardware row, without building
the ``Accelerator`` or a DataFrame; it gives what ``acceldse.simulate(network, design_accelerator(...),
dataflow)`` totals give (a test holds them equal). This module keeps the knobs, the area and the metrics.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from acceldse.dataflows.dataflow import DATAFLOWS
from acceldse.simulator.specs.accelerator import Accelerator, check_fits
from acceldse.simulator.systolic.batch import network_cases
from acceldse.simulator.systolic.hardware import HardwareArrays, Hw, buffer_half
from acceldse.simulator.systolic.layer_kernels import network_sums
from acceldse.workloads.network import Network

SYSTOLIC_KNOBS: dict[str, list[Any]] = {
    "rows": [8, 16, 32, 64, 128, 256],
    "cols": [8, 16, 32, 64, 128, 256],
    "ifmap_kib": [16, 32, 64, 128, 256, 512, 1024],
    "filter_kib": [16, 32, 64, 128, 256, 512, 1024],
    "ofmap_kib": [16, 32, 64, 128, 256, 512, 1024],
    "dram_gbyte_per_s": [5, 10, 20, 40, 80, 160],
    "dataflow": ["os", "ws", "is"],
    "clock_mhz": [200, 400, 700, 1000],
}
"""Default knob values of AcceleratorDesign-v0 (the ``knobs=`` argument overrides any list)."""

OPTIONAL_KNOBS: dict[str, list[Any]] = {"cores": [1]}
"""Knobs a design has only when ``knobs=`` names them: ``cores`` (identical arrays sharing the SRAM and the
DRAM link; ``knobs={"cores": [1, 2, 4]}``) -- what the event fidelity's shared-link contention tells apart
from the analytical model. Without it every design has one core."""

_SRAM_KNOBS = {"ifmap": "ifmap_kib", "filter": "filter_kib", "ofmap": "ofmap_kib"}
_ROWS, _COLS, _IN_CAP, _W_CAP, _OUT_CAP, _DRAM_READ_BW, _DRAM_WRITE_BW, _CLOCK, _CORES = (
    int(f) for f in (Hw.ROWS, Hw.COLS, Hw.IN_CAP_BYTES, Hw.W_CAP_BYTES, Hw.OUT_CAP_BYTES, Hw.DRAM_READ_BW,
                     Hw.DRAM_WRITE_BW, Hw.CLOCK_MHZ, Hw.CORES))


def partition_bytes(design: dict[str, Any]) -> dict[str, int]:
    """SRAM partition bytes of a design (its ``*_kib`` knobs)."""
    return {op: int(design[knob]) * 1024 for op, knob in _SRAM_KNOBS.items()}


def dram_bw_bytes_per_cycle(design: dict[str, Any]) -> float:
    """DRAM bandwidth of a design in bytes per cycle of its clock."""
    return float(design["dram_gbyte_per_s"]) * 1e3 / float(design["clock_mhz"])


def design_accelerator(base: Accelerator, design: dict[str, Any]) -> Accelerator:
    """The ``Accelerator`` of a design (see module docstring); ``check_fits`` raises ``SpecError`` if the
    SRAM cannot feed the array."""
    kib = partition_bytes(design)
    sram = base.sram
    capacity = sum(kib.values())
    clock = float(design["clock_mhz"])
    bw = dram_bw_bytes_per_cycle(design)
    tiers = []
    for tier in base.tiers:
        if tier is sram:
            tier = replace(tier, partitions=kib, capacity_bytes=capacity,
                           area_mm2=None if sram.area_mm2 is None else sram.area_mm2 * capacity / sram.capacity_bytes)
        elif tier is base.dram:
            tier = replace(tier, read_bw_bytes_per_cycle=bw, write_bw_bytes_per_cycle=bw)
        tiers.append(tier)
    name = (f"{base.name}-{design['rows']}x{design['cols']}-{design['ifmap_kib']}/{design['filter_kib']}/"
            f"{design['ofmap_kib']}KiB-{design['dram_gbyte_per_s']}GBps-{design['clock_mhz']}MHz")
    cores = int(design.get("cores", 1))
    if cores != 1:
        name += f"-{cores}cores"
    acc = replace(base, name=name, clock_mhz=clock, tiers=tuple(tiers), cores=cores, dataflow=str(design["dataflow"]),
                  array=replace(base.array, rows=int(design["rows"]), cols=int(design["cols"])),
                  source=f"design of {base.name}")
    check_fits(acc)
    return acc


class SystolicDesignModel:
    """The analytical model of one network on one design per step (layers lowered once per dataflow)."""

    def __init__(self, network: Network, base: Accelerator) -> None:
        self.network = network
        self.base = base
        self.cases = {name: network_cases(network, DATAFLOWS[name]) for name in ("os", "ws", "is")}
        # identical layers are lowered once: each lowered row counts as many times as it appears
        self.repeats = {name: np.bincount(nc.lowered, minlength=len(nc.mac_cases) + len(nc.vectors))
                        for name, nc in self.cases.items()}
        self.hardware = HardwareArrays.of([replace(base, cores=1)]).matrix[0]
        self.macs = int(sum(x.macs for x in network.layers))
        tech = base.technology_nm
        self.pe_area_mm2 = base.array.area_mm2(8 * base.word_bytes, tech) / base.array.pes
        self.sram_mm2_per_byte = base.sram.area_at(tech) / base.sram.capacity_bytes
        self.other_area_mm2 = sum(t.area_at(tech) for t in base.tiers if t is not base.sram) + 0.0

    def _row(self, rows: int, cols: int, cores: int, ifmap_kib: int, filter_kib: int, ofmap_kib: int,
             dram_bw: float, clock_mhz: float) -> np.ndarray:
        row = self.hardware.copy()
        row[_ROWS], row[_COLS], row[_CORES] = rows, cols, cores
        row[_IN_CAP] = buffer_half(ifmap_kib * 1024)
        row[_W_CAP] = buffer_half(filter_kib * 1024)
        row[_OUT_CAP] = buffer_half(ofmap_kib * 1024)
        row[_DRAM_READ_BW] = row[_DRAM_WRITE_BW] = dram_bw
        row[_CLOCK] = clock_mhz
        return row

    def evaluate(self, design: dict[str, Any]) -> dict[str, float]:
        """Metrics of a design: latency_us, energy_uj, area_mm2, power_w, edp_uj_us, total_cycles, utilization
        (what ``design_accelerator`` simulated gives, without building it: energies are the base's)."""
        flow = str(design["dataflow"])
        nc = self.cases[flow]
        rows, cols, cores = int(design["rows"]), int(design["cols"]), int(design.get("cores", 1))
        ifmap, filt, ofmap = int(design["ifmap_kib"]), int(design["filter_kib"]), int(design["ofmap_kib"])
        clock = float(design["clock_mhz"])
        hw = self._row(rows, cols, cores, ifmap, filt, ofmap, dram_bw_bytes_per_cycle(design), clock)
        cycles, energy_pj = network_sums(nc.mac_cases, nc.vectors, hw, self.repeats[flow])
        pes = rows * cols * cores
        area = pes * self.pe_area_mm2 + self.sram_mm2_per_byte * ((ifmap + filt + ofmap) * 1024) + self.other_area_mm2
        return metrics_of(int(cycles), float(energy_pj), clock, pes, area, self.macs)


def metrics_of(cycles: int, energy_pj: float, clock_mhz: float, pes: int, area_mm2: float, macs: int
               ) -> dict[str, float]:
    """The env metrics of a network run of ``cycles`` and ``energy_pj`` on ``pes`` PEs at ``clock_mhz``."""
    latency_us = cycles / clock_mhz
    return {"latency_us": latency_us, "energy_uj": energy_pj * 1e-6, "area_mm2": area_mm2,
            "power_w": energy_pj / latency_us * 1e-6 if latency_us > 0 else 0.0,
            "edp_uj_us": energy_pj * 1e-6 * latency_us, "total_cycles": float(cycles),
            "utilization": macs / (cycles * pes) if cycles else 0.0}
