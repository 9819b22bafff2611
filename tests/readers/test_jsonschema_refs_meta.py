"""Which schema nodes ``x-persist-*`` metadata is read from when ``$ref`` and ``allOf`` meet."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from persist_runtime import ValidationError
from typer.testing import CliRunner

from persist_tool import ir
from persist_tool.cli import app
from persist_tool.readers.base import ReadOptions
from persist_tool.readers.jsonschema import read

DIALECT = "https://json-schema.org/draft/2020-12/schema"

AUTHOR: dict[str, Any] = {
    "type": "object",
    "x-persist-table": "authors",
    "x-persist-primary-key": ["id"],
    "x-persist-unique": [["name"]],
    "x-persist-index": ["name"],
    "x-persist-renamed-from": "Writer",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    "required": ["id", "name"],
}
BOOK: dict[str, Any] = {
    "type": "object",
    "x-persist-table": "books",
    "x-persist-primary-key": ["id"],
    "properties": {"id": {"type": "integer"}, "author": {"$ref": "#/$defs/Author"}},
    "required": ["id"],
}


def _schema(tmp_path: Path, doc: dict[str, Any], **options: Any) -> ir.Schema:
    path = tmp_path / "library.schema.json"
    text = json.dumps({"$schema": DIALECT, **doc}, indent=2)
    path.write_text(text, encoding="utf-8")
    return read(text, ReadOptions(path=path, display=path.name, **options)).schema


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_property_referring_to_an_entity_is_a_json_field_without_its_metadata(
    tmp_path: Path,
) -> None:
    schema = _schema(tmp_path, {"$defs": {"Author": AUTHOR, "Book": BOOK}})
    author, book = schema.entities
    assert (author.table, author.primary_key, author.unique) == ("authors", ("id",), (("name",),))
    assert author.extra["renamed_from"] == ["Writer"]
    assert (book.table, book.primary_key, book.unique, book.indexes) == ("books", ("id",), (), ())
    field = book.get_field("author")
    assert isinstance(field.type, ir.JsonType)
    assert field.type.schema["properties"] == AUTHOR["properties"]
    assert field.type.schema["required"] == ["id", "name"]
    assert not any(key.startswith("x-") for key in _keys(field.type.schema))
    assert (field.renamed_from, field.generated, field.immutable) == ((), False, False)
    assert field.nullable and field.extra["json_type_name"] == "BookAuthor"


def test_nullable_and_array_references_to_an_entity_read_without_error(tmp_path: Path) -> None:
    book = {
        **BOOK,
        "properties": {
            "id": {"type": "integer"},
            "author": {"anyOf": [{"$ref": "#/$defs/Author"}, {"type": "null"}]},
            "editors": {"type": "array", "items": {"$ref": "#/$defs/Author"}},
        },
    }
    [_, entity] = _schema(tmp_path, {"$defs": {"Author": AUTHOR, "Book": book}}).entities
    for name in ("author", "editors"):
        field = entity.get_field(name)
        assert isinstance(field.type, ir.JsonType)
        assert not any(key.startswith("x-") for key in _keys(field.type.schema))
        assert field.renamed_from == ()


def test_keywords_written_beside_a_reference_to_an_entity_still_count(tmp_path: Path) -> None:
    for dialect in (DIALECT, "http://json-schema.org/draft-07/schema#"):
        book = {
            **BOOK,
            "properties": {
                "id": {"type": "integer"},
                "author": {"$ref": "#/$defs/Author", "x-persist-renamed-from": "writer"},
            },
        }
        doc = {"$schema": dialect, "definitions": {"Author": AUTHOR, "Book": book}}
        doc_text = json.dumps(doc).replace("#/$defs/", "#/definitions/")
        path = tmp_path / "library.schema.json"
        path.write_text(doc_text, encoding="utf-8")
        result = read(doc_text, ReadOptions(path=path, display=path.name))
        entity = result.schema.get_entity("Book")
        assert entity.get_field("author").renamed_from == ("writer",), dialect


def test_value_definitions_lend_their_column_metadata_through_references(
    tmp_path: Path,
) -> None:
    doc = {
        "$defs": {
            "Id": {"type": "integer", "x-persist-generated": True},
            "Price": {
                "allOf": [{"$ref": "#/$defs/Money"}],
                "description": "What it costs.",
            },
            "Money": {
                "type": "string",
                "x-persist-type": {"kind": "decimal", "precision": 10, "scale": 2},
            },
            "Item": {
                "type": "object",
                "x-persist-primary-key": "id",
                "properties": {
                    "id": {"$ref": "#/$defs/Id"},
                    "price": {"$ref": "#/$defs/Price"},
                    "own": {
                        "$ref": "#/$defs/Money",
                        "x-persist-type": {"kind": "decimal", "precision": 12, "scale": 4},
                    },
                },
            },
        }
    }
    [item] = _schema(tmp_path, doc).entities
    assert item.get_field("id").generated
    assert item.get_field("price").type == ir.DecimalType(10, 2)
    assert item.get_field("own").type == ir.DecimalType(12, 4)


def test_a_value_definition_with_entity_keywords_is_still_an_error_on_a_property(
    tmp_path: Path,
) -> None:
    doc = {
        "$defs": {
            "Code": {"type": "string", "x-persist-table": "codes"},
            "Item": {
                "type": "object",
                "x-persist-primary-key": "code",
                "properties": {"code": {"$ref": "#/$defs/Code"}},
            },
        }
    }
    with pytest.raises(ir.SourceError, match="unknown keyword 'x-persist-table' on a property"):
        _schema(tmp_path, doc)


def test_a_root_that_only_refers_to_a_marked_definition_is_not_a_second_entity(
    tmp_path: Path,
) -> None:
    doc = {"$ref": "#/$defs/Author", "$defs": {"Author": AUTHOR}}
    assert [(e.name, e.table) for e in _schema(tmp_path, doc).entities] == [("Author", "authors")]
    unmarked = {k: v for k, v in AUTHOR.items() if not k.startswith("x-")}
    plain = {"$ref": "#/$defs/Author", "$defs": {"Author": unmarked}}
    [root] = _schema(tmp_path, plain).entities
    assert (root.name, root.table, root.primary_key) == ("Library", "library", ())
    assert [f.name for f in root.fields] == ["id", "name", "additional_properties"]


def test_an_alias_definition_takes_the_shape_but_states_its_own_metadata(
    tmp_path: Path,
) -> None:
    bare = {"$defs": {"Author": AUTHOR, "Pen": {"$ref": "#/$defs/Author"}}}
    assert [e.name for e in _schema(tmp_path, bare).entities] == ["Author"]
    [pen] = _schema(tmp_path, bare, entities=("Pen",)).entities
    assert (pen.table, pen.primary_key, pen.unique, pen.indexes) == ("pen", (), (), ())
    assert "renamed_from" not in pen.extra
    marked = {
        "$defs": {
            "Author": AUTHOR,
            "Pen": {
                "$ref": "#/$defs/Author",
                "x-persist-table": "pens",
                "x-persist-primary-key": "id",
            },
        }
    }
    author, pen = _schema(tmp_path, marked).entities
    assert (author.table, pen.table) == ("authors", "pens")
    assert pen.primary_key == ("id",) and pen.unique == () and pen.indexes == ()
    assert [f.name for f in pen.fields] == [f.name for f in author.fields]


def test_an_entity_composing_a_referenced_base_keeps_property_metadata_only(
    tmp_path: Path,
) -> None:
    base = {
        "type": "object",
        "x-persist-table": "bases",
        "x-persist-primary-key": "id",
        "x-persist-index": ["name"],
        "properties": {
            "id": {"type": "integer", "x-persist-generated": True},
            "name": {"type": "string", "x-persist-renamed-from": "label"},
        },
        "required": ["name"],
    }
    derived = {
        "allOf": [
            {"$ref": "#/$defs/Base"},
            {"properties": {"size": {"type": "integer"}}, "x-persist-primary-key": "id"},
        ],
        "x-persist-table": "derived",
    }
    base_entity, entity = _schema(tmp_path, {"$defs": {"Base": base, "Derived": derived}}).entities
    assert (base_entity.table, base_entity.indexes) == (
        "bases",
        (ir.Index("ix_bases_name", ("name",)),),
    )
    assert (entity.table, entity.primary_key, entity.indexes) == ("derived", ("id",), ())
    assert [f.name for f in entity.fields][:3] == ["id", "name", "size"]
    assert entity.get_field("id").generated
    assert entity.get_field("name").renamed_from == ("label",)


def test_inline_all_of_members_carry_metadata_for_entities_and_properties(
    tmp_path: Path,
) -> None:
    doc = {
        "$defs": {
            "Thing": {
                "allOf": [
                    {"x-persist-table": "things", "x-persist-schema-version": 2},
                    {
                        "type": "object",
                        "x-persist-primary-key": "id",
                        "properties": {
                            "id": {"allOf": [{"type": "integer"}, {"x-persist-generated": True}]},
                            "name": {"type": "string"},
                        },
                    },
                ]
            }
        }
    }
    [thing] = _schema(tmp_path, doc).entities
    assert (thing.table, thing.schema_version, thing.primary_key) == ("things", 2, ("id",))
    assert thing.get_field("id").generated


def test_generated_module_validates_the_referenced_shape_without_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "refbug.json"
    source.write_text(
        json.dumps({"$schema": DIALECT, "$defs": {"Author": AUTHOR, "Book": BOOK}}),
        encoding="utf-8",
    )
    out = tmp_path / "refs_meta_generated"
    result = CliRunner().invoke(app, ["generate", "entity", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.py")) == ["__init__.py", "author.py", "book.py"]
    assert "x-persist" not in (out / "book.py").read_text(encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("refs_meta_generated.book")
        draft = module.BookDraft.from_payload({"id": 1, "author": {"id": 2, "name": "Ada"}})
        assert draft.author == {"id": 2, "name": "Ada"}
        with pytest.raises(ValidationError):
            module.BookDraft.from_payload({"id": 1, "author": {"id": 2}})
    finally:
        for name in [n for n in sys.modules if n.startswith("refs_meta_generated")]:
            del sys.modules[name]
