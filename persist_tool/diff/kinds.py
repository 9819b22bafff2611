"""Classify type and constraint changes: does every stored value still fit?

A type change is *widening* (safe) when every value of the old type converts to the new type
without loss or failure, and *narrowing* otherwise. The rules are a table keyed by the pair
of type kinds; pairs not in the table are narrowing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from persist_tool import ir
from persist_tool.diff.classification import Classification

__all__ = ["constraints_change", "describe_type", "is_widening", "type_change"]


_INT_DIGITS = {16: 5, 32: 10, 64: 19}
"""Decimal digits needed for every value of an integer of that many bits."""
_FLOAT_MANTISSA = {32: 24, 64: 53}
"""Bits of integer precision a float of that size holds exactly."""

_TEXTUAL_KINDS = frozenset(
    {
        "integer",
        "float",
        "decimal",
        "boolean",
        "date",
        "datetime",
        "time",
        "uuid",
        "enum",
    }
)
"""Kinds whose every value has a lossless text form (so a string column can hold it)."""


def _int_to_int(a: ir.IntegerType, b: ir.IntegerType) -> bool:
    return b.bits >= a.bits


def _int_to_float(a: ir.IntegerType, b: ir.FloatType) -> bool:
    return _FLOAT_MANTISSA.get(b.bits, 53) >= a.bits - 1


def _int_to_decimal(a: ir.IntegerType, b: ir.DecimalType) -> bool:
    if b.precision is None:
        return True
    return b.precision - (b.scale or 0) >= _INT_DIGITS.get(a.bits, 19)


def _float_to_float(a: ir.FloatType, b: ir.FloatType) -> bool:
    return b.bits >= a.bits


def _decimal_to_decimal(a: ir.DecimalType, b: ir.DecimalType) -> bool:
    if b.precision is None:
        return b.scale is None or (a.scale is not None and b.scale >= a.scale)
    if a.precision is None:
        return False
    a_scale, b_scale = a.scale or 0, b.scale or 0
    return b_scale >= a_scale and b.precision - b_scale >= a.precision - a_scale


def _string_to_string(a: ir.StringType, b: ir.StringType) -> bool:
    return b.format is None or b.format == a.format


def _enum_to_enum(a: ir.EnumType, b: ir.EnumType) -> bool:
    return set(a.values) <= set(b.values)


def _datetime_to_datetime(a: ir.DateTimeType, b: ir.DateTimeType) -> bool:
    # Adding or dropping the time zone reinterprets every stored instant.
    return a.tz == b.tz


def _array_to_array(a: ir.ArrayType, b: ir.ArrayType) -> bool:
    if not is_widening(a.item, b.item):
        return False
    before = a.item_constraints or ir.Constraints()
    after = b.item_constraints or ir.Constraints()
    return not constraints_change(before, after)


def _json_to_json(a: ir.JsonType, b: ir.JsonType) -> bool:
    return not b.schema or dict(a.schema) == dict(b.schema)


def _always(a: Any, b: Any) -> bool:
    return True


_WIDENING: dict[tuple[str, str], Callable[[Any, Any], bool]] = {
    ("integer", "integer"): _int_to_int,
    ("integer", "float"): _int_to_float,
    ("integer", "decimal"): _int_to_decimal,
    ("float", "float"): _float_to_float,
    ("decimal", "decimal"): _decimal_to_decimal,
    ("boolean", "integer"): _always,
    ("date", "datetime"): _always,
    ("string", "string"): _string_to_string,
    ("enum", "enum"): _enum_to_enum,
    ("datetime", "datetime"): _datetime_to_datetime,
    ("array", "array"): _array_to_array,
    ("json", "json"): _json_to_json,
    **{(kind, "string"): _always for kind in _TEXTUAL_KINDS},
}


def is_widening(before: ir.FieldType, after: ir.FieldType) -> bool:
    """Tell whether every value of ``before`` converts to ``after`` without loss."""
    if before == after:
        return True
    if isinstance(after, ir.JsonType) and not after.schema and before.kind != "bytes":
        return True  # an unconstrained JSON column holds any JSON form
    rule = _WIDENING.get((before.kind, after.kind))
    return rule is not None and rule(before, after)


def type_change(before: ir.FieldType, after: ir.FieldType) -> Classification:
    """Return the classification of changing a field from ``before`` to ``after``."""
    return Classification.SAFE if is_widening(before, after) else Classification.NARROWING


# --------------------------------------------------------------------------- constraints


def _lower_bound_looser(a: Any, b: Any) -> bool:
    return b is None or (a is not None and b <= a)


def _upper_bound_looser(a: Any, b: Any) -> bool:
    return b is None or (a is not None and b >= a)


def _same_or_dropped(a: Any, b: Any) -> bool:
    return b is None or b == a


def _multiple_looser(a: Any, b: Any) -> bool:
    if b is None:
        return True
    if a is None or b == 0:
        return False
    ratio = a / b
    return bool(ratio == int(ratio))


def _flag_looser(a: bool, b: bool) -> bool:
    return not b or a


def _enum_looser(a: Any, b: Any) -> bool:
    if b is None:
        return True
    return a is not None and all(v in b for v in a)


_CONSTRAINT_LOOSER: dict[str, Callable[[Any, Any], bool]] = {
    "min_length": _lower_bound_looser,
    "max_length": _upper_bound_looser,
    "pattern": _same_or_dropped,
    "minimum": _lower_bound_looser,
    "maximum": _upper_bound_looser,
    "exclusive_minimum": _lower_bound_looser,
    "exclusive_maximum": _upper_bound_looser,
    "multiple_of": _multiple_looser,
    "min_items": _lower_bound_looser,
    "max_items": _upper_bound_looser,
    "unique_items": _flag_looser,
    "enum": _enum_looser,
}


def constraints_change(before: ir.Constraints, after: ir.Constraints) -> tuple[str, ...]:
    """Return the names of the constraints that are stricter in ``after``, in a fixed order."""
    tighter = [
        name
        for name, looser in _CONSTRAINT_LOOSER.items()
        if not looser(getattr(before, name), getattr(after, name))
    ]
    if after.has_const and (not before.has_const or before.const != after.const):
        tighter.append("const")
    return tuple(tighter)


# --------------------------------------------------------------------------- descriptions


def _describe_integer(t: ir.IntegerType) -> str:
    return f"integer({t.bits})"


def _describe_float(t: ir.FloatType) -> str:
    return f"float({t.bits})"


def _describe_decimal(t: ir.DecimalType) -> str:
    if t.precision is None:
        return "decimal"
    return f"decimal({t.precision}, {t.scale or 0})"


def _describe_string(t: ir.StringType) -> str:
    return f"string({t.format})" if t.format else "string"


def _describe_datetime(t: ir.DateTimeType) -> str:
    return "datetime with time zone" if t.tz else "datetime"


def _describe_enum(t: ir.EnumType) -> str:
    return f"enum {t.name}(" + ", ".join(repr(v) for v in t.values) + ")"


def _describe_array(t: ir.ArrayType) -> str:
    return f"array of {describe_type(t.item)}"


def _describe_object(t: ir.ObjectType) -> str:
    return f"object {t.ref}"


_DESCRIBE: dict[str, Callable[[Any], str]] = {
    "integer": _describe_integer,
    "float": _describe_float,
    "decimal": _describe_decimal,
    "string": _describe_string,
    "datetime": _describe_datetime,
    "enum": _describe_enum,
    "array": _describe_array,
    "object": _describe_object,
}


def describe_type(t: ir.FieldType) -> str:
    """Return a short readable form of a field type (``decimal(10, 2)``)."""
    describe = _DESCRIBE.get(t.kind)
    return describe(t) if describe is not None else t.kind
