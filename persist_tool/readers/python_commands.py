"""Read ``@command`` methods of an entity class into IR command definitions.

A command method's annotated parameters (after ``self``) are the command payload, with
their literal defaults; its docstring documents the command; ``@command(payload_version=N)``
versions the payload. Parameters that a payload cannot fill by name (``*args``,
``**kwargs``, positional-only) and unannotated parameters are errors.
"""

from __future__ import annotations

import ast

from persist_tool import ir, naming
from persist_tool.ir import SourceError
from persist_tool.readers.python_docs import docstring
from persist_tool.readers.python_fields import FieldContext, read_default
from persist_tool.readers.python_markers import TypeContext
from persist_tool.readers.python_scope import External
from persist_tool.readers.python_types import read_type
from persist_tool.readers.python_values import NotLiteral, bind_call, literal

__all__ = ["COMMAND", "command_decorator", "read_command"]

COMMAND = "persist_runtime.command"

_RESERVED_PARAMS = naming.RESERVED_FIELD_NAMES | {"name", "payload_version", "command"}
"""Names a parameter may not take: the generated command class defines them itself."""

_METHOD_WRAPPERS = frozenset({"builtins.staticmethod", "builtins.classmethod", "builtins.property"})


def command_decorator(
    fctx: FieldContext, fn: ast.FunctionDef | ast.AsyncFunctionDef
) -> ast.expr | None:
    """Return the ``@command`` decorator of a method, or ``None`` when it is not a command."""
    for decorator in fn.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        try:
            resolved = fctx.scope.resolve(target)
        except SourceError:
            continue
        if isinstance(resolved, External) and resolved.qualname == COMMAND:
            return decorator
    return None


def read_command(
    fctx: FieldContext, fn: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.expr
) -> ir.CommandDef:
    """Read one ``@command`` method."""
    scope = fctx.scope
    what = f"command {fctx.entity}.{fn.name}"
    if isinstance(fn, ast.AsyncFunctionDef):
        raise SourceError(
            scope.location(fn), f"{what} is async", "commands run inside a transaction: use def"
        )
    if fn.name.startswith("_"):
        raise SourceError(
            scope.location(fn), f"{what}: a command method must be public", "drop the underscore"
        )
    for other in fn.decorator_list:
        if other is decorator:
            continue
        target = other.func if isinstance(other, ast.Call) else other
        try:
            resolved = scope.resolve(target)
        except SourceError:
            resolved = None
        if isinstance(resolved, External) and resolved.qualname in _METHOD_WRAPPERS:
            raise SourceError(
                scope.location(other),
                f"{what}: a command is an instance method, not a {resolved.qualname[9:]}",
            )
    payload_version = _payload_version(fctx, decorator, what)
    params = _params(fctx, fn, what)
    return ir.CommandDef(
        name=fn.name,
        params=params,
        doc=docstring(fn),
        payload_version=payload_version,
        location=scope.location(fn),
    )


def _payload_version(fctx: FieldContext, decorator: ast.expr, what: str) -> int:
    if not isinstance(decorator, ast.Call):
        return 1
    scope = fctx.scope
    args = bind_call(scope, decorator, "command", {"payload_version": "payload version"})
    if "payload_version" not in args:
        return 1
    node = args["payload_version"]
    try:
        value = literal(scope, node)
    except NotLiteral:
        value = None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SourceError(
            scope.location(node),
            f"{what}: payload_version must be an integer literal >= 1",
        )
    return value


def _params(fctx: FieldContext, fn: ast.FunctionDef, what: str) -> tuple[ir.Field, ...]:
    scope = fctx.scope
    arguments = fn.args
    if arguments.vararg is not None:
        raise SourceError(
            scope.location(arguments.vararg),
            f"{what} takes *{arguments.vararg.arg}; a payload has named values only",
            "declare each parameter by name",
        )
    if arguments.kwarg is not None:
        raise SourceError(
            scope.location(arguments.kwarg),
            f"{what} takes **{arguments.kwarg.arg}; the payload schema must list every value",
            "declare each parameter by name",
        )
    positional = arguments.posonlyargs + arguments.args
    if not positional:
        raise SourceError(scope.location(fn), f"{what} has no 'self' parameter")
    if arguments.posonlyargs[1:]:
        node = arguments.posonlyargs[1]
        raise SourceError(
            scope.location(node),
            f"{what}: parameter {node.arg!r} is positional-only; payload values are passed by name",
            "remove the '/' marker",
        )
    # Defaults align to the end of the positional parameters.
    defaults: dict[str, ast.expr] = {}
    for arg, default in zip(
        positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True
    ):
        defaults[arg.arg] = default
    for arg, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        if kw_default is not None:
            defaults[arg.arg] = kw_default
    params: list[ir.Field] = []
    for arg in positional[1:] + arguments.kwonlyargs:
        params.append(_param(fctx, fn, arg, defaults.get(arg.arg), what))
    return tuple(params)


def _param(
    fctx: FieldContext, fn: ast.FunctionDef, arg: ast.arg, default: ast.expr | None, what: str
) -> ir.Field:
    scope = fctx.scope
    param_what = f"parameter {arg.arg!r} of {fctx.entity}.{fn.name}"
    if arg.annotation is None:
        raise SourceError(
            scope.location(arg),
            f"{param_what} has no type annotation",
            "annotate it: the annotation is the payload type",
        )
    if arg.arg in _RESERVED_PARAMS or arg.arg.startswith("_"):
        raise SourceError(
            scope.location(arg),
            f"{param_what}: the name {arg.arg!r} is reserved in generated command classes",
            "rename the parameter",
        )
    enum_name = fctx.entity + naming.pascal_case(fn.name) + naming.pascal_case(arg.arg)
    info = read_type(TypeContext(enum_name, param_what), scope, arg.annotation)
    if info.markers:
        marker = info.markers[0]
        raise SourceError(
            marker.location,
            f"{param_what}: {marker.kind} is a field marker and means nothing on a parameter",
        )
    ir_default = read_default(fctx, param_what, info, default, None, is_param=True)
    extra = {}
    if info.enum is not None:
        extra["python_enum"] = {
            "module": info.enum.module,
            "name": info.enum.name,
            "members": [[member, value] for member, value in info.enum.members.items()],
        }
    return ir.Field(
        name=arg.arg,
        column=arg.arg,
        type=info.type,
        nullable=info.nullable,
        default=ir_default,
        doc=info.doc,
        constraints=ir.Constraints(**info.constraints) if info.constraints else ir.Constraints(),
        location=scope.location(arg),
        extra=extra,
    )
