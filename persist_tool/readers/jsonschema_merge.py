"""Flatten a schema's ``$ref``/``allOf`` chain and merge it into one view of its keywords.

``flatten`` follows references (through ``referencing``, see ``jsonschema_refs``) and
``allOf`` members, giving the list of schema nodes whose conjunction the value must satisfy;
a chain that comes back to itself without consuming any of the value (``a -> b -> a``) is a
``SourceError``. ``merge`` combines those nodes: types intersect, bounds tighten, properties
and ``required`` unite, the first annotation wins. Keywords the view has no slot for, or
that two nodes state differently, stay in ``residual`` (per node), so a caller can tell
whether a value has a plain column type or must keep its JSON Schema.

``merge`` leaves ``x-persist-*`` keywords alone: ``persist_of`` collects them from the nodes
a schema declares itself (the node and its ``allOf`` members), following a reference only
where the caller allows it and only into a schema that describes a plain value, never an
object (see the ``jsonschema`` module for the rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from persist_tool.ir import SourceError
from persist_tool.readers.jsonschema_bundle import ANNOTATIONS
from persist_tool.readers.jsonschema_refs import SchemaNode

__all__ = ["JSON_TYPES", "View", "flatten", "merge", "persist_of"]

JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")

_REFS = ("$ref", "$dynamicRef", "$recursiveRef")
_IDENTITY = frozenset(
    {
        "$id",
        "$schema",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$defs",
        "definitions",
        "$vocabulary",
        "allOf",
        *_REFS,
    }
)
_RESIDUAL = frozenset(
    {
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "minContains",
        "maxContains",
        "prefixItems",
        "additionalItems",
        "dependencies",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "minProperties",
        "maxProperties",
    }
)
_UNCHECKABLE = frozenset({"unevaluatedProperties", "unevaluatedItems"})
_LOWER = {"minimum": max, "minLength": max, "minItems": max}
_UPPER = {"maximum": min, "maxLength": min, "maxItems": min}


@dataclass(slots=True)
class View:
    """The merged keywords of a conjunction of schema nodes."""

    parts: list[SchemaNode]
    types: set[str] | None = None
    enum: list[Any] | None = None
    enum_node: SchemaNode | None = None
    const: tuple[Any] | None = None
    openapi_nullable: bool = False
    numbers: dict[str, Any] = field(default_factory=dict)
    """minimum/maximum/exclusiveMinimum/exclusiveMaximum/multipleOf (2020-12 meaning)."""
    strings: dict[str, Any] = field(default_factory=dict)
    """minLength/maxLength/pattern/format/contentEncoding."""
    arrays: dict[str, Any] = field(default_factory=dict)
    """minItems/maxItems/uniqueItems."""
    items: list[SchemaNode] = field(default_factory=list)
    properties: dict[str, list[SchemaNode]] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    additional: list[SchemaNode] = field(default_factory=list)
    pattern_properties: dict[str, list[SchemaNode]] = field(default_factory=dict)
    annotations: dict[str, tuple[Any, SchemaNode]] = field(default_factory=dict)
    persist: dict[str, tuple[Any, SchemaNode]] = field(default_factory=dict)
    """``x-persist-*`` keywords, filled by the caller through ``persist_of`` (not ``merge``)."""
    residual: list[tuple[SchemaNode, tuple[str, ...]]] = field(default_factory=list)
    never: bool = False
    """A ``false`` schema is part of the conjunction: no value is valid."""

    @property
    def has_object_keywords(self) -> bool:
        """Whether the view constrains object members."""
        return bool(self.properties or self.required or self.additional or self.pattern_properties)


def flatten(node: SchemaNode, chain: tuple[int, ...] = ()) -> list[SchemaNode]:
    """Return ``node`` and every node its references and ``allOf`` bring in, in order."""
    schema = node.schema
    if not isinstance(schema, dict):
        if isinstance(schema, bool) and node.dialect != "draft-04":
            return [node]
        raise SourceError(node.location(), f"expected a schema (an object), got {_show(schema)}")
    if node.key in chain:
        raise SourceError(
            node.location(),
            "cyclic $ref: this schema refers back to itself without describing any value",
            "a recursive schema must go through properties or items",
        )
    inner = (*chain, node.key)
    nodes = [node]
    for keyword in _REFS:
        if keyword in schema:
            nodes.extend(flatten(node.follow(keyword), inner))
    if "allOf" in schema and not (node.legacy_ref and "$ref" in schema):
        members = schema["allOf"]
        if not isinstance(members, list) or not members:
            raise SourceError(node.location("allOf"), "allOf must be a non-empty array of schemas")
        for index in range(len(members)):
            nodes.extend(flatten(node.child("allOf", index), inner))
    return nodes


def merge(nodes: list[SchemaNode]) -> View:
    """Merge the conjunction ``nodes`` (already flattened) into one view."""
    view = View(parts=nodes)
    for node in nodes:
        if node.schema is False:
            view.never = True
        if isinstance(node.schema, dict):
            _merge_one(view, node)
    return view


def _merge_one(view: View, node: SchemaNode) -> None:
    schema: dict[str, Any] = node.schema
    ignore_siblings = node.legacy_ref and "$ref" in schema
    residual: list[str] = []
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS:
            view.annotations.setdefault(keyword, (value, node))
            continue
        if ignore_siblings or keyword in _IDENTITY:
            continue
        if keyword in _UNCHECKABLE:
            raise SourceError(
                node.location(keyword),
                f"{keyword} cannot be held by a persisted entity or checked by its runtime",
                "state the allowed members with properties and additionalProperties",
            )
        handler = _HANDLERS.get(keyword)
        if handler is not None:
            if not handler(view, node, keyword, value):
                residual.append(keyword)
        elif keyword in _RESIDUAL:
            residual.append(keyword)
    if residual:
        view.residual.append((node, tuple(residual)))


def persist_of(
    nodes: list[SchemaNode], *, through_values: bool
) -> dict[str, tuple[Any, SchemaNode]]:
    """Collect the ``x-persist-*`` keywords ``nodes`` declare (first statement wins).

    Each node counts with its ``allOf`` members, recursively. With ``through_values`` a
    reference (``$ref``, ``$dynamicRef``, ``$recursiveRef``) is followed when its target
    describes a plain value (a reusable ``Id`` or ``Money`` definition): that target lends
    its keywords too. A target that describes an object is another entity's shape; its
    keywords are that entity's and never reach the schema referring to it. Without
    ``through_values`` no reference is followed at all.
    """
    found: dict[str, tuple[Any, SchemaNode]] = {}
    seen: set[int] = set()
    pending = list(reversed(nodes))
    while pending:
        node = pending.pop()
        schema = node.schema
        if not isinstance(schema, dict) or node.key in seen:
            continue
        seen.add(node.key)
        for keyword, value in schema.items():
            if keyword.startswith("x-persist-"):
                found.setdefault(keyword, (value, node))
        more: list[SchemaNode] = []
        if through_values:
            targets = (node.follow(k) for k in _REFS if k in schema)
            more.extend(t for t in targets if not _describes_object(t))
        members = schema.get("allOf")
        if isinstance(members, list) and not (node.legacy_ref and "$ref" in schema):
            more.extend(node.child("allOf", index) for index in range(len(members)))
        pending.extend(reversed(more))
    return found


def _describes_object(node: SchemaNode) -> bool:
    """Whether ``node`` constrains objects: a type of ``object`` or object keywords."""
    view = merge(flatten(node))
    return view.has_object_keywords or (view.types is not None and "object" in view.types)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise SourceError(
            node.location(keyword), "type must be a type name or an array of type names"
        )
    for name in names:
        if name not in JSON_TYPES:
            raise SourceError(
                node.location(keyword),
                f"unknown type {name!r}",
                "JSON Schema types are: " + ", ".join(JSON_TYPES),
            )
    stated = set(names)
    if "number" in stated:
        stated.add("integer")
    if view.types is None:
        view.types = stated
    else:
        view.types &= stated
    return True


def _json_key(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _enum(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if not isinstance(value, list):
        raise SourceError(node.location(keyword), "enum must be an array")
    if view.enum is None:
        view.enum, view.enum_node = list(value), node
    else:
        allowed = {_json_key(v) for v in value}
        view.enum = [v for v in view.enum if _json_key(v) in allowed]
    return True


def _const(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if view.const is None:
        view.const = (value,)
        return True
    return _json_key(view.const[0]) == _json_key(value)


def _nullable(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if value is True:
        view.openapi_nullable = True
    return True


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bound(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    schema = node.schema
    if isinstance(value, bool) and keyword.startswith("exclusive"):
        return True  # draft-04 flag, read together with minimum/maximum
    if not _number(value):
        raise SourceError(node.location(keyword), f"{keyword} must be a number")
    if keyword in ("minimum", "maximum") and schema.get(f"exclusive{keyword.title()}") is True:
        keyword = f"exclusive{keyword.title()}"
    pick = max if keyword in ("minimum", "exclusiveMinimum") else min
    old = view.numbers.get(keyword)
    view.numbers[keyword] = value if old is None else pick(old, value)
    return True


def _single(target: str) -> Any:
    def handler(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
        bucket: dict[str, Any] = getattr(view, target)
        if keyword == "pattern":
            _check_regex(node, keyword, value)
        if keyword == "multipleOf" and (not _number(value) or value <= 0):
            raise SourceError(node.location(keyword), "multipleOf must be a number above 0")
        if keyword in bucket and bucket[keyword] != value:
            return False
        bucket[keyword] = value
        return True

    return handler


def _size(target: str) -> Any:
    def handler(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SourceError(node.location(keyword), f"{keyword} must be a whole number >= 0")
        bucket: dict[str, Any] = getattr(view, target)
        pick = _LOWER.get(keyword) or _UPPER[keyword]
        old = bucket.get(keyword)
        bucket[keyword] = value if old is None else pick(old, value)
        return True

    return handler


def _unique(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if value is True:
        view.arrays["uniqueItems"] = True
    return True


def _items(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if isinstance(value, list):
        return False  # tuple form: the value keeps its JSON Schema
    view.items.append(node.child(keyword))
    return True


def _properties(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if not isinstance(value, dict):
        raise SourceError(node.location(keyword), "properties must be an object")
    for name in value:
        view.properties.setdefault(name, []).append(node.child(keyword, name))
    return True


def _required(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if isinstance(value, bool):  # draft-03 style flag some schemas still carry: ignored
        return True
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceError(node.location(keyword), "required must be an array of property names")
    for name in value:
        if name not in view.required:
            view.required.append(name)
    return True


def _additional(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    view.additional.append(node.child(keyword))
    return True


def _pattern_properties(view: View, node: SchemaNode, keyword: str, value: Any) -> bool:
    if not isinstance(value, dict):
        raise SourceError(node.location(keyword), "patternProperties must be an object")
    for pattern in value:
        _check_regex(node.child(keyword), pattern, pattern)
        view.pattern_properties.setdefault(pattern, []).append(node.child(keyword, pattern))
    return True


def _check_regex(node: SchemaNode, keyword: str, pattern: Any) -> None:
    if not isinstance(pattern, str):
        raise SourceError(node.location(keyword), "a pattern must be a string")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SourceError(
            node.location(keyword),
            f"pattern {pattern!r} is not a regular expression Python can check: {exc}",
        ) from None


_HANDLERS: dict[str, Any] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "nullable": _nullable,
    "minimum": _bound,
    "maximum": _bound,
    "exclusiveMinimum": _bound,
    "exclusiveMaximum": _bound,
    "multipleOf": _single("numbers"),
    "minLength": _size("strings"),
    "maxLength": _size("strings"),
    "pattern": _single("strings"),
    "format": _single("strings"),
    "contentEncoding": _single("strings"),
    "minItems": _size("arrays"),
    "maxItems": _size("arrays"),
    "uniqueItems": _unique,
    "items": _items,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional,
    "patternProperties": _pattern_properties,
}
"""Keyword -> merge handler; a handler returns False when the keyword must stay residual."""
