"""Make self-contained JSON sub-schemas for ``json`` fields, in the 2020-12 vocabulary.

A field whose value has no column type keeps its JSON Schema so generated code can
validate it at run time. That schema must stand alone: every ``$ref`` it uses (local,
in a sibling file, recursive) is resolved through the ``referencing`` resolver, the target
is copied once under the bundle's own ``$defs`` and the reference rewritten to
``#/$defs/<name>``; a reference back to a target already being copied reuses its entry, so
recursive schemas stay finite.

Only the standard vocabulary is copied; vendor extensions (``x-*``,
``markdownDescription``, ``deprecationMessage``...) stay behind. Older drafts are rewritten
to 2020-12 on the way, so the runtime validator reads one vocabulary: ``$ref`` siblings
that drafts 04-07 ignore are dropped (annotations are kept),
boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numbers, array-form ``items`` with
``additionalItems`` become ``prefixItems`` with ``items``, ``dependencies`` splits into
``dependentRequired`` and ``dependentSchemas``. Identifiers and anchors (``$id``,
``$anchor``, ``$schema``...) are dropped: every reference is already a local pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from persist_tool.ir import SourceError
from persist_tool.readers.jsonschema_refs import SchemaNode

__all__ = ["ANNOTATIONS", "Bundler", "bundle"]

ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "markdownDescription",
    }
)
"""Keywords that describe a value without constraining it."""

_ONE = frozenset(
    {
        "additionalProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
_MAP = frozenset({"properties", "patternProperties", "dependentSchemas"})
_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")
_DROP = frozenset(
    {
        "$id",
        "$schema",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$defs",
        "definitions",
        "$vocabulary",
    }
)
_VALUES = frozenset(
    {
        "type",
        "enum",
        "const",
        "required",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minContains",
        "maxContains",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "contentEncoding",
        "contentMediaType",
        "nullable",
    }
)
"""Standard keywords whose values are copied as they are."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def bundle(node: SchemaNode) -> Any:
    """Return the self-contained 2020-12 form of ``node``."""
    return Bundler().bundle(node)


