"""Generated DDL in real databases: the corpus schemas created and their data loaded.

Each corpus schema (Chinook from its SQLite, PostgreSQL and MySQL scripts, Northwind from its
PostgreSQL script) is read with the DDL reader, turned into DDL for every dialect by
``persist_tool.sql`` and created in SQLite, PostgreSQL and MariaDB. Then the corpus data is
loaded: verbatim where the data was written for the target dialect, otherwise transpiled
with sqlglot (identifiers re-spelled as the generated DDL spells them, PostgreSQL ``bytea``
hex strings turned into binary literals). Every row must load and every table must hold as
many rows as the data file has for it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import importlib
import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from persist_tool import ir, sql
from persist_tool.readers import ReadOptions, get_reader
from persist_tool.sql.dialects import identifier

# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True, slots=True)
class CorpusSource:
    """A corpus schema script and the data written for it."""

    schema: str
    dialect: str
    data: str
    data_in_reference_order: bool
    """Whether the data inserts referenced rows first (else keys are added after loading)."""


SOURCES: dict[str, CorpusSource] = {
    "chinook-sqlite": CorpusSource(
        "ddl/chinook/Chinook_Sqlite.schema.sql",
        "sqlite",
        "ddl/chinook/Chinook_Sqlite.data.sql.gz",
        True,
    ),
    "chinook-postgres": CorpusSource(
        "ddl/chinook/Chinook_PostgreSql.schema.sql",
        "postgres",
        "ddl/chinook/Chinook_PostgreSql.data.sql.gz",
        True,
    ),
    "chinook-mysql": CorpusSource(
        "ddl/chinook/Chinook_MySql.schema.sql",
        "mysql",
        "ddl/chinook/Chinook_MySql.data.sql.gz",
        True,
    ),
    # pthom's script inserts order_details before orders and adds its keys afterwards.
    "northwind": CorpusSource(
        "ddl/northwind/pthom-postgres-northwind.schema.sql",
        "postgres",
        "ddl/northwind/pthom-postgres-northwind.data.sql.gz",
        False,
    ),
}

EXPECTED_TOTALS = {"chinook": 15_607, "northwind": 3_362}
"""Rows in the data files, as the corpus SOURCES.md and a line count state them."""


@functools.cache
def read_schema(corpus: Path, key: str) -> ir.Schema:
    """Read a corpus schema with the DDL reader."""
    source = SOURCES[key]
    path = corpus / source.schema
    options = ReadOptions(path=path, display=source.schema, read_dialect=source.dialect)
    return get_reader("ddl")(path.read_text(encoding="utf-8"), options).schema


@functools.cache
def data_text(corpus: Path, key: str) -> str:
    """Return the data script of a corpus source."""
    with gzip.open(corpus / SOURCES[key].data, "rt", encoding="utf-8") as handle:
        return handle.read()


@functools.cache
def data_inserts(corpus: Path, key: str) -> tuple[exp.Insert, ...]:
    """Parse the data script with sqlglot in its own dialect."""
    parsed = sqlglot.parse(data_text(corpus, key), read=SOURCES[key].dialect)
    inserts = tuple(s for s in parsed if isinstance(s, exp.Insert))
    assert len(inserts) == len([s for s in parsed if s is not None]), "data holds only INSERTs"
    return inserts


def _insert_table(insert: exp.Insert) -> str:
    target = insert.this
    table = target.this if isinstance(target, exp.Schema) else target
    assert isinstance(table, exp.Table)
    return table.name


def _entity_for(schema: ir.Schema, table: str) -> ir.Entity:
    """Return the entity of ``table`` (data scripts may spell table names in another case)."""
    matches = [e for e in schema.entities if e.table.casefold() == table.casefold()]
    assert len(matches) == 1, f"no single entity for table {table!r}"
    return matches[0]


def expected_counts(corpus: Path, key: str) -> dict[str, int]:
    """Return the number of rows the data script inserts into each table (by entity table)."""
    schema = read_schema(corpus, key)
    counts: dict[str, int] = {}
    for insert in data_inserts(corpus, key):
        table = _entity_for(schema, _insert_table(insert)).table
        counts[table] = counts.get(table, 0) + len(insert.expression.expressions)
    return counts


def split_statements(text: str) -> list[str]:
    """Split an SQL script into statements, dropping comments and respecting quotes.

    Used to run a MySQL script statement by statement (PyMySQL runs one at a time); quotes
    follow MySQL's rules (doubled quotes and backslash escapes).
    """
    statements: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "'\"`":
            end = i + 1
            while end < len(text):
                escaped = text[end] == "\\" and char != "`"
                doubled = text[end] == char and text[end + 1 : end + 2] == char
                if escaped or doubled:
                    end += 2
                elif text[end] == char:
                    break
                else:
                    end += 1
            current.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("--", i) or char == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif char == ";":
            statements.append("".join(current).strip())
            current = []
            i += 1
        else:
            # Copy the run of ordinary characters at once.
            end = i + 1
            while end < len(text) and text[end] not in "'\"`-#/;":
                end += 1
            current.append(text[i:end])
            i = end
    statements.append("".join(current).strip())
    return [s for s in statements if s]


_SOURCE_DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S")


def _iso_date_text(text: str, kind: str) -> str:
    """Return a source date/timestamp literal as ISO text, as the source database reads it.

    Chinook's PostgreSQL data writes ``'1962/2/18'``; PostgreSQL and MySQL parse that, but
    SQLite stores text verbatim, so the loader normalises it the way PostgreSQL does.
    """
    for fmt in _SOURCE_DATE_FORMATS:
        try:
            moment = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment.date().isoformat() if kind == "date" else moment.isoformat(sep=" ")
    return text


def _value(node: exp.Expr, source: str, target: str, field: ir.Field) -> exp.Expr:
    """Return a data value ready for ``target``.

    Values are reused, not copied (copying 15,000 rows of nodes takes seconds): the new
    INSERT becomes their parent, which leaves the cached parse readable as before.
    """
    if isinstance(node, exp.National):
        node = exp.Literal.string(node.this)  # N'...' is plain text; SQLite lacks the prefix
    text = node.this if isinstance(node, exp.Literal) and node.is_string else None
    if text is None:
        return node
    kind = field.type.kind
    if kind == "bytes" and text.startswith("\\x") and source == "postgres" != target:
        return exp.HexString(this=text[2:])  # bytea hex text -> binary literal
    if kind in ("date", "datetime") and target == "sqlite":
        return exp.Literal.string(_iso_date_text(text, kind))
    return node


def _insert_fields(insert: exp.Insert, entity: ir.Entity) -> tuple[ir.Field, ...]:
    """Return the fields an INSERT fills, in its order (all fields when it names none)."""
    target_node = insert.this
    if not isinstance(target_node, exp.Schema):
        return entity.fields
    by_column = {f.column.casefold(): f for f in entity.fields}
    return tuple(by_column[c.name.casefold()] for c in target_node.expressions)


def transpiled_inserts(
    inserts: Sequence[exp.Insert],
    schema: ir.Schema,
    source: str,
    target: str,
    batch: int = 1000,
) -> Iterator[str]:
    """Render the source data's INSERTs for ``target`` against the generated tables.

    Table and column names are re-spelled as the IR spells them (quoted as the generated
    DDL quotes them); inserts without a column list get one, in field order. Consecutive
    inserts into the same columns are merged into multi-row INSERTs of up to ``batch`` rows.
    """
    pending: list[exp.Tuple] = []
    key: tuple[str, tuple[ir.Field, ...]] | None = None

    def flush() -> Iterator[str]:
        if key is None or not pending:
            return
        node = exp.Insert(
            this=exp.Schema(
                this=exp.Table(this=identifier(key[0], target)),
                expressions=[identifier(f.column, target) for f in key[1]],
            ),
            expression=exp.Values(expressions=list(pending)),
        )
        pending.clear()
        yield node.sql(dialect=target, copy=False)

    for insert in inserts:
        entity = _entity_for(schema, _insert_table(insert))
        fields = _insert_fields(insert, entity)
        if (entity.table, fields) != key or len(pending) >= batch:
            yield from flush()
            key = (entity.table, fields)
        pending.extend(
            exp.Tuple(
                expressions=[
                    _value(value, source, target, fields[i])
                    for i, value in enumerate(row.expressions)
                ]
            )
            for row in insert.expression.expressions
        )
    yield from flush()


# --------------------------------------------------------------------------- databases


class Database:
    """A connection of one dialect with the few operations the tests need."""

    dialect = ""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, statement: str) -> None:
        """Run one statement."""
        raise NotImplementedError

    def load_native(self, script: str) -> None:
        """Run a data script written for this dialect, verbatim."""
        raise NotImplementedError

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        """Return the rows of a query."""
        raise NotImplementedError

    def expect_rejection(self, statement: str) -> None:
        """Run ``statement`` and require the database to refuse it, keeping earlier work."""
        raise NotImplementedError

    def prepare_load(self, keys_inline: bool) -> None:
        """Get ready to load data (SQLite: enforce inline foreign keys)."""

    def check_foreign_keys(self) -> None:
        """Fail when a stored row breaks a foreign key (servers enforced them already)."""

    def count(self, entity: ir.Entity) -> int:
        """Return the number of rows in the entity's table."""
        statement = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.Table(this=identifier(entity.table, self.dialect)))
            .sql(dialect=self.dialect)
        )
        return int(self.rows(statement)[0][0])


