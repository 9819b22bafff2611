"""Malformed and hostile JSON Schema sources: a precise ``SourceError``, or a valid IR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.readers.base import ReadOptions, ReadResult
from persist_tool.readers.jsonschema import read


def _read(text: str, tmp_path: Path, name: str = "s.schema.json") -> ReadResult:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read(text, ReadOptions(path=path, display=name))


def _error(text: str, tmp_path: Path) -> ir.SourceError:
    with pytest.raises(ir.SourceError) as caught:
        _read(text, tmp_path)
    return caught.value


def _where(error: ir.SourceError) -> tuple[int, int]:
    assert error.location is not None
    return error.location.line, error.location.column


def _entity(properties: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"type": "object", "properties": properties, **extra}, indent=2)


# --------------------------------------------------------------------------- invalid JSON


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        (
            '{\n  "type": "object",\n  "properties": {\n    "a": {"type": "string"},\n  }\n}',
            5,
            3,
            "invalid JSON",
        ),
        ("", 1, 1, "invalid JSON"),
        ('{"type": "object"', 1, 18, "invalid JSON"),
        ("{'type': 'object'}", 1, 2, "invalid JSON"),
        ('{\n  "type": "object",\n  "default": NaN\n}', 3, 14, "NaN is not a JSON number"),
        ('{"a": 1,\n "a": 2}', 2, 2, "duplicate key 'a'"),
        ("[" * 100_000, 1, 1, "invalid JSON"),
    ],
)
def test_invalid_json_is_reported_at_its_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, words: str
) -> None:
    error = _error(text, tmp_path)
    assert _where(error) == (line, column)
    assert words in error.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[]", "array"), ('"x"', "string"), ("true", "boolean"), ("null", "null"), ("3", "number")],
)
def test_a_root_that_is_not_an_object_is_rejected(tmp_path: Path, text: str, kind: str) -> None:
    error = _error(text, tmp_path)
    assert "root of a JSON Schema source must be an object" in error.message
    assert kind in error.message
    assert _where(error) == (1, 1)


def test_a_schema_without_any_object_is_rejected(tmp_path: Path) -> None:
    error = _error('{"type": "string"}', tmp_path)
    assert "no entity" in error.message


# --------------------------------------------------------------------------- references


def test_dangling_local_ref_names_pointer_line_and_column(tmp_path: Path) -> None:
    text = _entity({"a": {"$ref": "#/$defs/Missing"}})
    error = _error(text, tmp_path)
    assert error.location is not None
    assert error.location.pointer == "/properties/a/$ref"
    assert _where(error) == (5, 7)
    assert "'#/$defs/Missing' does not resolve" in error.message


def test_dangling_ref_to_a_missing_local_file_is_an_error(tmp_path: Path) -> None:
    error = _error(_entity({"a": {"$ref": "other.json#/$defs/x"}}), tmp_path)
    assert "does not exist" in error.message


def test_ref_into_a_sibling_file_resolves_and_is_bundled(tmp_path: Path) -> None:
    (tmp_path / "common.json").write_text(
        json.dumps(
            {
                "$defs": {
                    "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
                    "tag": {"type": "object", "properties": {"n": {"type": "string"}}},
                }
            }
        ),
        encoding="utf-8",
    )
    result = _read(_entity({"tags": {"$ref": "common.json#/$defs/tags"}}), tmp_path)
    field = result.schema.entities[0].get_field("tags")
    assert isinstance(field.type, ir.JsonType)
    assert field.type.schema == {
        "type": "array",
        "items": {"$ref": "#/$defs/tag"},
        "$defs": {"tag": {"type": "object", "properties": {"n": {"type": "string"}}}},
    }


def test_remote_ref_without_local_copy_warns_and_accepts_any_json(tmp_path: Path) -> None:
    text = _entity({"a": {"$ref": "https://example.com/x.json"}})
    result = _read(text, tmp_path)
    [warning] = result.warnings
    assert "not available locally" in warning.message
    assert warning.location.pointer == "/properties/a/$ref"


def test_cyclic_ref_without_structure_is_an_error(tmp_path: Path) -> None:
    text = _entity(
        {"a": {"$ref": "#/$defs/x"}},
        **{"$defs": {"x": {"$ref": "#/$defs/y"}, "y": {"$ref": "#/$defs/x"}}},
    )
    error = _error(text, tmp_path)
    assert "cyclic $ref" in error.message
    assert error.location is not None and error.location.pointer in ("/$defs/x", "/$defs/y")


def test_cyclic_all_of_is_an_error(tmp_path: Path) -> None:
    text = _entity(
        {"a": {"$ref": "#/$defs/x"}}, **{"$defs": {"x": {"allOf": [{"$ref": "#/$defs/x"}]}}}
    )
    assert "cyclic $ref" in _error(text, tmp_path).message


def test_recursive_ref_through_properties_is_a_valid_self_contained_json_field(
    tmp_path: Path,
) -> None:
    node = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
    }
    result = _read(
        _entity({"tree": {"$ref": "#/$defs/node"}}, **{"$defs": {"node": node}}), tmp_path
    )
    schema = result.schema.entities[0].get_field("tree").type
    assert isinstance(schema, ir.JsonType)
    assert schema.schema["properties"]["kids"]["items"] == {"$ref": "#/$defs/node"}
    assert schema.schema["$defs"]["node"]["properties"]["kids"]["items"] == {"$ref": "#/$defs/node"}


# --------------------------------------------------------------------------- keywords


def test_unknown_type_names_the_keyword(tmp_path: Path) -> None:
    error = _error(_entity({"a": {"type": "strng"}}), tmp_path)
    assert error.message == "unknown type 'strng'"
    assert error.location is not None and error.location.pointer == "/properties/a/type"
    assert _where(error) == (5, 7)


@pytest.mark.parametrize(
    ("schema", "words", "pointer"),
    [
        ({"a": {"type": 5}}, "type must be", "/properties/a/type"),
        (
            {"a": {"type": "string", "pattern": "("}},
            "not a regular expression",
            "/properties/a/pattern",
        ),
        (
            {"a": {"type": "integer", "minimum": "3"}},
            "minimum must be a number",
            "/properties/a/minimum",
        ),
        (
            {"a": {"type": "string", "maxLength": -1}},
            "maxLength must be",
            "/properties/a/maxLength",
        ),
        (
            {"a": {"type": "object", "unevaluatedProperties": False}},
            "unevaluatedProperties",
            "/properties/a/unevaluatedProperties",
        ),
        (
            {"a": {"type": "string", "x-persist-unqiue": True}},
            "unknown keyword 'x-persist-unqiue'",
            "/properties/a/x-persist-unqiue",
        ),
        (
            {"a": {"type": "string", "x-persist-type": {"kind": "money"}}},
            "x-persist-type",
            "/properties/a/x-persist-type",
        ),
        ({"a": {"enum": "abc"}}, "enum must be an array", "/properties/a/enum"),
        ({"a": 7}, "expected a schema", "/properties/a"),
    ],
)
def test_malformed_keywords_are_errors_at_the_keyword(
    tmp_path: Path, schema: dict[str, Any], words: str, pointer: str
) -> None:
    error = _error(_entity(schema), tmp_path)
    assert words in error.message
    assert error.location is not None and error.location.pointer == pointer
    assert error.location.line > 1


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"x-persist-primary-key": "nope"}, "'nope' is not a property"),
        ({"x-persist-schema-version": 0}, "expected an integer >= 1"),
        ({"x-persist-table": ""}, "expected a non-empty string"),
        ({"x-persist-index": [{"columns": []}]}, "x-persist-index"),
    ],
)
def test_malformed_entity_metadata_is_an_error(
    tmp_path: Path, extra: dict[str, Any], words: str
) -> None:
    error = _error(_entity({"a": {"type": "string"}}, **extra), tmp_path)
    assert words in error.message
    assert error.location is not None and error.location.line > 1


# --------------------------------------------------------------------------- hostile but legal


def test_keyword_and_odd_property_names_get_safe_python_names(tmp_path: Path) -> None:
    props = {
        name: {"type": "string"}
        for name in (
            "class",
            "def",
            "",
            "__proto__",
            "$schema",
            "dev-dependencies",
            "to_payload",
            "Name",
            "name",
            "1st",
            "ünïcode",
            "a" * 300,
        )
    }
    result = _read(_entity(props, required=["class"], additionalProperties=False), tmp_path)
    fields = result.schema.entities[0].fields
    names = [f.name for f in fields]
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() and not n.startswith("_") for n in names)
    assert [f.column for f in fields] == list(props)
    assert [f.extra["json_key"] for f in fields] == list(props)
    by_key = {f.column: f.name for f in fields}
    assert by_key["class"] == "class_"
    assert by_key["__proto__"] == "proto"
    assert by_key["$schema"] == "schema"


def test_descriptions_with_quotes_and_backslashes_are_kept_verbatim(tmp_path: Path) -> None:
    doc = "Ends a docstring: \"\"\" and \\ and \\n and ''' and \x00 and \u2028"
    result = _read(
        _entity({"a": {"type": "string", "description": doc}}, description=doc), tmp_path
    )
    entity = result.schema.entities[0]
    assert entity.doc == doc.strip()
    assert entity.get_field("a").doc == doc.strip()


def test_empty_strings_in_enum_and_default_are_values(tmp_path: Path) -> None:
    result = _read(_entity({"a": {"enum": ["", "x"], "default": ""}}), tmp_path)
    field = result.schema.entities[0].get_field("a")
    assert isinstance(field.type, ir.EnumType)
    assert field.type.values == ("", "x")
    assert field.default == ir.Default("literal", "")


def test_default_of_the_wrong_type_warns_and_is_dropped(tmp_path: Path) -> None:
    result = _read(_entity({"a": {"type": "integer", "default": "3"}}), tmp_path)
    [warning] = result.warnings
    assert "not a valid value" in warning.message
    assert warning.location.pointer == "/properties/a/default"
    assert result.schema.entities[0].get_field("a").default is None


def test_unknown_dialect_warns_and_reads_as_2020_12(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "$schema": "https://example.com/my-dialect",
            "type": "object",
            "properties": {"a": {"type": "string"}},
        }
    )
    result = _read(text, tmp_path)
    assert "unknown $schema" in result.warnings[0].message
    assert result.schema.entities[0].get_field("a").type == ir.StringType()


def test_unknown_entity_name_lists_the_available_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.schema.json"
    path.write_text(_entity({"a": {"type": "string"}}), encoding="utf-8")
    with pytest.raises(ir.SourceError) as caught:
        read(path.read_text(), ReadOptions(path=path, display="s.schema.json", entities=("Nope",)))
    assert caught.value.hint == "entities available: S"
