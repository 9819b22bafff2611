"""Small builders for IR values in diff tests."""

from __future__ import annotations

from typing import Any

from persist_tool import ir

INT = ir.IntegerType()
TEXT = ir.StringType()


def f(name: str, type_: ir.FieldType = TEXT, **kwargs: Any) -> ir.Field:
    """Return a field whose column is its name unless given."""
    kwargs.setdefault("column", name)
    return ir.Field(name=name, type=type_, **kwargs)


def e(name: str = "Note", *fields: ir.Field, **kwargs: Any) -> ir.Entity:
    """Return an entity keyed by ``id`` (added first unless given)."""
    if not any(x.name == "id" for x in fields):
        fields = (f("id", INT, immutable=True), *fields)
    kwargs.setdefault("table", name.lower() + "s")
    kwargs.setdefault("primary_key", ("id",))
    return ir.Entity(name=name, fields=fields, **kwargs)


def s(*entities: ir.Entity) -> ir.Schema:
    """Return a schema of ``entities``."""
    return ir.Schema(entities, "test")
