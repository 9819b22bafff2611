"""One reference text resolves by the scope it is written in: resolutions are reused only
within the same scope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from persist_tool import ir
from persist_tool.readers.base import ReadOptions
from persist_tool.readers.jsonschema import read

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _schema(tmp_path: Path, doc: dict[str, Any]) -> ir.Schema:
    path = tmp_path / "scopes.schema.json"
    text = json.dumps({"$schema": DIALECT, **doc}, indent=2)
    path.write_text(text, encoding="utf-8")
    return read(text, ReadOptions(path=path, display=path.name)).schema


def _field(schema: ir.Schema, entity: str, name: str) -> ir.Field:
    return schema.get_entity(entity).get_field(name)


def test_the_same_reference_under_another_id_resolves_in_its_own_resource(
    tmp_path: Path,
) -> None:
    schema = _schema(
        tmp_path,
        {
            "$defs": {
                "Code": {"type": "integer"},
                "Order": {
                    "type": "object",
                    "x-persist-primary-key": ["id"],
                    "properties": {"id": {"type": "integer"}, "code": {"$ref": "#/$defs/Code"}},
                    "required": ["id"],
                },
                "Label": {
                    "$id": "https://example.com/label.json",
                    "type": "object",
                    "x-persist-primary-key": ["id"],
                    "$defs": {"Code": {"type": "string", "maxLength": 5}},
                    "properties": {"id": {"type": "integer"}, "code": {"$ref": "#/$defs/Code"}},
                    "required": ["id"],
                },
                "Invoice": {
                    "type": "object",
                    "x-persist-primary-key": ["id"],
                    "properties": {"id": {"type": "integer"}, "code": {"$ref": "#/$defs/Code"}},
                    "required": ["id"],
                },
            }
        },
    )
    assert isinstance(_field(schema, "Order", "code").type, ir.IntegerType)
    label_code = _field(schema, "Label", "code")
    assert isinstance(label_code.type, ir.StringType)
    assert label_code.constraints.max_length == 5
    assert isinstance(_field(schema, "Invoice", "code").type, ir.IntegerType)
