"""The column type of every IR field type in every dialect: one table, no branching.

Decisions (the README's "SQL types" section repeats them for users):

* Arrays, nested objects and JSON values are JSON documents in every dialect: ``JSONB`` in
  PostgreSQL, ``JSON`` in MySQL, ``TEXT`` checked with ``json_valid`` in SQLite. One storage
  form for all item types (decimals, UUIDs, nested objects) keeps the runtime's encoding the
  same everywhere; PostgreSQL arrays could not hold nested objects anyway.
* Enumerations are plain columns (``VARCHAR(n)`` sized to the longest value, or an integer)
  with a ``CHECK (col IN (...))``. Native ``ENUM``/``CREATE TYPE`` would make adding a value
  a type change in MySQL and a separate statement in PostgreSQL; a check is the same in all
  three dialects and is enforced by MySQL 8.0.16+ and MariaDB 10.2+.
* SQLite uses its storage classes (``INTEGER``, ``REAL``, ``NUMERIC``, ``TEXT``, ``BLOB``);
  what the type cannot say (length, boolean-ness, JSON validity) becomes a ``CHECK``.
* MySQL: strings up to 16,383 characters are ``VARCHAR(n)``; longer or unbounded strings are
  ``TEXT``/``MEDIUMTEXT``/``LONGTEXT``. MySQL cannot index unbounded text, so an unbounded
  string that is part of a key, unique set, index or foreign key becomes ``VARCHAR(255)``
  (reported by ``type_notes``; strict mode rejects longer values, it never truncates).
  When the ``VARCHAR`` columns of a table exceed MySQL's 65,535-byte row limit, the longest
  non-key ones become ``TEXT`` types with a ``CHAR_LENGTH`` check instead. Tables use
  ``utf8mb4`` with the binary collation, so comparisons and unique keys are case- and
  accent-sensitive as in PostgreSQL and SQLite. Timestamps are ``DATETIME(6)`` (the runtime
  stores aware values in UTC); an unbounded decimal is ``DECIMAL(65, 30)``, MySQL's widest.
* PostgreSQL datetimes with a time zone are ``TIMESTAMPTZ``; UUIDs ``UUID``; bytes ``BYTEA``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from persist_tool import ir
from persist_tool.sql.dialects import check_dialect
from persist_tool.sql.model import find_entity, foreign_keys, keyed_fields, resolve_fields

__all__ = ["ColumnType", "column_type", "plan_types", "sql_type_map", "type_notes"]


@dataclass(frozen=True, slots=True)
class ColumnType:
    """The SQL type chosen for one field in one dialect, with what the builders need to know."""

    text: str
    """The type as written in DDL (``VARCHAR(160)``)."""
    bounded: bool = False
    """The type itself rejects strings longer than the field's ``max_length``."""
    row_bytes: int = 8
    """MySQL: what the column adds to the 65,535-byte row size limit."""
    key_bytes: int | None = 8
    """MySQL: bytes the column takes in an index key; ``None`` when it cannot be indexed."""
    large: bool = False
    """MySQL: a TEXT/BLOB/JSON type, which takes only a parenthesised expression default."""
    note: str | None = None
    """Why the type is narrower than the field (shown to users by ``type_notes``)."""


@dataclass(frozen=True, slots=True)
class _Need:
    """What a type rule needs to know beyond the field type."""

    max_length: int | None
    keyed: bool = False
    spill: bool = False
    """MySQL: store a bounded string as TEXT to keep the row under the size limit."""


_Rule = Callable[[ir.FieldType, _Need], ColumnType]

_MYSQL_VARCHAR_MAX = 16_383  # 65,535 bytes / 4 bytes per utf8mb4 character
_MYSQL_KEYED_STRING = 255  # the conventional indexable width (1,020 bytes)
_MYSQL_KEY_LIMIT = 3_072  # InnoDB's index key limit in bytes
_MYSQL_ROW_LIMIT = 65_535
_POSTGRES_VARCHAR_MAX = 10_485_760


def _const(text: str, *, row_bytes: int = 8, key_bytes: int | None = 8) -> _Rule:
    column = ColumnType(text, row_bytes=row_bytes, key_bytes=key_bytes)
    return lambda _type, _need: column


def _large(text: str) -> _Rule:
    """A MySQL TEXT/BLOB/JSON type: stored off-row, not indexable."""
    column = ColumnType(text, row_bytes=12, key_bytes=None, large=True)
    return lambda _type, _need: column


# --------------------------------------------------------------------------- sized types


