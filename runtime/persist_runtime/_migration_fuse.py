"""Fuse a chain of state migrations into one function that runs their bodies in one frame.

A plan upgrades a record through every later step's ``migrate_state``. Generated steps do a
few dictionary statements each, so calling them one by one costs as much as their work.
``fuse_chain(fns, label)`` returns a ``FusedChain`` whose function runs the bodies in order
in one frame, or ``None`` when any function cannot be fused faithfully (``refusal(fns)``
says why); the plan then calls the steps one by one. ``fuse_dispatch(branches, ...)`` goes
one step further for ``MigrationPlan.upgrade_record``: one function of ``(entity, record,
from_version)`` that holds several chains' bodies, each under a test of entity and version,
so the call a record costs is the only one; a record no branch takes goes to the plan's
lookups.

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
    "DISPATCH_PARAMETERS",
    "Branch",
    "DENIED_ATTRIBUTES",
    "DENIED_NAMES",
    "FusedChain",
    "fuse_chain",
    "fuse_dispatch",
    "refusal",
    "restore_local_names",
]

StateFunction = Callable[[dict[str, Any]], dict[str, Any]]

_PARAMETER = f"{PREFIX}record"
_BUILTIN_LOOKUP = f"{PREFIX}builtin"
_FUSED_NAME = "fused_migrate_state"
_DISPATCH_NAME = "upgrade_record"
DISPATCH_PARAMETERS = ("entity", "record", "from_version")
"""The dispatcher's parameters, named as ``MigrationPlan.upgrade_record``'s are."""
_GENERAL, _FAILURE, _EXCEPTION, _ERROR = (
    f"{PREFIX}{name}" for name in ("general", "failure", "exception", "error")
)


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
    functions, sources, builtins_dict, flags = _checked_chain(fns)
    text: list[str] = [f"def {_FUSED_NAME}({_PARAMETER}):  # {label}\n"]
    spans: list[_Span] = []
    namespace: dict[str, Any] = {"__builtins__": builtins_dict, "__name__": __name__}
    splice = _Splice(text, spans, namespace, builtins_dict, _PARAMETER)
    statements = splice.bodies(functions, sources)
    statements.append(_at(ast.Return(_name(_PARAMETER)), splice.line(f"    return {_PARAMETER}")))
    node = _function_def(_FUSED_NAME, [_PARAMETER], statements)
    return _compiled(node, text, spans, namespace, builtins_dict, flags, label)


@dataclass(frozen=True, slots=True)
class Branch:
    """A chain a dispatcher runs inline: records of any of ``names`` at ``version``."""

    names: tuple[str, ...]
    version: int
    fns: tuple[Callable[..., Any], ...]
    label: str


def fuse_dispatch(
    branches: Sequence[Branch],
    general: Callable[[str, Any, int], dict[str, Any]],
    failure: Callable[[str, int, Exception], BaseException],
    label: str,
) -> FusedChain:
    """Return one function ``(entity, record, from_version)`` holding every branch's chain.

    A call that matches a branch (its version, one of its names) runs that chain's bodies
    in the function's own frame, so upgrading a record costs one call; an exception they
    raise is passed to ``failure(entity, from_version, error)``, whose result is raised
    from it. Any other call returns ``general(entity, record, from_version)``. The spans
    of the result list every branch's bodies in order. Raises ``Refused`` when a chain
    cannot be fused, when the chains do not share builtins and ``__future__`` imports, or
    when a body reads a builtin named like one of ``DISPATCH_PARAMETERS``.
    """
    if not branches:
        raise Refused("there is no chain to dispatch to")
    entity, record, version = DISPATCH_PARAMETERS
    checked = [_checked_chain(branch.fns) for branch in branches]
    builtins_dict, flags = checked[0][2], checked[0][3]
    if any(c[2] is not builtins_dict or c[3] != flags for c in checked):
        raise Refused("the chains do not share their builtins and __future__ imports")
    text = [f"def {_DISPATCH_NAME}({entity}, {record}, {version}):  # {label}\n"]
    spans: list[_Span] = []
    namespace: dict[str, Any] = {
        "__builtins__": builtins_dict,
        "__name__": __name__,
        _GENERAL: general,
        _FAILURE: failure,
        _EXCEPTION: Exception,
    }
    splice = _Splice(text, spans, namespace, builtins_dict, record)
    try_line = splice.line("    try:")
    tests: list[ast.stmt] = []
    for branch, (functions, sources, _, _) in zip(branches, checked, strict=True):
        names = " or ".join(f"{entity} == {name!r}" for name in branch.names)
        condition = f"{version} == {branch.version!r} and ({names})"
        first = splice.line(f"        if {condition}:  # {branch.label}")
        test = ast.parse(condition, mode="eval").body
        ast.increment_lineno(test, first - 1)
        body = splice.bodies(functions, sources)
        body.append(_at(ast.Return(_name(record)), splice.line(f"        return {record}")))
        tests.append(_at(ast.If(test=test, body=body, orelse=[]), first, len(text)))
    handler_line = splice.line("    except Exception as error:")
    raised = ast.Raise(
        exc=ast.Call(
            func=_name(_FAILURE),
            args=[_name(entity), _name(version), _name(_ERROR)],
            keywords=[],
        ),
        cause=_name(_ERROR),
    )
    raise_line = splice.line(f"        raise failure({entity}, {version}, error) from error")
    handler = ast.ExceptHandler(type=_name(_EXCEPTION), name=_ERROR, body=[_at(raised, raise_line)])
    guarded = ast.Try(
        body=tests, handlers=[_at(handler, handler_line, raise_line)], orelse=[], finalbody=[]
    )
    fallback = ast.Return(
        ast.Call(func=_name(_GENERAL), args=[_name(p) for p in DISPATCH_PARAMETERS], keywords=[])
    )
    fallback_line = splice.line(f"    return general({entity}, {record}, {version})")
    clash = splice.bare.intersection(DISPATCH_PARAMETERS)
    if clash:
        raise Refused(f"a body reads the builtin {min(clash)!r}, a parameter of the dispatcher")
    statements = [_at(guarded, try_line, raise_line), _at(fallback, fallback_line)]
    node = _function_def(_DISPATCH_NAME, list(DISPATCH_PARAMETERS), statements)
    return _compiled(node, text, spans, namespace, builtins_dict, flags, label)


def _checked_chain(
    fns: Sequence[Callable[..., Any]],
) -> tuple[list[FunctionType], list[Source], dict[str, Any], int]:
    """Check that ``fns`` can be fused; return them, their sources, builtins and flags."""
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
    return functions, sources, builtins_dict, functions[0].__code__.co_flags & BODY_FUTURE_FLAGS


class _Splice:
    """Lay the fused code out: its text (the original lines) and its statements in step."""

    def __init__(
        self,
        text: list[str],
        spans: list[_Span],
        namespace: dict[str, Any],
        builtins_dict: dict[str, Any],
        parameter: str,
    ) -> None:
        self.text, self.spans, self.namespace = text, spans, namespace
        self.builtins, self.parameter = builtins_dict, parameter
        self.bare: set[str] = set()
        """Builtin names the bodies read as they are (a local of that name would hide one)."""

    def line(self, text: str) -> int:
        """Add a line the fused code writes itself; return its number."""
        self.text.append(text + "\n")
        return len(self.text)

    def bodies(self, functions: list[FunctionType], sources: list[Source]) -> list[ast.stmt]:
        """Add the bodies of ``functions`` in order; return their renamed statements."""
        statements: list[ast.stmt] = []
        for fn, source in zip(functions, sources, strict=True):
            index = len(self.spans)
            start = len(self.text) + 1
            offset = start - source.first
            renamer = _Renamer(index, fn, self.builtins, self.parameter)
            try:
                body = [renamer.visit(copy.deepcopy(s)) for s in body_statements(source.node)[:-1]]
            except Refused as refused:
                raise Refused(f"function {index + 1} ({_name_of(fn)}): {refused}") from None
            for statement in body:
                ast.increment_lineno(statement, offset)
            statements += body
            self.text += source.lines
            self.spans.append(_Span(start, len(self.text) + 1, offset, source.filename))
            self.bare |= renamer.bare
            if renamer.reads_globals:
                self.namespace[f"{PREFIX}g{index}"] = fn.__globals__
        return statements


def _compiled(
    node: ast.FunctionDef,
    text: list[str],
    spans: list[_Span],
    namespace: dict[str, Any],
    builtins_dict: dict[str, Any],
    flags: int,
    label: str,
) -> FusedChain:
    filename = _register("".join(text), text, label)
    module = ast.Module(body=[node], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        compiled = compile(module, filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise Refused(f"the fused code does not compile: {error}") from None
    code = next(c for c in compiled.co_consts if isinstance(c, CodeType))
    namespace[_BUILTIN_LOOKUP] = _builtin_lookup(builtins_dict)
    function = FunctionType(code, namespace, node.name)
    function.__qualname__ = f"{node.name}[{label}]"
    return FusedChain(function, code, tuple(spans))


def _builtins_of(fn: FunctionType) -> dict[str, Any]:
    """Return the builtins ``fn`` reads (fixed when the function was made)."""
    # Older typeshed lacks FunctionType.__builtins__; newer has it.
    found: dict[str, Any] = fn.__builtins__  # type: ignore[attr-defined, unused-ignore]
    return found


def _name_of(fn: object) -> str:
    return str(getattr(fn, "__qualname__", None) or type(fn).__name__)


def _function_def(name: str, parameters: list[str], statements: list[ast.stmt]) -> ast.FunctionDef:
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=p) for p in parameters],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )
    node = ast.FunctionDef(
        name=name,
        args=arguments,
        body=statements,
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    return _at(node, 1)


_Node = TypeVar("_Node", bound=ast.stmt | ast.excepthandler)


def _at(node: _Node, line: int, last: int | None = None) -> _Node:
    """Place a node the fused code adds on ``line`` (to ``last``), and children with no place."""
    node.lineno = line
    node.end_lineno = line if last is None else last
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

    def __init__(
        self, index: int, fn: FunctionType, builtins_dict: Mapping[str, Any], target: str
    ) -> None:
        code = fn.__code__
        self.parameter = code.co_varnames[0]
        self.target = target
        self.locals = frozenset(code.co_varnames[1:])
        self.prefix = f"{PREFIX}s{index}_"
        self.module_globals = fn.__globals__
        self.globals_name = f"{PREFIX}g{index}"
        self.builtins = builtins_dict
        self.reads_globals = False
        self.bare: set[str] = set()

    def visit_Name(self, node: ast.Name) -> ast.expr:
        name = node.id
        if name == self.parameter:
            return ast.copy_location(ast.Name(id=self.target, ctx=node.ctx), node)
        if name in self.locals:
            return ast.copy_location(ast.Name(id=self.prefix + name, ctx=node.ctx), node)
        if name in self.module_globals:
            return self._live_global(node)
        if name in self.builtins:
            self.bare.add(name)
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
