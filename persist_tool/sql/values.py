"""Values a migration writes into stored rows: type conversions and backfills.

``conversion_expression`` converts a column's stored values to its new type (a ``CAST``, or
a conversion from the table where a cast is wrong or missing); ``backfill_expression`` is
the value rows get for an added or newly required column. Both are sqlglot expressions, used
by ``ALTER`` statements and by SQLite's table rebuild alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from persist_tool import ir
from persist_tool.sql.constraints import default_expression
from persist_tool.sql.dialects import identifier
from persist_tool.sql.types import ColumnType

__all__ = [
    "backfill_expression",
    "column_ref",
    "conversion_expression",
    "data_type",
]


def data_type(text: str) -> exp.DataType:
    """Return a sqlglot data type that renders ``text`` (a column type) verbatim."""
    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=text)


def column_ref(field: ir.Field, dialect: str) -> exp.Column:
    """Return a reference to ``field``'s column, quoted for ``dialect``."""
    return exp.column(identifier(field.column, dialect, field.location))


def _cast(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    if before.text == after.text:
        return value
    return exp.Cast(this=value, to=data_type(after.text))


def _nonzero(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    # PostgreSQL has no bigint -> boolean cast; a comparison works for every integer width.
    return exp.NEQ(this=value, expression=exp.Literal.number(0))


def _date_part(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    if dialect == "sqlite":  # ISO text: the date is its first ten characters
        return exp.Substring(this=value, start=exp.Literal.number(1), length=exp.Literal.number(10))
    return _cast(value, before, after, dialect)


def _midnight(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    if dialect == "sqlite":
        return exp.DPipe(this=value, expression=exp.Literal.string(" 00:00:00"))
    return _cast(value, before, after, dialect)


_Conversion = Callable[[exp.Expr, ColumnType, ColumnType, str], exp.Expr]

_CONVERSIONS: dict[tuple[str, str], _Conversion] = {
    ("integer", "boolean"): _nonzero,
    ("datetime", "date"): _date_part,
    ("date", "datetime"): _midnight,
}
"""(old kind, new kind) -> how stored values convert; a CAST to the new type otherwise."""


def conversion_expression(
    value: exp.Expr, before: ColumnType, after: ColumnType, kinds: tuple[str, str], dialect: str
) -> exp.Expr:
    """Return ``value`` (of the old column type) converted to the new column type."""
    return _CONVERSIONS.get(kinds, _cast)(value, before, after, dialect)


_UUID_SQL = {
    "postgres": "gen_random_uuid()",
    "mysql": "UUID()",
    "sqlite": (
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||"
        " substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||"
        " substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    ),
}
_EMPTY_JSON: dict[str, ir.JsonValue] = {"list": [], "dict": {}}


def backfill_expression(
    entity: ir.Entity, field: ir.Field, value: ir.Default, ctype: ColumnType, dialect: str
) -> exp.Expr:
    """Return the SQL value stored rows get for ``field`` from a backfill or default.

    Literals and clock factories are what the column's ``DEFAULT`` would be; ``uuid4``
    gives every row its own UUID and ``list``/``dict`` an empty JSON document.
    """
    if value.kind == ir.Default.FACTORY and value.value in _EMPTY_JSON:
        value = ir.Default(ir.Default.LITERAL, _EMPTY_JSON[str(value.value)])
    if value.kind == ir.Default.FACTORY and value.value == "uuid4":
        return sqlglot.parse_one(_UUID_SQL[dialect], read=dialect)
    node = default_expression(dataclasses.replace(field, default=value), entity, ctype, dialect)
    if node is None:
        raise ir.SourceError(
            field.location or entity.location,
            f"{entity.name}.{field.name}: {dialect} has no SQL value for the backfill"
            f" {value.value!r}",
            hint="pass a literal with --default ENTITY.FIELD=VALUE",
        )
    return node
