"""Load JSON Schema documents and resolve their references with the ``referencing`` library.

``referencing`` (the resolver behind the ``jsonschema`` package) implements the reference
rules of every draft: base URIs from ``$id``/``id``, JSON pointers, ``$anchor``, embedded
resources. This module only tells it where documents come from:

* the source file itself, registered under its ``file:`` URI and under its own ``$id``;
* ``file:`` URIs, read from disk (a relative ``$ref`` in a schema without ``$id`` lands here);
* ``http(s):`` URIs: the file of the same name next to the source schema, when there is one
  (``https://json.schemastore.org/eslintrc.json`` -> ``./eslintrc.json``). Nothing is ever
  fetched over the network.

A ``SchemaNode`` is a sub-schema together with the resolver that is in force at its place,
the document it belongs to and its JSON pointer there, so every later error can name file,
line, column and pointer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import referencing.exceptions
from referencing import Registry, Resource, Specification
from referencing._core import Resolver
from referencing.jsonschema import (
    DRAFT4,
    DRAFT6,
    DRAFT7,
    DRAFT201909,
    DRAFT202012,
    UnknownDialect,
    specification_with,
)

from persist_tool.ir import Location, SourceError
from persist_tool.readers.base import Diagnostic
from persist_tool.readers.jsonschema_positions import PositionIndex, escape_pointer, parse_json

__all__ = ["DIALECTS", "Document", "SchemaNode", "Workspace"]

DIALECTS: dict[int, str] = {
    id(DRAFT4): "draft-04",
    id(DRAFT6): "draft-06",
    id(DRAFT7): "draft-07",
    id(DRAFT201909): "2019-09",
    id(DRAFT202012): "2020-12",
}
"""Specification (by identity) -> short dialect name."""

_LEGACY = frozenset({"draft-04", "draft-06", "draft-07"})


@dataclass(slots=True, eq=False)
class Document:
    """One loaded JSON document: its data, where it is shown from, its positions."""

    display: str
    data: Any
    index: PositionIndex
    dialect: str
    specification: Specification[Any]
    _pointers: dict[int, str] | None = None

    def pointer_of(self, target: Any) -> str | None:
        """Return the JSON pointer of the object ``target`` in this document (by identity)."""
        if target is self.data:
            return ""
        if self._pointers is None:
            self._pointers = _pointer_map(self.data)
        return self._pointers.get(id(target)) if isinstance(target, dict | list) else None


@dataclass(frozen=True, slots=True, eq=False)
class SchemaNode:
    """A sub-schema at a known place, with the resolver in force there."""

    schema: Any
    resolver: Resolver[Any]
    document: Document
    pointer: str
    workspace: Workspace = field(repr=False)

    @property
    def dialect(self) -> str:
        """The dialect of the document holding this node (``draft-07``, ``2020-12``...)."""
        return self.document.dialect

    @property
    def legacy_ref(self) -> bool:
        """Whether ``$ref`` here replaces its sibling keywords (drafts 04 to 07)."""
        return self.document.dialect in _LEGACY

    @property
    def key(self) -> int:
        """Identity of the schema object (the same object reached by two paths is one node)."""
        return id(self.schema)

    def location(self, keyword: str | None = None) -> Location:
        """Return the location of this node, or of one of its keywords."""
        pointer = self.pointer if keyword is None else f"{self.pointer}/{escape_pointer(keyword)}"
        return self.document.index.location(pointer)

    def child(self, *path: str | int) -> SchemaNode:
        """Return the sub-schema at ``path`` below this node (keyword, then key or index)."""
        value = self.schema
        pointer = self.pointer
        for part in path:
            value = value[part]
            pointer = f"{pointer}/{escape_pointer(part)}"
        resolver = self.resolver
        if isinstance(value, dict) and self.document.specification.id_of(value) is not None:
            resolver = resolver.in_subresource(self.document.specification.create_resource(value))
        return SchemaNode(value, resolver, self.document, pointer, self.workspace)

    def follow(self, keyword: str = "$ref") -> SchemaNode:
        """Return the target of this node's ``$ref`` (or ``$dynamicRef``/``$recursiveRef``)."""
        ref = self.schema[keyword]
        if not isinstance(ref, str):
            raise SourceError(self.location(keyword), f"{keyword} must be a string")
        return self.workspace.lookup(self, ref, keyword)


