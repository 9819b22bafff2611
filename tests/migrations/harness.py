"""Run generated migrations against real databases holding the Chinook data.

A *scenario* is a chain of schema versions of some Chinook entities (the IR the DDL reader
makes of ``Chinook_MySql.schema.sql``, edited in Python). For each step the migration is
generated with ``persist_tool.migrate.plan_migration`` (the function behind ``generate
migration``) and written as a real module; the entity packages of the first and last
versions are generated with the entity emitter. Then, per dialect:

1. a private copy of the loaded Chinook database is opened (SQLite: ``backup`` of an
   in-memory template; PostgreSQL: ``CREATE DATABASE .. TEMPLATE``; MariaDB: the tables
   copied from a template database);
2. the v1 store adopts the tables and writes a snapshot of the scenario's entities;
3. ``MigrationPlan.apply`` runs the generated SQL;
4. the **dual-path check**: the rows read back through the last version's store equal the
   snapshot records upgraded by the generated ``migrate_state`` functions.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import MigrationPlan, MigrationStep, Store, read_snapshot
from persist_runtime.snapshot import decode_snapshot

from persist_tool import ir
from persist_tool.emit.entity import render_package
from persist_tool.migrate import plan_migration
from persist_tool.readers import ReadOptions, get_reader
from tests import dbs
from tests.test_sql_databases import (
    MysqlDatabase,
    PostgresDatabase,
    SqliteDatabase,
    load_corpus,
    read_schema,
)

CORPUS_KEY = "chinook-mysql"
"""Chinook's MySQL script: 32-bit INT keys, so integer widening is a real change."""

Transform = Callable[[ir.Schema], ir.Schema]


# --------------------------------------------------------------------------- IR edits


def entity_of(schema: ir.Schema, name: str) -> ir.Entity:
    return schema.get_entity(name)


def replace_entity(schema: ir.Schema, entity_name: str, **changes: Any) -> ir.Schema:
    """Return ``schema`` with entity ``name`` changed (``dataclasses.replace`` arguments)."""
    return dataclasses.replace(
        schema,
        entities=tuple(
            dataclasses.replace(e, **changes) if e.name == entity_name else e
            for e in schema.entities
        ),
    )


def edit_field(schema: ir.Schema, entity: str, field_name: str, **changes: Any) -> ir.Schema:
    """Return ``schema`` with one field changed."""
    e = schema.get_entity(entity)
    fields = tuple(
        dataclasses.replace(f, **changes) if f.name == field_name else f for f in e.fields
    )
    return replace_entity(schema, entity, fields=fields)


def edit_constraints(schema: ir.Schema, entity: str, name: str, **changes: Any) -> ir.Schema:
    f = schema.get_entity(entity).get_field(name)
    return edit_field(
        schema, entity, name, constraints=dataclasses.replace(f.constraints, **changes)
    )


def add_field(schema: ir.Schema, entity: str, new: ir.Field) -> ir.Schema:
    e = schema.get_entity(entity)
    return replace_entity(schema, entity, fields=(*e.fields, new))


def drop_field(schema: ir.Schema, entity: str, name: str) -> ir.Schema:
    e = schema.get_entity(entity)
    return replace_entity(schema, entity, fields=tuple(f for f in e.fields if f.name != name))


def bump_changed(before: ir.Schema, after: ir.Schema, renames: Sequence[str] = ()) -> ir.Schema:
    """Give every entity that changed (or was renamed) the next schema version."""
    old = {e.name: e for e in before.entities}
    new_to_old = {r.split("=")[1]: r.split("=")[0] for r in renames if "." not in r}
    out = []
    for e in after.entities:
        prev = old.get(e.name) or old.get(new_to_old.get(e.name, ""))
        if (
            prev is not None
            and prev.fingerprint()
            != dataclasses.replace(e, schema_version=prev.schema_version).fingerprint()
        ):
            e = dataclasses.replace(e, schema_version=prev.schema_version + 1)
        out.append(e)
    return dataclasses.replace(after, entities=tuple(out))


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Version:
    """One step of a scenario: how the schema changes and the options passed."""

    transform: Transform
    renames: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A chain of versions of some Chinook entities."""

    name: str
    entities: tuple[str, ...]
    versions: tuple[Version, ...]
    destructive: bool = False
    """Some rows or columns are dropped on purpose (row counts are not compared)."""
    kinds: tuple[str, ...] = ()
    """The change kinds the generated migrations must contain (checked)."""
    base: str = "chinook"
    """``chinook`` (the corpus schema) or ``shop`` (``fixtures/shop/shop.sql``)."""


@dataclass
class Prepared:
    """A scenario's schemas, generated entity packages and migration steps."""

    scenario: Scenario
    schemas: list[ir.Schema]
    first: ModuleType
    last: ModuleType
    steps: list[MigrationStep]
    modules: list[Path]
    change_kinds: set[str] = field(default_factory=set)
    sql: dict[str, list[str]] = field(default_factory=dict)

    def plan(self) -> MigrationPlan:
        """Return the plan of the generated steps, checked against the last version's specs."""
        return MigrationPlan.for_specs(self.steps, self.last.ENTITIES)


