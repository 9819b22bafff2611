"""What each IR field type becomes in generated code: annotation, reader, writer, JSON Schema.

One ``functools.singledispatch`` function per aspect, one registration per type: adding a
type means adding its registrations here, nowhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from persist_tool import ir
from persist_tool.emit.pycode import py_literal, py_str

__all__ = [
    "BuiltValue",
    "TypeNames",
    "annotation",
    "dump_expr",
    "imports_for",
    "json_schema",
    "read_expr",
]


@dataclass(frozen=True, slots=True)
class TypeNames:
    """Names the module gives to types it defines (enum classes), by IR enum name."""

    enums: Mapping[str, str]
    members: Mapping[tuple[str, str | int], str]
    """``(IR enum name, value)`` -> ``Class.MEMBER`` expression."""
    literals: frozenset[str] = frozenset()
    """IR enum names the user's classes spell as ``Literal[...]`` (Python sources)."""


# --------------------------------------------------------------------------- annotations


@functools.singledispatch
def annotation(t: ir.FieldType, names: TypeNames) -> str:
    """Return the Python annotation for values of ``t``."""
    raise TypeError(f"no annotation for {t!r}")


_SIMPLE_ANNOTATIONS: dict[type[ir.FieldType], str] = {
    ir.StringType: "str",
    ir.IntegerType: "int",
    ir.FloatType: "float",
    ir.DecimalType: "Decimal",
    ir.BooleanType: "bool",
    ir.DateType: "date",
    ir.DateTimeType: "datetime",
    ir.TimeType: "time",
    ir.UuidType: "UUID",
    ir.BytesType: "bytes",
}

for _cls, _text in _SIMPLE_ANNOTATIONS.items():
    annotation.register(_cls, lambda t, names, _text=_text: _text)


_JSON_TYPE_ANNOTATIONS = {
    "object": "dict[str, Any]",
    "array": "list[Any]",
    "string": "str",
    "integer": "int",
    "boolean": "bool",
}


@annotation.register
def _(t: ir.JsonType, names: TypeNames) -> str:
    declared = t.schema.get("type")
    if isinstance(declared, str) and declared in _JSON_TYPE_ANNOTATIONS:
        return _JSON_TYPE_ANNOTATIONS[declared]
    return "Any"


@annotation.register
def _(t: ir.EnumType, names: TypeNames) -> str:
    if t.name in names.literals:
        return f"Literal[{', '.join(py_literal(v) for v in t.values)}]"
    return names.enums[t.name]


@annotation.register
def _(t: ir.ArrayType, names: TypeNames) -> str:
    return f"list[{annotation(t.item, names)}]"


@annotation.register
def _(t: ir.ObjectType, names: TypeNames) -> str:
    return "dict[str, Any]"


# --------------------------------------------------------------------------- readers


def _kwargs(pairs: Mapping[str, Any]) -> list[str]:
    return [f"{k}={v}" for k, v in pairs.items() if v is not None]


def _num(value: int | float | None) -> str | None:
    return None if value is None else repr(value)


def _bounds(c: ir.Constraints) -> dict[str, str | None]:
    return {
        "minimum": _num(c.minimum),
        "maximum": _num(c.maximum),
        "exclusive_minimum": _num(c.exclusive_minimum),
        "exclusive_maximum": _num(c.exclusive_maximum),
        "multiple_of": _num(c.multiple_of),
    }


def _decimal_bounds(c: ir.Constraints) -> dict[str, str | None]:
    return {k: (None if v is None else f"Decimal({py_str(v)})") for k, v in _bounds(c).items()}


