"""Figures hold the right content: roofline points under the roofs, Pareto points non-dominated, ..."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import acceldse
from acceldse import plots
from acceldse.cli import main
from acceldse.results import pareto_mask
from acceldse.workloads.errors import SpecError


def brute_front(values: np.ndarray) -> np.ndarray:
    n = len(values)
    return np.array([not any(np.all(values[j] <= values[i]) and np.any(values[j] < values[i])
                             for j in range(n) if j != i) for i in range(n)], dtype=bool)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(2, 3)), elements=st.integers(0, 6).map(float)))
def test_pareto_mask_is_the_non_dominated_set(values: np.ndarray) -> None:
    assert np.array_equal(pareto_mask(values), brute_front(values))


@pytest.mark.parametrize("workload,hardware", [("resnet18", "scalesim-32x32"), ("bert_base", "tpu-v1-like")])
def test_roofline_points_under_both_roofs(workload: str, hardware: str) -> None:
    result = acceldse.simulate(workload, hardware, "all")
    acc = acceldse.load_hardware(hardware)
    peak = 2.0 * acc.array.pes
    bw = max(acc.dram.read_bw_bytes_per_cycle, acc.dram.write_bw_bytes_per_cycle)
    ax = result.plot.roofline()
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(points) == int(((result.layers["macs"] > 0) & (result.layers["dram_bytes"] > 0)).sum())
    x, y = points[:, 0], points[:, 1]
    assert np.all(y <= np.minimum(peak, x * bw) * (1 + 1e-12))
    if workload == "resnet18":  # layers on both sides of the ridge (204.8 ops/byte)
        assert (x < peak / bw).any() and (x > peak / bw).any()
    roof_x, roof_y = ax.lines[0].get_data()
    assert np.allclose(roof_y, np.minimum(peak, np.asarray(roof_x) * bw))


def test_breakdown_bars_sum_to_layer_cycles() -> None:
    result = acceldse.simulate("mobilenet_v1", "array-64x64", "os")
    top, _ = result.plot.breakdown()
    heights = np.array([p.get_height() for p in top.patches]).reshape(2, -1).sum(axis=0)
    assert np.array_equal(heights, result.layers["total_cycles"].to_numpy(dtype=float))


def sweep_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows, cols = np.meshgrid([8, 16, 32, 64], [8, 16, 32, 64])
    frame = pd.DataFrame({"array.rows": np.repeat(rows.ravel(), 3), "array.cols": np.repeat(cols.ravel(), 3)})
    frame["utilization"] = rng.random(len(frame))
    frame["energy_pj"] = rng.integers(1, 30, len(frame)).astype(float)
    frame["total_cycles"] = rng.integers(1, 30, len(frame)).astype(float)
    return frame


def test_pareto_plot_highlights_exactly_the_non_dominated_rows() -> None:
    frame = sweep_frame()
    ax = plots.pareto(frame, "energy_pj", "total_cycles")
    grey, red = ax.collections[0].get_offsets(), ax.collections[1].get_offsets()
    assert len(grey) == len(frame)
    want = frame[brute_front(frame[["energy_pj", "total_cycles"]].to_numpy())]
    assert sorted(map(tuple, np.asarray(red))) == sorted(map(tuple, want[["energy_pj", "total_cycles"]].to_numpy()))


def test_heatmap_cells_are_the_pivot() -> None:
    frame = sweep_frame()
    ax = plots.heatmap(frame, "array.cols", "array.rows", "utilization", "max")
    image = ax.images[0].get_array()
    want = frame.groupby(["array.rows", "array.cols"])["utilization"].max().unstack().to_numpy()
    assert np.array_equal(np.asarray(image), want)


def test_best_so_far_is_the_running_best() -> None:
    frame = pd.DataFrame({"step": list(range(6)) * 2, "agent": ["ga"] * 6 + ["rl"] * 6,
                          "reward": [1, 3, 2, 5, 4, 4, 0, 0, 7, 1, 8, 2]})
    ax = plots.best_so_far(frame, group="agent")
    lines = {line.get_label(): line.get_ydata() for line in ax.lines}
    assert list(lines["ga"]) == [1, 3, 3, 5, 5, 5] and list(lines["rl"]) == [0, 0, 7, 7, 8, 8]


def test_timeline_from_a_streaming_trace(tmp_path: Path) -> None:
    path = tmp_path / "sdpa.json"
    acceldse.run_sdpa("reordered", 8, 4, trace_path=path, values=False)
    events = [e for e in json.loads(path.read_text())["traceEvents"] if e.get("ph") == "X"]
    ax = plots.timeline(path)
    bars = sum(len(c.get_paths()) for c in ax.collections)
    assert bars == len(events)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(dict.fromkeys(
        plots.trace_spans(path)["track"]))


def test_plot_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "roof.svg"
    assert main(["plot", "roofline", "--workload", "resnet18", "--hardware", "scalesim-32x32", "--out", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml") and "roofline" in out.read_text()
    assert main(["plot", "timeline", "--workload", "scalesim:test_mnk_input", "--hardware", "edge-8x8",
                 "--out", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    sweep_frame().to_csv(tmp_path / "s.csv", index=False)
    assert main(["plot", "heatmap", str(tmp_path / "s.csv"), "--x", "array.cols", "--y", "array.rows",
                 "--out", str(tmp_path / "h.png")]) == 0
    assert main(["plot", "roofline", "--out", str(tmp_path / "r.gif")]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["plot", "pareto", str(tmp_path / "s.csv"), "--x", "energy", "--out", str(tmp_path / "p.png")]) == 2
    assert "did you mean energy_pj" in capsys.readouterr().err
    with pytest.raises(SpecError, match="no complete"):
        plots.timeline({"traceEvents": []})
    for trace, words in (({"traceEvents": 5}, "traceEvents must be a list of event objects (got 'int')"),
                         ({"traceEvents": [{"ph": "X", "ts": "x"}]}, "malformed trace event (ValueError")):
        with pytest.raises(SpecError, match=re.escape(words)):  # was an internal error
            plots.timeline(trace)


def test_every_plot_draws_into_the_given_axes_and_returns_it() -> None:
    import matplotlib.pyplot as plt

    plt.close("all")
    frame = sweep_frame()
    result = acceldse.simulate("alexnet", "scalesim-32x32", "os")
    fig, axes = plt.subplots(2, 4)
    drawn = [result.plot.roofline(ax=axes[0, 0]), plots.pareto(frame, "energy_pj", "total_cycles", ax=axes[0, 1]),
             plots.heatmap(frame, "array.cols", "array.rows", ax=axes[0, 2]),
             plots.best_so_far(frame.assign(step=range(len(frame)), reward=frame.utilization), ax=axes[0, 3]),
             result.plot.breakdown(what="cycles", ax=axes[1, 0])]
    assert all(a is b for a, b in zip(drawn, axes.flat))
    assert len(plt.get_fignums()) == 1  # nothing drew a figure of its own
    log = plots.pareto(frame, "energy_pj", "total_cycles", logx=True, logy=True, figsize=(3, 2))
    assert (log.get_xscale(), log.get_yscale()) == ("log", "log")
    assert tuple(log.figure.get_size_inches()) == (3, 2)
    plt.close("all")


def test_no_backend_switch_and_plots_at_once() -> None:
    # the user's choice (here: svg, no MPLBACKEND) stands; acceldse.plots is there without importing it
    code = ("import matplotlib; matplotlib.use('svg'); import acceldse; "
            "acceldse.plots.pareto; acceldse.simulate('alexnet').plot.roofline(); "
            "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend(); print('ok')")
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(Path(acceldse.__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_roofline_draws_a_ridge_per_core_count() -> None:
    result = acceldse.simulate("bert_base", "tpu-hbm-like", "ws", seq_len=512)
    acc = acceldse.load_hardware("tpu-hbm-like")
    bw = acc.dram.read_bw_bytes_per_cycle
    chip = 2.0 * acc.array.pes * acc.cores / bw
    assert plots.ridges(result) == pytest.approx({acc.cores: chip, 1: chip / acc.cores})
    ax = result.plot.roofline()
    vertical = sorted(line.get_xdata()[0] for line in ax.lines if len(set(line.get_xdata())) == 1)
    assert vertical == pytest.approx(sorted([chip, chip / acc.cores]))
    labels = [t.get_text() for t in ax.texts if t.get_text().startswith("ridge")]
    assert len(labels) == 2 and any("4 cores" in t for t in labels) and any("1 core:" in t for t in labels)


def test_breakdown_names_the_dataflow_when_several() -> None:
    result = acceldse.simulate("alexnet", "scalesim-32x32", "all")
    with pytest.raises(SpecError, match="several dataflows.*os | ws | is"):
        result.plot.breakdown()
    top, bottom = result.plot.breakdown("ws")
    assert "ws" in top.get_title()


def test_pareto_fronts_are_per_workload() -> None:
    frame = pd.DataFrame({"workload": ["a", "a", "b", "b"], "x": [1.0, 2.0, 10.0, 20.0], "y": [2.0, 1.0, 20.0, 10.0]})
    ax = plots.pareto(frame, "x", "y")
    fronts = {c.get_label(): len(c.get_offsets()) for c in ax.collections[1:]}
    assert fronts == {"a (2)": 2, "b (2)": 2}  # one front over both would drop b's points entirely
    assert len(plots.pareto(frame, "x", "y", by=None).collections[1].get_offsets()) == 2
    assert acceldse.pareto_front(frame, "x").equals(acceldse.pareto_front(frame, ["x"]))  # a name, not letters
    with pytest.raises(SpecError, match="frame: not a table"):
        acceldse.pareto_front(frame.to_dict(), ["x", "y"])


def test_event_timeline_from_simulate_in_real_units_with_every_span() -> None:
    result = acceldse.simulate("alexnet", "tpu-hbm-like", fidelity="event", trace=True)
    spans = plots.trace_spans(result.extra["trace"])
    ax = result.plot.timeline(unit="cycles")
    shown = spans[spans.track.isin(spans.track.unique()[:40])]
    widths = np.concatenate([[np.ptp(p.vertices[:, 0]) for p in c.get_paths()] for c in ax.collections])
    assert len(widths) == len(shown)
    clock = result.extra["trace"]["otherData"]["clock_mhz"]
    extent = ((spans.start + spans.duration).max() - spans.start.min()) * clock
    assert (shown.duration * clock < extent / 1000).any()  # spans too short to see at their true width ...
    assert (widths >= extent / 1000 * (1 - 1e-9)).all()  # ... are drawn visible
    assert ax.get_xlabel() == "time (cycles)"
    assert "MHz" in result.plot.timeline().get_xlabel()
    with pytest.raises(SpecError, match="event fidelity"):
        acceldse.simulate("alexnet", "tpu-hbm-like", trace=True)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_compare_curves_symlog_and_target() -> None:
    runs = pd.DataFrame({"agent": ["a", "a", "b"], "curve": [[-500.0, -3.0, 0.0], [-400.0, -1.0, -0.5],
                                                              [-900.0, -50.0, -2.0]]})
    ax = plots.compare_curves(runs)
    assert ax.get_yscale() == "symlog"
    assert any(line.get_label().startswith("target") and set(line.get_ydata()) == {0.0} for line in ax.lines)
    clipped = plots.compare_curves(runs, yscale="linear")
    assert clipped.get_ylim()[0] > -100  # the first guesses (-900) do not squash the range
    # median and quartiles over runs; a run is NaN until its first feasible design
    nan = pd.DataFrame({"agent": ["a"] * 3, "curve": [[np.nan, -2.0, -1.0], [np.nan, np.nan, -3.0],
                                                      [-4.0, -4.0, 0.0]]})
    med = plots.compare_curves(nan, target=None).lines[0].get_ydata()
    assert list(med) == [-4.0, -3.0, -1.0]


def test_layers_at_one_point_share_one_label() -> None:
    result = acceldse.simulate("bert_base", "tpu-hbm-like", "ws", seq_len=512)
    ax = result.plot.roofline(label_top=8)
    texts = [t.get_text() for t in ax.texts if not t.get_text().startswith("ridge")]
    assert "encoder.0.attn.q, k, v, proj" in texts  # four identical GEMMs, one label (not four overprinted)
    decode = acceldse.simulate("gpt2_decode", "tpu-hbm-like", "ws").plot.roofline(label_top=4)
    assert any(t.get_text().endswith("more)") for t in decode.texts)  # several blocks: counted, not listed
    assert len(texts) == len({(round(t.xy[0], 6), round(t.xy[1], 6)) for t in ax.texts
                              if not t.get_text().startswith("ridge")})


def test_plot_cli_takes_workload_params_and_log_axes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from unittest import mock

    seen: list[dict[str, object]] = []
    real = acceldse.simulate

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with mock.patch("acceldse.api.simulate", spy):
        assert main(["plot", "roofline", "--workload", "bert_base", "--param", "seq_len=64", "--hardware",
                     "tpu-hbm-like", "--out", str(tmp_path / "r.svg")]) == 0
    assert seen[0]["seq_len"] == 64
    assert main(["plot", "roofline", "--workload", "bert_base", "--param", "seq_len=0", "--out",
                 str(tmp_path / "r.svg")]) == 2
    assert "seq_len" in capsys.readouterr().err
    sweep_frame().to_csv(tmp_path / "s.csv", index=False)
    assert main(["plot", "pareto", str(tmp_path / "s.csv"), "--x", "energy_pj", "--y", "total_cycles", "--logx",
                 "--logy", "--by", "none", "--out", str(tmp_path / "p.svg")]) == 0
    assert (tmp_path / "p.svg").is_file()
