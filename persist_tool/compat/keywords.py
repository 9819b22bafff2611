"""Keyword-group checks: is one conjunct of the new schema implied by the old conjunction?

Each group (type, enum, string, number, combinators, ``not``, ``if``) has one function;
arrays and objects live in ``containers``. A group's check runs only when the old side
admits the kind of value the group constrains: ``maxLength`` cannot reject a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from persist_tool.compat.changes import Difference, child
from persist_tool.compat.schemadoc import (
    Atom,
    JsonValue,
    is_trivial_pattern,
    json_equal,
    kinds_of_type_keyword,
)

if TYPE_CHECKING:
    from persist_tool.compat.inclusion import Checker

__all__ = ["GROUPS", "NOT_UNDERSTOOD", "Ctx", "Group", "bound_diffs"]

_NUMBERS = frozenset({"integer", "fraction"})


@dataclass(frozen=True)
class Ctx:
    """One comparison: the old conjunction, the kinds it admits, one new conjunct."""

    checker: Checker
    old: list[Atom]
    kinds: frozenset[str]
    new: Atom
    ptr: str
    solo: bool
    """The new schema is this one conjunct: report removed constraints as compatible."""

    def old_values_of(self, key: str) -> list[JsonValue]:
        """Return the values of keyword ``key`` across the old conjuncts."""
        return [a.get(key) for a in self.old if a.has(key)]

    def old_numbers(self, key: str) -> list[int | float]:
        """Return the numeric values of keyword ``key`` across the old conjuncts."""
        return [v for v in self.old_values_of(key) if _is_number(v)]


def _is_number(value: JsonValue) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


Group = Callable[[Ctx], list[Difference]]
"""A keyword-group check: the differences of one new conjunct's group against the old side."""

NOT_UNDERSTOOD = frozenset(
    {"unevaluatedItems", "unevaluatedProperties", "$dynamicRef", "$recursiveRef"}
)
"""Assertion keywords the structural comparison does not model: proven only when trivial."""


# ---------------------------------------------------------------------- type and enum


def _type(ctx: Ctx) -> list[Difference]:
    if not ctx.new.has("type"):
        return []
    allowed = kinds_of_type_keyword(ctx.new.get("type"))
    if ctx.kinds <= allowed:
        old_types = ctx.old_values_of("type")
        if old_types and any(kinds_of_type_keyword(t) != allowed for t in old_types):
            return [Difference("TYPE_EXTENDED", ctx.ptr, False)]
        return []
    kind = "TYPE_NARROWED" if allowed and allowed < ctx.kinds else "TYPE_CHANGED"
    detail = f"{_kinds_text(ctx.kinds)} -> {_kinds_text(allowed)}"
    return [Difference(kind, ctx.ptr, True, detail)]


def _kinds_text(kinds: frozenset[str]) -> str:
    names = set(kinds)
    if names >= _NUMBERS:
        names = (names - _NUMBERS) | {"number"}
    return "|".join(sorted(names)) or "nothing"


def _enum(ctx: Ctx) -> list[Difference]:
    if not (ctx.new.has("enum") or ctx.new.has("const")):
        return []
    allowed: list[JsonValue] = []
    if ctx.new.has("const"):
        allowed = [ctx.new.get("const")]
    enum = ctx.new.get("enum")
    if isinstance(enum, list):
        allowed = [v for v in enum if not allowed or any(json_equal(v, w) for w in allowed)]
    values = ctx.checker.old_values(ctx.old)
    key = "const" if ctx.new.has("const") else "enum"
    if values is None:
        return [Difference("ENUM_ARRAY_NARROWED", child(ctx.ptr, key), True, "values restricted")]
    missing = [v for v in values if not any(json_equal(v, w) for w in allowed)]
    if missing:
        text = ", ".join(repr(v) for v in missing)
        return [Difference("ENUM_ARRAY_CHANGED", child(ctx.ptr, key), True, f"{text} removed")]
    return []


# ---------------------------------------------------------------------- bounds


