"""CHECK conditions and DEFAULT values of a column, as sqlglot expressions.

Checks state in the database what stored data must obey: enumeration values, numeric
ranges, lengths the column type does not enforce, SQLite's boolean and JSON columns. A
pattern or ``multiple_of`` on a non-integer is left to payload validation: the three
dialects' regular expressions differ from JSON Schema's, and float remainders are inexact.

Defaults: literals become SQL literals of the column's type; clock factories (``now``,
``today``) become ``CURRENT_TIMESTAMP``/``CURRENT_DATE``; other factories (``uuid4``,
``list``, ``dict``) are applied by the application and have no SQL default; ``Default("sql")``
expressions are transpiled from the dialect the source was written in.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from persist_tool import ir
from persist_tool.sql.dialects import identifier
from persist_tool.sql.types import ColumnType

__all__ = ["default_expression", "field_checks", "sql_default_dialect"]

_Check = Callable[[exp.Column, ir.Field, ColumnType, str], list[exp.Expr]]


def _literal(value: Any) -> exp.Expr:
    """Return a JSON scalar as an SQL literal."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else value)
    return exp.Literal.string(str(value))


def _numeric(value: Any) -> exp.Expr:
    return exp.Literal.number(value if isinstance(value, int) else repr(value))


# --------------------------------------------------------------------------- checks


def _enum_check(col: exp.Column, field: ir.Field, ctype: ColumnType, d: str) -> list[exp.Expr]:
    values: tuple[Any, ...] | None = None
    if isinstance(field.type, ir.EnumType):
        values = field.type.values
    elif field.constraints.enum is not None and _is_scalar(field):
        values = field.constraints.enum
    if not values:
        return []
    return [exp.In(this=col.copy(), expressions=[_literal(v) for v in values])]


def _const_check(col: exp.Column, field: ir.Field, ctype: ColumnType, d: str) -> list[exp.Expr]:
    if not field.constraints.has_const or not _is_scalar(field):
        return []
    return [exp.EQ(this=col.copy(), expression=_literal(field.constraints.const))]


_NUMERIC_KINDS = frozenset({"integer", "float", "decimal"})
_BOUNDS: tuple[tuple[str, type[exp.Binary]], ...] = (
    ("minimum", exp.GTE),
    ("exclusive_minimum", exp.GT),
    ("maximum", exp.LTE),
    ("exclusive_maximum", exp.LT),
)


def _range_check(col: exp.Column, field: ir.Field, ctype: ColumnType, d: str) -> list[exp.Expr]:
    if field.type.kind not in _NUMERIC_KINDS:
        return []
    out: list[exp.Expr] = []
    for attribute, operator in _BOUNDS:
        bound = getattr(field.constraints, attribute)
        if bound is not None:
            out.append(operator(this=col.copy(), expression=_numeric(bound)))
    step = field.constraints.multiple_of
    if field.type.kind == "integer" and isinstance(step, int) and step > 1:
        out.append(
            exp.EQ(
                this=exp.Mod(this=col.copy(), expression=exp.Literal.number(step)),
                expression=exp.Literal.number(0),
            )
        )
    return out


def _length_check(col: exp.Column, field: ir.Field, ctype: ColumnType, d: str) -> list[exp.Expr]:
    if field.type.kind not in ("string", "enum") or isinstance(field.type, ir.EnumType):
        return []
    out: list[exp.Expr] = []
    low, high = field.constraints.min_length, field.constraints.max_length
    if low is not None and low > 0:
        out.append(exp.GTE(this=exp.Length(this=col.copy()), expression=exp.Literal.number(low)))
    if high is not None and not ctype.bounded:
        out.append(exp.LTE(this=exp.Length(this=col.copy()), expression=exp.Literal.number(high)))
    return out


def _sqlite_storage_check(
    col: exp.Column, field: ir.Field, ctype: ColumnType, d: str
) -> list[exp.Expr]:
    """SQLite has no boolean or JSON type: check the values instead."""
    if d != "sqlite":
        return []
    if field.type.kind == "boolean":
        return [exp.In(this=col.copy(), expressions=[exp.Literal.number(0), exp.Literal.number(1)])]
    if field.type.kind in ("json", "array", "object"):
        valid: exp.Expr = exp.Anonymous(this="json_valid", expressions=[col.copy()])
        if field.nullable:  # json_valid(NULL) is 0, not NULL
            valid = exp.or_(exp.Is(this=col.copy(), expression=exp.Null()), valid)
        return [valid]
    return []


