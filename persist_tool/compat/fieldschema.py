"""Express a field's type and constraints as a JSON Schema, so one checker compares them all.

A typed field (``integer(32)`` with ``minimum: 0``, ``decimal(10, 2)``, ``string`` with
``max_length``) stands for the set of values it can store; the JSON Schema built here
describes that set, including what the type itself implies: the range of a 32-bit integer,
the step and magnitude of a decimal, the format of a date. Null is left out: nullability is
compared on its own (rule PT012).
"""

from __future__ import annotations

import functools
from typing import Any

from persist_tool import ir

__all__ = ["field_schema", "type_schema", "type_text"]

JsonSchema = dict[str, Any]

_FLOAT32_MAX = 3.4028234663852886e38


@functools.singledispatch
def type_schema(field_type: ir.FieldType) -> JsonSchema:
    """Return the JSON Schema of the values a field type can hold."""
    raise TypeError(f"no JSON Schema for field type {field_type!r}")


@type_schema.register
def _string(t: ir.StringType) -> JsonSchema:
    return {"type": "string", "format": t.format} if t.format else {"type": "string"}


@type_schema.register
def _integer(t: ir.IntegerType) -> JsonSchema:
    half = 2 ** (t.bits - 1)
    return {"type": "integer", "minimum": -half, "maximum": half - 1}


@type_schema.register
def _float(t: ir.FloatType) -> JsonSchema:
    if t.bits <= 32:
        return {"type": "number", "minimum": -_FLOAT32_MAX, "maximum": _FLOAT32_MAX}
    return {"type": "number"}


@type_schema.register
def _decimal(t: ir.DecimalType) -> JsonSchema:
    out: JsonSchema = {"type": "number"}
    if t.scale is not None:
        out["multipleOf"] = 1 if t.scale <= 0 else float(f"1e-{t.scale}")
    if t.precision is not None:
        limit = 10 ** (t.precision - (t.scale or 0))
        out["exclusiveMinimum"], out["exclusiveMaximum"] = -limit, limit
    return out


@type_schema.register
def _boolean(t: ir.BooleanType) -> JsonSchema:
    return {"type": "boolean"}


@type_schema.register
def _date(t: ir.DateType) -> JsonSchema:
    return {"type": "string", "format": "date"}


@type_schema.register
def _datetime(t: ir.DateTimeType) -> JsonSchema:
    # An aware and a naive timestamp cannot stand in for each other: distinct formats.
    return {"type": "string", "format": "date-time" if t.tz else "local-date-time"}


@type_schema.register
def _time(t: ir.TimeType) -> JsonSchema:
    return {"type": "string", "format": "time"}


@type_schema.register
def _uuid(t: ir.UuidType) -> JsonSchema:
    return {"type": "string", "format": "uuid"}


@type_schema.register
def _bytes(t: ir.BytesType) -> JsonSchema:
    return {"type": "string", "format": "byte"}


@type_schema.register
def _json(t: ir.JsonType) -> JsonSchema:
    return dict(t.schema)


@type_schema.register
def _enum(t: ir.EnumType) -> JsonSchema:
    return {"enum": list(t.values)}


@type_schema.register
def _array(t: ir.ArrayType) -> JsonSchema:
    item = type_schema(t.item)
    if t.item_constraints is not None:
        item = _constrained(item, t.item_constraints)
    return {"type": "array", "items": item}


@type_schema.register
def _object(t: ir.ObjectType) -> JsonSchema:
    # The referenced entity is compared as an entity of its own; here only its name counts.
    return {"type": "object", "x-persist-ref": t.ref}


def _constrained(schema: JsonSchema, constraints: ir.Constraints) -> JsonSchema:
    """Return ``schema`` narrowed by ``constraints`` (kept as ``allOf`` when keys collide)."""
    extra: JsonSchema = {}
    for attr, keyword in ir.CONSTRAINT_KEYWORDS.items():
        value = getattr(constraints, attr)
        if value is not None:
            extra[keyword] = value
    if constraints.unique_items:
        extra["uniqueItems"] = True
    if constraints.enum is not None:
        extra["enum"] = list(constraints.enum)
    if constraints.has_const:
        extra["const"] = constraints.const
    if not extra:
        return schema
    if set(extra) & set(schema):
        return {"allOf": [schema, extra]}
    return {**schema, **extra}


def field_schema(field: ir.Field) -> JsonSchema:
    """Return the JSON Schema of the non-null values ``field`` can store."""
    return _constrained(type_schema(field.type), field.constraints)


@functools.singledispatch
def type_text(field_type: ir.FieldType) -> str:
    """Return a short human name for a field type (``integer(32)``, ``array<string>``)."""
    return field_type.kind


@type_text.register
def _integer_text(t: ir.IntegerType) -> str:
    return f"integer({t.bits})"


@type_text.register
def _decimal_text(t: ir.DecimalType) -> str:
    if t.precision is None:
        return "decimal"
    return f"decimal({t.precision},{t.scale or 0})"


@type_text.register
def _datetime_text(t: ir.DateTimeType) -> str:
    return "datetime(tz)" if t.tz else "datetime"


@type_text.register
def _enum_text(t: ir.EnumType) -> str:
    return f"enum {t.name}" if t.name else "enum"


@type_text.register
def _array_text(t: ir.ArrayType) -> str:
    return f"array<{type_text(t.item)}>"


@type_text.register
def _object_text(t: ir.ObjectType) -> str:
    return f"object {t.ref}"


@type_text.register
def _string_text(t: ir.StringType) -> str:
    return f"string({t.format})" if t.format else "string"
