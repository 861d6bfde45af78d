"""Timeloop v0.4 ``problem`` (shape + instance) -> ``Layer``.

Only Timeloop's dense ``conv2D`` shape (dims C M R S N P Q; Weights[C,M,R,S], Inputs[N, C,
R*Wdilation + P*Wstride, S*Hdilation + Q*Hstride], Outputs[N,M,Q,P]) is accepted; any other
shape, coefficient or density is a ``SpecError`` naming the file. Timeloop's ``M`` is our
``K``; P pairs with R, W and Wstride (our axis 0), Q with S, H and Hstride (our axis 1).
"""

from __future__ import annotations

from typing import Any

from acceldse.mapper.timeloop.arch import need
from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer

TIMELOOP_DIMS = ("C", "M", "R", "S", "N", "P", "Q")
"""Timeloop's conv2D dims; ``M`` is our ``K``."""
OUR_DIM = {"C": "C", "M": "K", "R": "R", "S": "S", "N": "N", "P": "P", "Q": "Q"}
_PROJECTIONS = {
    "Weights": [[["C"]], [["M"]], [["R"]], [["S"]]],
    "Inputs": [[["N"]], [["C"]], [["R", "Wdilation"], ["P", "Wstride"]], [["S", "Hdilation"], ["Q", "Hstride"]]],
    "Outputs": [[["N"]], [["M"]], [["Q"]], [["P"]]],
}
_INSTANCE_KEYS = {*TIMELOOP_DIMS, "H", "W", "Hpad", "Wpad", "Hstride", "Wstride", "Hdilation", "Wdilation",
                  "densities"}


def _check_shape(shape: Any, *, source: str) -> None:
    shape = need(shape, dict, source=source, key="problem.shape")
    dims = shape.get("dimensions")
    if not isinstance(dims, list) or sorted(map(str, dims)) != sorted(TIMELOOP_DIMS):
        raise SpecError("unsupported problem shape: only Timeloop's conv2D is modelled", source=source,
                        key="problem.shape.dimensions", value=dims, accepted=" ".join(TIMELOOP_DIMS))
    raw = need(shape.get("data_spaces"), list, source=source, key="problem.shape.data_spaces")
    spaces = {str(need(ds, dict, source=source, key="problem.shape.data_spaces").get("name")): ds for ds in raw}
    if set(spaces) != set(_PROJECTIONS):
        raise SpecError("unsupported data spaces", source=source, key="problem.shape.data_spaces",
                        value=sorted(spaces), accepted="Weights, Inputs, Outputs")
    for name, expected in _PROJECTIONS.items():
        proj = spaces[name].get("projection")
        if proj != expected:
            raise SpecError("unsupported projection (only conv2D's)", source=source,
                            key=f"problem.shape.data_spaces.{name}.projection", value=proj, accepted=str(expected))
        if spaces[name].get("read_write", False) is not (name == "Outputs"):
            raise SpecError("only Outputs may be read_write", source=source,
                            key=f"problem.shape.data_spaces.{name}.read_write", value=spaces[name].get("read_write"))


def build_layer(problem: dict[str, Any], *, source: str, name: str) -> Layer:
    """The ``Layer`` of a Timeloop v0.4 problem."""
    if not isinstance(problem, dict) or not isinstance(problem.get("instance"), dict):
        raise SpecError("problem needs 'shape' and 'instance'", source=source, key="problem")
    _check_shape(problem.get("shape") or {}, source=source)
    inst = problem["instance"]
    for key in inst:
        if key not in _INSTANCE_KEYS:
            raise SpecError("unknown problem instance key", source=source, key=f"problem.instance.{key}",
                            accepted=", ".join(sorted(_INSTANCE_KEYS)))
    if inst.get("densities"):
        raise SpecError("sparse densities are not modelled", source=source, key="problem.instance.densities",
                        value=inst["densities"], accepted="{} (dense)")

    def get(key: str, default: int) -> int:
        value = inst.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key.endswith("pad") else 1):
            raise SpecError("must be a positive integer", source=source, key=f"problem.instance.{key}", value=value)
        return value

    dims = {OUR_DIM[d]: get(d, 1) for d in TIMELOOP_DIMS}
    stride = (get("Wstride", 1), get("Hstride", 1))
    dilation = (get("Wdilation", 1), get("Hdilation", 1))
    pads = (get("Wpad", 0), get("Hpad", 0))
    try:
        return Layer(name=name, op="conv", N=dims["N"], K=dims["K"], C=dims["C"], P=dims["P"], Q=dims["Q"],
                     R=dims["R"], S=dims["S"], H=get("W", 0) if "W" in inst else 0,
                     W=get("H", 0) if "H" in inst else 0, stride=stride,
                     dilation=dilation, padding=(pads[0], pads[1], pads[0], pads[1]))
    except SpecError as err:
        raise SpecError(f"problem instance is inconsistent: {err}", source=source) from None
