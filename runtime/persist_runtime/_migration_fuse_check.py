"""Decide whether a state migration function can run fused with others, faithfully.

Used by ``_migration_fuse``. A chain is fused only when running each body in the fused
frame is provably the same:

* each function is a plain function of exactly one positional parameter: no closure,
  defaults, keyword-only or variadic parameters, not a generator or coroutine
  (``_FUNCTION_RULES``);
* its source is available, one ``def`` without decorators starts where its code does, and
  its whole module compiled again holds the very code the function runs (so a file edited
  since import is not trusted; the verdict is kept per function and code object);
* its body ends in its only ``return``, which returns the parameter; it never rebinds or
  deletes the parameter, and holds none of ``_REFUSED_NODES`` (nested scopes, imports,
  ``global``, ``yield``, ``match``, ...), no name of ``DENIED_NAMES`` or attribute of
  ``DENIED_ATTRIBUTES`` (they read or depend on the calling frame), no dunder name or
  attribute, and no name starting with the fused code's own prefix ``_pf_``;
* every global it reads is defined by its module or the builtins when the chain is fused;
* the functions share their builtins and ``__future__`` imports.
"""

from __future__ import annotations
import __future__

import ast
import functools
import inspect
import operator
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any

__all__ = [
    "BODY_FUTURE_FLAGS",
    "DENIED_ATTRIBUTES",
    "DENIED_NAMES",
    "PREFIX",
    "Refused",
    "Source",
    "checked_source",
    "body_statements",
]

PREFIX = "_pf_"
"""The prefix of every name the fused code adds; a body may not use such names."""

DENIED_NAMES = frozenset(
    {
        # Read or act on the calling frame's locals, globals or compiler flags.
        "locals",
        "vars",
        "dir",
        "globals",
        "eval",
        "exec",
        "compile",
        "breakpoint",
        # Zero-argument super() needs the method's class cell.
        "super",
    }
)
"""Names a fused body may not use: their behaviour depends on the frame they run in."""

DENIED_ATTRIBUTES = frozenset(
    {
        # Frame and stack inspection (sys, inspect, traceback, frames, tracebacks).
        "_getframe",
        "_getframemodulename",
        "currentframe",
        "stack",
        "trace",
        "getouterframes",
        "getinnerframes",
        "getframeinfo",
        "extract_stack",
        "format_stack",
        "print_stack",
        "walk_stack",
        "f_back",
        "f_locals",
        "f_globals",
        "f_code",
        "f_lineno",
        "tb_frame",
        "tb_next",
        "tb_lineno",
        # Traceback text names the frames, which the fused frame changes.
        "print_exc",
        "format_exc",
        "print_exception",
        "format_exception",
        "extract_tb",
        "format_tb",
        "print_tb",
        "walk_tb",
        # Warnings are keyed by the caller's module globals, file and line.
        "warn",
        "warn_explicit",
        # Logging records the caller's file, line and function name.
        "debug",
        "info",
        "warning",
        "error",
        "exception",
        "critical",
        "fatal",
        "log",
        "findCaller",
    }
)
"""Attribute names a fused body may not use: the callables they name read the caller's frame."""

_REFUSED_NODES: Mapping[type[ast.AST], str] = {
    ast.FunctionDef: "defines a function",
    ast.AsyncFunctionDef: "defines a function",
    ast.Lambda: "defines a lambda",
    ast.ClassDef: "defines a class",
    ast.ListComp: "has a comprehension",
    ast.SetComp: "has a comprehension",
    ast.DictComp: "has a comprehension",
    ast.GeneratorExp: "has a generator expression",
    ast.Global: "declares a global",
    ast.Nonlocal: "declares a nonlocal",
    ast.Yield: "yields",
    ast.YieldFrom: "yields",
    ast.Await: "awaits",
    ast.AsyncFor: "has an async statement",
    ast.AsyncWith: "has an async statement",
    ast.Import: "imports inside its body",
    ast.ImportFrom: "imports inside its body",
    ast.Match: "has a match statement",
}
"""Nodes a fused body may not hold (nested scopes, frame-bound statements, name bindings
that are not ``Name`` nodes), with the reason given."""

