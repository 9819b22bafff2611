"""Read one entity attribute (or command parameter) into an IR field.

Handles the field-declaring calls of each class flavour (``dataclasses.field``, attrs
``field``/``attr.ib``/``Factory``, pydantic ``Field``), defaults and default factories.

A default the reader cannot evaluate (``= compute()``, ``default_factory=make_code``) takes
the documented fallback: the IR records no default, so the ``Draft`` requires the value,
and a warning names the place. Nothing is guessed.
"""

from __future__ import annotations

import ast
import datetime as _dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from persist_tool import ir, naming
from persist_tool.ir import JsonValue, SourceError
from persist_tool.readers.base import Diagnostic
from persist_tool.readers.python_markers import (
    Marker,
    TypeContext,
    TypeInfo,
    read_pydantic_field,
)
from persist_tool.readers.python_scope import External, ModuleScope
from persist_tool.readers.python_types import (
    read_type,
)
from persist_tool.readers.python_values import (
    EnumMember,
    NotLiteral,
    bind_call,
    literal,
    to_json_value,
)

__all__ = ["FieldContext", "ReadField", "field_call_name", "read_default", "read_field"]


@dataclass(slots=True)
class FieldContext:
    """The class being read: module, entity name, flavour and the warnings collected."""

    scope: ModuleScope
    entity: str
    flavour: str
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadField:
    """A field and the entity-level markers (primary key, unique, index) found on it."""

    field: ir.Field
    markers: tuple[Marker, ...]


_IGNORED = "ignored"
_DATACLASS_FIELD: dict[str, str] = {
    "default": "default",
    "default_factory": "factory",
    "init": "checked",
    "repr": _IGNORED,
    "hash": _IGNORED,
    "compare": _IGNORED,
    "metadata": _IGNORED,
    "kw_only": _IGNORED,
}
_ATTRS_FIELD: dict[str, str] = {
    "default": "default",
    "factory": "factory",
    "init": "checked",
    "alias": "checked",
    "converter": "checked",
    "on_setattr": "checked",
    "validator": _IGNORED,
    "repr": _IGNORED,
    "eq": _IGNORED,
    "order": _IGNORED,
    "hash": _IGNORED,
    "metadata": _IGNORED,
    "kw_only": _IGNORED,
}
_FIELD_FUNCTIONS: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    "dataclasses.field": ("dataclass", _DATACLASS_FIELD, ()),
    "attrs.field": ("attrs", _ATTRS_FIELD, ()),
    "attr.field": ("attrs", _ATTRS_FIELD, ()),
    "attr.ib": ("attrs", _ATTRS_FIELD | {"type": "annotation"}, ("default",)),
    "attr.attrib": ("attrs", _ATTRS_FIELD | {"type": "annotation"}, ("default",)),
    "attrs.attrib": ("attrs", _ATTRS_FIELD | {"type": "annotation"}, ("default",)),
    "pydantic.Field": ("pydantic", {}, ()),
}
_ATTRS_FACTORY = frozenset({"attrs.Factory", "attr.Factory"})
_ATTRS_FROZEN_SETTERS = frozenset({"attrs.setters.frozen", "attr.setters.frozen"})


def field_call_name(scope: ModuleScope, value: ast.expr | None) -> str | None:
    """Return the qualified name of a field-declaring call (``dataclasses.field``), if any."""
    if not isinstance(value, ast.Call):
        return None
    try:
        resolved = scope.resolve(value.func)
    except SourceError:
        return None
    if isinstance(resolved, External) and resolved.qualname in _FIELD_FUNCTIONS:
        return resolved.qualname
    return None


