"""Fuse a chain of state migrations into one function that runs their bodies in one frame.

A plan upgrades a record through every later step's ``migrate_state``. Generated steps do a
few dictionary statements each, so calling them one by one costs as much as their work.
``fuse_chain(fns, label)`` returns a ``FusedChain`` whose function runs the bodies in order
in one frame, or ``None`` when any function cannot be fused faithfully (``refusal(fns)``
says why); the plan then calls the steps one by one.

A chain is fused only when running each body in the fused frame is provably the same:

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

In the fused function the parameter of every body is the one parameter; every other local
of body ``k`` is renamed ``_pf_s{k}_<name>`` so bodies cannot see each other's locals. A
global that body ``k``'s module defines is read from that module's globals at call time
(``_pf_g{k}["name"]``, the builtins when the module no longer has it), so rebinding it
later is seen; a builtin the module does not define is read directly.

What fusion does not keep, by design: the fused chain runs the code the functions had when
it was fused (replacing a function's ``__code__`` later, as reloaders do, is not seen); a
builtin the module starts to shadow after fusion is not seen; the bodies' locals live until
the whole chain returns; a helper that inspects its caller's frame sees the fused frame;
tools that follow code by file (breakpoints, coverage) do not see the bodies run.

Every statement keeps its position, shifted so each body has its own lines in the fused
code, and the fused source text is registered with ``linecache``: a traceback through the
fused function shows the original lines, ``FusedChain.origin(lineno)`` maps a fused line
back to the step and its file and line, and ``restore_local_names`` undoes the renaming in
an ``UnboundLocalError`` raised by a body.
"""

from __future__ import annotations
import __future__

import ast
import copy
import functools
import hashlib
import inspect
import linecache
import operator
import os
import re
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any, TypeVar, cast

__all__ = [
    "DENIED_ATTRIBUTES",
    "DENIED_NAMES",
    "FusedChain",
    "fuse_chain",
    "fusion_enabled",
    "refusal",
    "restore_local_names",
]

StateFunction = Callable[[dict[str, Any]], dict[str, Any]]

ENVIRONMENT_SWITCH = "PERSIST_RUNTIME_FUSE"
"""Environment variable: ``0`` (or ``false``, ``no``, ``off``) turns fusion off."""
_OFF_WORDS = frozenset({"0", "false", "no", "off"})

_PREFIX = "_pf_"
_PARAMETER = "_pf_record"
_BUILTIN_LOOKUP = "_pf_builtin"
_FUSED_NAME = "fused_migrate_state"

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
_BODY_FUTURE_FLAGS = _FUTURE_FLAGS & ~__future__.annotations.compiler_flag


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


def fusion_enabled(fuse: bool | None = None) -> bool:
    """Return ``fuse``, or when it is ``None`` whether the environment leaves fusion on."""
    if fuse is not None:
        return fuse
    return os.environ.get(ENVIRONMENT_SWITCH, "1").strip().lower() not in _OFF_WORDS


# --------------------------------------------------------------------------- checking


class _Refused(Exception):
    """A function cannot be fused; the message says why."""


@dataclass(frozen=True, slots=True)
class _Source:
    """A function's checked definition: its ``def`` at file positions, and its lines."""

    node: ast.FunctionDef
    filename: str
    lines: tuple[str, ...]
    first: int
    """The file line of ``lines[0]`` (the ``def`` line)."""


# Keyed by the function (identity), holding the code the check was made for: a code
# object's own equality ignores the file name.
_checked: weakref.WeakKeyDictionary[FunctionType, tuple[CodeType, _Source | str]]
_checked = weakref.WeakKeyDictionary()


def refusal(fns: Sequence[Callable[..., Any]]) -> str | None:
    """Return why the chain ``fns`` cannot be fused (``None`` when it can)."""
    try:
        _fuse(fns, "check")
    except _Refused as refused:
        return str(refused)
    return None


