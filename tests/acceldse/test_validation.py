"""`acceldse validate`: every published figure recomputed; docs/validation.md is exactly what it prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from acceldse.cli import main
from acceldse.validation import CATEGORIES, Measured, Row, fmt_value, markdown, published, summary, validate
from acceldse.workloads.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "validation.md"
BEGIN = "<!-- acceldse validate --format markdown: begin -->\n"
END = "<!-- acceldse validate --format markdown: end -->"


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    # every row computed by this code in this session: by this process, or by the validation notebook's kernel
    # (tests/test_notebooks.py, at the same time on the other worker), which shares the session's store
    # (tests/conftest.py); each source is computed by whichever of the two takes it first, never by both
    return validate(reuse=True)


@pytest.mark.slow
def test_docs_table_is_what_validate_prints(rows: list[Row]) -> None:
    text = DOC.read_text()
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    assert block == markdown(rows), ("docs/validation.md is stale: replace its table block with "
                                     "`acceldse validate --format markdown`")
    summary_lines = [line for line in block.splitlines() if line.startswith("- **")]
    readme = (ROOT / "README.md").read_text()
    assert len(summary_lines) == 2 and all(line in readme for line in summary_lines), "README summary is stale"
    # every error the README's paragraph under the summary quotes is a row's, as rounded there (signed if signed)
    quoted = readme[readme.index(summary_lines[-1]) + len(summary_lines[-1]):readme.index("## Speed")]
    found = re.findall(r"([+−]?)(\d+(?:\.\d+)?)(?= %| to [+−]?\d+(?:\.\d+)? %)", quoted)
    assert len(found) >= 6
    for sign, number in found:
        digits = len(number.partition(".")[2])
        errors = {round(r.error_pct if sign else abs(r.error_pct), digits) for r in rows}
        assert (-1 if sign == "−" else 1) * float(number) in errors, f"README quotes {sign}{number} %: no row has it"


@pytest.mark.slow
def test_every_published_figure_has_a_value_a_command_and_an_error(rows: list[Row]) -> None:
    assert [r.id for r in rows] == [e["id"] for e in published()]
    assert {r.category for r in rows} == set(CATEGORIES)
    sources = {r.source.split(",")[0] for r in rows if r.category == "silicon"}
    assert {"Eyeriss v1", "TPU v1", "Gemmini RTL on FPGA (luffca.com 2022)"} <= sources
    assert any(source.startswith("FINN on a") for source in sources)  # FPGA boards measured by the FINN team
    for r in rows:
        assert r.command and r.acceldse == r.acceldse and r.acceldse >= 0
        if isinstance(r.published, tuple):
            low, high = r.published
            assert (r.error_pct == 0) == (low <= r.acceldse <= high)
        else:
            assert r.error_pct == pytest.approx((r.acceldse - r.published) / r.published * 100)
    stats = summary(rows)
    assert stats["silicon"]["rows"] >= 30 and stats["paper"]["rows"] >= 10


@pytest.mark.slow
def test_reproductions_that_are_exact_stay_exact(rows: list[Row]) -> None:
    by_id = {r.id: r for r in rows}
    for key in ("scalesim.resnet18.os_cycles", "scalesim.resnet18.ws_cycles", "scalesim.resnet18.is_cycles",
                "scalesim.gemm_2to4.ws_cycles", "scalesim.gemm_dense.ws_cycles",
                "sdpa.naive.fifo_depth", "sdpa.reordered.fifo_depth", "sn40l.switch_s"):
        assert by_id[key].error_pct == 0, key
    # Eyeriss: the processing time of CONV1-5 and the busy PEs of CONV3-5 agree within a few percent
    assert abs(by_id["eyeriss.alexnet.processing_ms"].error_pct) < 5
    for layer in ("conv3", "conv4", "conv5"):
        assert by_id[f"eyeriss.alexnet.{layer}.active_pes"].error_pct == 0
    # the chip's scratchpads cannot be bypassed: the searched mappings' buffer traffic stays near the chip's (it was
    # 13x when the search could reduce psums across a PE column straight into the buffer)
    assert abs(by_id["eyeriss.alexnet.glb_mb"].error_pct) < 50


@pytest.mark.slow
def test_mechanism_variants_move_their_rows_the_way_the_mechanism_does(rows: list[Row]) -> None:
    """Eyeriss's RLC and zero gating on the same mappings only remove DRAM words and energy (CONV1's input is
    the uncompressed image: no gating there), its DRAM link only adds time; TPU v1 with its activations held
    on chip is never slower."""
    by_id = {r.id: r.acceldse for r in rows}
    for n in range(1, 6):
        dense, sparse = f"eyeriss.alexnet.conv{n}", f"eyeriss.alexnet.sparse.conv{n}"
        assert by_id[f"{sparse}.dram_mb"] < by_id[f"{dense}.dram_mb"]
        assert by_id[f"{sparse}.power_mw"] <= by_id[f"{dense}.power_mw"]
        assert by_id[f"{sparse}.total_ms"] > by_id[f"{dense}.processing_ms"]  # the link only adds time
    assert by_id["eyeriss.alexnet.sparse.conv1.power_mw"] == pytest.approx(  # nothing to gate (the sums' order
        by_id["eyeriss.alexnet.conv1.power_mw"], rel=1e-12)                   # differs: the last digit may)
    for n in (3, 4, 5):  # the chip's measured ifmap zeros (72-79 %) exceed Cnvlutin's 44 %: less to move
        assert by_id[f"eyeriss.alexnet.paper.sparse.measured.conv{n}.dram_mb"] < \
            by_id[f"eyeriss.alexnet.paper.sparse.conv{n}.dram_mb"] < by_id[f"eyeriss.alexnet.paper.conv{n}.dram_mb"]
    assert by_id["eyeriss.vgg16.sparse.frames_per_s"] < by_id["eyeriss.vgg16.frames_per_s"]
    for app in ("mlp0", "mlp1", "lstm0", "lstm1", "cnn0"):
        assert by_id[f"tpu_v1.resident.{app}.tops"] >= by_id[f"tpu_v1.{app}.tops"]
    for batch in (200, 250):  # the host's PCIe time (Table 5) only adds time
        assert by_id[f"tpu_v1.mlp0.batch{batch}.host.ips"] < by_id[f"tpu_v1.mlp0.batch{batch}.ips"]
    # FINN's pipeline: a larger batch amortises the fill, never the other way round
    assert by_id["finn.tfc_w1a1.batch10000.fps"] > by_id["finn.tfc_w1a1.fps"]


@pytest.mark.slow
def test_cli_json_carries_every_field(rows: list[Row], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--category", "paper", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == sum(r.category == "paper" for r in rows)
    for row in out["rows"]:
        assert {"category", "source", "quantity", "published", "acceldse", "error_pct", "command"} <= set(row)
        assert row["category"] == "paper"
    assert main(["validate", "--category", "silicon", "--format", "csv", "--reuse"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split(",") == ["id", "published", "acceldse", "unit", "error_pct"]
    assert len(lines) == 1 + sum(r.category == "silicon" for r in rows)


@pytest.mark.slow
def test_seed_papers_are_all_in_the_table(rows: list[Row]) -> None:
    by_id = {r.id: r for r in rows}
    for source in ("scalesim", "sdpa", "sn40l", "fusemax", "swat", "mixed_td", "draco", "memory_wall", "nasaic",
                   "archgym", "marl_dse"):
        assert any(key.startswith(f"{source}.") for key in by_id), source
    # NASAIC's direction: successive search ends with higher latency and energy than co-exploration
    assert by_id["nasaic.latency_reduction_pct"].acceldse > 0 and by_id["nasaic.energy_ratio"].acceldse > 1


@pytest.mark.slow
def test_reuse_reads_what_this_code_computed(rows: list[Row], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import acceldse.validation as validation

    monkeypatch.setenv("ACCELDSE_CACHE_DIR", str(tmp_path))
    computed = dict(validation._MEASURED)
    altered = {name: {k: Measured(m.value + 1, m.command) for k, m in got.items()} for name, got in computed.items()}
    validation._store(altered)
    assert [p.name for p in tmp_path.iterdir()] == [f"validation-{validation._source_key()}.json"]
    monkeypatch.setattr(validation, "_MEASURED", {})
    reused = {r.id: r.acceldse for r in validate(reuse=True)}
    assert reused == {r.id: r.acceldse + 1 for r in rows}  # read back, not recomputed
    (tmp_path / f"validation-{validation._source_key()}.json").write_text("{not json")
    assert validation._stored() == {}  # a damaged file is ignored (recomputed), never trusted


def test_gemmini_counters_time_the_layers_the_test_program_does() -> None:
    """gemmini-rocc-tests' imagenet/resnet50.c runs 34 layers as matmuls (conv 2, 4-6, 8, 9, ...; fc 54) and 20 as
    convolutions (conv 1, 3, 7, 10, 13, 15, 17, ...: the 7x7, the 3x3s and the three strided 1x1s)."""
    from acceldse.validation.silicon import gemmini_category
    from acceldse.workloads.zoo.resnet import resnet50

    kinds = [gemmini_category(layer) for layer in resnet50(batch=4) if layer.op in ("conv", "gemm")]
    assert (kinds.count("matmul"), kinds.count("conv"), len(kinds)) == (34, 20, 54)


@pytest.mark.slow  # the cost kernel's first load; ~0.6 s once the suite has it
def test_eyeriss_paper_passes_fetch_each_weight_once_where_the_set_spans_the_ofmap() -> None:
    """Under the paper's pass structure CONV3-5's PE sets span all 13 ofmap rows and a pass slides over every
    column and its n images, so a weight leaves DRAM once per group of n images, never once per ofmap row (a
    search free to bypass the scratchpads re-read CONV4's 13x); the pass fits the chip's stated scratchpads and
    buffer (the cost model refuses a mapping that does not)."""
    from dataclasses import replace

    from acceldse.validation.silicon import alexnet_eyeriss, eyeriss_paper_layer, eyeriss_paper_mapping

    for layer in list(alexnet_eyeriss())[2:]:
        got = eyeriss_paper_layer(replace(layer, name="layer"))
        dram = got.cost.counts.set_index(["level", "dataspace"])
        groups = got.mapping.levels[0].temporal["N"]  # batch / n
        assert dram.loc[("DRAM", "weights"), "reads"] == groups * layer.G * layer.K * layer.C * layer.R * layer.S
        assert groups <= 2
        assert got.cost.utilised_pes == 156  # four 3x13 PE sets, as Table V reports
    with pytest.raises(ValueError, match="must divide"):
        eyeriss_paper_mapping(list(alexnet_eyeriss())[3], 3, 48)


def test_eyeriss_scratchpads_and_buffer_are_never_bypassed() -> None:
    """Eyeriss v1 has no path around its global buffer (DRAM <-> buffer <-> NoC <-> PEs) nor around a PE's three
    scratchpads (its MAC reads and accumulates only there): no search on the preset may bypass a level."""
    from acceldse.mapper.space import MappingSpace
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.validation.silicon import alexnet_eyeriss

    hierarchy = load_hierarchy("eyeriss-v1")
    assert all(lv.always_keeps == lv.keeps for lv in hierarchy.levels[1:])  # DRAM, the root, holds everything
    for dataflow in ("rs", None):
        assert not MappingSpace(list(alexnet_eyeriss())[2], hierarchy, dataflow).bypassable.any()


def test_eyeriss_workloads_do_the_macs_the_chip_counted() -> None:
    """Tables V and VI count each layer's MACs: AlexNet (batch 4) 0.42 / 0.90 / 0.60 / 0.45 / 0.30 G, VGG-16 (batch
    3) 46.04 G in all; our networks (grouped CONV2/4/5, 227x227 input; VGG-16 at 224x224) do the same work."""
    from acceldse.validation.silicon import alexnet_eyeriss, vgg16_eyeriss

    alexnet = [layer.macs / 1e9 for layer in alexnet_eyeriss()]
    assert alexnet == pytest.approx([0.42, 0.90, 0.60, 0.45, 0.30], abs=0.006)
    assert sum(layer.macs for layer in vgg16_eyeriss()) / 1e9 == pytest.approx(46.04, abs=0.01)


def test_finn_folding_gives_finns_own_cycle_count() -> None:
    """Each FINN MVTU takes (MH / PE) * (MW / SIMD) cycles per output pixel (FINN's get_exp_cycles), the slowest
    stage sets the interval: CNV-w1a1's FC layers 512 x 256 / 4 = 512 x 512 / 8 = 32,768 cycles, TFC-w1a1's first
    three layers 64 cycles; pooling and thresholds (run on whole pixels / PE outputs) are never the bottleneck."""
    from acceldse.validation.finn import FINN_MVTU, finn_design, finn_network

    for name, interval in (("cnv_w1a1", 32_768), ("tfc_w1a1", 64)):
        stages = finn_design(name, 1).stages.set_index("layer").cycles
        network = finn_network(name)
        for layer_name, (pe, simd) in FINN_MVTU[name].items():
            layer = network[layer_name]
            rows, cols = layer.K, layer.C * layer.R * layer.S  # the MVTU's matrix: MH x MW
            assert stages[layer_name] == rows // pe * (cols // simd) * layer.P * layer.Q, layer_name
        assert stages.max() == interval
        assert set(stages[stages == interval].index) <= set(FINN_MVTU[name])
    with pytest.raises(ValueError, match="unknown FINN example"):
        finn_network("lfc_w1a1")


def test_a_direction_only_claim_is_an_open_range() -> None:
    entry = published("version: 1\nrows:\n  - " + ROW.replace("published: 1", "published: [1, null]"))[0]
    row = Row(**entry, acceldse=0.5, command="c")
    assert row.published == (1.0, float("inf")) and row.error_pct == -50.0
    assert Row(**entry, acceldse=7.0, command="c").error_pct == 0
    assert fmt_value(row.published) == "≥ 1.000" and row.to_dict()["published"] == [1.0, None]


def test_unknown_category_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--category", "fpga"])
    assert exc.value.code == 2
    with pytest.raises(SpecError, match="category"):
        validate("fpga")


ROW = "{id: a, category: paper, source: s, quantity: q, conditions: c, published: 1, unit: x}"


@pytest.mark.parametrize(("text", "match"), [
    ("version: 1\nrows:\n  - " + ROW.replace("published: 1", "published: -1"), "published"),
    ("version: 1\nrows:\n  - " + ROW.replace("published: 1", "published: [3, 1]"), "low <= high"),
    ("version: 1\nrows:\n  - " + ROW.replace("published: 1", "published: [null, 1]"), "published"),
    ("version: 1\nrows:\n  - " + ROW.replace("unit: x", "unit: x, extra: 1"), "unknown key"),
    ("version: 1\nrows:\n  - " + ROW.replace("id: a,", "id: a, id: b,"), "duplicate key"),
    ("version: 1\nrows:\n  - " + ROW + "\n  - " + ROW, "unique id"),
    ("version: 1\nrows:\n  - " + ROW.replace("paper", "gpu"), "category"),
    ("version: 1\nrows: 3\n", "list of mappings"),
    ("version: 2\nrows: []\n", "version"),
])
def test_malformed_published_figures_are_refused(text: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        published(text, source="figures.yaml")