def read_field(
    fctx: FieldContext,
    name: str,
    annotation: ast.expr | None,
    value: ast.expr | None,
    stmt: ast.stmt,
    doc: str | None,
) -> ReadField:
    """Read one attribute of an entity class."""
    scope = fctx.scope
    location = scope.location(stmt)
    what = f"field {name!r} of {fctx.entity}"
    call_name = field_call_name(scope, value)
    default_node: ast.expr | None = value
    factory_node: ast.expr | None = None
    args: dict[str, ast.expr] = {}
    if call_name is not None:
        assert isinstance(value, ast.Call)
        flavour, allowed, positional = _FIELD_FUNCTIONS[call_name]
        if flavour != fctx.flavour:
            raise SourceError(
                scope.location(value),
                f"{what}: {call_name}() belongs to {flavour} classes, "
                f"but {fctx.entity} is a {fctx.flavour} class",
                "use the field function of the class's own library",
            )
        default_node = None
        if call_name != "pydantic.Field":
            args = bind_call(scope, value, call_name, allowed, positional)
            annotation = _attrs_type(scope, what, annotation, args, value)
    if annotation is None:
        raise SourceError(location, f"{what} has no type annotation", "annotate the attribute")
    info = read_type(TypeContext(fctx.entity + naming.pascal_case(name), what), scope, annotation)
    if call_name == "pydantic.Field":
        assert isinstance(value, ast.Call)
        args = read_pydantic_field(scope, value, info, allow_default=True)
        args = {("factory" if k == "default_factory" else k): v for k, v in args.items()}
    elif call_name is not None:
        _check_field_args(scope, what, args, info)
        args = {_FIELD_FUNCTIONS[call_name][1][k]: v for k, v in args.items()}
    if call_name is not None:
        default_node = args.get("default")
        factory_node = args.get("factory")
        if default_node is not None and factory_node is not None:
            raise SourceError(scope.location(factory_node), f"{what}: both a default and a factory")
    if isinstance(default_node, ast.Constant) and default_node.value is Ellipsis:
        default_node = None  # pydantic's Field(...) means "required"
    default = read_default(fctx, what, info, default_node, factory_node, is_param=False)
    return _build(fctx, name, info, default, location, doc, what)


def _attrs_type(
    scope: ModuleScope,
    what: str,
    annotation: ast.expr | None,
    args: dict[str, ast.expr],
    call: ast.Call,
) -> ast.expr | None:
    given = args.pop("type", None)
    if given is not None and annotation is not None:
        raise SourceError(scope.location(given), f"{what}: type given twice (annotation and type=)")
    return annotation if given is None else given


def _check_field_args(
    scope: ModuleScope, what: str, args: dict[str, ast.expr], info: TypeInfo
) -> None:
    if "init" in args and _literal_or(scope, args["init"], None) is not True:
        raise SourceError(
            scope.location(args["init"]),
            f"{what} is left out of the constructor (init=False)",
            "persisted fields must be constructor arguments; drop init=False",
        )
    if "alias" in args:
        raise SourceError(
            scope.location(args["alias"]),
            f"{what} has a constructor alias; generated code passes attribute names",
            "drop alias=",
        )
    if "converter" in args:
        raise SourceError(
            scope.location(args["converter"]),
            f"{what} has a converter; stored values would not round-trip",
            "convert before constructing, or validate instead of converting",
        )
    if "on_setattr" in args:
        node = args.pop("on_setattr")
        try:
            resolved = scope.resolve(node)
        except SourceError:
            resolved = None
        if not isinstance(resolved, External) or resolved.qualname not in _ATTRS_FROZEN_SETTERS:
            raise SourceError(
                scope.location(node),
                f"{what}: on_setattr={ast.unparse(node)} cannot be read statically",
                "only attrs.setters.frozen (read as Immutable) is understood",
            )
        info.markers.append(Marker("Immutable", scope.location(node)))


def _literal_or(scope: ModuleScope, node: ast.expr, fallback: object) -> object:
    try:
        return literal(scope, node)
    except NotLiteral:
        return fallback


# --------------------------------------------------------------------------- defaults


