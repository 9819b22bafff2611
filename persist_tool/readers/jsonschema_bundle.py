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
            return name
        last = target.pointer.rsplit("/", 1)[-1] if target.pointer else "root"
        base = _UNSAFE.sub("_", last.replace("~1", "_").replace("~0", "_")) or "def"
        name = base
        counter = 2
        while name in self.defs:
            name = f"{base}_{counter}"
            counter += 1
        self.names[key] = name
        self.defs[name] = True  # reserved while the target is copied (it may refer to itself)
        self.defs[name] = self.copy(target)
        return name


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
