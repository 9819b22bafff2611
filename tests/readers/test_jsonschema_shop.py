"""The shop domain written as JSON Schema reads to the same IR as the DDL fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.readers.base import ReadOptions
from persist_tool.readers.ddl import read as read_ddl
from persist_tool.readers.jsonschema import read as read_json_schema

SHOP = Path(__file__).resolve().parents[2] / "fixtures" / "shop"


def _read(reader: Any, name: str) -> ir.Schema:
    path = SHOP / name
    result = reader(
        path.read_text(encoding="utf-8"), ReadOptions(path=path, display=f"shop/{name}")
    )
    schema: ir.Schema = result.schema
    return schema


def _normalised(entity: ir.Entity) -> dict[str, Any]:
    """The entity's JSON form without what is not stored: locations, docs and ``extra``."""
    data = entity.to_json()
    for key in ("location", "doc", "extra"):
        data.pop(key)
    for field in data["fields"]:
        for key in ("location", "doc", "extra"):
            field.pop(key)
    return data


@pytest.fixture(scope="module")
def both() -> tuple[ir.Schema, ir.Schema]:
    return _read(read_ddl, "shop.sql"), _read(read_json_schema, "shop.schema.json")


def test_both_sources_declare_the_same_entities_in_the_same_order(
    both: tuple[ir.Schema, ir.Schema],
) -> None:
    ddl, json_schema = both
    assert [e.name for e in json_schema.entities] == [e.name for e in ddl.entities]
    assert [e.table for e in json_schema.entities] == [e.table for e in ddl.entities]


@pytest.mark.parametrize("entity", ["Customer", "Product", "Order", "OrderLine", "Account"])
def test_entity_matches_the_ddl_field_for_field(
    both: tuple[ir.Schema, ir.Schema], entity: str
) -> None:
    ddl, json_schema = both
    expected = _normalised(ddl.get_entity(entity))
    actual = _normalised(json_schema.get_entity(entity))
    for want, got in zip(expected["fields"], actual["fields"], strict=True):
        assert got == want, f"{entity}.{want['name']}"
    assert actual == expected


def test_docs_come_from_descriptions(both: tuple[ir.Schema, ir.Schema]) -> None:
    _, json_schema = both
    customer = json_schema.get_entity("Customer")
    assert customer.doc == "A person who buys from the shop."
    assert customer.get_field("email").doc == "Login and contact address."
    assert json_schema.get_entity("Product").get_field("price").doc == (
        "Unit price in the shop currency."
    )


def test_fields_point_at_their_property_in_the_schema(both: tuple[ir.Schema, ir.Schema]) -> None:
    _, json_schema = both
    location = json_schema.get_entity("Order").get_field("status").location
    assert location is not None
    assert location.pointer == "/$defs/Order/properties/status"
    lines = (SHOP / "shop.schema.json").read_text(encoding="utf-8").splitlines()
    assert lines[location.line - 1][location.column - 1 :].startswith('"status"')


def test_same_fingerprint_apart_from_source_metadata(both: tuple[ir.Schema, ir.Schema]) -> None:
    ddl, json_schema = both
    for a, b in zip(ddl.entities, json_schema.entities, strict=True):
        strip = {"extra": {}}
        a2 = ir.map_fields(ir.Entity(**{**_fields(a), **strip}), lambda f: _no_extra(f))
        b2 = ir.map_fields(ir.Entity(**{**_fields(b), **strip}), lambda f: _no_extra(f))
        assert a2.fingerprint() == b2.fingerprint(), a.name


def _fields(entity: ir.Entity) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(entity, f.name) for f in dataclasses.fields(entity)}


def _no_extra(f: ir.Field) -> ir.Field:
    import dataclasses

    return dataclasses.replace(f, extra={})
