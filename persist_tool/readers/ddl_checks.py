"""Read what a CHECK constraint says about one column: an enumeration, bounds, lengths.

A CHECK is used only when every conjunct of it is expressible on a single column
(``col IN (...)``, ``col >= n``, ``n < col``, ``col BETWEEN a AND b``, ``length(col) <= n``,
``length(col) = n``, ``col <> ''``, ``col % n = 0`` on an integer column, each optionally
``OR col IS NULL``); anything else is kept by the caller as SQL text, never half-applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from persist_tool import ir

if TYPE_CHECKING:
    from persist_tool.readers.ddl_table import ColumnDraft

__all__ = ["CheckFacts", "analyse_check", "apply_check", "tighten"]


# --------------------------------------------------------------------------- checks


@dataclass(slots=True)
class CheckFacts:
    """What a CHECK says about single columns, when all of it is expressible."""

    column: str
    bounds: dict[str, Any] = field(default_factory=dict)
    enum_values: tuple[str | int, ...] | None = None


_LENGTH_FUNCTIONS = frozenset({"LENGTH", "LEN", "CHAR_LENGTH", "CHARACTER_LENGTH"})
_FLIP: dict[type[exp.Expression], type[exp.Expression]] = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
}
_VALUE_BOUND: dict[type[exp.Expression], str] = {
    exp.GT: "exclusive_minimum",
    exp.GTE: "minimum",
    exp.LT: "exclusive_maximum",
    exp.LTE: "maximum",
}
_LENGTH_BOUND: dict[type[exp.Expression], tuple[str, int]] = {
    exp.GT: ("min_length", 1),
    exp.GTE: ("min_length", 0),
    exp.LT: ("max_length", -1),
    exp.LTE: ("max_length", 0),
}


def _unwrap(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _number(node: exp.Expression) -> int | float | None:
    node = _unwrap(node)
    negative = False
    if isinstance(node, exp.Neg):
        negative, node = True, _unwrap(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = node.this
        value: int | float = int(text) if re.fullmatch(r"\d+", text) else float(text)
        return -value if negative else value
    return None


def _column_name(node: exp.Expression) -> str | None:
    node = _unwrap(node)
    if isinstance(node, exp.Column) and not node.table:
        return node.name
    return None


def _length_of(node: exp.Expression) -> str | None:
    node = _unwrap(node)
    if isinstance(node, exp.Length):
        return _column_name(node.this)
    if (
        isinstance(node, exp.Anonymous)
        and node.name.upper() in _LENGTH_FUNCTIONS
        and len(node.expressions) == 1
    ):
        return _column_name(node.expressions[0])
    return None


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    node = _unwrap(node)
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _literal_values(nodes: list[exp.Expression]) -> tuple[str | int, ...] | None:
    values: list[str | int] = []
    for node in nodes:
        node = _unwrap(node)
        if isinstance(node, exp.Literal) and node.is_string:
            values.append(node.this)
        elif (number := _number(node)) is not None and isinstance(number, int):
            values.append(number)
        else:
            return None
    if not values or len({type(v) for v in values}) != 1 or len(set(values)) != len(values):
        return None
    return tuple(values)


def _comparison(node: exp.Expression) -> tuple[str, str, int | float] | None:
    """Return (column, bound name, value) for ``col OP n`` / ``length(col) OP n`` forms."""
    op: type[exp.Expression] = type(node)
    if op not in _VALUE_BOUND:
        return None
    left, right = node.this, node.expression
    if _number(left) is not None:
        left, right, op = right, left, _FLIP[op]
    value = _number(right)
    if value is None:
        return None
    if (column := _column_name(left)) is not None:
        return column, _VALUE_BOUND[op], value
    if (column := _length_of(left)) is not None and isinstance(value, int):
        name, shift = _LENGTH_BOUND[op]
        return column, name, value + shift
    return None


def _multiple_of(left: exp.Expression, right: exp.Expression) -> tuple[str, str, int] | None:
    """Return (column, "multiple_of", n) for ``col % n = 0`` with a whole ``n`` >= 1."""
    mod = _unwrap(left)
    if not isinstance(mod, exp.Mod) or _number(right) != 0:
        return None
    column = _column_name(mod.this)
    step = _number(mod.expression)
    if column is None or not isinstance(step, int) or step < 1:
        return None
    return column, "multiple_of", step


def _fact(node: exp.Expression) -> list[tuple[str, str, Any]] | None:
    """Return the (column, kind, value) facts of one conjunct, or ``None``."""
    node = _unwrap(node)
    if isinstance(node, exp.In) and not node.args.get("query"):
        column = _column_name(node.this)
        values = _literal_values(node.expressions)
        if column is None or values is None:
            return None
        return [(column, "enum", values)]
    if isinstance(node, exp.Or):
        parts = [_unwrap(node.this), _unwrap(node.expression)]
        nulls = [p for p in parts if isinstance(p, exp.Is) and isinstance(p.expression, exp.Null)]
        if len(nulls) == 1:
            other = parts[1] if parts[0] is nulls[0] else parts[0]
            facts = _fact(other)
            if facts and all(f[0] == _column_name(nulls[0].this) for f in facts):
                return facts
        return None
    if isinstance(node, exp.Between):
        low, high = _number(node.args["low"]), _number(node.args["high"])
        if low is None or high is None:
            return None
        if (column := _column_name(node.this)) is not None:
            return [(column, "minimum", low), (column, "maximum", high)]
        if (column := _length_of(node.this)) is not None:
            return [(column, "min_length", int(low)), (column, "max_length", int(high))]
        return None
    if isinstance(node, exp.EQ):
        left, right = node.this, node.expression
        if _number(left) is not None:
            left, right = right, left
        step = _multiple_of(left, right)
        if step is not None:
            return [step]
        length = _number(right)
        column = _length_of(left)
        if column is None or not isinstance(length, int):
            return None
        return [(column, "min_length", length), (column, "max_length", length)]
    if isinstance(node, exp.NEQ):
        column = _column_name(node.this)
        target = _unwrap(node.expression)
        if column and isinstance(target, exp.Literal) and target.is_string and target.this == "":
            return [(column, "min_length", 1)]
        return None
    comparison = _comparison(node)
    return None if comparison is None else [comparison]


def analyse_check(condition: exp.Expression) -> CheckFacts | None:
    """Return the facts of a CHECK when every part of it is expressible on one column."""
    facts: list[tuple[str, str, Any]] = []
    for conjunct in _conjuncts(condition):
        found = _fact(conjunct)
        if found is None:
            return None
        facts.extend(found)
    columns = {column.lower() for column, _, _ in facts}
    if len(columns) != 1:
        return None
    result = CheckFacts(facts[0][0])
    for _, kind, value in facts:
        if kind == "enum":
            if result.enum_values is not None:
                return None
            result.enum_values = value
        elif kind in _ONE_ONLY and kind in result.bounds:
            return None  # two steps combine into neither: kept as SQL
        else:
            tighten(result.bounds, kind, value)
    return result


_LOWER_BOUNDS = frozenset({"minimum", "exclusive_minimum", "min_length"})
_ONE_ONLY = frozenset({"multiple_of"})
"""Facts that no stricter value replaces: a column takes one, from one CHECK."""
_INTEGER_ONLY = frozenset({"multiple_of"})
"""Facts kept for integer columns only (float remainders are inexact; the DDL writer states
``multiple_of`` for integers only, so this reads back what it writes)."""


def tighten(bounds: dict[str, Any], kind: str, value: Any) -> None:
    """Record a bound, keeping the stricter one when the kind is already bounded."""
    if kind in bounds:
        value = max(bounds[kind], value) if kind in _LOWER_BOUNDS else min(bounds[kind], value)
    bounds[kind] = value


_NUMERIC_TYPES = (ir.IntegerType, ir.FloatType, ir.DecimalType)
_LENGTH_KINDS = frozenset({"min_length", "max_length"})


def apply_check(column: ColumnDraft, facts: CheckFacts) -> bool:
    """Apply CHECK facts to a column; return ``False`` when its type cannot carry them."""
    field_type = column.spec.type
    if facts.enum_values is not None:
        wanted = ir.StringType if isinstance(facts.enum_values[0], str) else ir.IntegerType
        if not isinstance(field_type, wanted) or column.enum_values is not None:
            return False
    for kind in facts.bounds:
        if kind in _LENGTH_KINDS and not isinstance(field_type, ir.StringType):
            return False
        if kind not in _LENGTH_KINDS and not isinstance(field_type, _NUMERIC_TYPES):
            return False
        if kind in _INTEGER_ONLY and not isinstance(field_type, ir.IntegerType):
            return False
        if kind in _ONE_ONLY and kind in column.bounds:
            return False
    if facts.enum_values is not None:
        column.enum_values = facts.enum_values
    for kind, value in facts.bounds.items():
        tighten(column.bounds, kind, value)
    return True
