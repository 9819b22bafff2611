"""Malformed and adversarial DDL: a SourceError at the right place, or a clean read."""

# ruff: noqa: E501 - case tables read best one case a line

from __future__ import annotations

import contextlib
import keyword
from pathlib import Path

import pytest

from persist_tool import ir
from persist_tool.readers import get_reader
from persist_tool.readers.base import ReadOptions, ReadResult


def read_ddl(text: str, **options: object) -> ReadResult:
    """Read DDL text through the registered reader, as the command line does."""
    opts = ReadOptions(path=Path("in.sql"), display="in.sql", **options)  # type: ignore[arg-type]
    return get_reader("ddl")(text, opts)


# (case id, source, line, column, fragment of the message)
MALFORMED: list[tuple[str, str, int, int, str]] = [
    ("empty file", "", 1, 1, "empty DDL source"),
    ("only whitespace", "  \n\n\t", 1, 1, "empty DDL source"),
    ("only comments", "-- nothing\n/* here */\n", 1, 1, "no CREATE TABLE"),
    ("nul byte", "CREATE TABLE t (a INT);\x00\n", 1, 24, "NUL byte"),
    ("undecodable bytes", "CREATE TABLE t (\n  a INT\ufffd\n);", 2, 8, "not valid UTF-8"),
    ("control character", "CREATE TABLE t (a INT);\n\x01", 2, 1, "control character"),
    ("binary garbage", "\x89PNG\r\n\x1a\n\x00\x00", 2, 1, "does not look like SQL"),
    ("unterminated string", "CREATE TABLE t (\n  a TEXT DEFAULT 'abc\n);", 2, 18, "unterminated string"),
    ("unterminated quoted identifier", 'CREATE TABLE "t (a INT);', 1, 14, "unterminated quoted"),
    ("unterminated block comment", "CREATE TABLE t (a INT);\n/* open", 2, 1, "unterminated block comment"),
    ("unclosed parenthesis", "CREATE TABLE t (\n  a INT,\n  b INT\n", 1, 16, "never closed"),
    (
        "unclosed BEGIN block",
        "CREATE TABLE t (a INT);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = 1;\n",
        2,
        37,
        "no matching END",
    ),
    ("sqlglot parse error", "CREATE TABLE t (\n  a INT,\n  b INT NOT NOT NULL\n);", 3, 9, "cannot parse"),
    ("unknown column type", "CREATE TABLE t (\n  id INT,\n  foo BLARG\n);", 3, 7, "unknown column type 'BLARG'"),
    ("type without IR meaning", "CREATE TABLE t (\n  a INTERVAL\n);", 2, 5, "no persist-tool field type"),
    ("column without type", "CREATE TABLE t (\n  a\n);", 2, 3, "has no type"),
    ("duplicate column", "CREATE TABLE t (\n  a INT,\n  A INT\n);", 3, 3, "duplicate column 'A'"),
    ("duplicate table", "CREATE TABLE t (a INT);\nCREATE TABLE T (b INT);", 2, 14, "duplicate table 'T'"),
    ("primary key on unknown column", "CREATE TABLE t (\n  a INT,\n  PRIMARY KEY (b)\n);", 3, 16, "unknown column 'b'"),
    ("unique on unknown column", "CREATE TABLE t (\n  a INT,\n  UNIQUE (a, c)\n);", 3, 11, "unknown column 'c'"),
    ("index on unknown column", "CREATE TABLE t (a INT);\nCREATE INDEX i ON t (zz);", 2, 22, "unknown column 'zz'"),
    ("index on unknown table", "CREATE TABLE t (a INT);\nCREATE INDEX i ON nope (a);", 2, 19, "unknown table 'nope'"),
    ("index only, no table", "CREATE INDEX i ON t (a);", 1, 19, "unknown table 't'"),
    ("two primary keys", "CREATE TABLE t (\n  a INT PRIMARY KEY,\n  b INT PRIMARY KEY\n);", 3, 3, "second primary key"),
    ("duplicate index", "CREATE TABLE t (a INT);\nCREATE INDEX i ON t (a);\nCREATE INDEX i ON t (a);", 3, 14, "duplicate index 'i'"),
    ("persist version not a number", "-- persist: Todo schema_version=two\nCREATE TABLE t (a INT);", 1, 33, "whole number"),
    ("persist version zero", "-- persist: Todo schema_version=0\nCREATE TABLE t (a INT);", 1, 33, "1 or more"),
    ("persist unknown key", "-- persist: Todo colour=red\nCREATE TABLE t (a INT);", 1, 18, "unknown key 'colour'"),
    ("persist bad class name", "-- persist: 9Lives\nCREATE TABLE t (a INT);", 1, 13, "not a usable Python class name"),
    ("persist keyword name", "-- persist: class\nCREATE TABLE t (a INT);", 1, 13, "not a usable Python class name"),
    ("persist empty", "-- persist:\nCREATE TABLE t (a INT);", 1, 1, "empty -- persist:"),
    ("persist before an index", "CREATE TABLE t (a INT);\n-- persist: Todo\nCREATE INDEX i ON t (a);", 2, 1, "not before a CREATE TABLE"),
    ("persist after the last statement", "CREATE TABLE t (a INT);\n-- persist: Todo\n", 2, 1, "before the end of the file"),
    ("persist name used twice", "-- persist: Todo\nCREATE TABLE a (x INT);\n-- persist: Todo\nCREATE TABLE b (y INT);", 4, 14, "given to two tables"),
    ("unknown statement", "CREATE TABLE t (a INT);\nFROBNICATE t;", 2, 1, "unrecognised statement"),
    ("misspelt CREATE", "CREAT TABLE t (a INT);", 1, 1, "unrecognised statement 'CREAT'"),
    ("misspelt TABLE", "CREATE TABEL t (a INT);", 1, 1, "CREATE TABEL"),
    ("ALTER of unknown table", "CREATE TABLE t (a INT);\nALTER TABLE u ADD CONSTRAINT pk PRIMARY KEY (a);", 2, 13, "unknown table 'u'"),
    ("foreign key on unknown column", "CREATE TABLE t (\n  a INT,\n  FOREIGN KEY (b) REFERENCES u (id)\n);", 3, 16, "unknown column 'b'"),
    ("foreign key arity", "CREATE TABLE t (\n  a INT,\n  FOREIGN KEY (a) REFERENCES u (x, y)\n);", 3, 33, "REFERENCES lists 2"),
    ("NOT NULL with DEFAULT NULL", "CREATE TABLE t (\n  a INT NOT NULL DEFAULT NULL\n);", 2, 26, "default is NULL"),
    ("default of the wrong type", "CREATE TABLE t (\n  a INT DEFAULT 'abc'\n);", 2, 17, "not an integer"),
    ("default outside the enum", "CREATE TABLE t (\n  s TEXT DEFAULT 'x' CHECK (s IN ('a', 'b'))\n);", 2, 18, "not one of"),
    ("COMMENT ON unknown column", "CREATE TABLE t (a INT);\nCOMMENT ON COLUMN t.b IS 'x';", 2, 21, "unknown column 'b'"),
    ("CHECK on unknown column", "CREATE TABLE t (\n  a INT CHECK (b > 0)\n);", 2, 20, "unknown column 'b'"),
    ("INHERITS unknown table", "CREATE TABLE t (a INT) INHERITS (p);", 1, 34, "unknown table 'p'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "line", "column", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_malformed_source_is_a_source_error_at_the_offending_place(
    source: str, line: int, column: int, fragment: str
) -> None:
    with pytest.raises(ir.SourceError) as caught:
        read_ddl(source)
    error = caught.value
    assert error.location is not None
    assert (error.location.file, error.location.line, error.location.column) == (
        "in.sql",
        line,
        column,
    ), error.render()
    assert fragment in error.message, error.render()
    assert error.render().startswith(f"in.sql:{line}:{column}: error: ")


def test_malformed_table_has_at_least_25_cases() -> None:
    assert len(MALFORMED) >= 25


@pytest.mark.parametrize(
    "source",
    [
        "CREATE TABLE t (a INT",
        "CREATE TABLE t (a INT) garbage garbage;",
        "CREATE TABLE (a INT);",
        "CREATE TABLE t (a VARCHAR(-1));",
        "CREATE TABLE t (a DECIMAL(x, y));",
        "CREATE TABLE t (a INT CHECK ());",
        "CREATE TABLE t (a INT REFERENCES);",
        "CREATE TABLE t (a INT DEFAULT);",
        ")))(((;",
        "'",
        '"',
        "`",
        "[",
        "$$",
        "CREATE TABLE t (a INT); DELIMITER",
        "CREATE TABLE t (a ENUM());",
        "CREATE TABLE t (a INT[][]);",
        "CREATE TABLE t (a INT PRIMARY KEY PRIMARY KEY);",
        "CREATE TABLE t (a INT, PRIMARY KEY (a, a));",
        "CREATE TABLE t (a INT);\nCOMMENT ON TABLE nope IS 'x';",
        "\ufeff",
        "CREATE TABLE t (a INT) INHERITS (t);",
        "CREATE TABLE t AS SELECT 1;",
    ],
)
def test_hostile_input_never_escapes_as_a_non_source_error(source: str) -> None:
    try:
        read_ddl(source)
    except ir.SourceError as error:
        assert error.location is not None
        assert error.message
    for dialect in ("sqlite", "postgres", "mysql", "tsql", "oracle"):
        with contextlib.suppress(ir.SourceError):
            read_ddl(source, read_dialect=dialect)


def test_unknown_dialect_option_is_an_error() -> None:
    with pytest.raises(ir.SourceError, match="unknown SQL dialect 'klingon'"):
        read_ddl("CREATE TABLE t (a INT);", read_dialect="klingon")


def test_unknown_entity_selection_is_an_error_listing_what_exists() -> None:
    with pytest.raises(ir.SourceError) as caught:
        read_ddl("CREATE TABLE todos (a INT);", entities=("Nope",))
    assert "no entity or table named 'Nope'" in caught.value.message
    assert caught.value.hint is not None and "Todo (todos)" in caught.value.hint


def test_entity_name_option_on_a_multi_table_source_is_an_error() -> None:
    with pytest.raises(ir.SourceError, match="2 tables"):
        read_ddl("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);", entity_name="Thing")


def test_schema_version_option_below_one_is_an_error() -> None:
    with pytest.raises(ir.SourceError, match="1 or more"):
        read_ddl("CREATE TABLE a (x INT);", schema_version=0)


def test_failed_auto_detection_names_the_dialect_that_got_furthest() -> None:
    with pytest.raises(ir.SourceError) as caught:
        read_ddl("CREATE TABLE t (\n  a INT,\n  b INT NOT NOT NULL\n);")
    assert caught.value.hint is not None
    assert "got furthest" in caught.value.hint
    assert "--read-dialect" in caught.value.hint


# --------------------------------------------------------------------------- adversarial names

ADVERSARIAL = '''
-- Doc with """ triple quotes, a backslash \\ and a {brace}.
-- persist: Weird schema_version=3
CREATE TABLE "we""ird table" (
    "__class__" INTEGER PRIMARY KEY,  -- dunder """ doc
    "class" VARCHAR(10) DEFAULT 'it''s' NOT NULL,
    "Class" TEXT DEFAULT 'back\\slash',
    "naïve café" TEXT DEFAULT '"""',
    "select" INTEGER DEFAULT -5,
    "123abc" TEXT DEFAULT 'line
break',
    "self" TEXT,
    "to_payload" TEXT,
    "" TEXT,
    "with space" BOOLEAN DEFAULT TRUE,
    "日本" TEXT
);
COMMENT ON COLUMN "we""ird table"."self" IS 'it''s ''quoted'' \\n and """';
'''


def test_adversarial_names_comments_and_defaults_read_into_safe_identifiers() -> None:
    result = read_ddl(ADVERSARIAL, read_dialect="postgres")
    (entity,) = result.schema.entities
    assert entity.name == "Weird"
    assert entity.schema_version == 3
    assert entity.table == 'we"ird table'
    assert entity.doc == 'Doc with """ triple quotes, a backslash \\ and a {brace}.'
    names = [f.name for f in entity.fields]
    columns = [f.column for f in entity.fields]
    assert columns[0] == "__class__" and columns[1] == "class"
    assert all(n.isidentifier() and not n.startswith("_") for n in names), names
    assert len(set(names)) == len(names)
    assert not any(keyword.iskeyword(n) for n in names)
    by_column = {f.column: f for f in entity.fields}
    assert by_column["class"].default == ir.Default("literal", "it's")
    assert by_column["Class"].default == ir.Default("literal", "back\\slash")
    assert by_column["naïve café"].default == ir.Default("literal", '"""')
    assert by_column["select"].default == ir.Default("literal", -5)
    assert by_column["123abc"].default == ir.Default("literal", "line\nbreak")
    assert by_column["self"].doc == "it's 'quoted' \\n and \"\"\""
    assert by_column["__class__"].doc == 'dunder """ doc'
    assert entity.primary_key == (by_column["__class__"].name,)


def test_adversarial_source_round_trips_through_ir_json() -> None:
    schema = read_ddl(ADVERSARIAL, read_dialect="postgres").schema
    assert ir.Schema.from_json(schema.to_json()) == schema