_CHECKS: tuple[_Check, ...] = (
    _sqlite_storage_check,
    _enum_check,
    _const_check,
    _range_check,
    _length_check,
)


def _is_scalar(field: ir.Field) -> bool:
    return field.type.kind in ("string", "integer", "float", "decimal", "boolean", "uuid")


def _reject_nul(field: ir.Field) -> None:
    """Raise ``SourceError`` for text values SQL cannot hold (PostgreSQL text has no NUL)."""
    values: list[Any] = []
    if isinstance(field.type, ir.EnumType):
        values.extend(field.type.values)
    values.extend(field.constraints.enum or ())
    values.append(field.constraints.const)
    if field.default is not None and field.default.kind == ir.Default.LITERAL:
        values.append(field.default.value)
    if any(isinstance(v, str) and "\0" in v for v in values):
        raise ir.SourceError(
            field.location,
            f"field {field.name} has a value containing a NUL character",
            hint="SQL text cannot hold NUL; remove it from the enum values or default",
        )


def field_checks(field: ir.Field, ctype: ColumnType, dialect: str) -> exp.Expr | None:
    """Return the CHECK condition of ``field`` (conditions joined by AND), or ``None``."""
    _reject_nul(field)
    col = exp.column(identifier(field.column, dialect, field.location))
    conditions = [c for check in _CHECKS for c in check(col, field, ctype, dialect)]
    if not conditions:
        return None
    return exp.and_(*conditions) if len(conditions) > 1 else conditions[0]


# --------------------------------------------------------------------------- defaults


def _bytes_literal(value: Any, dialect: str) -> exp.Expr:
    raw = base64.b64decode(str(value)) if isinstance(value, str) else bytes(value)
    if dialect == "postgres":
        return exp.Cast(
            this=exp.Literal.string("\\x" + raw.hex()),
            to=exp.DataType.build("BYTEA", dialect="postgres"),
        )
    return exp.HexString(this=raw.hex())


def _datetime_literal(value: Any, dialect: str) -> exp.Expr:
    if dialect != "mysql":
        return exp.Literal.string(str(value))
    # MySQL DATETIME takes no offset: aware values are stored in UTC.
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return exp.Literal.string(moment.isoformat(sep=" "))


def _json_literal(value: Any, dialect: str) -> exp.Expr:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return exp.Literal.string(text)


def _boolean_literal(value: Any, dialect: str) -> exp.Expr:
    if dialect == "sqlite":  # stored as 0/1, see the storage check
        return exp.Literal.number(int(bool(value)))
    return exp.Boolean(this=bool(value))


def _plain_literal(value: Any, dialect: str) -> exp.Expr:
    return _literal(value)


_LITERALS: dict[str, Callable[[Any, str], exp.Expr]] = {
    "bytes": _bytes_literal,
    "datetime": _datetime_literal,
    "json": _json_literal,
    "array": _json_literal,
    "object": _json_literal,
    "boolean": _boolean_literal,
    "integer": lambda value, _d: _numeric(value),
    "float": lambda value, _d: _numeric(value),
    "decimal": lambda value, _d: exp.Literal.number(str(value)),
}


def _clock(name: str) -> Callable[[str, ColumnType], exp.Expr]:
    def build(dialect: str, ctype: ColumnType) -> exp.Expr:
        node: exp.Expr = {"timestamp": exp.CurrentTimestamp, "date": exp.CurrentDate}[name]()
        if dialect == "mysql" and name == "timestamp" and ctype.text.endswith("(6)"):
            # MySQL requires the default's precision to match DATETIME(6).
            node.set("this", exp.Literal.number(6))
        return node

    return build


# (factory, type kind) -> SQL default; factories not listed have no database equivalent
# (a time-of-day clock has none that all three dialects spell the same way).
_FACTORIES: dict[tuple[str, str], Callable[[str, ColumnType], exp.Expr]] = {
    ("now", "datetime"): _clock("timestamp"),
    ("now", "date"): _clock("date"),
    ("today", "date"): _clock("date"),
}