def read_default(
    fctx: FieldContext,
    what: str,
    info: TypeInfo,
    value: ast.expr | None,
    factory: ast.expr | None,
    *,
    is_param: bool,
) -> ir.Default | None:
    """Return the IR default of a field from its default value or factory expression.

    For entity fields, an expression that cannot be evaluated statically gives no default
    and a warning (the Draft then requires the value); for command parameters it is an
    error, because the generated command must offer the same default.
    """
    scope = fctx.scope
    if isinstance(value, ast.Call) and _is_attrs_factory(scope, value):
        if len(value.args) != 1 or value.keywords:
            raise SourceError(scope.location(value), f"{what}: Factory takes one callable")
        factory = value.args[0]
        value = None
    if factory is not None:
        return _factory_default(fctx, what, info, factory, is_param)
    if value is None:
        return None
    try:
        evaluated = literal(scope, value)
    except NotLiteral:
        _fallback(fctx, what, value, is_param)
        return None
    if evaluated is None:
        if not info.nullable:
            raise SourceError(
                scope.location(value),
                f"{what} defaults to None but its type does not allow None",
                "annotate it as X | None",
            )
        return None
    if isinstance(evaluated, list | dict) and not evaluated:
        if fctx.flavour in ("dataclass", "attrs", "plain") and not is_param:
            raise SourceError(
                scope.location(value),
                f"{what}: a mutable default is shared between instances",
                "use a factory: "
                + ("factory=..." if fctx.flavour == "attrs" else "field(default_factory=...)"),
            )
        kind = "list" if isinstance(evaluated, list) else "dict"
        return _checked_factory(scope, what, info, kind, value)
    if not _default_fits(info, evaluated):
        raise SourceError(
            scope.location(value),
            f"{what}: default {ast.unparse(value)} does not match the type {info.type.kind}",
            _default_hint(info),
        )
    return ir.Default(ir.Default.LITERAL, to_json_value(evaluated))


