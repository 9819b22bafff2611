"""Turn Python annotations into IR field types, constraints and persistence markers.

An annotation is read as written, never evaluated: ``Annotated[str, Unique, MaxLen(80)] |
None`` becomes a string type, nullable, with ``max_length=80`` and a ``unique`` marker.
Names are resolved through the module's imports (:mod:`python_scope`), so aliases such as
``import datetime as dt`` or ``from persist_runtime import MaxLen as Max`` work.

Datetime time zones follow the rule of the DDL reader: a timestamp carries a zone only when
the source says so. ``pydantic.AwareDatetime``, ``Annotated[datetime, timezone.utc]`` (or
``datetime.UTC``) and a default factory making aware values
(``lambda: datetime.now(timezone.utc)``) say aware; a plain ``datetime`` and
``pydantic.NaiveDatetime`` are naive. A factory that contradicts an explicit annotation is an
error.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace

from persist_tool import ir
from persist_tool.ir import JsonValue, SourceError
from persist_tool.readers.python_markers import (
    TypeContext,
    TypeInfo,
    constrained_type,
    error,
    read_marker,
)
from persist_tool.readers.python_scope import External, LocalAlias, LocalClass, ModuleScope
from persist_tool.readers.python_values import NotLiteral, literal, read_enum

__all__ = ["DEFAULT_TZ", "json_schema", "read_type"]

DEFAULT_TZ = False
"""Whether a plain ``datetime`` annotation means a zone-aware timestamp."""

_MAX_DEPTH = 30

_DATETIME = "datetime.datetime"

_SCALARS: dict[str, ir.FieldType] = {
    "builtins.int": ir.IntegerType(64),
    "builtins.str": ir.StringType(),
    "builtins.float": ir.FloatType(64),
    "builtins.bool": ir.BooleanType(),
    "builtins.bytes": ir.BytesType(),
    "decimal.Decimal": ir.DecimalType(),
    "datetime.date": ir.DateType(),
    "datetime.time": ir.TimeType(),
    "uuid.UUID": ir.UuidType(),
    "pydantic.EmailStr": ir.StringType(format="email"),
    "pydantic.UUID4": ir.UuidType(),
}

_DATETIMES: dict[str, tuple[bool, bool]] = {
    _DATETIME: (DEFAULT_TZ, False),
    "pydantic.AwareDatetime": (True, True),
    "pydantic.NaiveDatetime": (False, True),
}
"""Qualified name -> (tz, whether the annotation decides tz explicitly)."""

_JSON_BARE: dict[str, dict[str, JsonValue]] = {
    "typing.Any": {},
    "builtins.dict": {"type": "object"},
    "typing.Dict": {"type": "object"},
    "typing.Mapping": {"type": "object"},
    "builtins.list": {"type": "array"},
    "typing.List": {"type": "array"},
}

_COLUMN_KINDS = frozenset(
    {
        "string",
        "integer",
        "float",
        "decimal",
        "boolean",
        "date",
        "datetime",
        "time",
        "uuid",
        "bytes",
        "enum",
    }
)

_NOT_FIELDS = frozenset({"typing.ClassVar", "dataclasses.InitVar", "typing.Final"})


def read_type(ctx: TypeContext, scope: ModuleScope, expr: ast.expr, depth: int = 0) -> TypeInfo:
    """Read an annotation into a :class:`TypeInfo`; ``SourceError`` when it is unsupported."""
    if depth > _MAX_DEPTH:
        raise error(scope, expr, f"{ctx.what}: type alias refers to itself")
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return read_type(ctx, scope, _parse_string_annotation(scope, expr), depth + 1)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return _union(ctx, scope, expr, _flatten_union(expr), depth)
    if isinstance(expr, ast.Subscript):
        return _generic(ctx, scope, expr, depth)
    if isinstance(expr, ast.Call):
        return constrained_type(ctx, scope, expr)
    if isinstance(expr, ast.Name | ast.Attribute):
        return _named(ctx, scope, expr, depth)
    raise error(
        scope,
        expr,
        f"{ctx.what}: unsupported annotation {ast.unparse(expr)!r}",
        "use a scalar, an enum, Literal, list[...], dict[str, ...], X | None or Annotated",
    )


def _parse_string_annotation(scope: ModuleScope, node: ast.Constant) -> ast.expr:
    assert isinstance(node.value, str)
    try:
        parsed = ast.parse(node.value.strip(), mode="eval").body
    except SyntaxError as exc:
        raise error(scope, node, f"invalid string annotation {node.value!r}: {exc.msg}") from None
    for child in ast.walk(parsed):
        ast.copy_location(child, node)
    return parsed


def _flatten_union(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return _flatten_union(expr.left) + _flatten_union(expr.right)
    return [expr]


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _union(
    ctx: TypeContext, scope: ModuleScope, node: ast.expr, members: list[ast.expr], depth: int
) -> TypeInfo:
    others = [m for m in members if not _is_none(m)]
    if len(others) != 1:
        shown = ast.unparse(node)
        raise error(
            scope,
            node,
            f"{ctx.what}: union {shown!r} has {len(others)} non-None members; "
            "a column holds one type",
            "use one type (optionally | None), or dict[str, Any] for free-form JSON",
        )
    info = read_type(ctx, scope, others[0], depth + 1)
    info.nullable = info.nullable or len(others) < len(members)
    return info


def _named(ctx: TypeContext, scope: ModuleScope, expr: ast.expr, depth: int) -> TypeInfo:
    resolved = scope.resolve(expr)
    location = scope.location(expr)
    if isinstance(resolved, LocalAlias):
        return read_type(ctx, resolved.scope, resolved.value, depth + 1)
    if isinstance(resolved, LocalClass):
        enum = read_enum(resolved)
        if enum is None:
            raise error(
                scope,
                expr,
                f"{ctx.what}: class {resolved.node.name} is not a supported field type",
                "nested objects are stored as JSON: use dict[str, ...] or an Enum subclass",
            )
        return TypeInfo(ir.EnumType(enum.name, enum.values), location, enum=enum)
    qualname = resolved.qualname
    if qualname in _SCALARS:
        return TypeInfo(_SCALARS[qualname], location)
    if qualname in _DATETIMES:
        tz, explicit = _DATETIMES[qualname]
        return TypeInfo(ir.DateTimeType(tz=tz), location, tz_explicit=explicit)
    if qualname in _JSON_BARE:
        return TypeInfo(ir.JsonType(dict(_JSON_BARE[qualname])), location)
    if qualname in _NOT_FIELDS or qualname == "typing.Annotated":
        raise error(scope, expr, f"{ctx.what}: {qualname} needs type arguments here")
    raise error(
        scope,
        expr,
        f"{ctx.what}: unsupported type {ast.unparse(expr)!r} ({qualname})",
        "supported: int, str, float, bool, bytes, Decimal, date, datetime, time, UUID, "
        "enums, Literal, list[...], dict[str, ...]",
    )


# --------------------------------------------------------------------------- generics


def _type_args(expr: ast.Subscript) -> list[ast.expr]:
    if isinstance(expr.slice, ast.Tuple):
        return list(expr.slice.elts)
    return [expr.slice]


def _generic(ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, depth: int) -> TypeInfo:
    resolved = scope.resolve(expr.value)
    if not isinstance(resolved, External) or resolved.qualname not in _GENERICS:
        shown = ast.unparse(expr.value)
        raise error(
            scope,
            expr,
            f"{ctx.what}: unsupported generic type {shown!r}",
            "use Optional, Union, Annotated, Literal, list or dict",
        )
    return _GENERICS[resolved.qualname](ctx, scope, expr, _type_args(expr), depth)


GenericReader = Callable[[TypeContext, ModuleScope, ast.Subscript, list[ast.expr], int], TypeInfo]


def _optional(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    if len(args) != 1:
        raise error(scope, expr, f"{ctx.what}: Optional takes exactly one type")
    return _union(ctx, scope, expr, [args[0], ast.Constant(None)], depth)


def _union_generic(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    return _union(ctx, scope, expr, args, depth)


def _annotated(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    if len(args) < 2:
        raise error(scope, expr, f"{ctx.what}: Annotated needs a type and at least one marker")
    info = read_type(ctx, scope, args[0], depth + 1)
    for meta in args[1:]:
        read_marker(ctx, scope, meta, info)
    return info


def _literal(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    values: list[str | int] = []
    nullable = False
    for arg in args:
        try:
            value = literal(scope, arg)
        except NotLiteral:
            raise error(
                scope, arg, f"{ctx.what}: Literal value {ast.unparse(arg)!r} is not a constant"
            ) from None
        if value is None:
            nullable = True
        elif isinstance(value, bool) or not isinstance(value, str | int):
            raise error(
                scope, arg, f"{ctx.what}: Literal values must be strings or integers, not {value!r}"
            )
        elif value not in values:
            values.append(value)
    if not values:
        raise error(scope, expr, f"{ctx.what}: Literal needs at least one value")
    if len({type(v) for v in values}) > 1:
        raise error(scope, expr, f"{ctx.what}: Literal mixes strings and integers")
    info = TypeInfo(ir.EnumType(ctx.enum_name, tuple(values)), scope.location(expr), literal=True)
    info.nullable = nullable
    return info


def _list(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    if len(args) != 1:
        raise error(scope, expr, f"{ctx.what}: list takes exactly one item type")
    item = read_type(replace(ctx, what=f"{ctx.what} (list item)"), scope, args[0], depth + 1)
    location = scope.location(expr)
    _reject_field_markers(scope, item, "list items")
    if item.type.kind in _COLUMN_KINDS and not item.nullable:
        constraints = ir.Constraints(**item.constraints) if item.constraints else None
        info = TypeInfo(ir.ArrayType(item.type, constraints), location, enum=item.enum)
        info.literal = item.literal
        return info
    return TypeInfo(
        ir.JsonType({"type": "array", "items": json_schema(scope, args[0], item)}), location
    )


def _dict(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    if len(args) != 2:
        raise error(scope, expr, f"{ctx.what}: dict takes a key type and a value type")
    key = read_type(ctx, scope, args[0], depth + 1)
    if key.type != ir.StringType() or key.nullable or key.constraints:
        raise error(scope, args[0], f"{ctx.what}: JSON object keys are strings; use dict[str, ...]")
    value = read_type(replace(ctx, what=f"{ctx.what} (dict value)"), scope, args[1], depth + 1)
    _reject_field_markers(scope, value, "dict values")
    schema: dict[str, JsonValue] = {"type": "object"}
    value_schema = json_schema(scope, args[1], value)
    if value_schema:
        schema["additionalProperties"] = value_schema
    return TypeInfo(ir.JsonType(schema), scope.location(expr))


def _not_a_field(
    ctx: TypeContext, scope: ModuleScope, expr: ast.Subscript, args: list[ast.expr], depth: int
) -> TypeInfo:
    raise error(scope, expr, f"{ctx.what}: {ast.unparse(expr.value)} is not allowed here")


_GENERICS: dict[str, GenericReader] = {
    "typing.Optional": _optional,
    "typing.Union": _union_generic,
    "typing.Annotated": _annotated,
    "typing.Literal": _literal,
    "builtins.list": _list,
    "typing.List": _list,
    "builtins.dict": _dict,
    "typing.Dict": _dict,
    "typing.Mapping": _dict,
    **{name: _not_a_field for name in _NOT_FIELDS},
}


def _reject_field_markers(scope: ModuleScope, info: TypeInfo, where: str) -> None:
    if info.markers:
        marker = info.markers[0]
        raise SourceError(
            marker.location,
            f"marker {marker.kind} cannot apply to {where}",
            "put persistence markers on the field's own Annotated",
        )


_JSON_KIND_SCHEMAS: dict[str, dict[str, JsonValue]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "boolean": {"type": "boolean"},
}

_SCHEMA_KEYS: dict[str, str] = {
    "max_length": "maxLength",
    "min_length": "minLength",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusive_minimum": "exclusiveMinimum",
    "exclusive_maximum": "exclusiveMaximum",
    "multiple_of": "multipleOf",
    "max_items": "maxItems",
    "min_items": "minItems",
}


def json_schema(scope: ModuleScope, node: ast.expr, info: TypeInfo) -> dict[str, JsonValue]:
    """Return the JSON Schema of a value nested in a JSON field; plain JSON types only."""
    kind = info.type.kind
    schema: dict[str, JsonValue]
    if isinstance(info.type, ir.JsonType):
        schema = dict(info.type.schema)
    elif kind in _JSON_KIND_SCHEMAS:
        schema = dict(_JSON_KIND_SCHEMAS[kind])
    elif isinstance(info.type, ir.EnumType) and info.literal:
        schema = {"enum": list(info.type.values)}
    elif isinstance(info.type, ir.ArrayType) and info.type.item.kind in _JSON_KIND_SCHEMAS:
        items = dict(_JSON_KIND_SCHEMAS[info.type.item.kind])
        if info.type.item_constraints is not None:
            items.update(_schema_constraints(info.type.item_constraints.to_json()))
        schema = {"type": "array", "items": items}
    else:
        raise error(
            scope,
            node,
            f"{ast.unparse(node)} cannot be stored inside a JSON value",
            "inside dict/list use str, int, float, bool, None, Any, Literal, list or dict",
        )
    schema.update(_schema_constraints(info.constraints))
    if info.nullable:
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        elif schema:
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _schema_constraints(constraints: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {_SCHEMA_KEYS[k]: v for k, v in constraints.items() if k in _SCHEMA_KEYS}