def _checked_source(fn: Callable[..., Any]) -> _Source:
    if sys.implementation.name != "cpython":
        raise _Refused("fusion compares CPython code objects")
    if type(fn) is not FunctionType:
        raise _Refused("is not a plain Python function")
    for reason, applies in _FUNCTION_RULES:
        if applies(fn):
            raise _Refused(reason)
    code = fn.__code__
    cached = _checked.get(fn)
    if cached is None or cached[0] is not code:
        try:
            found: _Source | str = _read_source(fn, code)
        except _Refused as refused:
            found = str(refused)
        cached = (code, found)
        _checked[fn] = cached
    if isinstance(cached[1], str):
        raise _Refused(cached[1])
    return cached[1]


def _read_source(fn: FunctionType, code: CodeType) -> _Source:
    """Return ``fn``'s checked ``def``: its module's source compiled again must hold ``code``.

    The whole module is compiled, so the function is compiled where it was written (the
    compiler treats a call on an imported module, or a name inside a class, differently).
    """
    try:
        lines, _ = inspect.findsource(fn)  # re-reads the file when it changed on disk
        filename = inspect.getsourcefile(fn) or code.co_filename
    except Exception:  # inspect raises OSError, TypeError and, on odd files, others
        raise _Refused("its source is not available") from None
    try:
        tree = ast.parse("".join(lines), filename)
        compiled = compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise _Refused("its module's source does not compile") from None
    first = code.co_firstlineno
    defined = [n for n in ast.walk(tree) if _defined_at(n, first) in (code.co_name, "<lambda>")]
    if len(defined) != 1 or not isinstance(defined[0], ast.FunctionDef):
        raise _Refused("is not defined by exactly one def statement in its source")
    node = defined[0]
    if node.decorator_list:
        raise _Refused("has decorators")
    again = list(_code_objects(compiled, code.co_name, first))
    if len(again) != 1 or _code_key(again[0]) != _code_key(code):
        raise _Refused("its source does not compile to the code it runs (edited since import?)")
    _check_body(node, code.co_varnames[0])
    own = lines[first - 1 : node.end_lineno]
    ended = tuple(line if line.endswith("\n") else line + "\n" for line in own)
    return _Source(node, filename, ended, first)


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
    statements = _statements(node)
    for statement in statements:
        for child in ast.walk(statement):
            _check_node(child, parameter)
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
    last = statements[-1] if statements else None
    if len(returns) != 1 or returns[0] is not last:
        raise _Refused("does not end in its only return")
    value = returns[0].value
    if not (isinstance(value, ast.Name) and value.id == parameter):
        raise _Refused("does not return its parameter")


def _statements(node: ast.FunctionDef) -> list[ast.stmt]:
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
        raise _Refused(reason)
    if isinstance(node, ast.Name):
        _check_name(node.id)
        if node.id == parameter and not isinstance(node.ctx, ast.Load):
            raise _Refused("rebinds or deletes its parameter")
    elif isinstance(node, ast.ExceptHandler) and node.name is not None:
        _check_name(node.name)
        if node.name == parameter:
            raise _Refused("rebinds or deletes its parameter")
    elif isinstance(node, ast.Attribute) and (
        node.attr in DENIED_ATTRIBUTES or _is_dunder(node.attr)
    ):
        raise _Refused(f"uses the attribute {node.attr!r}, which depends on the calling frame")


def _check_name(name: str) -> None:
    if name in DENIED_NAMES or _is_dunder(name):
        raise _Refused(f"uses {name!r}, which depends on the calling frame")
    if name.startswith(_PREFIX):
        raise _Refused(f"uses {name!r}, a name with the prefix the fused code keeps for itself")


# --------------------------------------------------------------------------- fusing


@dataclass(frozen=True, slots=True)
class _Span:
    """Where one body sits in the fused code: fused lines ``start`` to ``stop - 1``."""

    start: int
    stop: int
    offset: int
    """Fused line minus file line."""
    filename: str


