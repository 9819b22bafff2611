"""A small JSON Schema validator for the checker's finite cases.

When the old schema allows a finite set of values (``enum``/``const``), compatibility is
decided exactly by validating each value against the new schema. This validator covers the
assertion keywords of draft-04 to 2020-12; a keyword it cannot evaluate (``unevaluated*``,
dynamic references, an unknown ``format``, an unresolvable ``$ref``) raises ``Undecidable``
so the caller falls back to the structural comparison instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from fractions import Fraction

from persist_tool.compat.schemadoc import (
    ANNOTATIONS,
    LOWER,
    Doc,
    JsonValue,
    Reading,
    UnresolvedRef,
    json_equal,
    kind_of,
    kinds_of_type_keyword,
    search_pattern,
)

__all__ = ["Undecidable", "is_valid"]


class Undecidable(Exception):
    """The validator cannot tell whether the value is valid."""


def _date(text: str) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None and _parses(
        dt.date.fromisoformat, text
    )


def _time(text: str) -> bool:
    pattern = r"\d{2}:\d{2}:\d{2}(\.\d+)?([zZ]|[+-]\d{2}:\d{2})?"
    return re.fullmatch(pattern, text) is not None


def _date_time(text: str) -> bool:
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[tT ](.+)", text)
    return match is not None and _date(match.group(1)) and _time(match.group(2))


def _uuid(text: str) -> bool:
    return re.fullmatch(r"[0-9a-fA-F-]{36}", text) is not None and _parses(uuid.UUID, text)


def _parses(fn: Callable[[str], object], text: str) -> bool:
    try:
        fn(text)
    except ValueError:
        return False
    return True


_FORMATS: dict[str, Callable[[str], bool]] = {
    "date": _date,
    "time": _time,
    "date-time": _date_time,
    "uuid": _uuid,
    "email": lambda s: re.fullmatch(r"[^@\s]+@[^@\s]+", s) is not None,
    "ipv4": lambda s: re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", s) is not None
    and all(int(p) < 256 for p in s.split(".")),
}


def is_valid(value: JsonValue, schema: JsonValue, doc: Doc, reading: Reading) -> bool:
    """Tell whether ``value`` is valid under ``schema`` (read ``reading``: upper or lower)."""
    return _Validator(doc, reading).valid(value, schema)


class _Validator:
    def __init__(self, doc: Doc, reading: Reading) -> None:
        self.doc = doc
        self.reading = reading

    def valid(self, value: JsonValue, schema: JsonValue) -> bool:
        if schema is True:
            return True
        if schema is False:
            return False
        if not isinstance(schema, dict):
            raise Undecidable(f"not a schema: {schema!r}")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            try:
                target = self.doc.resolve(ref)
            except UnresolvedRef as error:
                raise Undecidable(str(error)) from None
            if not self.valid(value, target):
                return False
            siblings = self.doc.ref_siblings_apply
            if not (siblings if siblings is not None else self.reading == LOWER):
                return True
        for key, arg in schema.items():
            if key == "$ref" or key in ANNOTATIONS or key.startswith("x-"):
                continue
            check = _KEYWORDS.get(key)
            if check is None:
                if key in _UNDECIDABLE:
                    raise Undecidable(f"keyword {key}")
                continue  # unknown keywords are ignored by every validator
            if not check(self, value, arg, schema):
                return False
        return True


Check = Callable[[_Validator, JsonValue, JsonValue, dict[str, JsonValue]], bool]

_UNDECIDABLE = frozenset(
    {"unevaluatedItems", "unevaluatedProperties", "$dynamicRef", "$recursiveRef"}
)


def _type(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return kind_of(value) in kinds_of_type_keyword(arg)


def _enum(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return isinstance(arg, list) and any(json_equal(value, w) for w in arg)


def _const(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return json_equal(value, arg)


def _only(kind: str, test: Callable[[JsonValue, JsonValue], bool]) -> Check:
    kinds = {"number": ("integer", "fraction")}.get(kind, (kind,))

    def check(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
        return kind_of(value) not in kinds or test(value, arg)

    return check


def _length(text: str) -> int:
    return len(text)  # code points, as JSON Schema counts


def _format(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    if not isinstance(value, str):
        return True
    test = _FORMATS.get(arg) if isinstance(arg, str) else None
    if test is None:
        raise Undecidable(f"format {arg!r}")
    return test(value)


def _pattern(value: str, arg: JsonValue) -> bool:
    found = search_pattern(str(arg), value)
    if found is None:
        raise Undecidable(f"pattern {arg!r}")
    return found


def _multiple(value: JsonValue, arg: JsonValue) -> bool:
    quotient = Fraction(str(value)) / Fraction(str(arg))
    return quotient.denominator == 1


def _minimum(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    if kind_of(value) not in ("integer", "fraction"):
        return True
    return bool(value > arg) if s.get("exclusiveMinimum") is True else bool(value >= arg)


def _maximum(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    if kind_of(value) not in ("integer", "fraction"):
        return True
    return bool(value < arg) if s.get("exclusiveMaximum") is True else bool(value <= arg)


def _exclusive(lower: bool) -> Check:
    def check(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
        if isinstance(arg, bool) or kind_of(value) not in ("integer", "fraction"):
            return True  # draft-04 flag: read with minimum/maximum
        return bool(value > arg) if lower else bool(value < arg)

    return check


def _array_items(v: _Validator, value: JsonValue, s: dict[str, JsonValue]) -> bool:
    prefix: list[JsonValue] = []
    rest: JsonValue = True
    items = s.get("items", True)
    if isinstance(s.get("prefixItems"), list):
        prefix, rest = s["prefixItems"], items
    elif isinstance(items, list):
        prefix, rest = items, s.get("additionalItems", True)
    else:
        rest = items
        if "items" not in s and v.reading == LOWER:
            rest = s.get("additionalItems", True)
    return all(
        v.valid(item, prefix[i] if i < len(prefix) else rest) for i, item in enumerate(value)
    )


def _once(
    group: tuple[str, ...],
    test: Callable[[_Validator, JsonValue, dict[str, JsonValue]], bool],
    kind: type,
) -> dict[str, Check]:
    """Return checks for keywords read together: only the first present one runs ``test``."""

    def make(key: str) -> Check:
        def check(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
            owner = next(k for k in group if k in s)
            return owner != key or not isinstance(value, kind) or test(v, value, s)

        return check

    return {key: make(key) for key in group}


def _unique(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    if arg is not True or not isinstance(value, list):
        return True
    return not any(json_equal(a, b) for i, a in enumerate(value) for b in value[i + 1 :])


def _contains(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    if not isinstance(value, list):
        return True
    count = sum(1 for item in value if v.valid(item, arg))
    low = s.get("minContains", 1)
    high = s.get("maxContains")
    return bool(count >= low) and (high is None or bool(count <= high))


def _object_props(v: _Validator, value: JsonValue, s: dict[str, JsonValue]) -> bool:
    props = s.get("properties", {}) if isinstance(s.get("properties"), dict) else {}
    patterns = s.get("patternProperties", {})
    patterns = patterns if isinstance(patterns, dict) else {}
    extra = s.get("additionalProperties", True)
    for name, item in value.items():
        matched = False
        if name in props:
            matched = True
            if not v.valid(item, props[name]):
                return False
        for pattern, sub in patterns.items():
            if _pattern(name, pattern):
                matched = True
                if not v.valid(item, sub):
                    return False
        if not matched and not v.valid(item, extra):
            return False
    return True


def _required(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return not isinstance(value, dict) or all(name in value for name in arg)


def _dependencies(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    if not isinstance(value, dict) or not isinstance(arg, dict):
        return True
    for name, dep in arg.items():
        if name not in value:
            continue
        if isinstance(dep, list):
            if not all(other in value for other in dep):
                return False
        elif not v.valid(value, dep):
            return False
    return True


def _property_names(
    v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]
) -> bool:
    return not isinstance(value, dict) or all(v.valid(name, arg) for name in value)


def _all_of(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return all(v.valid(value, sub) for sub in arg)


def _any_of(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return any(v.valid(value, sub) for sub in arg)


def _one_of(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return sum(1 for sub in arg if v.valid(value, sub)) == 1


def _not(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    return not v.valid(value, arg)


def _if(v: _Validator, value: JsonValue, arg: JsonValue, s: dict[str, JsonValue]) -> bool:
    branch = s.get("then", True) if v.valid(value, arg) else s.get("else", True)
    return v.valid(value, branch)


_KEYWORDS: dict[str, Check] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": _only("string", lambda x, n: _length(x) >= n),
    "maxLength": _only("string", lambda x, n: _length(x) <= n),
    "pattern": _only("string", _pattern),
    "format": _format,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive(lower=True),
    "exclusiveMaximum": _exclusive(lower=False),
    "multipleOf": _only("number", _multiple),
    **_once(("prefixItems", "items", "additionalItems"), _array_items, list),
    "minItems": _only("array", lambda x, n: len(x) >= n),
    "maxItems": _only("array", lambda x, n: len(x) <= n),
    "uniqueItems": _unique,
    "contains": _contains,
    **_once(("properties", "patternProperties", "additionalProperties"), _object_props, dict),
    "required": _required,
    "minProperties": _only("object", lambda x, n: len(x) >= n),
    "maxProperties": _only("object", lambda x, n: len(x) <= n),
    "dependencies": _dependencies,
    "dependentRequired": _dependencies,
    "dependentSchemas": _dependencies,
    "propertyNames": _property_names,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}