@functools.singledispatch
def read_expr(
    t: ir.FieldType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    """Return ``(function, extra arguments)`` that read a JSON value of type ``t``.

    The call is ``function(value, path, issues, *extra)``; ``schema`` is the name of the
    module constant holding the field's JSON sub-schema (for ``json`` fields).
    """
    raise TypeError(f"no reader for {t!r}")


@read_expr.register
def _(
    t: ir.StringType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_str", _kwargs(
        {
            "min_length": c.min_length,
            "max_length": c.max_length,
            "pattern": None if c.pattern is None else py_str(c.pattern),
        }
    )


@read_expr.register
def _(
    t: ir.IntegerType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_int", _kwargs({"bits": None if t.bits == 64 else t.bits, **_bounds(c)})


@read_expr.register
def _(
    t: ir.FloatType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_float", _kwargs(_bounds(c))


@read_expr.register
def _(
    t: ir.DecimalType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_decimal", _kwargs(
        {"precision": t.precision, "scale": t.scale, **_decimal_bounds(c)}
    )


@read_expr.register
def _(
    t: ir.BooleanType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_bool", []


@read_expr.register
def _(
    t: ir.DateTimeType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_datetime", ["tz=True"] if t.tz else []


_PLAIN_READERS: dict[type[ir.FieldType], str] = {
    ir.DateType: "_p.read_date",
    ir.TimeType: "_p.read_time",
    ir.UuidType: "_p.read_uuid",
    ir.BytesType: "_p.read_bytes",
}

for _cls, _fn in _PLAIN_READERS.items():
    read_expr.register(_cls, lambda t, value, path, c, names, schema, _fn=_fn: (_fn, []))


@read_expr.register
def _(
    t: ir.EnumType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    if t.name in names.literals:
        return "_p.read_choice", [py_literal(tuple(t.values))]
    return "_p.read_enum", [names.enums[t.name]]


@read_expr.register
def _(
    t: ir.JsonType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_json", [schema] if t.schema else []


@read_expr.register
def _(
    t: ir.ObjectType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    return "_p.read_json", [schema]


@read_expr.register
def _(
    t: ir.ArrayType, value: str, path: str, c: ir.Constraints, names: TypeNames, schema: str
) -> tuple[str, list[str]]:
    item_c = t.item_constraints or ir.Constraints()
    fn, extra = read_expr(t.item, "v", "p", item_c, names, schema)
    item = f"lambda v, p, i: {fn}({', '.join(['v', 'p', 'i', *extra])})"
    return "_p.read_list", [
        item,
        *_kwargs(
            {
                "min_items": c.min_items,
                "max_items": c.max_items,
                "unique_items": "True" if c.unique_items else None,
            }
        ),
    ]


# --------------------------------------------------------------------------- writers


@functools.singledispatch
def dump_expr(t: ir.FieldType, expr: str) -> str:
    """Return an expression giving the JSON form of ``expr`` (a value of type ``t``)."""
    raise TypeError(f"no writer for {t!r}")


for _cls in (
    ir.StringType,
    ir.IntegerType,
    ir.FloatType,
    ir.BooleanType,
    ir.JsonType,
    ir.ObjectType,
):
    dump_expr.register(_cls, lambda t, expr: expr)

_PLAIN_DUMPERS: dict[type[ir.FieldType], str] = {
    ir.DecimalType: "_p.dump_decimal",
    ir.DateType: "_p.dump_date",
    ir.DateTimeType: "_p.dump_datetime",
    ir.TimeType: "_p.dump_time",
    ir.UuidType: "_p.dump_uuid",
    ir.BytesType: "_p.dump_bytes",
}

for _cls, _fn in _PLAIN_DUMPERS.items():
    dump_expr.register(_cls, lambda t, expr, _fn=_fn: f"{_fn}({expr})")


@dump_expr.register
def _(t: ir.EnumType, expr: str) -> str:
    return f"{expr}.value"


@dump_expr.register
def _(t: ir.ArrayType, expr: str) -> str:
    inner = dump_expr(t.item, "v")
    if inner == "v":
        return f"list({expr})"
    return f"[{inner} for v in {expr}]"


# --------------------------------------------------------------------------- JSON Schema


@functools.singledispatch
def json_schema(t: ir.FieldType) -> dict[str, Any]:
    """Return the JSON Schema of the JSON form of ``t`` (without constraints)."""
    raise TypeError(f"no JSON Schema for {t!r}")


_SIMPLE_SCHEMAS: dict[type[ir.FieldType], dict[str, Any]] = {
    ir.StringType: {"type": "string"},
    ir.IntegerType: {"type": "integer"},
    ir.FloatType: {"type": "number"},
    ir.DecimalType: {"type": ["string", "number"], "format": "decimal"},
    ir.BooleanType: {"type": "boolean"},
    ir.DateType: {"type": "string", "format": "date"},
    ir.TimeType: {"type": "string", "format": "time"},
    ir.UuidType: {"type": "string", "format": "uuid"},
    ir.BytesType: {"type": "string", "contentEncoding": "base64"},
    ir.ObjectType: {"type": "object"},
}

for _cls, _schema in _SIMPLE_SCHEMAS.items():
    json_schema.register(_cls, lambda t, _schema=_schema: dict(_schema))


@json_schema.register
def _(t: ir.StringType) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if t.format:
        out["format"] = t.format
    return out


@json_schema.register
def _(t: ir.DateTimeType) -> dict[str, Any]:
    return {"type": "string", "format": "date-time"}


@json_schema.register
def _(t: ir.JsonType) -> dict[str, Any]:
    return dict(t.schema)


@json_schema.register
def _(t: ir.EnumType) -> dict[str, Any]:
    return {"enum": list(t.values)}


@json_schema.register
def _(t: ir.ArrayType) -> dict[str, Any]:
    item = json_schema(t.item)
    if t.item_constraints is not None:
        item.update(constraint_schema(t.item_constraints))
    return {"type": "array", "items": item}


def constraint_schema(c: ir.Constraints) -> dict[str, Any]:
    """Return the JSON Schema keywords stating constraints ``c``."""
    out: dict[str, Any] = {}
    for attr, keyword in ir.CONSTRAINT_KEYWORDS.items():
        value = getattr(c, attr)
        if value is not None:
            out[keyword] = value
    if c.unique_items:
        out["uniqueItems"] = True
    if c.enum is not None:
        out["enum"] = list(c.enum)
    if c.has_const:
        out["const"] = c.const
    return out


def field_schema(f: ir.Field) -> dict[str, Any]:
    """Return the JSON Schema of a field's JSON form, constraints and nullability included."""
    schema = json_schema(f.type)
    schema.update(constraint_schema(f.constraints))
    if f.doc:
        schema["description"] = f.doc
    if f.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


# --------------------------------------------------------------------------- imports


_TYPE_IMPORTS: dict[type[ir.FieldType], tuple[str, str]] = {
    ir.DecimalType: ("decimal", "Decimal"),
    ir.DateType: ("datetime", "date"),
    ir.DateTimeType: ("datetime", "datetime"),
    ir.TimeType: ("datetime", "time"),
    ir.UuidType: ("uuid", "UUID"),
}


def imports_for(t: ir.FieldType, names: TypeNames) -> set[tuple[str, str]]:
    """Return the ``(module, name)`` imports that annotations of ``t`` need."""
    if isinstance(t, ir.ArrayType):
        return imports_for(t.item, names)
    if type(t) in _TYPE_IMPORTS:
        return {_TYPE_IMPORTS[type(t)]}
    text = annotation(t, names)
    out: set[tuple[str, str]] = set()
    if "Any" in text:
        out.add(("typing", "Any"))
    if text.startswith("Literal["):
        out.add(("typing", "Literal"))
    return out


class BuiltValue(str):
    """A literal default built by a call (``date.fromisoformat(...)``, a UUID, an enum by value).

    ruff (RUF009) wants such a dataclass default spelled ``field(default=...)``; ``Decimal``
    is a call it knows to build an immutable value, so a decimal stays a plain ``str``.
    """

    __slots__ = ()


def literal_default(f: ir.Field, names: TypeNames) -> str:
    """Return a Python expression for a literal default of field ``f`` (a ``BuiltValue``
    when a call builds it)."""
    assert f.default is not None
    value = f.default.value
    return _literal_for(f.type, value, names)


@functools.singledispatch
def _literal_for(t: ir.FieldType, value: Any, names: TypeNames) -> str:
    return py_literal(value)


@_literal_for.register
def _(t: ir.DecimalType, value: Any, names: TypeNames) -> str:
    return f"Decimal({py_str(str(value))})"


@_literal_for.register
def _(t: ir.DateType, value: Any, names: TypeNames) -> str:
    return BuiltValue(f"date.fromisoformat({py_str(str(value))})")


@_literal_for.register
def _(t: ir.DateTimeType, value: Any, names: TypeNames) -> str:
    return BuiltValue(f"datetime.fromisoformat({py_str(str(value))})")


@_literal_for.register
def _(t: ir.TimeType, value: Any, names: TypeNames) -> str:
    return BuiltValue(f"time.fromisoformat({py_str(str(value))})")


@_literal_for.register
def _(t: ir.UuidType, value: Any, names: TypeNames) -> str:
    return BuiltValue(f"UUID({py_str(str(value))})")


@_literal_for.register
def _(t: ir.FloatType, value: Any, names: TypeNames) -> str:
    return repr(float(value))


@_literal_for.register
def _(t: ir.EnumType, value: Any, names: TypeNames) -> str:
    if t.name in names.literals:
        return py_literal(value)
    member = names.members.get((t.name, value))
    if member is None:
        return BuiltValue(f"{names.enums[t.name]}({py_literal(value)})")
    return member