@dataclass(frozen=True, slots=True)
class FusedChain:
    """One function running a chain's ``migrate_state`` bodies in order, and their origins."""

    function: StateFunction
    code: CodeType
    spans: tuple[_Span, ...]

    def origin(self, lineno: int | None) -> tuple[int, str, int] | None:
        """Return ``(index in the chain, file, line)`` of fused line ``lineno``.

        ``None`` for a line outside every body (the fused ``def`` and final ``return``).
        """
        if lineno is None:
            return None
        for index, span in enumerate(self.spans):
            if span.start <= lineno < span.stop:
                return index, span.filename, lineno - span.offset
        return None


_MANGLED = re.compile(rf"'{_PREFIX}s\d+_(\w+)'")


def restore_local_names(error: BaseException) -> None:
    """Give an ``UnboundLocalError`` raised by a fused body the name its author wrote."""
    if not isinstance(error, UnboundLocalError) or len(error.args) != 1:
        return
    message = error.args[0]
    if isinstance(message, str):
        error.args = (_MANGLED.sub(r"'\1'", message),)


def fuse_chain(fns: Sequence[Callable[..., Any]], label: str) -> FusedChain | None:
    """Return one function running the bodies of ``fns`` in order, or ``None``.

    ``None`` when any function cannot be fused, when the functions do not share their
    builtins or ``__future__`` imports, or when a body reads a global neither its module nor
    the builtins define (``refusal`` says which). ``label`` names the chain in the fused
    code's file name.
    """
    try:
        return _fuse(fns, label)
    except _Refused:
        return None