SHOP = Path(__file__).resolve().parents[2] / "fixtures" / "shop" / "shop.sql"


def base_schema(corpus: Path, names: Sequence[str], base: str = "chinook") -> ir.Schema:
    """Return the named entities of the Chinook corpus schema or of the shop fixture."""
    if base == "shop":
        options = ReadOptions(path=SHOP, display="fixtures/shop/shop.sql", read_dialect="sqlite")
        schema = get_reader("ddl")(SHOP.read_text(encoding="utf-8"), options).schema
    else:
        schema = read_schema(corpus, CORPUS_KEY)
    return ir.Schema(tuple(e for e in schema.entities if e.name in names), base)


def _import_package(root: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(root))


_PACKAGES: dict[tuple[str, ...], ModuleType] = {}


def generate_package(schema: ir.Schema, root: Path, name: str) -> ModuleType:
    """Render the entity package of ``schema`` into ``root/name`` and import it.

    Packages are cached by the entities' fingerprints: scenarios starting from the same
    Chinook entities share their first version's package.
    """
    key = tuple(e.fingerprint() for e in schema.entities)
    if key in _PACKAGES:
        return _PACKAGES[key]
    _PACKAGES[key] = _render(schema, root, name)
    return _PACKAGES[key]


def _render(schema: ir.Schema, root: Path, name: str) -> ModuleType:
    files = render_package(schema, source="chinook", source_hash="0" * 64, dialects=dbs_dialects())
    package = root / name
    package.mkdir(parents=True)
    for f in files:
        (package / f.path).write_text(f.text, encoding="utf-8")
    return _import_package(root, name)


def dbs_dialects() -> tuple[str, ...]:
    return ("sqlite", "postgres", "mysql")


def prepare(scenario: Scenario, corpus: Path, root: Path) -> Prepared:
    """Generate the scenario's versions, entity packages and migration modules."""
    schemas = [base_schema(corpus, scenario.entities, scenario.base)]
    tag = f"{scenario.name}_{uuid.uuid4().hex[:6]}"
    migrations = root / f"mig_{tag}"
    migrations.mkdir(parents=True)
    (migrations / "__init__.py").write_text("", encoding="utf-8")
    steps: list[MigrationStep] = []
    paths: list[Path] = []
    kinds: set[str] = set()
    sql: dict[str, list[str]] = {}
    for version in scenario.versions:
        before = schemas[-1]
        after = bump_changed(before, version.transform(before), version.renames)
        result = plan_migration(
            before,
            after,
            renames=version.renames,
            defaults=version.defaults,
            source=f"scenarios/{scenario.name}",
            source_hash="0" * 64,
        )
        kinds |= {c.kind for c in result.changes}
        for module in result.modules:
            path = migrations / module.file.path
            path.write_text(module.file.text, encoding="utf-8")
            paths.append(path)
            loaded = _import_package(root, f"mig_{tag}.{path.stem}")
            steps.append(loaded.STEP)
            for d, statements in loaded.STEP.sql.items():
                sql.setdefault(d, []).extend(statements)
        schemas.append(after)
    first = generate_package(schemas[0], root, f"v1_{tag}")
    last = generate_package(schemas[-1], root, f"vn_{tag}")
    missing = set(scenario.kinds) - kinds
    assert not missing, f"{scenario.name}: the diff has no {missing} ({kinds})"
    return Prepared(scenario, schemas, first, last, steps, paths, kinds, sql)


# --------------------------------------------------------------------------- databases


def _unavailable(what: str, error: BaseException) -> None:
    message = f"{what} unreachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: database tests must run, not skip)")
    pytest.skip(message)


class Template:
    """A database of one dialect with Chinook loaded, copied for every scenario."""

    dialect = ""

    def __init__(self, corpus: Path) -> None:
        """Create the database and load Chinook from ``corpus``."""

    @contextmanager
    def copy(self, tables: Sequence[str]) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def close(self) -> None:
        """Drop the template."""


