"""A generated step whose SQL fails half-way, on real databases holding Chinook.

SQLite and PostgreSQL run a step in one transaction: after the failure the tables, the rows
and the schema-version registry are exactly as before. MariaDB cannot roll DDL back: the
error names the statement reached, the statements before it stay recorded, and running the
repaired plan again resumes at that statement and finishes the migration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from persist_runtime import MigrationApplyError, MigrationPlan, MigrationStep, Store

from persist_tool.sql import quote
from tests.migrations.harness import (
    TEMPLATES,
    Prepared,
    Template,
    check_dual_path,
    prepare,
    snapshot_first,
)
from tests.migrations.scenarios import SCENARIOS

COMBINED = next(s for s in SCENARIOS if s.name == "combined_invoice")


@pytest.fixture(scope="module")
def prepared(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(COMBINED, corpus, tmp_path_factory.mktemp("failing_step"))


@pytest.fixture(scope="module")
def templates() -> Iterator[dict[str, Template]]:
    made: dict[str, Template] = {}
    yield made
    for template in made.values():
        template.close()


def _db(templates: dict[str, Template], dialect: str, corpus: Path) -> Template:
    if dialect not in templates:
        templates[dialect] = TEMPLATES[dialect](corpus)
    return templates[dialect]


def _duplicate_key(dialect: str) -> str:
    """A statement that fails on the loaded data: invoice 1 exists already."""
    return f"INSERT INTO {quote('Invoice', dialect)} ({quote('InvoiceId', dialect)}) VALUES (1)"


def _with_statement(step: MigrationStep, dialect: str, at: int, statement: str) -> MigrationStep:
    statements = list(step.statements(dialect))
    statements.insert(at, statement)
    return dataclasses.replace(step, sql={**step.sql, dialect: statements})


def _state(store: Store) -> tuple[Any, ...]:
    """Everything the step could have touched: columns, indexes, rows, registry."""
    conn, name = store.connection, store.dialect.name
    queries = {
        "sqlite": [
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name",
            'SELECT * FROM "Invoice" ORDER BY "InvoiceId"',
        ],
        "postgres": [
            "SELECT column_name, data_type, is_nullable, character_maximum_length"
            " FROM information_schema.columns WHERE table_name = 'Invoice'"
            " AND table_schema = current_schema() ORDER BY column_name",
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'Invoice'"
            " ORDER BY indexname",
            'SELECT * FROM "Invoice" ORDER BY "InvoiceId"',
        ],
    }[name]
    queries.append("SELECT table_name, schema_version FROM __persist_schema_versions")
    out = []
    cur = conn.cursor()
    try:
        for q in queries:
            cur.execute(q)
            out.append(tuple(map(tuple, cur.fetchall())))
    finally:
        cur.close()
    conn.commit()
    return tuple(out)


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.db)])
def test_a_step_failing_half_way_leaves_database_and_registry_as_before(
    dialect: str, prepared: Prepared, templates: dict[str, Template], corpus: Path, tmp_path: Path
) -> None:
    (step,) = prepared.steps
    middle = len(step.statements(dialect)) // 2
    failing = _with_statement(step, dialect, middle, _duplicate_key(dialect))
    with _db(templates, dialect, corpus).copy(["Invoice"]) as conn:
        store, _ = snapshot_first(prepared, conn, dialect, tmp_path)
        before = _state(store)
        with pytest.raises(MigrationApplyError) as caught:
            MigrationPlan([failing]).apply(store)
        assert caught.value.rolled_back
        assert caught.value.statement_index == middle
        assert _state(store) == before
        assert store.schema_version("Invoice") == 1


@pytest.mark.db
def test_mariadb_reports_the_statement_reached_and_a_rerun_resumes(
    prepared: Prepared, templates: dict[str, Template], corpus: Path, tmp_path: Path
) -> None:
    dialect = "mysql"
    (step,) = prepared.steps
    middle = len(step.statements(dialect)) // 2
    failing = _with_statement(step, dialect, middle, _duplicate_key(dialect))
    with _db(templates, dialect, corpus).copy(["Invoice"]) as conn:
        store, snapshot = snapshot_first(prepared, conn, dialect, tmp_path)
        with pytest.raises(MigrationApplyError) as caught:
            MigrationPlan([failing]).apply(store)
        error = caught.value
        assert not error.rolled_back
        assert error.statement_index == middle and error.applied == middle
        assert error.statement == _duplicate_key(dialect)
        assert f"statement {middle + 1} of {len(failing.statements(dialect))}" in str(error)
        assert store.schema_version("Invoice") == 1
        # The operator repairs the failing statement; the statements before it already ran.
        repaired = _with_statement(step, dialect, middle, "UPDATE Invoice SET Total = Total")
        plan = MigrationPlan([repaired])
        (applied,) = plan.apply(store)
        assert applied.resumed_at == middle
        assert store.schema_version("Invoice") == 2
        check_dual_path(prepared, plan, conn, dialect, snapshot)