def bound_diffs(ctx: Ctx, low_key: str, high_key: str, label: str) -> list[Difference]:
    """Compare an inclusive whole-number range (``minLength``/``maxLength`` and kin)."""
    diffs: list[Difference] = []
    old_lows, old_highs = ctx.old_numbers(low_key), ctx.old_numbers(high_key)
    old_low = max(old_lows, default=0)
    old_high = min(old_highs, default=None)
    new_low, new_high = ctx.new.get(low_key), ctx.new.get(high_key)
    min_name, max_name = f"MIN_{label}", f"MAX_{label}"
    if _is_number(new_low):
        where = child(ctx.ptr, low_key)
        if new_low > old_low:
            kind = "INCREASED" if old_lows else "ADDED"
            diffs.append(Difference(f"{min_name}_{kind}", where, True, f"{old_low} -> {new_low}"))
        elif old_lows and new_low < old_low:
            diffs.append(Difference(f"{min_name}_DECREASED", where, False))
    elif old_lows and ctx.solo:
        diffs.append(Difference(f"{min_name}_REMOVED", child(ctx.ptr, low_key), False))
    if _is_number(new_high):
        where = child(ctx.ptr, high_key)
        if old_high is None:
            diffs.append(Difference(f"{max_name}_ADDED", where, True, f"at most {new_high}"))
        elif new_high < old_high:
            detail = f"{old_high} -> {new_high}"
            diffs.append(Difference(f"{max_name}_DECREASED", where, True, detail))
        elif new_high > old_high:
            diffs.append(Difference(f"{max_name}_INCREASED", where, False))
    elif old_highs and ctx.solo:
        diffs.append(Difference(f"{max_name}_REMOVED", child(ctx.ptr, high_key), False))
    return diffs


# ---------------------------------------------------------------------- strings


def _string(ctx: Ctx) -> list[Difference]:
    if "string" not in ctx.kinds:
        return []
    diffs = bound_diffs(ctx, "minLength", "maxLength", "LENGTH")
    for key, added, changed in (
        ("pattern", "PATTERN_ADDED", "PATTERN_CHANGED"),
        ("format", "FORMAT_ADDED", "FORMAT_CHANGED"),
    ):
        new_value = ctx.new.get(key)
        old_values = ctx.old_values_of(key)
        if not isinstance(new_value, str):
            if old_values and ctx.solo and new_value is None:
                diffs.append(Difference(f"{key.upper()}_REMOVED", child(ctx.ptr, key), False))
            continue
        if key == "pattern" and is_trivial_pattern(new_value):
            continue
        if new_value in old_values:
            continue
        kind = changed if old_values else added
        detail = f"{old_values[0]!r} -> {new_value!r}" if old_values else repr(new_value)
        diffs.append(Difference(kind, child(ctx.ptr, key), True, detail))
    return diffs


# ---------------------------------------------------------------------- numbers


Bound = tuple[float | int, bool]
"""A numeric bound: the value and whether it is exclusive."""


def _bounds(atom: Atom, lower: bool) -> list[tuple[Bound, str]]:
    plain, exclusive = ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
    out: list[tuple[Bound, str]] = []
    value, flag = atom.get(plain), atom.get(exclusive)
    if _is_number(value):
        out.append(((value, flag is True), plain))
    if _is_number(flag):
        out.append(((flag, True), exclusive))
    return out


def _tightest(bounds: list[Bound], lower: bool) -> Bound | None:
    if not bounds:
        return None
    if lower:
        return max(bounds, key=lambda b: (b[0], b[1]))
    return min(bounds, key=lambda b: (b[0], not b[1]))


def _integer_bound(bound: Bound, lower: bool) -> Bound:
    """Return the inclusive whole-number bound equivalent to ``bound`` for integers."""
    value, exclusive = bound
    if lower:
        whole = math.floor(value) + 1 if exclusive else math.ceil(value)
    else:
        whole = math.ceil(value) - 1 if exclusive else math.floor(value)
    return (whole, False)


def _within(old: Bound, new: Bound, lower: bool) -> bool:
    (ov, ox), (nv, nx) = old, new
    if ov == nv:
        return ox or not nx
    return ov > nv if lower else ov < nv


def _number(ctx: Ctx) -> list[Difference]:
    numbers = ctx.kinds & _NUMBERS
    if not numbers:
        return []
    diffs: list[Difference] = []
    only_integers = numbers == {"integer"}
    for lower, name in ((True, "MINIMUM"), (False, "MAXIMUM")):
        old_all = [b for a in ctx.old for b, _ in _bounds(a, lower)]
        old = _tightest(old_all, lower)
        if old is not None and only_integers:
            old = _integer_bound(old, lower)
        new_bounds = _bounds(ctx.new, lower)
        for new, key in new_bounds:
            where = child(ctx.ptr, key)
            if old is None:
                diffs.append(Difference(f"{name}_ADDED", where, True, f"{key} {new[0]}"))
            elif not _within(old, new, lower):
                more = "INCREASED" if lower else "DECREASED"
                detail = f"{old[0]} -> {new[0]}"
                diffs.append(Difference(f"{name}_{more}", where, True, detail))
            elif old[0] != new[0]:
                less = "DECREASED" if lower else "INCREASED"
                diffs.append(Difference(f"{name}_{less}", where, False))
        if old_all and not new_bounds and ctx.solo:
            key = "minimum" if lower else "maximum"
            diffs.append(Difference(f"{name}_REMOVED", child(ctx.ptr, key), False))
    diffs += _multiple_of(ctx, only_integers)
    return diffs


