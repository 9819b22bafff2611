"""Hypothesis strategies for small JSON Schemas, pairs of related schemas, and JSON values.

The vocabulary is deliberately small (property names ``a``-``d``, strings over ``ab``,
numbers near zero) so that random values often hit the constraints of random schemas and
random pairs are often related by a small edit: that is where a checker goes wrong.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

NAMES = ["a", "b", "c", "d"]
PATTERNS = ["^a", "b$", "^[ab]*$", "a"]
TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]

small_numbers = st.sampled_from([-2, -1, 0, 0.5, 1, 1.5, 2, 3])
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([-1.5, -0.5, 0.5, 1.0, 1.5, 2.5]),
    st.text(alphabet="ab", max_size=3),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from([*NAMES, "ab", "ba"]), children, max_size=3),
    ),
    max_leaves=6,
)


def _optional(
    draw: st.DrawFn, out: dict[str, Any], key: str, values: st.SearchStrategy[Any]
) -> None:
    if draw(st.booleans()):
        out[key] = draw(values)


@st.composite
def _string_schema(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"} if draw(st.booleans()) else {}
    _optional(draw, out, "minLength", st.integers(0, 2))
    _optional(draw, out, "maxLength", st.integers(0, 3))
    _optional(draw, out, "pattern", st.sampled_from(PATTERNS))
    return out


@st.composite
def _number_schema(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["type"] = draw(st.sampled_from(["integer", "number"]))
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if draw(st.integers(0, 3)) == 0:
            out[key] = draw(small_numbers)
    _optional(draw, out, "multipleOf", st.sampled_from([0.5, 1, 2, 3]))
    return out


def _leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([True, False, {}]),
        st.sampled_from(TYPES).map(lambda t: {"type": t}),
        st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True).map(
            lambda ts: {"type": ts}
        ),
        _string_schema(),
        _number_schema(),
        st.lists(json_scalars, min_size=1, max_size=3).map(lambda vs: {"enum": vs}),
        json_scalars.map(lambda v: {"const": v}),
    )


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        _array_schema(children),
        _object_schema(children),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"anyOf": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"oneOf": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"allOf": xs}),
        children.map(lambda x: {"not": x}),
        st.tuples(children, children, children).map(
            lambda t: {"if": t[0], "then": t[1], "else": t[2]}
        ),
    )


@st.composite
def _array_schema(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array"} if draw(st.booleans()) else {}
    shape = draw(st.integers(0, 2))
    if shape == 1:
        out["items"] = draw(children)
    elif shape == 2:
        out["items"] = draw(st.lists(children, min_size=1, max_size=2))
    _optional(draw, out, "additionalItems", children)
    _optional(draw, out, "minItems", st.integers(0, 2))
    _optional(draw, out, "maxItems", st.integers(0, 3))
    _optional(draw, out, "uniqueItems", st.booleans())
    _optional(draw, out, "contains", children)
    return out


@st.composite
def _object_schema(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"} if draw(st.booleans()) else {}
    _optional(
        draw,
        out,
        "properties",
        st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
    )
    _optional(draw, out, "required", st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
    _optional(draw, out, "additionalProperties", children)
    _optional(
        draw,
        out,
        "patternProperties",
        st.dictionaries(st.sampled_from(["^a", "b$"]), children, max_size=2),
    )
    _optional(draw, out, "minProperties", st.integers(0, 2))
    _optional(draw, out, "maxProperties", st.integers(0, 3))
    _optional(
        draw,
        out,
        "dependencies",
        st.dictionaries(
            st.sampled_from(NAMES),
            st.one_of(st.lists(st.sampled_from(NAMES), max_size=2, unique=True), children),
            max_size=2,
        ),
    )
    _optional(
        draw,
        out,
        "propertyNames",
        st.sampled_from([{"maxLength": 1}, {"pattern": "^[ab]"}]),
    )
    return out


schemas: st.SearchStrategy[Any] = st.recursive(_leaf(), _extend, max_leaves=5)


def _paths(schema: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the paths of every sub-schema object inside ``schema``."""
    out = [path] if isinstance(schema, dict) else []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in (
                "properties",
                "patternProperties",
                "dependencies",
            ) and isinstance(value, dict):
                for name, sub in value.items():
                    out += _paths(sub, (*path, key, name))
            elif isinstance(value, list) and key in (
                "items",
                "anyOf",
                "oneOf",
                "allOf",
            ):
                for index, sub in enumerate(value):
                    out += _paths(sub, (*path, key, index))
            elif isinstance(value, (dict, bool)) and key not in ("enum", "const"):
                out += _paths(value, (*path, key))
    return out


def _at(schema: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        schema = schema[token]
    return schema


@st.composite
def schema_pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """Draw (old, new): unrelated, or new made from old by a small edit at some depth."""
    old = draw(schemas)
    how = draw(st.sampled_from(["unrelated", "drop", "replace", "widen", "narrow", "same"]))
    if how == "unrelated":
        return old, draw(schemas)
    new = copy.deepcopy(old)
    paths = _paths(new)
    if not paths:
        return old, draw(schemas)
    path = draw(st.sampled_from(paths))
    target = _at(new, path)
    if how == "drop" and target:
        del target[draw(st.sampled_from(sorted(target)))]
    elif how == "replace":
        if not path:
            return old, draw(schemas)
        _at(new, path[:-1])[path[-1]] = draw(schemas)
    elif how == "widen":
        other = draw(schemas)
        snapshot = dict(target)
        target.clear()
        target["anyOf"] = [snapshot, other]
    elif how == "narrow":
        other = draw(schemas)
        if isinstance(other, dict):
            for key, value in other.items():
                target.setdefault(key, value)
    return old, new
