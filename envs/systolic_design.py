"""Fast evaluation of one systolic-accelerator design on a fixed network (the AcceleratorDesign fast path).

A design is ``rows``, ``cols``, ``ifmap_kib`` / ``filter_kib`` / ``ofmap_kib`` (SRAM partitions),
``dram_gbyte_per_s``, ``dataflow`` (os | ws | is) and ``clock_mhz``. ``design_accelerator`` turns it
into a real ``Accelerator`` built from a base preset (energies, latencies, word size, technology):
DRAM bandwidth in bytes per cycle is ``dram_gbyte_per_s * 1000 / clock_mhz``; areas come from the area
model (``simulator.specs.area``), linear in SRAM capacity. ``SystolicDesignModel.evaluate`` gives exactly what
``acceldse.simulate(network, design_accelerator(...), dataflow)`` totals give (a test holds them
equal), without building a DataFrame: the kernel cases of every (layer, dataflow) are built once
and only the columns the knobs change are rewritten per design.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from acceldse.dataflows.dataflow import DATAFLOWS
from acceldse.simulator.specs.accelerator import Accelerator, check_fits
from acceldse.simulator.systolic.kernels import CASE_FIELDS, OUT_FIELDS, evaluate_cases_paced, evaluate_cases_runs
from acceldse.simulator.systolic.model import build_case, energy_pj_array, operand_bytes
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

_COL = {name: CASE_FIELDS.index(name) for name in ("rows", "cols", "in_cap_bytes", "w_cap_bytes", "out_cap_bytes",
                                                     "dram_latency_cycles")}
_TOTAL = OUT_FIELDS.index("total_cycles")
_FOLDS = OUT_FIELDS.index("folds")


def design_accelerator(base: Accelerator, design: dict[str, Any]) -> Accelerator:
    """The ``Accelerator`` of a design (see module docstring); ``check_fits`` raises ``SpecError`` if the
    SRAM cannot feed the array."""
    kib = {op: int(design[f"{op}_kib"]) * 1024 for op in ("ifmap", "filter", "ofmap")}
    sram = base.sram
    capacity = sum(kib.values())
    clock = float(design["clock_mhz"])
    bw = float(design["dram_gbyte_per_s"]) * 1e3 / clock
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
    acc = replace(base, name=name, clock_mhz=clock, tiers=tuple(tiers), cores=1, dataflow=str(design["dataflow"]),
                  array=replace(base.array, rows=int(design["rows"]), cols=int(design["cols"])),
                  source=f"design of {base.name}")
    check_fits(acc)
    return acc


class SystolicDesignModel:
    """The analytical model of one network on many designs (cases built once per dataflow)."""

    def __init__(self, network: Network, base: Accelerator) -> None:
        self.network = network
        self.base = base
        mac = [layer for layer in network.layers if layer.has_weights]
        vec = [layer for layer in network.layers if not layer.has_weights]
        self.cases = {name: np.stack([build_case(layer, DATAFLOWS[name], base) for layer in mac])
                      if mac else np.zeros((0, len(CASE_FIELDS)), dtype=np.int64) for name in ("os", "ws", "is")}
        ob = partial(operand_bytes, acc=base)
        self.mac_elem = np.array([[ob(x.input_bits), ob(x.weight_bits), ob(x.output_bits)]
                                  for x in mac], dtype=np.int64).reshape(-1, 3)
        self.mac_macs = np.array([x.macs for x in mac], dtype=np.int64)
        self.vec_ops = np.array([x.ops for x in vec], dtype=np.int64)
        self.vec_read = np.array([x.input_elems * ob(x.input_bits) for x in vec], dtype=np.float64)
        self.vec_write = np.array([x.output_elems * ob(x.output_bits) for x in vec], dtype=np.float64)
        self.vec_elems = np.array([[x.input_elems, x.output_elems] for x in vec], dtype=np.int64).reshape(-1, 2)
        self.vec_elem = np.array([[ob(x.input_bits), 1, ob(x.output_bits)] for x in vec],
                                 dtype=np.int64).reshape(-1, 3)
        self.macs = int(sum(x.macs for x in network.layers))
        self.elem = np.concatenate([self.mac_elem, self.vec_elem])
        self.layer_macs = np.concatenate([self.mac_macs, np.zeros(len(vec), dtype=np.int64)])
        # energy is linear in the counts: pJ per unit of every OUT_FIELDS column of every layer
        n = len(self.elem)
        self.energy_per_count = np.stack([energy_pj_array(np.eye(len(OUT_FIELDS))[[j] * n], self.elem, np.zeros(n),
                                                          base) for j in range(len(OUT_FIELDS))], axis=1)
        self.mac_energy_pj = float(energy_pj_array(np.zeros((n, len(OUT_FIELDS))), self.elem, self.layer_macs,
                                                   base).sum())
        self.latency_cycles = base.dram.latency_cycles
        tech = base.technology_nm
        self.pe_area_mm2 = base.array.area_mm2(8 * base.word_bytes, tech) / base.array.pes
        self.sram_mm2_per_byte = base.sram.area_at(tech) / base.sram.capacity_bytes
        self.other_area_mm2 = sum(t.area_at(tech) for t in base.tiers if t is not base.sram) + 0.0

    def counts(self, design: dict[str, Any]) -> np.ndarray:
        """``OUT_FIELDS`` rows of every layer (MAC layers first, then the vector layers)."""
        cases = self.cases[str(design["dataflow"])].copy()
        cols = int(design["cols"])
        cases[:, _COL["rows"]] = int(design["rows"])
        cases[:, _COL["cols"]] = cols
        cases[:, _COL["in_cap_bytes"]] = int(design["ifmap_kib"]) * 512  # half of the KiB: double buffered
        cases[:, _COL["w_cap_bytes"]] = int(design["filter_kib"]) * 512
        cases[:, _COL["out_cap_bytes"]] = int(design["ofmap_kib"]) * 512
        bw = float(design["dram_gbyte_per_s"]) * 1e3 / float(design["clock_mhz"])
        out = np.zeros((cases.shape[0] + self.vec_ops.size, len(OUT_FIELDS)))
        if cases.shape[0]:
            evaluate_cases_runs(cases, bw, bw, out[: cases.shape[0]])
            self._retime(out[: cases.shape[0]], cases, bw)
        vec = out[cases.shape[0]:]
        compute = -(-self.vec_ops // cols)
        vec[:, 0] = compute
        vec[:, _TOTAL] = np.maximum(compute, np.ceil(self.vec_read / bw) + np.ceil(self.vec_write / bw)) \
            + 2 * self.latency_cycles
        vec[:, 4] = vec[:, 8] = self.vec_elems[:, 0]   # ifmap read from SRAM and DRAM
        vec[:, 6] = vec[:, 10] = self.vec_elems[:, 1]  # ofmap written to SRAM and DRAM
        return out

    def _retime(self, out: np.ndarray, cases: np.ndarray, bw: float) -> None:
        """The SRAM tier's latency on every MAC layer; a layer whose folds the SRAM cannot feed at the
        array's pace takes ``sram_fold_cycles`` per fold (as ``timed_counts`` on one core), its total
        retimed by ``evaluate_cases_paced``."""
        sram = self.base.sram
        folds = np.maximum(out[:, _FOLDS], 1)
        per_fold = out[:, 0] / folds
        read = (out[:, 4] * self.mac_elem[:, 0] + out[:, 5] * self.mac_elem[:, 1] + out[:, 7] * self.mac_elem[:, 2])
        write = out[:, 6] * self.mac_elem[:, 2]
        sram_fold = np.maximum(per_fold, np.maximum(np.ceil(read / folds / sram.read_bw_bytes_per_cycle),
                                                    np.ceil(write / folds / sram.write_bw_bytes_per_cycle)))
        slow = np.flatnonzero(sram_fold > per_fold)
        if slow.size:
            paced = np.zeros((slow.size, len(OUT_FIELDS)))
            evaluate_cases_paced(np.ascontiguousarray(cases[slow]), sram_fold[slow].astype(np.int64), bw, bw, paced)
            out[slow, _TOTAL] = paced[:, _TOTAL]
        out[:, _TOTAL] += sram.latency_cycles

    def evaluate(self, design: dict[str, Any]) -> dict[str, float]:
        """Metrics of a design: latency_us, energy_uj, area_mm2, power_w, edp_uj_us, total_cycles, utilization
        (what ``design_accelerator`` simulated gives, without building it: energies are the base's)."""
        out = self.counts(design)
        energy_pj = float((out * self.energy_per_count).sum()) + self.mac_energy_pj
        cycles = int(out[:, _TOTAL].sum())
        pes = int(design["rows"]) * int(design["cols"])
        sram_bytes = (int(design["ifmap_kib"]) + int(design["filter_kib"]) + int(design["ofmap_kib"])) * 1024
        area = pes * self.pe_area_mm2 + self.sram_mm2_per_byte * sram_bytes + self.other_area_mm2
        return metrics_of(cycles, energy_pj, float(design["clock_mhz"]), pes, area, self.macs)


def metrics_of(cycles: int, energy_pj: float, clock_mhz: float, pes: int, area_mm2: float, macs: int
               ) -> dict[str, float]:
    """The env metrics of a network run of ``cycles`` and ``energy_pj`` on ``pes`` PEs at ``clock_mhz``."""
    latency_us = cycles / clock_mhz
    return {"latency_us": latency_us, "energy_uj": energy_pj * 1e-6, "area_mm2": area_mm2,
            "power_w": energy_pj / latency_us * 1e-6 if latency_us > 0 else 0.0,
            "edp_uj_us": energy_pj * 1e-6 * latency_us, "total_cycles": float(cycles),
            "utilization": macs / (cycles * pes) if cycles else 0.0}