_FUTURE_FLAGS = functools.reduce(
    operator.or_,
    (getattr(__future__, name).compiler_flag for name in __future__.all_feature_names),
    0,
)
# ``from __future__ import annotations`` cannot change a function body: annotations of a
# function's locals are never evaluated.
BODY_FUTURE_FLAGS = _FUTURE_FLAGS & ~__future__.annotations.compiler_flag


def _flag_set(flags: int) -> Callable[[FunctionType], bool]:
    return lambda fn: bool(fn.__code__.co_flags & flags)


_FUNCTION_RULES: tuple[tuple[str, Callable[[FunctionType], bool]], ...] = (
    ("has a closure", lambda fn: fn.__closure__ is not None or bool(fn.__code__.co_freevars)),
    ("has variables an inner scope captures", lambda fn: bool(fn.__code__.co_cellvars)),
    ("has default values", lambda fn: fn.__defaults__ is not None),
    (
        "has keyword-only parameters",
        lambda fn: bool(fn.__kwdefaults__) or fn.__code__.co_kwonlyargcount != 0,
    ),
    ("has variadic parameters", _flag_set(inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)),
    ("does not take exactly one positional parameter", lambda fn: fn.__code__.co_argcount != 1),
    (
        "is a generator or coroutine",
        _flag_set(
            inspect.CO_GENERATOR
            | inspect.CO_COROUTINE
            | inspect.CO_ASYNC_GENERATOR
            | inspect.CO_ITERABLE_COROUTINE
        ),
    ),
)
"""Properties of the function object that rule fusion out, with the reason given."""


class Refused(Exception):
    """A function cannot be fused; the message says why."""


@dataclass(frozen=True, slots=True)
class Source:
    """A function's checked definition: its ``def`` at file positions, and its lines."""

    node: ast.FunctionDef
    filename: str
    lines: tuple[str, ...]
    first: int
    """The file line of ``lines[0]`` (the ``def`` line)."""


# Keyed by the function (identity), holding the code the check was made for: a code
# object's own equality ignores the file name.
_checked: weakref.WeakKeyDictionary[FunctionType, tuple[CodeType, Source | str]]
_checked = weakref.WeakKeyDictionary()


def checked_source(fn: Callable[..., Any]) -> Source:
    if sys.implementation.name != "cpython":
        raise Refused("fusion compares CPython code objects")
    if type(fn) is not FunctionType:
        raise Refused("is not a plain Python function")
    for reason, applies in _FUNCTION_RULES:
        if applies(fn):
            raise Refused(reason)
    code = fn.__code__
    cached = _checked.get(fn)
    if cached is None or cached[0] is not code:
        try:
            found: Source | str = _read_source(fn, code)
        except Refused as refused:
            found = str(refused)
        cached = (code, found)
        _checked[fn] = cached
    if isinstance(cached[1], str):
        raise Refused(cached[1])
    return cached[1]


def _read_source(fn: FunctionType, code: CodeType) -> Source:
    """Return ``fn``'s checked ``def``: its module's source compiled again must hold ``code``.

    The whole module is compiled, so the function is compiled where it was written (the
    compiler treats a call on an imported module, or a name inside a class, differently).
    """
    try:
        lines, _ = inspect.findsource(fn)  # re-reads the file when it changed on disk
        filename = inspect.getsourcefile(fn) or code.co_filename
    except Exception:  # inspect raises OSError, TypeError and, on odd files, others
        raise Refused("its source is not available") from None
    try:
        tree = ast.parse("".join(lines), filename)
        compiled = compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise Refused("its module's source does not compile") from None
    first = code.co_firstlineno
    defined = [n for n in ast.walk(tree) if _defined_at(n, first) in (code.co_name, "<lambda>")]
    if len(defined) != 1 or not isinstance(defined[0], ast.FunctionDef):
        raise Refused("is not defined by exactly one def statement in its source")
    node = defined[0]
    if node.decorator_list:
        raise Refused("has decorators")
    again = list(_code_objects(compiled, code.co_name, first))
    if len(again) != 1 or _code_key(again[0]) != _code_key(code):
        raise Refused("its source does not compile to the code it runs (edited since import?)")
    _check_body(node, code.co_varnames[0])
    own = lines[first - 1 : node.end_lineno]
    ended = tuple(line if line.endswith("\n") else line + "\n" for line in own)
    return Source(node, filename, ended, first)


