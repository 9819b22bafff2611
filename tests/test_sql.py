"""IR -> DDL: type table, quoting, keys, checks, defaults, comments, ordering, golden files."""

from __future__ import annotations

import dataclasses
import importlib
import os
import sqlite3
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from persist_tool import ir, sql

GOLDEN = Path(__file__).parent / "golden" / "sql"
UPDATE_GOLDEN = os.environ.get("PERSIST_UPDATE_GOLDEN") == "1"


# --------------------------------------------------------------------------- IR builders


def field(
    name: str,
    type_: ir.FieldType | None = None,
    *,
    column: str | None = None,
    **kwargs: Any,
) -> ir.Field:
    return ir.Field(name=name, column=column or name, type=type_ or ir.StringType(), **kwargs)


def entity(
    *fields: ir.Field,
    table: str = "things",
    primary_key: Sequence[str] = (),
    **kwargs: Any,
) -> ir.Entity:
    return ir.Entity(
        name="Thing",
        table=table,
        fields=fields,
        primary_key=tuple(primary_key),
        location=ir.Location("things.sql", 1, 1),
        **kwargs,
    )


def keyed(*fields: ir.Field, **kwargs: Any) -> ir.Entity:
    """An entity with an integer key ``id`` followed by ``fields``."""
    return entity(field("id", ir.IntegerType(64)), *fields, primary_key=("id",), **kwargs)


def replace_field(f: ir.Field, **changes: Any) -> ir.Field:
    return dataclasses.replace(f, **changes)


