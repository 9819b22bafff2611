"""Resolve names in Python sources statically: imports, local classes, aliases, sibling modules.

The reader never imports user code. A name in an annotation or decorator is resolved by
reading the module's ``import`` statements and top-level definitions; a name imported from
a module of the same package is looked up by parsing that module's file with ``ast`` too.
Anything else keeps its qualified name (``decimal.Decimal``) for the caller to recognise.
"""

from __future__ import annotations

import ast
import builtins
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from persist_tool.ir import Location, SourceError
from persist_tool.readers.python_docs import Comments

__all__ = [
    "External",
    "Loader",
    "LocalAlias",
    "LocalClass",
    "ModuleScope",
    "Resolved",
    "dotted_name",
    "package_root_of",
]

# Modules whose public names are re-exported by another module under a shorter path:
# ``from persist_runtime.markers import Unique`` means ``persist_runtime.Unique``.
_MODULE_ALIASES: dict[str, str] = {
    "typing_extensions": "typing",
    "persist_runtime.markers": "persist_runtime",
    "pydantic.main": "pydantic",
    "pydantic.fields": "pydantic",
    "pydantic.types": "pydantic",
    "pydantic.networks": "pydantic",
    "pydantic.functional_validators": "pydantic",
    "collections.abc": "typing",
}


@dataclass(frozen=True, slots=True)
class External:
    """A name defined outside the package, by its normalised qualified name."""

    qualname: str


@dataclass(frozen=True, slots=True)
class LocalClass:
    """A class defined at the top level of a module of the package."""

    scope: ModuleScope
    node: ast.ClassDef


@dataclass(frozen=True, slots=True)
class LocalAlias:
    """A top-level ``Name = <expression>`` of a module of the package (type alias or constant)."""

    scope: ModuleScope
    name: str
    value: ast.expr


Resolved = External | LocalClass | LocalAlias


def normalise(qualname: str) -> str:
    """Return ``qualname`` with re-exporting modules replaced by their public path."""
    for module, public in _MODULE_ALIASES.items():
        if qualname == module or qualname.startswith(module + "."):
            return public + qualname[len(module) :]
    return qualname