def _by_bits(names: tuple[tuple[int, str], ...]) -> _Rule:
    """Pick the narrowest type holding ``bits`` from ``names`` ((max bits, type) ascending)."""

    def rule(field_type: ir.FieldType, _need: _Need) -> ColumnType:
        bits = getattr(field_type, "bits", 64)
        text = next((name for limit, name in names if bits <= limit), names[-1][1])
        return ColumnType(text, row_bytes=max(bits // 8, 1), key_bytes=max(bits // 8, 1))

    return rule


_INTEGERS: dict[str, tuple[tuple[int, str], ...]] = {
    "postgres": ((16, "SMALLINT"), (32, "INTEGER"), (64, "BIGINT")),
    "mysql": ((16, "SMALLINT"), (32, "INT"), (64, "BIGINT")),
    "sqlite": ((64, "INTEGER"),),
}
_FLOATS: dict[str, tuple[tuple[int, str], ...]] = {
    "postgres": ((32, "REAL"), (64, "DOUBLE PRECISION")),
    "mysql": ((32, "FLOAT"), (64, "DOUBLE")),
    "sqlite": ((64, "REAL"),),
}


def _decimal(name: str, unbounded: tuple[int, int] | None, limits: tuple[int, int]) -> _Rule:
    """``NAME(p, s)``; ``unbounded`` replaces a missing precision where the dialect needs one."""

    def rule(field_type: ir.FieldType, _need: _Need) -> ColumnType:
        assert isinstance(field_type, ir.DecimalType)
        precision, scale = field_type.precision, field_type.scale
        if precision is None and unbounded is not None:
            precision, scale = unbounded
        if precision is None:
            return ColumnType(name, key_bytes=None if unbounded is None else 32)
        if precision > limits[0] or (scale or 0) > limits[1] or (scale or 0) > precision:
            raise ValueError(
                f"{name}({precision}, {scale}) is out of range (precision <= {limits[0]}, "
                f"scale <= {limits[1]} and <= precision)"
            )
        text = f"{name}({precision})" if scale is None else f"{name}({precision}, {scale})"
        size = precision // 2 + 2
        return ColumnType(text, row_bytes=size, key_bytes=size)

    return rule


def _postgres_string(field_type: ir.FieldType, need: _Need) -> ColumnType:
    n = need.max_length
    if n is None or n > _POSTGRES_VARCHAR_MAX:
        return ColumnType("TEXT")
    return ColumnType(f"VARCHAR({n})", bounded=True)


def _mysql_text_type(n: int | None) -> ColumnType:
    text = "LONGTEXT"
    if n is not None and n * 4 <= 65_535:
        text = "TEXT"
    elif n is not None and n * 4 <= 16_777_215:
        text = "MEDIUMTEXT"
    return ColumnType(text, row_bytes=12, key_bytes=None, large=True)


def _mysql_string(field_type: ir.FieldType, need: _Need) -> ColumnType:
    n = need.max_length
    if n is None and need.keyed:
        return ColumnType(
            f"VARCHAR({_MYSQL_KEYED_STRING})",
            bounded=True,
            row_bytes=_MYSQL_KEYED_STRING * 4 + 2,
            key_bytes=_MYSQL_KEYED_STRING * 4,
            note=(
                f"unbounded string stored as VARCHAR({_MYSQL_KEYED_STRING}) because MySQL "
                "cannot index unbounded text"
            ),
        )
    if n is None or n > _MYSQL_VARCHAR_MAX or (need.spill and not need.keyed):
        return _mysql_text_type(n)
    return ColumnType(f"VARCHAR({n})", bounded=True, row_bytes=n * 4 + 2, key_bytes=n * 4)


def _mysql_bytes(field_type: ir.FieldType, need: _Need) -> ColumnType:
    n = need.max_length
    if need.keyed:
        width = n if n is not None and n <= _MYSQL_KEY_LIMIT else _MYSQL_KEYED_STRING
        return ColumnType(
            f"VARBINARY({width})",
            bounded=True,
            row_bytes=width + 2,
            key_bytes=width,
            note=None if n == width else f"bytes stored as VARBINARY({width}) to be indexable",
        )
    text = "LONGBLOB"
    if n is not None and n <= 65_535:
        text = "BLOB"
    elif n is not None and n <= 16_777_215:
        text = "MEDIUMBLOB"
    return ColumnType(text, row_bytes=12, key_bytes=None, large=True)


def _postgres_datetime(field_type: ir.FieldType, _need: _Need) -> ColumnType:
    assert isinstance(field_type, ir.DateTimeType)
    return ColumnType("TIMESTAMPTZ" if field_type.tz else "TIMESTAMP")


def _enum(dialect: str) -> _Rule:
    """Store an enumeration as its values' type; the IN check is added with the constraints."""

    def rule(field_type: ir.FieldType, need: _Need) -> ColumnType:
        assert isinstance(field_type, ir.EnumType)
        values = field_type.values
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            widest = max(abs(int(v)) for v in values)
            bits = 16 if widest < 2**15 else 32 if widest < 2**31 else 64
            return _RULES[("integer", dialect)](ir.IntegerType(bits), need)
        if any(not isinstance(v, str) for v in values):
            raise ValueError(f"enum {field_type.name} mixes strings and numbers: {values!r}")
        longest = max((len(str(v)) for v in values), default=1)
        length = max(need.max_length or 0, longest, 1)
        return _RULES[("string", dialect)](ir.StringType(), replace(need, max_length=length))

    return rule


# (IR type kind, dialect) -> rule. Every kind has an entry for every dialect.
_RULES: dict[tuple[str, str], _Rule] = {
    ("string", "postgres"): _postgres_string,
    ("string", "mysql"): _mysql_string,
    ("string", "sqlite"): _const("TEXT"),
    ("integer", "postgres"): _by_bits(_INTEGERS["postgres"]),
    ("integer", "mysql"): _by_bits(_INTEGERS["mysql"]),
    ("integer", "sqlite"): _by_bits(_INTEGERS["sqlite"]),
    ("float", "postgres"): _by_bits(_FLOATS["postgres"]),
    ("float", "mysql"): _by_bits(_FLOATS["mysql"]),
    ("float", "sqlite"): _by_bits(_FLOATS["sqlite"]),
    ("decimal", "postgres"): _decimal("NUMERIC", None, (1000, 1000)),
    ("decimal", "mysql"): _decimal("DECIMAL", (65, 30), (65, 30)),
    ("decimal", "sqlite"): _const("NUMERIC"),
    ("boolean", "postgres"): _const("BOOLEAN", row_bytes=1, key_bytes=1),
    ("boolean", "mysql"): _const("BOOLEAN", row_bytes=1, key_bytes=1),
    ("boolean", "sqlite"): _const("INTEGER"),
    ("date", "postgres"): _const("DATE"),
    ("date", "mysql"): _const("DATE", row_bytes=3, key_bytes=3),
    ("date", "sqlite"): _const("TEXT"),
    ("datetime", "postgres"): _postgres_datetime,
    ("datetime", "mysql"): _const("DATETIME(6)"),
    ("datetime", "sqlite"): _const("TEXT"),
    ("time", "postgres"): _const("TIME"),
    ("time", "mysql"): _const("TIME(6)", row_bytes=6, key_bytes=6),
    ("time", "sqlite"): _const("TEXT"),
    ("uuid", "postgres"): _const("UUID"),
    ("uuid", "mysql"): _const("CHAR(36)", row_bytes=144, key_bytes=144),
    ("uuid", "sqlite"): _const("TEXT"),
    ("bytes", "postgres"): _const("BYTEA"),
    ("bytes", "mysql"): _mysql_bytes,
    ("bytes", "sqlite"): _const("BLOB"),
    ("json", "postgres"): _const("JSONB"),
    ("json", "mysql"): _large("JSON"),
    ("json", "sqlite"): _const("TEXT"),
    ("array", "postgres"): _const("JSONB"),
    ("array", "mysql"): _large("JSON"),
    ("array", "sqlite"): _const("TEXT"),
    ("object", "postgres"): _const("JSONB"),
    ("object", "mysql"): _large("JSON"),
    ("object", "sqlite"): _const("TEXT"),
    ("enum", "postgres"): _enum("postgres"),
    ("enum", "mysql"): _enum("mysql"),
    ("enum", "sqlite"): _enum("sqlite"),
}


def _rule(field: ir.Field, dialect: str, need: _Need, entity: ir.Entity | None) -> ColumnType:
    rule = _RULES.get((field.type.kind, dialect))
    if rule is None:
        raise ir.SourceError(
            field.location or (entity.location if entity else None),
            f"field {field.name} has type kind {field.type.kind!r}, which has no SQL type",
        )
    try:
        return rule(field.type, need)
    except ValueError as error:
        owner = f"{entity.name}." if entity is not None else ""
        raise ir.SourceError(
            field.location or (entity.location if entity else None),
            f"{owner}{field.name} cannot be stored in {dialect}: {error}",
            hint="narrow the type in the source or leave this dialect out with --dialects",
        ) from None


def column_type(field: ir.Field, dialect: str, entity: ir.Entity | None = None) -> str:
    """Return the SQL type text of ``field`` in ``dialect`` (``VARCHAR(160)``, ``JSONB``).

    Give ``entity`` for the type the DDL uses: in MySQL a key or indexed column and a table
    near the row size limit change the choice.
    """
    dialect = check_dialect(dialect)
    if entity is not None:
        return plan_types(entity, dialect)[field.name].text
    return _rule(field, dialect, _Need(field.constraints.max_length), None).text


_Planned = tuple[ir.Entity, ir.Schema | None, dict[str, ColumnType]]
_PLANNED: dict[tuple[int, str, int], _Planned] = {}
_PLANNED_LIMIT = 64  # a few entities' worth: rendering asks about one entity at a time


def plan_types(
    entity: ir.Entity, dialect: str, *, schema: ir.Schema | None = None
) -> dict[str, ColumnType]:
    """Return the column type of every field of ``entity`` in ``dialect``, by field name.

    With ``schema``, MySQL integer foreign key columns take the referenced column's width
    (InnoDB refuses a SMALLINT referencing a BIGINT; the wider type holds every value).
    """
    dialect = check_dialect(dialect)
    # Rendering an entity asks for its types several times (each dialect's DDL, then
    # FieldSpec.sql_types). The IR is immutable, so the plan of the same objects stands;
    # the entry holds them, which keeps their ids from being reused meanwhile.
    key = (id(entity), dialect, id(schema))
    planned = _PLANNED.get(key)
    if planned is not None and planned[0] is entity and planned[1] is schema:
        return dict(planned[2])
    types = _plan_types(entity, dialect, schema)
    if len(_PLANNED) >= _PLANNED_LIMIT:
        _PLANNED.clear()
    _PLANNED[key] = (entity, schema, types)
    return dict(types)


def _plan_types(entity: ir.Entity, dialect: str, schema: ir.Schema | None) -> dict[str, ColumnType]:
    keyed = keyed_fields(entity)
    needs = {f.name: _Need(f.constraints.max_length, keyed=f.name in keyed) for f in entity.fields}
    fields = {
        f.name: _widened(entity, f, schema) if dialect == "mysql" else f for f in entity.fields
    }
    types = {name: _rule(f, dialect, needs[name], entity) for name, f in fields.items()}
    if dialect == "mysql":
        _fit_mysql_row(entity, needs, types)
    return types


def _widened(entity: ir.Entity, field: ir.Field, schema: ir.Schema | None) -> ir.Field:
    """Return ``field`` with the integer width of the column its foreign key references."""
    if not isinstance(field.type, ir.IntegerType):
        return field
    for fk in foreign_keys(entity):
        target = find_entity(schema, fk.ref_table)
        if target is None or field.name not in fk.columns:
            continue
        names = fk.ref_columns or target.primary_key
        if len(names) != len(fk.columns):
            continue
        referenced = resolve_fields(target, names, "referenced key")[fk.columns.index(field.name)]
        if isinstance(referenced.type, ir.IntegerType) and referenced.type.bits > field.type.bits:
            return replace(field, type=referenced.type)
    return field


def _fit_mysql_row(
    entity: ir.Entity, needs: dict[str, _Need], types: dict[str, ColumnType]
) -> None:
    """Move the longest non-key VARCHARs to TEXT types until the row fits MySQL's limit."""
    fields = {f.name: f for f in entity.fields}
    while sum(t.row_bytes for t in types.values()) > _MYSQL_ROW_LIMIT:
        candidates = [
            name
            for name, t in types.items()
            if t.text.startswith("VARCHAR") and not needs[name].keyed
        ]
        if not candidates:
            raise ir.SourceError(
                entity.location,
                f"the key columns of entity {entity.name} exceed MySQL's row size limit",
                hint="lower the max length of its key strings",
            )
        # Widest first; among equals the last in field order, so early columns stay VARCHAR.
        position = {name: i for i, name in enumerate(fields)}
        widest = max(candidates, key=lambda name: (types[name].row_bytes, position[name]))
        needs[widest] = replace(needs[widest], spill=True)
        types[widest] = _rule(fields[widest], "mysql", needs[widest], entity)


def sql_type_map(
    entity: ir.Entity, dialect: str, *, schema: ir.Schema | None = None
) -> dict[str, str]:
    """Return ``{field name: SQL type text}`` for ``FieldSpec.sql_types``.

    These are the types ``create_table`` writes (give it and this the same ``schema``).
    """
    return {name: t.text for name, t in plan_types(entity, dialect, schema=schema).items()}


def type_notes(entity: ir.Entity, dialect: str) -> list[str]:
    """Return a line for every field whose type in ``dialect`` is narrower than the IR says."""
    return [
        f"{entity.name}.{name}: {t.note}"
        for name, t in plan_types(entity, dialect).items()
        if t.note is not None
    ]
