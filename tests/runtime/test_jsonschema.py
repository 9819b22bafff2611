"""The runtime JSON Schema validator: keyword behaviour, issue paths, and agreement with
the ``jsonschema`` library on generated instances."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from persist_runtime import Issue
from persist_runtime.jsonschema import is_valid, validate_json


def issues_of(value: object, schema: Any, path: str = "") -> list[Issue]:
    issues: list[Issue] = []
    validate_json(value, schema, path, issues)
    return issues


def paths_of(value: object, schema: Any, path: str = "") -> list[str]:
    return [i.path for i in issues_of(value, schema, path)]


# --------------------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "string"}, "x", 1),
        ({"type": "integer"}, 3, 3.5),
        ({"type": "integer"}, 3.0, True),
        ({"type": "number"}, 3.5, "3.5"),
        ({"type": "boolean"}, False, 0),
        ({"type": "null"}, None, 0),
        ({"type": ["string", "null"]}, None, []),
        ({"type": "array"}, [], {}),
        ({"type": "object"}, {}, []),
        ({"enum": ["a", 1]}, 1, "1"),
        ({"enum": [1]}, 1.0, True),
        ({"const": {"a": [1]}}, {"a": [1.0]}, {"a": [True]}),
        ({"minimum": 2}, 2, 1.9),
        ({"exclusiveMinimum": 2}, 2.1, 2),
        ({"maximum": 2}, 2, 2.1),
        ({"exclusiveMaximum": 2}, 1, 2),
        ({"maximum": 2, "exclusiveMaximum": True}, 1.9, 2),
        ({"minimum": 2, "exclusiveMinimum": True}, 2.1, 2),
        ({"multipleOf": 0.1}, 0.3, 0.35),
        ({"multipleOf": 3}, 9, 10),
        ({"minLength": 2}, "ab", "a"),
        ({"maxLength": 2}, "\U0001f600\U0001f600", "abc"),
        ({"pattern": "^a+$"}, "aaa", "ab"),
        ({"pattern": "b"}, "abc", "ac"),
        ({"format": "date"}, "2024-02-29", "2023-02-29"),
        ({"format": "date-time"}, "2024-01-02T03:04:05Z", "2024-01-02 03:04"),
        ({"format": "date-time"}, "2024-01-02T03:04:05.5+01:00", "2024-01-02T03:04:05"),
        ({"format": "time"}, "23:59:59+02:00", "24:00:00Z"),
        ({"format": "uuid"}, "12345678-1234-5678-1234-567812345678", "1234"),
        ({"format": "email"}, "a@b.example", "a b@c"),
        ({"minItems": 1}, [1], []),
        ({"maxItems": 1}, [1], [1, 2]),
        ({"uniqueItems": True}, [1, "1", True], [1, 1.0]),
        ({"items": {"type": "string"}}, ["a"], ["a", 1]),
        ({"prefixItems": [{"type": "string"}], "items": False}, ["a"], ["a", 1]),
        ({"items": [{"type": "string"}], "additionalItems": False}, ["a"], ["a", "b"]),
        ({"contains": {"const": 1}}, [0, 1], [0]),
        ({"contains": {"const": 1}, "maxContains": 1}, [1, 2], [1, 1]),
        ({"contains": {"const": 1}, "minContains": 2}, [1, 1], [1]),
        ({"required": ["a"]}, {"a": None}, {"b": 1}),
        ({"properties": {"a": {"type": "string"}}}, {"a": "x"}, {"a": 1}),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1}, {"b": 1}),
        ({"patternProperties": {"^x-": {"type": "string"}}}, {"x-a": "s"}, {"x-a": 1}),
        (
            {"patternProperties": {"^x-": {}}, "additionalProperties": False},
            {"x-a": 1},
            {"y": 1},
        ),
        ({"additionalProperties": {"type": "integer"}}, {"a": 1}, {"a": "1"}),
        ({"propertyNames": {"maxLength": 2}}, {"ab": 1}, {"abc": 1}),
        ({"minProperties": 1}, {"a": 1}, {}),
        ({"maxProperties": 1}, {"a": 1}, {"a": 1, "b": 2}),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1, "b": 2}, {"a": 1}),
        ({"dependencies": {"a": ["b"]}}, {"b": 1}, {"a": 1}),
        ({"dependencies": {"a": {"required": ["c"]}}}, {"a": 1, "c": 1}, {"a": 1}),
        ({"dependentSchemas": {"a": {"maxProperties": 1}}}, {"a": 1}, {"a": 1, "b": 1}),
        ({"allOf": [{"type": "integer"}, {"minimum": 2}]}, 2, 1),
        ({"anyOf": [{"type": "integer"}, {"type": "string"}]}, "a", None),
        ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, 1, 3),
        ({"not": {"type": "string"}}, 1, "a"),
        ({"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"type": "integer"}}, 1, "a"),
        ({"if": {"type": "string"}, "else": {"type": "integer"}}, "a", 1.5),
        ({"items": False}, [], [0]),
    ],
)
def test_keyword_accepts_good_and_rejects_bad_value(schema: Any, good: object, bad: object) -> None:
    assert issues_of(good, schema) == []
    assert issues_of(bad, schema) != []


def test_unknown_formats_are_annotations_and_formats_ignore_non_strings() -> None:
    assert is_valid("anything", {"format": "semver"})
    assert is_valid(12, {"format": "date"})


def test_true_and_empty_schema_accept_everything() -> None:
    for value in (None, 1, "a", [1], {"a": {}}):
        assert is_valid(value, True)
        assert is_valid(value, {})


def test_issue_paths_are_json_pointers_of_the_failing_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a/b": {"type": "array", "items": {"properties": {"c~d": {"type": "integer"}}}},
            "name": {"type": "string"},
        },
        "required": ["name", "missing"],
    }
    value = {"a/b": [{"c~d": 1}, {"c~d": "x"}], "name": 3}
    assert paths_of(value, schema, "/field") == [
        "/field/missing",
        "/field/a~1b/1/c~0d",
        "/field/name",
    ]


def test_every_problem_is_reported_not_only_the_first() -> None:
    schema = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    assert paths_of([-1, "x", 2, -5], schema) == ["/0", "/1", "/3"]


def test_messages_say_what_was_expected_and_what_was_found() -> None:
    [issue] = issues_of(3, {"type": "string"}, "/x")
    assert str(issue) == "/x: expected string, got integer"
    [issue] = issues_of("c", {"enum": ["a", "b"]})
    assert issue.message == "expected one of 'a', 'b', got 'c'"


def test_any_of_reports_the_nested_problem_of_the_only_branch_of_the_right_type() -> None:
    schema = {
        "anyOf": [
            {"type": "string"},
            {"type": "object", "properties": {"n": {"type": "integer"}}},
        ]
    }
    assert paths_of({"n": "x"}, schema, "/f") == ["/f/n"]
    [issue] = issues_of(1.5, schema, "/f")
    assert issue == Issue("/f", "expected string or object, got number")


def test_one_of_rejects_a_value_matching_two_alternatives() -> None:
    [issue] = issues_of(5, {"oneOf": [{"type": "integer"}, {"minimum": 0}]})
    assert "exactly one" in issue.message


def test_local_refs_and_definitions_resolve() -> None:
    schema = {
        "$defs": {"pos": {"type": "integer", "minimum": 1}},
        "definitions": {"name": {"type": "string"}},
        "properties": {"p": {"$ref": "#/$defs/pos"}, "n": {"$ref": "#/definitions/name"}},
    }
    assert paths_of({"p": 0, "n": 1}, schema) == ["/p", "/n"]


def test_ref_with_escaped_pointer_and_anchor_resolve() -> None:
    schema = {
        "$defs": {"a/b": {"type": "integer"}, "x": {"$anchor": "thing", "type": "string"}},
        "properties": {"p": {"$ref": "#/$defs/a~1b"}, "q": {"$ref": "#thing"}},
    }
    assert paths_of({"p": "no", "q": 1}, schema) == ["/p", "/q"]


def test_recursive_refs_validate_trees_of_any_depth() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["value"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    }
    deep: dict[str, Any] = {"value": 0}
    leaf = deep
    for depth in range(1, 100):
        child: dict[str, Any] = {"value": depth}
        leaf["children"] = [child]
        leaf = child
    assert is_valid(deep, tree)
    leaf["children"] = [{"value": "bad"}]
    [issue] = issues_of(deep, tree)
    assert issue.path == "/children/0" * 100 + "/value"


def test_values_nested_beyond_the_recursion_limit_are_an_issue_not_a_crash() -> None:
    value: list[Any] = []
    for _ in range(5000):
        value = [value]
    [issue] = issues_of(value, {"items": {"$ref": "#"}}, "/f")
    assert issue == Issue("/f", "value is nested too deeply to validate")


def test_root_recursion_through_hash_ref() -> None:
    schema = {"type": ["integer", "array"], "items": {"$ref": "#"}}
    assert is_valid([1, [2, [3]]], schema)
    assert paths_of([1, [2, ["x"]]], schema) == ["/1/1/0"]


def test_unusable_schemas_raise_value_error_at_first_use() -> None:
    for schema in (
        {"$ref": "other.json#/x"},
        {"$ref": "#/$defs/missing"},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        {"pattern": "("},
        {"type": "strng"},
    ):
        with pytest.raises(ValueError):
            validate_json(1, schema, "", [])


def test_compiled_schemas_are_cached_per_schema_object() -> None:
    from persist_runtime import jsonschema as module

    schema = {"type": "integer"}
    validate_json(1, schema, "", [])
    first = module._CACHE[id(schema)][1]
    validate_json(2, schema, "", [])
    assert module._CACHE[id(schema)][1] is first


def test_tuples_count_as_arrays_and_python_values_as_json() -> None:
    from decimal import Decimal

    assert is_valid((1, 2), {"type": "array", "items": {"type": "integer"}})
    assert is_valid(Decimal("2.50"), {"type": "number", "multipleOf": 0.5})
    assert is_valid(Decimal("2"), {"type": "integer"})


# --------------------------------------------------------------------------- oracle

ORACLE_SCHEMAS: list[dict[str, Any]] = [
    {"type": ["integer", "string"], "minimum": -3, "maximum": 10, "maxLength": 2},
    {"type": "number", "exclusiveMinimum": 0, "multipleOf": 2},
    {"enum": [None, True, 0, "a", [1], {"k": "v"}]},
    {"const": [1, {"a": None}]},
    {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "array", "items": {"type": "string"}},
        },
        "patternProperties": {"^x": {"type": ["null", "boolean"]}},
        "additionalProperties": {"type": "string", "minLength": 1},
        "required": ["a"],
        "minProperties": 1,
        "maxProperties": 3,
    },
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
    {"type": "array", "items": {"type": ["integer", "string"]}, "uniqueItems": True, "maxItems": 4},
    {"contains": {"type": "string"}, "minContains": 2, "maxContains": 3},
    {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "integer", "minimum": 5}]},
    {"oneOf": [{"type": "integer"}, {"type": "number", "maximum": 3}]},
    {"not": {"anyOf": [{"type": "object"}, {"type": "array"}]}},
    {
        "if": {"type": "object", "required": ["k"]},
        "then": {"properties": {"k": {"type": "integer"}}},
        "else": {"type": ["array", "string"]},
    },
    {"dependentRequired": {"a": ["b", "c"]}, "dependentSchemas": {"b": {"required": ["d"]}}},
    {"propertyNames": {"pattern": "^[a-z]*$", "maxLength": 3}},
    {
        "$defs": {
            "tree": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/tree"}},
                },
                "additionalProperties": False,
            }
        },
        "anyOf": [{"$ref": "#/$defs/tree"}, {"type": "null"}],
    },
    {"type": "array", "items": {"$ref": "#"}, "maxItems": 2},
    {"allOf": [{"type": "object"}, {"properties": {"a": {"const": 1}}}, {"required": ["a"]}]},
]

_keys = st.sampled_from(["a", "b", "c", "d", "k", "v", "kids", "x1", "xy", "", "A1"])
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-6, 12),
    st.sampled_from([0.5, 2.0, 3.0, -1.5, 4.0, 1e300]),
    st.sampled_from(["", "a", "ab", "abc", "b", "Z9"]),
)
_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=10,
)


@pytest.mark.parametrize("index", range(len(ORACLE_SCHEMAS)))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_values)
def test_validity_agrees_with_the_jsonschema_library(index: int, value: Any) -> None:
    schema = ORACLE_SCHEMAS[index]
    expected = jsonschema.Draft202012Validator(schema).is_valid(value)
    assert is_valid(value, schema) == expected


@pytest.mark.parametrize("index", range(len(ORACLE_SCHEMAS)))
@settings(max_examples=100, deadline=None)
@given(value=_values)
def test_reported_paths_are_locations_the_library_also_blames(index: int, value: Any) -> None:
    schema = ORACLE_SCHEMAS[index]
    ours = {i.path for i in issues_of(value, schema)}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(value))
    theirs = set()
    for error in errors:
        parts = ["/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path]
        theirs.add("".join(parts))
        for sub in error.context or ():
            theirs.add(
                "".join(
                    "/" + str(p).replace("~", "~0").replace("/", "~1") for p in sub.absolute_path
                )
            )
    # "required"/"dependentRequired"/"additionalProperties" point at the property itself
    # where the library points at its object: accept the parent as well.
    parents = {p.rsplit("/", 1)[0] for p in ours}
    assert bool(ours) == bool(errors)
    assert all(p in theirs or p.rsplit("/", 1)[0] in theirs for p in ours), (ours, theirs, parents)