class SqliteDatabase(Database):
    dialect = "sqlite"

    def execute(self, statement: str) -> None:
        self.conn.execute(statement)

    def load_native(self, script: str) -> None:
        self.conn.executescript(script)

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(statement).fetchall())

    def expect_rejection(self, statement: str) -> None:
        with pytest.raises(sqlite3.IntegrityError):
            self.conn.execute(statement)

    def prepare_load(self, keys_inline: bool) -> None:
        self.conn.execute(f"PRAGMA foreign_keys = {'ON' if keys_inline else 'OFF'}")

    def check_foreign_keys(self) -> None:
        assert self.rows("PRAGMA foreign_key_check") == []


class PostgresDatabase(Database):
    dialect = "postgres"

    def execute(self, statement: str) -> None:
        self.conn.execute(statement)

    def load_native(self, script: str) -> None:
        self.conn.execute(script)  # no parameters: the simple protocol runs many statements

    def expect_rejection(self, statement: str) -> None:
        import psycopg

        errors = (psycopg.errors.IntegrityError, psycopg.errors.DataError)
        # A savepoint: the failure undoes only this statement.
        with pytest.raises(errors), self.conn.transaction():
            self.conn.execute(statement)

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(statement).fetchall())


class MysqlDatabase(Database):
    dialect = "mysql"

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        # Strict: a value that does not fit is an error, never a silent truncation.
        self.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'")

    def execute(self, statement: str) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(statement)
            cursor.execute("SHOW WARNINGS")
            warnings = cursor.fetchall()
        assert not warnings, f"{warnings} for {statement[:200]}"

    def load_native(self, script: str) -> None:
        for statement in split_statements(script):
            self.execute(statement)

    def expect_rejection(self, statement: str) -> None:
        import pymysql

        with pytest.raises(pymysql.err.MySQLError), self.conn.cursor() as cursor:
            cursor.execute(statement)

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())


