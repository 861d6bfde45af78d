"""A dataflow is data: a set of constraints on how a layer's loops map onto a 2-D fabric.

One ``Dataflow`` type. Output-, weight- and input-stationary (SCALE-Sim's systolic
conventions), row-stationary (Eyeriss), NVDLA-like and ShiDianNao-like are all values of
it. ``rows`` / ``cols`` list the loop dimensions that may be unrolled along the array's
rows (spatial-Y) and columns (spatial-X); every other dimension except ``G`` is
temporal. ``stationary`` names the operand held in the PEs.

For a systolic array the three classic dataflows give SCALE-Sim's operand-matrix shape
(Sr rows, Sc columns, T temporal), per group:

    os: Sr = M = N*P*Q, Sc = N_gemm = K, T = K_gemm = C*R*S
    ws: Sr = C*R*S,     Sc = K,           T = N*P*Q
    is: Sr = C*R*S,     Sc = N*P*Q,       T = K
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import DIMS, Layer


@dataclass(frozen=True)
class Dataflow:
    """Constraints on a mapping.

    Attributes:
        name: short name used on the CLI (``os``, ``ws``, ``is``, ``rs``, ``nvdla``, ``shidiannao``).
        description: one line for ``acceldse list``.
        stationary: the operand that stays in the PEs (``outputs``, ``weights``, ``inputs``).
        rows: loop dims allowed on the array rows (spatial-Y), in lowering order.
        cols: loop dims allowed on the array columns (spatial-X), in lowering order.
        systolic: True when the fabric is a systolic array with SCALE-Sim's skewed timing.
    """

    name: str
    description: str
    stationary: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    systolic: bool = False

    def __post_init__(self) -> None:
        for dim in (*self.rows, *self.cols):
            if dim not in DIMS or dim == "G":
                raise SpecError("unknown or non-spatial loop dimension", source=f"dataflow {self.name!r}",
                                key="rows/cols", value=dim, accepted=", ".join(d for d in DIMS if d != "G"))
        if set(self.rows) & set(self.cols):
            raise SpecError("a dimension cannot be on both array axes", source=f"dataflow {self.name!r}",
                            key="rows/cols", value=sorted(set(self.rows) & set(self.cols)))
        if self.stationary not in ("outputs", "weights", "inputs"):
            raise SpecError("unknown stationary operand", source=f"dataflow {self.name!r}", key="stationary",
                            value=self.stationary, accepted="outputs | weights | inputs")

    @cached_property
    def temporal(self) -> tuple[str, ...]:
        """Loop dims that are never spatial (besides G, which always runs outermost)."""
        return tuple(d for d in DIMS if d != "G" and d not in self.rows and d not in self.cols)

    @cached_property
    def _dims_of(self) -> Callable[[Layer], tuple[int, ...]]:
        """A layer's rows, columns and temporal dims, in that order (one C call)."""
        return operator.attrgetter(*self.rows, *self.cols, *self.temporal)

    def operand_shape(self, layer: Layer) -> tuple[int, int, int]:
        """(Sr, Sc, T): the operand-matrix rows, columns and temporal extent of one group."""
        dims, r, c = self._dims_of(layer), len(self.rows), len(self.rows) + len(self.cols)
        return math.prod(dims[:r]), math.prod(dims[r:c]), math.prod(dims[c:])


OS = Dataflow("os", "output stationary: output pixels on rows, filters on columns, C*R*S in time",
              "outputs", rows=("N", "P", "Q"), cols=("K",), systolic=True)
WS = Dataflow("ws", "weight stationary: C*R*S on rows, filters on columns, output pixels in time",
              "weights", rows=("C", "R", "S"), cols=("K",), systolic=True)
IS = Dataflow("is", "input stationary: C*R*S on rows, output pixels on columns, filters in time",
              "inputs", rows=("C", "R", "S"), cols=("N", "P", "Q"), systolic=True)
RS = Dataflow("rs", "row stationary (Eyeriss): filter rows and channels on PE rows, output columns across",
              "weights", rows=("C", "R", "S"), cols=("Q", "P"))
NVDLA = Dataflow("nvdla", "NVDLA-like: weight stationary with input channels on rows, filters on columns",
                 "weights", rows=("C",), cols=("K",))
SHIDIANNAO = Dataflow("shidiannao", "ShiDianNao-like: output stationary with output pixels on both axes",
                      "outputs", rows=("P",), cols=("Q",))

DATAFLOWS: dict[str, Dataflow] = {d.name: d for d in (OS, WS, IS, RS, NVDLA, SHIDIANNAO)}
SYSTOLIC_DATAFLOWS: tuple[str, ...] = tuple(name for name, d in DATAFLOWS.items() if d.systolic)


def get_dataflow(name: str | Dataflow, *, source: str = "dataflow", systolic_only: bool = False) -> Dataflow:
    """Look up a dataflow by name (case-insensitive) or pass one through."""
    if isinstance(name, Dataflow):
        return name
    allowed = SYSTOLIC_DATAFLOWS if systolic_only else tuple(DATAFLOWS)
    key = str(name).strip().lower()
    if key not in allowed:
        raise SpecError("unknown dataflow", source=source, value=name, accepted=" | ".join(allowed))
    return DATAFLOWS[key]


def resolve_dataflows(spec: str | Dataflow | list[str] | tuple[str, ...], *, source: str = "dataflow"
                      ) -> list[Dataflow]:
    """``all`` -> os, ws, is; a comma list or sequence -> each looked up."""
    if isinstance(spec, Dataflow):
        return [spec]
    accepted = " | ".join(SYSTOLIC_DATAFLOWS) + " | all, a comma list or a list of them"
    if not isinstance(spec, str | list | tuple) or not spec:
        raise SpecError("dataflow must be a name or a list of names", source=source, value=spec, accepted=accepted)
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    if len(names) == 1 and str(names[0]).strip().lower() == "all":
        return [DATAFLOWS[n] for n in SYSTOLIC_DATAFLOWS]
    flows = [get_dataflow(n, source=source, systolic_only=True) for n in names]
    repeated = sorted({f.name for f in flows if sum(g.name == f.name for g in flows) > 1})
    if repeated:  # two rows per layer for one dataflow would double every total that sums them
        raise SpecError(f"dataflow {', '.join(repeated)} is given twice", source=source, value=spec,
                        accepted="each dataflow once")
    return flows
