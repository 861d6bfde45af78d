"""The Python API refuses wrong types and oversize work with one SpecError naming the argument, as the CLI does."""

from __future__ import annotations

import pytest

import acceldse
from acceldse.workloads.errors import SpecError


@pytest.mark.parametrize(("dataflow", "words"), [
    (5, "must be a name or a list"), ([], "must be a name or a list"), ("os,os", "os is given twice"),
    (["ws", "WS"], "ws is given twice"), (["os", 3], "unknown dataflow"),
])
def test_dataflow_of_a_wrong_type_or_twice_is_refused(dataflow: object, words: str) -> None:
    with pytest.raises(SpecError, match=words) as err:
        acceldse.simulate("alexnet", dataflow=dataflow)  # type: ignore[arg-type]
    assert str(err.value).startswith("dataflow:")


def test_map_budget_above_the_limit_is_refused_up_front() -> None:
    """acceldse.map(budget=10**12) would search for hours; like `map --max-budget`, it is refused before any work."""
    with pytest.raises(SpecError, match=r"budget too large: 1,000,000,000,000 > the limit 100,000,000"):
        acceldse.map("resnet18", layer="conv1", budget=10**12)
    with pytest.raises(SpecError, match="the limit 10 "):
        acceldse.map("resnet18", layer="conv1", budget=11, max_budget=10)


def test_trace_must_be_a_bool() -> None:
    with pytest.raises(SpecError, match="trace: must be True or False"):
        acceldse.simulate("alexnet", fidelity="event", trace="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [
    lambda seed: acceldse.map("alexnet", "eyeriss_like", layer="conv1", budget=10, seed=seed),
    lambda seed: acceldse.search_fused(acceldse.attention_cascade("1pass", seq_len=1024, batch=1), budget=10,
                                       seed=seed),
    lambda seed: acceldse.optimise_fpga("lenet", "zc706", seed=seed),  # a workload name is taken, as by every command
])
@pytest.mark.parametrize("seed", [-1, 2**32])
def test_a_seed_outside_32_bits_is_one_line(call, seed: int) -> None:
    """NumPy refuses a negative or 33-bit seed with a bare ValueError deep in a search; the API names the seed."""
    with pytest.raises(SpecError, match=r"seed: seed out of range .* expected an integer in \[0, 4,294,967,295\]"):
        call(seed)