def _multiple_of(ctx: Ctx, only_integers: bool) -> list[Difference]:
    new = ctx.new.get("multipleOf")
    olds = ctx.old_numbers("multipleOf")
    where = child(ctx.ptr, "multipleOf")
    if not _is_number(new) or new <= 0:
        if olds and ctx.solo and new is None:
            return [Difference("MULTIPLE_OF_REMOVED", where, False)]
        return []
    step = Fraction(str(new))
    if only_integers and (1 / step).denominator == 1:
        return []
    for old in olds:
        if old > 0 and (Fraction(str(old)) / step).denominator == 1:
            return [] if old == new else [Difference("MULTIPLE_OF_REDUCED", where, False)]
    if olds:
        return [Difference("MULTIPLE_OF_CHANGED", where, True, f"{olds[0]} -> {new}")]
    return [Difference("MULTIPLE_OF_ADDED", where, True, f"multiple of {new}")]


# ---------------------------------------------------------------------- combinators


def _union(keyword: str, exclusive: bool) -> Group:
    def group(ctx: Ctx) -> list[Difference]:
        branches = ctx.new.get(keyword)
        if not isinstance(branches, list):
            return []
        ok, nested = ctx.checker.covered_by_union(
            ctx.old, ctx.kinds, branches, ctx.new.doc, exclusive, ctx.ptr, keyword
        )
        if ok:
            return []
        kind = "SUM_TYPE_NARROWED" if len(branches) > 1 else "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
        text = f"a value the old schema accepts matches no {keyword} alternative"
        if exclusive and any(d.type == "ONE_OF_OVERLAP" for d in nested):
            text = "a value the old schema accepts may match several oneOf alternatives"
        return [Difference(kind, ctx.ptr, True, text), *nested]

    return group


def _not(ctx: Ctx) -> list[Difference]:
    if not ctx.new.has("not"):
        return []
    excluded = ctx.new.get("not")
    if ctx.checker.disjoint(ctx.old, excluded, ctx.new.doc):
        return []
    text = "the new schema excludes values the old one accepts"
    return [Difference("NOT_TYPE_EXTENDED", child(ctx.ptr, "not"), True, text)]


def _conditional_holds(checker: Checker, old: list[Atom], new: Atom) -> bool:
    doc, condition = new.doc, new.get("if")
    then_ok = checker.includes(old, new.get("then", True), doc)
    else_ok = checker.includes(old, new.get("else", True), doc)
    return (then_ok and else_ok) or (
        (then_ok and checker.includes(old, condition, doc))
        or (else_ok and checker.disjoint(old, condition, doc))
    )


def _if(ctx: Ctx) -> list[Difference]:
    if not ctx.new.has("if"):
        return []
    checker = ctx.checker
    if _conditional_holds(checker, ctx.old, ctx.new):
        return []
    parts = checker.split_by_kind(ctx.old, ctx.kinds)
    if len(parts) > 1 and all(_conditional_holds(checker, p, ctx.new) for p in parts):
        return []
    text = "values the old schema accepts may fail the then/else branch"
    return [Difference("CONDITIONAL_CHANGED", ctx.ptr, True, text)]


def _external(ctx: Ctx) -> list[Difference]:
    ref = ctx.new.external_ref
    if ref is None:
        return []
    if any(a.external_ref == ref for a in ctx.old):
        text = f"{ref} is another document, assumed unchanged"
        return [Difference("REFERENCE_EXTERNAL", ctx.ptr, False, text, assumed=True)]
    return [Difference("REFERENCE_UNRESOLVED", ctx.ptr, True, f"{ref} is not loaded")]


GROUPS: dict[str, Group] = {
    "$ref": _external,
    "type": _type,
    "enum": _enum,
    "const": _enum,
    "minLength": _string,
    "maxLength": _string,
    "pattern": _string,
    "format": _string,
    "minimum": _number,
    "maximum": _number,
    "exclusiveMinimum": _number,
    "exclusiveMaximum": _number,
    "multipleOf": _number,
    "anyOf": _union("anyOf", exclusive=False),
    "oneOf": _union("oneOf", exclusive=True),
    "not": _not,
    "if": _if,
}