def dotted_name(expr: ast.expr) -> list[str] | None:
    """Return ``a.b.c`` as ``["a", "b", "c"]``, or ``None`` when it is not a dotted name."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return parts[::-1]


def package_root_of(path: Path) -> Path:
    """Return the directory above the outermost package that contains ``path``.

    Walks up while the directory holds an ``__init__.py``: ``root/shop/models.py`` with
    ``root/shop/__init__.py`` gives ``root``.
    """
    directory = path.resolve().parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory


@dataclass(eq=False)
class ModuleScope:
    """One parsed module: its top-level names and where they come from."""

    loader: Loader
    path: Path
    display: str
    module: str
    """Dotted module path relative to the package root (``shop.models``)."""
    tree: ast.Module
    text: str
    is_package: bool = False
    imports: dict[str, tuple[str, ast.stmt]] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    assigns: dict[str, ast.expr] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    ambiguous: set[str] = field(default_factory=set)
    """Top-level names bound more than once or conditionally: not statically known."""

    def __post_init__(self) -> None:
        self._collect(self.tree.body, top=True)

    @cached_property
    def comments(self) -> Comments:
        """The module's ``#:`` doc comments."""
        return Comments(self.text)

    # ------------------------------------------------------------------ collecting names

    def _collect(self, body: list[ast.stmt], *, top: bool) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._collect_import(stmt, top=top)
            elif isinstance(stmt, ast.ClassDef):
                self._bind(stmt.name, top)
                if top:
                    self.classes[stmt.name] = stmt
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                self._collect_assign(stmt, top=top)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self._bind(stmt.name, top)
                if top:
                    self.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.If | ast.Try | ast.For | ast.While | ast.With):
                # Names bound inside blocks depend on run time; ``if TYPE_CHECKING:``
                # imports are the exception users rely on, so imports are still read.
                for block in _blocks(stmt):
                    self._collect(block, top=False)

    def _bind(self, name: str, top: bool) -> None:
        taken = (self.imports, self.classes, self.assigns, self.functions)
        if not top or any(name in names for names in taken):
            self.ambiguous.add(name)

    def _collect_import(self, stmt: ast.Import | ast.ImportFrom, *, top: bool) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self._add_import(alias.asname, alias.name, stmt, top)
                else:
                    head = alias.name.split(".")[0]
                    self._add_import(head, head, stmt, top)
            return
        base = self._import_base(stmt)
        for alias in stmt.names:
            if alias.name == "*":
                raise SourceError(
                    self.location(stmt),
                    f"'from {stmt.module or '.'} import *' hides which names the module uses",
                    "import the names you use explicitly",
                )
            target = f"{base}.{alias.name}" if base else alias.name
            self._add_import(alias.asname or alias.name, target, stmt, top)

    def _add_import(self, name: str, target: str, stmt: ast.stmt, top: bool) -> None:
        previous = self.imports.get(name)
        if previous is not None and previous[0] != target:
            self.ambiguous.add(name)
        if name in self.classes or name in self.assigns or name in self.functions:
            self.ambiguous.add(name)
        self.imports[name] = (target, stmt)

    def _import_base(self, stmt: ast.ImportFrom) -> str:
        if not stmt.level:
            return stmt.module or ""
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        up = stmt.level - 1
        if up > len(package) or (up == len(package) and not stmt.module):
            raise SourceError(
                self.location(stmt),
                "relative import goes above the top-level package",
                f"check --package-root (module read as {self.module!r})",
            )
        parts = package[: len(package) - up] if up else package
        if stmt.module:
            parts = [*parts, stmt.module]
        return ".".join(parts)

    def _collect_assign(self, stmt: ast.Assign | ast.AnnAssign, *, top: bool) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            if not isinstance(target, ast.Name):
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        self.ambiguous.add(node.id)
                continue
            self._bind(target.id, top)
            if top and stmt.value is not None:
                self.assigns[target.id] = stmt.value

    # ------------------------------------------------------------------ resolving names

    def location(self, node: ast.AST) -> Location:
        """Return the location of ``node`` in this module (1-based column)."""
        return Location(
            self.display, getattr(node, "lineno", 0), getattr(node, "col_offset", -1) + 1
        )

    def resolve(self, expr: ast.expr) -> Resolved:
        """Return what a (dotted) name stands for; ``SourceError`` when it is unknown."""
        parts = dotted_name(expr)
        if parts is None:
            raise SourceError(
                self.location(expr),
                f"expected a name, found {ast.unparse(expr)!r}",
                "write the type or marker by name",
            )
        return self.resolve_parts(parts, expr)

    def resolve_parts(self, parts: list[str], node: ast.AST) -> Resolved:
        """Resolve ``parts[0]`` in this module and the attribute path after it."""
        head, rest = parts[0], parts[1:]
        if head in self.ambiguous:
            raise SourceError(
                self.location(node),
                f"{head!r} is bound more than once or conditionally in this module",
                "bind each name the entity uses exactly once at the top level",
            )
        if head in self.classes:
            if rest:
                raise SourceError(
                    self.location(node),
                    f"cannot read {'.'.join(parts)!r}: attributes of classes are not types",
                )
            return LocalClass(self, self.classes[head])
        if head in self.assigns:
            if rest:
                raise SourceError(
                    self.location(node), f"cannot read {'.'.join(parts)!r} statically"
                )
            return LocalAlias(self, head, self.assigns[head])
        if head in self.functions:
            raise SourceError(
                self.location(node),
                f"{'.'.join(parts)!r} is a function defined in {self.display}, "
                "not something the reader can evaluate",
            )
        if head in self.imports:
            target, _ = self.imports[head]
            return self.loader.lookup(".".join([target, *rest]), self, node)
        if hasattr(builtins, head):
            return External("builtins." + ".".join(parts))
        raise SourceError(
            self.location(node),
            f"name {head!r} is not defined or imported in {self.display}",
            "import it at the top of the module",
        )


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    blocks: list[list[ast.stmt]] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if block:
            blocks.append(block)
    for handler in getattr(stmt, "handlers", ()):
        blocks.append(handler.body)
    return blocks


