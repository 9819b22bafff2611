"""JSON Schema documents as the checker reads them: references, value kinds, conjunctions.

Two readings of a schema matter to a sound checker. Where drafts or validators disagree on
what a schema accepts, the *upper* reading takes the most permissive interpretation and the
*lower* reading the most restrictive one. The old side of a comparison is read upper and the
new side lower: if every value of the upper old reading is accepted by the lower new
reading, every real old value is accepted by every real new reader. Two such places exist:

* keywords beside ``$ref``: ignored up to draft-07, applied from 2019-09 on;
* ``additionalItems`` without an ``items`` array: inert by the letter of every draft, but a
  stated intent that becomes live the moment an ``items`` array appears (the registry
  compares it as stated); the lower reading honours it.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "ALL_KINDS",
    "Atom",
    "Doc",
    "ExternalRef",
    "JsonValue",
    "Reading",
    "UnresolvedRef",
    "expand",
    "is_trivially_true",
    "json_equal",
    "kind_of",
    "kinds_of_type_keyword",
    "search_pattern",
    "signature",
]

JsonValue: TypeAlias = Any

ALL_KINDS: frozenset[str] = frozenset(
    {"null", "boolean", "object", "array", "string", "integer", "fraction"}
)
"""The kinds of JSON values; ``number`` is ``integer`` plus ``fraction``."""

_TYPE_KINDS: dict[str, frozenset[str]] = {
    "null": frozenset({"null"}),
    "boolean": frozenset({"boolean"}),
    "object": frozenset({"object"}),
    "array": frozenset({"array"}),
    "string": frozenset({"string"}),
    "integer": frozenset({"integer"}),
    "number": frozenset({"integer", "fraction"}),
}

ANNOTATIONS: frozenset[str] = frozenset(
    {
        "$schema", "$id", "id", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$comment",
        "$vocabulary", "$defs", "definitions", "title", "description", "default", "examples",
        "readOnly", "writeOnly", "deprecated", "contentMediaType", "contentEncoding",
        "contentSchema", "discriminator", "nullable", "example", "externalDocs", "xml",
    }
)  # fmt: skip
"""Keywords that never make a value invalid (``nullable``/``discriminator`` are OpenAPI)."""

Reading = str
UPPER: Reading = "upper"
LOWER: Reading = "lower"


class UnresolvedRef(Exception):
    """A ``$ref`` points outside the document or at nothing."""


class ExternalRef(UnresolvedRef):
    """A ``$ref`` names another document, which the checker does not load."""


def kind_of(value: JsonValue) -> str:
    """Return the kind of a JSON value (``1.0`` is an integer, as JSON Schema counts it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if math.isfinite(value) and value.is_integer() else "fraction"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def json_equal(a: JsonValue, b: JsonValue) -> bool:
    """Compare JSON values the way JSON Schema does: ``1 == 1.0``, ``true != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def kinds_of_type_keyword(value: JsonValue) -> frozenset[str]:
    """Return the kinds a ``type`` keyword admits (unknown type names admit nothing)."""
    names = value if isinstance(value, list) else [value]
    out: set[str] = set()
    for name in names:
        out |= _TYPE_KINDS.get(name, frozenset()) if isinstance(name, str) else set()
    return frozenset(out)


_TRIVIAL_PATTERNS = frozenset({"", ".*", "^.*", ".*$", "^.*$", "[\\s\\S]*", "^[\\s\\S]*$"})


def is_trivial_pattern(pattern: str) -> bool:
    """Tell whether a ``pattern`` matches every string."""
    return pattern in _TRIVIAL_PATTERNS


_PATTERN_CACHE: dict[str, re.Pattern[str] | None] = {}


def search_pattern(pattern: str, text: str) -> bool | None:
    """Tell whether the ECMA-262 ``pattern`` matches somewhere in ``text``.

    Returns ``None`` when Python cannot compile the pattern (an ECMA-only construct): the
    caller then treats the match as unknown.
    """
    if pattern not in _PATTERN_CACHE:
        try:
            _PATTERN_CACHE[pattern] = re.compile(pattern)
        except re.error:
            _PATTERN_CACHE[pattern] = None
    compiled = _PATTERN_CACHE[pattern]
    return None if compiled is None else compiled.search(text) is not None


@dataclass(eq=False)
class Doc:
    """A root schema document: resolves ``$ref`` inside it and knows its draft."""

    root: JsonValue
    anchors: dict[str, JsonValue] = field(default_factory=dict)
    _closures: dict[int, tuple[JsonValue, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index(self.root)

    @property
    def ref_siblings_apply(self) -> bool | None:
        """Tell whether keywords beside ``$ref`` apply (``None``: the draft is not stated)."""
        draft = self.root.get("$schema") if isinstance(self.root, dict) else None
        if not isinstance(draft, str):
            return None
        return "2019-09" in draft or "2020-12" in draft

    def _index(self, node: JsonValue) -> None:
        if isinstance(node, dict):
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(node.get(key), str):
                    self.anchors.setdefault(node[key], node)
            ident = node.get("$id", node.get("id"))
            if isinstance(ident, str) and "#" in ident:
                fragment = ident.split("#", 1)[1]
                if fragment and not fragment.startswith("/"):
                    self.anchors.setdefault(fragment, node)
            for value in node.values():
                self._index(value)
        elif isinstance(node, list):
            for value in node:
                self._index(value)

    def closure_signature(self, schema: JsonValue) -> str:
        """Return the meaning of ``schema`` in this document: its signature and every
        reference it reaches, transitively, with the signature of the target.

        Two sub-schemas with equal closure signatures accept the same values even when the
        rest of their documents differ.
        """
        cached = self._closures.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        targets: dict[str, str | None] = {}
        pending = [schema]
        while pending:
            for ref in _refs_in(pending.pop()):
                if ref in targets:
                    continue
                try:
                    target = self.resolve(ref)
                except UnresolvedRef:
                    targets[ref] = None
                    continue
                targets[ref] = signature(target)
                pending.append(target)
        text = signature(schema) + json.dumps(sorted(targets.items(), key=lambda t: t[0]))
        self._closures[id(schema)] = (schema, text)
        return text

    def resolve(self, ref: str) -> JsonValue:
        """Return the schema ``ref`` names inside this document (``UnresolvedRef`` if none)."""
        base, _, fragment = ref.partition("#")
        own_id = self.root.get("$id") if isinstance(self.root, dict) else None
        if base and base != own_id:
            raise ExternalRef(ref)
        fragment = urllib.parse.unquote(fragment)
        if fragment and not fragment.startswith("/"):
            if fragment in self.anchors:
                return self.anchors[fragment]
            raise UnresolvedRef(ref)
        node = self.root
        for raw in fragment.split("/")[1:]:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise UnresolvedRef(ref)
        return node


@dataclass(frozen=True, eq=False)
class Atom:
    """One conjunct of a schema: a schema object whose ``allOf``/``$ref`` were expanded.

    ``skip`` names keywords already accounted for elsewhere (a disjunction that was split
    into branches), so they are not read again.
    """

    schema: JsonValue
    doc: Doc
    skip: frozenset[str] = frozenset()

    @property
    def external_ref(self) -> str | None:
        """Return the reference this opaque conjunct stands for (another document's schema)."""
        ref = self.get("$ref")
        return ref if isinstance(ref, str) else None

    @property
    def is_false(self) -> bool:
        """Tell whether this conjunct rejects everything (the ``false`` schema)."""
        return self.schema is False

    def get(self, key: str, default: JsonValue = None) -> JsonValue:
        """Return keyword ``key`` unless skipped or absent."""
        if key in self.skip or not isinstance(self.schema, dict):
            return default
        return self.schema.get(key, default)

    def has(self, key: str) -> bool:
        """Tell whether keyword ``key`` is present and not skipped."""
        return isinstance(self.schema, dict) and key in self.schema and key not in self.skip

    def key(self) -> tuple[int, frozenset[str]]:
        """Return an identity for cycle detection across recursive ``$ref`` chains."""
        return (id(self.schema), self.skip)

    def keywords(self) -> Iterable[str]:
        """Return the keywords of this conjunct that are not skipped."""
        if not isinstance(self.schema, dict):
            return ()
        return (k for k in self.schema if k not in self.skip)

    def kinds(self) -> frozenset[str]:
        """Return the kinds of values this conjunct alone may accept."""
        if self.schema is False:
            return frozenset()
        kinds = ALL_KINDS
        if self.has("type"):
            kinds = kinds_of_type_keyword(self.get("type"))
        values = self.finite_values()
        if values is not None:
            kinds &= frozenset(kind_of(v) for v in values)
        if self.has("not"):
            kinds -= _excluded_kinds(self.get("not"))
        return kinds

    def finite_values(self) -> list[JsonValue] | None:
        """Return the values ``enum``/``const`` allow, or ``None`` when not restricted."""
        out: list[JsonValue] | None = None
        if self.has("const"):
            out = [self.get("const")]
        enum = self.get("enum")
        if isinstance(enum, list):
            out = [v for v in enum if any(json_equal(v, w) for w in out)] if out else list(enum)
        return out


def _excluded_kinds(schema: JsonValue) -> frozenset[str]:
    """Return the kinds a ``not`` keyword rules out entirely (``not: {type: ...}``)."""
    if is_trivially_true(schema):
        return ALL_KINDS
    if not isinstance(schema, dict):
        return frozenset()
    assertions = [k for k in schema if k not in ANNOTATIONS and not k.startswith("x-")]
    if assertions == ["type"]:
        return kinds_of_type_keyword(schema["type"])
    return frozenset()


def expand(schema: JsonValue, doc: Doc, reading: Reading, skip: frozenset[str] = frozenset(),
           _depth: int = 0) -> list[Atom]:  # fmt: skip
    """Flatten ``schema`` into its conjuncts, following ``allOf`` and ``$ref``.

    The upper reading drops the keywords beside a ``$ref`` unless the document is 2019-09
    or later; the lower reading keeps them unless the document is draft-07 or earlier.
    A reference outside the document raises ``UnresolvedRef``.
    """
    if schema is True or (isinstance(schema, dict) and not schema):
        return []
    if not isinstance(schema, dict):
        return [Atom(False, doc)]
    if _depth > 64:
        raise UnresolvedRef("reference chain too deep (a $ref cycle without structure)")
    atoms: list[Atom] = []
    ref = schema.get("$ref") if "$ref" not in skip else None
    own_skip = skip | {"allOf", "$ref"}
    if isinstance(ref, str):
        siblings = doc.ref_siblings_apply
        keep_siblings = siblings if siblings is not None else reading == LOWER
        try:
            atoms += expand(doc.resolve(ref), doc, reading, frozenset(), _depth + 1)
        except ExternalRef:
            # Kept opaque: only the very same reference on the other side matches it.
            atoms.append(Atom({"$ref": ref}, doc, frozenset({"allOf"})))
        if not keep_siblings:
            return atoms
    atoms.append(Atom(schema, doc, own_skip))
    members = schema.get("allOf") if "allOf" not in skip else None
    if isinstance(members, list):
        for member in members:
            atoms += expand(member, doc, reading, frozenset(), _depth + 1)
    return atoms


def is_trivially_true(schema: JsonValue) -> bool:
    """Tell whether ``schema`` accepts every value on its face (``true``, ``{}``, only notes)."""
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    return all(k in ANNOTATIONS or k.startswith("x-") for k in schema)


def effective_kinds(atoms: Sequence[Atom]) -> frozenset[str]:
    """Return the kinds every conjunct allows (empty: the conjunction accepts nothing)."""
    kinds = ALL_KINDS
    for atom in atoms:
        kinds &= atom.kinds()
    return kinds


def first_finite(atoms: Sequence[Atom]) -> list[JsonValue] | None:
    """Return the candidate values of the first conjunct with ``enum``/``const``, if any."""
    for atom in atoms:
        values = atom.finite_values()
        if values is not None:
            return values
    return None


def _refs_in(schema: JsonValue) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs_in(value)


def has_ref(schema: JsonValue) -> bool:
    """Tell whether a ``$ref`` occurs anywhere inside ``schema``."""
    if isinstance(schema, dict):
        return "$ref" in schema or any(has_ref(v) for v in schema.values())
    if isinstance(schema, list):
        return any(has_ref(v) for v in schema)
    return False


def mapping_or_empty(value: JsonValue) -> Mapping[str, JsonValue]:
    """Return ``value`` when it is an object, else an empty mapping."""
    return value if isinstance(value, dict) else {}


_NOTES = frozenset(
    {"title", "description", "markdownDescription", "default", "examples", "example",
     "$comment", "deprecated", "readOnly", "writeOnly", "deprecationMessage"}
)  # fmt: skip
"""Annotations that never change what a schema accepts (``$id``/``$defs`` do: kept)."""
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependencies",
     "dependentSchemas"}
)  # fmt: skip
_SCHEMA_VALUES = frozenset(
    {"items", "prefixItems", "additionalItems", "additionalProperties", "not", "if", "then",
     "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
     "allOf", "anyOf", "oneOf", "contentSchema"}
)  # fmt: skip