class Workspace:
    """The documents of one read and the registry that resolves references between them."""

    def __init__(self, text: str, path: Path, display: str) -> None:
        self.path = path.resolve() if path.name else Path.cwd() / "schema.json"
        self.display = display
        self.documents: dict[str, Document] = {}
        self._warnings: dict[tuple[str, str], Diagnostic] = {}
        self._resources: dict[str, Resource[Any]] = {}
        self.copies: dict[int, Any] = {}
        """Bundled copies of reference-free sub-schemas, by the identity of the original
        (``Bundler.copy``): the same definition is reached from many entities' fields."""
        self._resolved: dict[tuple[int, str, str], tuple[Resolver[Any], SchemaNode]] = {}
        """``lookup`` results by resolver identity, reference and keyword (kept with the
        resolver, so that its identity stays its own)."""
        self.definitions: dict[object, Any] = {}
        """What bundling each reference target added to a bundle (``Bundler._name_for``),
        for other bundles that reach the same target."""
        data, index = parse_json(text, display)
        if not isinstance(data, dict):
            kind = "a boolean schema" if isinstance(data, bool) else f"a JSON {_kind(data)}"
            raise SourceError(
                index.location(""),
                f"the root of a JSON Schema source must be an object, not {kind}",
                "entities are object schemas at the root or under $defs/definitions",
            )
        _check_structure(data, index)
        self.specification = self._specification(data, index, None)
        self.root_document = Document(
            display, data, index, _dialect(self.specification), self.specification
        )
        root_uri = self.path.as_uri()
        self.documents[root_uri] = self.root_document
        resource = self.specification.create_resource(data)
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        registry = registry.with_resource(root_uri, resource).crawl()
        resolver = registry.resolver(base_uri=root_uri)
        if self.specification.id_of(data) is not None:
            resolver = resolver.in_subresource(resource)
        self.root = SchemaNode(data, resolver, self.root_document, "", self)

    @property
    def warnings(self) -> list[Diagnostic]:
        """The warnings met so far, each once, in the order first met."""
        return list(self._warnings.values())

    def warn(self, location: Location, message: str) -> None:
        """Record a warning (the same warning at the same place is kept once)."""
        self._warnings.setdefault((str(location), message), Diagnostic(location, message))

    # ------------------------------------------------------------------ documents

    def _specification(
        self, data: dict[str, Any], index: PositionIndex, default: Specification[Any] | None
    ) -> Specification[Any]:
        dialect = data.get("$schema")
        fallback = default or DRAFT202012
        if dialect is None:
            return fallback
        if not isinstance(dialect, str):
            raise SourceError(index.location("/$schema"), "$schema must be a string (a URI)")
        try:
            return specification_with(dialect)
        except (referencing.exceptions.CannotDetermineSpecification, UnknownDialect):
            self.warn(
                index.location("/$schema"),
                f"unknown $schema {dialect!r}; reading it as {_dialect(fallback)}",
            )
            return fallback

    def _retrieve(self, uri: str) -> Resource[Any]:
        cached = self._resources.get(uri)
        if cached is not None:
            return cached
        path = self._local_path(uri)
        if path is None or not path.is_file():
            raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]
        display = _display_beside(self.display, self.path, path)
        data, index = parse_json(path.read_text(encoding="utf-8"), display)
        _check_structure(data, index)
        spec = (
            self._specification(data, index, self.specification)
            if isinstance(data, dict)
            else self.specification
        )
        document = Document(display, data, index, _dialect(spec), spec)
        self.documents[uri] = document
        resource = spec.create_resource(data)
        self._resources[uri] = resource
        return resource

    def _local_path(self, uri: str) -> Path | None:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if parts.scheme in ("http", "https"):
            name = PurePosixPath(unquote(parts.path)).name
            return self.path.parent / name if name else None
        return None

    def document_of(self, resolver: Resolver[Any]) -> Document:
        """Return the document a resolver's base URI points into."""
        base = str(resolver._base_uri).split("#")[0]  # no public accessor for the base URI
        document = self.documents.get(base)
        if document is not None:
            return document
        path = self._local_path(base)
        for uri, candidate in self.documents.items():
            if path is not None and self._local_path(uri) == path:
                return candidate
        return self.root_document

    # ------------------------------------------------------------------ references

    def lookup(self, node: SchemaNode, ref: str, keyword: str) -> SchemaNode:
        """Resolve ``ref`` found at ``node`` (``SourceError`` at the keyword when it dangles).

        What a reference resolves to depends only on the resolver in force (its base URI
        and dynamic scope) and the reference: the same definition, met from many fields,
        is resolved once per resolver.
        """
        key = (id(node.resolver), ref, keyword)
        known = self._resolved.get(key)
        if known is not None and known[0] is node.resolver:
            return known[1]
        found = self._lookup(node, ref, keyword)
        if found is None:  # a remote schema not available here: warned of at each use
            return self._unavailable(node)
        self._resolved[key] = (node.resolver, found)
        return found

    def _lookup(self, node: SchemaNode, ref: str, keyword: str) -> SchemaNode | None:
        try:
            if keyword == "$recursiveRef":
                from referencing.jsonschema import lookup_recursive_ref

                resolved = lookup_recursive_ref(node.resolver)
            else:
                resolved = node.resolver.lookup(ref)
        except referencing.exceptions.Unresolvable as exc:
            cause: BaseException | None = exc
            while cause is not None:
                if isinstance(cause, SourceError):  # the named file exists but is invalid
                    raise cause from None
                cause = cause.__cause__
            self._unresolvable(node, ref, keyword, exc)  # warns or raises
            return None
        target = resolved.contents
        document = self.document_of(resolved.resolver)
        pointer = document.pointer_of(target)
        if pointer is None:
            document, pointer = node.document, node.pointer
        return SchemaNode(target, resolved.resolver, document, pointer, self)

    def _unavailable(self, node: SchemaNode) -> SchemaNode:
        """Return what stands in for a remote schema: any JSON value."""
        return SchemaNode(True, node.resolver, node.document, node.pointer, self)

    def _unresolvable(self, node: SchemaNode, ref: str, keyword: str, exc: Exception) -> None:
        """Warn of a remote schema that is not available here, or raise for a dangling one."""
        location = node.location(keyword)
        missing = type(exc) is referencing.exceptions.Unresolvable
        target = urljoin(str(node.resolver._base_uri), ref)
        if missing and urlsplit(target).scheme in ("http", "https"):
            # A schema published elsewhere and not available beside this one: its values
            # are accepted as any JSON, and the reader says so.
            self.warn(
                location,
                f"{keyword} {ref!r} names a remote schema that is not available locally "
                f"({urldefrag(target)[0]}); its values are accepted as any JSON",
            )
            return
        reason = "the document it names does not exist" if missing else _reason(exc)
        raise SourceError(
            location,
            f"{keyword} {ref!r} does not resolve: {reason}",
            "point it at a definition that exists (for example '#/$defs/Name')",
        ) from None


