"""Every change kind, generated and applied on SQLite, PostgreSQL and MariaDB over Chinook.

Each scenario's migration is generated once; each dialect gets a private copy of the
loaded Chinook database. Non-destructive scenarios keep every row; every scenario passes
the dual-path check (rows read back == snapshot records upgraded by ``migrate_state``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.migrations.harness import TEMPLATES, Prepared, Template, prepare, run
from tests.migrations.scenarios import SCENARIOS

DIALECTS = ("sqlite", "postgres", "mysql")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("migration_scenarios")


@pytest.fixture(scope="module")
def prepared_cache() -> dict[str, Prepared]:
    return {}


@pytest.fixture(scope="module")
def templates(corpus: Path) -> Iterator[dict[str, Template]]:
    made: dict[str, Template] = {}
    yield made
    for template in made.values():
        template.close()


def _template(templates: dict[str, Template], dialect: str, corpus: Path) -> Template:
    if dialect not in templates:
        templates[dialect] = TEMPLATES[dialect](corpus)
    return templates[dialect]


def _params() -> list[Any]:
    out = []
    for scenario in SCENARIOS:
        for dialect in DIALECTS:
            marks = [] if dialect == "sqlite" else [pytest.mark.db]
            out.append(
                pytest.param(scenario, dialect, marks=marks, id=f"{scenario.name}-{dialect}")
            )
    return out


def test_the_suite_covers_every_change_kind() -> None:
    kinds = {k for s in SCENARIOS for k in s.kinds}
    assert kinds >= {
        "add_field",
        "drop_field",
        "rename_field",
        "alter_field_type",
        "alter_nullability",
        "alter_default",
        "alter_constraints",
        "add_unique",
        "drop_unique",
        "add_index",
        "drop_index",
        "add_entity",
        "drop_entity",
        "rename_entity",
    }
    assert len(SCENARIOS) >= 14


@pytest.mark.parametrize(("scenario", "dialect"), _params())
def test_scenario_migrates_the_database_and_records_alike(
    scenario: Any,
    dialect: str,
    corpus: Path,
    generated: Path,
    prepared_cache: dict[str, Prepared],
    templates: dict[str, Template],
    tmp_path: Path,
) -> None:
    if scenario.name not in prepared_cache:
        prepared_cache[scenario.name] = prepare(scenario, corpus, generated)
    prepared = prepared_cache[scenario.name]
    template = _template(templates, dialect, corpus)
    tables = [s.table for s in prepared.first.ENTITIES]
    with template.copy(tables) as conn:
        outcome = run(prepared, conn, dialect, tmp_path)
    assert outcome.compared > 0 or scenario.name == "add_entity"
    plan = prepared.plan()
    if not scenario.destructive:
        for name, count in outcome.counts_before.items():
            assert outcome.counts_after[plan.current_entity(name)] == count, name
    assert outcome.dropped == {
        name: count for name, count in outcome.counts_before.items() if plan.dropped_by(name)
    }
    new_tables = {s.table for s in prepared.last.ENTITIES}
    old_only = {s.table for s in prepared.first.ENTITIES} - new_tables
    assert new_tables <= outcome.tables_after
    assert not (old_only & outcome.tables_after), "dropped or renamed tables are gone"