_DATABASES: dict[str, tuple[str, type[Database]]] = {
    "sqlite": ("sqlite_conn", SqliteDatabase),
    "postgres": ("pg_conn", PostgresDatabase),
    "mysql": ("mysql_conn", MysqlDatabase),
}


def open_database(request: pytest.FixtureRequest, dialect: str) -> Database:
    """Return the test's private database of ``dialect`` (from the conftest fixtures)."""
    fixture, cls = _DATABASES[dialect]
    return cls(request.getfixturevalue(fixture))


def entity_rows(db: Database, entity: ir.Entity) -> Iterator[dict[str, Any]]:
    """Yield every row of ``entity``'s table as ``{field name: value}``, in primary key order.

    Values are what the driver returns; ``record_from_row`` turns them into the JSON forms
    that generated ``from_record`` / ``Draft.from_payload`` read.
    """
    names = [f.name for f in entity.fields]
    for row in db.rows(sql.select_statement(entity, db.dialect)):
        yield dict(zip(names, row, strict=True))


# --------------------------------------------------------------------------- reading back


def _json_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.time) else value


def _decimal_text(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else str(value)


def _base64(value: Any) -> Any:
    return base64.b64encode(bytes(value)).decode("ascii")


# IR type kind -> driver value to its JSON form (the generated modules' contract).
_JSON_FORMS: dict[str, Callable[[Any], Any]] = {
    "datetime": _iso,
    "date": _iso,
    "time": _iso,
    "decimal": _decimal_text,
    "bytes": _base64,
    "uuid": lambda v: str(v) if isinstance(v, uuid.UUID) else v,
    "boolean": lambda v: bool(v) if isinstance(v, int) else v,
    "json": _json_text,
    "array": _json_text,
    "object": _json_text,
}


def record_from_row(entity: ir.Entity, row: dict[str, Any]) -> dict[str, Any]:
    """Return a row (``entity_rows``) as the JSON record the generated module reads."""
    record: dict[str, Any] = {}
    for f in entity.fields:
        value = row[f.name]
        convert = _JSON_FORMS.get(f.type.kind)
        record[f.name] = value if value is None or convert is None else convert(value)
    return record


def generated_package(corpus: Path, key: str, out: Path) -> ModuleType:
    """Generate the entity package of a corpus source with the command line and import it."""
    source = SOURCES[key]
    name = "generated_" + key.replace("-", "_")
    if name in sys.modules:
        return sys.modules[name]
    command = [sys.executable, "-m", "persist_tool", "generate", "entity"]
    command += [str(corpus / source.schema), "--read-dialect", source.dialect]
    command += ["-o", str(out / name), "--dialects", ",".join(_generation_dialects(corpus, key))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(out))


def _generation_dialects(corpus: Path, key: str) -> tuple[str, ...]:
    """Return the dialects to generate a package with (reading rows back needs none of them).

    A foreign key that leaves the referenced columns implicit (Northwind's ``REFERENCES
    customers``) can only be written for MySQL with the whole schema at hand, which the
    per-entity DDL of a generated module does not have; such sources are generated without
    MySQL until the IR names the referenced columns.
    """
    schema = read_schema(corpus, key)
    implicit = any(not fk.ref_columns for e in schema.entities for fk in sql.foreign_keys(e))
    return tuple(d for d in sql.DIALECTS if not (implicit and d == "mysql"))


def validate_rows(db: Database, schema: ir.Schema, package: ModuleType) -> int:
    """Read every stored row through the generated module; return how many were read.

    Each row must be accepted by the entity's ``from_record`` and, restricted to the draft
    fields, by ``<Entity>Draft.from_payload`` (either raises ``ValidationError``).
    """
    specs = {spec.table: spec for spec in package.ENTITIES}
    checked = 0
    for entity in schema.entities:
        spec = specs[entity.table]
        for row in entity_rows(db, entity):
            record = record_from_row(entity, row)
            spec.from_record(record)
            spec.draft_type.from_payload({k: record[k] for k in spec.draft_fields})
            checked += 1
    return checked


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for the entity packages generated from the corpus schemas."""
    return tmp_path_factory.mktemp("generated")


# --------------------------------------------------------------------------- loading


def create_schema(db: Database, schema: ir.Schema, keys_after: bool) -> list[str]:
    """Create every table and index; return the statements that add foreign keys later."""
    statements = sql.schema_ddl(schema, db.dialect, foreign_keys_after=keys_after)
    later = [s for s in statements if s.startswith("ALTER TABLE")]
    for statement in statements:
        if statement not in later:
            db.execute(statement)
    return later


def load_corpus(db: Database, corpus: Path, key: str) -> ir.Schema:
    """Create a corpus schema in ``db`` and load its data (verbatim or transpiled)."""
    source = SOURCES[key]
    schema = read_schema(corpus, key)
    keys_inline = source.data_in_reference_order
    later = create_schema(db, schema, keys_after=not keys_inline)
    db.prepare_load(keys_inline)
    if source.dialect == db.dialect:
        db.load_native(data_text(corpus, key))
    else:
        for statement in transpiled_inserts(
            data_inserts(corpus, key), schema, source.dialect, db.dialect
        ):
            db.execute(statement)
    for statement in later:  # adding the keys checks every loaded row against them
        db.execute(statement)
    db.check_foreign_keys()
    return schema


def _load_params() -> list[Any]:
    params = []
    for key in SOURCES:
        for dialect in sql.DIALECTS:
            marks = [] if dialect == "sqlite" else [pytest.mark.db]
            params.append(pytest.param(key, dialect, marks=marks, id=f"{key}->{dialect}"))
    return params


@pytest.mark.parametrize(("key", "dialect"), _load_params())
def test_corpus_schema_is_created_and_every_data_row_loads_and_reads_back(
    key: str, dialect: str, request: pytest.FixtureRequest, corpus: Path, generated_dir: Path
) -> None:
    db = open_database(request, dialect)
    schema = load_corpus(db, corpus, key)
    expected = expected_counts(corpus, key)
    assert sum(expected.values()) == EXPECTED_TOTALS[key.split("-")[0]]
    loaded = {e.table: db.count(e) for e in schema.entities}
    assert loaded == {e.table: expected.get(e.table, 0) for e in schema.entities}
    # Every stored row is valid for the generated entity module of the same schema.
    package = generated_package(corpus, key, generated_dir)
    assert validate_rows(db, schema, package) == sum(expected.values())


@pytest.mark.db
def test_transpiled_northwind_text_matches_postgres_in_every_dialect(
    request: pytest.FixtureRequest, corpus: Path
) -> None:
    """Strings survive transpiling: backslashes, quotes and newlines read back the same."""
    texts: dict[str, dict[str, list[Any]]] = {}
    for dialect in sql.DIALECTS:
        db = open_database(request, dialect)
        schema = load_corpus(db, corpus, "northwind")
        texts[dialect] = {
            e.table: [
                {f: v for f, v in row.items() if isinstance(e.get_field(f).type, ir.StringType)}
                for row in entity_rows(db, e)
            ]
            for e in schema.entities
        }
    assert texts["sqlite"] == texts["postgres"] == texts["mysql"]
    address = texts["postgres"]["employees"][0]["address"]
    assert address == "507 - 20th Ave. E.\\nApt. 2A"  # a backslash and an n, as in the script


# --------------------------------------------------------------------------- sakila

SAKILA = {
    "sqlite": "ddl/sakila/jooq-sqlite-sakila-schema.sql",
    "postgres": "ddl/sakila/jooq-postgres-sakila-schema.sql",
    "mysql": "ddl/sakila/jooq-mysql-sakila-schema.sql",
}
# PostgreSQL's Sakila partitions payment by month; each partition has a nextval() payment_id
# that is not its key, which only PostgreSQL can generate: elsewhere it is a plain column.
SAKILA_NOT_GENERATED = {("postgres", "sqlite"), ("postgres", "mysql")}


@pytest.mark.parametrize(
    ("source", "dialect"),
    [
        pytest.param(s, d, marks=[] if d == "sqlite" else [pytest.mark.db], id=f"{s}->{d}")
        for s in SAKILA
        for d in sql.DIALECTS
    ],
)
def test_sakila_schema_is_created_in_every_dialect(
    source: str, dialect: str, request: pytest.FixtureRequest, corpus: Path
) -> None:
    path = corpus / SAKILA[source]
    options = ReadOptions(path=path, display=SAKILA[source], read_dialect=source)
    schema = get_reader("ddl")(path.read_text(encoding="utf-8"), options).schema
    if (source, dialect) in SAKILA_NOT_GENERATED:
        notes = [n for e in schema.entities for n in sql.identity_notes(e, dialect)]
        assert notes and all("payment_id: not generated" in n for n in notes)
    db = open_database(request, dialect)
    for statement in sql.schema_ddl(schema, dialect):
        db.execute(statement)
    for entity in schema.entities:
        assert db.count(entity) == 0


# --------------------------------------------------------------------------- defaults, checks

TRICKY = "it's a \\ back'slash\n\"quoted\" %s ünï 😀"


def _defaults_entity() -> ir.Entity:
    def f(name: str, type_: ir.FieldType, value: Any, **kwargs: Any) -> ir.Field:
        return ir.Field(name, name, type_, default=ir.Default("literal", value), **kwargs)

    return ir.Entity(
        name="Defaulted",
        table="defaulted",
        fields=(
            ir.Field("id", "id", ir.IntegerType(64), generated=True),
            f("text", ir.StringType(), TRICKY),
            f("short", ir.StringType(), "x'y", constraints=ir.Constraints(max_length=10)),
            f("n", ir.IntegerType(32), -3),
            f("price", ir.DecimalType(10, 2), "1.50"),
            f("ok", ir.BooleanType(), True),
            f("tags", ir.ArrayType(ir.StringType()), ["a'b"]),
            f("status", ir.EnumType("S", ("open", "it's closed")), "it's closed"),
            f("raw", ir.BytesType(), "3q2+7w=="),
            ir.Field(
                "at",
                "at",
                ir.DateTimeType(tz=True),
                generated=True,
                default=ir.Default("factory", "now"),
            ),
        ),
        primary_key=("id",),
        doc="Defaults 'quoted' \\ here",
    )


@pytest.mark.parametrize(
    "dialect",
    [pytest.param(d, marks=[] if d == "sqlite" else [pytest.mark.db]) for d in sql.DIALECTS],
)
def test_defaults_are_stored_exactly_and_checks_are_enforced(
    dialect: str, request: pytest.FixtureRequest
) -> None:
    db = open_database(request, dialect)
    e = _defaults_entity()
    for statement in sql.ddl(e, dialect):
        db.execute(statement)
    db.execute("INSERT INTO defaulted (short) VALUES ('ok')")
    (row,) = list(entity_rows(db, e))
    assert row["text"] == TRICKY
    assert row["short"] == "ok"
    assert row["n"] == -3
    assert Decimal(str(row["price"])) == Decimal("1.50")
    assert row["ok"] in (True, 1)
    tags = row["tags"]
    assert (tags if isinstance(tags, list) else json.loads(tags)) == ["a'b"]
    assert row["status"] == "it's closed"
    assert bytes(row["raw"]) == b"\xde\xad\xbe\xef"
    assert row["at"] is not None
    db.expect_rejection("INSERT INTO defaulted (status) VALUES ('nope')")
    db.expect_rejection("INSERT INTO defaulted (short) VALUES ('01234567890')")
    assert db.count(e) == 1