def _pointer_map(data: Any) -> dict[int, str]:
    """Map the identity of every object and array in ``data`` to its JSON pointer."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, pointer = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(child, dict | list):
                child_pointer = f"{pointer}/{escape_pointer(key)}"
                found.setdefault(id(child), child_pointer)
                stack.append((child, child_pointer))
    return found


def _reason(exc: Exception) -> str:
    if isinstance(exc, referencing.exceptions.PointerToNowhere):
        return "the JSON pointer points to nothing"
    if isinstance(exc, referencing.exceptions.NoSuchAnchor):
        return "no such anchor"
    return type(exc).__name__


def _dialect(spec: Specification[Any]) -> str:
    return DIALECTS.get(id(spec), "2020-12")


def _kind(value: Any) -> str:
    names = {list: "array", str: "string", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _display_beside(display: str, path: Path, other: Path) -> str:
    """Return how to show ``other``: relative to the directory ``display`` is shown from."""
    try:
        relative = other.resolve().relative_to(path.parent)
    except ValueError:
        return str(other)
    return str(PurePosixPath(display).parent / relative.as_posix())


_SCHEMA_ONE = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
        "items",
    }
)
_SCHEMA_MAP = frozenset(
    {"properties", "patternProperties", "dependentSchemas", "$defs", "definitions", "dependencies"}
)
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})


def _check_structure(data: Any, index: PositionIndex) -> None:
    """Report the first place a sub-schema is expected but something else is written."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        schema, pointer = stack.pop()
        if isinstance(schema, bool):
            continue
        if not isinstance(schema, dict):
            raise SourceError(
                index.location(pointer),
                f"expected a schema (an object or a boolean), got {json.dumps(schema)[:40]}",
            )
        for keyword, value in schema.items():
            at = f"{pointer}/{escape_pointer(keyword)}"
            if keyword in _SCHEMA_LIST and isinstance(value, list):
                stack.extend((v, f"{at}/{i}") for i, v in enumerate(value))
            elif keyword in _SCHEMA_MAP:
                if not isinstance(value, dict):
                    raise SourceError(index.location(at), f"{keyword} must be an object")
                stack.extend(
                    (v, f"{at}/{escape_pointer(k)}")
                    for k, v in value.items()
                    if not (keyword == "dependencies" and isinstance(v, list))
                )
            elif keyword in _SCHEMA_ONE:
                stack.append((value, at))
