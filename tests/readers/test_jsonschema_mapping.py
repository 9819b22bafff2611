"""How JSON Schema constructs map to the IR: types, formats, nullability, names, selection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.readers.base import ReadOptions
from persist_tool.readers.jsonschema import read


def _schema(
    tmp_path: Path, doc: dict[str, Any], name: str = "thing.schema.json", **options: Any
) -> ir.Schema:
    path = tmp_path / name
    text = json.dumps(doc, indent=2)
    path.write_text(text, encoding="utf-8")
    return read(text, ReadOptions(path=path, display=name, **options)).schema


def _field(
    tmp_path: Path, prop: dict[str, Any], *, required: bool = True, dialect: str | None = None
) -> ir.Field:
    doc: dict[str, Any] = {
        "type": "object",
        "properties": {"p": prop},
        "additionalProperties": False,
    }
    if required:
        doc["required"] = ["p"]
    if dialect:
        doc["$schema"] = dialect
    return _schema(tmp_path, doc).entities[0].get_field("p")


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": "string"}, ir.StringType()),
        ({"type": "string", "format": "email"}, ir.StringType(format="email")),
        ({"type": "string", "format": "uri"}, ir.StringType(format="uri")),
        ({"type": "string", "format": "date"}, ir.DateType()),
        ({"type": "string", "format": "date-time"}, ir.DateTimeType(tz=True)),
        ({"type": "string", "format": "time"}, ir.TimeType()),
        ({"type": "string", "format": "uuid"}, ir.UuidType()),
        ({"type": "string", "format": "byte"}, ir.BytesType()),
        ({"type": "string", "contentEncoding": "base64"}, ir.BytesType()),
        ({"type": "string", "format": "decimal"}, ir.DecimalType()),
        ({"type": "integer"}, ir.IntegerType(64)),
        ({"type": "integer", "format": "int32"}, ir.IntegerType(32)),
        ({"type": "number"}, ir.FloatType()),
        ({"type": "boolean"}, ir.BooleanType()),
        ({"type": "array", "items": {"type": "string"}}, ir.ArrayType(ir.StringType())),
        ({"const": "v1"}, ir.StringType()),
        (
            {"type": "string", "x-persist-type": {"kind": "decimal", "precision": 8, "scale": 3}},
            ir.DecimalType(8, 3),
        ),
    ],
)
def test_plain_values_get_column_types(
    tmp_path: Path, prop: dict[str, Any], expected: ir.FieldType
) -> None:
    assert _field(tmp_path, prop).type == expected


def test_numeric_and_string_constraints_are_kept(tmp_path: Path) -> None:
    f = _field(tmp_path, {"type": "integer", "minimum": 1, "exclusiveMaximum": 10, "multipleOf": 3})
    assert f.constraints == ir.Constraints(minimum=1, exclusive_maximum=10, multiple_of=3)
    f = _field(tmp_path, {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^a"})
    assert f.constraints == ir.Constraints(min_length=2, max_length=5, pattern="^a")
    f = _field(
        tmp_path,
        {
            "type": "array",
            "items": {"type": "string", "maxLength": 3},
            "minItems": 1,
            "maxItems": 4,
            "uniqueItems": True,
        },
    )
    assert f.constraints == ir.Constraints(min_items=1, max_items=4, unique_items=True)
    assert isinstance(f.type, ir.ArrayType)
    assert f.type.item_constraints == ir.Constraints(max_length=3)


def test_draft_04_boolean_exclusive_bounds_become_numbers(tmp_path: Path) -> None:
    f = _field(
        tmp_path,
        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 5},
        dialect="http://json-schema.org/draft-04/schema#",
    )
    assert f.constraints == ir.Constraints(exclusive_minimum=0, maximum=5)


def test_nested_objects_unions_and_maps_keep_their_schema(tmp_path: Path) -> None:
    for prop in (
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "object", "patternProperties": {"^x": {}}},
        {"type": "array", "items": {"type": "object"}},
        {"type": ["string", "integer"]},
        {"type": "string", "not": {"const": "x"}},
    ):
        f = _field(tmp_path, prop)
        assert isinstance(f.type, ir.JsonType), prop
        assert f.type.schema == prop


def test_ref_siblings_are_ignored_before_2019_and_applied_after(tmp_path: Path) -> None:
    defs = {"s": {"type": "string"}}
    for dialect, expected in (
        ("http://json-schema.org/draft-07/schema#", ir.Constraints()),
        ("https://json-schema.org/draft/2020-12/schema", ir.Constraints(max_length=3)),
    ):
        doc = {
            "$schema": dialect,
            "$defs": defs,
            "definitions": defs,
            "type": "object",
            "properties": {"p": {"$ref": "#/definitions/s", "maxLength": 3}},
            "required": ["p"],
            "additionalProperties": False,
        }
        f = _schema(tmp_path, doc).entities[0].get_field("p")
        assert f.type == ir.StringType()
        assert f.constraints == expected, dialect


def test_all_of_merges_types_bounds_and_properties(tmp_path: Path) -> None:
    doc = {
        "$defs": {
            "Base": {
                "type": "object",
                "properties": {"id": {"type": "integer"}},
                "required": ["id"],
            }
        },
        "allOf": [
            {"$ref": "#/$defs/Base"},
            {
                "properties": {
                    "n": {
                        "allOf": [{"type": "integer", "minimum": 0}, {"maximum": 9, "minimum": 2}]
                    }
                }
            },
        ],
        "additionalProperties": False,
    }
    entity = _schema(tmp_path, doc).entities[0]
    assert [f.name for f in entity.fields] == ["id", "n"]
    assert entity.get_field("id").required
    n = entity.get_field("n")
    assert n.type == ir.IntegerType()
    assert n.constraints == ir.Constraints(minimum=2, maximum=9)


def test_required_null_and_defaults_decide_draft_optionality(tmp_path: Path) -> None:
    doc = {
        "type": "object",
        "additionalProperties": False,
        "required": ["a", "b"],
        "properties": {
            "a": {"type": "string"},
            "b": {"type": ["string", "null"]},
            "c": {"type": "string"},
            "d": {"type": "string", "default": "x"},
            "e": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "f": {"type": "integer", "default": 1},
        },
    }
    entity = _schema(tmp_path, doc).entities[0]
    a, b, c, d, e, f = entity.fields
    assert (a.required, a.nullable) == (True, False)
    assert (b.required, b.nullable) == (False, True)
    assert (c.nullable, c.extra.get("json_omit_null")) == (True, True)
    assert (d.nullable, d.default) == (False, ir.Default("literal", "x"))
    assert (e.type, e.nullable, e.extra.get("json_omit_null")) == (ir.IntegerType(), True, None)
    assert f.default == ir.Default("literal", 1)


def test_inline_enums_are_named_by_their_parent_and_definitions_by_their_key(
    tmp_path: Path,
) -> None:
    doc = {
        "definitions": {"schedule-interval": {"enum": ["daily", "weekly"]}},
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "kind": {"enum": ["git", "hg"]},
            "interval": {"$ref": "#/definitions/schedule-interval"},
            "again": {"$ref": "#/definitions/schedule-interval"},
            "levels": {"type": "array", "items": {"type": "integer", "enum": [1, 2]}},
        },
    }
    entity = _schema(tmp_path, doc, name="package-repository.json").entities[0]
    assert entity.name == "PackageRepository"
    assert entity.get_field("kind").type == ir.EnumType("PackageRepositoryKind", ("git", "hg"))
    assert entity.get_field("interval").type == ir.EnumType("ScheduleInterval", ("daily", "weekly"))
    assert entity.get_field("again").type == entity.get_field("interval").type
    levels = entity.get_field("levels").type
    assert levels == ir.ArrayType(ir.EnumType("PackageRepositoryLevelsItem", (1, 2)))


def test_members_beyond_the_properties_go_to_a_rest_field(tmp_path: Path) -> None:
    doc = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    rest = _schema(tmp_path, doc).entities[0].fields[-1]
    assert rest.extra == {"json_rest": True}
    assert rest.default == ir.Default("factory", "dict")
    assert rest.type == ir.JsonType(
        {
            "type": "object",
            "patternProperties": {"^x-": {"type": "integer"}},
            "additionalProperties": False,
        }
    )
    closed = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    assert [f.name for f in _schema(tmp_path, closed).entities[0].fields] == ["a"]


def test_cross_property_keywords_are_kept_for_whole_payload_checks(tmp_path: Path) -> None:
    doc = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "dependencies": {"a": ["b"]},
    }
    entity = _schema(tmp_path, doc).entities[0]
    assert entity.extra["json_schema"] == {"dependentRequired": {"a": ["b"]}}


def test_metadata_keywords_fill_table_keys_and_indexes(tmp_path: Path) -> None:
    doc = {
        "$defs": {
            "Note": {
                "type": "object",
                "x-persist-table": "notes",
                "x-persist-schema-version": 3,
                "x-persist-primary-key": "id",
                "x-persist-unique": [["owner", "title"]],
                "x-persist-index": [
                    "owner",
                    {"columns": ["title"], "name": "ix_t", "unique": True},
                ],
                "x-persist-renamed-from": "Memo",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "owner": {"type": "string", "x-persist-immutable": True},
                    "title": {"type": "string", "x-persist-renamed-from": ["heading"]},
                    "created": {
                        "type": "string",
                        "format": "date-time",
                        "x-persist-generated": "CURRENT_TIMESTAMP",
                    },
                },
                "required": ["id", "owner", "title"],
                "additionalProperties": False,
            }
        }
    }
    [note] = _schema(tmp_path, doc).entities
    assert (note.name, note.table, note.schema_version) == ("Note", "notes", 3)
    assert note.primary_key == ("id",)
    assert note.unique == (("owner", "title"),)
    assert note.indexes == (
        ir.Index("ix_notes_owner", ("owner",)),
        ir.Index("ix_t", ("title",), True),
    )
    assert note.extra["renamed_from"] == ["Memo"]
    assert note.get_field("id").immutable and note.get_field("owner").immutable
    assert note.get_field("title").renamed_from == ("heading",)
    created = note.get_field("created")
    assert created.generated and created.default == ir.Default("sql", "CURRENT_TIMESTAMP")


def test_entity_selection_prefers_marked_then_root_then_definitions(tmp_path: Path) -> None:
    obj = {"type": "object", "properties": {"a": {"type": "string"}}}
    defs_only = {"$defs": {"A": obj, "b_thing": obj, "S": {"type": "string"}}}
    assert [e.name for e in _schema(tmp_path, defs_only).entities] == ["A", "BThing"]
    with_root = {**obj, "$defs": {"A": obj}}
    assert [e.name for e in _schema(tmp_path, with_root).entities] == ["Thing"]
    marked = {**obj, "$defs": {"A": {**obj, "x-persist-table": "as"}}}
    assert [e.name for e in _schema(tmp_path, marked).entities] == ["A"]
    chosen = _schema(tmp_path, with_root, entities=("A", "Thing"))
    assert [e.name for e in chosen.entities] == ["A", "Thing"]


def test_definition_entities_do_not_borrow_the_root_description(tmp_path: Path) -> None:
    obj = {"type": "object", "properties": {"a": {"type": "string"}}}
    doc = {"description": "The file.", "$defs": {"A": obj, "B": {**obj, "title": "Bee"}}}
    a, b = _schema(tmp_path, doc).entities
    assert (a.doc, b.doc) == (None, "Bee")