def _fuse(fns: Sequence[Callable[..., Any]], label: str) -> FusedChain:
    if not fns:
        raise _Refused("the chain is empty")
    sources: list[_Source] = []
    for index, fn in enumerate(fns):
        try:
            sources.append(_checked_source(fn))
        except _Refused as refused:
            raise _Refused(f"function {index + 1} ({_name_of(fn)}): {refused}") from None
    functions = [cast(FunctionType, fn) for fn in fns]
    builtins_dict = _builtins_of(functions[0])
    if any(_builtins_of(fn) is not builtins_dict for fn in functions):
        raise _Refused("the functions do not share their builtins")
    if len({fn.__code__.co_flags & _BODY_FUTURE_FLAGS for fn in functions}) != 1:
        raise _Refused("the functions were compiled under different __future__ imports")
    statements: list[ast.stmt] = []
    spans: list[_Span] = []
    namespace: dict[str, Any] = {"__builtins__": builtins_dict, "__name__": __name__}
    text: list[str] = [f"def {_FUSED_NAME}({_PARAMETER}):  # {label}\n"]
    for index, (fn, source) in enumerate(zip(functions, sources, strict=True)):
        start = len(text) + 1
        offset = start - source.first
        renamer = _Renamer(index, fn, builtins_dict)
        try:
            body = [renamer.visit(copy.deepcopy(s)) for s in _statements(source.node)[:-1]]
        except _Refused as refused:
            raise _Refused(f"function {index + 1} ({_name_of(fn)}): {refused}") from None
        for statement in body:
            ast.increment_lineno(statement, offset)
        statements += body
        text += source.lines
        spans.append(_Span(start, len(text) + 1, offset, source.filename))
        if renamer.reads_globals:
            namespace[f"{_PREFIX}g{index}"] = fn.__globals__
    end = len(text) + 1
    text.append(f"    return {_PARAMETER}\n")
    statements.append(_at(ast.Return(_name(_PARAMETER)), end))
    filename = _register("".join(text), text, label)
    module = ast.Module(body=[_fused_def(statements)], type_ignores=[])
    ast.fix_missing_locations(module)
    flags = functions[0].__code__.co_flags & _BODY_FUTURE_FLAGS
    try:
        compiled = compile(module, filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise _Refused(f"the fused code does not compile: {error}") from None
    code = next(c for c in compiled.co_consts if isinstance(c, CodeType))
    namespace[_BUILTIN_LOOKUP] = _builtin_lookup(builtins_dict)
    function = FunctionType(code, namespace, _FUSED_NAME)
    function.__qualname__ = f"{_FUSED_NAME}[{label}]"
    return FusedChain(function, code, tuple(spans))


def _builtins_of(fn: FunctionType) -> dict[str, Any]:
    """Return the builtins ``fn`` reads (fixed when the function was made)."""
    return cast(dict[str, Any], fn.__builtins__)  # type: ignore[attr-defined]


def _name_of(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or type(fn).__name__)


def _fused_def(statements: list[ast.stmt]) -> ast.FunctionDef:
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=_PARAMETER)],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )
    node = ast.FunctionDef(
        name=_FUSED_NAME,
        args=arguments,
        body=statements,
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    return _at(node, 1)


_Statement = TypeVar("_Statement", bound=ast.stmt)


def _at(node: _Statement, line: int) -> _Statement:
    """Place a statement the fused code adds on ``line``, with any child that has no place."""
    node.lineno = node.end_lineno = line
    node.col_offset = node.end_col_offset = 0
    for child in ast.walk(node):
        if "lineno" in child._attributes and not hasattr(child, "lineno"):
            ast.copy_location(child, node)
    return node


def _name(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _register(source: str, lines: list[str], label: str) -> str:
    """Put the fused code's text (the original lines) where tracebacks look for it."""
    digest = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()[:12]
    filename = f"<fused migrate_state {label} {digest}>"
    # No modification time: linecache.checkcache leaves such entries alone.
    linecache.cache[filename] = (len(source), None, lines, filename)
    return filename


_MISSING = object()


def _builtin_lookup(builtins_dict: dict[str, Any]) -> Callable[[str], Any]:
    """Return what a global read does once the module lacks the name: builtins, or fail."""

    def lookup(name: str) -> Any:
        value = builtins_dict.get(name, _MISSING)
        if value is _MISSING:
            raise NameError(f"name {name!r} is not defined", name=name)
        return value

    return lookup


class _Renamer(ast.NodeTransformer):
    """Rename one body's names for the fused function (see the module docstring)."""

    def __init__(self, index: int, fn: FunctionType, builtins_dict: Mapping[str, Any]) -> None:
        code = fn.__code__
        self.parameter = code.co_varnames[0]
        self.locals = frozenset(code.co_varnames[1:])
        self.prefix = f"{_PREFIX}s{index}_"
        self.module_globals = fn.__globals__
        self.globals_name = f"{_PREFIX}g{index}"
        self.builtins = builtins_dict
        self.reads_globals = False

    def visit_Name(self, node: ast.Name) -> ast.expr:
        name = node.id
        if name == self.parameter:
            return ast.copy_location(ast.Name(id=_PARAMETER, ctx=node.ctx), node)
        if name in self.locals:
            return ast.copy_location(ast.Name(id=self.prefix + name, ctx=node.ctx), node)
        if name in self.module_globals:
            return self._live_global(node)
        if name in self.builtins:
            return node
        raise _Refused(f"reads {name!r}, which neither its module nor the builtins define")

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name is not None:
            node.name = self.prefix + node.name
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AnnAssign:
        # A local's annotation is never evaluated in a function: leave it as written.
        node.target = self.visit(node.target)
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def _live_global(self, node: ast.Name) -> ast.expr:
        """Return ``g[name] if name in g else builtin(name)`` at ``node``'s position."""
        self.reads_globals = True
        key = ast.Constant(value=node.id)
        test = ast.Compare(left=key, ops=[ast.In()], comparators=[_name(self.globals_name)])
        found = ast.Subscript(
            value=_name(self.globals_name), slice=ast.Constant(value=node.id), ctx=ast.Load()
        )
        fallback = ast.Call(
            func=_name(_BUILTIN_LOOKUP), args=[ast.Constant(value=node.id)], keywords=[]
        )
        expression = ast.IfExp(test=test, body=found, orelse=fallback)
        for child in ast.walk(expression):
            ast.copy_location(child, node)
        return expression