def _without_notes(schema: JsonValue) -> JsonValue:
    if isinstance(schema, list):
        return [_without_notes(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, JsonValue] = {}
    for key, value in schema.items():
        if key in _NOTES or key.startswith("x-"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _without_notes(sub) for name, sub in value.items()}
        elif key in _SCHEMA_VALUES:
            out[key] = _without_notes(value)
        else:
            out[key] = value
    return out


_SIGNATURES: dict[int, tuple[JsonValue, str]] = {}


def signature(schema: JsonValue) -> str:
    """Return canonical text of ``schema`` without annotations: equal text, equal meaning.

    Numbers are compared as JSON Schema does (``1`` and ``1.0`` give the same text).
    Results are cached per object, which the cache keeps alive so ids stay unique.
    """
    cached = _SIGNATURES.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    text = json.dumps(_without_notes(schema), sort_keys=True, default=str, cls=_NumberEncoder)
    if len(_SIGNATURES) > 100_000:
        _SIGNATURES.clear()
    _SIGNATURES[id(schema)] = (schema, text)
    return text


class _NumberEncoder(json.JSONEncoder):
    def iterencode(self, o: JsonValue, _one_shot: bool = False) -> Iterator[str]:
        return super().iterencode(_integral(o), _one_shot)


def _integral(value: JsonValue) -> JsonValue:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value
