"""Dropping columns that carry foreign keys, on tables that really have them.

The Chinook scenario copies lose their foreign keys on MariaDB (``CREATE TABLE .. LIKE``
copies none), so this scenario runs on the shop fixture, whose v1 tables the v1 store
creates with their foreign keys: ``orders.customer_id`` and ``accounts.customer_id``
reference ``customers``, and both go (with the index and the unique constraint over them).
MariaDB refuses to drop a column, or the index, a foreign key uses, so the generated step
drops the keys first; PostgreSQL drops them with the column and SQLite rebuilds the table.
The dual-path check then holds as for every other scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.migrate import plan_migration
from tests.migrations.harness import (
    Prepared,
    Scenario,
    Version,
    base_schema,
    bump_changed,
    drop_field,
    fill_shop,
    prepare,
    replace_entity,
    run,
    shop_connection,
)


def _unlink(s: ir.Schema, entity: str, name: str) -> ir.Schema:
    """Drop field ``name`` of ``entity`` with the keys, unique sets and indexes over it."""
    e = s.get_entity(entity)
    keys = [k for k in e.extra.get("foreign_keys") or () if name not in k["columns"]]
    s = replace_entity(
        s,
        entity,
        unique=tuple(u for u in e.unique if name not in u),
        indexes=tuple(i for i in e.indexes if name not in i.columns),
        extra={**e.extra, "foreign_keys": keys},
    )
    return drop_field(s, entity, name)


def _unlink_customers(s: ir.Schema) -> ir.Schema:
    return _unlink(_unlink(s, "Order", "customer_id"), "Account", "customer_id")


UNLINK = Scenario(
    "drop_foreign_key_columns",
    ("Customer", "Order", "Account"),
    (Version(_unlink_customers),),
    destructive=True,
    kinds=("drop_field", "drop_index", "drop_unique"),
    base="shop",
)

DIALECTS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.db),
    pytest.param("mysql", marks=pytest.mark.db),
]

_FOREIGN_KEYS: dict[str, str] = {
    "postgres": "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc"
    " JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name"
    " AND kcu.table_schema = tc.table_schema WHERE tc.constraint_type = 'FOREIGN KEY'"
    " AND tc.table_schema = current_schema()",
    "mysql": "SELECT table_name, column_name FROM information_schema.key_column_usage"
    " WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL",
}


def _sqlite_keys(conn: Any) -> set[tuple[str, str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {(t, row[3]) for t in tables for row in conn.execute(f'PRAGMA foreign_key_list("{t}")')}


def foreign_keys(conn: Any, dialect: str) -> set[tuple[str, str]]:
    """Return (table, column) of every foreign key column in the database."""
    if dialect == "sqlite":
        return _sqlite_keys(conn)
    cur = conn.cursor()
    cur.execute(_FOREIGN_KEYS[dialect])
    rows = {(str(t), str(c)) for t, c in cur.fetchall()}
    cur.close()
    conn.commit()
    return rows


@pytest.fixture(scope="module")
def prepared(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(UNLINK, corpus, tmp_path_factory.mktemp("foreign_key_migrations"))


def test_mysql_drops_the_foreign_keys_before_the_index_and_the_column(
    prepared: Prepared,
) -> None:
    by_entity = {s.entity: s for s in prepared.steps}
    orders = by_entity["Order"].statements("mysql")
    assert orders[0] == "ALTER TABLE orders DROP FOREIGN KEY fk_orders_customer_id"
    position = {s: i for i, s in enumerate(orders)}
    assert position["DROP INDEX idx_orders_customer ON orders"] > 0
    assert orders[-1] == "ALTER TABLE orders DROP COLUMN customer_id"
    accounts = by_entity["Account"].statements("mysql")
    assert accounts[0] == "ALTER TABLE accounts DROP FOREIGN KEY fk_accounts_customer_id"
    for dialect in ("postgres", "sqlite"):
        statements = [*by_entity["Order"].statements(dialect)]
        assert not any("FOREIGN KEY" in s and "DROP" in s for s in statements), dialect


def test_dropping_a_column_no_key_uses_drops_no_foreign_key(corpus: Path) -> None:
    before = base_schema(corpus, ("Customer", "Order"), "shop")
    after = bump_changed(before, drop_field(before, "Order", "note"))
    result = plan_migration(before, after, source="shop.sql", source_hash="0" * 64)
    (module,) = result.modules
    assert "DROP COLUMN note" in module.file.text
    assert "DROP FOREIGN KEY" not in module.file.text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dropping_foreign_key_columns_migrates_real_tables_and_both_paths_agree(
    prepared: Prepared, dialect: str, tmp_path: Path
) -> None:
    with shop_connection(dialect) as conn:
        fill_shop(prepared, conn, dialect)
        assert foreign_keys(conn, dialect) == {
            ("orders", "customer_id"),
            ("accounts", "customer_id"),
        }
        outcome = run(prepared, conn, dialect, tmp_path)
        assert foreign_keys(conn, dialect) == set()
    assert outcome.counts_before == outcome.counts_after
    assert outcome.compared == sum(outcome.counts_after.values()) > 40