# Defaults every dialect takes without parentheses in a column definition.
_BARE_DEFAULTS: tuple[type[exp.Expr], ...] = (
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.CurrentTimestamp,
)


def sql_default_dialect(field: ir.Field, entity: ir.Entity) -> str | None:
    """Return the sqlglot dialect a ``Default("sql")`` of ``field`` was written in, if known.

    Looked up in ``Default.value`` when it is ``{"sql", "dialect"}``, then in the
    ``dialect`` the DDL reader records in ``field.extra`` and ``entity.extra``.
    """
    default = field.default
    if default is not None and isinstance(default.value, Mapping) and default.value.get("dialect"):
        return str(default.value["dialect"])
    for extra in (field.extra, entity.extra):
        for key in ("sql_dialect", "dialect"):
            if isinstance(extra.get(key), str) and extra[key]:
                return str(extra[key])
    return None


def _sql_default(field: ir.Field, entity: ir.Entity, dialect: str) -> exp.Expr:
    assert field.default is not None
    value = field.default.value
    text = str(value.get("sql", "")) if isinstance(value, Mapping) else str(value)
    source = sql_default_dialect(field, entity)
    try:
        parsed = sqlglot.parse_one(text, read=source)
    except SqlglotError as error:
        raise ir.SourceError(
            field.location or entity.location,
            f"cannot read the SQL default of {entity.name}.{field.name}: {text!r} ({error})",
            hint="give the default as a literal, or as SQL the source dialect accepts",
        ) from None
    if isinstance(parsed, exp.Paren):
        parsed = parsed.this
    return _portable_clock(parsed)


_NOW_CASTS: dict[str, Callable[[], exp.Expr]] = {
    "DATE": exp.CurrentDate,
    "TIMESTAMP": exp.CurrentTimestamp,
    "TIMESTAMPTZ": exp.CurrentTimestamp,
    "TIME": exp.CurrentTime,
}
"""PostgreSQL's ``'now'::<type>`` spelled portably, by the cast's target type."""


def _portable_clock(node: exp.Expr) -> exp.Expr:
    """Turn PostgreSQL's ``('now'::text)::date`` idiom into ``CURRENT_DATE`` and kin.

    Other dialects would read the cast literally (MySQL refuses ``CAST('now' AS DATE)`` as a
    default), while the portable function means what the source meant.
    """
    inner = node
    while isinstance(inner, (exp.Cast, exp.Paren)):
        inner = inner.this
    if not (isinstance(node, exp.Cast) and isinstance(inner, exp.Literal)):
        return node
    if not inner.is_string or inner.this.lower() != "now":
        return node
    target = node.to.this.name if isinstance(node.to.this, exp.DataType.Type) else ""
    build = _NOW_CASTS.get(target)
    return build() if build is not None else node


def default_expression(
    field: ir.Field, entity: ir.Entity, ctype: ColumnType, dialect: str
) -> exp.Expr | None:
    """Return the DEFAULT expression of ``field`` in ``dialect``, or ``None`` for none.

    Expressions other than literals and ``CURRENT_TIMESTAMP`` are parenthesised (SQLite and
    MySQL require it), and so is every MySQL default of a TEXT, BLOB or JSON column.
    """
    default = field.default
    if default is None:
        return None
    _reject_nul(field)
    node: exp.Expr | None
    if default.kind == ir.Default.LITERAL:
        if default.value is None:
            return None
        build = _LITERALS.get(field.type.kind, _plain_literal)
        node = build(default.value, dialect)
    elif default.kind == ir.Default.FACTORY:
        factory = _FACTORIES.get((str(default.value), field.type.kind))
        node = factory(dialect, ctype) if factory is not None else None
    else:
        node = _sql_default(field, entity, dialect)
        if isinstance(node, exp.CurrentTimestamp) and field.type.kind in ("datetime", "time"):
            node = _clock("timestamp")(dialect, ctype)
    if node is None:
        return None
    negative_number = isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)
    bare = isinstance(node, _BARE_DEFAULTS) or negative_number
    if (
        not bare
        or (dialect == "mysql" and ctype.large)
        or (dialect != "postgres" and isinstance(node, exp.CurrentDate))
    ):
        node = exp.Paren(this=node)
    return node
