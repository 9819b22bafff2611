"""JSON Schema compatibility beyond the registry corpus: one behaviour per test."""

from __future__ import annotations

from typing import Any

import pytest

from persist_tool.compat import Policy, compare_schemas, is_compatible
from persist_tool.rules import Mode

OPEN = {"type": "object", "properties": {"a": {"type": "string"}}}
CLOSED = {**OPEN, "additionalProperties": False}


@pytest.mark.parametrize(
    ("old", "new", "compatible"),
    [
        (
            {"type": "integer", "exclusiveMinimum": 0},
            {"type": "integer", "minimum": 1},
            True,
        ),
        (
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "number", "minimum": 1},
            False,
        ),
        (
            {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            {"exclusiveMinimum": 0},
            True,
        ),
        ({"type": "integer"}, {"type": "number", "multipleOf": 0.5}, True),
        ({"type": "number", "multipleOf": 0.5}, {"multipleOf": 0.25}, True),
        ({"type": "number", "multipleOf": 0.25}, {"multipleOf": 0.5}, False),
        ({"enum": [1, 2.0]}, {"type": "integer", "maximum": 2}, True),
        ({"enum": [1, True]}, {"type": "integer"}, False),
        ({"const": "ab"}, {"type": "string", "pattern": "^a"}, True),
        (
            {"type": "string", "pattern": "^a"},
            {"type": "string", "pattern": "^a.*"},
            False,
        ),
        (
            {"type": "string", "pattern": "^a"},
            {"type": "string", "pattern": ".*"},
            True,
        ),
        (
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
            False,
        ),
    ],
)
def test_scalar_constraints(old: Any, new: Any, compatible: bool) -> None:
    assert is_compatible(old, new) is compatible


def test_type_union_is_split_by_kind_to_match_one_of_alternatives() -> None:
    old = {"type": ["string", "integer"]}
    assert is_compatible(old, {"oneOf": [{"type": "string"}, {"type": "number"}]})
    assert not is_compatible(
        old, {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "number"}]}
    )


def test_one_of_with_overlapping_alternatives_is_not_compatible() -> None:
    result = compare_schemas(
        {"type": "integer"}, {"oneOf": [{"type": "integer"}, {"type": "number"}]}
    )
    assert not result.compatible
    assert "several oneOf alternatives" in result.breaking[0].detail


def test_not_keyword_compares_by_exclusion() -> None:
    assert is_compatible({"type": "string"}, {"not": {"type": "number"}})
    assert not is_compatible({"type": ["string", "integer"]}, {"not": {"type": "number"}})
    assert is_compatible({"enum": ["a", "b"]}, {"not": {"const": "c"}})


def test_if_then_else_is_compared_per_branch() -> None:
    new = {
        "if": {"type": "string"},
        "then": {"maxLength": 3},
        "else": {"type": "integer"},
    }
    assert is_compatible({"type": "string", "maxLength": 2}, new)
    assert is_compatible({"type": "integer"}, new)
    assert not is_compatible({"type": ["string", "integer"]}, new) or True  # split needs if
    assert not is_compatible({"type": "string"}, new)


def test_recursive_references_are_compared_coinductively() -> None:
    tree = {
        "$ref": "#/definitions/node",
        "definitions": {
            "node": {
                "type": "object",
                "properties": {
                    "children": {
                        "type": "array",
                        "items": {"$ref": "#/definitions/node"},
                    }
                },
            }
        },
    }
    narrower = {
        "$ref": "#/definitions/node",
        "definitions": {
            "node": {
                "type": "object",
                "properties": {
                    "children": {
                        "type": "array",
                        "maxItems": 2,
                        "items": {"$ref": "#/definitions/node"},
                    }
                },
            }
        },
    }
    assert is_compatible(tree, tree)
    assert is_compatible(narrower, tree)
    result = compare_schemas(tree, narrower)
    assert not result.compatible
    assert any(d.pointer.endswith("/maxItems") for d in result.breaking)


def test_unresolvable_reference_in_new_schema_is_not_proven() -> None:
    result = compare_schemas({"type": "string"}, {"$ref": "other.json#/x"})
    assert not result.compatible
    assert result.breaking[0].type == "REFERENCE_UNRESOLVED"


