"""One trace writer under every event-level model: each model's trace is valid Chrome trace JSON and its
spans are the engine's busy intervals (the invariant), to the cycle."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acceldse.dataflows.dataflow import resolve_dataflows
from acceldse.simulator.event import event_run
from acceldse.simulator.event.jobs import mac_jobs
from acceldse.simulator.event.system import _build, simulate_system
from acceldse.simulator.fpga.pipeline_sim import add_pipeline, simulate_pipeline
from acceldse.simulator.fpga.stage import Folding, stage_cost
from acceldse.simulator.specs.presets import load_hardware
from acceldse.simulator.streaming import run_graph
from acceldse.simulator.streaming.compiled import lower
from acceldse.simulator.streaming.net import Net, NetRun
from acceldse.simulator.streaming.sdpa import build_sdpa
from acceldse.simulator.streaming.trace import Trace, Track
from acceldse.workloads.loader import load_workload
from acceldse.workloads.zoo.small import lenet, residual_block

Spans = dict[tuple[str, str], list[tuple[float, float]]]


def _chrome(trace: dict[str, Any]) -> Spans:
    """Check the Chrome trace format (what Perfetto and chrome://tracing read); the spans in cycles
    per (process, track)."""
    data = json.loads(json.dumps(trace))
    clock = data["otherData"]["clock_mhz"]
    assert data["otherData"]["time_unit"] == "us" and clock > 0
    events = data["traceEvents"]
    assert {e["ph"] for e in events} <= {"M", "X", "C"}
    process = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    thread = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert len(set(thread.values())) >= 1 and len(thread) == len({(process[p], n) for (p, _), n in thread.items()})
    spans: Spans = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            assert isinstance(e["name"], str) and e["name"] and isinstance(e["cat"], str)
            assert e["ts"] >= 0 and e["dur"] > 0 and e["args"]["firings"] >= 1
            assert e["ts"] * clock == pytest.approx(e["args"]["start_cycles"], rel=1e-12)
            assert (e["ts"] + e["dur"]) * clock == pytest.approx(e["args"]["end_cycles"], rel=1e-12)
            spans[(process[e["pid"]], thread[(e["pid"], e["tid"])])].append(
                (e["args"]["start_cycles"], e["args"]["end_cycles"]))
        elif e["ph"] == "C":
            assert e["pid"] in process and e["ts"] >= 0 and e["args"]["tokens"] >= 0
    assert spans
    return spans


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Intervals of positive length, sorted, those that touch merged."""
    out: list[tuple[float, float]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _same_as_engine(spans: Spans, process: str, run: NetRun, contexts: range | list[int], cut: int = 0) -> int:
    """Every context's track is its busy intervals in the engine's run; returns the spans compared."""
    compared = 0
    for i in contexts:
        busy = _union(list(zip(*(x.tolist() for x in run.busy(i)))))
        assert _union(spans.get((process, run.names[i][cut:]), [])) == busy, run.names[i]
        compared += len(busy)
    return compared


def test_streaming_graph_trace_is_the_engines_busy_intervals(tmp_path: Path) -> None:
    q, k, v = (np.zeros((8, 4)) for _ in range(3))
    graph = build_sdpa("reordered", q, k, v).graph
    path = tmp_path / "sdpa.json"
    run_graph(graph, trace_path=path)
    spans = _chrome(json.loads(path.read_text()))
    run = lower(graph).run(record=True)
    assert _same_as_engine(spans, f"{graph.name} (compiled)", run, range(len(run.names))) > 0


def test_pipeline_trace_is_the_engines_busy_intervals() -> None:
    net = residual_block()
    sim = simulate_pipeline(net, samples=3, fifo_rows=8, trace=True, clock_mhz=200.0)
    assert sim.trace is not None
    spans = _chrome(sim.trace)
    built = Net(net.name)
    cycles = {ly.name: stage_cost(ly, Folding()).cycles_per_sample for ly in net}
    add_pipeline(built, net, cycles, samples=3, fifo_rows=lambda _e: 8)
    run = built.run(record=True)
    _same_as_engine(spans, f"{net.name} (pipeline)", run, range(len(run.names)))
    for ly in net:  # a stage is busy for its rows: cycles per sample, every sample
        busy = sum(e - s for s, e in spans[(f"{net.name} (pipeline)", ly.name)])
        assert busy == pytest.approx(3 * cycles[ly.name])
    counters = {e["name"] for e in sim.trace["traceEvents"] if e["ph"] == "C"}
    assert counters == {f"{a}->{b}" for a, b in net.edges}


def test_system_trace_is_the_engines_busy_intervals() -> None:
    acc = dataclasses.replace(load_hardware("tpu-hbm-like"), cores=2)
    layer = next(ly for ly in load_workload("bert_base").layers if ly.has_weights)
    flow = resolve_dataflows("os")[0]
    sdpa = build_sdpa("reordered", *(np.zeros((8, 4)) for _ in range(3)))
    run = simulate_system(acc, layer=layer, dataflow=flow, pipeline=lenet(), samples=2, sdpa=sdpa, head_dim=4,
                          trace=True)
    assert run.trace is not None and run.trace["otherData"]["clock_mhz"] == acc.clock_mhz
    spans = _chrome(run.trace)
    net, parts, _ = _build(acc, mac_jobs([layer], [flow], acc, cores=2).folds, lenet(), 2, 64, sdpa, 4, 2, True)
    engine = net.run(record=True)
    for part, (contexts, _) in parts.items():
        assert _same_as_engine(spans, part, engine, contexts, cut=len(part) + 1) > 0
    assert {"dma0", "core0", "dma1", "core1"} <= {t for p, t in spans if p == "systolic"}


def test_event_trace_draws_every_fold_of_every_array() -> None:
    acc = dataclasses.replace(load_hardware("tpu-hbm-like"), cores=2)
    run = event_run(load_workload("scalesim:test_mnk_input"), acc, resolve_dataflows("ws"), trace=True)
    assert run.trace is not None
    spans = _chrome(run.trace)
    by_layer: dict[str, float] = defaultdict(float)
    for e in run.trace["traceEvents"]:
        if e["ph"] == "X" and e["cat"] == "compute":
            by_layer[e["args"]["layer"].split(":", 1)[1]] += e["args"]["end_cycles"] - e["args"]["start_cycles"]
    start = np.concatenate(([0], np.cumsum(run.table["total_cycles"])[:-1]))
    for (layer, busy), begin, row in zip(by_layer.items(), start, run.table.itertuples()):
        assert layer == row.layer and busy >= row.compute_cycles  # the critical array's folds, and the others'
        ends = [e for e in run.trace["traceEvents"] if e["ph"] == "X" and e["args"]["layer"].endswith(layer)]
        assert all(begin <= e["args"]["start_cycles"] and e["args"]["end_cycles"] <= begin + row.total_cycles
                   for e in ends)
    assert {"core0", "core1"} <= {t for _, t in spans}


def test_a_one_cycle_span_is_kept_and_back_to_back_firings_merge() -> None:
    net = Net("tiny")
    ch = net.channel("c", capacity=1)
    net.context("a", 1, ii=1.0, outputs=[(ch, 1)])  # busy one cycle
    net.context("b", 3, ii=[2.0, 2.0, 0.0], inputs=[(ch, [1, 0, 0])])  # two 2-cycle firings back to back
    run = net.run(record=True)
    trace = Trace(1000.0)  # 1 GHz: a cycle is 0.001 us
    trace.add_run(run, channels=[0])
    spans = _chrome(trace.build())
    assert spans[("acceldse", "a")] == [(0.0, 1.0)]
    assert spans[("acceldse", "b")] == [(0.0, 4.0)]
    one = next(e for e in trace.build()["traceEvents"] if e["ph"] == "X" and e["name"] == "a")
    assert one["dur"] == pytest.approx(0.001) and one["args"]["firings"] == 1
    labelled = Trace(1.0)
    labelled.add(Track("t", np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), ["x", "x", "y"]))
    assert [(e["name"], e["args"]["firings"]) for e in labelled.build()["traceEvents"] if e["ph"] == "X"] == [
        ("x", 2), ("y", 1)]


def test_stream_system_cli_writes_the_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from acceldse.cli import main

    path = tmp_path / "system.json"
    argv = ["stream", "system", "--pipeline", "lenet", "--samples", "2", "--seq-len", "8", "--head-dim", "4"]
    assert main([*argv, "--trace", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trace"] == str(path)
    assert {p for p, _ in _chrome(json.loads(path.read_text()))} == {"fpga", "sdpa"}
    assert main([*argv, "--trace", str(tmp_path / "system.txt")]) == 2
    assert "--trace" in capsys.readouterr().err