class SqliteTemplate(Template):
    dialect = "sqlite"

    def __init__(self, corpus: Path) -> None:
        self.conn = sqlite3.connect(":memory:")
        load_corpus(SqliteDatabase(self.conn), corpus, CORPUS_KEY)
        self.conn.commit()

    @contextmanager
    def copy(self, tables: Sequence[str]) -> Iterator[Any]:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.backup(conn)
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            yield conn
        finally:
            conn.close()

    def close(self) -> None:
        self.conn.close()


class PostgresTemplate(Template):
    dialect = "postgres"

    def __init__(self, corpus: Path) -> None:
        import psycopg
        from psycopg.conninfo import make_conninfo

        self.psycopg = psycopg
        self.make = make_conninfo
        try:
            self.admin = psycopg.connect(dbs.POSTGRES_DSN, autocommit=True, connect_timeout=5)
        except Exception as error:
            _unavailable(f"PostgreSQL at {dbs.POSTGRES_DSN}", error)
        self.name = dbs.unique_name("pt_tmpl")
        self.admin.execute(f'CREATE DATABASE "{self.name}"')
        with psycopg.connect(make_conninfo(dbs.POSTGRES_DSN, dbname=self.name)) as conn:
            load_corpus(PostgresDatabase(conn), corpus, CORPUS_KEY)
            conn.commit()

    @contextmanager
    def copy(self, tables: Sequence[str]) -> Iterator[Any]:
        name = dbs.unique_name("pt_mig")
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        conn = self.psycopg.connect(self.make(dbs.POSTGRES_DSN, dbname=name))
        try:
            yield conn
        finally:
            conn.close()
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}"')

    def close(self) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
        self.admin.close()