def _is_attrs_factory(scope: ModuleScope, value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    try:
        resolved = scope.resolve(value.func)
    except SourceError:
        return False
    return isinstance(resolved, External) and resolved.qualname in _ATTRS_FACTORY


def _fallback(fctx: FieldContext, what: str, node: ast.expr, is_param: bool) -> None:
    scope = fctx.scope
    shown = ast.unparse(node)
    if is_param:
        raise SourceError(
            scope.location(node),
            f"{what}: default {shown} is computed, not a constant",
            "use a literal default (or None and compute the value in the method body)",
        )
    fctx.warnings.append(
        Diagnostic(
            scope.location(node),
            f"{what}: default {shown} is computed and cannot be read without running the "
            "code; the Draft requires this value",
        )
    )


# Factory callables by qualified name: (IR factory, tz of the values it makes or None).
_FACTORIES: dict[str, tuple[str, bool | None]] = {
    "builtins.list": ("list", None),
    "builtins.dict": ("dict", None),
    "datetime.datetime.now": ("now", False),
    "datetime.datetime.utcnow": ("now", False),
    "datetime.date.today": ("today", None),
    "uuid.uuid4": ("uuid4", None),
}
_UTC = frozenset({"datetime.timezone.utc", "datetime.UTC"})

_FACTORY_KINDS: dict[str, Callable[[ir.FieldType], bool]] = {
    "list": lambda t: isinstance(t, ir.ArrayType)
    or (isinstance(t, ir.JsonType) and t.schema.get("type") in (None, "array")),
    "dict": lambda t: isinstance(t, ir.JsonType) and t.schema.get("type") in (None, "object"),
    "now": lambda t: isinstance(t, ir.DateTimeType),
    "today": lambda t: isinstance(t, ir.DateType),
    "uuid4": lambda t: isinstance(t, ir.UuidType),
}


def _factory_default(
    fctx: FieldContext, what: str, info: TypeInfo, node: ast.expr, is_param: bool
) -> ir.Default | None:
    scope = fctx.scope
    recognised = _recognise_factory(scope, node)
    if recognised is None:
        _fallback(fctx, what, node, is_param)
        return None
    kind, tz = recognised
    default = _checked_factory(scope, what, info, kind, node)
    if tz is not None and isinstance(info.type, ir.DateTimeType):
        if info.tz_explicit and info.type.tz != tz:
            raise SourceError(
                scope.location(node),
                f"{what}: the factory makes {'aware' if tz else 'naive'} datetimes but the "
                f"annotation says {'aware' if info.type.tz else 'naive'}",
                "use datetime.now(timezone.utc) for aware values",
            )
        info.type = ir.DateTimeType(tz=tz)
        info.tz_explicit = True
    return default


def _checked_factory(
    scope: ModuleScope, what: str, info: TypeInfo, kind: str, node: ast.expr
) -> ir.Default:
    if not _FACTORY_KINDS[kind](info.type):
        raise SourceError(
            scope.location(node),
            f"{what}: a {kind} factory does not fit the type {info.type.kind}",
        )
    return ir.Default(ir.Default.FACTORY, kind)


def _recognise_factory(scope: ModuleScope, node: ast.expr) -> tuple[str, bool | None] | None:
    body: ast.expr | None = None
    if isinstance(node, ast.Lambda):
        if node.args.args or node.args.posonlyargs or node.args.kwonlyargs:
            return None
        body = node.body
    elif isinstance(node, ast.Name) and node.id in scope.functions:
        body = _returned_expression(scope.functions[node.id])
    else:
        try:
            resolved = scope.resolve(node)
        except SourceError:
            return None
        if isinstance(resolved, External):
            return _FACTORIES.get(resolved.qualname)
        return None
    if body is None:
        return None
    if isinstance(body, ast.List | ast.Dict) and not (
        body.elts if isinstance(body, ast.List) else body.keys
    ):
        return ("list" if isinstance(body, ast.List) else "dict"), None
    if isinstance(body, ast.Call):
        return _recognise_call(scope, body)
    return None


def _recognise_call(scope: ModuleScope, call: ast.Call) -> tuple[str, bool | None] | None:
    try:
        resolved = scope.resolve(call.func)
    except SourceError:
        return None
    if not isinstance(resolved, External) or resolved.qualname not in _FACTORIES:
        return None
    kind, tz = _FACTORIES[resolved.qualname]
    given = list(call.args) + [k.value for k in call.keywords if k.arg == "tz"]
    if len(call.keywords) > (1 if given[len(call.args) :] else 0):
        return None
    if not given:
        return kind, tz
    if resolved.qualname != "datetime.datetime.now" or len(given) != 1:
        return None
    try:
        zone = scope.resolve(given[0])
    except SourceError:
        return None
    if isinstance(zone, External) and zone.qualname in _UTC:
        return "now", True
    return None


def _returned_expression(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.expr | None:
    if isinstance(fn, ast.AsyncFunctionDef) or fn.args.args or fn.args.kwonlyargs:
        return None
    body = [
        s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        return body[0].value
    return None


def _not_bool(value: object, kinds: type | tuple[type, ...]) -> bool:
    return isinstance(value, kinds) and not isinstance(value, bool)


_FITS: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: _not_bool(v, int),
    "float": lambda v: _not_bool(v, (int, float)),
    "decimal": lambda v: _not_bool(v, (Decimal, int)),
    "boolean": lambda v: isinstance(v, bool),
    "date": lambda v: isinstance(v, _dt.date) and not isinstance(v, _dt.datetime),
    "datetime": lambda v: isinstance(v, _dt.datetime),
    "time": lambda v: isinstance(v, _dt.time),
    "uuid": lambda v: isinstance(v, uuid.UUID),
    "bytes": lambda v: isinstance(v, bytes),
}


def _default_fits(info: TypeInfo, value: object) -> bool:
    return _fits(info.type, info, value)


def _fits(ftype: ir.FieldType, info: TypeInfo, value: object) -> bool:
    if isinstance(ftype, ir.EnumType):
        if info.literal:
            return not isinstance(value, EnumMember | bool) and value in ftype.values
        return isinstance(value, EnumMember) and value.enum == ftype.name
    if isinstance(ftype, ir.ArrayType):
        return isinstance(value, list | tuple) and all(_fits(ftype.item, info, v) for v in value)
    if isinstance(ftype, ir.JsonType):
        try:
            to_json_value(value)
        except TypeError:
            return False
        return not _has_non_json(value)
    check = _FITS.get(ftype.kind)
    return check is not None and check(value)


def _has_non_json(value: object) -> bool:
    if isinstance(value, list | tuple):
        return any(_has_non_json(v) for v in value)
    if isinstance(value, dict):
        return any(_has_non_json(v) for v in value.values())
    return not (value is None or isinstance(value, bool | int | float | str))


def _default_hint(info: TypeInfo) -> str:
    if isinstance(info.type, ir.EnumType) and not info.literal:
        return f"use a member of {info.type.name}, e.g. {info.type.name}.<MEMBER>"
    if isinstance(info.type, ir.DecimalType):
        return 'write Decimal("1.50") rather than a float'
    return "give a literal of the field's type"


# --------------------------------------------------------------------------- assembly

_FIELD_MARKERS = frozenset({"PrimaryKey", "Unique", "Index"})


def _build(
    fctx: FieldContext,
    name: str,
    info: TypeInfo,
    default: ir.Default | None,
    location: ir.Location,
    doc: str | None,
    what: str,
) -> ReadField:
    generated = False
    immutable = False
    renamed: tuple[str, ...] = ()
    for marker in info.markers:
        if marker.kind == "PrimaryKey":
            immutable = True
            if info.nullable:
                raise SourceError(
                    marker.location,
                    f"{what}: a primary key cannot be None",
                    "drop '| None' (a generated key is given by create_...())",
                )
            if marker.args.get("auto"):
                if not isinstance(info.type, ir.IntegerType):
                    raise SourceError(
                        marker.location,
                        f"{what}: PrimaryKey(auto=True) needs an int key",
                        "for UUID keys use a default factory such as uuid.uuid4",
                    )
                if default is not None:
                    raise SourceError(
                        marker.location, f"{what}: a database-generated key cannot have a default"
                    )
                generated = True
        elif marker.kind == "Immutable":
            immutable = True
        elif marker.kind == "Generated":
            if default is not None and default.kind != ir.Default.SQL:
                raise SourceError(
                    marker.location,
                    f"{what}: a database-generated field cannot also have a Python default",
                    "drop the default: the database makes the value",
                )
            generated = True
            default = ir.Default(ir.Default.SQL, marker.args["sql"])
        elif marker.kind == "RenamedFrom":
            renamed += tuple(str(n) for n in marker.args["names"])
    if name in renamed:
        raise SourceError(location, f"{what} is declared renamed from its own name")
    constraints = ir.Constraints(**info.constraints) if info.constraints else ir.Constraints()
    extra: dict[str, JsonValue] = {}
    if info.enum is not None:
        extra["python_enum"] = {
            "module": info.enum.module,
            "name": info.enum.name,
            "members": [[member, value] for member, value in info.enum.members.items()],
        }
    elif info.literal:
        extra["python_literal"] = True
    result = ir.Field(
        name=name,
        column=name,
        type=info.type,
        nullable=info.nullable,
        default=default,
        generated=generated,
        immutable=immutable,
        doc=info.doc or doc,
        constraints=constraints,
        renamed_from=renamed,
        location=location,
        extra=extra,
    )
    kept = tuple(m for m in info.markers if m.kind in _FIELD_MARKERS)
    return ReadField(result, kept)