class Loader:
    """Parse modules of one package on demand, each at most once."""

    def __init__(self, package_root: Path, base_display: tuple[Path, str]) -> None:
        self.package_root = package_root.resolve()
        self._base_path = base_display[0].resolve().parent
        self._base_display = Path(base_display[1]).parent
        self._modules: dict[str, ModuleScope | None] = {}
        self._resolving: set[str] = set()

    def module_name(self, path: Path, node_location: Location | None = None) -> tuple[str, bool]:
        """Return the dotted module name of ``path`` and whether it is a package."""
        try:
            relative = path.resolve().relative_to(self.package_root)
        except ValueError:
            raise SourceError(
                node_location or Location(str(path)),
                f"{path} is not under the package root {self.package_root}",
                "pass --package-root (or set package_root) to the directory above the package",
            ) from None
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if not parts or not all(p.isidentifier() for p in parts):
            raise SourceError(
                node_location or Location(str(path)),
                f"{relative} is not an importable module path",
                "pass --package-root as the directory above the top-level package",
            )
        return ".".join(parts), is_package

    def parse(self, path: Path, display: str, text: str) -> ModuleScope:
        """Parse ``text`` as the module at ``path``; syntax errors become ``SourceError``."""
        module, is_package = self.module_name(path, Location(display))
        tree = parse_module(text, display)
        scope = ModuleScope(self, path, display, module, tree, text, is_package)
        self._modules[module] = scope
        return scope

    def _module_file(self, module: str) -> Path | None:
        base = self.package_root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def _display(self, path: Path) -> str:
        relative = os.path.relpath(path.resolve(), self._base_path)
        return os.path.normpath(str(self._base_display / relative))

    def load(self, module: str) -> ModuleScope | None:
        """Return the parsed package module ``module``, or ``None`` when it is not ours."""
        if module in self._modules:
            return self._modules[module]
        path = self._module_file(module)
        if path is None:
            self._modules[module] = None
            return None
        display = self._display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(Location(display), f"cannot read module {module}: {exc}") from None
        return self.parse(path, display, text)

    def lookup(self, qualname: str, origin: ModuleScope, node: ast.AST) -> Resolved:
        """Resolve a qualified name: into a package module when it is one, else external."""
        parts = qualname.split(".")
        for cut in range(len(parts), 0, -1):
            scope = self.load(".".join(parts[:cut]))
            if scope is None:
                continue
            rest = parts[cut:]
            if not rest:
                raise SourceError(
                    origin.location(node),
                    f"{qualname!r} is a module, not a type or marker",
                )
            if scope is origin:
                return origin.resolve_parts(rest, node)
            if qualname in self._resolving:
                raise SourceError(origin.location(node), f"{qualname!r} is re-exported in a cycle")
            self._resolving.add(qualname)
            try:
                return scope.resolve_parts(rest, node)
            except SourceError as exc:
                if len(self._resolving) > 1:
                    raise  # the outermost lookup reports it, once
                raise SourceError(
                    origin.location(node),
                    f"cannot resolve {qualname!r} in {scope.display}: {exc.message}",
                    exc.hint,
                ) from None
            finally:
                self._resolving.discard(qualname)
        return External(normalise(qualname))


def parse_module(text: str, display: str) -> ast.Module:
    """Parse Python source; a syntax error becomes ``SourceError`` at its line and column."""
    try:
        return ast.parse(text, filename=display, type_comments=False)
    except SyntaxError as exc:
        raise SourceError(
            Location(display, exc.lineno or 0, exc.offset or 0),
            f"invalid Python syntax: {exc.msg}",
            "the file must be valid Python 3.11 source",
        ) from None
    except ValueError as exc:  # NUL bytes and similar
        raise SourceError(Location(display, 1, 1), f"cannot parse Python source: {exc}") from None