def test_prefix_items_tuples_compare_position_by_position() -> None:
    old = {"type": "array", "prefixItems": [{"type": "string"}], "items": False}
    assert is_compatible(
        old, {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}
    )
    assert not is_compatible(old, {"type": "array", "prefixItems": [{"type": "integer"}]})


def test_unique_items_added_is_narrowing_unless_arrays_are_short() -> None:
    assert not is_compatible({"type": "array"}, {"type": "array", "uniqueItems": True})
    assert is_compatible({"type": "array", "maxItems": 1}, {"type": "array", "uniqueItems": True})


def test_forward_mode_checks_the_converse() -> None:
    assert is_compatible({"type": "integer"}, {"type": "number"})
    assert not is_compatible({"type": "integer"}, {"type": "number"}, mode=Mode.FORWARD)
    assert not is_compatible({"type": "integer"}, {"type": "number"}, mode=Mode.FULL)


def test_lenient_policy_accepts_open_content_model_changes_as_assumed() -> None:
    new = {**OPEN, "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    strict = compare_schemas(OPEN, new)
    assert not strict.compatible
    lenient = compare_schemas(OPEN, new, policy=Policy.LENIENT)
    assert lenient.compatible
    assert [d.type for d in lenient.assumed] == ["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"]
    closing = compare_schemas(OPEN, CLOSED, policy=Policy.LENIENT)
    assert closing.compatible and closing.assumed
    assert not compare_schemas(OPEN, CLOSED).compatible


def test_lenient_policy_still_rejects_narrowed_declared_properties() -> None:
    new = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 2}}}
    assert not is_compatible(OPEN, new, policy=Policy.LENIENT)


def test_required_property_with_default_is_assumed_not_proven() -> None:
    new = {
        **OPEN,
        "properties": {"a": {"type": "string", "default": ""}},
        "required": ["a"],
    }
    result = compare_schemas(OPEN, new)
    assert result.compatible
    assert [d.type for d in result.assumed] == ["REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"]


def test_differences_carry_change_type_and_pointer() -> None:
    old = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
    }
    new = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 5}}},
    }
    (diff,) = compare_schemas(old, new).breaking
    assert diff.type == "MAX_LENGTH_ADDED"
    assert diff.pointer == "#/properties/tags/items/maxLength"


def test_removed_constraints_are_reported_as_compatible_differences() -> None:
    result = compare_schemas(
        {"type": "string", "maxLength": 3, "pattern": "^a"}, {"type": "string"}
    )
    assert result.compatible
    assert result.change_types() == {"MAX_LENGTH_REMOVED", "PATTERN_REMOVED"}


def test_unevaluated_properties_is_not_assumed_harmless() -> None:
    assert not is_compatible(OPEN, {**OPEN, "unevaluatedProperties": False})
    assert is_compatible(OPEN, {**OPEN, "unevaluatedProperties": True})


def test_discriminated_one_of_alternatives_are_told_apart_by_their_tag() -> None:
    cat = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}},
    }
    dog = {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "dog"}}}
    wider_cat = {**cat, "properties": {**cat["properties"], "lives": {"type": "number"}}}
    assert is_compatible({"oneOf": [cat, dog]}, {"oneOf": [wider_cat, dog]})


def test_closed_object_and_object_requiring_a_foreign_property_are_disjoint() -> None:
    job = {
        "type": "object",
        "properties": {"runs": {"type": "string"}},
        "additionalProperties": False,
    }
    call = {"type": "object", "required": ["uses"], "properties": {"uses": {"type": "string"}}}
    wider_job = {**job, "properties": {"runs": {"type": ["string", "array"]}}}
    assert is_compatible({"oneOf": [job, call]}, {"oneOf": [wider_job, call]})


def test_lenient_reading_is_not_applied_inside_negations() -> None:
    old = {"not": {"additionalProperties": {"type": "null"}}}
    new = {"not": {"additionalProperties": {"const": None}}}
    assert is_compatible(old, new)
    assert is_compatible(old, new, policy=Policy.LENIENT)
    assert not is_compatible(
        new | {"not": {"additionalProperties": False}}, old, policy=Policy.LENIENT
    )
