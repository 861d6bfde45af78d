"""Sweep constraints: a comparison of arithmetic expressions over design quantities
(``CONSTRAINT_NAMES``) and numeric axes (``area_mm2 <= 10``, ``array.rows * array.cols <= 4096``,
``+ - * / // % **``, ``and``/``or``/``not``), parsed once and evaluated on arrays of points."""

from __future__ import annotations

import ast
import difflib
import operator
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from acceldse.workloads.errors import SpecError

_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)")
CONSTRAINT_NAMES = ("area_mm2", "pes", "rows", "cols", "clock_mhz", "cores", "sram_bytes", "dram_bw_bytes_per_cycle")
"""Design quantities a constraint may test (besides any numeric axis)."""


@dataclass(frozen=True)
class Constraint:
    """``text``, a comparison of expressions over ``names`` (design quantities and numeric axes);
    ``expression`` is ``text`` with each name replaced by ``_q<i>`` (its index in ``names``)."""

    text: str
    names: tuple[str, ...]
    expression: str

    def holds(self, values: dict[str, Any]) -> np.ndarray:
        """Where the constraint holds, given an array per name."""
        env = {f"_q{i}": np.asarray(values[n], dtype=float) for i, n in enumerate(self.names)}
        return np.asarray(_evaluate(ast.parse(self.expression, mode="eval").body, env), dtype=bool)


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_COMPARE = {ast.LtE: operator.le, ast.Lt: operator.lt, ast.GtE: operator.ge, ast.Gt: operator.gt,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_KEYWORDS = {"and", "or", "not"}


def _evaluate(node: ast.AST, env: dict[str, Any]) -> Any:
    """A constraint's expression tree over numpy arrays (only arithmetic, comparisons, and/or/not)."""
    if isinstance(node, ast.Constant) and is_number(node.value):
        return node.value
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
        value = _evaluate(node.operand, env)
        return np.logical_not(value) if isinstance(node.op, ast.Not) else -value if isinstance(node.op, ast.USub) \
            else value
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left, out = _evaluate(node.left, env), True
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, env)
            out = np.logical_and(out, _COMPARE[type(op)](left, right))
            left = right
        return out
    if isinstance(node, ast.BoolOp):
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        values = [_evaluate(v, env) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return out
    raise ValueError(ast.dump(node))


def _is_condition(node: ast.AST) -> bool:
    if isinstance(node, ast.BoolOp):
        return all(_is_condition(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _is_condition(node.operand)
    return isinstance(node, ast.Compare)


def parse_constraint(raw: Any, axes: dict[str, list[Any]], source: str) -> Constraint:
    """The constraint ``raw`` of the spec ``source``, over the design quantities and ``axes``' numeric axes."""
    text = str(raw).strip()
    accepted = ("a comparison of expressions over design quantities and numeric axes, e.g. 'area_mm2 <= 10', "
                "'array.rows == array.cols', 'array.rows * array.cols <= 4096' (+ - * / // % **, and/or/not)")
    known = [*CONSTRAINT_NAMES, *(k for k, v in axes.items() if all(is_number(x) for x in v))]
    found: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _KEYWORDS:
            return name
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            raise SpecError("unknown constraint quantity", source=source, key="constraints", value=name,
                            accepted=("did you mean " + ", ".join(close) + "? " if close else "") + "one of "
                            + ", ".join(known))
        if name not in found:
            found.append(name)
        return f"_q{found.index(name)}"

    expression = _NAME.sub(placeholder, text)
    try:
        tree = ast.parse(expression, mode="eval").body
        if not _is_condition(tree):
            raise ValueError("not a comparison")
        _evaluate(tree, {f"_q{i}": np.ones(1) for i in range(len(found))})
    except (SyntaxError, ValueError, TypeError):
        raise SpecError("cannot parse constraint", source=source, key="constraints", value=raw,
                        accepted=accepted) from None
    return Constraint(text, tuple(found), expression)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


__all__ = ["CONSTRAINT_NAMES", "Constraint", "is_number", "parse_constraint"]
