"""The IR: JSON round trip, canonical form and fingerprints."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from hypothesis import given, settings

from persist_tool import ir
from tests.strategies import entities, schemas


@settings(max_examples=200, deadline=None)
@given(schemas)
def test_schema_json_round_trip_is_identity(schema: ir.Schema) -> None:
    data = schema.to_json()
    text = json.dumps(data)
    again = ir.Schema.from_json(json.loads(text))
    assert again == schema
    # Locations are not part of equality; the round trip must keep them all the same.
    for old, new in zip(schema.entities, again.entities, strict=True):
        assert old.location == new.location
        assert [f.location for f in old.fields] == [f.location for f in new.fields]


@settings(max_examples=100, deadline=None)
@given(entities())
def test_canonical_json_is_stable_text(entity: ir.Entity) -> None:
    first = ir.canonical_json(entity.to_json())
    second = ir.canonical_json(ir.Entity.from_json(json.loads(first)).to_json())
    assert first == second
    assert first.isascii()


@settings(max_examples=100, deadline=None)
@given(entities())
def test_fingerprint_ignores_docs_and_locations(entity: ir.Entity) -> None:
    moved = dataclasses.replace(
        entity,
        doc="another doc",
        location=ir.Location("elsewhere.sql", 99, 9),
        fields=tuple(
            dataclasses.replace(f, doc="changed", location=ir.Location("x", 1, 1))
            for f in entity.fields
        ),
    )
    assert moved.fingerprint() == entity.fingerprint()


def _reference_fingerprint(entity: ir.Entity) -> str:
    """The fingerprint's definition, spelled out: canonical JSON of ``to_json`` without the
    docs and locations of the entity, its fields, commands and parameters."""
    data = entity.to_json()
    del data["doc"], data["location"]
    for f in data["fields"]:
        del f["doc"], f["location"]
    for c in data["commands"]:
        del c["doc"], c["location"]
        for p in c["params"]:
            del p["doc"], p["location"]
    return hashlib.sha256(ir.canonical_json(data).encode("ascii")).hexdigest()


@settings(max_examples=200, deadline=None)
@given(entities())
def test_fingerprint_is_the_canonical_json_without_docs_and_locations(entity: ir.Entity) -> None:
    assert entity.fingerprint() == _reference_fingerprint(entity)


def _with_json_field(schema: dict[str, object]) -> ir.Entity:
    return ir.Entity(
        "Place",
        "places",
        fields=(
            ir.Field("id", "id", ir.IntegerType()),
            ir.Field("address", "address", ir.JsonType(schema=schema), extra={"doc": "x"}),
        ),
        primary_key=("id",),
    )


def test_fingerprint_sees_doc_and_location_keys_inside_source_values() -> None:
    """A JSON sub-schema's ``location`` property is data: changing it changes the fingerprint
    (only the IR's own ``doc`` and ``location`` are left out)."""
    as_text = {"type": "object", "properties": {"location": {"type": "string"}}}
    as_number = {"type": "object", "properties": {"location": {"type": "integer"}}}
    assert _with_json_field(as_text).fingerprint() != _with_json_field(as_number).fingerprint()
    with_doc = {"type": "object", "properties": {"doc": {"type": "string"}}}
    assert (
        _with_json_field(with_doc).fingerprint()
        != _with_json_field({"type": "object"}).fingerprint()
    )
    assert _with_json_field(as_text).fingerprint() == _reference_fingerprint(
        _with_json_field(as_text)
    )


def test_fingerprint_changes_with_a_field_type() -> None:
    base = ir.Entity("Todo", "todos", 1, (ir.Field("title", "title", ir.StringType()),))
    changed = dataclasses.replace(base, fields=(ir.Field("title", "title", ir.IntegerType()),))
    assert base.fingerprint() != changed.fingerprint()
    assert len(base.fingerprint()) == 64


def test_source_error_renders_path_line_column_and_hint() -> None:
    error = ir.SourceError(ir.Location("a.sql", 3, 7), "unknown type BLARG", "use TEXT")
    assert error.render() == "a.sql:3:7: error: unknown type BLARG\n  hint: use TEXT"
