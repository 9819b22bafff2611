"""Validate JSON values against JSON Schemas, with the standard library only.

Generated modules keep the JSON Schema of every ``json`` field as a constant and call
``validate_json(value, SCHEMA, "/field", issues)``: every problem becomes an ``Issue`` whose
path is the JSON pointer of the failing value. Schemas are compiled once into closures and
cached per schema object.

The vocabulary is JSON Schema 2020-12 (the form the generator writes sub-schemas in), and the
draft-04 to 2019-09 spellings whose meaning their shape makes plain are read as well:
``definitions``, ``dependencies``, array-form ``items`` with ``additionalItems``, boolean
``exclusiveMinimum``/``exclusiveMaximum``. ``$ref`` must point inside the schema (``#``,
``#/$defs/...``, ``#/definitions/...``, ``#anchor``); recursive references work.

Keywords: ``type``, ``enum``, ``const``, ``properties``, ``required``,
``additionalProperties``, ``patternProperties``, ``propertyNames``, ``minProperties``,
``maxProperties``, ``items``, ``prefixItems``, ``additionalItems``, ``contains`` (with
``minContains``/``maxContains``), ``minItems``, ``maxItems``, ``uniqueItems``, ``minimum``,
``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``, ``minLength``,
``maxLength``, ``pattern``, ``format`` (``date``, ``date-time``, ``time``, ``uuid``,
``email``), ``allOf``, ``anyOf``, ``oneOf``, ``not``, ``if``/``then``/``else``,
``dependentRequired``, ``dependentSchemas``, ``$ref``. Other keywords are annotations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from ._jsonschema_keywords import KEYWORDS, Check, accept, reject
from ._jsonschema_values import show
from .errors import Issue

__all__ = ["is_valid", "validate_json"]

_CACHE: dict[int, tuple[object, Check]] = {}
_CACHE_LIMIT: Final = 4096


def validate_json(
    value: object, schema: Mapping[str, object] | bool, path: str, issues: list[Issue]
) -> None:
    """Append an ``Issue`` to ``issues`` for every way ``value`` breaks ``schema``.

    ``path`` is the JSON pointer of ``value`` in its document (``""`` for the root); issue
    paths extend it. Raises ``ValueError`` when the schema itself is unusable (a ``$ref``
    that points outside it, a pattern Python cannot compile). A value nested deeper than
    the interpreter's recursion limit allows is reported as an issue, not a crash.
    """
    check = _compiled(schema)
    found: list[Issue] = []
    try:
        check(value, path, found)
    except RecursionError:
        found.append(Issue(path, "value is nested too deeply to validate"))
    issues.extend(found)


def is_valid(value: object, schema: Mapping[str, object] | bool) -> bool:
    """Tell whether ``value`` satisfies ``schema``."""
    issues: list[Issue] = []
    validate_json(value, schema, "", issues)
    return not issues


def _compiled(schema: Mapping[str, object] | bool) -> Check:
    key = id(schema)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    check = _Compiler(schema).root_check()
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    # The schema object is kept in the entry so its id cannot be reused while cached.
    _CACHE[key] = (schema, check)
    return check


class _Compiler:
    """Compile one root schema; ``$ref`` targets are compiled once, on first use."""

    def __init__(self, root: Mapping[str, object] | bool) -> None:
        self.root = root
        self.targets: dict[str, Check] = {}
        self.anchors: dict[str, object] = {}
        self._collect_anchors(root)

    def root_check(self) -> Check:
        return self.compile(self.root)

    def _collect_anchors(self, node: object) -> None:
        if isinstance(node, Mapping):
            anchor = node.get("$anchor")
            if isinstance(anchor, str):
                self.anchors.setdefault(anchor, node)
            for value in node.values():
                self._collect_anchors(value)
        elif isinstance(node, list):
            for value in node:
                self._collect_anchors(value)

    def compile(self, schema: object) -> Check:
        if schema is True or schema == {}:
            return accept
        if schema is False:
            return reject
        if not isinstance(schema, Mapping):
            raise ValueError(f"not a JSON Schema: {show(schema)}")
        checks: list[Check] = []
        for keyword, build in KEYWORDS.items():
            if keyword in schema:
                check = build(self, schema)
                if check is not None:
                    checks.append(check)
        if not checks:
            return accept
        if len(checks) == 1:
            return checks[0]
        steps = tuple(checks)

        def all_checks(value: object, path: str, issues: list[Issue]) -> None:
            for step in steps:
                step(value, path, issues)

        return all_checks

    def ref(self, ref: str) -> Check:
        """Return a check that defers to the target of ``ref``, compiled when first used."""
        target = self._lookup(ref)  # resolved now, so a bad reference fails at compile time
        seen = {ref}
        hop = target
        while isinstance(hop, Mapping) and isinstance(hop.get("$ref"), str):
            # A chain of references that comes back to itself would recurse forever on
            # every value: refuse it here rather than overflow the stack later.
            if hop["$ref"] in seen:
                raise ValueError(f"$ref {ref!r} is part of a reference cycle")
            seen.add(hop["$ref"])
            hop = self._lookup(hop["$ref"])
        compiled = self.targets

        def deferred(value: object, path: str, issues: list[Issue]) -> None:
            check = compiled.get(ref)
            if check is None:
                check = compiled[ref] = self.compile(target)
            check(value, path, issues)

        return deferred

    def _lookup(self, ref: str) -> object:
        if not ref.startswith("#"):
            raise ValueError(f"$ref {ref!r} points outside the schema")
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            if fragment not in self.anchors:
                raise ValueError(f"$ref {ref!r}: no such anchor")
            return self.anchors[fragment]
        node: object = self.root
        for raw in fragment.split("/")[1:] if fragment else ():
            part = raw.replace("~1", "/").replace("~0", "~")
            part = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m[1], 16)), part)
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise ValueError(f"$ref {ref!r} points to nothing")
        return node
