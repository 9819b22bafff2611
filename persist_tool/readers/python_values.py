"""Evaluate constant expressions and enum classes in Python sources without running them.

Only literals and a closed set of constructors are evaluated: numbers, strings, bytes,
``None``, containers of those, arithmetic on numbers, ``Decimal("1.50")``, ``date(...)``,
``time(...)``, ``UUID("...")``, enum members and top-level constants defined with such
values. Anything else is :class:`NotLiteral`, and the caller decides whether that is an error
or a documented fallback.
"""

from __future__ import annotations

import ast
import base64
import datetime as _dt
import operator
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from persist_tool.ir import JsonValue, Location, SourceError
from persist_tool.readers.python_scope import External, LocalAlias, LocalClass, ModuleScope

__all__ = [
    "EnumInfo",
    "EnumMember",
    "NotLiteral",
    "bind_call",
    "literal",
    "read_enum",
    "to_json_value",
]

_MAX_EXPONENT = 256


class NotLiteral(Exception):
    """The expression is not a constant the reader can evaluate."""

    def __init__(self, node: ast.AST) -> None:
        super().__init__(ast.unparse(node) if isinstance(node, ast.expr) else "")
        self.node = node


@dataclass(frozen=True, slots=True)
class EnumMember:
    """A member of an enum class of the package, by class name, member name and value."""

    enum: str
    name: str
    value: str | int


@dataclass(frozen=True, slots=True)
class EnumInfo:
    """An ``Enum``/``StrEnum``/``IntEnum`` class read from source."""

    name: str
    module: str
    members: Mapping[str, str | int]
    location: Location

    @property
    def values(self) -> tuple[str | int, ...]:
        """The distinct member values in definition order (aliases folded)."""
        return tuple(dict.fromkeys(self.members.values()))


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}

_NUMBERS = (int, float, Decimal)


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


def literal(scope: ModuleScope, expr: ast.expr, depth: int = 0) -> object:
    """Return the value of a constant expression, or raise :class:`NotLiteral`."""
    if depth > 20:
        raise NotLiteral(expr)
    handler = _LITERAL_HANDLERS.get(type(expr))
    if handler is None:
        raise NotLiteral(expr)
    return handler(scope, expr, depth + 1)