class MysqlTemplate(Template):
    dialect = "mysql"

    def __init__(self, corpus: Path) -> None:
        import pymysql  # type: ignore[import-untyped]

        self.pymysql = pymysql
        self.params = dbs._mysql_params(dbs.MYSQL_DSN)
        try:
            self.admin = pymysql.connect(
                host=self.params["host"],
                port=self.params["port"],
                user=self.params["user"],
                password=self.params["password"],
                autocommit=True,
                connect_timeout=5,
            )
        except Exception as error:
            _unavailable(f"MariaDB at {dbs.MYSQL_DSN}", error)
        self.name = dbs.unique_name("pt_tmpl")
        self.run(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
        conn = self.connect(self.name)
        try:
            load_corpus(MysqlDatabase(conn), corpus, CORPUS_KEY)
            conn.commit()
        finally:
            conn.close()

    def run(self, statement: str) -> None:
        with self.admin.cursor() as cur:
            cur.execute(statement)

    def connect(self, database: str) -> Any:
        return self.pymysql.connect(
            host=self.params["host"],
            port=self.params["port"],
            user=self.params["user"],
            password=self.params["password"],
            database=database,
            charset="utf8mb4",
        )

    @contextmanager
    def copy(self, tables: Sequence[str]) -> Iterator[Any]:
        name = dbs.unique_name("pt_mig")
        self.run(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        for t in tables:  # LIKE copies columns, keys and checks (not foreign keys)
            self.run(f"CREATE TABLE `{name}`.`{t}` LIKE `{self.name}`.`{t}`")
            self.run(f"INSERT INTO `{name}`.`{t}` SELECT * FROM `{self.name}`.`{t}`")
        conn = self.connect(name)
        with conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'")
        conn.commit()
        try:
            yield conn
        finally:
            conn.close()
            self.run(f"DROP DATABASE IF EXISTS `{name}`")

    def close(self) -> None:
        self.run(f"DROP DATABASE IF EXISTS `{self.name}`")
        self.admin.close()


TEMPLATES: dict[str, type[Template]] = {
    "sqlite": SqliteTemplate,
    "postgres": PostgresTemplate,
    "mysql": MysqlTemplate,
}


# --------------------------------------------------------------------------- running


def _key(spec: Any, entity: Any) -> tuple[Any, ...]:
    return tuple(getattr(entity, k) for k in spec.primary_key)


@dataclass
class Outcome:
    """What one scenario did to one database."""

    counts_before: dict[str, int]
    counts_after: dict[str, int]
    tables_after: set[str]
    compared: int
    dropped: dict[str, int]
    """Snapshot records left out because the plan dropped their entity, per entity."""


def _table_names(store: Store, specs: Sequence[Any]) -> set[str]:
    out = set()
    with store.transaction() as cur:
        for spec in specs:
            cur.execute(store.dialect.table_exists, (spec.table,))
            if cur.fetchall():
                out.add(spec.table)
    return out


def snapshot_first(prepared: Prepared, conn: Any, dialect: str, tmp: Path) -> tuple[Store, Path]:
    """Adopt the tables with the first version's store and snapshot them."""
    store = Store.connect(conn, dialect)
    for spec in prepared.first.ENTITIES:
        store.ensure(spec)
    path = tmp / f"{prepared.scenario.name}-{dialect}.json"
    store.snapshot(str(path))
    return store, path


def check_dual_path(
    prepared: Prepared, plan: MigrationPlan, conn: Any, dialect: str, snapshot: Path
) -> tuple[Store, int, dict[str, int]]:
    """Assert rows read back through the last version == snapshot records upgraded.

    The records go through the runtime's snapshot decoding with the plan, as
    ``store.restore(path, plan)`` does: records under an entity's old name are upgraded as
    the renamed entity, records of a dropped entity are left out (and counted).
    """
    after = Store.connect(conn, dialect)
    specs = list(prepared.last.ENTITIES)
    for spec in specs:
        after.ensure(spec)
    by_name = {s.name: s for s in specs}
    decoded = decode_snapshot(read_snapshot(str(snapshot)), by_name, plan)
    expected: dict[str, list[Any]] = {name: [] for name in by_name}
    for record in decoded.records:
        expected[record.spec.name].append(record.entity)
    compared = 0
    for name, spec in by_name.items():
        by_key = functools.partial(_key, spec)
        actual = sorted(after.list(spec), key=by_key)
        wanted = sorted(expected[name], key=by_key)
        assert len(actual) == len(wanted), f"{name}: {len(actual)} rows, {len(wanted)} records"
        for got, want in zip(actual, wanted, strict=True):
            assert got == want, f"{name} {_key(spec, got)}: database {got!r} != record {want!r}"
        compared += len(actual)
    return after, compared, decoded.dropped


def run(prepared: Prepared, conn: Any, dialect: str, tmp: Path) -> Outcome:
    """Migrate ``conn`` through the scenario and check both paths agree."""
    before, snapshot = snapshot_first(prepared, conn, dialect, tmp)
    v1_specs = list(prepared.first.ENTITIES)
    counts_before = {s.name: before.count(s) for s in v1_specs}
    plan = prepared.plan()
    plan.apply(before)
    after, compared, dropped = check_dual_path(prepared, plan, conn, dialect, snapshot)
    vn_specs = list(prepared.last.ENTITIES)
    counts_after = {s.name: after.count(s) for s in vn_specs}
    tables = _table_names(after, [*v1_specs, *vn_specs])
    return Outcome(counts_before, counts_after, tables, compared, dropped)


# --------------------------------------------------------------------------- the shop


@contextmanager
def shop_connection(dialect: str) -> Iterator[Any]:
    """Open an empty database of ``dialect`` for the shop (its own schema or database)."""
    if dialect == "sqlite":
        conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()
    elif dialect == "postgres":
        with dbs.postgres_connection() as conn:
            yield conn
    else:
        with dbs.mysql_connection() as conn:
            yield conn


def fill_shop(prepared: Prepared, conn: Any, dialect: str) -> None:
    """Create the shop's v1 tables through the v1 store (foreign keys included) and fill
    them: 40 customers, an account each, and 0-3 orders each."""
    v1 = prepared.first
    store = Store.connect(conn, dialect)
    for spec in v1.ENTITIES:
        store.ensure(spec)
    for i in range(40):
        customer = store.create(
            v1.CUSTOMER_SPEC,
            v1.CustomerDraft(
                email=f"c{i}@example.com",
                display_name=f"Customer {i}",
                phone=None if i % 3 else f"+49 {i:04}",
                birth_date=date(1980 + i % 20, 1 + i % 12, 1 + i % 28),
            ),
        )
        store.create(
            v1.ACCOUNT_SPEC,
            v1.AccountDraft(
                customer_id=customer.id,
                number=f"DE{i:020}",
                balance=Decimal(f"{i}.25"),
                opened_on=date(2020, 1, 1 + i % 28),
            ),
        )
        for j in range(i % 4):
            store.create(
                v1.ORDER_SPEC,
                v1.OrderDraft(
                    customer_id=customer.id,
                    total=Decimal(f"{i * 10 + j}.99"),
                    note=None if j else f"ring twice ({i})",
                ),
            )
