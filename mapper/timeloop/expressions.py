"""timeloopfe's attribute expressions (``datawidth * 3``, ``a if c else b``, ``log2(depth)``) evaluated
over a scope of variables, safely: arithmetic on numbers, comparisons, boolean operators, a
mapping's keys by attribute, and ``len min max ceil floor log2 log sqrt round abs int float``;
anything else leaves the string as it is (``mapper.timeloop.v4``)."""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

_FUNCS: dict[str, Any] = {"len": len, "min": min, "max": max, "ceil": math.ceil, "floor": math.floor,
                          "log2": math.log2, "log": math.log, "sqrt": math.sqrt, "round": round, "abs": abs,
                          "int": int, "float": float}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}

def evaluate(value: Any, scope: dict[str, Any]) -> Any:
    """``value`` evaluated as a timeloopfe expression over ``scope`` (a non-expression string stays)."""
    if not isinstance(value, str):
        return value
    try:
        return _eval(ast.parse(value.strip(), mode="eval").body, scope)
    except (SyntaxError, KeyError, TypeError, ValueError, ArithmeticError, RecursionError, _NotSimple):
        return value


class _NotSimple(Exception):
    pass


def _eval(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in scope:
            return scope[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise KeyError(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)) \
                or (isinstance(node.op, ast.Pow) and abs(right) > 64):
            raise _NotSimple  # arithmetic on numbers only, and no runaway powers
        return _BIN[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
        x = _eval(node.operand, scope)
        return -x if isinstance(node.op, ast.USub) else (+x if isinstance(node.op, ast.UAdd) else not x)
    if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        left = _eval(node.left, scope)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, scope)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, scope) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        return _eval(node.body, scope) if _eval(node.test, scope) else _eval(node.orelse, scope)
    if isinstance(node, ast.Attribute):   # spec.problem.instance: a mapping's keys only
        base = _eval(node.value, scope)
        if isinstance(base, dict) and node.attr in base:
            return base[node.attr]
        raise _NotSimple
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS \
            and not node.keywords:
        return _FUNCS[node.func.id](*(_eval(a, scope) for a in node.args))
    raise _NotSimple
