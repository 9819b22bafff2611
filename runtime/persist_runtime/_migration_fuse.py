"""Fuse a chain of state migrations into one function that runs their bodies in one frame.

A plan upgrades a record through every later step's ``migrate_state``. Generated steps do a
few dictionary statements each, so calling them one by one costs as much as their work.
``fuse_chain(fns, label)`` returns a ``FusedChain`` whose function runs the bodies in order
in one frame, or ``None`` when any function cannot be fused faithfully (``refusal(fns)``
says why); the plan then calls the steps one by one.

When a chain may be fused is decided in ``_migration_fuse_check``.

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

import ast
import copy
import hashlib
import linecache
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any, TypeVar, cast

from ._migration_fuse_check import (
    BODY_FUTURE_FLAGS,
    DENIED_ATTRIBUTES,
    DENIED_NAMES,
    PREFIX,
    Refused,
    Source,
    body_statements,
    checked_source,
)

__all__ = [
    "DENIED_ATTRIBUTES",
    "DENIED_NAMES",
    "FusedChain",
    "fuse_chain",
    "refusal",
    "restore_local_names",
]

StateFunction = Callable[[dict[str, Any]], dict[str, Any]]

_PARAMETER = f"{PREFIX}record"
_BUILTIN_LOOKUP = f"{PREFIX}builtin"
_FUSED_NAME = "fused_migrate_state"


def refusal(fns: Sequence[Callable[..., Any]]) -> str | None:
    """Return why the chain ``fns`` cannot be fused (``None`` when it can)."""
    try:
        _fuse(fns, "check")
    except Refused as refused:
        return str(refused)
    return None


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


_MANGLED = re.compile(rf"'{PREFIX}s\d+_(\w+)'")


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
    except Refused:
        return None


def _fuse(fns: Sequence[Callable[..., Any]], label: str) -> FusedChain:
    if not fns:
        raise Refused("the chain is empty")
    sources: list[Source] = []
    for index, fn in enumerate(fns):
        try:
            sources.append(checked_source(fn))
        except Refused as refused:
            raise Refused(f"function {index + 1} ({_name_of(fn)}): {refused}") from None
    functions = [cast(FunctionType, fn) for fn in fns]
    builtins_dict = _builtins_of(functions[0])
    if any(_builtins_of(fn) is not builtins_dict for fn in functions):
        raise Refused("the functions do not share their builtins")
    if len({fn.__code__.co_flags & BODY_FUTURE_FLAGS for fn in functions}) != 1:
        raise Refused("the functions were compiled under different __future__ imports")
    statements: list[ast.stmt] = []
    spans: list[_Span] = []
    namespace: dict[str, Any] = {"__builtins__": builtins_dict, "__name__": __name__}
    text: list[str] = [f"def {_FUSED_NAME}({_PARAMETER}):  # {label}\n"]
    for index, (fn, source) in enumerate(zip(functions, sources, strict=True)):
        start = len(text) + 1
        offset = start - source.first
        renamer = _Renamer(index, fn, builtins_dict)
        try:
            body = [renamer.visit(copy.deepcopy(s)) for s in body_statements(source.node)[:-1]]
        except Refused as refused:
            raise Refused(f"function {index + 1} ({_name_of(fn)}): {refused}") from None
        for statement in body:
            ast.increment_lineno(statement, offset)
        statements += body
        text += source.lines
        spans.append(_Span(start, len(text) + 1, offset, source.filename))
        if renamer.reads_globals:
            namespace[f"{PREFIX}g{index}"] = fn.__globals__
    end = len(text) + 1
    text.append(f"    return {_PARAMETER}\n")
    statements.append(_at(ast.Return(_name(_PARAMETER)), end))
    filename = _register("".join(text), text, label)
    module = ast.Module(body=[_fused_def(statements)], type_ignores=[])
    ast.fix_missing_locations(module)
    flags = functions[0].__code__.co_flags & BODY_FUTURE_FLAGS
    try:
        compiled = compile(module, filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise Refused(f"the fused code does not compile: {error}") from None
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
        self.prefix = f"{PREFIX}s{index}_"
        self.module_globals = fn.__globals__
        self.globals_name = f"{PREFIX}g{index}"
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
        raise Refused(f"reads {name!r}, which neither its module nor the builtins define")

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
