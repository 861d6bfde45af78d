"""Fuzzed loaders: whatever the bytes, the CSV and ONNX loaders return a Network or raise SpecError."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import onnx
import onnx_graphs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network
from acceldse.workloads.onnx_import import load_onnx
from acceldse.workloads.scalesim_csv import load_scalesim_csv

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_csv(data: bytes, gemm: bool | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topo.csv"
        path.write_bytes(data)
        try:
            net = load_scalesim_csv(path, gemm=gemm)
        except SpecError as exc:
            assert str(path) in str(exc)
            return
        assert isinstance(net, Network) and len(net) >= 1
        assert all(layer.macs >= 1 for layer in net)


@FUZZ
@given(st.binary(max_size=400))
def test_csv_random_bytes(data: bytes) -> None:
    _load_csv(data)


@FUZZ
@given(st.text(max_size=300), st.sampled_from([None, True, False]))
def test_csv_random_text(text: str, gemm: bool | None) -> None:
    _load_csv(text.encode("utf-8", "surrogatepass"), gemm)


_cell = st.one_of(st.integers(-5, 300).map(str), st.sampled_from(["", " ", "x", "1.5", "-0", "1e3", "DP", "٣", "+4"]))


@FUZZ
@given(st.lists(st.lists(_cell, min_size=0, max_size=11), max_size=6), st.sampled_from(["conv", "gemm", "junk"]),
       st.sampled_from([None, True, False]))
def test_csv_random_rows(rows: list[list[str]], header: str, gemm: bool | None) -> None:
    head = {"conv": "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides",
            "gemm": "Layer,M,N,K,", "junk": "??"}[header]
    body = "\n".join(f"L{i}," + ",".join(row) + "," for i, row in enumerate(rows))
    _load_csv(f"{head}\n{body}\n".encode(), gemm)


def _load_onnx_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        path.write_bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                net = load_onnx(path)
            except SpecError as exc:
                assert str(path) in str(exc)
                return
        assert isinstance(net, Network) and len(net) >= 1


@FUZZ
@given(st.binary(max_size=300))
def test_onnx_random_bytes(data: bytes) -> None:
    _load_onnx_bytes(data)


_SEEDS = [onnx_graphs.resnet_block().SerializeToString(), onnx_graphs.separable_block().SerializeToString(),
          onnx_graphs.attention_block(tokens=8, hidden=16, heads=2).SerializeToString()]


@FUZZ
@given(st.sampled_from(range(len(_SEEDS))), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
       st.floats(0, 1))
def test_onnx_mutated_models(seed: int, flips: list[tuple[float, int]], cut: float) -> None:
    data = bytearray(_SEEDS[seed])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    if cut < 0.2:
        data = data[: int(len(data) * cut * 5)]
    _load_onnx_bytes(bytes(data))


@FUZZ
@given(st.sampled_from(["Conv", "MatMul", "Gemm", "MaxPool", "AveragePool", "Add", "Softmax", "Reshape", "Foo"]),
       st.lists(st.integers(0, 9), min_size=0, max_size=5), st.lists(st.integers(0, 9), min_size=0, max_size=5),
       st.dictionaries(st.sampled_from(["group", "strides", "pads", "kernel_shape", "transB", "dilations"]),
                       st.one_of(st.integers(-2, 4), st.lists(st.integers(-2, 4), min_size=1, max_size=5)), max_size=3))
def test_onnx_random_single_node(op: str, xshape: list[int], wshape: list[int], attrs: dict[str, Any]) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.zeros(wshape, dtype=np.float32), "w")
    node = helper.make_node(op, ["x", "w"], ["y"], name="n", **attrs)
    model = helper.make_model(helper.make_graph([node], "g", [x], [y], initializer=[w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    _load_onnx_bytes(model.SerializeToString())


def test_seed_models_are_valid() -> None:
    for data in _SEEDS:
        onnx.checker.check_model(onnx.load_from_string(data))