def _defined_at(node: ast.AST, line: int) -> str | None:
    """Return the name of the function ``node`` defines when its code starts on ``line``."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        return node.name if start == line else None
    if isinstance(node, ast.Lambda):
        return "<lambda>" if node.lineno == line else None
    return None


def _code_objects(code: CodeType, name: str, line: int) -> Iterator[CodeType]:
    """Yield the code objects nested in ``code`` named ``name`` that start on ``line``."""
    for const in code.co_consts:
        if isinstance(const, CodeType):
            if const.co_name == name and const.co_firstlineno == line:
                yield const
            yield from _code_objects(const, name, line)


def _const_key(value: object) -> object:
    """Return a key equal for two constants only when they are the same constant.

    ``0.0 == -0.0`` and ``1 == True``, so the type and, for floats, the text take part.
    """
    if isinstance(value, CodeType):
        return _code_key(value)
    if isinstance(value, tuple):
        return (tuple, tuple(_const_key(v) for v in value))
    if isinstance(value, frozenset):
        return (frozenset, frozenset(_const_key(v) for v in value))
    if isinstance(value, float | complex):
        return (type(value), repr(value))
    return (type(value), value)


def _code_key(code: CodeType) -> object:
    """Return what two code objects must share to run the same way."""
    return (
        code.co_code,
        tuple(_const_key(c) for c in code.co_consts),
        code.co_names,
        code.co_varnames,
        code.co_cellvars,
        code.co_freevars,
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_name,
        # The same positions show that the lines read are the lines compiled, which the
        # fused code's notes and tracebacks cite.
        code.co_firstlineno,
        code.co_linetable,
        code.co_exceptiontable,
    )


def _check_body(node: ast.FunctionDef, parameter: str) -> None:
    statements = body_statements(node)
    for statement in statements:
        for child in ast.walk(statement):
            _check_node(child, parameter)
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
    last = statements[-1] if statements else None
    if len(returns) != 1 or returns[0] is not last:
        raise Refused("does not end in its only return")
    value = returns[0].value
    if not (isinstance(value, ast.Name) and value.id == parameter):
        raise Refused("does not return its parameter")


def body_statements(node: ast.FunctionDef) -> list[ast.stmt]:
    """Return the body's statements without the docstring."""
    body = node.body
    first = body[0]
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    return body[1:] if docstring else list(body)


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _check_node(node: ast.AST, parameter: str) -> None:
    reason = _REFUSED_NODES.get(type(node))
    if reason is not None:
        raise Refused(reason)
    if isinstance(node, ast.Name):
        _check_name(node.id)
        if node.id == parameter and not isinstance(node.ctx, ast.Load):
            raise Refused("rebinds or deletes its parameter")
    elif isinstance(node, ast.ExceptHandler) and node.name is not None:
        _check_name(node.name)
        if node.name == parameter:
            raise Refused("rebinds or deletes its parameter")
    elif isinstance(node, ast.Attribute) and (
        node.attr in DENIED_ATTRIBUTES or _is_dunder(node.attr)
    ):
        raise Refused(f"uses the attribute {node.attr!r}, which depends on the calling frame")


def _check_name(name: str) -> None:
    if name in DENIED_NAMES or _is_dunder(name):
        raise Refused(f"uses {name!r}, which depends on the calling frame")
    if name.startswith(PREFIX):
        raise Refused(f"uses {name!r}, a name with the prefix the fused code keeps for itself")
