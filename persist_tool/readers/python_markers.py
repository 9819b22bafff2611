"""Persistence markers, constraints and constrained types in Python annotations.

``Annotated[...]`` metadata is matched by qualified name against :data:`MARKERS`: the
runtime markers (``PrimaryKey``, ``Unique``, ``Immutable``, ``Index``, ``MaxLen``,
``RenamedFrom``), pydantic ``Field``/``StringConstraints`` and annotated-types bounds.
Anything else is an error: an unknown marker could change what is stored.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from persist_tool import ir
from persist_tool.ir import JsonValue, Location, SourceError
from persist_tool.readers.python_scope import External, ModuleScope
from persist_tool.readers.python_values import EnumInfo, NotLiteral, bind_call, literal

__all__ = [
    "CONSTRAINT_KEYS",
    "MARKERS",
    "Marker",
    "TypeContext",
    "TypeInfo",
    "apply_constraint",
    "constrained_type",
    "error",
    "read_marker",
    "read_pydantic_field",
]

_NUMERIC_KINDS = frozenset({"integer", "float", "decimal"})


def error(scope: ModuleScope, node: ast.AST, message: str, hint: str | None = None) -> SourceError:
    """Return a ``SourceError`` at ``node`` of ``scope``."""
    return SourceError(scope.location(node), message, hint)


@dataclass(frozen=True, slots=True)
class Marker:
    """A persistence marker found in an annotation or field call (``Unique``, ``Index``...)."""

    kind: str
    location: Location
    args: dict[str, JsonValue] = field(default_factory=dict)


@dataclass(slots=True)
class TypeInfo:
    """What an annotation says about a field."""

    type: ir.FieldType
    location: Location
    nullable: bool = False
    constraints: dict[str, JsonValue] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)
    tz_explicit: bool = False
    enum: EnumInfo | None = None
    literal: bool = False
    doc: str | None = None


@dataclass(frozen=True, slots=True)
class TypeContext:
    """Where an annotation is read: for names of ``Literal`` enums and error messages."""

    enum_name: str
    what: str
    """``field 'x' of Account`` or ``parameter 'amount' of Account.deposit``."""


# --------------------------------------------------------------------------- constraints

_LENGTH_KEYS: dict[str, dict[str, str]] = {
    "max_length": {"string": "max_length", "array": "max_items"},
    "min_length": {"string": "min_length", "array": "min_items"},
    "pattern": {"string": "pattern"},
}
_BOUND_KEYS: dict[str, str] = {
    "ge": "minimum",
    "gt": "exclusive_minimum",
    "le": "maximum",
    "lt": "exclusive_maximum",
    "multiple_of": "multiple_of",
}
_DECIMAL_KEYS = frozenset({"max_digits", "decimal_places"})

CONSTRAINT_KEYS: frozenset[str] = frozenset(_LENGTH_KEYS) | frozenset(_BOUND_KEYS) | _DECIMAL_KEYS
"""Constraint keyword names shared by pydantic, annotated-types and the runtime markers."""


def apply_constraint(
    scope: ModuleScope, node: ast.expr, info: TypeInfo, key: str, value_node: ast.expr
) -> None:
    """Apply one constraint (pydantic spelling: ``max_length``, ``ge``...) to ``info``."""
    try:
        value = literal(scope, value_node)
    except NotLiteral:
        raise error(
            scope, value_node, f"constraint {key}={ast.unparse(value_node)} is not a constant"
        ) from None
    if value is None:
        return
    kind = info.type.kind
    if key in _LENGTH_KEYS:
        target = _LENGTH_KEYS[key].get(kind)
        if target is None:
            raise error(scope, node, f"constraint {key} does not apply to a {kind} field")
        expected: type | tuple[type, ...] = str if key == "pattern" else int
        _set(scope, node, info, target, _checked(scope, value_node, key, value, expected))
    elif key in _BOUND_KEYS:
        if kind not in _NUMERIC_KINDS:
            raise error(scope, node, f"constraint {key} does not apply to a {kind} field")
        number = _number(scope, value_node, key, value)
        _set(scope, node, info, _BOUND_KEYS[key], number)
    elif key in _DECIMAL_KEYS:
        if not isinstance(info.type, ir.DecimalType):
            raise error(scope, node, f"{key} applies only to Decimal fields")
        digits = _checked(scope, value_node, key, value, int)
        attr = "precision" if key == "max_digits" else "scale"
        info.type = replace(info.type, **{attr: digits})
    else:  # pragma: no cover - callers pass only CONSTRAINT_KEYS
        raise error(scope, node, f"unknown constraint {key}")


def _checked(
    scope: ModuleScope, node: ast.expr, key: str, value: object, expected: type | tuple[type, ...]
) -> JsonValue:
    if isinstance(value, bool) or not isinstance(value, expected):
        raise error(
            scope,
            node,
            f"constraint {key} expects {getattr(expected, '__name__', expected)}, got {value!r}",
        )
    if isinstance(value, int) and value < 0:
        raise error(scope, node, f"constraint {key} must not be negative")
    return value


def _number(scope: ModuleScope, node: ast.expr, key: str, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise error(scope, node, f"constraint {key} expects a number, got {value!r}")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _set(scope: ModuleScope, node: ast.expr, info: TypeInfo, key: str, value: JsonValue) -> None:
    previous = info.constraints.get(key)
    if previous is not None and previous != value:
        raise error(scope, node, f"constraint {key} given twice: {previous!r} and {value!r}")
    info.constraints[key] = value


# --------------------------------------------------------------------------- markers and calls


def constrained_type(ctx: TypeContext, scope: ModuleScope, expr: ast.Call) -> TypeInfo:
    resolved = scope.resolve(expr.func)
    name = resolved.qualname if isinstance(resolved, External) else ""
    if name not in _CONSTRAINED_TYPES:
        raise error(
            scope,
            expr,
            f"{ctx.what}: unsupported annotation {ast.unparse(expr)!r}",
            "the reader understands pydantic constr, conint, confloat and condecimal",
        )
    base, allowed = _CONSTRAINED_TYPES[name]
    info = TypeInfo(base, scope.location(expr))
    for key, value in bind_call(scope, expr, name, allowed).items():
        if key in CONSTRAINT_KEYS:
            apply_constraint(scope, expr, info, key, value)
        elif _truthy_flag(scope, value):
            raise error(
                scope, value, f"{name}({key}=...) changes values; the reader cannot mirror it"
            )
    return info


def _truthy_flag(scope: ModuleScope, node: ast.expr) -> bool:
    try:
        return bool(literal(scope, node))
    except NotLiteral:
        return True


_NUMBER_ARGS = {k: "bound" for k in _BOUND_KEYS} | {"strict": "ignored"}
_CONSTRAINED_TYPES: dict[str, tuple[ir.FieldType, dict[str, str]]] = {
    "pydantic.constr": (
        ir.StringType(),
        {k: "length" for k in _LENGTH_KEYS}
        | {
            "strict": "ignored",
            "strip_whitespace": "rejected",
            "to_lower": "rejected",
            "to_upper": "rejected",
        },
    ),
    "pydantic.conint": (ir.IntegerType(64), _NUMBER_ARGS),
    "pydantic.confloat": (ir.FloatType(64), _NUMBER_ARGS | {"allow_inf_nan": "ignored"}),
    "pydantic.condecimal": (
        ir.DecimalType(),
        _NUMBER_ARGS | {"max_digits": "precision", "decimal_places": "scale"},
    ),
}


def read_marker(ctx: TypeContext, scope: ModuleScope, expr: ast.expr, info: TypeInfo) -> None:
    """Apply one ``Annotated`` metadata item to ``info``; unknown markers are errors."""
    call = expr if isinstance(expr, ast.Call) else None
    target = call.func if call is not None else expr
    if not isinstance(target, ast.Name | ast.Attribute):
        raise error(
            scope,
            expr,
            f"{ctx.what}: unknown marker {ast.unparse(expr)!r} in Annotated",
            "markers: PrimaryKey, Unique, Immutable, Index, MaxLen, RenamedFrom, pydantic Field",
        )
    resolved = scope.resolve(target)
    name = resolved.qualname if isinstance(resolved, External) else ""
    handler = MARKERS.get(name)
    if handler is None:
        raise error(
            scope,
            expr,
            f"{ctx.what}: unknown marker {ast.unparse(expr)!r} in Annotated",
            "markers: PrimaryKey, Unique, Immutable, Index, MaxLen, RenamedFrom, pydantic Field",
        )
    handler(ctx, scope, expr, call, info)


MarkerReader = Callable[[TypeContext, ModuleScope, ast.expr, ast.Call | None, TypeInfo], None]


def _flag(kind: str) -> MarkerReader:
    def read(
        ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
    ) -> None:
        if call is not None:
            raise error(
                scope, expr, f"{kind} is used without parentheses", f"write Annotated[..., {kind}]"
            )
        info.markers.append(Marker(kind, scope.location(expr)))

    return read


def _bool_arg(scope: ModuleScope, node: ast.expr, what: str) -> bool:
    try:
        value = literal(scope, node)
    except NotLiteral:
        value = None
    if not isinstance(value, bool):
        raise error(scope, node, f"{what} must be True or False")
    return value


def _primary_key(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    args = bind_call(scope, call, "PrimaryKey", {"auto": "generated"}, ("auto",)) if call else {}
    auto = _bool_arg(scope, args["auto"], "PrimaryKey(auto=...)") if "auto" in args else False
    info.markers.append(Marker("PrimaryKey", scope.location(expr), {"auto": auto}))


def _index(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    allowed = {"name": "index name", "unique": "unique index"}
    args = bind_call(scope, call, "Index", allowed, ("name", "unique")) if call else {}
    name: JsonValue = None
    if "name" in args:
        try:
            name = literal(scope, args["name"])
        except NotLiteral:
            name = 0
        if name is not None and not (isinstance(name, str) and name):
            raise error(scope, args["name"], "Index(name=...) must be a non-empty string")
    unique = _bool_arg(scope, args["unique"], "Index(unique=...)") if "unique" in args else False
    info.markers.append(Marker("Index", scope.location(expr), {"name": name, "unique": unique}))


def _max_len(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    if call is None:
        raise error(scope, expr, "MaxLen needs a length", "write MaxLen(80)")
    args = bind_call(scope, call, "MaxLen", {"n": "maximum length"}, ("n",))
    if "n" not in args:
        raise error(scope, expr, "MaxLen needs a length", "write MaxLen(80)")
    apply_constraint(scope, expr, info, "max_length", args["n"])


def _renamed_from(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    if call is None or not call.args or call.keywords:
        raise error(scope, expr, "RenamedFrom needs the earlier names", 'write RenamedFrom("old")')
    names: list[JsonValue] = []
    for arg in call.args:
        try:
            value = literal(scope, arg)
        except NotLiteral:
            value = None
        if not isinstance(value, str) or not value.isidentifier():
            raise error(scope, arg, "RenamedFrom takes earlier field names as string literals")
        names.append(value)
    info.markers.append(Marker("RenamedFrom", scope.location(expr), {"names": names}))


def _keyword_constraints(
    name: str, allowed: dict[str, str], positional: tuple[str, ...] = ()
) -> MarkerReader:
    def read(
        ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
    ) -> None:
        if call is None:
            raise error(scope, expr, f"{name} needs arguments")
        for key, value in bind_call(scope, call, name, allowed, positional).items():
            apply_constraint(scope, expr, info, allowed[key], value)

    return read


def _pydantic_field(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    if call is None:
        raise error(scope, expr, "Field must be called: Field(...)")
    read_pydantic_field(scope, call, info, allow_default=False)


_PYDANTIC_FIELD_ARGS: dict[str, str] = {
    **{key: "constraint" for key in CONSTRAINT_KEYS},
    "default": "default",
    "default_factory": "default",
    "description": "doc",
    "frozen": "immutable",
    "title": "ignored",
    "examples": "ignored",
    "json_schema_extra": "ignored",
    "strict": "ignored",
    "repr": "ignored",
    "deprecated": "ignored",
    "exclude": "ignored",
    "kw_only": "ignored",
}
_PYDANTIC_DEFAULT_ARGS = ("default", "default_factory")


def read_pydantic_field(
    scope: ModuleScope, call: ast.Call, info: TypeInfo, *, allow_default: bool
) -> dict[str, ast.expr]:
    """Apply a pydantic ``Field(...)`` call to ``info``; return its default arguments.

    Constraints go to the type, ``description`` to the doc, ``frozen=True`` makes the field
    immutable. Aliases are rejected: the generated code constructs the user's class with
    attribute names.
    """
    args = bind_call(scope, call, "Field", _PYDANTIC_FIELD_ARGS, ("default",))
    defaults = {k: v for k, v in args.items() if k in _PYDANTIC_DEFAULT_ARGS}
    if defaults and not allow_default:
        node = next(iter(defaults.values()))
        raise error(
            scope,
            node,
            "a default inside Annotated[..., Field(...)] is not read",
            "give the default after '=' instead",
        )
    for key, value in args.items():
        if key in CONSTRAINT_KEYS:
            apply_constraint(scope, call, info, key, value)
        elif key == "description":
            try:
                doc = literal(scope, value)
            except NotLiteral:
                doc = None
            if not isinstance(doc, str):
                raise error(scope, value, "Field(description=...) must be a string literal")
            info.doc = doc
        elif key == "frozen" and _bool_arg(scope, value, "Field(frozen=...)"):
            info.markers.append(Marker("Immutable", scope.location(value)))
    return defaults


def _generated(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    args = bind_call(scope, call, "Generated", {"sql": "SQL default"}, ("sql",)) if call else {}
    sql: object = "CURRENT_TIMESTAMP"
    if "sql" in args:
        try:
            sql = literal(scope, args["sql"])
        except NotLiteral:
            sql = None
    if not isinstance(sql, str) or not sql.strip():
        raise error(scope, args["sql"], "Generated(sql=...) must be a non-empty string literal")
    info.markers.append(Marker("Generated", scope.location(expr), {"sql": sql}))


def _utc(
    ctx: TypeContext, scope: ModuleScope, expr: ast.expr, call: ast.Call | None, info: TypeInfo
) -> None:
    if call is not None or not isinstance(info.type, ir.DateTimeType):
        raise error(
            scope,
            expr,
            f"{ctx.what}: a time zone marker applies to datetime fields only",
            "write Annotated[datetime, timezone.utc] for zone-aware timestamps",
        )
    info.type = ir.DateTimeType(tz=True)
    info.tz_explicit = True


MARKERS: dict[str, MarkerReader] = {
    "persist_runtime.Generated": _generated,
    "datetime.timezone.utc": _utc,
    "datetime.UTC": _utc,
    "persist_runtime.PrimaryKey": _primary_key,
    "persist_runtime.Unique": _flag("Unique"),
    "persist_runtime.Immutable": _flag("Immutable"),
    "persist_runtime.Index": _index,
    "persist_runtime.MaxLen": _max_len,
    "persist_runtime.RenamedFrom": _renamed_from,
    "pydantic.Field": _pydantic_field,
    "pydantic.StringConstraints": _keyword_constraints(
        "StringConstraints", {k: k for k in _LENGTH_KEYS}
    ),
    "annotated_types.Gt": _keyword_constraints("Gt", {"gt": "gt"}, ("gt",)),
    "annotated_types.Ge": _keyword_constraints("Ge", {"ge": "ge"}, ("ge",)),
    "annotated_types.Lt": _keyword_constraints("Lt", {"lt": "lt"}, ("lt",)),
    "annotated_types.Le": _keyword_constraints("Le", {"le": "le"}, ("le",)),
    "annotated_types.MultipleOf": _keyword_constraints(
        "MultipleOf", {"multiple_of": "multiple_of"}, ("multiple_of",)
    ),
    "annotated_types.MinLen": _keyword_constraints(
        "MinLen", {"min_length": "min_length"}, ("min_length",)
    ),
    "annotated_types.MaxLen": _keyword_constraints(
        "MaxLen", {"max_length": "max_length"}, ("max_length",)
    ),
    "annotated_types.Len": _keyword_constraints(
        "Len",
        {"min_length": "min_length", "max_length": "max_length"},
        ("min_length", "max_length"),
    ),
    "annotated_types.Interval": _keyword_constraints(
        "Interval", {k: k for k in ("gt", "ge", "lt", "le")}
    ),
}
"""Qualified marker name -> reader applying it to the field's type info."""