def run_sqlite(statements: Sequence[str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        conn.execute(statement)
    return conn


def column_line(statement: str, column: str) -> str:
    """Return the line of a CREATE TABLE defining ``column`` (as written, quotes included)."""
    lines = [line.strip().rstrip(",") for line in statement.splitlines()]
    return next(line for line in lines if line.split(" ", 1)[0] == column)


# --------------------------------------------------------------------------- dialects


def test_unknown_dialect_is_a_source_error_listing_the_valid_ones() -> None:
    with pytest.raises(ir.SourceError) as info:
        sql.ddl(keyed(), "oracle")
    assert "oracle" in info.value.message
    assert info.value.hint == "use one of: sqlite, postgres, mysql"


@pytest.mark.parametrize(("alias", "canonical"), [("postgresql", "postgres"), ("MariaDB", "mysql")])
def test_dialect_aliases_name_the_canonical_dialect(alias: str, canonical: str) -> None:
    assert sql.check_dialect(alias) == canonical
    assert sql.ddl(keyed(), alias) == sql.ddl(keyed(), canonical)


# --------------------------------------------------------------------------- type table


TYPE_CASES: list[tuple[ir.Field, dict[str, str]]] = [
    (
        field("title", constraints=ir.Constraints(max_length=160)),
        {"sqlite": "TEXT", "postgres": "VARCHAR(160)", "mysql": "VARCHAR(160)"},
    ),
    (field("body"), {"sqlite": "TEXT", "postgres": "TEXT", "mysql": "LONGTEXT"}),
    (
        field("essay", constraints=ir.Constraints(max_length=20_000)),
        {"sqlite": "TEXT", "postgres": "VARCHAR(20000)", "mysql": "MEDIUMTEXT"},
    ),
    (
        field("n", ir.IntegerType(16)),
        {"sqlite": "INTEGER", "postgres": "SMALLINT", "mysql": "SMALLINT"},
    ),
    (field("n", ir.IntegerType(32)), {"sqlite": "INTEGER", "postgres": "INTEGER", "mysql": "INT"}),
    (
        field("n", ir.IntegerType(64)),
        {"sqlite": "INTEGER", "postgres": "BIGINT", "mysql": "BIGINT"},
    ),
    (field("x", ir.FloatType(32)), {"sqlite": "REAL", "postgres": "REAL", "mysql": "FLOAT"}),
    (
        field("x", ir.FloatType(64)),
        {"sqlite": "REAL", "postgres": "DOUBLE PRECISION", "mysql": "DOUBLE"},
    ),
    (
        field("price", ir.DecimalType(10, 2)),
        {"sqlite": "NUMERIC", "postgres": "NUMERIC(10, 2)", "mysql": "DECIMAL(10, 2)"},
    ),
    (
        field("amount", ir.DecimalType()),
        {"sqlite": "NUMERIC", "postgres": "NUMERIC", "mysql": "DECIMAL(65, 30)"},
    ),
    (
        field("count", ir.DecimalType(12)),
        {"sqlite": "NUMERIC", "postgres": "NUMERIC(12)", "mysql": "DECIMAL(12)"},
    ),
    (
        field("ok", ir.BooleanType()),
        {"sqlite": "INTEGER", "postgres": "BOOLEAN", "mysql": "BOOLEAN"},
    ),
    (field("day", ir.DateType()), {"sqlite": "TEXT", "postgres": "DATE", "mysql": "DATE"}),
    (
        field("at", ir.DateTimeType(tz=True)),
        {"sqlite": "TEXT", "postgres": "TIMESTAMPTZ", "mysql": "DATETIME(6)"},
    ),
    (
        field("at", ir.DateTimeType(tz=False)),
        {"sqlite": "TEXT", "postgres": "TIMESTAMP", "mysql": "DATETIME(6)"},
    ),
    (field("t", ir.TimeType()), {"sqlite": "TEXT", "postgres": "TIME", "mysql": "TIME(6)"}),
    (field("uid", ir.UuidType()), {"sqlite": "TEXT", "postgres": "UUID", "mysql": "CHAR(36)"}),
    (field("raw", ir.BytesType()), {"sqlite": "BLOB", "postgres": "BYTEA", "mysql": "LONGBLOB"}),
    (field("doc", ir.JsonType()), {"sqlite": "TEXT", "postgres": "JSONB", "mysql": "JSON"}),
    (
        field("tags", ir.ArrayType(ir.StringType())),
        {"sqlite": "TEXT", "postgres": "JSONB", "mysql": "JSON"},
    ),
    (
        field("owner", ir.ObjectType("User")),
        {"sqlite": "TEXT", "postgres": "JSONB", "mysql": "JSON"},
    ),
    (
        field("status", ir.EnumType("Status", ("open", "closed"))),
        {"sqlite": "TEXT", "postgres": "VARCHAR(6)", "mysql": "VARCHAR(6)"},
    ),
    (
        field("level", ir.EnumType("Level", (1, 2, 40_000))),
        {"sqlite": "INTEGER", "postgres": "INTEGER", "mysql": "INT"},
    ),
]


@pytest.mark.parametrize(("f", "expected"), TYPE_CASES, ids=lambda v: getattr(v, "name", ""))
def test_column_type_maps_each_ir_type_per_dialect(f: ir.Field, expected: dict[str, str]) -> None:
    assert {d: sql.column_type(f, d) for d in sql.DIALECTS} == expected
    in_entity = keyed(replace_field(f, name="v"))
    assert {d: sql.sql_type_map(in_entity, d)["v"] for d in sql.DIALECTS} == expected


def test_type_table_covers_every_ir_kind_in_every_dialect_with_parseable_types() -> None:
    kinds = {cls.kind for cls in ir.FieldType.__subclasses__()}
    samples = [f for f, _ in TYPE_CASES]
    assert {f.type.kind for f in samples} == kinds
    for dialect in sql.DIALECTS:
        for f in samples:
            text = sql.column_type(f, dialect)
            built = exp.DataType.build(text, dialect=dialect)
            assert built.this != exp.DataType.Type.USERDEFINED, (dialect, text)


def test_enum_length_follows_the_source_length_when_it_is_wider() -> None:
    f = field("status", ir.EnumType("S", ("a", "bb")), constraints=ir.Constraints(max_length=20))
    assert sql.column_type(f, "postgres") == "VARCHAR(20)"


def test_enum_mixing_strings_and_numbers_is_a_source_error() -> None:
    f = field("status", ir.EnumType("S", ("a", 1)))
    with pytest.raises(ir.SourceError, match="mixes strings and numbers"):
        sql.column_type(f, "postgres")


def test_mysql_decimal_beyond_its_precision_is_a_source_error() -> None:
    f = field("big", ir.DecimalType(80, 2))
    assert sql.column_type(f, "postgres") == "NUMERIC(80, 2)"
    with pytest.raises(ir.SourceError, match="cannot be stored in mysql"):
        sql.column_type(f, "mysql")


def test_mysql_unbounded_key_string_becomes_varchar_255_and_is_reported() -> None:
    e = entity(field("code"), field("name"), primary_key=("code",))
    assert sql.sql_type_map(e, "mysql") == {"code": "VARCHAR(255)", "name": "LONGTEXT"}
    assert sql.type_notes(e, "mysql") == [
        "Thing.code: unbounded string stored as VARCHAR(255) because MySQL cannot index "
        "unbounded text"
    ]
    assert sql.type_notes(e, "postgres") == []


def test_mysql_indexed_and_foreign_key_strings_are_bounded() -> None:
    e = keyed(
        field("a"),
        field("b"),
        field("c"),
        indexes=(ir.Index("ix_a", ("a",)),),
        unique=(("b",),),
        extra={"foreign_keys": [{"columns": ["c"], "ref_table": "cs", "ref_columns": ["c"]}]},
    )
    types = sql.sql_type_map(e, "mysql")
    assert (types["a"], types["b"], types["c"]) == ("VARCHAR(255)",) * 3


def test_mysql_moves_the_widest_strings_to_text_when_the_row_is_too_large() -> None:
    wide = [field(f"s{i}", constraints=ir.Constraints(max_length=5000)) for i in range(5)]
    e = keyed(*wide, field("small", constraints=ir.Constraints(max_length=10)))
    types = sql.sql_type_map(e, "mysql")
    assert [types[f"s{i}"] for i in range(5)] == ["VARCHAR(5000)"] * 3 + ["TEXT"] * 2
    assert types["small"] == "VARCHAR(10)"
    create = sql.create_table(e, "mysql")
    # The TEXT columns keep their limit as a check.
    assert "CHECK (CHAR_LENGTH(s4) <= 5000)" in create


def test_mysql_key_wider_than_innodb_allows_is_a_source_error() -> None:
    e = entity(field("code", constraints=ir.Constraints(max_length=1000)), primary_key=("code",))
    with pytest.raises(ir.SourceError, match="4000 bytes wide in MySQL"):
        sql.create_table(e, "mysql")
    sql.create_table(e, "postgres")


def test_mysql_cannot_index_json() -> None:
    e = keyed(field("doc", ir.JsonType()), indexes=(ir.Index("ix_doc", ("doc",)),))
    with pytest.raises(ir.SourceError, match="cannot be indexed"):
        sql.create_table(e, "mysql")


# --------------------------------------------------------------------------- identifiers


def test_postgres_quotes_mixed_case_and_keeps_lower_case_plain() -> None:
    e = entity(
        field("album_id", ir.IntegerType(32), column="AlbumId"),
        field("title", column="title"),
        table="Album",
        primary_key=("album_id",),
    )
    create = sql.create_table(e, "postgres")
    assert create.startswith('CREATE TABLE "Album" (\n  "AlbumId" INTEGER NOT NULL,\n  title TEXT')
    assert 'PRIMARY KEY ("AlbumId")' in create
    mysql_create = sql.create_table(e, "mysql")
    assert mysql_create.startswith("CREATE TABLE Album (\n  AlbumId INT NOT NULL")


@pytest.mark.parametrize(
    ("word", "dialects"),
    [
        ("order", sql.DIALECTS),
        ("select", sql.DIALECTS),
        ("group", sql.DIALECTS),
        ("user", ("postgres",)),
        ("key", ("mysql", "sqlite")),
        ("autoincrement", ("sqlite",)),
    ],
)
def test_reserved_words_are_quoted_where_the_dialect_reserves_them(
    word: str, dialects: tuple[str, ...]
) -> None:
    e = keyed(field(word, column=word), table=word)
    for dialect in sql.DIALECTS:
        create = sql.create_table(e, dialect)
        quote = "`" if dialect == "mysql" else '"'
        assert (f"{quote}{word}{quote}" in create) == (dialect in dialects), dialect
    run_sqlite(sql.ddl(e, "sqlite"))


def test_names_with_quotes_and_spaces_are_escaped() -> None:
    e = keyed(field("odd", column='we"ird `name'), table="my table")
    for dialect in sql.DIALECTS:
        for statement in sql.ddl(e, dialect):
            sqlglot.parse_one(statement, read=dialect)
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    columns = [row[1] for row in conn.execute('PRAGMA table_info("my table")')]
    assert columns == ["id", 'we"ird `name']


def test_name_longer_than_the_dialect_allows_is_a_source_error() -> None:
    e = keyed(field("x", column="c" * 70))
    sql.create_table(e, "sqlite")
    for dialect in ("postgres", "mysql"):
        with pytest.raises(ir.SourceError, match="longer than"):
            sql.create_table(e, dialect)


def test_derived_constraint_names_are_short_stable_and_distinct() -> None:
    long_table = "t" * 40
    e = entity(
        field("a" * 30, constraints=ir.Constraints(min_length=1)),
        field("a" * 29 + "b", constraints=ir.Constraints(min_length=1)),
        table=long_table,
    )
    create = sql.create_table(e, "postgres")
    names = [line.split()[1] for line in create.splitlines() if "CONSTRAINT" in line]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(n) <= 63 for n in names)
    assert sql.create_table(e, "postgres") == create


# --------------------------------------------------------------------------- keys


def test_generated_integer_key_per_dialect() -> None:
    e = entity(
        field("id", ir.IntegerType(64), generated=True, immutable=True),
        field("name"),
        primary_key=("id",),
    )
    assert column_line(sql.create_table(e, "sqlite"), "id") == (
        "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
    )
    assert "CONSTRAINT pk_things" not in sql.create_table(e, "sqlite")
    assert column_line(sql.create_table(e, "postgres"), "id") == (
        "id BIGINT NOT NULL GENERATED BY DEFAULT AS IDENTITY"
    )
    assert column_line(sql.create_table(e, "mysql"), "id") == "id BIGINT NOT NULL AUTO_INCREMENT"
    assert "  CONSTRAINT pk_things PRIMARY KEY (id)" in sql.create_table(e, "postgres")
    assert "  PRIMARY KEY (id)" in sql.create_table(e, "mysql")  # MySQL names it PRIMARY
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    conn.execute("INSERT INTO things (name) VALUES ('a')")
    conn.execute("INSERT INTO things (id, name) VALUES (10, 'explicit')")
    conn.execute("INSERT INTO things (name) VALUES ('b')")
    assert conn.execute("SELECT id FROM things ORDER BY id").fetchall() == [(1,), (10,), (11,)]


def test_postgres_serial_default_counts_as_an_identity() -> None:
    serial = ir.Default(ir.Default.SQL, "nextval('things_id_seq'::regclass)")
    e = entity(field("id", ir.IntegerType(32), generated=True, default=serial), primary_key=("id",))
    assert "AUTOINCREMENT" in sql.create_table(e, "sqlite")
    assert "nextval" not in sql.create_table(e, "mysql")


def test_a_key_inside_a_composite_key_is_generated_only_where_the_dialect_can() -> None:
    e = entity(
        field("id", ir.IntegerType(64), generated=True),
        field("tenant", ir.IntegerType(32)),
        primary_key=("tenant", "id"),
    )
    assert "AUTOINCREMENT" not in sql.create_table(e, "sqlite")
    assert "AUTO_INCREMENT" not in sql.create_table(e, "mysql")
    assert "GENERATED BY DEFAULT AS IDENTITY" in sql.create_table(e, "postgres")
    (note,) = sql.identity_notes(e, "sqlite")
    assert "single-column INTEGER PRIMARY KEY" in note
    (note,) = sql.identity_notes(e, "mysql")
    assert "AUTO_INCREMENT column must lead" in note
    assert sql.identity_notes(e, "postgres") == []


def test_two_generated_integer_fields_are_a_source_error() -> None:
    e = entity(
        field("a", ir.IntegerType(), generated=True),
        field("b", ir.IntegerType(), generated=True),
        primary_key=("a",),
    )
    with pytest.raises(ir.SourceError, match="more than one database-generated"):
        sql.create_table(e, "postgres")


def test_composite_primary_key_and_unique_sets() -> None:
    e = entity(
        field("playlist_id", ir.IntegerType(32)),
        field("track_id", ir.IntegerType(32)),
        field("slot", ir.IntegerType(32)),
        primary_key=("playlist_id", "track_id"),
        unique=(("playlist_id", "slot"),),
        table="playlist_track",
    )
    create = sql.create_table(e, "postgres")
    assert "CONSTRAINT pk_playlist_track PRIMARY KEY (playlist_id, track_id)" in create
    assert "CONSTRAINT uq_playlist_track_playlist_id_slot UNIQUE (playlist_id, slot)" in create
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    conn.execute("INSERT INTO playlist_track VALUES (1, 1, 1)")
    for row in ("(1, 1, 2)", "(1, 2, 1)"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(f"INSERT INTO playlist_track VALUES {row}")


def test_keys_may_name_columns_instead_of_fields() -> None:
    e = entity(field("album_id", ir.IntegerType(32), column="AlbumId"), primary_key=("AlbumId",))
    assert "PRIMARY KEY (AlbumId)" in sql.create_table(e, "sqlite")


def test_key_naming_an_unknown_field_is_a_source_error() -> None:
    e = entity(field("a"), primary_key=("nope",))
    with pytest.raises(ir.SourceError, match="'nope'"):
        sql.create_table(e, "sqlite")


# --------------------------------------------------------------------------- checks


def test_enum_values_are_enforced_by_a_check() -> None:
    e = keyed(field("status", ir.EnumType("Status", ("open", "it's done"))), table="todos")
    for dialect in sql.DIALECTS:
        assert "CONSTRAINT ck_todos_status CHECK (status IN ('open', 'it''s done'))" in (
            sql.create_table(e, dialect)
        )
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    conn.execute("INSERT INTO todos VALUES (1, 'it''s done')")
    with pytest.raises(sqlite3.IntegrityError, match="ck_todos_status"):
        conn.execute("INSERT INTO todos VALUES (2, 'closed')")


def test_ranges_and_lengths_become_checks_where_the_type_does_not_enforce_them() -> None:
    e = keyed(
        field("price", ir.DecimalType(10, 2), constraints=ir.Constraints(minimum=0)),
        field(
            "qty",
            ir.IntegerType(32),
            constraints=ir.Constraints(exclusive_minimum=0, maximum=100, multiple_of=5),
        ),
        field("code", constraints=ir.Constraints(min_length=2, max_length=8)),
        table="items",
    )
    postgres = sql.create_table(e, "postgres")
    assert "CHECK (price >= 0)" in postgres
    assert "CHECK (qty > 0 AND qty <= 100 AND qty % 5 = 0)" in postgres
    assert "CHECK (LENGTH(code) >= 2)" in postgres  # VARCHAR(8) enforces the maximum
    assert "CHECK (CHAR_LENGTH(code) >= 2)" in sql.create_table(e, "mysql")
    assert "CHECK (LENGTH(code) >= 2 AND LENGTH(code) <= 8)" in sql.create_table(e, "sqlite")
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    conn.execute("INSERT INTO items VALUES (1, 0, 5, 'ab')")
    for row in (
        "(2, -1, 5, 'ab')",
        "(3, 1, 0, 'ab')",
        "(4, 1, 7, 'ab')",
        "(5, 1, 5, 'a')",
        "(6, 1, 5, 'abcdefghi')",
        "(7, 1, 105, 'ab')",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(f"INSERT INTO items VALUES {row}")


def test_pattern_and_fractional_multiple_are_left_to_payload_validation() -> None:
    e = keyed(
        field("code", constraints=ir.Constraints(pattern="^[a-z]+$")),
        field("x", ir.FloatType(), constraints=ir.Constraints(multiple_of=0.5)),
    )
    assert "CHECK" not in sql.create_table(e, "postgres")


def test_sqlite_checks_booleans_and_json() -> None:
    e = keyed(field("ok", ir.BooleanType()), field("doc", ir.JsonType(), nullable=True))
    create = sql.create_table(e, "sqlite")
    assert "CHECK (ok IN (0, 1))" in create
    assert "CHECK (doc IS NULL OR JSON_VALID(doc))" in create
    conn = run_sqlite([create])
    conn.execute("INSERT INTO things VALUES (1, 1, '[1]')")
    conn.execute("INSERT INTO things VALUES (2, 0, NULL)")
    for row in ("(3, 2, NULL)", "(4, 1, '{bad')"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(f"INSERT INTO things VALUES {row}")


def test_const_and_enum_constraints_on_plain_types_become_checks() -> None:
    e = keyed(
        field("kind", constraints=ir.Constraints(const="fixed", has_const=True)),
        field("size", ir.IntegerType(), constraints=ir.Constraints(enum=(1, 2, 3))),
    )
    create = sql.create_table(e, "postgres")
    assert "CHECK (kind = 'fixed')" in create and "CHECK (size IN (1, 2, 3))" in create


def test_mysql_leaves_checks_off_columns_of_cascading_foreign_keys() -> None:
    e = keyed(
        field("owner", ir.IntegerType(), constraints=ir.Constraints(minimum=1)),
        extra={
            "foreign_keys": [
                {
                    "columns": ["owner"],
                    "ref_table": "users",
                    "ref_columns": ["id"],
                    "on_delete": "CASCADE",
                }
            ]
        },
    )
    assert "CHECK" not in sql.create_table(e, "mysql")
    assert "CHECK (owner >= 1)" in sql.create_table(e, "postgres")


# --------------------------------------------------------------------------- defaults


def test_literal_defaults_are_escaped_and_read_back_unchanged() -> None:
    tricky = "it's a \\ back'slash\n\"quoted\" ünï"
    e = keyed(
        field("text", default=ir.Default(ir.Default.LITERAL, tricky)),
        field("n", ir.IntegerType(), default=ir.Default(ir.Default.LITERAL, -3)),
        field("x", ir.FloatType(), default=ir.Default(ir.Default.LITERAL, 0.25)),
        field("d", ir.DecimalType(10, 2), default=ir.Default(ir.Default.LITERAL, "1.50")),
        field("ok", ir.BooleanType(), default=ir.Default(ir.Default.LITERAL, True)),
        field("tags", ir.ArrayType(ir.StringType()), default=ir.Default(ir.Default.LITERAL, [])),
        field("raw", ir.BytesType(), default=ir.Default(ir.Default.LITERAL, "3q2+7w==")),
        field("maybe", nullable=True, default=ir.Default(ir.Default.LITERAL, None)),
    )
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    conn.execute("INSERT INTO things (id) VALUES (1)")
    row = conn.execute("SELECT * FROM things").fetchone()
    assert row == (1, tricky, -3, 0.25, 1.5, 1, "[]", b"\xde\xad\xbe\xef", None)


def test_clock_factories_become_current_timestamp_and_others_have_no_sql_default() -> None:
    e = keyed(
        field("at", ir.DateTimeType(tz=True), generated=True, default=ir.Default("factory", "now")),
        field("day", ir.DateType(), default=ir.Default("factory", "today")),
        field("uid", ir.UuidType(), default=ir.Default("factory", "uuid4")),
        field("tags", ir.ArrayType(ir.StringType()), default=ir.Default("factory", "list")),
    )
    assert column_line(sql.create_table(e, "postgres"), "at").endswith("DEFAULT CURRENT_TIMESTAMP")
    assert column_line(sql.create_table(e, "mysql"), "at").endswith("DEFAULT CURRENT_TIMESTAMP(6)")
    assert column_line(sql.create_table(e, "mysql"), "day").endswith("DEFAULT (CURRENT_DATE)")
    assert column_line(sql.create_table(e, "sqlite"), "day").endswith("DEFAULT (CURRENT_DATE)")
    for dialect in sql.DIALECTS:
        create = sql.create_table(e, dialect)
        assert "DEFAULT" not in column_line(create, "uid")
        assert "DEFAULT" not in column_line(create, "tags")


def test_sql_defaults_are_transpiled_from_the_source_dialect() -> None:
    now = ir.Default(ir.Default.SQL, "now()")
    e = keyed(
        field("at", ir.DateTimeType(), generated=True, default=now),
        field("n", ir.IntegerType(), default=ir.Default(ir.Default.SQL, "(1 + 2)")),
        extra={"dialect": "postgres"},
    )
    assert column_line(sql.create_table(e, "sqlite"), "at").endswith("DEFAULT CURRENT_TIMESTAMP")
    assert column_line(sql.create_table(e, "mysql"), "at").endswith("DEFAULT CURRENT_TIMESTAMP(6)")
    assert column_line(sql.create_table(e, "postgres"), "n").endswith("DEFAULT (1 + 2)")
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    conn.execute("INSERT INTO things (id) VALUES (1)")
    assert conn.execute("SELECT n FROM things").fetchone() == (3,)


def test_sql_default_dialect_may_travel_with_the_default() -> None:
    e = keyed(
        field(
            "s", default=ir.Default(ir.Default.SQL, {"sql": "CONCAT('a', 'b')", "dialect": "mysql"})
        )
    )
    assert column_line(sql.create_table(e, "mysql"), "s").endswith("DEFAULT (CONCAT('a', 'b'))")
    assert column_line(sql.create_table(e, "sqlite"), "s").endswith("DEFAULT ('a' || 'b')")


def test_unreadable_sql_default_is_a_source_error() -> None:
    e = keyed(field("s", default=ir.Default(ir.Default.SQL, "((")))
    with pytest.raises(ir.SourceError, match=r"cannot read the SQL default of Thing\.s"):
        sql.create_table(e, "postgres")


def test_mysql_datetime_literal_default_is_stored_in_utc() -> None:
    e = keyed(
        field(
            "at",
            ir.DateTimeType(tz=True),
            default=ir.Default(ir.Default.LITERAL, "2020-01-02T03:04:05+02:00"),
        )
    )
    assert column_line(sql.create_table(e, "mysql"), "at").endswith("DEFAULT '2020-01-02 01:04:05'")
    assert column_line(sql.create_table(e, "postgres"), "at").endswith(
        "DEFAULT '2020-01-02T03:04:05+02:00'"
    )


# --------------------------------------------------------------------------- foreign keys


def _album_schema(on_delete: str = "NO ACTION") -> ir.Schema:
    artist = entity(
        field("artist_id", ir.IntegerType(32)),
        field("name", nullable=True),
        table="artist",
        primary_key=("artist_id",),
    )
    album = entity(
        field("album_id", ir.IntegerType(32)),
        field("artist_id", ir.IntegerType(32)),
        table="album",
        primary_key=("album_id",),
        extra={
            "foreign_keys": [
                {
                    "columns": ["artist_id"],
                    "ref_table": "artist",
                    "ref_columns": ["artist_id"],
                    "on_delete": on_delete,
                    "on_update": "NO ACTION",
                    "name": "fk_album_artist",
                }
            ]
        },
    )
    return ir.Schema((album, artist))


def test_foreign_keys_are_declared_with_their_actions() -> None:
    album = _album_schema("cascade").entities[0]
    for dialect in sql.DIALECTS:
        assert (
            "CONSTRAINT fk_album_artist FOREIGN KEY (artist_id) REFERENCES artist (artist_id) "
            "ON DELETE CASCADE ON UPDATE NO ACTION"
        ) in sql.create_table(album, dialect)


def test_unknown_referential_action_is_a_source_error() -> None:
    album = _album_schema("EXPLODE").entities[0]
    with pytest.raises(ir.SourceError, match="unknown ON DELETE action 'EXPLODE'"):
        sql.create_table(album, "postgres")


def test_mysql_rejects_set_default_actions() -> None:
    album = _album_schema("SET DEFAULT").entities[0]
    sql.create_table(album, "postgres")
    with pytest.raises(ir.SourceError, match="SET DEFAULT"):
        sql.create_table(album, "mysql")


def test_implicit_referenced_columns_are_filled_in_for_mysql_from_the_schema() -> None:
    schema = _album_schema()
    fk = dict(schema.entities[0].extra["foreign_keys"][0], ref_columns=[])
    album = dataclasses.replace(schema.entities[0], extra={"foreign_keys": [fk]})
    schema = ir.Schema((album, schema.entities[1]))
    assert "REFERENCES artist ON DELETE" in sql.create_table(album, "postgres")
    with pytest.raises(ir.SourceError, match="MySQL needs them"):
        sql.create_table(album, "mysql")
    assert "REFERENCES artist (artist_id)" in sql.create_table(album, "mysql", schema=schema)


def test_ddl_order_creates_referenced_tables_first_and_keeps_self_references_inline() -> None:
    album, artist = _album_schema().entities
    employee = entity(
        field("employee_id", ir.IntegerType(32)),
        field("reports_to", ir.IntegerType(32), nullable=True),
        table="employee",
        primary_key=("employee_id",),
        extra={
            "foreign_keys": [
                {"columns": ["reports_to"], "ref_table": "Employee", "ref_columns": ["employee_id"]}
            ]
        },
    )
    schema = ir.Schema((album, employee, artist))
    assert [e.table for e in sql.ddl_order(schema)] == ["employee", "artist", "album"]
    assert sql.deferred_foreign_keys(schema) == {}
    statements = sql.schema_ddl(schema, "postgres")
    assert not any(s.startswith("ALTER") for s in statements)


def test_cycles_are_broken_in_source_order_with_alter_table() -> None:
    a = keyed(
        field("b_id", ir.IntegerType(64), nullable=True),
        table="a",
        extra={"foreign_keys": [{"columns": ["b_id"], "ref_table": "b", "ref_columns": ["id"]}]},
    )
    b = keyed(
        field("a_id", ir.IntegerType(64), nullable=True),
        table="b",
        extra={"foreign_keys": [{"columns": ["a_id"], "ref_table": "a", "ref_columns": ["id"]}]},
    )
    schema = ir.Schema((a, b))
    assert [e.table for e in sql.ddl_order(schema)] == ["a", "b"]
    assert list(sql.deferred_foreign_keys(schema)) == ["a"]
    statements = sql.schema_ddl(schema, "postgres")
    assert "FOREIGN KEY" not in statements[0]
    assert statements[-1] == (
        "ALTER TABLE a ADD CONSTRAINT fk_a_b_id FOREIGN KEY (b_id) REFERENCES b (id)"
    )
    # SQLite accepts forward references and cannot add constraints later.
    assert all(not s.startswith("ALTER") for s in sql.schema_ddl(schema, "sqlite"))
    run_sqlite(sql.schema_ddl(schema, "sqlite"))
    with pytest.raises(ir.SourceError, match="SQLite cannot add a foreign key"):
        sql.add_foreign_key(a, sql.foreign_keys(a)[0], "sqlite")


def test_foreign_keys_after_moves_every_key_to_the_end() -> None:
    statements = sql.schema_ddl(_album_schema(), "mysql", foreign_keys_after=True)
    assert [s.split(" (")[0].split("\n")[0] for s in statements] == [
        "CREATE TABLE artist",
        "CREATE TABLE album",
        "ALTER TABLE album ADD CONSTRAINT fk_album_artist FOREIGN KEY",
    ]


# --------------------------------------------------------------------------- indexes, comments


def test_indexes_follow_the_table_with_given_or_derived_names() -> None:
    e = keyed(
        field("a", ir.IntegerType()),
        field("b", ir.IntegerType()),
        indexes=(ir.Index("ix_custom", ("a", "b"), unique=True), ir.Index("", ("b",))),
    )
    statements = sql.ddl(e, "postgres")
    assert statements[1:] == (
        "CREATE UNIQUE INDEX ix_custom ON things(a, b)",
        "CREATE INDEX ix_things_b ON things(b)",
    )


def test_comments_inline_in_mysql_as_statements_in_postgres_and_absent_in_sqlite() -> None:
    e = keyed(field("title", doc="The title's text"), doc="Things 'we' keep")
    postgres = sql.ddl(e, "postgres")
    assert postgres[-2:] == (
        "COMMENT ON TABLE things IS 'Things ''we'' keep'",
        "COMMENT ON COLUMN things.title IS 'The title''s text'",
    )
    mysql = sql.create_table(e, "mysql")
    assert "title LONGTEXT NOT NULL COMMENT 'The title''s text'" in mysql
    assert mysql.endswith("COLLATE=utf8mb4_bin COMMENT='Things ''we'' keep'")
    assert sql.ddl(e, "sqlite") == (sql.create_table(e, "sqlite"),)
    assert "COMMENT" not in sql.create_table(e, "sqlite")


def test_long_mysql_comments_are_cut_to_the_limit() -> None:
    e = keyed(field("title", doc="x" * 5000))
    line = column_line(sql.create_table(e, "mysql"), "title")
    assert len(line.split("COMMENT '")[1].rstrip("'")) == 1024


def test_select_statement_lists_columns_in_field_order_by_key() -> None:
    e = entity(
        field("album_id", ir.IntegerType(32), column="AlbumId"),
        field("order", column="order"),
        table="Album",
        primary_key=("album_id",),
    )
    assert sql.select_statement(e, "postgres") == (
        'SELECT "AlbumId", "order" FROM "Album" ORDER BY "AlbumId"'
    )
    assert sql.select_statement(e, "mysql") == "SELECT AlbumId, `order` FROM Album ORDER BY AlbumId"


def test_column_definition_serves_alter_table_add_column() -> None:
    e = keyed(field("note", nullable=True, default=ir.Default("literal", "n/a")))
    definition = sql.column_definition(e, e.get_field("note"), "postgres")
    statement = exp.Alter(this=exp.to_table("things"), kind="TABLE", actions=[definition]).sql(
        dialect="postgres"
    )
    assert statement == "ALTER TABLE things ADD COLUMN note TEXT DEFAULT 'n/a'"


# --------------------------------------------------------------------------- golden files


def representative_entity() -> ir.Entity:
    """An order line touching every construct the DDL has."""
    return ir.Entity(
        name="OrderLine",
        table="order_lines",
        doc="One line of a customer's order.",
        fields=(
            field("id", ir.IntegerType(64), generated=True, immutable=True, doc="Surrogate key."),
            field("order_id", ir.UuidType(), column="OrderId"),
            field("sku", constraints=ir.Constraints(min_length=3, max_length=32)),
            field("title", nullable=True, doc="What the customer saw."),
            field("quantity", ir.IntegerType(32), constraints=ir.Constraints(minimum=1)),
            field("unit_price", ir.DecimalType(10, 2), constraints=ir.Constraints(minimum=0)),
            field(
                "status",
                ir.EnumType("LineStatus", ("open", "shipped", "cancelled")),
                default=ir.Default("literal", "open"),
            ),
            field("gift", ir.BooleanType(), default=ir.Default("literal", False)),
            field("tags", ir.ArrayType(ir.StringType()), default=ir.Default("factory", "list")),
            field("attributes", ir.JsonType(), nullable=True),
            field("weight", ir.FloatType(), nullable=True),
            field("ship_on", ir.DateType(), nullable=True),
            field(
                "created_at",
                ir.DateTimeType(tz=True),
                generated=True,
                default=ir.Default("factory", "now"),
            ),
            field("receipt", ir.BytesType(), nullable=True),
            field("order", ir.IntegerType(16), column="order", default=ir.Default("literal", 0)),
        ),
        primary_key=("id",),
        unique=(("order_id", "sku"),),
        indexes=(ir.Index("ix_order_lines_status", ("status", "created_at")),),
        extra={
            "foreign_keys": [
                {
                    "columns": ["order_id"],
                    "ref_table": "orders",
                    "ref_columns": ["id"],
                    "on_delete": "CASCADE",
                }
            ]
        },
    )


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_representative_entity_matches_its_golden_file(dialect: str) -> None:
    text = ";\n\n".join(sql.ddl(representative_entity(), dialect)) + ";\n"
    path = GOLDEN / f"order_lines.{dialect}.sql"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert (
        path.read_text(encoding="utf-8") == text
    ), "DDL changed; rerun with PERSIST_UPDATE_GOLDEN=1 after checking the difference"


def test_representative_entity_runs_in_sqlite_and_parses_back_everywhere() -> None:
    e = representative_entity()
    run_sqlite(sql.ddl(e, "sqlite"))
    for dialect in sql.DIALECTS:
        for statement in sql.ddl(e, dialect):
            assert sqlglot.parse_one(statement, read=dialect) is not None


# --------------------------------------------------------------------------- properties

_names = st.text(string.ascii_letters + string.digits + "_ $'\"`", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s
)
_reserved = st.sampled_from(["order", "user", "select", "key", "Group", "table", "Index"])
_sql_names = _names | _reserved | st.text("ÄéßΩ", min_size=1, max_size=4)
_docs = st.none() | st.text(max_size=30)


def _texts(size: int) -> st.SearchStrategy[str]:
    """Text without NUL, which no SQL text literal can hold (see the NUL test)."""
    # Sources are decoded UTF-8 text: no NUL here (its own test) and no lone surrogates.
    return st.text(
        st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=size
    )


@st.composite
def _decimals(draw: st.DrawFn) -> ir.DecimalType:
    precision = draw(st.none() | st.integers(1, 38))
    scale = None if precision is None else draw(st.none() | st.integers(0, min(precision, 30)))
    return ir.DecimalType(precision, scale)


_types: st.SearchStrategy[ir.FieldType] = st.one_of(
    st.builds(ir.StringType),
    st.builds(ir.IntegerType, bits=st.sampled_from([16, 32, 64])),
    st.builds(ir.FloatType, bits=st.sampled_from([32, 64])),
    _decimals(),
    st.just(ir.BooleanType()),
    st.just(ir.DateType()),
    st.builds(ir.DateTimeType, tz=st.booleans()),
    st.just(ir.TimeType()),
    st.just(ir.UuidType()),
    st.just(ir.BytesType()),
    st.builds(ir.JsonType),
    st.builds(ir.ArrayType, item=st.just(ir.IntegerType())),
    st.builds(
        ir.EnumType,
        name=st.just("E"),
        values=st.lists(_texts(8), min_size=1, max_size=4, unique=True).map(tuple),
    ),
    st.builds(
        ir.EnumType,
        name=st.just("N"),
        values=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=4, unique=True).map(
            tuple
        ),
    ),
)

_LITERALS: dict[str, st.SearchStrategy[Any]] = {
    "string": _texts(12),
    "integer": st.integers(-(2**15), 2**15 - 1),
    "float": st.floats(-1e6, 1e6, allow_nan=False),
    "boolean": st.booleans(),
    "json": st.lists(_texts(4), max_size=3),
    "array": st.lists(st.integers(-5, 5), max_size=3),
}


@st.composite
def _field_strategy(draw: st.DrawFn, name: str, column: str) -> ir.Field:
    field_type = draw(_types)
    values: st.SearchStrategy[Any] | None = _LITERALS.get(field_type.kind)
    if isinstance(field_type, ir.EnumType):
        values = st.sampled_from(field_type.values)
    default = None
    if values is not None:
        default = draw(st.none() | values.map(lambda v: ir.Default("literal", v)))
    elif field_type.kind == "datetime":
        default = draw(st.none() | st.just(ir.Default("factory", "now")))
    constraints = ir.Constraints()
    if field_type.kind == "string":
        constraints = ir.Constraints(
            min_length=draw(st.none() | st.integers(0, 5)),
            max_length=draw(st.none() | st.integers(5, 300)),
        )
        if default is not None:
            default = None  # a random text rarely fits the random length bounds
    elif field_type.kind == "integer":
        constraints = ir.Constraints(
            minimum=draw(st.none() | st.integers(-(2**15), 0)),
            maximum=draw(st.none() | st.integers(2**15, 2**16)),
        )
    return ir.Field(
        name=name,
        column=column,
        type=field_type,
        nullable=draw(st.booleans()),
        default=default,
        doc=draw(_docs),
        constraints=constraints,
    )


@st.composite
def entities(draw: st.DrawFn) -> ir.Entity:
    columns = draw(st.lists(_sql_names, min_size=1, max_size=6, unique_by=str.casefold))
    fields = [draw(_field_strategy(f"f{i}", c)) for i, c in enumerate(columns)]
    names = [f.name for f in fields]
    key = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    fields = [replace_field(f, nullable=False) if f.name in key else f for f in fields]
    first = fields[names.index(key[0])] if len(key) == 1 else None
    if first is not None and isinstance(first.type, ir.IntegerType) and draw(st.booleans()):
        fields[names.index(first.name)] = replace_field(first, generated=True, default=None)
    unique = draw(
        st.lists(
            st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True).map(tuple),
            max_size=2,
            unique=True,
        )
    )
    index_columns = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    return ir.Entity(
        name="Generated",
        table=draw(_sql_names),
        fields=tuple(fields),
        primary_key=tuple(key),
        unique=tuple(u for u in unique if u != tuple(key)),
        # Indexes and tables share one namespace in SQLite and PostgreSQL.
        indexes=(ir.Index("ix " + draw(_names), tuple(index_columns), draw(st.booleans())),),
        doc=draw(_docs),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entities())
def test_any_entity_gives_ddl_sqlite_runs_and_sqlglot_reads_in_every_dialect(
    e: ir.Entity,
) -> None:
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    info = conn.execute(f"PRAGMA table_info({sql.quote(e.table, 'sqlite')})").fetchall()
    assert [row[1] for row in info] == [f.column for f in e.fields]
    for dialect in ("postgres", "mysql"):
        try:
            statements = sql.ddl(e, dialect)
        except ir.SourceError as error:
            # Only MySQL's documented index limits may refuse an entity.
            assert dialect == "mysql", error.render()
            assert "cannot be indexed" in error.message or "bytes wide" in error.message
            continue
        for statement in statements:
            assert sqlglot.parse_one(statement, read=dialect) is not None
        assert sql.ddl(e, dialect) == statements  # deterministic


def test_constraint_names_given_by_the_source_are_kept() -> None:
    e = keyed(
        field("code", constraints=ir.Constraints(max_length=8)),
        unique=(("code",),),
        extra={"primary_key_name": "PK_Thing", "unique_names": {"code": "UQ_code"}},
    )
    create = sql.create_table(e, "postgres")
    assert 'CONSTRAINT "PK_Thing" PRIMARY KEY (id)' in create
    assert 'CONSTRAINT "UQ_code" UNIQUE (code)' in create


def test_source_checks_without_an_ir_slot_are_reproduced_with_respelled_columns() -> None:
    e = keyed(
        field("starts", ir.DateType(), column="StartsOn"),
        field("ends", ir.DateType(), column="EndsOn"),
        extra={
            "dialect": "sqlite",
            "checks": [{"name": "ck_period", "sql": "[EndsOn] >= [StartsOn]"}, {"sql": "id > 0"}],
        },
    )
    postgres = sql.create_table(e, "postgres")
    assert 'CONSTRAINT ck_period CHECK ("EndsOn" >= "StartsOn")' in postgres
    assert "CONSTRAINT ck_things_2 CHECK (id > 0)" in postgres
    conn = run_sqlite(sql.ddl(e, "sqlite"))
    with pytest.raises(sqlite3.IntegrityError, match="ck_period"):
        conn.execute("INSERT INTO things VALUES (1, '2020-02-01', '2020-01-01')")


def test_mysql_integer_foreign_keys_take_the_referenced_width_given_the_schema() -> None:
    country = entity(
        field("country_id", ir.IntegerType(64)), table="country", primary_key=("country_id",)
    )
    city = entity(
        field("city_id", ir.IntegerType(64)),
        field("country_id", ir.IntegerType(16)),
        table="city",
        primary_key=("city_id",),
        extra={
            "foreign_keys": [
                {"columns": ["country_id"], "ref_table": "country", "ref_columns": ["country_id"]}
            ]
        },
    )
    schema = ir.Schema((country, city))
    assert sql.sql_type_map(city, "mysql")["country_id"] == "SMALLINT"
    assert sql.sql_type_map(city, "mysql", schema=schema)["country_id"] == "BIGINT"
    assert sql.sql_type_map(city, "postgres", schema=schema)["country_id"] == "SMALLINT"
    assert "country_id BIGINT NOT NULL" in sql.schema_ddl(schema, "mysql")[1]


def test_index_names_shared_by_tables_are_qualified_where_names_are_schema_wide() -> None:
    def with_index(table: str) -> ir.Entity:
        return keyed(
            field("film_id", ir.IntegerType()),
            table=table,
            indexes=(ir.Index("idx_fk_film_id", ("film_id",)),),
        )

    schema = ir.Schema((with_index("film_actor"), with_index("inventory")))
    postgres = [s for s in sql.schema_ddl(schema, "postgres") if "INDEX" in s]
    assert postgres == [
        "CREATE INDEX film_actor_idx_fk_film_id ON film_actor(film_id)",
        "CREATE INDEX inventory_idx_fk_film_id ON inventory(film_id)",
    ]
    mysql = [s for s in sql.schema_ddl(schema, "mysql") if "INDEX" in s]
    assert mysql[0] == "CREATE INDEX idx_fk_film_id ON film_actor(film_id)"
    run_sqlite(sql.schema_ddl(schema, "sqlite"))


def test_text_values_with_nul_are_a_source_error() -> None:
    e = keyed(field("s", ir.EnumType("S", ("a\0b",))))
    with pytest.raises(ir.SourceError, match="NUL"):
        sql.create_table(e, "sqlite")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            field("x", ir.FloatType(64), constraints=ir.Constraints(minimum=1)),
            field("x", ir.FloatType(64), constraints=ir.Constraints(minimum=1.0)),
        ),
        (
            field("x", ir.FloatType(64), default=ir.Default("literal", 1)),
            field("x", ir.FloatType(64), default=ir.Default("literal", 1.0)),
        ),
        (
            field("x", ir.IntegerType(64), default=ir.Default("literal", 1)),
            field("x", ir.IntegerType(64), default=ir.Default("literal", True)),
        ),
        (
            field("x", ir.FloatType(64), constraints=ir.Constraints(enum=(1, 2))),
            field("x", ir.FloatType(64), constraints=ir.Constraints(enum=(1.0, 2.0))),
        ),
    ],
)
@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql"])
def test_a_column_renders_the_same_whatever_equal_value_another_table_had(
    first: ir.Field, second: ir.Field, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendered parts are kept per process: ``1``, ``1.0`` and ``True`` compare equal in
    Python, but a table's DDL must not depend on which of them another table used."""
    module = importlib.import_module("persist_tool.sql.ddl")  # sql.ddl is the function

    def fresh_memo() -> None:
        monkeypatch.setattr(module, "_PART_SQL", {})
        monkeypatch.setattr(module, "_FIELD_KEYS", {})

    for one, other in ((first, second), (second, first)):
        fresh_memo()
        alone = sql.ddl(keyed(other, table="other"), dialect)
        fresh_memo()
        sql.ddl(keyed(one, table="one"), dialect)
        assert sql.ddl(keyed(other, table="other"), dialect) == alone