def _constant(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    assert isinstance(expr, ast.Constant)
    return expr.value


def _unary(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    assert isinstance(expr, ast.UnaryOp)
    value = literal(scope, expr.operand, depth)
    if not _is_number(value):
        raise NotLiteral(expr)
    if isinstance(expr.op, ast.USub):
        return -value  # type: ignore[operator]
    if isinstance(expr.op, ast.UAdd):
        return value
    raise NotLiteral(expr)


def _binary(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    assert isinstance(expr, ast.BinOp)
    fn = _BINARY.get(type(expr.op))
    left = literal(scope, expr.left, depth)
    right = literal(scope, expr.right, depth)
    if fn is None or not (_is_number(left) and _is_number(right)):
        if (
            isinstance(expr.op, ast.Add)
            and type(left) is type(right)
            and isinstance(left, str | bytes)
        ):
            return left + right  # type: ignore[operator]
        raise NotLiteral(expr)
    if fn is operator.pow and abs(right) > _MAX_EXPONENT:  # type: ignore[arg-type]
        raise NotLiteral(expr)
    try:
        return fn(left, right)
    except (ArithmeticError, TypeError, InvalidOperation):
        raise NotLiteral(expr) from None


def _sequence(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    assert isinstance(expr, ast.List | ast.Tuple)
    items = [literal(scope, e, depth) for e in expr.elts]
    return items if isinstance(expr, ast.List) else tuple(items)


def _mapping(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    assert isinstance(expr, ast.Dict)
    out: dict[object, object] = {}
    for key, value in zip(expr.keys, expr.values, strict=True):
        if key is None:
            raise NotLiteral(expr)
        out[literal(scope, key, depth)] = literal(scope, value, depth)
    return out


def _name(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    if isinstance(expr, ast.Attribute):
        try:
            return _enum_member(scope, expr)
        except NotLiteral:
            pass
    try:
        resolved = scope.resolve(expr)
    except SourceError:
        raise NotLiteral(expr) from None
    if isinstance(resolved, LocalAlias):
        try:
            return literal(resolved.scope, resolved.value, depth)
        except NotLiteral:
            raise NotLiteral(expr) from None
    raise NotLiteral(expr)


def _enum_member(scope: ModuleScope, expr: ast.Attribute) -> EnumMember:
    try:
        owner = scope.resolve(expr.value)
    except SourceError:
        raise NotLiteral(expr) from None
    if isinstance(owner, LocalClass):
        info = read_enum(owner)
        if info is not None and expr.attr in info.members:
            return EnumMember(info.name, expr.attr, info.members[expr.attr])
    raise NotLiteral(expr)


def _call(scope: ModuleScope, expr: ast.expr, depth: int) -> object:
    assert isinstance(expr, ast.Call)
    try:
        func = scope.resolve(expr.func)
    except SourceError:
        raise NotLiteral(expr) from None
    if not isinstance(func, External) or func.qualname not in _CONSTRUCTORS:
        raise NotLiteral(expr)
    if any(isinstance(a, ast.Starred) for a in expr.args) or any(
        k.arg is None for k in expr.keywords
    ):
        raise NotLiteral(expr)
    args = [literal(scope, a, depth) for a in expr.args]
    kwargs = {str(k.arg): literal(scope, k.value, depth) for k in expr.keywords}
    try:
        return _CONSTRUCTORS[func.qualname](*args, **kwargs)
    except (TypeError, ValueError, ArithmeticError, InvalidOperation):
        raise NotLiteral(expr) from None


def _decimal(*args: object) -> Decimal:
    if len(args) > 1 or (args and not isinstance(args[0], str | int)):
        raise TypeError("Decimal takes one str or int")
    return Decimal(args[0]) if args else Decimal()  # type: ignore[arg-type]


def _uuid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise TypeError("UUID takes a string")
    return uuid.UUID(value)


_CONSTRUCTORS: dict[str, Callable[..., object]] = {
    "decimal.Decimal": _decimal,
    "datetime.date": _dt.date,
    "datetime.time": _dt.time,
    "uuid.UUID": _uuid,
}

_LITERAL_HANDLERS: dict[type[ast.expr], Callable[[ModuleScope, ast.expr, int], object]] = {
    ast.Constant: _constant,
    ast.UnaryOp: _unary,
    ast.BinOp: _binary,
    ast.List: _sequence,
    ast.Tuple: _sequence,
    ast.Dict: _mapping,
    ast.Name: _name,
    ast.Attribute: _name,
    ast.Call: _call,
}


def to_json_value(value: object) -> JsonValue:
    """Return the JSON form of an evaluated constant (the form payloads use)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, EnumMember):
        return value.value
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_json_value(v) for k, v in value.items()}
    raise TypeError(f"not a JSON-representable constant: {value!r}")


# --------------------------------------------------------------------------- enums

_ENUM_BASES: dict[str, str] = {
    "enum.Enum": "enum",
    "enum.StrEnum": "str",
    "enum.IntEnum": "int",
}
_UNSUPPORTED_ENUM_BASES = frozenset({"enum.Flag", "enum.IntFlag", "enum.ReprEnum"})
_MIXINS: dict[str, str] = {"builtins.str": "str", "builtins.int": "int"}


def read_enum(cls: LocalClass) -> EnumInfo | None:
    """Return the enum a class defines, or ``None`` when it is not an enum class."""
    return _read_enum(cls)


def _read_enum(cls: LocalClass) -> EnumInfo | None:
    scope, node = cls.scope, cls.node
    flavour: str | None = None
    mixin: str | None = None
    for base in node.bases:
        try:
            resolved = scope.resolve(base)
        except SourceError:
            return None
        if not isinstance(resolved, External):
            continue
        if resolved.qualname in _UNSUPPORTED_ENUM_BASES:
            raise SourceError(
                scope.location(base),
                f"{node.name} derives from {resolved.qualname}: flag enums are not supported",
                "use Enum, StrEnum or IntEnum",
            )
        flavour = _ENUM_BASES.get(resolved.qualname, flavour)
        mixin = _MIXINS.get(resolved.qualname, mixin)
    if flavour is None:
        return None
    kind = flavour if flavour != "enum" else (mixin or "enum")
    members: dict[str, str | int] = {}
    last_int = 0
    for stmt in node.body:
        target, value = _member_statement(stmt)
        if target is None or value is None:
            continue
        if target.startswith("_"):
            continue
        member = _member_value(scope, value, target, kind, last_int)
        if isinstance(member, int):
            last_int = member
        members[target] = member
    if not members:
        raise SourceError(
            scope.location(node),
            f"enum {node.name} has no members",
            "an enum field needs at least one value",
        )
    kinds = {type(v) for v in members.values()}
    if len(kinds) > 1:
        raise SourceError(
            scope.location(node),
            f"enum {node.name} mixes string and integer values",
            "use StrEnum (all strings) or IntEnum (all integers)",
        )
    return EnumInfo(node.name, scope.module, members, scope.location(node))


def _member_statement(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def _member_value(
    scope: ModuleScope, value: ast.expr, name: str, kind: str, last_int: int
) -> str | int:
    if isinstance(value, ast.Call) and not value.args and not value.keywords:
        try:
            func = scope.resolve(value.func)
        except SourceError:
            func = None
        if isinstance(func, External) and func.qualname == "enum.auto":
            return name.lower() if kind == "str" else last_int + 1
    try:
        result = literal(scope, value)
    except NotLiteral:
        raise SourceError(
            scope.location(value),
            f"enum member {name} has a value the reader cannot evaluate: {ast.unparse(value)}",
            "give enum members literal string or integer values (or auto())",
        ) from None
    if isinstance(result, bool) or not isinstance(result, str | int):
        raise SourceError(
            scope.location(value),
            f"enum member {name} has value {result!r}; only strings and integers are supported",
        )
    if kind == "str" and not isinstance(result, str):
        raise SourceError(scope.location(value), f"StrEnum member {name} must be a string")
    if kind == "int" and not isinstance(result, int):
        raise SourceError(scope.location(value), f"IntEnum member {name} must be an integer")
    return result


# --------------------------------------------------------------------------- calls


def bind_call(
    scope: ModuleScope,
    call: ast.Call,
    what: str,
    allowed: Mapping[str, str],
    positional: tuple[str, ...] = (),
) -> dict[str, ast.expr]:
    """Match a call's arguments to parameter names; unknown ones are a ``SourceError``.

    ``allowed`` maps every accepted keyword to what the reader does with it (used in the
    hint); ``positional`` names the parameters that may be given by position.
    """
    bound: dict[str, ast.expr] = {}
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            raise SourceError(
                scope.location(arg),
                f"{what}: *arguments cannot be read statically",
                "write the arguments out",
            )
        if index >= len(positional):
            raise SourceError(
                scope.location(arg),
                f"{what} takes at most {len(positional)} positional argument(s)",
                "pass the others by keyword",
            )
        bound[positional[index]] = arg
    for keyword in call.keywords:
        if keyword.arg is None:
            raise SourceError(
                scope.location(keyword.value),
                f"{what}: **arguments cannot be read statically",
                "write the arguments out",
            )
        if keyword.arg not in allowed:
            raise SourceError(
                scope.location(keyword.value),
                f"{what}: unknown or unsupported argument {keyword.arg!r}",
                "supported: " + ", ".join(sorted(allowed)),
            )
        if keyword.arg in bound:
            raise SourceError(
                scope.location(keyword.value), f"{what}: argument {keyword.arg!r} given twice"
            )
        bound[keyword.arg] = keyword.value
    return bound