class Bundler:
    """Copy schemas, collecting every reference target under one ``$defs``."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self.names: dict[object, str] = {}
        self.refs = 0  # references rewritten so far
        self.order: list[object] = []  # targets in the order they were named
        self.position: dict[object, int] = {}
        self.frames: list[_Frame] = []  # the targets being copied, outermost first

    def bundle(self, node: SchemaNode) -> Any:
        """Return ``node`` copied, with the ``$defs`` its references need."""
        top = _as_object(self.copy(self._through_plain_refs(node)))
        if not self.defs:
            return top
        return {**top, "$defs": dict(sorted(self.defs.items()))}

    def bundle_all(self, nodes: list[SchemaNode]) -> Any:
        """Return the conjunction of ``nodes`` as one self-contained schema."""
        if len(nodes) == 1:
            return self.bundle(nodes[0])
        top: dict[str, Any] = {"allOf": [self.copy(self._through_plain_refs(n)) for n in nodes]}
        if self.defs:
            top["$defs"] = dict(sorted(self.defs.items()))
        return top

    def _through_plain_refs(self, node: SchemaNode) -> SchemaNode:
        """Skip references that are all a schema says, so the top keeps the real keywords."""
        seen: set[int] = set()
        while (
            isinstance(node.schema, dict)
            and isinstance(node.schema.get("$ref"), str)
            and all(k == "$ref" or k in ANNOTATIONS or k in _DROP for k in node.schema)
            and node.key not in seen
        ):
            seen.add(node.key)
            node = node.follow()
        return node

    def copy(self, node: SchemaNode) -> Any:
        """Return a copy of the schema at ``node`` with references rewritten.

        A copy without references does not depend on this bundle's ``$defs`` names, so it
        is made once per read and shared (copies are never modified afterwards).
        """
        schema = node.schema
        if isinstance(schema, bool):
            return schema
        shared = node.workspace.copies.get(id(schema))
        if shared is not None:
            return shared
        refs = self.refs
        out = self._copy(node)
        if self.refs == refs:
            node.workspace.copies[id(schema)] = out
        return out

    def _copy_child(self, node: SchemaNode, *path: str | int) -> Any:
        """Return ``copy(node.child(*path))``, skipping the child node for a shared copy."""
        value = node.schema
        for part in path:
            value = value[part]
        shared = node.workspace.copies.get(id(value))
        if shared is not None:
            return shared
        return self.copy(node.child(*path))

    def _copy(self, node: SchemaNode) -> dict[str, Any]:
        schema = node.schema
        if not isinstance(schema, dict):
            raise SourceError(
                node.location(), f"expected a schema (object or boolean), got {schema!r}"
            )
        legacy_ref = node.legacy_ref and "$ref" in schema
        out: dict[str, Any] = {}
        for keyword, value in schema.items():
            if keyword in _DROP or (keyword == "id" and node.dialect == "draft-04"):
                continue
            if legacy_ref and keyword != "$ref" and keyword not in ANNOTATIONS:
                continue  # drafts 04-07 ignore every sibling of $ref
            if keyword in _REFS:
                self.refs += 1
                out["$ref"] = "#/$defs/" + self._name_for(node.follow(keyword))
            elif keyword in _ONE:
                out[keyword] = self._copy_child(node, keyword)
            elif keyword in _MAP:
                out[keyword] = {
                    k: self._copy_child(node, keyword, k) for k in _mapping(node, keyword)
                }
            elif keyword in _LIST:
                out[keyword] = [
                    self._copy_child(node, keyword, i) for i in range(len(_list(node, keyword)))
                ]
            elif keyword == "items":
                self._items(node, out)
            elif keyword == "dependencies":
                self._dependencies(node, out)
            elif keyword in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
                bound = "minimum" if keyword == "exclusiveMinimum" else "maximum"
                if value and bound in schema:
                    out[keyword] = schema[bound]
            elif (
                keyword in ("minimum", "maximum")
                and schema.get("exclusive" + keyword.title()) is True
            ):
                continue  # carried by the exclusive bound above
            elif keyword == "additionalItems":
                continue  # meaningful only beside array-form "items", handled there
            elif keyword in _VALUES or keyword in ANNOTATIONS - {"markdownDescription"}:
                out[keyword] = value
            # Anything else is an editor or vendor extension (x-*, markdownDescription...):
            # it neither constrains nor documents the stored value, so it stays behind.
        return out

    def _items(self, node: SchemaNode, out: dict[str, Any]) -> None:
        items = node.schema["items"]
        if isinstance(items, list):
            out["prefixItems"] = [self._copy_child(node, "items", i) for i in range(len(items))]
            if "additionalItems" in node.schema:
                out["items"] = self._copy_child(node, "additionalItems")
        else:
            out["items"] = self._copy_child(node, "items")

    def _dependencies(self, node: SchemaNode, out: dict[str, Any]) -> None:
        for key, value in _mapping(node, "dependencies").items():
            if isinstance(value, list):
                out.setdefault("dependentRequired", {})[key] = value
            else:
                out.setdefault("dependentSchemas", {})[key] = self.copy(
                    node.child("dependencies", key)
                )

    def _name_for(self, target: SchemaNode) -> str:
        key: object = target.key if isinstance(target.schema, dict) else ("bool", target.schema)
        name = self.names.get(key)
        if name is not None:
            self._note_use(key, name)
            return name
        shared: _Definitions | None = target.workspace.definitions.get(key)
        if shared is not None and self._fits(shared):
            self._adopt(shared)
            return shared.name
        last = target.pointer.rsplit("/", 1)[-1] if target.pointer else "root"
        base = _UNSAFE.sub("_", last.replace("~1", "_").replace("~0", "_")) or "def"
        name = base
        counter = 2
        while name in self.defs:
            name = f"{base}_{counter}"
            counter += 1
        if name != base:
            for frame in self.frames:  # names that depend on this bundle: not shareable
                frame.shareable = False
        # Reserved while the target is copied (it may refer to itself).
        self._assign(key, name, True)
        frame = _Frame(self.position[key], shareable=name == base)
        self.frames.append(frame)
        try:
            self.defs[name] = self.copy(target)
        finally:
            self.frames.pop()
        if frame.shareable and isinstance(target.schema, dict):
            closure = tuple(
                (k, self.names[k], self.defs[self.names[k]]) for k in self.order[frame.start :]
            )
            target.workspace.definitions[key] = _Definitions(
                name, closure, tuple(frame.external.items())
            )
        return name

    # Another bundle that reaches the same target gets the same names and copies for it
    # when none of them is taken yet and the targets named before it have the same names:
    # copying afresh would then make exactly those entries, so they are shared instead.

    def _assign(self, key: object, name: str, copy: Any) -> None:
        self.names[key] = name
        self.position[key] = len(self.order)
        self.order.append(key)
        self.defs[name] = copy

    def _note_use(self, key: object, name: str) -> None:
        """Record, for each target being copied, a reference to a target named before it."""
        for frame in self.frames:
            if self.position[key] < frame.start:
                frame.external[key] = name

    def _fits(self, shared: _Definitions) -> bool:
        return all(
            k not in self.names and n not in self.defs for k, n, _ in shared.closure
        ) and all(self.names.get(k) == n for k, n in shared.external)

    def _adopt(self, shared: _Definitions) -> None:
        for key, name, copy in shared.closure:
            self._assign(key, name, copy)
        for key, name in shared.external:
            self._note_use(key, name)


@dataclass(slots=True)
class _Frame:
    """A reference target being copied: where its entries start, what else it refers to."""

    start: int
    external: dict[object, str] = field(default_factory=dict)
    shareable: bool = True


@dataclass(frozen=True, slots=True)
class _Definitions:
    """The ``$defs`` entries that naming one target added to a bundle, in order."""

    name: str
    closure: tuple[tuple[object, str, Any], ...]
    """(target key, name, copy) of the target and of what it refers to that was new."""
    external: tuple[tuple[object, str], ...]
    """Targets named before it that it refers to, with their names."""


def _as_object(schema: Any) -> dict[str, Any]:
    """Return a boolean schema in object form (``true`` -> ``{}``, ``false`` -> ``{"not": {}}``)."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    result: dict[str, Any] = schema
    return result


def _mapping(node: SchemaNode, keyword: str) -> dict[str, Any]:
    value = node.schema[keyword]
    if not isinstance(value, dict):
        raise SourceError(node.location(keyword), f"{keyword} must be an object")
    return value


def _list(node: SchemaNode, keyword: str) -> list[Any]:
    value = node.schema[keyword]
    if not isinstance(value, list):
        raise SourceError(node.location(keyword), f"{keyword} must be an array")
    return value
