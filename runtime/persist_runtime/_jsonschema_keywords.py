"""The validator's keyword checks: one builder per JSON Schema keyword, in ``KEYWORDS``.

A builder takes the compiler and the schema object holding the keyword and returns a check
(or ``None`` when the keyword constrains nothing). Checks of type-specific keywords ignore
values of other types, as JSON Schema specifies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from ._jsonschema_formats import FORMAT_CHECKS
from ._jsonschema_values import (
    TYPE_TESTS,
    is_array,
    is_multiple,
    is_number,
    is_object,
    is_str,
    json_equal,
    prop_path,
    show,
    type_name,
)
from .errors import Issue

__all__ = ["KEYWORDS", "Check", "Compiler", "accept", "reject"]

Check = Callable[[Any, str, list[Issue]], None]
"""A compiled schema: appends an ``Issue`` per problem of the value at the path."""


class Compiler(Protocol):
    """What keyword builders need from the compiler."""

    def compile(self, schema: object) -> Check:
        """Return the check of a sub-schema."""

    def ref(self, ref: str) -> Check:
        """Return the check of a ``$ref`` target."""


def accept(value: object, path: str, issues: list[Issue]) -> None:
    return None


def reject(value: object, path: str, issues: list[Issue]) -> None:
    issues.append(Issue(path, "no value is allowed here"))


def _sub(compiler: Compiler, schema: object) -> Check:
    return compiler.compile(schema)


def _passes(check: Check, value: object) -> bool:
    trial: list[Issue] = []
    check(value, "", trial)
    return not trial


# --------------------------------------------------------------------------- generic keywords


def _type(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    declared = s["type"]
    names = [declared] if isinstance(declared, str) else list(declared)
    unknown = [n for n in names if n not in TYPE_TESTS]
    if unknown:
        raise ValueError(f"unknown JSON Schema type {unknown[0]!r}")
    tests = tuple(TYPE_TESTS[n] for n in names)
    expected = " or ".join(names)

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not any(test(value) for test in tests):
            issues.append(Issue(path, f"expected {expected}, got {type_name(value)}"))

    return check


def _enum(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    allowed = tuple(s["enum"])
    shown = ", ".join(show(v) for v in allowed[:10]) + (", ..." if len(allowed) > 10 else "")

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not any(json_equal(value, a) for a in allowed):
            issues.append(Issue(path, f"expected one of {shown}, got {show(value)}"))

    return check


def _const(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    expected = s["const"]

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not json_equal(value, expected):
            issues.append(Issue(path, f"expected {show(expected)}, got {show(value)}"))

    return check


def _ref(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    return c.ref(s["$ref"])


def _dynamic_ref(keyword: str) -> Callable[[Compiler, Mapping[str, Any]], Check | None]:
    # Generated sub-schemas are single resources, where the dynamic scope holds one
    # anchor per name: a dynamic reference then resolves like a static one.
    def build(c: Compiler, s: Mapping[str, Any]) -> Check | None:
        ref = s[keyword]
        return c.ref(ref if "/" in ref or ref == "#" else "#")

    return build


# --------------------------------------------------------------------------- combinators


def _all_of(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    steps = tuple(_sub(c, sub) for sub in s["allOf"])

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        for step in steps:
            step(value, path, issues)

    return check


def _branch_types(branches: Sequence[object]) -> list[str] | None:
    """Return the types the branches declare, or ``None`` when one declares none."""
    names: list[str] = []
    for branch in branches:
        declared = branch.get("type") if isinstance(branch, Mapping) else None
        if declared is None:
            return None
        for name in [declared] if isinstance(declared, str) else declared:
            if name not in names:
                names.append(name)
    return names


def _report_no_match(
    trials: list[list[Issue]],
    types: list[str] | None,
    value: object,
    path: str,
    issues: list[Issue],
    keyword: str,
) -> None:
    """Report the one branch that failed only deeper down, or the mismatch at ``path``."""
    nested = [t for t in trials if t and all(i.path != path for i in t)]
    if len(nested) == 1:
        issues.extend(nested[0])
    elif types is not None:
        issues.append(Issue(path, f"expected {' or '.join(types)}, got {type_name(value)}"))
    else:
        issues.append(
            Issue(path, f"does not match any of the {len(trials)} {keyword} alternatives")
        )


def _any_of(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    steps = tuple(_sub(c, sub) for sub in s["anyOf"])
    types = _branch_types(s["anyOf"])

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        trials: list[list[Issue]] = []
        for step in steps:
            trial: list[Issue] = []
            step(value, path, trial)
            if not trial:
                return
            trials.append(trial)
        _report_no_match(trials, types, value, path, issues, "anyOf")

    return check


def _one_of(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    steps = tuple(_sub(c, sub) for sub in s["oneOf"])
    types = _branch_types(s["oneOf"])

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        trials: list[list[Issue]] = []
        matched = 0
        for step in steps:
            trial: list[Issue] = []
            step(value, path, trial)
            matched += not trial
            trials.append(trial)
        if matched == 1:
            return
        if matched > 1:
            issues.append(
                Issue(path, f"matches {matched} oneOf alternatives, expected exactly one")
            )
        else:
            _report_no_match(trials, types, value, path, issues, "oneOf")

    return check


def _not(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    step = _sub(c, s["not"])

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if _passes(step, value):
            issues.append(Issue(path, "matches a schema it must not match ('not')"))

    return check


def _if(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    condition = _sub(c, s["if"])
    then = _sub(c, s["then"]) if "then" in s else accept
    otherwise = _sub(c, s["else"]) if "else" in s else accept

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        (then if _passes(condition, value) else otherwise)(value, path, issues)

    return check


# --------------------------------------------------------------------------- objects


def _properties(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    props = tuple((key, _sub(c, sub)) for key, sub in s["properties"].items())

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if isinstance(value, Mapping):
            for key, step in props:
                if key in value:
                    step(value[key], prop_path(path, key), issues)

    return check


def _compile_patterns(patterns: Iterable[str]) -> dict[str, re.Pattern[str]]:
    try:
        return {p: re.compile(p) for p in patterns}
    except re.error as exc:
        raise ValueError(f"pattern Python cannot compile: {exc}") from exc


def _pattern_properties(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    compiled = _compile_patterns(s["patternProperties"])
    pairs = tuple((compiled[p], _sub(c, sub)) for p, sub in s["patternProperties"].items())

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                for regex, step in pairs:
                    if regex.search(key):
                        step(item, prop_path(path, key), issues)

    return check


def _additional_properties(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    extra = s["additionalProperties"]
    if extra is True or extra == {}:
        return None
    known = frozenset(s.get("properties", ()))
    patterns = tuple(_compile_patterns(s.get("patternProperties", {})).values())
    step = None if extra is False else _sub(c, extra)

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not isinstance(value, Mapping):
            return
        for key, item in value.items():
            if key in known or any(p.search(key) for p in patterns):
                continue
            if step is None:
                issues.append(Issue(prop_path(path, key), "unknown property"))
            else:
                step(item, prop_path(path, key), issues)

    return check


def _required(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    names = tuple(s["required"])

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if isinstance(value, Mapping):
            for name in names:
                if name not in value:
                    issues.append(Issue(prop_path(path, name), "required property is missing"))

    return check


def _property_names(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    step = _sub(c, s["propertyNames"])

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if isinstance(value, Mapping):
            for key in value:
                trial: list[Issue] = []
                step(key, "", trial)
                for problem in trial:
                    issues.append(
                        Issue(prop_path(path, key), f"invalid property name: {problem.message}")
                    )

    return check


def _size_check(
    keyword: str,
    test: Callable[[object], bool],
    measure: Callable[[Any], int],
    at_least: bool,
    noun: str,
) -> Callable[[Compiler, Mapping[str, Any]], Check | None]:
    def build(c: Compiler, s: Mapping[str, Any]) -> Check | None:
        limit = s[keyword]
        word = "at least" if at_least else "at most"

        def check(value: Any, path: str, issues: list[Issue]) -> None:
            if test(value):
                size = measure(value)
                if (size < limit) if at_least else (size > limit):
                    issues.append(Issue(path, f"expected {word} {limit} {noun}, got {size}"))

        return check

    return build


def _dependent_required(keyword: str) -> Callable[[Compiler, Mapping[str, Any]], Check | None]:
    def build(c: Compiler, s: Mapping[str, Any]) -> Check | None:
        needs: list[tuple[str, tuple[str, ...]]] = []
        schemas: list[tuple[str, Check]] = []
        for key, dep in s[keyword].items():
            if isinstance(dep, list):
                needs.append((key, tuple(dep)))
            else:
                schemas.append((key, _sub(c, dep)))

        def check(value: Any, path: str, issues: list[Issue]) -> None:
            if not isinstance(value, Mapping):
                return
            for key, names in needs:
                if key in value:
                    for name in names:
                        if name not in value:
                            issues.append(
                                Issue(prop_path(path, name), f"required when {key!r} is present")
                            )
            for key, step in schemas:
                if key in value:
                    step(value, path, issues)

        return check

    return build


# --------------------------------------------------------------------------- arrays


def _items(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    items = s["items"]
    if isinstance(items, list):  # draft-04 to 2019-09 tuple form
        prefix = tuple(_sub(c, sub) for sub in items)
        extra = s.get("additionalItems", True)
    else:
        prefix = tuple(_sub(c, sub) for sub in s.get("prefixItems", ()))
        extra = items
    rest = None if extra is True or extra == {} else _sub(c, extra)
    if not prefix and rest is None:
        return None

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not is_array(value):
            return
        for index, item in enumerate(value):
            if index < len(prefix):
                prefix[index](item, f"{path}/{index}", issues)
            elif rest is None:
                return
            elif extra is False:
                issues.append(Issue(f"{path}/{index}", "no further items are allowed"))
                return
            else:
                rest(item, f"{path}/{index}", issues)

    return check


def _prefix_items(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    if "items" in s:
        return None  # handled together with "items"
    return _items(c, {"prefixItems": s["prefixItems"], "items": True})


def _contains(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    step = _sub(c, s["contains"])
    least = s.get("minContains", 1)
    most = s.get("maxContains")

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not is_array(value):
            return
        found = sum(_passes(step, item) for item in value)
        if found < least:
            issues.append(
                Issue(path, f"expected at least {least} item(s) matching 'contains', got {found}")
            )
        if most is not None and found > most:
            issues.append(
                Issue(path, f"expected at most {most} item(s) matching 'contains', got {found}")
            )

    return check


def _unique_items(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    if s["uniqueItems"] is not True:
        return None

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if not is_array(value):
            return
        items = list(value)
        for i, first in enumerate(items):
            for j in range(i + 1, len(items)):
                if json_equal(first, items[j]):
                    issues.append(Issue(f"{path}/{j}", f"duplicate of item {i}"))
                    return

    return check


# --------------------------------------------------------------------------- numbers and strings


def _bound(keyword: str) -> Callable[[Compiler, Mapping[str, Any]], Check | None]:
    lower = keyword in ("minimum", "exclusiveMinimum")

    def build(c: Compiler, s: Mapping[str, Any]) -> Check | None:
        limit = s[keyword]
        if isinstance(limit, bool):  # draft-04 flag: it changes minimum/maximum instead
            return None
        partner = "exclusiveMinimum" if keyword == "minimum" else "exclusiveMaximum"
        strict = keyword.startswith("exclusive") or s.get(partner) is True
        op = (">" if strict else ">=") if lower else ("<" if strict else "<=")

        def check(value: Any, path: str, issues: list[Issue]) -> None:
            if not is_number(value):
                return
            ok = (
                (value > limit if strict else value >= limit)
                if lower
                else (value < limit if strict else value <= limit)
            )
            if not ok:
                issues.append(Issue(path, f"expected a value {op} {limit}, got {value}"))

        return check

    return build


def _multiple_of(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    step = s["multipleOf"]

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if is_number(value) and not is_multiple(value, step):
            issues.append(Issue(path, f"expected a multiple of {step}, got {value}"))

    return check


def _pattern(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    regex = _compile_patterns([s["pattern"]])[s["pattern"]]

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if isinstance(value, str) and regex.search(value) is None:
            issues.append(Issue(path, f"does not match pattern {regex.pattern!r}"))

    return check


def _format(c: Compiler, s: Mapping[str, Any]) -> Check | None:
    name = s["format"]
    test = FORMAT_CHECKS.get(name) if isinstance(name, str) else None
    if test is None:
        return None

    def check(value: Any, path: str, issues: list[Issue]) -> None:
        if isinstance(value, str) and not test(value):
            issues.append(Issue(path, f"expected a {name} string, got {show(value)}"))

    return check


KEYWORDS: Final[dict[str, Callable[[Compiler, Mapping[str, Any]], Check | None]]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "$ref": _ref,
    "$dynamicRef": _dynamic_ref("$dynamicRef"),
    "$recursiveRef": _dynamic_ref("$recursiveRef"),
    "required": _required,
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "propertyNames": _property_names,
    "minProperties": _size_check("minProperties", is_object, len, True, "properties"),
    "maxProperties": _size_check("maxProperties", is_object, len, False, "properties"),
    "dependentRequired": _dependent_required("dependentRequired"),
    "dependentSchemas": _dependent_required("dependentSchemas"),
    "dependencies": _dependent_required("dependencies"),
    "items": _items,
    "prefixItems": _prefix_items,
    "contains": _contains,
    "minItems": _size_check("minItems", is_array, len, True, "items"),
    "maxItems": _size_check("maxItems", is_array, len, False, "items"),
    "uniqueItems": _unique_items,
    "minimum": _bound("minimum"),
    "maximum": _bound("maximum"),
    "exclusiveMinimum": _bound("exclusiveMinimum"),
    "exclusiveMaximum": _bound("exclusiveMaximum"),
    "multipleOf": _multiple_of,
    "minLength": _size_check("minLength", is_str, len, True, "characters"),
    "maxLength": _size_check("maxLength", is_str, len, False, "characters"),
    "pattern": _pattern,
    "format": _format,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}
"""Keyword -> builder of its check, in the order checks run (and issues are listed)."""
